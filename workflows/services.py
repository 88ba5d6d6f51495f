"""A person's action on a project: its stage transition plus the flow step it belongs to,
in one transaction, under locks taken in one order: project row → flow process row →
audit chain head. The first of two people acting on one task wins; the other is told
(Conflict / ActionNotAllowed → 409), and nothing is created or notified twice.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS, STATUS

from accounts.models import User
from notifications.services import Message
from processes import messages
from processes.errors import Conflict
from processes.models import BudgetProject, Opinion, PanelMember, PreAssessment
from processes.services import pre_assessment as pa_services
from processes.services.projects import AfterTransition, msgid, project_transition
from processes.states import OpinionStatus, ProjectStage

from .flows import PROJECT_FLOWS, PreAssessmentFlow, ProjectIntakeFlow
from .models import ProjectProcess
from .nodes import task_due

OPEN = [STATUS.NEW, STATUS.ASSIGNED]


def _node_for_action(action: str):
    for flow_class in PROJECT_FLOWS:
        for node in flow_class.instance.nodes():
            if action in getattr(node, "actions", ()):
                return node
    return None


def open_project_tasks(project: BudgetProject):
    """The open human tasks of every running flow about ``project``."""
    return (
        Task.objects.filter(
            process__projectprocess__project=project,
            process__status=PROCESS.NEW,
            flow_task_type="HUMAN",
            status__in=OPEN,
        )
        .select_related("owner", "process__projectprocess")
        .order_by("created", "pk")
    )


def _next_actor_messages(project: BudgetProject, process_id: int) -> dict[User, Message]:
    told: dict[User, Message] = {}
    for task in open_project_tasks(project).filter(process_id=process_id):
        node = task.flow_task
        due_at = task_due(task)
        due = timezone.localtime(due_at).date().isoformat() if due_at else ""
        for user in node.eligible_users(task):
            told[user] = messages.task_assigned(msgid(node.task_title), project.name, due)
    return told


def _complete_task(node, project: BudgetProject, actor: User):
    """Claim (if queued) and complete ``project``'s open task of ``node`` for ``actor``."""

    def after(project: BudgetProject) -> dict[User, Message]:
        task = open_project_tasks(project).filter(flow_task=node).first()
        if task is None:
            raise Conflict()
        flow_class = node.flow_class
        with flow_class.lock(task.process_id):
            task = Task.objects.select_related("process").get(pk=task.pk)  # re-read under the lock
            if task.status not in OPEN:
                raise Conflict()
            activation = node.activation_class(task)
            if task.owner_id is None:
                if not node.can_assign(actor, task):
                    raise PermissionDenied(_("您不能办理此任务。"))
                activation.assign(actor)
            elif task.owner_id != actor.pk:
                raise Conflict(_("此任务已由他人认领。"))
            activation.start(None)
            activation.execute()
        return _next_actor_messages(project, task.process_id)

    return after


def _start_intake(project: BudgetProject) -> dict[User, Message]:
    process = ProjectIntakeFlow.start.run(project=project)
    return _next_actor_messages(project, process.pk)


def _cancel_flows(project: BudgetProject) -> dict[User, Message]:
    """Cancel every running flow of the project; tell those whose tasks disappear."""
    told: dict[User, Message] = {}
    to_label = msgid(ProjectStage(project.stage).label)
    for task in open_project_tasks(project):
        for user in task.flow_task.eligible_users(task):
            told[user] = messages.task_cancelled(msgid(task.flow_task.task_title), project.name, to_label)
    for process in ProjectProcess.objects.filter(project=project, status=PROCESS.NEW):
        process.flow_class.instance.cancel(process)
    return told


def _end_project_work(actor: User, comment: str):
    """After a withdrawal or cancellation: every running flow ends, then the open review
    (flow locks before the audit head, the lock order of docs/architecture.md)."""

    def after(project: BudgetProject) -> dict[User, Message]:
        told = _cancel_flows(project)
        pa_services.pre_assessment_cancel_open(project=project, actor=actor, reason=comment)
        return told

    return after


def project_act(*, project: BudgetProject, actor: User, action: str, comment: str = "") -> BudgetProject:
    """Do ``action`` (a project transition's name) on behalf of ``actor``.

    Raises what processes.services.projects.project_transition raises, and Conflict when
    the task was taken by someone else in the meantime.
    """
    after: AfterTransition | None
    if action == "submit":
        after = _start_intake
    elif action in ("withdraw", "cancel"):
        after = _end_project_work(actor, comment)
    else:
        node = _node_for_action(action)
        after = _complete_task(node, project, actor) if node is not None else None
    with transaction.atomic():
        return project_transition(project=project, actor=actor, name=action, comment=comment, after=after)


# -- pre-assessment (DESIGN §3.2) ----------------------------------------------------------


def _pa_process(pa: PreAssessment) -> ProjectProcess | None:
    return (
        ProjectProcess.objects.filter(project_id=pa.project_id, status=PROCESS.NEW, flow_class=PreAssessmentFlow)
        .order_by("-pk")
        .first()
    )


def _finish(node, pa: PreAssessment, actor: User, *, seat: int | None = None) -> None:
    """Claim (if queued) and complete ``pa``'s open task of ``node`` for ``actor`` — under the
    flow lock, after the domain service has decided (its project lock is already held)."""
    process = _pa_process(pa)
    if process is None:
        raise Conflict()
    with PreAssessmentFlow.lock(process.pk):
        tasks = Task.objects.filter(process=process, flow_task=node, status__in=OPEN)
        if seat is not None:
            tasks = tasks.filter(data__seat=seat)
        task = tasks.order_by("pk").first()
        if task is None:
            raise Conflict()
        activation = node.activation_class(task)
        if task.owner_id is None:
            if not node.can_assign(actor, task):
                raise PermissionDenied(_("您不能办理此任务。"))
            activation.assign(actor)
        activation.start(None)
        activation.execute()


def _lock_project(pa: PreAssessment) -> None:
    BudgetProject.objects.select_for_update().filter(pk=pa.project_id).exists()


@transaction.atomic
def pre_assessment_begin(*, project: BudgetProject, actor: User, agency, due_at) -> PreAssessment:
    """Finance commissions the agency: the domain record and the flow that hands out its tasks."""
    pa = pa_services.pre_assessment_start(project=project, actor=actor, agency=agency, due_at=due_at)
    PreAssessmentFlow.start.run(project=pa.project)
    return pa


@transaction.atomic
def pre_assessment_draw(*, pre_assessment: PreAssessment, actor: User, seed: int | None = None) -> PreAssessment:
    """The agency draws the panel; one opinion task per member is handed out."""
    _lock_project(pre_assessment)
    pa = pa_services.pre_assessment_form_panel(pre_assessment=pre_assessment, actor=actor, seed=seed)
    _finish(PreAssessmentFlow.draw, pa, actor)
    return pa


@transaction.atomic
def opinion_submit(*, opinion: Opinion, actor: User, submit: bool = True, **fields) -> Opinion:
    """A member saves or submits their opinion. Submitting completes their task; declaring a
    conflict hands their task to the member drawn in their place."""
    member = opinion.member
    pa = member.pre_assessment
    _lock_project(pa)
    opinion = pa_services.opinion_save(opinion=opinion, actor=actor, submit=submit, **fields)
    if opinion.conflict_declared:
        _reassign_seat(pa, member.seat)
    elif opinion.status == OpinionStatus.SUBMITTED:
        _finish(PreAssessmentFlow.opinion, pa, actor, seat=member.seat)
    return opinion


@transaction.atomic
def panel_member_replace(*, member: PanelMember, actor: User, reason: str) -> PanelMember:
    """The agency replaces a member (reason required); the seat's task follows the seat."""
    _lock_project(member.pre_assessment)
    seat = pa_services.pre_assessment_replace_member(member=member, actor=actor, reason=reason)
    _reassign_seat(member.pre_assessment, member.seat)
    return seat


def _reassign_seat(pa: PreAssessment, seat: int) -> None:
    process = _pa_process(pa)
    holder = PanelMember.objects.get(pre_assessment=pa, seat=seat, active=True)
    if process is None:
        return
    with PreAssessmentFlow.lock(process.pk):
        for task in Task.objects.filter(
            process=process, flow_task=PreAssessmentFlow.opinion, status__in=OPEN, data__seat=seat
        ):
            task.owner_id = holder.user_id
            task.data = {**task.data, "user_id": holder.user_id}
            task.save(update_fields=["owner", "data"])


@transaction.atomic
def pre_assessment_sweep(*, pre_assessment: PreAssessment, now=None) -> bool:
    """At the due date, once the quorum is in: the domain records the missing opinions as
    expired, and their tasks are closed so that the join fires (once)."""
    _lock_project(pre_assessment)
    if not pa_services.pre_assessment_close_due(pre_assessment=pre_assessment, now=now):
        return False
    process = _pa_process(pre_assessment)
    if process is None:
        return True
    with PreAssessmentFlow.lock(process.pk):
        for task in Task.objects.filter(process=process, flow_task=PreAssessmentFlow.opinion, status__in=OPEN):
            task.data = {**task.data, "expired": True}
            task.save(update_fields=["data"])
            activation = task.flow_task.activation_class(task)
            activation.start(None)
            activation.execute()
    return True


def sweep_due_pre_assessments(now=None) -> int:
    """The periodic sweep: every review past its due date with its quorum in moves on."""
    moved = 0
    for pa in pa_services.pre_assessments_due(now):
        moved += pre_assessment_sweep(pre_assessment=pa, now=now)
    return moved


@transaction.atomic
def pre_assessment_propose(*, pre_assessment: PreAssessment, actor: User, **fields) -> PreAssessment:
    _lock_project(pre_assessment)
    pa = pa_services.pre_assessment_conclude(pre_assessment=pre_assessment, actor=actor, **fields)
    _finish(PreAssessmentFlow.conclude, pa, actor)
    return pa


@transaction.atomic
def pre_assessment_decide(
    *, pre_assessment: PreAssessment, actor: User, confirm: bool, reason: str = ""
) -> PreAssessment:
    """The finance officer confirms the conclusion (the project is budgeted or rejected) or
    returns it to the agency, which gets a new conclusion task."""
    _lock_project(pre_assessment)
    if confirm:
        pa = pa_services.pre_assessment_confirm(pre_assessment=pre_assessment, actor=actor)
    else:
        pa = pa_services.pre_assessment_return(pre_assessment=pre_assessment, actor=actor, reason=reason)
    _finish(PreAssessmentFlow.confirm, pa, actor)
    return pa
