"""Targets and monitoring on the one transition engine (issue 17): the processes services
complete their flow tasks themselves, the declared notices, the roles recorded for the
cascades, and a reopened round that tells the departments its new due date."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from notifications.models import Notification
from processes import transitions
from processes.models import AuditEvent, MonitoringReport, MonitoringRound, TargetSet
from processes.notices.monitoring import REPORT_SUBMITTED, REPORT_TO_REVIEW, ROUND_EXTENDED
from processes.notices.targets import TARGETS_SUBMITTED, TARGETS_TO_RATE
from processes.services import monitoring as monitoring_services
from processes.services import targets as target_services
from processes.services.monitoring import approved_rows, report_save
from processes.services.targets import target_draft_open, target_set_save
from processes.states import ProjectStage, ReportStatus, TargetSetStatus
from tests.conftest import TARGET_ROWS
from workflows.flows import MonitoringFlow, TargetReviewFlow
from workflows.models import TaskDue
from workflows.selectors import task_inbox_for
from workflows.services import monitoring_round_open, project_act


def inbox(user):
    return [t.flow_task for t in task_inbox_for(user)]


def drafted(district, project):
    target_set = target_draft_open(project=project, actor=district.staff_a)
    return target_set_save(target_set=target_set, actor=district.staff_a, overall_goal="按期完成建设", rows=TARGET_ROWS)


def executing(district, dept="a"):
    project = district.project(ProjectStage.BUDGETED, dept=dept)
    return project_act(project=project, actor=district.finance, action="start_execution")


def open_round(district, due_at, **kw):
    return monitoring_round_open(actor=district.finance, fiscal_year=2021, end_month=6, due_at=due_at, **kw)


def filled(district, report):
    indicators = []
    for row, value in zip(approved_rows(report.project), ("6.25", "100", "achieved"), strict=True):
        key = "progress" if row.direction == "qualitative" else "value"
        indicators.append({"target_row": row.pk, key: value, "likelihood": "certain"})
    return report_save(
        report=report,
        actor=district.staff_a,
        budget="1200000",
        executed="600000",
        expected_full_year="1200000",
        indicators=indicators,
    )


def audit_of(obj, action):
    return AuditEvent.objects.get(object_type=obj._meta.label_lower, object_id=str(obj.pk), action=action)


# -- every transition of both models is declared ------------------------------------------


def test_every_transition_is_declared_with_its_audit_name_when_the_models_load():
    names = {
        (d.model.__name__, d.name): d.audit_action
        for d in transitions.declared_transitions()
        if d.model in (TargetSet, MonitoringReport)
    }
    assert all(d.declared for d in transitions.declared_transitions() if d.model in (TargetSet, MonitoringReport))
    assert names[("TargetSet", "approve")] == names[("TargetSet", "reject")] == "targets_rate"
    assert names[("MonitoringReport", "send_back")] == "report_return"
    assert len(names) == 16


# -- the processes service completes the flow task itself ------------------------------------


def test_flow_task_is_completed_when_the_processes_service_is_called_directly(district):
    project = district.project(ProjectStage.TARGET_REVIEW)
    target_set = target_services.target_submit(target_set=drafted(district, project), actor=district.staff_a)
    assert target_set.status == TargetSetStatus.SUBMITTED
    assert inbox(district.staff_a) == [] and inbox(district.leader_a) == [TargetReviewFlow.leader_review]
    target_services.target_dept_review(target_set=target_set, actor=district.leader_a, approve=True)
    assert inbox(district.leader_a) == [] and inbox(district.finance) == [TargetReviewFlow.finance_review]


def test_report_task_is_completed_when_the_processes_service_submits_it(district):
    executing(district)
    report = open_round(district, timezone.now() + timedelta(days=10)).created[0]
    report = monitoring_services.report_submit(report=filled(district, report), actor=district.staff_a)
    assert report.status == ReportStatus.SUBMITTED
    assert inbox(district.staff_a) == [] and inbox(district.leader_a) == [MonitoringFlow.leader_review]
    # the leader is told of the task (the flow's message, with its due date), once
    told = Notification.objects.filter(recipient=district.leader_a, object_type="processes.monitoringreport")
    assert [(n.kind, n.params["task"]) for n in told] == [("task", "部门审核绩效监控报告")]


def test_refused_submission_saves_nothing_when_saved_and_submitted_in_one_call(district):
    project = district.project(ProjectStage.TARGET_REVIEW)
    target_set = drafted(district, project)
    revision = target_set.revision
    rows = [dict(r) for r in TARGET_ROWS]
    rows[0]["weight"] = "1"  # the weights no longer add up: the submission is refused
    with pytest.raises(ValidationError):
        target_services.target_save_and_submit(
            target_set=target_set, actor=district.staff_a, overall_goal="改过的目标", rows=rows
        )
    target_set.refresh_from_db()
    assert (target_set.status, target_set.overall_goal, target_set.revision) == (
        TargetSetStatus.DRAFT,
        "按期完成建设",
        revision,
    )
    assert not AuditEvent.objects.filter(object_id=str(target_set.pk), action="targets_submit").exists()


# -- the declared notices (what is said where no flow step says more) ------------------------


@pytest.fixture
def without_flow_step(monkeypatch):
    """Drop one registered flow step, so that the declared notice is what is sent."""

    def drop(model, name):
        monkeypatch.delitem(transitions._FLOW_STEPS, (model._meta.label_lower, name))

    return drop


def test_leaders_are_told_a_version_awaits_them_when_targets_are_submitted(district, without_flow_step):
    without_flow_step(TargetSet, "submit")
    project = district.project(ProjectStage.TARGET_REVIEW)
    target_set = target_services.target_submit(target_set=drafted(district, project), actor=district.staff_a)
    told = Notification.objects.get(recipient=district.leader_a, verb=TARGETS_SUBMITTED)
    assert (told.kind, told.params["number"], told.object_id) == ("task", 1, str(target_set.pk))
    assert told.url == f"/projects/{project.pk}/targets/"
    assert not Notification.objects.filter(recipient=district.leader_b, verb=TARGETS_SUBMITTED).exists()


def test_finance_section_is_told_when_the_leader_passes_the_targets(district, without_flow_step):
    without_flow_step(TargetSet, "dept_approve")
    project = district.project(ProjectStage.TARGET_REVIEW)
    target_set = target_services.target_submit(target_set=drafted(district, project), actor=district.staff_a)
    target_services.target_dept_review(target_set=target_set, actor=district.leader_a, approve=True)
    told = Notification.objects.get(recipient=district.finance, verb=TARGETS_TO_RATE)
    assert (told.kind, told.object_id) == ("task", str(target_set.pk))


def test_leaders_then_finance_are_told_when_a_report_is_submitted_and_passed(district, without_flow_step):
    without_flow_step(MonitoringReport, "submit")
    without_flow_step(MonitoringReport, "dept_approve")
    executing(district)
    report = open_round(district, timezone.now() + timedelta(days=10)).created[0]
    report = monitoring_services.report_submit(report=filled(district, report), actor=district.staff_a)
    monitoring_services.report_dept_review(report=report, actor=district.leader_a, approve=True)
    leader = Notification.objects.get(recipient=district.leader_a, verb=REPORT_SUBMITTED)
    finance = Notification.objects.get(recipient=district.finance, verb=REPORT_TO_REVIEW)
    assert leader.object_id == finance.object_id == str(report.pk)
    assert leader.url == finance.url == f"/monitoring/reports/{report.pk}/"


def test_department_keeps_the_reason_rather_than_the_task_when_the_leader_returns_a_report(district):
    executing(district)
    report = open_round(district, timezone.now() + timedelta(days=10)).created[0]
    report = monitoring_services.report_submit(report=filled(district, report), actor=district.staff_a)
    monitoring_services.report_dept_review(report=report, actor=district.leader_a, approve=False, comment="数据不全")
    told = Notification.objects.filter(recipient=district.staff_a, object_id=str(report.pk)).latest("pk")
    assert (told.kind, told.params["reason"]) == ("returned", "数据不全")
    assert inbox(district.staff_a) == [MonitoringFlow.fill]  # the task is back all the same


# -- the roles the cascades are recorded under -----------------------------------------------


def test_cancelled_targets_are_recorded_under_the_withdrawing_staffs_role(district):
    project = district.project(ProjectStage.TARGET_REVIEW)
    target_set = target_services.target_submit(target_set=drafted(district, project), actor=district.staff_a)
    project_act(project=project, actor=district.staff_a, action="withdraw", comment="合并申报")
    event = audit_of(target_set, "targets_cancel")
    assert (event.actor_role, event.from_state, event.to_state, event.comment) == (
        "dept_staff",
        TargetSetStatus.SUBMITTED,
        TargetSetStatus.CANCELLED,
        "合并申报",
    )


def test_cancelled_report_is_recorded_under_the_finance_officers_role(district):
    executing(district)
    report = open_round(district, timezone.now() + timedelta(days=10)).created[0]
    project_act(project=report.project, actor=district.finance, action="cancel", comment="项目终止")
    event = audit_of(report, "report_cancel")
    assert (event.actor_role, event.to_state, event.detail["round"]) == (
        "finance_officer",
        ReportStatus.CANCELLED,
        report.round_id,
    )


def test_superseded_version_has_its_own_audit_row_when_a_change_is_approved(district):
    from workflows.services import targets_change_request

    project = district.project(ProjectStage.BUDGETED)
    first = project.target_sets.get()
    change = targets_change_request(project=project, actor=district.staff_a, reason="实施范围调整")
    change = target_services.target_submit(target_set=change, actor=district.staff_a)
    change = target_services.target_dept_review(target_set=change, actor=district.leader_a, approve=True)
    earlier = Notification.objects.order_by("-pk").values_list("pk", flat=True).first()
    target_services.target_rate(target_set=change, actor=district.finance, rating="excellent")
    event = audit_of(first, "targets_supersede")
    assert (event.actor_role, event.from_state, event.to_state) == (
        "finance_officer",
        TargetSetStatus.APPROVED,
        TargetSetStatus.SUPERSEDED,
    )
    assert audit_of(change, "targets_rate").detail["superseded"] == first.number
    # silent, with its reason: the department hears of the change's approval instead
    assert not Notification.objects.filter(pk__gt=earlier, object_id=str(first.pk)).exists()
    assert Notification.objects.filter(pk__gt=earlier, recipient=district.staff_a, kind="targets_rated").exists()


# -- a round reopened or extended tells the departments ---------------------------------------


def test_departments_are_told_the_new_due_date_when_a_round_is_reopened_with_another(district):
    executing(district, dept="a")
    executing(district, dept="b")
    due = timezone.now() + timedelta(days=10)
    opened = open_round(district, due)
    report_a = next(r for r in opened.created if r.project.department_id == district.dept_a.pk)
    monitoring_services.report_submit(report=filled(district, report_a), actor=district.staff_a)
    later = (due + timedelta(days=7)).replace(microsecond=0)

    again = open_round(district, later)

    assert again.created == [] and MonitoringRound.objects.get().due_at == later
    due_text = timezone.localtime(later).strftime("%Y-%m-%d %H:%M")
    for user in (district.staff_b, district.leader_b):  # B's report is still to be filled
        told = Notification.objects.filter(recipient=user, kind="round_extended").get()
        assert (told.verb, told.params["due"], told.params["count"]) == (ROUND_EXTENDED, due_text, 1)
        assert told.url == f"/monitoring/rounds/{again.round.pk}/"
    # A's report is submitted: nothing more to fill there, nobody told
    assert not Notification.objects.filter(kind="round_extended", recipient__department=district.dept_a).exists()
    # B's 填报 task is due at the new date; A's review task keeps its own
    fill = Task.objects.get(flow_task=MonitoringFlow.fill, status=STATUS.NEW)
    assert TaskDue.objects.get(task=fill).due_at == later and fill.data["due_at"] == later.isoformat()
    event = AuditEvent.objects.get(action="round_extend")
    assert event.detail["due_at"] == [due.isoformat(), later.isoformat()]


def test_departments_with_new_reports_are_told_with_the_due_date_when_a_round_is_extended(district):
    executing(district, dept="a")
    due = (timezone.now() + timedelta(days=10)).replace(microsecond=0)
    open_round(district, due)
    executing(district, dept="b")  # starts executing after the round was opened
    before_a = Notification.objects.filter(recipient=district.staff_a).count()

    again = open_round(district, due)  # the same due date: only the new report is news

    assert [r.project.department_id for r in again.created] == [district.dept_b.pk]
    told = Notification.objects.filter(recipient=district.staff_b, object_type="processes.monitoringround").get()
    assert (told.kind, told.params["count"]) == ("task", 1)
    assert told.params["due"] == timezone.localtime(due).strftime("%Y-%m-%d %H:%M")
    assert Notification.objects.filter(recipient=district.staff_a).count() == before_a
