"""Screens of the committee's review opinions (workflows/committee_views.py)."""

from django.urls import path

from . import committee_views as views

urlpatterns = [
    path("committee-opinions/", views.committee_items, name="committee_items"),
    path("committee-opinions/new/", views.committee_opinion_new, name="committee_opinion_new"),
    path("committee-opinions/items/<id:pk>/", views.committee_item, name="committee_item"),
    path("committee-opinions/items/<id:pk>/act/<slug:action>/", views.committee_item_act, name="committee_item_act"),
    path("committee-opinions/evidence/<id:pk>/", views.committee_evidence, name="committee_evidence"),
]
