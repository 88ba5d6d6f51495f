"""/api/rectifications/ (workflows/rectification_api.py)."""

from rest_framework.routers import SimpleRouter

from .rectification_api import RectificationViewSet

# Path converters (processes/converters.py): the detail actions name theirs, e.g. <id:item_id>.
router = SimpleRouter(use_regex_path=False)
router.register("rectifications", RectificationViewSet, basename="rectification")

urlpatterns = router.urls
