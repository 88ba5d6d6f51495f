"""Screens that are no lifecycle's: the indicator library (reference data), the auditor's
trail, background jobs. Every lifecycle's screens are routed by workflows/urls.py
(decision 0022)."""

from django.urls import path

from . import audit_views, indicator_views, job_views

app_name = "processes"
urlpatterns = [
    # 绩效指标库 (processes/indicator_views.py)
    path("library/", indicator_views.indicator_list, name="indicator_list"),
    path("library/propose/", indicator_views.indicator_propose, name="indicator_propose"),
    path("library/proposals/", indicator_views.indicator_proposals, name="indicator_proposals"),
    path("library/import/", indicator_views.indicator_import, name="indicator_import"),
    path("library/template.xlsx", indicator_views.indicator_template, name="indicator_template"),
    path("library/export.xlsx", indicator_views.indicator_export, name="indicator_export"),
    path("library/<id:pk>/", indicator_views.indicator_detail, name="indicator_detail"),
    path("library/<id:pk>/edit/", indicator_views.indicator_edit, name="indicator_edit"),
    path("library/<id:pk>/decide/", indicator_views.indicator_decide, name="indicator_decide"),
    path("library/<id:pk>/active/", indicator_views.indicator_set_active, name="indicator_set_active"),
    # 审计日志: the auditor's screen (processes/audit_views.py)
    path("audit/", audit_views.audit_trail, name="audit_trail"),
    path("audit/export.xlsx", audit_views.audit_trail_xlsx, name="audit_trail_xlsx"),
    path("audit/verify/", audit_views.audit_verify_now, name="audit_verify"),
    # background jobs (processes/job_views.py)
    path("jobs/<id:pk>/", job_views.job_detail, name="job_detail"),
    path("jobs/<id:pk>/progress/", job_views.job_progress, name="job_progress"),
]
