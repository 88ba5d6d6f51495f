"""/api/projects/ (with the stage actions and the targets), /api/tasks/ and /api/pre-assessments/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import commissioned_api_urls, evaluation_api_urls, rectification_api_urls
from .api import ProjectViewSet, TaskViewSet
from .monitoring_api import MonitoringReportViewSet, MonitoringRoundViewSet
from .pre_assessment_api import PreAssessmentBeginView, PreAssessmentViewSet
from .target_api import (
    ProjectTargetsView,
    TargetChangeView,
    TargetDeptReviewView,
    TargetDraftView,
    TargetRateView,
    TargetSubmitView,
    TargetVersionView,
)

router = SimpleRouter(use_regex_path=False)
router.register("projects", ProjectViewSet, basename="project")
router.register("tasks", TaskViewSet, basename="task")
router.register("pre-assessments", PreAssessmentViewSet, basename="pre-assessment")
router.register("monitoring/rounds", MonitoringRoundViewSet, basename="monitoring-round")
router.register("monitoring/reports", MonitoringReportViewSet, basename="monitoring-report")

urlpatterns = [
    path("projects/<id:pk>/pre-assessment/", PreAssessmentBeginView.as_view(), name="project-pre-assessment"),
    path("projects/<id:pk>/targets/", ProjectTargetsView.as_view(), name="project-targets"),
    path("projects/<id:pk>/targets/draft/", TargetDraftView.as_view(), name="project-targets-draft"),
    path("projects/<id:pk>/targets/change/", TargetChangeView.as_view(), name="project-targets-change"),
    path("projects/<id:pk>/targets/<id:number>/", TargetVersionView.as_view(), name="project-target"),
    path("projects/<id:pk>/targets/<id:number>/submit/", TargetSubmitView.as_view(), name="project-target-submit"),
    path(
        "projects/<id:pk>/targets/<id:number>/dept-review/",
        TargetDeptReviewView.as_view(),
        name="project-target-dept-review",
    ),
    path("projects/<id:pk>/targets/<id:number>/rate/", TargetRateView.as_view(), name="project-target-rate"),
    *router.urls,
    *evaluation_api_urls.urlpatterns,
    *commissioned_api_urls.urlpatterns,
    *rectification_api_urls.urlpatterns,
]
