"""/api/rectifications/ (processes/api/rectification.py)."""

from rest_framework.routers import SimpleRouter

from .rectification import RectificationViewSet

# A regex router: …/{id}/items/{item_id}/evidence/ has a second path parameter.
router = SimpleRouter()
router.register("rectifications", RectificationViewSet, basename="rectification")

urlpatterns = router.urls
