"""/api/rectifications/ (processes/api/rectification.py)."""

urlpatterns: list = []
