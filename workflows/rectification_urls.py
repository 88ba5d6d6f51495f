"""Screens of rectifications (workflows/rectification_views.py)."""

from django.urls import path

from . import rectification_views as views

urlpatterns = [
    path("rectifications/", views.rectification_list, name="rectification_list"),
    path("rectifications/new/", views.rectification_new, name="rectification_new"),
    path("rectifications/<id:pk>/", views.rectification_detail, name="rectification_detail"),
    path("rectifications/<id:pk>/act/<slug:action>/", views.rectification_act, name="rectification_act"),
    path("rectifications/evidence/<id:pk>/", views.rectification_evidence, name="rectification_evidence"),
]
