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
from config.prepared import PreparedModels
from notifications.services import Message, board_changed, notify
from processes import messages
from processes.errors import Conflict
from processes.models import (
    BudgetProject,
    MonitoringReport,
    Opinion,
    PreAssessment,
    TargetSet,
)
from processes.services import evaluation as evaluation_services
from processes.services import monitoring as monitoring_services
from processes.services import pre_assessment as pa_services
from processes.services import targets as target_services
from processes.services.projects import AfterTransition, msgid, project_transition
from processes.states import ProjectStage

from .bulk import bulk_start
from .flows import (
    PROJECT_FLOWS,
    MonitoringFlow,
    PreAssessmentFlow,
    ProjectIntakeFlow,
    TargetReviewFlow,
)
from .models import ProjectProcess, TaskDue
from .nodes import task_due, task_title_of

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
        .select_related("owner", "process__projectprocess__project")
        .order_by("created", "pk")
    )


#: open_project_tasks(project) of one process, compiled once (run on every completion)
_OPEN_TASKS_OF_PROCESS = PreparedModels(
    lambda project_id, process_id: open_project_tasks(BudgetProject(pk=project_id)).filter(process_id=process_id),
    project_id=int,
    process_id=int,
)


def _next_actor_messages(project: BudgetProject, process_id: int) -> dict[User, Message]:
    told: dict[User, Message] = {}
    for task in _OPEN_TASKS_OF_PROCESS(project_id=project.pk, process_id=process_id):
        node = task.flow_task
        due_at = task_due(task)
        due = timezone.localtime(due_at).date().isoformat() if due_at else ""
        for user in node.eligible_users(task):
            told[user] = messages.task_assigned(msgid(task_title_of(task)), project.name, due)
    return told


def _do_task(node, task: Task, actor: User) -> None:
    """Claim ``task`` for ``actor`` if it is still queued, then complete it (under the flow
    lock, which the caller holds). The claim is written with the completion: viewflow's
    ``assign`` saves the task and ``complete`` saves it again, two UPDATEs of one row in
    one transaction, of which nobody can see the first."""
    activation = node.activation_class(task)
    if task.owner_id is None:
        if not node.can_assign(actor, task):
            raise PermissionDenied(_("您不能办理此任务。"))
        task.save = _unsaved
        try:
            activation.assign(actor)
        finally:
            del task.save
    elif task.owner_id != actor.pk:
        raise Conflict(_("此任务已由他人认领。"))
    activation.start(None)
    activation.execute()


def _unsaved(*args, **kwargs) -> None:
    """A task's save that writes nothing (see _do_task)."""


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
            _do_task(node, task, actor)
        board_changed("task_done")
        return _next_actor_messages(project, task.process_id)

    return after


def _start_intake(project: BudgetProject) -> dict[User, Message]:
    process = ProjectIntakeFlow.start.run(project=project)
    return _next_actor_messages(project, process.pk)


def _cancel_flows(project: BudgetProject, only=None) -> dict[User, Message]:
    """Cancel every running flow of the project (or only those of the flow class ``only``);
    tell those whose tasks disappear."""
    told: dict[User, Message] = {}
    to_label = msgid(ProjectStage(project.stage).label)
    processes = ProjectProcess.objects.filter(project=project, status=PROCESS.NEW)
    tasks = open_project_tasks(project)
    if only is not None:
        processes = processes.filter(flow_class=only)
        tasks = tasks.filter(process__flow_class=only)
    for task in tasks:
        for user in task.flow_task.eligible_users(task):
            told[user] = messages.task_cancelled(msgid(task.flow_task.task_title), project.name, to_label)
    for process in processes:
        process.flow_class.instance.cancel(process)
    return told


def _end_project_work(actor: User, comment: str):
    """After a withdrawal or cancellation: every running flow ends, then the open review
    and the open targets (flow locks before the audit head, the lock order of
    docs/architecture.md)."""

    def after(project: BudgetProject) -> dict[User, Message]:
        told = _cancel_flows(project)
        pa_services.pre_assessment_cancel_open(project=project, actor=actor, reason=comment)
        target_services.target_cancel_open(project=project, actor=actor, reason=comment)
        monitoring_services.reports_cancel_open(project=project, actor=actor, reason=comment)
        evaluation_services.self_evaluations_cancel_open(project=project, actor=actor, reason=comment)
        return told

    return after


def _route(node, project: BudgetProject, actor: User) -> AfterTransition:
    """Finance routes the project (to pre-assessment or target review): its intake task is
    done, and the department is asked for its targets — the targets' review runs beside
    the pre-assessment, and the project is budgeted when both are through."""
    complete = _complete_task(node, project, actor)

    def after(project: BudgetProject) -> dict[User, Message]:
        told = complete(project)
        told.update(_start_targets(project, target_services.target_draft_open(project=project)))
        return told

    return after


def _start_targets(project: BudgetProject, target_set: TargetSet) -> dict[User, Message]:
    process = TargetReviewFlow.start.run(project=project, target_set=target_set)
    return _next_actor_messages(project, process.pk)


def project_act(*, project: BudgetProject, actor: User, action: str, comment: str = "") -> BudgetProject:
    """Do ``action`` (a project transition's name) on behalf of ``actor``: the transition
    and its flow step (workflows.steps.project), in one transaction.

    Raises what processes.services.projects.project_transition raises, and Conflict when
    the task was taken by someone else in the meantime.
    """
    return project_transition(project=project, actor=actor, name=action, comment=comment)


# -- pre-assessment (DESIGN §3.2) ----------------------------------------------------------


#: _running_process and _finish_task's task without ``data``/``seat``, compiled once per
#: flow class and node (their queries on every completion)
_RUNNING_PROCESS: dict[type, PreparedModels] = {}
_OPEN_TASK_OF_NODE: dict[object, PreparedModels] = {}


def _running_process(project_id: int, flow_class, data: dict | None = None) -> ProjectProcess | None:
    """The project's running process of ``flow_class`` — the one whose ``process.data``
    holds ``data`` when a project runs several (one monitoring report per round)."""
    if not data:
        prepared = _RUNNING_PROCESS.get(flow_class)
        if prepared is None:
            prepared = _RUNNING_PROCESS[flow_class] = PreparedModels(
                lambda project_id: ProjectProcess.objects.filter(
                    project_id=project_id, status=PROCESS.NEW, flow_class=flow_class
                ).order_by("-pk")[:1],
                project_id=int,
            )
        return next(iter(prepared(project_id=project_id)), None)
    if all(type(v) in (int, str) and k.isidentifier() and "__" not in k for k, v in data.items()):
        # the project's running processes of the flow (one per self-evaluation or round: a
        # few), compiled once, matched in Python as the JSON lookup matches: same type, same value
        prepared = _RUNNING_PROCESSES.get(flow_class)
        if prepared is None:
            prepared = _RUNNING_PROCESSES[flow_class] = PreparedModels(
                lambda project_id: ProjectProcess.objects.filter(
                    project_id=project_id, status=PROCESS.NEW, flow_class=flow_class
                ).order_by("-pk"),
                project_id=int,
            )
        for process in prepared(project_id=project_id):
            held = process.data if isinstance(process.data, dict) else {}
            if all(
                key in held and type(held[key]) is type(value) and held[key] == value for key, value in data.items()
            ):
                return process
        return None
    processes = ProjectProcess.objects.filter(project_id=project_id, status=PROCESS.NEW, flow_class=flow_class)
    for key, value in data.items():
        processes = processes.filter(**{f"data__{key}": value})
    return processes.order_by("-pk").first()


#: every running process of a project's flow, newest first (the lookup by ``data``)
_RUNNING_PROCESSES: dict[object, PreparedModels] = {}


def _finish_task(
    node, project_id: int, actor: User, *, seat: int | None = None, data: dict | None = None
) -> ProjectProcess:
    """Claim (if queued) and complete the project's open task of ``node`` for ``actor`` —
    under the flow lock, after the domain service has decided (its project lock is
    already held). Conflict if there is no such open task (someone else did it)."""
    flow_class = node.flow_class
    process = _running_process(project_id, flow_class, data)
    if process is None:
        raise Conflict()
    with flow_class.lock(process.pk):
        # the activation and the node read the task's process (coerced to the project
        # process) and its project: one query with the task, not three after it
        if seat is None:
            task = next(iter(_open_task_of_node(node)(process_id=process.pk)), None)
        else:
            tasks = Task.objects.filter(process=process, flow_task=node, status__in=OPEN).select_related(
                "process__projectprocess__project"
            )
            task = tasks.filter(data__seat=seat).order_by("pk").first()
        if task is None:
            raise Conflict()
        _do_task(node, task, actor)
    board_changed("task_done")  # the deadline boards list open tasks
    return process


def _open_task_of_node(node) -> PreparedModels:
    """The process's first open task of ``node``, with its process (coerced to the project
    process) and project: the activation and the node read them."""
    prepared = _OPEN_TASK_OF_NODE.get(node)
    if prepared is None:
        prepared = _OPEN_TASK_OF_NODE[node] = PreparedModels(
            lambda process_id: (
                Task.objects.filter(process_id=process_id, flow_task=node, status__in=OPEN)
                .select_related("process__projectprocess__project")
                .order_by("pk")[:1]
            ),
            process_id=int,
        )
    return prepared


@transaction.atomic
def pre_assessment_begin(*, project: BudgetProject, actor: User, agency, due_at) -> PreAssessment:
    """Finance commissions the agency: the domain record and the flow that hands out its tasks."""
    pa = pa_services.pre_assessment_start(project=project, actor=actor, agency=agency, due_at=due_at)
    PreAssessmentFlow.start.run(project=pa.project)
    return pa


# The review's other steps are the domain's services themselves: each runs its flow step
# (workflows/steps/pre_assessment.py) inside the transition. These names stay for the
# screens, the API and the demo.
pre_assessment_draw = pa_services.pre_assessment_form_panel
panel_member_replace = pa_services.pre_assessment_replace_member
pre_assessment_propose = pa_services.pre_assessment_conclude
pre_assessment_sweep = pa_services.pre_assessment_close_due


def opinion_submit(*, opinion: Opinion, actor: User, submit: bool = True, **fields) -> Opinion:
    """A member saves or submits their opinion (declaring a conflict hands their seat, and
    its task, to the member drawn in their place)."""
    return pa_services.opinion_save(opinion=opinion, actor=actor, submit=submit, **fields)


def sweep_due_pre_assessments(now=None) -> int:
    """The periodic sweep: every review past its due date with its quorum in moves on."""
    moved = 0
    for pa in pa_services.pre_assessments_due(now):
        moved += pa_services.pre_assessment_close_due(pre_assessment=pa, now=now)
    return moved


def pre_assessment_decide(
    *, pre_assessment: PreAssessment, actor: User, confirm: bool, reason: str = ""
) -> PreAssessment:
    """The finance officer confirms the conclusion (the project is budgeted or rejected) or
    returns it to the agency, which gets a new conclusion task."""
    if confirm:
        return pa_services.pre_assessment_confirm(pre_assessment=pre_assessment, actor=actor)
    return pa_services.pre_assessment_return(pre_assessment=pre_assessment, actor=actor, reason=reason)


# -- performance targets (DESIGN §3.3) ------------------------------------------------------
#
# A target version's and a monitoring report's transitions complete their flow tasks by
# the flow steps registered in workflows/steps/ (targets.py, monitoring.py): the processes
# services are the entry points, and the names below stay as their aliases.

targets_submit = target_services.target_submit
targets_save_and_submit = target_services.target_save_and_submit
targets_dept_review = target_services.target_dept_review
targets_rate = target_services.target_rate


@transaction.atomic
def targets_change_request(*, project: BudgetProject, actor: User, reason: str) -> TargetSet:
    """A change to approved targets: a new version to edit, and its review flow."""
    target_set = target_services.target_change_open(project=project, actor=actor, reason=reason)
    told = _start_targets(target_set.project, target_set)
    told.pop(actor, None)
    if told:
        notify(messages=told, event_key=f"targets-change:{target_set.pk}", url=target_set.get_absolute_url())
    return target_set


# -- monitoring rounds (DESIGN §3.4) ------------------------------------------------------


def _start_report_flows(round_, reports: list[MonitoringReport]) -> None:
    bulk_start(
        MonitoringFlow,
        MonitoringFlow.fill,
        [(r.project_id, {"report": r.pk}) for r in reports],
        due_at=round_.due_at,
    )


def _move_report_dues(round_, report_ids: list[int]) -> None:
    """A reopened round's due date moved: its reports' open 填报 tasks are due then too."""
    tasks = list(
        Task.objects.filter(
            process__flow_class=MonitoringFlow,
            process__status=PROCESS.NEW,
            process__data__report__in=report_ids,
            flow_task=MonitoringFlow.fill,
            status__in=OPEN,
        ).only("pk", "data")
    )
    for task in tasks:
        task.data = {**(task.data or {}), "due_at": round_.due_at.isoformat()}
    Task.objects.bulk_update(tasks, ["data"], batch_size=500)
    TaskDue.objects.filter(task_id__in=[t.pk for t in tasks]).update(due_at=round_.due_at)


def monitoring_round_open(*, actor: User, progress=None, **round_fields) -> monitoring_services.Opened:
    """Open (or extend) a round: the reports in bulk, and one MonitoringFlow per new report
    waiting at its department's 填报 task, due at the round's due date — in one transaction
    that takes seconds for thousands of projects (workflows.bulk). Reopened with a new due
    date, the open 填报 tasks move to it."""
    return monitoring_services.round_open(
        actor=actor, progress=progress, after=_start_report_flows, after_move=_move_report_dues, **round_fields
    )


def monitoring_round_job(job, progress) -> dict:
    """The background job behind the round form (kind "monitoring_round_open")."""
    from datetime import datetime

    params = dict(job.params)
    params["due_at"] = datetime.fromisoformat(params["due_at"])
    opened = monitoring_round_open(actor=job.created_by, progress=progress, **params)
    return {"round": opened.round.pk, "created": len(opened.created), "already": opened.already}


monitoring_submit = monitoring_services.report_submit
monitoring_save_and_submit = monitoring_services.report_save_and_submit
monitoring_dept_review = monitoring_services.report_dept_review
monitoring_review = monitoring_services.report_review
monitoring_dispose = monitoring_services.report_dispose


def _step(node, actor: User, *, by_record: str | None = None):
    """The ``after`` hook of a sub-process service not yet converted to registered flow
    steps (workflows/steps/): complete ``node``'s task for ``actor`` and return the next
    actors' messages (empty when the flow ends). ``by_record`` names the process-data key
    holding the record's id when a project runs several processes of the flow at once."""

    def after(record) -> dict[User, Message]:
        data = {by_record: record.pk} if by_record else None
        process = _finish_task(node, record.project_id, actor, data=data)
        return _next_actor_messages(record.project, process.pk)

    return after


# -- evaluation (DESIGN §3.5) ----------------------------------------------------------------


#: Launch (or extend) the year's self-evaluation: the self-evaluations in bulk and one
#: SelfEvaluationFlow per project waiting at its department's 填报 task, due at the launch's
#: due date (the bulk start registered in workflows.steps.evaluation).
campaign_launch = evaluation_services.campaign_launch


def campaign_job(job, progress) -> dict:
    """The background job behind the campaign form (kind "evaluation_campaign_launch")."""
    from datetime import datetime

    params = dict(job.params)
    params["due_at"] = datetime.fromisoformat(params["due_at"])
    launched = campaign_launch(actor=job.created_by, progress=progress, **params)
    return {"campaign": launched.campaign.pk, "created": len(launched.created), "already": launched.already}


# The self-evaluation's decisions are processes.services.evaluation's own: the flow step
# each one completes is registered in workflows.steps.evaluation. The names stay here for
# the callers that have always used them.
self_evaluation_submit = evaluation_services.self_evaluation_submit
self_evaluation_dept_review = evaluation_services.self_evaluation_dept_review
self_evaluation_review = evaluation_services.self_evaluation_review
