"""Project screens that need only the domain: list, create, edit a draft.

The inbox, the project page and its actions show or move the project's flow, so they
are routed by workflows/urls.py (the import direction, decision 0006).
"""

from django.urls import path

from . import audit_views, indicator_views, job_views, views

app_name = "processes"
urlpatterns = [
    path("projects/", views.project_list, name="project_list"),
    path("projects/new/", views.project_new, name="project_new"),
    path("projects/<id:pk>/edit/", views.project_edit, name="project_edit"),
    # the project form's live 上年度评价结果 (结果应用)
    path("projects/results/", views.project_results, name="project_results"),
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
