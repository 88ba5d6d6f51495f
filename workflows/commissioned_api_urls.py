"""/api/evaluations/commissioned/ (key and department-overall evaluations): workflows/commissioned_api.py."""

from rest_framework.routers import SimpleRouter

from .agency_api import FrameworkCommissionViewSet, QualityScoreViewSet
from .commissioned_api import CommissionedEvaluationViewSet

# Path converters (processes/converters.py): the detail actions name theirs, e.g. <id:item_id>.
router = SimpleRouter(use_regex_path=False)
router.register("evaluations/quality-scores", QualityScoreViewSet, basename="quality-score")
router.register("evaluations/frameworks", FrameworkCommissionViewSet, basename="framework-commission")
router.register("evaluations/commissioned", CommissionedEvaluationViewSet, basename="commissioned-evaluation")

urlpatterns = router.urls
