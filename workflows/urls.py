"""Every lifecycle's screens (decision 0022): the inbox, a task, the project (list, draft,
edit, page, actions), pre-assessment, targets, monitoring, self-evaluation and re-checks,
commissioned evaluations, rectification, the deadline board."""

from django.urls import path

from . import (
    board_urls,
    budget_import_views,
    bulk_actions,
    bulk_kinds,
    commissioned_urls,
    committee_urls,
    evaluation_urls,
    execution_urls,
    policy_views,
    project_views,
    rectification_urls,
    results_views,
    target_views,
    views,
)
from . import monitoring_views as mon_views
from . import pre_assessment_views as pa_views

app_name = "workflows"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("tasks/<id:pk>/", views.task_detail, name="task"),
    # 批量办理 (workflows/bulk_actions.py)
    path("bulk/", bulk_actions.bulk_action_index, name="bulk_index"),
    path("bulk/leader/", bulk_kinds.bulk_leader_page, name="bulk_leader"),
    path("bulk/<slug:action>/", bulk_actions.bulk_action_page, name="bulk_action"),
    path("projects/", project_views.project_list, name="project_list"),
    path("projects/new/", project_views.project_new, name="project_new"),
    path("projects/import/", budget_import_views.budget_import, name="budget_import"),
    path("projects/<id:pk>/edit/", project_views.project_edit, name="project_edit"),
    # the project form's live 上年度评价结果 (结果应用)
    path("projects/results/", project_views.project_results, name="project_results"),
    path("projects/<id:pk>/", views.project_detail, name="project_detail"),
    path("projects/<id:pk>/act/<slug:action>/", views.project_act, name="project_act"),
    # 结果应用: the finance officer's decision on the proposal (workflows/results_views.py)
    path("projects/<id:pk>/results-decision/", results_views.project_results_decide, name="project_results_decide"),
    path("projects/<id:pk>/pre-assessment/new/", pa_views.pre_assessment_begin, name="pre_assessment_begin"),
    path("policies/", policy_views.policy_list, name="policy_list"),
    path("policies/new/", policy_views.policy_new, name="policy_new"),
    path("policies/<id:pk>/", policy_views.policy_detail, name="policy_detail"),
    path("pre-assessments/summary/", pa_views.pre_assessment_year_summary, name="pre_assessment_summary"),
    path("pre-assessments/summary.xlsx", pa_views.pre_assessment_year_summary_xlsx, name="pre_assessment_summary_xlsx"),
    path("pre-assessments/<id:pk>/", pa_views.pre_assessment_detail, name="pre_assessment"),
    path("pre-assessments/<id:pk>/report/", pa_views.pre_assessment_report, name="pre_assessment_report"),
    path("pre-assessments/<id:pk>/my-opinion/", pa_views.opinion_edit, name="pre_assessment_opinion"),
    path("pre-assessments/<id:pk>/act/<slug:action>/", pa_views.pre_assessment_act, name="pre_assessment_act"),
    path("projects/<id:pk>/targets/", target_views.targets_page, name="targets"),
    path("projects/<id:pk>/targets/v<id:number>/", target_views.target_version, name="target_version"),
    path("projects/<id:pk>/targets/indicators.json", target_views.target_indicators, name="target_indicators"),
    path("projects/<id:pk>/targets/act/<slug:action>/", target_views.targets_act, name="targets_act"),
    path("monitoring/rounds/", mon_views.monitoring_rounds, name="monitoring_rounds"),
    path("monitoring/rounds/<id:pk>/", mon_views.monitoring_round, name="monitoring_round"),
    path("monitoring/rounds/<id:pk>/overview.xlsx", mon_views.monitoring_round_xlsx, name="monitoring_round_xlsx"),
    path(
        "monitoring/rounds/<id:pk>/departments/<id:dept_pk>/",
        mon_views.monitoring_department,
        name="monitoring_department",
    ),
    path("monitoring/reports/<id:pk>/", mon_views.monitoring_report, name="monitoring_report"),
    path(
        "monitoring/reports/<id:pk>/act/<slug:action>/",
        mon_views.monitoring_report_act,
        name="monitoring_report_act",
    ),
    # 绩效自评 and 复核 (workflows/evaluation_urls.py)
    *evaluation_urls.urlpatterns,
    # 重点评价 and 部门整体绩效评价, and their public reports (workflows/commissioned_urls.py)
    *commissioned_urls.urlpatterns,
    # the supervisors' deadline board (workflows/board_urls.py)
    *board_urls.urlpatterns,
    # 整改 (workflows/rectification_urls.py)
    *rectification_urls.urlpatterns,
    # 人大审议意见 (workflows/committee_urls.py; the year's table is reports:committee_opinions)
    *committee_urls.urlpatterns,
    # 支付数据 and 资金支付计划 from the budget system (workflows/execution_urls.py)
    *execution_urls.urlpatterns,
]
