"""/api/evaluations/ (key and department-overall evaluations): processes/api/commissioned.py."""

from rest_framework.routers import SimpleRouter

from .commissioned import CommissionedEvaluationViewSet

# A regex router: DELETE …/{id}/findings/{finding_id}/ has a second path parameter.
router = SimpleRouter()
router.register("evaluations/commissioned", CommissionedEvaluationViewSet, basename="commissioned-evaluation")

urlpatterns = router.urls
