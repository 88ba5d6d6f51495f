"""/api/evaluations/ (key and department-overall evaluations): processes/api/commissioned.py."""

from rest_framework.routers import SimpleRouter

from .commissioned import CommissionedEvaluationViewSet

# Path converters (processes/converters.py): the detail actions name theirs, e.g. <id:item_id>.
router = SimpleRouter(use_regex_path=False)
router.register("evaluations/commissioned", CommissionedEvaluationViewSet, basename="commissioned-evaluation")

urlpatterns = router.urls
