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
from processes.models import BudgetProject
from processes.services.projects import AfterTransition, msgid, project_transition
from processes.states import ProjectStage

from .flows import PROJECT_FLOWS, ProjectIntakeFlow
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


def project_act(*, project: BudgetProject, actor: User, action: str, comment: str = "") -> BudgetProject:
    """Do ``action`` (a project transition's name) on behalf of ``actor``.

    Raises what processes.services.projects.project_transition raises, and Conflict when
    the task was taken by someone else in the meantime.
    """
    after: AfterTransition | None
    if action == "submit":
        after = _start_intake
    elif action in ("withdraw", "cancel"):
        after = _cancel_flows
    else:
        node = _node_for_action(action)
        after = _complete_task(node, project, actor) if node is not None else None
    with transaction.atomic():
        return project_transition(project=project, actor=actor, name=action, comment=comment, after=after)
