"""Screens of key and department-overall evaluations (processes/commissioned_views.py)."""

urlpatterns: list = []
