"""督办看板 — the supervisors' deadline board (DESIGN §3.6, issue 7 item 7).

Lists the open items whose due time has passed (overdue) or comes within
``JIXIAO["REMINDERS"]["SOON_DAYS"]`` days (due soon), of three kinds: open rectifications (due
= their deadline in force), open human flow tasks (due = their TaskDue) and the people's
congress committee's review opinion items not yet accepted (issue 19; due = their deadline;
the department column names the assignee, the finance bureau's own listed under none). Above the list,
the counts by department and kind; below it, each department's completion record of the
last twelve months (rectifications verified on time and late). The same rows and record
go out as XLSX.

Who: the bureau-wide readers (``processes.view_all_projects``: supervisors, the finance
section, auditors); anyone else 403. The list is one UNION query of (kind, pk, due) keys,
paginated, then one fetch per kind for the page's rows: the page costs the same number of
statements whatever the number of rows. With ``?fragment=1`` only the tables are rendered
(static/js/board.js re-fetches them when notifications.services.board_changed fires).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import CharField, Count, F, Q, QuerySet, Value
from django.db.models.functions import TruncMonth
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeData, SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS, STATUS

from accounts.models import Department
from processes import charts
from processes.clock import deadline_clock
from processes.files import xlsx_response
from processes.models import CommitteeOpinionItem, Rectification
from processes.states import OPINION_ITEM_OPEN, RECTIFICATION_OPEN, OpinionItemStatus, RectificationStatus
from processes.templatetags.jixiao import cst
from processes.widgets import FastSelect
from reports import exports

from .nodes import task_title_of
from .task_status import task_state, task_state_label

PAGE_SIZE = 50
SHANGHAI = ZoneInfo("Asia/Shanghai")
BOARD_PERMISSION = "processes.view_all_projects"

RECTIFICATION = "rectification"
TASK = "task"
COMMITTEE = "committee"
#: board_counts' key of the finance bureau's own committee items (they have no department)
BUREAU = "bureau"
KIND_LABELS = {
    RECTIFICATION: gettext_lazy("整改"),
    TASK: gettext_lazy("流程任务"),
    COMMITTEE: gettext_lazy("人大审议意见"),
}
OVERDUE = "overdue"
SOON = "soon"


class BoardFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("类型"),
        required=False,
        choices=[("", gettext_lazy("全部")), *KIND_LABELS.items()],
        widget=FastSelect,
    )
    department = forms.ModelChoiceField(
        label=gettext_lazy("预算部门"),
        required=False,
        queryset=Department.objects.order_by("code"),
        empty_label=gettext_lazy("全部"),
        widget=FastSelect,
    )
    state = forms.ChoiceField(
        label=gettext_lazy("期限状态"),
        required=False,
        choices=[("", gettext_lazy("全部")), (OVERDUE, gettext_lazy("已逾期")), (SOON, gettext_lazy("即将到期"))],
        widget=FastSelect,
    )


@dataclass(frozen=True)
class BoardRow:
    """One line of the board: an open rectification or an open human task."""

    kind: str
    pk: int
    title: str
    department: str
    project: str
    due_at: datetime
    original_due_at: datetime | None  # a rectification's first deadline, when extended
    status: str
    url: str
    now: datetime

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS[self.kind])

    @property
    def overdue(self) -> bool:
        return self.due_at < self.now

    @property
    def days(self) -> int:
        """Days overdue (at least one) or days left, by the one clock of processes.clock
        (calendar days in Beijing time), as the rectification list counts them."""
        return deadline_clock(self.due_at, self.now)[1]

    @property
    def age_text(self) -> str:
        return _age_text(self.overdue, self.days)


def _age_text(overdue: bool, days: int) -> str:
    if overdue:
        return ngettext("逾期 %(n)s 天", "逾期 %(n)s 天", days) % {"n": days}
    return ngettext("剩余 %(n)s 天", "剩余 %(n)s 天", days) % {"n": days}


# -- reads ----------------------------------------------------------------------------------------


def _may_see_board(user) -> bool:
    # a superuser is a system account: it holds no business permission (三员分立)
    return user.is_authenticated and not user.is_superuser and user.has_perm(BOARD_PERMISSION)


def _horizon(now: datetime) -> datetime:
    return now + timedelta(days=settings.JIXIAO["REMINDERS"]["SOON_DAYS"])


def open_rectifications(now: datetime) -> QuerySet[Rectification]:
    return Rectification.objects.filter(status__in=RECTIFICATION_OPEN, deadline__lte=_horizon(now))


def open_tasks(now: datetime) -> QuerySet[Task]:
    return Task.objects.filter(
        flow_task_type="HUMAN",
        status__in=[STATUS.NEW, STATUS.ASSIGNED],
        process__status=PROCESS.NEW,
        due__due_at__lte=_horizon(now),
    )


def open_committee_items(now: datetime) -> QuerySet[CommitteeOpinionItem]:
    """The committee's review opinion items not yet accepted (issue 19), due within the horizon."""
    return CommitteeOpinionItem.objects.filter(status__in=OPINION_ITEM_OPEN, deadline__lte=_horizon(now))


def _committee_keys(filters: dict[str, Any], now: datetime) -> QuerySet | None:
    kind, department, state = filters.get("kind"), filters.get("department"), filters.get("state")
    if kind not in ("", None, COMMITTEE):
        return None
    items = open_committee_items(now)
    if department is not None:
        items = items.filter(department=department)
    if state == OVERDUE:
        items = items.filter(deadline__lt=now)
    elif state == SOON:
        items = items.filter(deadline__gte=now)
    return (
        items.order_by()
        .annotate(kind=Value(COMMITTEE, output_field=CharField()), due=F("deadline"))
        .values_list("kind", "pk", "due")
    )


def _filtered(filters: dict[str, Any], now: datetime) -> tuple[QuerySet | None, QuerySet | None]:
    """The (kind, pk, due) keys of each kind under the filters; None for a kind filtered out."""
    kind, department, state = filters.get("kind"), filters.get("department"), filters.get("state")
    rects: QuerySet | None = None
    tasks: QuerySet | None = None
    if kind in ("", None, RECTIFICATION):
        rects = open_rectifications(now)
        if department is not None:
            rects = rects.filter(department=department)
        if state == OVERDUE:
            rects = rects.filter(deadline__lt=now)
        elif state == SOON:
            rects = rects.filter(deadline__gte=now)
        # no default ordering inside a UNION (SQLite refuses it)
        rects = (
            rects.order_by()
            .annotate(kind=Value(RECTIFICATION, output_field=CharField()), due=F("deadline"))
            .values_list("kind", "pk", "due")
        )
    if kind in ("", None, TASK):
        tasks = open_tasks(now)
        if department is not None:
            tasks = tasks.filter(process__projectprocess__project__department=department)
        if state == OVERDUE:
            tasks = tasks.filter(due__due_at__lt=now)
        elif state == SOON:
            tasks = tasks.filter(due__due_at__gte=now)
        tasks = (
            tasks.order_by()
            .annotate(kind=Value(TASK, output_field=CharField()), due_time=F("due__due_at"))
            .values_list("kind", "pk", "due_time")
        )
    return rects, tasks


def board_keys(filters: dict[str, Any], now: datetime):
    """One query (union of the kinds) of (kind, pk, due), soonest due first."""
    rects, tasks = _filtered(filters, now)
    committee = _committee_keys(filters, now)
    parts = [q for q in (rects, tasks, committee) if q is not None]
    if len(parts) > 1:
        return parts[0].union(*parts[1:], all=True).order_by("due", "kind", "pk")
    if rects is not None:
        return rects.order_by("due", "pk")
    if committee is not None:
        return committee.order_by("due", "pk")
    assert tasks is not None
    return tasks.order_by("due_time", "pk")


class _TaskRef(NamedTuple):
    """What task_title_of reads of a task."""

    flow_task: Any
    data: Any


def _url_maker(name: str) -> Callable[[int], str]:
    """``reverse(name, args=[pk])`` for a page of pks at the price of one ``reverse``: the
    URL of a stand-in key, split around it (every board URL ends in its ``<int:pk>``)."""
    stand_in = "918273645"
    head, found, tail = reverse(name, args=[int(stand_in)]).rpartition(stand_in)
    assert found, name
    return lambda pk: f"{head}{pk}{tail}"


def _task_title(titles: dict[tuple[Any, Any], str], flow_task: Any, data: Any) -> str:
    """task_title_of, translated once per (node, seat kind) of a page."""
    if not flow_task:
        return ""
    key = (flow_task, data.get("kind") if isinstance(data, dict) else None)
    if key not in titles:
        titles[key] = str(task_title_of(_TaskRef(flow_task, data)))
    return titles[key]


def _labeller(choices) -> Callable[[str], str]:
    """A status's label, translated once per value (not once per row)."""
    labels: dict[str, str] = {}

    def label(value: str) -> str:
        if value not in labels:
            labels[value] = str(choices(value).label)
        return labels[value]

    return label


def board_rows(keys, now: datetime) -> list[BoardRow]:
    """The rows of some (kind, pk, due) keys, in their order: one query per kind, of the
    values a row shows (no model instances: building six of them per task row was most of
    the rows' cost, issue 20)."""
    keys = list(keys)
    ids: dict[str, list[int]] = {RECTIFICATION: [], TASK: [], COMMITTEE: []}
    for kind, pk, _due in keys:
        ids[kind].append(pk)
    built: dict[tuple[str, int], BoardRow] = {}
    if ids[RECTIFICATION]:
        rect_url, rect_status = _url_maker("workflows:rectification_detail"), _labeller(RectificationStatus)
        for pk, title, department, project, deadline, original, status in _RECTIFICATION_ROWS(ids[RECTIFICATION]):
            built[RECTIFICATION, pk] = BoardRow(
                kind=RECTIFICATION,
                pk=pk,
                title=title,
                department=department,
                project=project or "",
                due_at=deadline,
                original_due_at=original if original != deadline else None,
                status=rect_status(status),
                url=rect_url(pk),
                now=now,
            )
    if ids[TASK]:
        task_url = _url_maker("workflows:task")
        titles: dict[tuple[Any, Any], str] = {}  # each node's title translated once
        states: dict[str, str] = {}
        for pk, flow_task, status, owner_id, data, due_at, project, department in _TASK_ROWS(ids[TASK]):
            built[TASK, pk] = BoardRow(
                kind=TASK,
                pk=pk,
                title=_task_title(titles, flow_task, data),
                department=department or "",
                project=project or "",
                due_at=due_at,
                original_due_at=None,
                status=states.get(state := task_state(status, owner_id))
                or states.setdefault(state, task_state_label(state)),
                url=task_url(pk),
                now=now,
            )
    if ids[COMMITTEE]:
        item_url, item_status = _url_maker("workflows:committee_item"), _labeller(OpinionItemStatus)
        for pk, opinion, position, department_id, department, deadline, status in _COMMITTEE_ROWS(ids[COMMITTEE]):
            built[COMMITTEE, pk] = BoardRow(
                kind=COMMITTEE,
                pk=pk,
                title=f"{opinion}（{position}）",  # CommitteeOpinionItem.title
                department=department if department_id is not None else _("财政局"),  # .assignee_name
                project="",
                due_at=deadline,
                original_due_at=None,
                status=item_status(status),
                url=item_url(pk),
                now=now,
            )
    return [built[kind, pk] for kind, pk, _due in keys if (kind, pk) in built]


# -- the board's own queries, compiled once ---------------------------------------------------------
# Building and compiling the keys' UNION (twice: the count and the page) and the counts' UNION
# of three grouped queries was ~10 ms of Python per page against ~3 ms of SQL (issue 20). Each is
# compiled once per database vendor and filter shape, with stand-in moments and department, and
# run with the real ones: the same SQL, the same parameters. What is kept is SQL text, no data.

#: stand-ins no real moment or key takes (a date before any deadline, a negative key)
_NOW_STAND_IN = datetime(1901, 2, 3, 4, 5, 6, tzinfo=UTC)
_DEPARTMENT_STAND_IN = -2_100_000_017


class _Compiled:
    """``build(filters, now) -> QuerySet`` compiled once per (vendor, shape, SOON_DAYS); each
    call binds the real ``now``, its horizon and the department filter's key."""

    def __init__(
        self,
        build: Callable[[dict[str, Any], datetime], QuerySet],
        *,
        uses_now: bool = False,
        uses_horizon: bool = True,
    ) -> None:
        self.build, self.uses_now, self.uses_horizon = build, uses_now, uses_horizon
        self._sql: dict[tuple, tuple[str, list, list[tuple[int, str]], Any]] = {}

    @staticmethod
    def shape(filters: dict[str, Any]) -> tuple[str, bool, str]:
        return (filters.get("kind") or "", filters.get("department") is not None, filters.get("state") or "")

    def _compile(self, shape: tuple[str, bool, str]) -> tuple[str, list, list[tuple[int, str]], Any]:
        kind, department, state = shape
        filters = {"kind": kind, "department": Department(pk=_DEPARTMENT_STAND_IN) if department else None}
        filters["state"] = state
        compiler = self.build(filters, _NOW_STAND_IN).query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        adapt = connection.ops.adapt_datetimefield_value
        stand_ins = {"now": adapt(_NOW_STAND_IN), "horizon": adapt(_horizon(_NOW_STAND_IN))}
        slots = []
        for position, value in enumerate(params):
            if department and type(value) is int and value == _DEPARTMENT_STAND_IN:
                slots.append((position, "department"))
                continue
            for name, stand_in in stand_ins.items():  # "now" first: the two are equal if SOON_DAYS is 0
                if type(value) is type(stand_in) and value == stand_in:
                    slots.append((position, name))
                    break
        # every board query reads the horizon; ``now`` when it tells overdue from due soon
        needed = (
            ({"horizon"} if self.uses_horizon else set())
            | ({"now"} if self.uses_now or state else set())
            | ({"department"} if department else set())
        )
        if needed - {name for _position, name in slots} or "1901" in sql:
            raise ValueError(f"board query {shape}: a stand-in did not reach the SQL as a parameter")
        return sql, list(params), slots, compiler

    def _compiled(self, filters: dict[str, Any]) -> tuple[str, list, list[tuple[int, str]], Any]:
        key = (connection.vendor, self.shape(filters), settings.JIXIAO["REMINDERS"]["SOON_DAYS"])
        if key not in self._sql:
            self._sql[key] = self._compile(key[1])
        return self._sql[key]

    def rows(self, filters: dict[str, Any], now: datetime) -> list[tuple]:
        """The rows, each value converted as the ORM converts it (by the compiled query's own
        converters: a database's datetime text into an aware datetime, for one)."""
        compiler = self._compiled(filters)[3]
        return list(compiler.results_iter(results=[_fetch(*self(filters, now))], tuple_expected=True))

    def __call__(self, filters: dict[str, Any], now: datetime) -> tuple[str, list]:
        sql, params, slots, _compiler = self._compiled(filters)
        adapt = connection.ops.adapt_datetimefield_value
        department = filters.get("department")
        values = {"now": adapt(now), "horizon": adapt(_horizon(now)), "department": department and department.pk}
        bound = list(params)
        for position, name in slots:
            bound[position] = values[name]
        return sql, bound


def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


class _CompiledIn:
    """``build(ids) -> QuerySet`` of the rows with those keys (``pk__in``), compiled once per
    vendor for a page (up to PAGE_SIZE keys) and run with a page's keys, the list padded by
    repeating its first key (the same rows: IN ignores repeats); the values converted by the
    compiled query's own converters. More keys (the XLSX's every row) go through the ORM."""

    def __init__(self, build: Callable[[list[int]], QuerySet]) -> None:
        self.build = build
        self._sql: dict[str, tuple[str, list, list[int], Any]] = {}

    def _compile(self) -> tuple[str, list, list[int], Any]:
        stand_ins = [_ID_STAND_IN - i for i in range(PAGE_SIZE)]
        compiler = self.build(stand_ins).query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        wanted = set(stand_ins)
        positions = {value: i for i, value in enumerate(params) if type(value) is int and value in wanted}
        if len(positions) != PAGE_SIZE:
            raise ValueError("board rows: the keys did not reach the SQL as parameters")
        return sql, list(params), [positions[value] for value in stand_ins], compiler

    def __call__(self, ids: list[int]) -> list[tuple]:
        if len(ids) > PAGE_SIZE:
            return list(self.build(ids))
        if connection.vendor not in self._sql:
            self._sql[connection.vendor] = self._compile()
        sql, params, slots, compiler = self._sql[connection.vendor]
        bound = list(params)
        for position, pk in zip(slots, [*ids, *[ids[0]] * (PAGE_SIZE - len(ids))], strict=True):
            bound[position] = pk
        return list(compiler.results_iter(results=[_fetch(sql, bound)], tuple_expected=True))


_ID_STAND_IN = -2_100_000_100
_RECTIFICATION_ROWS = _CompiledIn(
    lambda ids: (
        Rectification.objects.filter(pk__in=ids)
        .order_by()
        .values_list("pk", "title", "department__name", "project__name", "deadline", "original_deadline", "status")
    )
)
_TASK_ROWS = _CompiledIn(
    lambda ids: (
        Task.objects.filter(pk__in=ids)
        .order_by()
        .values_list(
            "pk",
            "flow_task",
            "status",
            "owner_id",
            "data",
            "due__due_at",
            "process__projectprocess__project__name",
            "process__projectprocess__project__department__name",
        )
    )
)
_COMMITTEE_ROWS = _CompiledIn(
    lambda ids: (
        CommitteeOpinionItem.objects.filter(pk__in=ids)
        .order_by()
        .values_list("pk", "opinion__title", "position", "department_id", "department__name", "deadline", "status")
    )
)


_KEYS_PAGE = _Compiled(lambda filters, now: board_keys(filters, now))
_KEYS_ALL = _Compiled(lambda filters, now: board_keys(filters, now).order_by())
_COUNTS = _Compiled(lambda _filters, now: _counts_union(now), uses_now=True)


class BoardKeys:
    """``board_keys(filters, now)`` for the Paginator: ``count()`` and slices, each one
    precompiled statement. The slices' rows are (kind, pk, due) with ``due`` as the database
    gives it (board_rows reads the kind and the key only)."""

    ordered = True

    def __init__(self, filters: dict[str, Any], now: datetime) -> None:
        self.filters, self.now = filters, now

    def count(self) -> int:
        sql, params = _KEYS_ALL(self.filters, self.now)
        return _fetch(f"SELECT COUNT(*) FROM ({sql}) board_keys", params)[0][0]

    def __getitem__(self, window: slice) -> list[tuple]:
        start, stop = window.start or 0, window.stop
        assert window.step is None and stop is not None and stop >= start
        sql, params = _KEYS_PAGE(self.filters, self.now)
        return _fetch(f"{sql} LIMIT %s OFFSET %s", [*params, stop - start, start])


def department_names() -> dict[int, tuple[str, str]]:
    """Every department's (code, name) by key, in code order: one query, which the counts,
    the completion record and the 预算部门 filter share."""
    return {
        pk: (code, name) for pk, code, name in Department.objects.order_by("code").values_list("pk", "code", "name")
    }


def _counts_union(now: datetime) -> QuerySet:
    """(kind, department, overdue, soon) of the three kinds, grouped by department: one UNION."""
    overdue_d, soon_d = Q(deadline__lt=now), Q(deadline__gte=now)
    overdue_t, soon_t = Q(due__due_at__lt=now), Q(due__due_at__gte=now)

    def grouped(items: QuerySet, kind: str, department: str, overdue: Q, soon: Q) -> QuerySet:
        return (
            items.order_by()
            .annotate(kind=Value(kind, output_field=CharField()), dept=F(department))
            .values("kind", "dept")
            .annotate(overdue=Count("pk", filter=overdue), soon=Count("pk", filter=soon))
            .values_list("kind", "dept", "overdue", "soon")
        )

    parts = (
        grouped(open_rectifications(now), "rect", "department_id", overdue_d, soon_d),
        grouped(open_tasks(now), "task", "process__projectprocess__project__department_id", overdue_t, soon_t),
        grouped(open_committee_items(now), "committee", "department_id", overdue_d, soon_d),
    )
    return parts[0].union(*parts[1:], all=True)


def counts_rows(now: datetime) -> list[tuple[Any, ...]]:
    """(kind, department, overdue, soon) of the whole board, unfiltered: one query."""
    return _fetch(*_COUNTS({}, now))


#: the counts' kinds by the filter's
_COUNTS_KIND = {RECTIFICATION: "rect", TASK: "task", COMMITTEE: "committee"}


def keys_total(rows: list[tuple[Any, ...]], filters: dict[str, Any]) -> int:
    """How many keys ``board_keys(filters, now)`` gives, from the counts' rows of the same
    ``now`` (counts_rows): they count the same items — each kind's open ones due by the
    horizon, overdue or due soon, by department (a task's is its project's) — so the page's
    total needs no statement of its own (it was a COUNT over the keys' UNION: 1–1.5 ms on
    PostgreSQL)."""
    kind, department, state = filters.get("kind"), filters.get("department"), filters.get("state")
    wanted = _COUNTS_KIND.get(kind) if kind else None
    total = 0
    for row_kind, dept, overdue, soon in rows:
        if wanted is not None and row_kind != wanted:
            continue
        if department is not None and dept != department.pk:
            continue
        total += overdue if state == OVERDUE else soon if state == SOON else overdue + soon
    return total


def board_counts(
    now: datetime,
    departments: dict[int, tuple[str, str]] | None = None,
    rows: list[tuple[Any, ...]] | None = None,
) -> list[dict[str, Any]]:
    """Overdue and due-soon counts by department and kind (the whole board, unfiltered),
    departments by code, then the finance bureau (its own committee items, ``department_id``
    BUREAU); one query (a UNION of the three kinds' grouped counts) whatever the number of
    items — none when ``rows`` (counts_rows(now)) are given — with the departments' names
    from ``departments`` (department_names())."""
    if departments is None:
        departments = department_names()
    counts: dict[int | str | None, dict[str, int]] = {}
    by_kind: dict[str, list[tuple[Any, int, int]]] = {"rect": [], "task": [], "committee": []}
    for kind, dept, overdue, soon in counts_rows(now) if rows is None else rows:
        by_kind[kind].append((dept, overdue, soon))
    for kind in ("rect", "task", "committee"):  # the kinds in the order the table was first built
        for dept, overdue, soon in by_kind[kind]:
            if kind == "committee" and dept is None:
                dept = BUREAU  # the finance bureau's own items (no department)
            cell = counts.setdefault(dept, _zero())
            cell[f"{kind}_overdue"], cell[f"{kind}_soon"] = overdue, soon
    table = []
    for pk, cell in counts.items():
        known = departments.get(pk) if isinstance(pk, int) else None
        if pk == BUREAU:
            name = _("财政局")
        else:
            name = known[1] if known else _("（无部门）")
        table.append(
            {
                "department_id": pk,
                "name": name,
                "code": known[0] if known else "",
                **cell,
                "total": sum(cell.values()),
            }
        )
    # departments by code, then the finance bureau, then anything without a department
    table.sort(key=lambda d: (d["code"] == "", d["department_id"] != BUREAU, d["code"]))
    return table


def _zero() -> dict[str, int]:
    return {
        "rect_overdue": 0,
        "rect_soon": 0,
        "task_overdue": 0,
        "task_soon": 0,
        "committee_overdue": 0,
        "committee_soon": 0,
    }


def _months(now: datetime) -> list[datetime]:
    """The first days (Asia/Shanghai) of the last twelve months, oldest first, this one last."""
    local = timezone.localtime(now, SHANGHAI)
    year, month = local.year, local.month
    firsts = []
    for _i in range(12):
        firsts.append(datetime(year, month, 1, tzinfo=SHANGHAI))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return firsts[::-1]


def _record_query(since: datetime) -> QuerySet:
    """(department, month, on time, late) of the rectifications verified since ``since``."""
    return (
        Rectification.objects.filter(status=RectificationStatus.VERIFIED, verified_at__gte=since)
        .annotate(month=TruncMonth("verified_at", tzinfo=SHANGHAI))
        .values("department_id", "month")
        .annotate(
            on_time=Count("pk", filter=Q(verified_at__lte=F("deadline"))),
            late=Count("pk", filter=Q(verified_at__gt=F("deadline"))),
        )
        .values_list("department_id", "month", "on_time", "late")
    )


#: its moment is the first month's start (not the board's now), and it has no horizon
_RECORD = _Compiled(lambda _filters, since: _record_query(since), uses_now=True, uses_horizon=False)


def completion_record(now: datetime, departments: dict[int, tuple[str, str]] | None = None) -> dict[str, Any]:
    """Each department's rectifications verified in each of the last twelve months (by
    ``verified_at``, Asia/Shanghai months): closed on time (verified_at ≤ deadline in force),
    late, and the on-time rate; with a total per department. One query, with the departments'
    names from ``departments`` (department_names())."""
    if departments is None:
        departments = department_names()
    months = _months(now)
    index = {(m.year, m.month): i for i, m in enumerate(months)}
    by_dept: dict[int, list[list[int]]] = {}
    for department_id, month, on_time, late in _RECORD.rows({}, months[0]):
        month = timezone.localtime(month, SHANGHAI) if timezone.is_aware(month) else month
        i = index.get((month.year, month.month))
        if i is None:
            continue
        cells = by_dept.setdefault(department_id, [[0, 0] for _m in months])
        cells[i][0] += on_time
        cells[i][1] += late
    table: list[dict[str, Any]] = []
    for pk, cells in by_dept.items():
        code, name = departments[pk]
        on_time, late = sum(c[0] for c in cells), sum(c[1] for c in cells)
        table.append(
            {
                "department_id": pk,
                "name": name,
                "code": code,
                "cells": [{"on_time": a, "late": b, "rate": _rate(a, b)} for a, b in cells],
                "on_time": on_time,
                "late": late,
                "rate": _rate(on_time, late),
            }
        )
    table.sort(key=lambda d: d["code"])
    return {"months": months, "departments": table}


def rectification_chart(counts: list[dict[str, Any]], record: dict[str, Any]) -> charts.Chart:
    """整改按期 / 逾期 by department, drawn from the board's own figures: verified on time and
    late in the last twelve months (completion_record) and open past their deadline now
    (board_counts) — three disjoint sets of rectifications."""
    names: dict[str, str] = {}
    closed = {}
    for d in record["departments"]:
        names[d["code"]] = d["name"]
        closed[d["code"]] = (d["on_time"], d["late"])
    overdue = {}
    for d in counts:
        if d["rect_overdue"] or d["rect_soon"]:
            names[d["code"]] = str(d["name"])
            overdue[d["code"]] = d["rect_overdue"]
    codes = sorted(names, key=lambda c: (c == "", c))
    return charts.Chart(
        chart_id="rectifications-by-department",
        title=_("各部门整改按期与逾期情况"),
        category_label=_("预算部门"),
        categories=[names[c] for c in codes],
        series=[
            charts.Series("on_time", _("近 12 个月按期销号"), [closed.get(c, (0, 0))[0] for c in codes], charts.GREEN),
            charts.Series("late", _("近 12 个月逾期销号"), [closed.get(c, (0, 0))[1] for c in codes], charts.AMBER),
            charts.Series("overdue", _("目前逾期未销号"), [overdue.get(c, 0) for c in codes], charts.RED),
        ],
        unit=_("项整改"),
    )


def _rate(on_time: int, late: int) -> str:
    """The on-time rate as a percentage with one decimal, or "" when nothing closed."""
    total = on_time + late
    return f"{on_time * 100 / total:.1f}%" if total else ""


# -- the tables' rows, written in Python ------------------------------------------------------------
# The three loops of templates/workflows/board/tables.html drew ~2,000 template nodes per page
# (77 departments × 8 count cells, 50 rows × 7 cells): half of the board's CPU (issue 20). These
# write the very same HTML (tests/screens/test_board_html.py renders the former loops beside
# them); every value is escaped as the template's autoescape did.


def _e(value: Any) -> str:
    """conditional_escape without its lazy-string wrapper (the same text)."""
    return str(value) if isinstance(value, SafeData) else html.escape(str(value))


def _hot(count: int, cls: str) -> str:
    return cls if count else ""


def counts_html(counts: list[dict[str, Any]]) -> SafeString:
    """The 分部门统计 table's rows (the counts unlocalised: plain integers)."""
    out = []
    for d in counts:
        department = d["department_id"]
        out.append(
            f'\n        <tr data-department="{_e("" if department is None else department)}">'
            f'\n          <td>{_e(d["name"])} <span class="muted small">{_e(d["code"])}</span></td>'
            f'\n          <td class="num{_hot(d["rect_overdue"], " cell-red")}" data-count="rect-overdue">{d["rect_overdue"]:d}</td>'
            f'\n          <td class="num{_hot(d["rect_soon"], " cell-yellow")}" data-count="rect-soon">{d["rect_soon"]:d}</td>'
            f'\n          <td class="num{_hot(d["task_overdue"], " cell-red")}" data-count="task-overdue">{d["task_overdue"]:d}</td>'
            f'\n          <td class="num{_hot(d["task_soon"], " cell-yellow")}" data-count="task-soon">{d["task_soon"]:d}</td>'
            f'\n          <td class="num{_hot(d["committee_overdue"], " cell-red")}" data-count="committee-overdue">{d["committee_overdue"]:d}</td>'
            f'\n          <td class="num{_hot(d["committee_soon"], " cell-yellow")}" data-count="committee-soon">{d["committee_soon"]:d}</td>'
            f'\n          <td class="num" data-count="total">{d["total"]:d}</td>'
            "\n        </tr>\n      "
        )
    return mark_safe("".join(out))  # noqa: S308 — every value above is escaped or an integer


def rows_html(rows: list[BoardRow]) -> SafeString:
    """The 督办清单 table's rows."""
    originally = None
    kind_labels = {kind: _e(str(label)) for kind, label in KIND_LABELS.items()}
    ages: dict[tuple[bool, int], str] = {}
    out = []
    for row in rows:
        overdue = row.overdue
        due = cst(row.due_at)
        if row.original_due_at:
            if originally is None:
                originally = _e(_("原定"))
            due += f'<br><span class="muted small" data-testid="original-due">{originally} {cst(row.original_due_at)}</span>'
        days = row.days  # BoardRow.age_text, translated once per (overdue, days)
        if (overdue, days) not in ages:
            text = _e(_age_text(overdue, days))
            ages[overdue, days] = (
                f'<span class="tag-overdue">{text}</span>' if overdue else f'<span class="tag-due-soon">{text}</span>'
            )
        age = ages[overdue, days]
        out.append(
            f'\n        <tr class="{"overdue" if overdue else "due-soon"}" data-testid="board-row"'
            f' data-kind="{_e(row.kind)}" data-pk="{row.pk:d}">'
            f'\n          <td class="nowrap">{kind_labels[row.kind]}</td>'
            f'\n          <td><a href="{_e(row.url)}">{_e(row.title)}</a></td>'
            f"\n          <td>{_e(row.department or '—')}</td>"
            f"\n          <td>{_e(row.project or '—')}</td>"
            f'\n          <td class="nowrap">{due}</td>'
            f'\n          <td class="nowrap">{age}</td>'
            f"\n          <td>{_e(row.status)}</td>"
            "\n        </tr>\n      "
        )
    return mark_safe("".join(out))  # noqa: S308 — every value above is escaped, an integer or a cst date


def record_html(record: dict[str, Any]) -> SafeString:
    """The 按期完成情况 table's rows (the counts unlocalised: plain integers)."""
    out = []
    for d in record["departments"]:
        cells = "".join(
            f'<td class="num nowrap" data-month="{i:d}">'
            + (
                f'{c["on_time"]:d} / {c["late"]:d}<br><span class="muted small">{_e(c["rate"])}</span>'
                if c["on_time"] or c["late"]
                else '<span class="muted">—</span>'
            )
            + "</td>"
            for i, c in enumerate(d["cells"])
        )
        out.append(
            f'\n        <tr data-department="{_e(d["department_id"])}">'
            f'\n          <td>{_e(d["name"])} <span class="muted small">{_e(d["code"])}</span></td>'
            f"\n          {cells}"
            f'\n          <td class="num nowrap" data-testid="record-total">{d["on_time"]:d} / {d["late"]:d}'
            f'<br><span class="muted small">{_e(d["rate"])}</span></td>'
            "\n        </tr>\n      "
        )
    return mark_safe("".join(out))  # noqa: S308 — every value above is escaped or an integer


# -- views --------------------------------------------------------------------------------------


def _board_filters(request) -> tuple[BoardFilterForm, dict[str, Any]]:
    form = BoardFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    return form, filters


def _check(request) -> None:
    if not _may_see_board(request.user):
        raise PermissionDenied(_("只有督查、财政绩效科和审计人员可以查看督办看板。"))


@login_required
@require_GET
def deadline_board(request):
    """The board: counts, the filtered rows (50 a page, soonest due first), the completion
    record. ``?fragment=1`` renders the tables only (for the live refresh)."""
    _check(request)
    now = timezone.now()
    form, filters = _board_filters(request)
    keys: Any = BoardKeys(filters, now)  # slices: what Paginator asks of a queryset
    totals = counts_rows(now)
    paginator = Paginator(keys, PAGE_SIZE)
    paginator.count = keys_total(totals, filters)  # the same items as the counts' (keys_total)
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    for key in ("page", "fragment"):
        query.pop(key, None)
    departments = department_names()
    # the 预算部门 filter's options from the same rows (its queryset would read them again)
    department_field = form.fields["department"]
    assert isinstance(department_field, forms.ModelChoiceField)
    department_field.widget.choices = [
        ("", department_field.empty_label),
        *((pk, name) for pk, (_code, name) in departments.items()),
    ]
    rows = board_rows(page.object_list, now)
    counts = board_counts(now, departments, totals)
    record = completion_record(now, departments)
    context = {
        "filter_form": form,
        "page": page,
        "rows": rows,
        "rows_html": rows_html(rows),
        "counts": counts,
        "counts_html": counts_html(counts),
        "record": record,
        "record_html": record_html(record),
        "rectification_chart": rectification_chart(counts, record),
        "soon_days": settings.JIXIAO["REMINDERS"]["SOON_DAYS"],
        "query": query.urlencode(),
        "now": now,
    }
    template = "workflows/board/tables.html" if request.GET.get("fragment") else "workflows/board/board.html"
    return render(request, template, context)


@login_required
@require_GET
def deadline_board_xlsx(request):
    """The filtered rows (all of them), the counts by department (the whole board, as on the
    screen) and the completion record as an XLSX workbook with Chinese headers; times in
    Asia/Shanghai."""
    _check(request)
    now = timezone.now()
    _form, filters = _board_filters(request)
    rows = board_rows(board_keys(filters, now), now)
    departments = department_names()
    stamp = timezone.localtime(now, SHANGHAI).strftime("%Y%m%d")
    filename = f"deadline-board-{stamp}.xlsx"
    return xlsx_response(
        exports.deadline_board_xlsx(
            rows,
            completion_record(now, departments),
            now,
            site_url=settings.SITE_URL,
            counts=board_counts(now, departments),
        ),
        filename,
        fallback=filename,
    )
