"""Screens of rectifications (processes/rectification_views.py)."""

urlpatterns: list = []
