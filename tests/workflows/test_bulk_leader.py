"""部门负责人批量审核 as real role users: the leader's screen lists the department's own
submissions by kind (self-evaluations, targets, monitoring reports); each kind passes by
its own declared transition, hands the flow to the finance section as the single
approval does, and tells finance once; another department's items are never listed nor
taken; the wrong role is refused."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notifications.models import Notification
from processes.models import AuditEvent, Job, MonitoringReport, SelfEvaluation, TargetSet
from processes.services import evaluation
from processes.services.evaluation import self_evaluations_dept_approve_many
from processes.states import JobStatus, ProjectStage, ReportStatus, SelfEvaluationStatus, TargetSetStatus
from tests.workflows import test_monitoring_flow as mon
from tests.workflows import test_target_review_flow as tgt
from tests.workflows.test_evaluation_flow import entries, launch
from workflows.flows import MonitoringFlow, SelfEvaluationFlow, TargetReviewFlow
from workflows.selectors import task_inbox_for
from workflows.services import self_evaluation_submit

pytestmark = pytest.mark.django_db

LEADER = reverse("workflows:bulk_leader")


def submitted_evaluations(district, n_a, n_b=0):
    for _ in range(n_a):
        district.project(ProjectStage.EXECUTING)
    for _ in range(n_b):
        district.project(ProjectStage.EXECUTING, dept="b")
    out = []
    for se in launch(district).created:
        staff = district.staff_a if se.project.department_id == district.dept_a.pk else district.staff_b
        se = evaluation.self_evaluation_save(evaluation=se, actor=staff, **entries(se))
        out.append(self_evaluation_submit(evaluation=se, actor=staff))
    return sorted(out, key=lambda e: e.pk)


def inbox(user):
    return sorted(str(t.flow_task) for t in task_inbox_for(user))


def test_leader_screen_lists_only_own_department_submissions_by_kind(client, district):
    mine = submitted_evaluations(district, 2, 1)
    target_set = tgt.filed(district, district.project(ProjectStage.TARGET_REVIEW))
    client.force_login(district.leader_a)
    response = client.get(LEADER)
    assert response.status_code == 200
    sections = {s["bulk"].key: s for s in response.context["sections"]}
    own = [e.pk for e in mine if e.project.department_id == district.dept_a.pk]
    assert [obj.pk for obj, _cells in sections["leader_self_evaluations"]["rows"]] == own
    assert [obj.pk for obj, _cells in sections["leader_targets"]["rows"]] == [target_set.pk]
    assert sections["leader_reports"]["rows"] == []


@pytest.mark.parametrize("who", ["staff_a", "finance", "supervisor"])
def test_leader_screen_and_api_refuse_when_the_role_is_not_dept_leader(client, district, who):
    submitted_evaluations(district, 1)
    client.force_login(getattr(district, who))
    assert client.get(LEADER).status_code == 403
    url = reverse("workflows:bulk_action", args=["leader_self_evaluations"])
    assert client.post(url, {"scope": "all"}).status_code == 403
    api = reverse("bulk-action", args=["leader_self_evaluations"])
    assert client.post(api, {"filter": {}}, content_type="application/json").status_code == 403
    assert not SelfEvaluation.objects.filter(status=SelfEvaluationStatus.DEPT_APPROVED).exists()


def test_each_kind_passes_to_finance_when_the_leader_approves_the_ticked_items(
    client, district, django_capture_on_commit_callbacks
):
    evaluations = submitted_evaluations(district, 2, 1)
    target_set = tgt.filed(district, district.project(ProjectStage.TARGET_REVIEW))
    mon.executing(district)
    report = mon.filed(district, mon.open_round(district).created[0])
    other = next(e for e in evaluations if e.project.department_id == district.dept_b.pk)
    own = [e for e in evaluations if e != other]
    Notification.objects.all().delete()
    client.force_login(district.leader_a)
    with django_capture_on_commit_callbacks(execute=True):
        for key, ids in (
            ("leader_self_evaluations", [e.pk for e in own] + [other.pk]),  # B's is silently not selectable
            ("leader_targets", [target_set.pk]),
            ("leader_reports", [report.pk]),
        ):
            response = client.post(reverse("workflows:bulk_action", args=[key]), {"scope": "ticked", "ids": ids})
            assert response.status_code == 302
    jobs = list(Job.objects.order_by("pk"))
    assert [j.status for j in jobs] == [JobStatus.SUCCEEDED] * 3
    assert [j.result["done"] for j in jobs] == [2, 1, 1]
    assert set(SelfEvaluation.objects.filter(pk__in=[e.pk for e in own]).values_list("status", flat=True)) == {
        SelfEvaluationStatus.DEPT_APPROVED
    }
    assert SelfEvaluation.objects.get(pk=other.pk).status == SelfEvaluationStatus.SUBMITTED
    assert TargetSet.objects.get(pk=target_set.pk).status == TargetSetStatus.DEPT_APPROVED
    assert MonitoringReport.objects.get(pk=report.pk).status == ReportStatus.DEPT_APPROVED
    # the flows moved on to the finance section, as the single approvals move them
    assert inbox(district.finance) == sorted(
        [str(SelfEvaluationFlow.finance_review)] * 2
        + [str(TargetReviewFlow.finance_review), str(MonitoringFlow.finance_review)]
    )
    assert inbox(district.leader_a) == []
    for action in ("self_evaluation_dept_approve", "targets_dept_approve", "report_dept_approve"):
        rows = AuditEvent.objects.filter(action=action)
        assert rows.exists() and set(rows.values_list("actor_role", flat=True)) == {"dept_leader"}
    # finance is told once per action (2 self-evaluations: one grouped notice)
    assert Notification.objects.filter(recipient=district.finance).count() == 3
    grouped = Notification.objects.get(recipient=district.finance, params__count=2)
    assert "测试项目" in grouped.params["items"]


def test_statement_count_is_the_same_when_three_or_thirty_are_approved(district):
    evaluations = submitted_evaluations(district, 33)
    counts = []
    for batch in (evaluations[:3], evaluations[3:]):
        with CaptureQueriesContext(connection) as queries:
            outcome = self_evaluations_dept_approve_many(evaluations=batch, actor=district.leader_a)
        assert len(outcome.done) == len(batch)
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_another_departments_item_is_refused_when_passed_to_the_service(district):
    evaluations = submitted_evaluations(district, 1, 1)
    outcome = self_evaluations_dept_approve_many(evaluations=evaluations, actor=district.leader_a)
    assert len(outcome.done) == 1
    ((refused, reason),) = outcome.refused
    assert refused.project.department_id == district.dept_b.pk and "权限" in reason
    assert SelfEvaluation.objects.get(pk=refused.pk).status == SelfEvaluationStatus.SUBMITTED


def test_leader_screen_reads_the_same_statements_when_it_lists_two_or_six_items(client, district):
    evaluations = submitted_evaluations(district, 6)
    client.force_login(district.leader_a)
    client.get(LEADER)  # warm: the first request fills per-process caches (content types, permissions)
    counts = []
    for shown in (2, 6):
        SelfEvaluation.objects.filter(pk__in=[e.pk for e in evaluations[shown:]]).update(
            status=SelfEvaluationStatus.ISSUED
        )
        with CaptureQueriesContext(connection) as queries:
            response = client.get(LEADER)
        assert len(response.context["sections"][0]["rows"]) == shown
        counts.append(len(queries))
        SelfEvaluation.objects.filter(pk__in=[e.pk for e in evaluations]).update(status=SelfEvaluationStatus.SUBMITTED)
    assert counts[0] == counts[1]
