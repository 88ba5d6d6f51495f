"""Screens of the self-evaluation campaign, self-evaluations and re-checks
(workflows/evaluation_views.py)."""

from django.urls import path

from . import evaluation_views as views

urlpatterns = [
    path("evaluations/", views.evaluations, name="evaluations"),
    path("evaluations/campaigns/<id:pk>/", views.evaluation_campaign, name="evaluation_campaign"),
    path("evaluations/campaigns/<id:pk>/export.xlsx", views.evaluation_campaign_xlsx, name="evaluation_campaign_xlsx"),
    path("evaluations/campaigns/<id:pk>/rechecks/", views.evaluation_rechecks, name="evaluation_rechecks"),
    path("evaluations/self/<id:pk>/", views.self_evaluation, name="self_evaluation"),
    path("evaluations/self/<id:pk>/preview/", views.self_evaluation_preview, name="self_evaluation_preview"),
    path("evaluations/self/<id:pk>/act/<slug:action>/", views.self_evaluation_act, name="self_evaluation_act"),
    path("evaluations/rechecks/<id:pk>/", views.recheck, name="recheck"),
    path("evaluations/rechecks/<id:pk>/preview/", views.recheck_preview, name="recheck_preview"),
    path("evaluations/rechecks/<id:pk>/report/", views.recheck_report, name="recheck_report"),
    path("evaluations/rechecks/<id:pk>/act/<slug:action>/", views.recheck_act, name="recheck_act"),
]
