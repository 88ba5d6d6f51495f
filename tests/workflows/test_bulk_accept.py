"""批量确认绩效自评 (bulk accept) as real role users through the screen, the API and the
service: each acceptance exactly as the single one (executed amount, stage, flow ended,
audit row under the finance role), the wrong role refused, a refused item among the
others, one notice per department member, statements independent of the count."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS

from notifications.models import Notification
from processes.models import AuditEvent, BudgetProject, Job, SelfEvaluation
from processes.services import evaluation
from processes.services.audit import audit_verify
from processes.services.evaluation import self_evaluations_accept_many
from processes.services.jobs import job_run
from processes.states import JobStatus, ProjectStage, SelfEvaluationStatus
from tests.workflows.test_evaluation_flow import entries, launch
from workflows.flows import SelfEvaluationFlow
from workflows.models import ProjectProcess
from workflows.services import self_evaluation_dept_review, self_evaluation_review, self_evaluation_submit

pytestmark = pytest.mark.django_db

URL = reverse("workflows:bulk_action", args=["accept_self_evaluations"])
API = reverse("bulk-action", args=["accept_self_evaluations"])


def passed(district, n_a, n_b=0, executed="1100000"):
    """``n_a`` self-evaluations of department A and ``n_b`` of B, passed by their leaders."""
    for _ in range(n_a):
        district.project(ProjectStage.EXECUTING)
    for _ in range(n_b):
        district.project(ProjectStage.EXECUTING, dept="b")
    out = []
    for se in launch(district).created:
        staff, leader = (
            (district.staff_a, district.leader_a)
            if se.project.department_id == district.dept_a.pk
            else (district.staff_b, district.leader_b)
        )
        se = evaluation.self_evaluation_save(evaluation=se, actor=staff, **entries(se, executed=executed))
        se = self_evaluation_submit(evaluation=se, actor=staff)
        out.append(self_evaluation_dept_review(evaluation=se, actor=leader, approve=True))
    return sorted(out, key=lambda e: e.pk)


def test_each_acceptance_is_the_single_one_when_finance_accepts_all_on_screen(
    client, district, django_capture_on_commit_callbacks
):
    evaluations = passed(district, 3, 1)
    client.force_login(district.finance)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, {"scope": "all", "comment": "同意"})
    job = Job.objects.get()
    assert response.status_code == 302
    assert job.status == JobStatus.SUCCEEDED and job.result["done"] == 4 and job.result["refused_count"] == 0
    for se in SelfEvaluation.objects.filter(pk__in=[e.pk for e in evaluations]).select_related("project"):
        assert se.status == SelfEvaluationStatus.ACCEPTED and se.accepted_by == district.finance
        assert se.review_comment == "同意" and se.accepted_at is not None
        assert se.project.stage == ProjectStage.EVALUATED
        assert se.project.executed_amount == Decimal("1100000")
    # the flows ended as the single acceptance ends them: the finance task done, the process done
    processes = ProjectProcess.objects.filter(flow_class=SelfEvaluationFlow)
    assert set(processes.values_list("status", flat=True)) == {PROCESS.DONE}
    assert not Task.objects.filter(process__in=processes, status__in=["NEW", "ASSIGNED"]).exists()
    done = Task.objects.filter(flow_task=SelfEvaluationFlow.finance_review)
    assert set(done.values_list("owner_id", flat=True)) == {district.finance.pk}
    assert Task.objects.filter(flow_task=SelfEvaluationFlow.end, process__in=processes).count() == 4
    accepts = AuditEvent.objects.filter(action="self_evaluation_accept")
    assert accepts.count() == 4 and set(accepts.values_list("actor_role", flat=True)) == {"finance_officer"}
    stages = AuditEvent.objects.filter(action="complete_evaluation")
    assert stages.count() == 4 and set(stages.values_list("actor_role", flat=True)) == {"finance_officer"}
    assert audit_verify() is None


def test_bulk_and_single_acceptance_leave_the_same_rows_when_compared(district):
    one, other = passed(district, 2)
    self_evaluation_review(evaluation=one, actor=district.finance, accept=True)
    self_evaluations_accept_many(evaluations=[other], actor=district.finance)

    def shape(se):
        tasks = Task.objects.filter(process__data__self_evaluation=se.pk).order_by("pk")
        return [(str(t.flow_task), t.flow_task_type, t.status, t.owner_id) for t in tasks]

    assert shape(one) == shape(other)
    a, b = SelfEvaluation.objects.select_related("project").filter(pk__in=[one.pk, other.pk]).order_by("pk")
    assert (a.status, a.project.stage, a.project.executed_amount) == (
        b.status,
        b.project.stage,
        b.project.executed_amount,
    )


@pytest.mark.parametrize("who", ["staff_a", "leader_a", "supervisor", "auditor"])
def test_screen_and_api_refuse_when_the_role_is_not_finance(client, district, who):
    passed(district, 1)
    client.force_login(getattr(district, who))
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"scope": "all"}).status_code == 403
    assert client.post(API, {"filter": {}}, content_type="application/json").status_code == 403
    assert not Job.objects.exists()
    assert not SelfEvaluation.objects.filter(status=SelfEvaluationStatus.ACCEPTED).exists()


def test_a_refused_item_is_listed_with_its_reason_and_untouched_while_the_rest_are_accepted(district):
    evaluations = passed(district, 3)
    taken = self_evaluation_review(evaluation=evaluations[1], actor=district.finance, accept=False, comment="补充材料")
    outcome = self_evaluations_accept_many(evaluations=evaluations, actor=district.finance)
    assert [e.pk for e in outcome.done] == [evaluations[0].pk, evaluations[2].pk]
    ((refused, reason),) = outcome.refused
    assert refused.pk == taken.pk and "已被他人处理" in reason
    taken.refresh_from_db()
    assert taken.status == SelfEvaluationStatus.ISSUED and taken.review_comment == "补充材料"
    assert not AuditEvent.objects.filter(action="self_evaluation_accept", object_id=str(taken.pk)).exists()
    assert BudgetProject.objects.get(pk=taken.project_id).stage == ProjectStage.EVALUATING


def test_job_page_lists_the_refused_item_when_one_was_taken_before_the_job_ran(client, district):
    evaluations = passed(district, 2)
    client.force_login(district.finance)
    response = client.post(API, {"ids": [e.pk for e in evaluations]}, content_type="application/json")
    assert response.status_code == 202
    # queued; meanwhile another officer returns the first
    taken = self_evaluation_review(evaluation=evaluations[0], actor=district.finance, accept=False, comment="退回")
    job = job_run(Job.objects.get().pk)
    assert job.result["done"] == 1 and job.result["refused_count"] == 1
    page = client.get(reverse("processes:job_detail", args=[job.pk])).content.decode()
    assert "未办理的事项" in page and "已被他人处理" in page
    assert client.get(response["Location"]).json()["result"]["refused"][0]["id"] == taken.pk
    # and the API refuses ids that are no longer among those the user may act on
    again = client.post(API, {"ids": [e.pk for e in evaluations]}, content_type="application/json")
    assert again.status_code == 400 and str(taken.pk) in str(again.json())


def test_department_member_gets_one_notice_when_five_of_its_projects_are_accepted(district):
    evaluations = passed(district, 5, 1)
    Notification.objects.all().delete()
    self_evaluations_accept_many(evaluations=evaluations, actor=district.finance)
    for member in (district.staff_a, district.leader_a, district.leader_a2):
        notes = list(Notification.objects.filter(recipient=member).order_by("pk"))
        # one for the acceptance, one for the projects' stage (as the single action tells both)
        assert len(notes) == 2
        assert {n.params["count"] for n in notes} == {5}
    assert Notification.objects.filter(recipient=district.staff_b).count() == 2  # its one item: its own messages
    assert not Notification.objects.filter(recipient=district.finance).exists()


def test_statement_count_is_the_same_when_three_or_thirty_are_accepted(district):
    evaluations = passed(district, 32, 2)
    small = [e for e in evaluations if e.project.department_id == district.dept_a.pk][:3]
    small += [e for e in evaluations if e.project.department_id == district.dept_b.pk][:1]
    large = [e for e in evaluations if e not in small]
    counts = []
    for batch in (small, large):
        with CaptureQueriesContext(connection) as queries:
            outcome = self_evaluations_accept_many(evaluations=batch, actor=district.finance)
        assert not outcome.refused
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_screen_reads_the_same_statements_when_it_lists_two_or_eight_items(client, district):
    evaluations = passed(district, 8)
    client.force_login(district.finance)
    client.get(URL)  # warm: the first request fills per-process caches (content types, permissions)
    counts = []
    for shown in (2, 8):
        SelfEvaluation.objects.filter(pk__in=[e.pk for e in evaluations[shown:]]).update(
            status=SelfEvaluationStatus.SUBMITTED
        )
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL)
        assert len(response.context["rows"]) == shown
        counts.append(len(queries))
        SelfEvaluation.objects.filter(pk__in=[e.pk for e in evaluations]).update(
            status=SelfEvaluationStatus.DEPT_APPROVED
        )
    assert counts[0] == counts[1]


def test_department_b_items_are_filtered_out_when_finance_filters_by_department_a(client, district):
    evaluations = passed(district, 2, 2)
    client.force_login(district.finance)
    response = client.get(URL, {"department": district.dept_a.pk})
    listed = [obj.pk for obj, _cells in response.context["rows"]]
    assert listed == [e.pk for e in evaluations if e.project.department_id == district.dept_a.pk]
