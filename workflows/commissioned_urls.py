"""Screens of key and department-overall evaluations (workflows/commissioned_views.py),
included by workflows/urls.py (namespace ``workflows``)."""

from django.urls import path

from . import agency_views, outcome_views
from . import commissioned_views as views

urlpatterns = [
    path("evaluations/commissioned/", views.commissioned_list, name="commissioned_list"),
    path("evaluations/agency-ratings/", agency_views.agency_ratings, name="agency_ratings"),
    path("evaluations/frameworks/", agency_views.framework_commissions, name="framework_commissions"),
    path("evaluations/commissioned/new/", views.commissioned_new, name="commissioned_new"),
    path("evaluations/commissioned/<id:pk>/", views.commissioned_detail, name="commissioned_detail"),
    path("evaluations/commissioned/<id:pk>/act/<slug:action>/", views.commissioned_act, name="commissioned_act"),
    path("evaluations/commissioned/<id:pk>/files/<slug:which>/", views.commissioned_file, name="commissioned_file"),
    # 结论告知: the outcome of a review, to the members of its panel only
    path("panel/pre-assessments/<id:pk>/outcome/", outcome_views.pre_assessment_outcome_page, name="panel_outcome_pa"),
    path("panel/evaluations/<id:pk>/outcome/", outcome_views.evaluation_outcome_page, name="panel_outcome_evaluation"),
    # 评价报告公开: no login (the public page that lists them is reports:public)
    path("public/evaluations/<id:pk>/report/", views.public_evaluation_report, name="public_evaluation_report"),
]
