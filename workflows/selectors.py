"""Task reads with the visibility rules: a user's flow tasks are the tasks assigned to them
plus the queued tasks they hold the permission for *on projects they may see*
(task_inbox_for); their inbox is those tasks and the state-machine steps that are theirs,
in one list with the same columns (inbox_for, issue 17)."""

from __future__ import annotations

import heapq
from bisect import bisect_left
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, overload

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import F, Q, QuerySet
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.translation import get_language
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS, STATUS

from accounts.models import User
from accounts.roles import ROLE_PERMISSIONS, role_labels
from config.prepared import compiled_queries
from processes.models import BudgetProject
from processes.selectors import EvaluationWork, evaluation_work_for, project_list_for, user_shape

from .reminders import due_state
from .task_status import ASSIGNED, QUEUED, task_state, task_state_label

#: How an inbox may be sorted: by creation (the default) or by due time, tasks without one last.
INBOX_ORDER = {
    "created": ("created", "pk"),
    "due": (F("due_at").asc(nulls_last=True), "created", "pk"),
    "-due": (F("due_at").desc(nulls_last=True), "created", "pk"),
}


def task_inbox_for(user: User | AnonymousUser, *, sort: str = "created") -> QuerySet[Task]:
    """The user's open tasks, each annotated with ``due_at`` (its TaskDue, or None), in the
    order ``sort`` names (a key of INBOX_ORDER; anything else: by creation)."""
    if not user.is_authenticated:
        return Task.objects.none()
    # a superuser is a system account: it holds no business permission (三员分立)
    perms = set() if user.is_superuser else user.get_all_permissions()
    return (
        Task.objects.filter(flow_task_type="HUMAN", process__status=PROCESS.NEW)
        .filter(
            Q(owner=user, status=STATUS.ASSIGNED)
            | Q(
                owner__isnull=True,
                status=STATUS.NEW,
                owner_permission__in=perms,
                process__projectprocess__project__in=project_list_for(user).values("pk"),
            )
        )
        # the process data too: a row's work page is named there (a report, a self-evaluation).
        # Not the owner: it is ``user`` or nobody (with_owner sets it). Joined, it let
        # PostgreSQL pick a nested loop over every user for each open task once the finished
        # flows' tasks outnumber the open ones 1,000 to 1 (issue 20, the city scale).
        .select_related("process__projectprocess__project__department")
        .annotate(due_at=F("due__due_at"))
        .order_by(*INBOX_ORDER.get(sort, INBOX_ORDER["created"]))
    )


def with_owner(tasks: list[Task], user: User | AnonymousUser) -> list[Task]:
    """Tasks of task_inbox_for(user) with their owner set without a query: a task there is
    either queued (no owner) or assigned to ``user``."""
    for task in tasks:
        if task.owner_id == user.pk:
            Task.owner.field.set_cached_value(task, user)
    return tasks


def task_get_for(user: User | AnonymousUser, pk) -> Task:
    from django.shortcuts import get_object_or_404

    return with_owner([get_object_or_404(task_inbox_for(user), pk=pk)], user)[0]


def task_get_visible_to(user: User, pk) -> Task:
    """Any human task, open or done, of a project ``user`` may see; 404 otherwise.

    The inbox answers only open tasks the user may take; this lets a task page tell
    "someone else already did it" (409) and "not yours" (403) from "no such task" (404).
    """
    from django.shortcuts import get_object_or_404

    return get_object_or_404(
        Task.objects.filter(
            flow_task_type="HUMAN",
            process__projectprocess__project__in=project_list_for(user).values("pk"),
        ).select_related("process__projectprocess__project__department", "owner"),
        pk=pk,
    )


# -- the one inbox (issue 17, item 4) ----------------------------------------------------

#: ``kind`` of an inbox row: a viewflow task, or a state-machine step (decision 0009)
TASK = "task"
STEP = "step"
KINDS = (TASK, STEP)

#: How the one inbox may be sorted; due date first is the default.
INBOX_SORTS = ("due", "-due", "created")
DEFAULT_SORT = "due"


@dataclass
class InboxRow:
    """One waiting step as the inbox shows it, whether a flow task or a state-machine step:
    the same columns for both (what it is about, what is asked, by when, where to do it)."""

    kind: str  # TASK or STEP
    key: str  # unique across kinds: "task-12", "recheck-5" (the live refresh tells rows apart by it)
    object_type: str  # "project" for a task, else one of processes.selectors.STEP_KINDS
    object_id: int | None
    title: str  # the task's title (部门审核) or the kind of record (复核, 整改)
    subject: str  # the project's or the record's name
    subject_code: str  # the project's code, "" when none
    department: str
    department_id: int | None
    project: BudgetProject | None
    action: str  # what is waiting: the actions that complete a task, or the step (复核评分)
    due: datetime | None
    created: datetime | None
    url: str  # where it is done: the task page, or the record's get_absolute_url()
    state: str  # workflows.task_status: queued / assigned
    queue: str = ""  # who may take a queued task
    owner: Any = None
    task: Task | None = None
    due_state: str = ""  # "overdue" / "due-soon" / "" (the row's class)

    @property
    def state_label(self) -> str:
        return task_state_label(self.state)

    @property
    def overdue(self) -> bool:
        return self.due is not None and self.due < timezone.now()


def queue_label(permission: str) -> str:
    """The roles whose members may take a queued task needing ``permission``."""
    return _queue_label(permission, get_language())


@lru_cache(maxsize=512)
def _queue_label(permission: str, language: str | None) -> str:
    # ROLE_PERMISSIONS is a constant of the code: the label changes with the language only
    return role_labels(r for r, perms in ROLE_PERMISSIONS.items() if permission in perms)


#: an id no task has: the task page's URL is reversed once, then the id swapped in
_URL_MARK = 987654321987654321


@lru_cache(maxsize=16)
def _task_url_parts(script_prefix: str, urlconf: str) -> tuple[str, str]:
    before, _mark, after = reverse("workflows:task", args=[_URL_MARK]).partition(str(_URL_MARK))
    return before, after


def task_url(pk: int) -> str:
    """reverse("workflows:task", args=[pk]), without resolving the pattern for each row."""
    before, after = _task_url_parts(get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)
    return f"{before}{pk}{after}"


def task_row(task: Task) -> InboxRow:
    """An open task of task_inbox_for (``due_at`` annotated) as an inbox row; no query."""
    from .nodes import task_title_of

    node = task.flow_task
    project = task.process.projectprocess.project
    return InboxRow(
        kind=TASK,
        key=f"task-{task.pk}",
        object_type="project",
        object_id=project.pk,
        title=str(task_title_of(task)),
        subject=project.name,
        subject_code=project.code,
        department=project.department.name,
        department_id=project.department_id,
        project=project,
        action=" / ".join(node.action_label(a) for a in getattr(node, "actions", ())),
        due=getattr(task, "due_at", None),
        created=task.created,
        url=task_url(task.pk),
        state=task_state(task.status, task.owner_id),
        queue=queue_label(task.owner_permission or ""),
        owner=task.owner if task.owner_id else None,
        task=task,
    )


def step_row(work: EvaluationWork, user: User) -> InboxRow:
    """A state-machine step of evaluation_work_for as an inbox row; no query."""
    project = work.project
    return InboxRow(
        kind=STEP,
        key=f"{work.kind}-{work.object_id}",
        object_type=work.kind,
        object_id=work.object_id,
        title=work.title,
        subject=work.subject,
        subject_code=project.code if project is not None else "",
        department=work.department,
        department_id=work.department_id,
        project=project,
        action=work.step,
        due=work.due_at,
        created=work.created,
        url=work.url,
        state=ASSIGNED if work.assigned else QUEUED,
        owner=user if work.assigned else None,
    )


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NEVER = timedelta.max


def _order(sort: str) -> Callable[[InboxRow], tuple]:
    """The sort key of ``sort``, exact (no float) and total: among tasks it is the order
    task_inbox_for gives (INBOX_ORDER: due date nulls last, then creation, then pk), so the
    database's page of tasks and the steps merge without reading every task."""

    def stamp(value: datetime | None) -> timedelta:
        return value - _EPOCH if value is not None else _NEVER

    def tie(row: InboxRow) -> tuple:
        return (stamp(row.created), row.kind != TASK, row.object_type, row.task.pk if row.task else row.object_id or 0)

    if sort == "created":
        return tie
    if sort == "-due":
        return lambda row: (row.due is None, -stamp(row.due) if row.due else timedelta(0), *tie(row))
    return lambda row: (row.due is None, stamp(row.due), *tie(row))


class Inbox:
    """A user's inbox, sorted: their tasks stay in the database (only a page of them is read
    and made into rows) and their state-machine steps, fewer, are read at once; a slice
    merges the two. Django's Paginator and DRF's pagination page it like a queryset: two
    queries for the tasks (count, page) whatever the page, plus one per kind of step."""

    def __init__(self, tasks: _CompiledTasks | None, steps: list[InboxRow], sort: str):
        self._tasks = tasks
        self._key = _order(sort)
        self._steps = sorted(steps, key=self._key)
        self._step_keys = [self._key(row) for row in self._steps]
        self._count: int | None = None

    def count(self) -> int:
        if self._count is None:
            self._count = (self._tasks.count() if self._tasks is not None else 0) + len(self._steps)
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __iter__(self) -> Iterator[InboxRow]:
        return iter(self[0 : len(self)])

    @overload
    def __getitem__(self, index: int) -> InboxRow: ...
    @overload
    def __getitem__(self, index: slice) -> list[InboxRow]: ...
    def __getitem__(self, index):
        if not isinstance(index, slice):
            position = index + len(self) if index < 0 else index
            if not 0 <= position < len(self):
                raise IndexError(index)
            return self[position : position + 1][0]
        start, stop, stride = index.indices(len(self))
        if stride != 1:
            return self[start:stop][::stride]
        rows = self._window(start, stop) if stop > start else []
        now = timezone.now()
        for row in rows:
            row.due_state = due_state(row.due, now)
        return rows

    def _window(self, start: int, stop: int) -> list[InboxRow]:
        """Rows ``start``..``stop`` of the merged order. The tasks there are among tasks
        ``first``..``stop`` (at most len(steps) steps come before the window), so only those
        are read; what precedes the first of them is counted, not read."""
        if self._tasks is None:
            return self._steps[start:stop]
        first = max(0, start - len(self._steps))
        tasks = [task_row(task) for task in self._tasks[first:stop]]
        if first == 0:
            steps, at = self._steps, 0
        elif not tasks:  # fewer tasks than counted: one was done meanwhile
            return []
        else:
            before = bisect_left(self._step_keys, self._key(tasks[0]))  # the steps before tasks[first]
            steps, at = self._steps[before:], first + before
        merged = list(heapq.merge(tasks, steps, key=self._key))
        return merged[start - at : stop - at]


class _CompiledTasks:
    """task_inbox_for(user, sort=sort) as Inbox reads it (a count, slices), each statement
    compiled once per process for the user's shape (config.prepared.CompiledQueries: the user's id,
    roles, permissions, department and agency — all the query is built from), the sort
    and the slice."""

    def __init__(self, user: User, sort: str):
        self._user = user
        self._sort = sort
        self._key = ("task_inbox_for", user_shape(user), sort)

    def _build(self) -> QuerySet[Task]:
        return task_inbox_for(self._user, sort=self._sort)

    def count(self) -> int:
        return compiled_queries.count((*self._key, "count"), self._build)

    def __getitem__(self, index: slice) -> list[Task]:
        start, stop = index.start or 0, index.stop
        tasks = compiled_queries.rows((*self._key, start, stop), lambda: self._build()[start:stop])
        return with_owner(tasks, self._user)


def inbox_for(user: User | AnonymousUser, *, sort: str = DEFAULT_SORT, kind: str = "") -> Inbox:
    """Everything waiting for ``user``, as one sorted list: their flow tasks (task_inbox_for)
    and the state-machine steps that are theirs to take (processes.selectors.
    evaluation_work_for: re-checks, commissioned evaluations and their panel seats,
    rectifications and extension requests, the finance section's project steps), scoped as
    each is today.

    ``sort``: ``due`` (the default: by due date, none last), ``-due`` (latest first, none
    last) or ``created``; anything else is ``due``. ``kind``: TASK or STEP keeps only that
    kind; anything else keeps both. A fixed number of queries whatever the number of rows
    (see Inbox).
    """
    sort = sort if sort in INBOX_SORTS else DEFAULT_SORT
    if not user.is_authenticated:
        return Inbox(None, [], sort)
    tasks = _CompiledTasks(user, sort) if kind != STEP else None
    steps = [step_row(work, user) for work in evaluation_work_for(user, limit=None)] if kind != TASK else []
    return Inbox(tasks, steps, sort)
