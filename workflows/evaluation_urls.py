"""Screens of the self-evaluation campaign, self-evaluations and re-checks
(workflows/evaluation_views.py)."""

urlpatterns: list = []
