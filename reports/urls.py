"""Screens of the annual report (reports/views.py) and the public page, which needs no login."""

from django.urls import path
from django.views.generic import RedirectView

from . import committee, ledger, views

app_name = "reports"

urlpatterns = [
    path("reports/", views.report_overview, name="overview"),
    path("reports/<year:year>/", views.report_year, name="year"),
    path("reports/<year:year>/xlsx/", views.report_xlsx, name="xlsx"),
    path("reports/<year:year>/print/", views.report_print, name="print"),
    path("reports/<year:year>/disclose/", views.report_disclose_view, name="disclose"),
    # 审议意见落实情况 (issue 19): also the congress reader's
    path("reports/<year:year>/committee-opinions/", committee.committee_opinions, name="committee_opinions"),
    path("reports/<year:year>/committee-opinions/xlsx/", committee.committee_opinions_xlsx, name="committee_xlsx"),
    path("reports/<year:year>/committee-opinions/print/", committee.committee_opinions_print, name="committee_print"),
    # 结果应用台账 (reports/ledger.py)
    path("results/ledger/<year:year>/", ledger.results_ledger, name="results_ledger"),
    path("results/ledger/<year:year>/xlsx/", ledger.results_ledger_xlsx_view, name="results_ledger_xlsx"),
    # 信息公开: no login. Everything else the public may open is the published evaluations'
    # report files (processes/commissioned_urls.py).
    path("public/", views.public_index, name="public"),
    path("public/reports/<year:year>/", views.public_report, name="public_report"),
    path("public/reports/<year:year>/xlsx/", views.public_report_xlsx, name="public_report_xlsx"),
    # 绩效目标随预算公开, 绩效自评结果随决算公开 (reports/public.py)
    path("public/targets/<year:year>/", views.public_targets, name="public_targets"),
    path("public/self-evaluations/<year:year>/", views.public_self_evaluations, name="public_self_evaluations"),
    path("public/rechecks/<id:pk>/report/", views.public_recheck_report, name="public_recheck_report"),
    # The published evaluations had a page of their own before the public page served both.
    path(
        "public/evaluations/",
        RedirectView.as_view(pattern_name="reports:public", permanent=True, query_string=True),
    ),
]
