"""Due dates of flow tasks: how near they are (the inboxes' colours) and their reminders
(issue 7, items 4 and 5).

``open_tasks_due`` is a provider of the reminder sweep (processes.services.reminders): it
is registered in ``WorkflowsConfig.ready`` because ``workflows`` imports ``processes``,
never the reverse. Its items are the open human tasks whose due time (TaskDue) falls within
the schedule's horizon; each reminds the people who may take the task now.

Overdue tasks escalate to the supervisors unless ``JIXIAO["REMINDERS"]["ESCALATE_TASKS"]`` is
false (on by default, env ESCALATE_OVERDUE_TASKS; issue 17); overdue rectifications always
escalate (their own provider).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.urls import reverse
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS, STATUS

from accounts.models import User
from processes.reminders import Schedule
from processes.services.reminders import DueItem

from .nodes import task_title_of

#: "Due soon" is within this many days: the reminder schedule's nearer slots (3 and 1 days
#: before). JIXIAO["REMINDERS"]["SOON_DAYS"] overrides it.
SOON_DAYS = 3

OVERDUE = "overdue"
DUE_SOON = "due-soon"


def _reminder_settings() -> dict[str, Any]:
    return getattr(settings, "JIXIAO", {}).get("REMINDERS", {})


def soon_days() -> int:
    return int(_reminder_settings().get("SOON_DAYS", SOON_DAYS))


def escalate_tasks() -> bool:
    """Whether overdue flow tasks escalate to the supervisors (on unless the setting is off)."""
    return bool(_reminder_settings().get("ESCALATE_TASKS", True))


def due_state(due: datetime | None, now: datetime) -> str:
    """``"overdue"`` once past ``due``, ``"due-soon"`` within soon_days() of it, else ``""``
    (also for no due time); the inboxes' row classes."""
    if due is None:
        return ""
    if due < now:
        return OVERDUE
    if due <= now + timedelta(days=soon_days()):
        return DUE_SOON
    return ""


def _people(task: Task) -> list[User]:
    """Who may take the task now: its owner, or everyone in its queue (the node's rule)."""
    eligible = getattr(task.flow_task, "eligible_users", None)
    if eligible is not None:
        return list(eligible(task))
    return [task.owner] if task.owner_id else []


def open_tasks_due(now: datetime, schedule: Schedule) -> Iterable[DueItem]:
    """Open human tasks of running flows due by ``now`` + the longest lead of the schedule.

    One query for any number of tasks (the task, its process, project, department and
    owner joined); whom to tell is asked only for an item with a slot due now (one query for
    a queued task, none for an owned one).
    """
    horizon = now + timedelta(days=max(schedule.before_days, default=0))
    escalates = escalate_tasks()
    tasks = (
        Task.objects.filter(
            flow_task_type="HUMAN",
            status__in=[STATUS.NEW, STATUS.ASSIGNED],
            process__status=PROCESS.NEW,
            due__due_at__lte=horizon,
        )
        .select_related("due", "owner", "process__projectprocess__project__department")
        .defer("process__data")
        .order_by("due__due_at", "pk")
    )
    return _items(tasks, escalates)


def _items(tasks: Iterable[Task], escalates: bool) -> Iterator[DueItem]:
    for task in tasks:
        project = task.process.projectprocess.project
        yield DueItem(
            object_type="viewflow.task",
            object_id=task.pk,
            title=f"{task_title_of(task)}：{project.name}",
            department=project.department.name,
            deadline=task.due.due_at,
            url=reverse("workflows:task", args=[task.pk]),
            assignees=partial(_people, task),
            escalates=escalates,
            since=task.created,
        )
