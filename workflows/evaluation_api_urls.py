"""/api/evaluations/ campaigns, self-evaluations and re-checks (workflows/evaluation_api.py)."""

from rest_framework.routers import SimpleRouter

from .evaluation_api import CampaignViewSet, RecheckViewSet, SelfEvaluationViewSet

router = SimpleRouter(use_regex_path=False)
router.register("evaluations/campaigns", CampaignViewSet, basename="evaluation-campaign")
router.register("evaluations/self", SelfEvaluationViewSet, basename="evaluation-self")
router.register("evaluations/rechecks", RecheckViewSet, basename="evaluation-recheck")

urlpatterns = [*router.urls]
