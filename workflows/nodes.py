"""Flow nodes of our own, on viewflow's open-source base."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.shortcuts import redirect
from django.utils import timezone
from viewflow import this
from viewflow.workflow import flow
from viewflow.workflow.activation import Activation
from viewflow.workflow.exceptions import FlowRuntimeError
from viewflow.workflow.nodes.split import SplitActivation
from viewflow.workflow.nodes.view import ViewActivation

from accounts.models import User
from config.prepared import Prepared
from processes.models import BudgetProject
from processes.selectors import project_visible_to, users_who_see
from processes.services.projects import transition_spec


def _task_page(request, **kwargs):
    """viewflow's own task URL, if ever mounted, leads to our task page."""
    return redirect("workflows:task", pk=kwargs["task_pk"])


def task_due(task) -> datetime | None:
    """The task's due time (aware), as set when it was created; None for tasks without one."""
    raw = (task.data or {}).get("due_at")
    return datetime.fromisoformat(raw) if raw else None


class TaskActions:
    """The actions that complete a task, and their labels. An action that is a project
    transition takes its label from the stage machine; others (a pre-assessment's steps)
    are labelled by the node."""

    actions: list[str]
    labels: dict[str, Any]
    #: The flow's function of (project, task) giving the URL of the page where the task is
    #: done (a pre-assessment, the targets, a report); None: the task page's own forms.
    page: Any = None

    def work_url(self, project, task=None) -> str | None:
        return self.page(project, task) if self.page is not None else None

    def _resolve(self, instance):
        super()._resolve(instance)  # type: ignore[misc]
        if self.page is not None:
            self.page = this.resolve(instance, self.page)

    def action_label(self, name: str) -> str:
        if name in self.labels:
            return str(self.labels[name])
        return str(transition_spec(name).label)


class ProjectTaskActivation(ViewActivation):
    @classmethod
    def create(cls, flow_task, prev_activation, token, data=None, seed=None):
        due = timezone.now() + timedelta(days=settings.JIXIAO["TASK_DUE_DAYS"][flow_task.due_key])
        data = {**(data or {}), "due_at": due.isoformat()}
        return super().create(flow_task, prev_activation, token, data=data, seed=seed)


class ProjectTask(TaskActions, flow.View):
    """A human task on a project, open to every user who holds ``permission`` *and* may see
    the project (so a department leader's queue holds only their department's projects).

    The first eligible user to act claims and completes it in one locked step
    (workflows.services); ``actions`` are the project transitions that complete it.
    """

    activation_class = ProjectTaskActivation

    def __init__(self, *, title, permission: str, actions: list[str], due_key: str, labels=None, page=None):
        super().__init__(_task_page)
        self.Annotation(title=title)
        self.Permission(permission)
        self.actions = actions
        self.labels = labels or {}
        self.due_key = due_key
        self.page = page

    def project_of(self, task):
        return task.process.projectprocess.project

    def can_assign(self, user, task) -> bool:
        return super().can_assign(user, task) and project_visible_to(user, self.project_of(task))

    def eligible_users(self, task) -> list[User]:
        """Who may take this task now (its owner, or everyone in its queue)."""
        if task.owner_id:
            return [task.owner]
        project = self.project_of(task)
        app_label, codename = task.owner_permission.split(".", 1)
        return list(
            _QUEUE_HOLDERS(
                app_label=app_label, codename=codename, project_id=project.pk, department_id=project.department_id
            )
        )


def _queue_holders(*, app_label: str, codename: str, project_id: int, department_id: int):
    """The active holders of a permission (by their roles or their own) who see the project."""
    project = BudgetProject(pk=project_id, department_id=department_id)
    return (
        User.objects.with_perm(
            f"{app_label}.{codename}",
            is_active=True,
            include_superusers=False,
            backend="django.contrib.auth.backends.ModelBackend",
        )
        .filter(pk__in=users_who_see(project).values("pk"))
        .distinct()
    )


#: compiled once: it is asked after every task completion, and compiling its conditions
#: cost ~6 ms against 0.3 ms to run it (config/prepared.py)
_QUEUE_HOLDERS = Prepared(_queue_holders, app_label=str, codename=str, project_id=int, department_id=int)


class ForEachSplitActivation(SplitActivation):
    @Activation.status.super()
    def activate(self):
        """One next task per item (``task.data`` = the item), for each branch whose case holds."""
        items = list(self.flow_task._items(self))
        if not items:
            raise FlowRuntimeError(f"{self.flow_task.name}: no items to fan out")
        for node, cond, _ in self.flow_task._branches:
            if not cond or cond(self):
                self.next_tasks += [(node, item) for item in items]


class ForEachSplit(flow.Split):
    """A parallel split with one branch instance per item of ``items(activation)`` — the
    per-item split viewflow keeps in its PRO edition (notes/viewflow-2.4.md §1.3)."""

    activation_class = ForEachSplitActivation

    def __init__(self, items, **kwargs):
        super().__init__(**kwargs)
        self._items = items

    def _resolve(self, instance):
        super()._resolve(instance)
        self._items = this.resolve(instance, self._items)


class SeatTask(TaskActions, flow.View):
    """A human task owned by one person named in its ``task.data["user_id"]`` (a panel seat);
    completed through workflows.services, reassigned when the seat changes hands."""

    def __init__(self, *, title, actions: list[str], labels=None, page=None, kind_titles=None):
        super().__init__(_task_page)
        self.Annotation(title=title)
        self.kind_titles = kind_titles or {}  # the seat holder's kind → its own title (a deputy's review)
        self.Assign(lambda activation: User.objects.get(pk=activation.task.data["user_id"]))
        self.actions = actions
        self.labels = labels or {}
        self.page = page

    def project_of(self, task):
        return task.process.projectprocess.project

    def eligible_users(self, task) -> list[User]:
        return [task.owner] if task.owner_id else []


def task_title_of(task):
    """A task's title as people see it: a seat task says whose review it is (人大代表评审意见
    for a deputy's seat, from ``task.data["kind"]``); every other task its node's title."""
    node = task.flow_task
    kind = (task.data or {}).get("kind") if isinstance(task.data, dict) else None
    return getattr(node, "kind_titles", {}).get(kind, node.task_title)
