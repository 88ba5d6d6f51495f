"""/api/projects/ (with the stage actions) and /api/tasks/."""

from rest_framework.routers import SimpleRouter

from .api import ProjectViewSet, TaskViewSet

router = SimpleRouter(use_regex_path=False)
router.register("projects", ProjectViewSet, basename="project")
router.register("tasks", TaskViewSet, basename="task")

urlpatterns = router.urls
