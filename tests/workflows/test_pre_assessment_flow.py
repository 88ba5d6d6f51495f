"""The pre-assessment flow as real role users: tasks handed out, completed once, routed on the domain."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS, STATUS

from notifications.models import Notification
from processes.models import BudgetProject, PanelMember, PreAssessment
from processes.services import pre_assessment as pa_services
from processes.states import Conclusion, OpinionStatus, PreAssessmentStatus, ProjectStage, TargetSetStatus
from tests.processes.test_pre_assessment import FULL_SCORES, REQUESTED, Review
from workflows.flows import PreAssessmentFlow
from workflows.models import ProjectProcess
from workflows.selectors import task_inbox_for
from workflows.services import (
    opinion_submit,
    pre_assessment_begin,
    pre_assessment_decide,
    pre_assessment_draw,
    pre_assessment_propose,
    pre_assessment_sweep,
    project_act,
)


@pytest.fixture
def review(district):
    return Review(district)


def begin(review) -> PreAssessment:
    return pre_assessment_begin(
        project=review.project, actor=review.d.finance, agency=review.agency, due_at=timezone.now() + timedelta(days=7)
    )


def open_tasks(name):
    return Task.objects.filter(flow_task=getattr(PreAssessmentFlow, name), status__in=[STATUS.NEW, STATUS.ASSIGNED])


def seated(pa):
    return list(PanelMember.objects.filter(pre_assessment=pa, active=True).select_related("user", "opinion"))


def submit(member, recommendation=Conclusion.PARTIAL, amount="30000000"):
    return opinion_submit(
        opinion=member.opinion,
        actor=member.user,
        scores=FULL_SCORES,
        recommendation=recommendation,
        recommended_amount=amount,
        text="意见",
    )


@pytest.mark.parametrize(
    ("conclusion", "amount", "stage"),
    [
        (Conclusion.SUPPORT, REQUESTED, ProjectStage.BUDGETED),
        (Conclusion.PARTIAL, Decimal("20000000.00"), ProjectStage.BUDGETED),
        (Conclusion.REJECT, Decimal("0"), ProjectStage.REJECTED),
    ],
)
def test_whole_flow_ends_with_the_project_decided_when_each_role_acts(review, conclusion, amount, stage):
    if stage == ProjectStage.BUDGETED:
        review.d.approve_targets(review.project)  # targets first: the confirmation budgets it
    pa = begin(review)
    [draw] = task_inbox_for(review.staff)
    assert draw.flow_task is PreAssessmentFlow.draw
    assert list(task_inbox_for(review.outsider_staff)) == []

    pa = pre_assessment_draw(pre_assessment=pa, actor=review.staff)
    members = seated(pa)
    assert open_tasks("opinion").count() == 5
    for m in members:  # each member's inbox holds exactly their own opinion task
        [task] = task_inbox_for(m.user)
        assert task.owner == m.user and task.data["seat"] == m.seat
    not_seated = [u for u in review.experts if u not in {m.user for m in members}]
    assert all(list(task_inbox_for(u)) == [] for u in not_seated)

    for m in members:
        submit(m, recommendation=conclusion, amount=str(amount))
    assert open_tasks("opinion").count() == 0
    assert Task.objects.filter(flow_task=PreAssessmentFlow.join, status=STATUS.DONE).count() == 1
    [conclude] = task_inbox_for(review.staff)
    assert conclude.flow_task is PreAssessmentFlow.conclude

    pa = pre_assessment_propose(
        pre_assessment=pa, actor=review.staff, conclusion=conclusion, approved_amount=amount, reasons="依据评审意见"
    )
    [confirm] = task_inbox_for(review.d.finance)
    assert confirm.flow_task is PreAssessmentFlow.confirm
    pre_assessment_decide(pre_assessment=pa, actor=review.d.finance, confirm=True)

    assert BudgetProject.objects.get(pk=review.project.pk).stage == stage
    process = ProjectProcess.objects.get(project=review.project, flow_class=PreAssessmentFlow)
    assert process.status == PROCESS.DONE
    # nothing is left running: the targets' review ended too (approved, or cancelled with the project)
    assert not ProjectProcess.objects.filter(project=review.project, status=PROCESS.NEW).exists()
    [targets] = review.project.target_sets.all()
    assert targets.status == (TargetSetStatus.APPROVED if stage == ProjectStage.BUDGETED else TargetSetStatus.CANCELLED)


def test_returned_conclusion_comes_back_to_the_agency_when_finance_returns_it(review):
    pa = pre_assessment_draw(pre_assessment=begin(review), actor=review.staff)
    for m in seated(pa):
        submit(m)
    pa = pre_assessment_propose(
        pre_assessment=pa, actor=review.staff, conclusion=Conclusion.SUPPORT, approved_amount=REQUESTED, reasons="r"
    )
    pa = pre_assessment_decide(pre_assessment=pa, actor=review.d.finance, confirm=False, reason="请说明核减依据")
    assert pa.status == PreAssessmentStatus.OPINIONS_COLLECTED
    [again] = task_inbox_for(review.staff)
    assert again.flow_task is PreAssessmentFlow.conclude


def test_join_fires_once_with_expired_opinions_when_quorum_is_in_at_due_date(review):
    pa = pre_assessment_draw(pre_assessment=begin(review), actor=review.staff)
    members = seated(pa)
    for m in members[:3]:
        submit(m)
    assert pre_assessment_sweep(pre_assessment=pa) is False  # before the due date
    assert pre_assessment_sweep(pre_assessment=pa, now=pa.due_at + timedelta(minutes=1)) is True
    assert open_tasks("opinion").count() == 0
    assert Task.objects.filter(flow_task=PreAssessmentFlow.join).count() == 1
    assert open_tasks("conclude").count() == 1
    expired = [m.user_id for m in members[3:]]
    assert all(
        PanelMember.objects.get(pre_assessment=pa, user_id=u).opinion.status == OpinionStatus.EXPIRED for u in expired
    )


def test_seat_task_follows_the_replacement_when_a_member_declares_a_conflict(review):
    pa = pre_assessment_draw(pre_assessment=begin(review), actor=review.staff)
    leaving = next(m for m in seated(pa) if m.kind == "expert")
    opinion_submit(
        opinion=leaving.opinion,
        actor=leaving.user,
        submit=False,
        scores={},
        conflict_declared=True,
        conflict_note="亲属",
    )
    assert list(task_inbox_for(leaving.user)) == []
    newcomer = PanelMember.objects.get(pre_assessment=pa, seat=leaving.seat, active=True)
    [task] = task_inbox_for(newcomer.user)
    assert task.data["seat"] == leaving.seat
    submit(newcomer)


def test_other_members_task_cannot_be_done_when_someone_else_posts(review):
    pa = pre_assessment_draw(pre_assessment=begin(review), actor=review.staff)
    first, second = seated(pa)[:2]
    with pytest.raises(PermissionDenied):
        opinion_submit(opinion=first.opinion, actor=second.user, scores=FULL_SCORES)


def test_review_and_its_tasks_end_when_the_project_is_withdrawn(review):
    pa = pre_assessment_draw(pre_assessment=begin(review), actor=review.staff)
    project_act(project=review.project, actor=review.d.staff_a, action="withdraw", comment="不再实施")
    pa.refresh_from_db()
    assert pa.status == PreAssessmentStatus.CANCELLED
    assert open_tasks("opinion").count() == 0
    assert ProjectProcess.objects.get(project=review.project, flow_class=PreAssessmentFlow).status == PROCESS.CANCELED


def test_periodic_sweep_moves_due_reviews_when_it_runs(review, monkeypatch):
    from workflows.tasks import sweep_pre_assessments

    pa = pre_assessment_draw(pre_assessment=begin(review), actor=review.staff)
    for m in seated(pa)[:3]:
        submit(m)
    assert sweep_pre_assessments.apply().get() == 0
    PreAssessment.objects.filter(pk=pa.pk).update(due_at=timezone.now() - timedelta(minutes=1))
    assert sweep_pre_assessments.apply().get() == 1
    pa.refresh_from_db()
    assert pa.status == PreAssessmentStatus.OPINIONS_COLLECTED


def test_processes_services_move_the_flow_tasks_when_called_directly(review):
    """The flow steps are registered on the domain's transitions (workflows/steps), so the
    processes services alone leave no task open and open the next ones."""
    pa = begin(review)
    pa = pa_services.pre_assessment_form_panel(pre_assessment=pa, actor=review.staff)
    assert open_tasks("draw").count() == 0
    assert open_tasks("opinion").count() == 5
    members = seated(pa)
    pa_services.pre_assessment_replace_member(member=members[0], actor=review.staff, reason="出差无法参加")
    newcomer = PanelMember.objects.get(pre_assessment=pa, seat=members[0].seat, active=True)
    [task] = task_inbox_for(newcomer.user)
    assert task.data["seat"] == newcomer.seat
    for m in seated(pa)[:3]:
        pa_services.opinion_save(
            opinion=m.opinion,
            actor=m.user,
            scores=FULL_SCORES,
            recommendation=Conclusion.SUPPORT,
            recommended_amount=str(REQUESTED),
            submit=True,
        )
    assert open_tasks("opinion").count() == 2
    assert pa_services.pre_assessment_close_due(pre_assessment=pa, now=pa.due_at + timedelta(minutes=1)) is True
    assert open_tasks("opinion").count() == 0
    [conclude] = task_inbox_for(review.staff)
    assert conclude.flow_task is PreAssessmentFlow.conclude
    pa = pa_services.pre_assessment_conclude(
        pre_assessment=pa, actor=review.staff, conclusion=Conclusion.SUPPORT, approved_amount=REQUESTED, reasons="r"
    )
    assert open_tasks("conclude").count() == 0
    [confirm] = task_inbox_for(review.d.finance)
    assert confirm.flow_task is PreAssessmentFlow.confirm
    pa = pa_services.pre_assessment_return(pre_assessment=pa, actor=review.d.finance, reason="请说明依据")
    assert open_tasks("confirm").count() == 0 and open_tasks("conclude").count() == 1


def test_review_flow_ends_and_the_agency_is_told_when_the_review_is_cancelled_directly(review):
    pa = begin(review)
    assert open_tasks("draw").count() == 1
    pa_services.pre_assessment_cancel_open(project=review.project, actor=review.d.finance, reason="项目调整")
    pa.refresh_from_db()
    assert pa.status == PreAssessmentStatus.CANCELLED
    assert ProjectProcess.objects.get(project=review.project, flow_class=PreAssessmentFlow).status == PROCESS.CANCELED
    assert open_tasks("draw").count() == 0
    assert Notification.objects.filter(
        recipient=review.staff, kind="task_cancelled", object_type="processes.preassessment", object_id=str(pa.pk)
    ).exists()
