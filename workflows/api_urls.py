"""/api/projects/ (with the stage actions and the targets), /api/tasks/ and /api/pre-assessments/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import commissioned_api_urls, evaluation_api_urls, rectification_api_urls
from .api import ProjectViewSet, TaskViewSet
from .budget_import_api import BudgetImportViewSet
from .bulk_actions import BulkActionAPIView
from .committee_api import CommitteeItemViewSet, CommitteeOpinionViewSet
from .execution_api import PaymentPlanViewSet, PaymentViewSet
from .monitoring_api import MonitoringReportViewSet, MonitoringRoundViewSet
from .policy_api import PolicyViewSet
from .pre_assessment_api import PreAssessmentViewSet
from .results_api import ProjectResultsDecisionView
from .target_api import ProjectTargetsViewSet

router = SimpleRouter(use_regex_path=False)
router.register("projects", ProjectViewSet, basename="project")
router.register("tasks", TaskViewSet, basename="task")
router.register("pre-assessments", PreAssessmentViewSet, basename="pre-assessment")
router.register("policies", PolicyViewSet, basename="policy")
router.register("monitoring/rounds", MonitoringRoundViewSet, basename="monitoring-round")
router.register("monitoring/reports", MonitoringReportViewSet, basename="monitoring-report")
router.register("committee-opinions", CommitteeOpinionViewSet, basename="committee-opinion")
router.register("committee-items", CommitteeItemViewSet, basename="committee-item")
router.register("payments", PaymentViewSet, basename="payment")
router.register("payment-plans", PaymentPlanViewSet, basename="payment-plan")

# The targets are a project's, the review begins on one: ViewSet methods mapped on the
# project's paths, where a router (which routes under the ViewSet's own prefix) cannot put them.
targets = ProjectTargetsViewSet.as_view({"get": "versions"})
targets_draft = ProjectTargetsViewSet.as_view({"post": "draft"})
targets_change = ProjectTargetsViewSet.as_view({"post": "change"})
target = ProjectTargetsViewSet.as_view({"get": "retrieve", "put": "save"})
target_submit = ProjectTargetsViewSet.as_view({"post": "submit"})
target_dept_review = ProjectTargetsViewSet.as_view({"post": "dept_review"})
target_rate = ProjectTargetsViewSet.as_view({"post": "rate"})
pre_assessment_begin = PreAssessmentViewSet.as_view({"post": "begin"})
budget_import = BudgetImportViewSet.as_view({"post": "create"})

urlpatterns = [
    # 批量办理: POST /api/bulk/<action>/ → 202 and the job (workflows/bulk_actions.py)
    path("bulk/<slug:action>/", BulkActionAPIView.as_view(), name="bulk-action"),
    path("projects/import/", budget_import, name="project-import"),
    path("projects/<id:pk>/pre-assessment/", pre_assessment_begin, name="project-pre-assessment"),
    path("projects/<id:pk>/results-decision/", ProjectResultsDecisionView.as_view(), name="project-results-decision"),
    path("projects/<id:pk>/targets/", targets, name="project-targets"),
    path("projects/<id:pk>/targets/draft/", targets_draft, name="project-targets-draft"),
    path("projects/<id:pk>/targets/change/", targets_change, name="project-targets-change"),
    path("projects/<id:pk>/targets/<id:number>/", target, name="project-target"),
    path("projects/<id:pk>/targets/<id:number>/submit/", target_submit, name="project-target-submit"),
    path("projects/<id:pk>/targets/<id:number>/dept-review/", target_dept_review, name="project-target-dept-review"),
    path("projects/<id:pk>/targets/<id:number>/rate/", target_rate, name="project-target-rate"),
    *router.urls,
    *evaluation_api_urls.urlpatterns,
    *commissioned_api_urls.urlpatterns,
    *rectification_api_urls.urlpatterns,
]
