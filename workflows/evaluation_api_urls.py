"""/api/evaluations/ campaigns, self-evaluations and re-checks (workflows/evaluation_api.py)."""

urlpatterns: list = []
