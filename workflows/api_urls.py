"""/api/projects/ (with the stage actions), /api/tasks/ and /api/pre-assessments/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .api import ProjectViewSet, TaskViewSet
from .pre_assessment_api import PreAssessmentBeginView, PreAssessmentViewSet

router = SimpleRouter(use_regex_path=False)
router.register("projects", ProjectViewSet, basename="project")
router.register("tasks", TaskViewSet, basename="task")
router.register("pre-assessments", PreAssessmentViewSet, basename="pre-assessment")

urlpatterns = [
    path("projects/<int:pk>/pre-assessment/", PreAssessmentBeginView.as_view(), name="project-pre-assessment"),
    *router.urls,
]
