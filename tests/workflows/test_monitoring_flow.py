"""绩效运行监控 (DESIGN §3.4) through the services and MonitoringFlow: opening a round (once),
filling, the leader, the finance section's review, and each disposal."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS, STATUS

from notifications.models import Notification
from processes.errors import ActionNotAllowed, Conflict
from processes.models import AuditEvent, BudgetProject, IndicatorProgress, MonitoringReport, MonitoringRound
from processes.services.audit import audit_verify
from processes.services.monitoring import approved_rows, report_save
from processes.states import ExecutionHold, Light, ProjectStage, ReportStatus
from workflows.flows import MonitoringFlow
from workflows.models import ProjectProcess
from workflows.selectors import task_inbox_for
from workflows.services import (
    monitoring_dept_review,
    monitoring_dispose,
    monitoring_review,
    monitoring_round_open,
    monitoring_submit,
    project_act,
)

D = Decimal


def executing(district, dept="a"):
    project = district.project(ProjectStage.BUDGETED, dept=dept)
    return project_act(project=project, actor=district.finance, action="start_execution")


def open_round(district, **kw):
    fields = {"fiscal_year": 2021, "end_month": 6, "due_at": timezone.now() + timedelta(days=10), **kw}
    return monitoring_round_open(actor=district.finance, **fields)


def on_pace(report, *, executed="600000", values=("6.25", "100", "achieved"), explained=False):
    """Report values: 1,200,000 budget, half the year; TARGET_ROWS are ≥12.5 km, ≤300 days, 定性."""
    rows = approved_rows(report.project)
    indicators = []
    for row, value in zip(rows, values, strict=True):
        key = "progress" if row.direction == "qualitative" else "value"
        indicators.append({"target_row": row.pk, key: value, "likelihood": "certain"})
    return {
        "budget": "1200000",
        "executed": executed,
        "expected_full_year": "1200000",
        "deviation_causes": "征地拆迁滞后" if explained else "",
        "measures": "倒排工期，加快支付" if explained else "",
        "indicators": indicators,
    }


def filed(district, report, **values):
    report = report_save(report=report, actor=district.staff_a, **(values or on_pace(report)))
    return monitoring_submit(report=report, actor=district.staff_a)


def passed(district, report, **values):
    return monitoring_dept_review(report=filed(district, report, **values), actor=district.leader_a, approve=True)


@pytest.fixture
def report(district):
    executing(district)
    return open_round(district).created[0]


def inbox(user):
    return [t.flow_task for t in task_inbox_for(user)]


# -- opening ---------------------------------------------------------------------------------


def test_round_gives_each_executing_project_one_report_and_its_department_one_task_when_opened(district):
    a1, a2, b1 = executing(district), executing(district), executing(district, dept="b")
    district.project(ProjectStage.BUDGETED)  # budgeted, not executing: not in the round
    opened = open_round(district)
    assert {r.project_id for r in opened.created} == {a1.pk, a2.pk, b1.pk}
    assert [r.budget for r in opened.created] == [a1.approved_amount, a2.approved_amount, b1.approved_amount]
    assert inbox(district.staff_a) == [MonitoringFlow.fill, MonitoringFlow.fill]
    assert inbox(district.staff_b) == [MonitoringFlow.fill]
    assert inbox(district.leader_a) == []
    task = task_inbox_for(district.staff_b).get()
    assert task.data["due_at"] == opened.round.due_at.isoformat()
    # one notice per department member for the whole round, with the count
    notice = Notification.objects.get(recipient=district.staff_a, object_type="processes.monitoringround")
    assert notice.params["count"] == 2
    assert AuditEvent.objects.filter(action="round_open").count() == 1


def test_opening_the_same_round_twice_creates_nothing_twice(district):
    executing(district)
    first = open_round(district)
    counts = (MonitoringReport.objects.count(), Task.objects.count(), ProjectProcess.objects.count())
    again = open_round(district)
    assert again.round == first.round and again.created == [] and again.already == 1
    assert (MonitoringReport.objects.count(), Task.objects.count(), ProjectProcess.objects.count()) == counts
    # a project that starts executing later joins the same round on the next opening
    late = executing(district, dept="b")
    third = open_round(district)
    assert [r.project_id for r in third.created] == [late.pk]
    assert MonitoringRound.objects.count() == 1


def test_chosen_set_must_hold_only_executing_projects_of_the_year_when_opened(district):
    project = executing(district)
    budgeted = district.project(ProjectStage.BUDGETED)
    with pytest.raises(ValidationError) as excinfo:
        open_round(district, project_ids=[project.pk, budgeted.pk])
    assert "projects" in excinfo.value.message_dict
    assert not MonitoringRound.objects.exists()
    opened = open_round(district, project_ids=[project.pk])
    assert [r.project_id for r in opened.created] == [project.pk]


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"end_month": 13}, "end_month"),
        ({"end_month": "七"}, "end_month"),
        ({"start_month": 8, "end_month": 7}, "end_month"),
        ({"due_at": timezone.now() - timedelta(days=1)}, "due_at"),
    ],
)
def test_bad_round_is_refused_and_nothing_is_created_when_opened(district, fields, key):
    executing(district)
    with pytest.raises(ValidationError) as excinfo:
        open_round(district, **fields)
    assert key in excinfo.value.message_dict
    assert not MonitoringRound.objects.exists() and not MonitoringReport.objects.exists()


@pytest.mark.parametrize("person", ["staff_a", "leader_a", "supervisor", "auditor"])
def test_only_the_finance_section_opens_a_round(district, person):
    executing(district)
    with pytest.raises(PermissionDenied):
        monitoring_round_open(
            actor=getattr(district, person), fiscal_year=2021, end_month=6, due_at=timezone.now() + timedelta(days=3)
        )
    assert not MonitoringReport.objects.exists()


# -- filling -----------------------------------------------------------------------------------


def test_lights_are_computed_and_stored_when_the_department_saves(district, report):
    values = on_pace(report, executed="300000", values=("9", "250", "partly"))  # spending 50 %: red
    report = report_save(report=report, actor=district.staff_a, **values)
    assert (report.spending_light, report.spending_rate) == (Light.RED, D("50.00"))
    by_row = {p.target_row.position: p for p in report.indicators.select_related("target_row")}
    assert (by_row[1].light, by_row[1].rate) == (Light.BLUE, D("144.00"))  # 9 km of 6.25 on pace: target too low
    assert by_row[2].light == Light.GREEN and by_row[3].light == Light.YELLOW
    assert report.light == Light.RED


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"executed": "-1"}, "executed"),
        ({"executed": "三十万"}, "executed"),
        ({"budget": "1e400"}, "budget"),
        ({"proposed_amount": "-5", "adjustment_requested": True}, "proposed_amount"),
        ({"indicators": [{"target_row": 999999, "value": "1"}]}, "indicators"),
        ({"indicators": "value-as-text"}, "indicators"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_refused_and_nothing_changes_when_saved(district, report, change, key):
    report = report_save(report=report, actor=district.staff_a, **on_pace(report))
    before = (report.executed, report.revision, IndicatorProgress.objects.count())
    values = {**on_pace(report, executed="1"), **change}
    with pytest.raises(ValidationError) as excinfo:
        report_save(report=report, actor=district.staff_a, **values)
    assert any(k.startswith(key) for k in excinfo.value.message_dict), excinfo.value.message_dict
    report.refresh_from_db()
    assert (report.executed, report.revision, IndicatorProgress.objects.count()) == before


def test_indicator_of_another_project_is_refused_when_reported(district, report):
    other = executing(district, dept="b")
    foreign = approved_rows(other)[0]
    with pytest.raises(ValidationError) as excinfo:
        report_save(report=report, actor=district.staff_a, indicators=[{"target_row": foreign.pk, "value": "1"}])
    assert "不是本项目已批复的绩效指标" in excinfo.value.message_dict["indicators"][0]
    assert not IndicatorProgress.objects.exists()


def test_value_as_text_is_refused_naming_the_row_when_reported(district, report):
    row = approved_rows(report.project)[0]
    with pytest.raises(ValidationError) as excinfo:
        report_save(report=report, actor=district.staff_a, indicators=[{"target_row": row.pk, "value": "很多"}])
    assert f"indicators.{row.pk}.value" in excinfo.value.message_dict


def test_incomplete_or_unexplained_report_is_refused_when_submitted(district, report):
    report = report_save(report=report, actor=district.staff_a, budget="1200000", executed="100000")
    with pytest.raises(ValidationError) as excinfo:
        monitoring_submit(report=report, actor=district.staff_a)
    errors = excinfo.value.message_dict
    assert "expected_full_year" in errors and any(k.endswith(".likelihood") for k in errors)
    report = report_save(report=report, actor=district.staff_a, **on_pace(report, executed="100000"))  # red, no causes
    with pytest.raises(ValidationError) as excinfo:
        monitoring_submit(report=report, actor=district.staff_a)
    assert set(excinfo.value.message_dict) == {"deviation_causes", "measures"}
    assert MonitoringReport.objects.get(pk=report.pk).status == ReportStatus.ISSUED
    assert inbox(district.staff_a) == [MonitoringFlow.fill]


@pytest.mark.parametrize("person", ["staff_b", "leader_a", "finance"])
def test_only_the_projects_department_staff_fill_the_report(district, report, person):
    with pytest.raises(PermissionDenied):
        report_save(report=report, actor=getattr(district, person), executed="1")


# -- review and disposal -----------------------------------------------------------------------


def test_cleared_report_ends_the_flow_and_records_the_executed_amount(district, report):
    report = passed(district, report)
    assert inbox(district.finance) == [MonitoringFlow.finance_review]
    report = monitoring_review(report=report, actor=district.finance, decision="clear")
    assert report.status == ReportStatus.CLEARED
    assert BudgetProject.objects.get(pk=report.project_id).executed_amount == D("600000")
    process = ProjectProcess.objects.get(flow_class=MonitoringFlow, project=report.project)
    assert process.status == PROCESS.DONE
    assert Notification.objects.filter(recipient=district.staff_a, kind="report_reviewed").exists()
    assert audit_verify() is None


def test_returned_report_goes_back_to_the_department_with_the_reason(district, report):
    report = monitoring_dept_review(
        report=filed(district, report), actor=district.leader_a, approve=False, comment="核对执行数"
    )
    assert report.status == ReportStatus.ISSUED and inbox(district.staff_a) == [MonitoringFlow.fill]
    report = passed(district, report)
    report = monitoring_review(report=report, actor=district.finance, decision="return", comment="补充说明")
    assert report.status == ReportStatus.ISSUED and inbox(district.staff_a) == [MonitoringFlow.fill]


@pytest.mark.parametrize(
    ("disposal", "new_amount", "hold"),
    [
        ("adjust", "800000", ExecutionHold.NONE),
        ("suspend", None, ExecutionHold.SUSPENDED),
        ("stop_payments", None, ExecutionHold.PAYMENTS_STOPPED),
        ("no_action", None, ExecutionHold.NONE),
    ],
)
def test_warned_report_is_disposed_with_a_reason_when_finance_decides(district, report, disposal, new_amount, hold):
    report = passed(
        district, report, **on_pace(report, executed="200000", values=("2", "100", "partly"), explained=True)
    )
    report = monitoring_review(report=report, actor=district.finance, decision="warn", comment="支出进度严重滞后")
    assert report.status == ReportStatus.WARNED and inbox(district.finance) == [MonitoringFlow.dispose]
    project = BudgetProject.objects.get(pk=report.project_id)
    approved = project.approved_amount
    report = monitoring_dispose(
        report=report, actor=district.finance, disposal=disposal, reason="按预算执行情况处置", new_amount=new_amount
    )
    project.refresh_from_db()
    assert report.status == ReportStatus.DISPOSED and report.disposal == disposal
    assert project.execution_hold == hold
    if disposal == "adjust":
        assert project.adjusted_amount == D("800000")
        assert (report.amount_before, report.amount_after) == (approved, D("800000"))
        event = AuditEvent.objects.get(action="dispose_adjust", object_type="processes.budgetproject")
        assert (event.detail["amount_before"], event.detail["amount_after"]) == (str(approved), "800000")
    else:
        assert project.adjusted_amount is None
    assert Notification.objects.filter(recipient=district.staff_a, kind="report_disposed").exists()
    assert inbox(district.finance) == []
    assert audit_verify() is None


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"disposal": "adjust", "reason": "收回", "new_amount": None}, "new_amount"),
        ({"disposal": "adjust", "reason": "收回", "new_amount": "-1"}, "new_amount"),
        ({"disposal": "adjust", "reason": "收回", "new_amount": "一百万"}, "new_amount"),
        ({"disposal": "suspend", "reason": "收回", "new_amount": "5"}, "new_amount"),
        ({"disposal": "adjust", "reason": " ", "new_amount": "5"}, "reason"),
        ({"disposal": "shrug", "reason": "x"}, "disposal"),
    ],
)
def test_bad_disposal_is_refused_and_nothing_changes(district, report, fields, key):
    report = monitoring_review(report=passed(district, report), actor=district.finance, decision="warn", comment="预警")
    with pytest.raises(ValidationError) as excinfo:
        monitoring_dispose(report=report, actor=district.finance, **fields)
    assert key in excinfo.value.message_dict
    report.refresh_from_db()
    project = BudgetProject.objects.get(pk=report.project_id)
    assert report.status == ReportStatus.WARNED and project.adjusted_amount is None and project.execution_hold == ""


def test_second_review_is_refused_when_two_officers_decide(district, report):
    report = passed(district, report)
    monitoring_review(report=report, actor=district.finance, decision="clear")
    with pytest.raises((ActionNotAllowed, Conflict)):
        monitoring_review(report=report, actor=district.finance, decision="warn", comment="晚了")
    assert MonitoringReport.objects.get(pk=report.pk).status == ReportStatus.CLEARED


@pytest.mark.parametrize(
    ("step", "person"), [("dept", "leader_b"), ("dept", "staff_a"), ("review", "leader_a"), ("review", "supervisor")]
)
def test_wrong_person_is_refused_when_deciding(district, report, step, person):
    actor = getattr(district, person)
    if step == "dept":
        report = filed(district, report)
        with pytest.raises(PermissionDenied):
            monitoring_dept_review(report=report, actor=actor, approve=True)
    else:
        report = passed(district, report)
        with pytest.raises(PermissionDenied):
            monitoring_review(report=report, actor=actor, decision="clear")
    assert MonitoringReport.objects.get(pk=report.pk).status == report.status


def test_cancelling_the_project_ends_its_open_report(district, report):
    project_act(project=report.project, actor=district.finance, action="cancel", comment="项目终止")
    report.refresh_from_db()
    assert report.status == ReportStatus.CANCELLED
    assert not Task.objects.filter(flow_task=MonitoringFlow.fill, status=STATUS.NEW).exists()
