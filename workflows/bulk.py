"""Starting one flow per item for thousands of items in one action.

``Flow.start.run()`` costs 9 statements and ~2.5–7 ms per process (notes: viewflow bulk
baseline); a monitoring round or an evaluation campaign starts thousands. ``bulk_start``
writes the same rows inside the caller's transaction, without a model instance per row:
the ProjectProcess (parent Process row, then its child row), and the first human task,
queued for the node's permission with its due date (and its TaskDue row). On PostgreSQL
that is one statement (data-modifying WITHs, the keys drawn from the tables' sequences
first so every row can name its parent); elsewhere one INSERT per table
(processes.bulk_insert). No flow lock is needed: every row is new. What it skips, the
caller does once for the batch: the start node's signals, the node's ``onCreate`` hook
and per-task notifications (decision 0008).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, models
from django.utils import timezone
from django.utils.translation import gettext as _
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import PROCESS, STATUS
from viewflow.workflow.token import Token

from processes.bulk_insert import fixed_columns, fixed_value, insert_rows

from .models import ProjectProcessRow, TaskDue


def bulk_start(flow_class, node, items: Sequence[tuple[int, dict]], *, due_at: datetime) -> list[int]:
    """For each (project id, process data) start a process of ``flow_class`` waiting at the
    human task ``node`` (a ProjectTask: queued for its permission, due at ``due_at``).
    Returns the new process ids, in the order of ``items``. Runs in the caller's transaction."""
    if not items:
        return []
    now = timezone.now()
    process_same = {"flow_class": flow_class, "status": PROCESS.NEW, "created": now}
    task_same = {
        "flow_task": node,
        "flow_task_type": "HUMAN",
        "status": STATUS.NEW,
        "owner_permission": node._owner_permission,
        "token": Token("start"),
        "data": {"due_at": due_at.isoformat()},
    }
    if connection.vendor == "postgresql":
        return _bulk_start_postgresql(items, now=now, process_same=process_same, task_same=task_same, due_at=due_at)
    process_ids = insert_rows(Process, same=process_same, each={"data": [data for _, data in items]})
    insert_rows(
        ProjectProcessRow,
        same={},
        each={"process_ptr_id": process_ids, "project_id": [project_id for project_id, _ in items]},
        returning=False,
    )
    task_ids = insert_rows(
        Task,
        same=task_same,
        # distinct creation times keep the inbox order stable (created, pk)
        each={"process_id": process_ids, "created": [now + timedelta(microseconds=i) for i in range(len(items))]},
    )
    insert_rows(TaskDue, same={"due_at": due_at}, each={"task_id": task_ids}, returning=False)
    return process_ids


def _bulk_start_postgresql(
    items: Sequence[tuple[int, dict]],
    *,
    now: datetime,
    process_same: Mapping[str, Any],
    task_same: Mapping[str, Any],
    due_at: datetime,
) -> list[int]:
    """``bulk_start``'s rows in one statement: each item numbered (``WITH ORDINALITY``) and
    given its process and task keys from the sequences, in item order, then the four
    INSERTs reading those numbered rows. The same rows, column for column, as the
    one-INSERT-per-table path."""
    quote = connection.ops.quote_name
    params: list[Any] = []

    def insert(model: type[models.Model], same: Mapping[str, Any], given: Mapping[str, str]) -> str:
        """``INSERT … SELECT`` of ``model`` from the numbered items: ``given`` maps a column's
        attname to its SQL expression over ``item``; the other columns as bulk_insert fills them."""
        fixed = fixed_columns(model, same=same, given=set(given))
        meta = model._meta
        by_attname = {f.attname: f for f in meta.concrete_fields}
        columns = [quote(str(f.column)) for f in [*fixed, *(by_attname[a] for a in given)]]
        params.extend(fixed_value(f, same) for f in fixed)
        picks = ["%s"] * len(fixed) + list(given.values())
        return f"INSERT INTO {quote(meta.db_table)} ({', '.join(columns)}) SELECT {', '.join(picks)} FROM item"

    data_field = Process._meta.get_field("data")
    project_type = ProjectProcessRow._meta.get_field("project").cast_db_type(connection)
    params += [
        Process._meta.db_table,
        Process._meta.pk.column,
        Task._meta.db_table,
        Task._meta.pk.column,
        [project_id for project_id, _ in items],
        [json.dumps(data, cls=data_field.encoder) for _, data in items],
    ]
    head = (
        "WITH item AS MATERIALIZED ("
        "SELECT nextval(pg_get_serial_sequence(%s, %s)) AS process_id, "
        "nextval(pg_get_serial_sequence(%s, %s)) AS task_id, i.project_id, i.data, i.n "
        f"FROM UNNEST(%s::{project_type}[], %s::text[]) WITH ORDINALITY AS i(project_id, data, n) ORDER BY i.n)"
    )
    process = insert(Process, process_same, {"id": "item.process_id", "data": "item.data::jsonb"})
    child = insert(ProjectProcessRow, {}, {"process_ptr_id": "item.process_id", "project_id": "item.project_id"})
    # distinct creation times keep the inbox order stable (created, pk)
    created = Task._meta.get_field("created")
    task = insert(
        Task,
        task_same,
        {
            "id": "item.task_id",
            "process_id": "item.process_id",
            "created": "%s::timestamptz + (item.n - 1) * interval '1 microsecond'",
        },
    )
    params.append(created.get_db_prep_save(now, connection))
    due = insert(TaskDue, {"due_at": due_at}, {"task_id": "item.task_id"})
    sql = (
        f"{head}, process AS ({process}), project_process AS ({child}), task AS ({task}), due AS ({due}) "
        "SELECT process_id FROM item ORDER BY n"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        process_ids = [row[0] for row in cursor.fetchall()]
    if len(process_ids) != len(items):
        raise RuntimeError(f"bulk_start: {len(process_ids)} processes for {len(items)} items")
    return process_ids


# -- finishing many tasks at once (issue 18, bulk actions) ----------------------------------


def bulk_finish(node, process_ids: Sequence[int], actor, *, path: Sequence[Any]) -> list[int]:
    """Complete the open task of the human ``node`` in each process of ``process_ids`` for
    ``actor`` and take each process along ``path`` — the gateway nodes the decision passes
    (``flow.If``) and, last, the ``flow.End`` — writing the rows viewflow's own completion
    writes (tests/workflows/test_bulk_monitoring.py compares them with a single clearance):
    the task done (claimed by ``actor``), one done task per node of the path, each linked
    to the one before it (``previous``), and the process done. A constant number of
    statements whatever the number of processes: lock the processes, read their tasks,
    one UPDATE, one INSERT per path node and per link table, one UPDATE of the processes.

    The caller holds the records' locks (processes.transitions.apply_many) and has checked
    the state; the processes are locked here in key order, after the records (the engine's
    lock order). Returns the completed tasks' keys; raises Conflict if a process has no
    open task of ``node`` (someone else completed it)."""
    from processes.errors import Conflict

    if not process_ids:
        return []
    wanted = sorted(set(process_ids))
    list(Process.objects.select_for_update().filter(pk__in=wanted).order_by("pk").values_list("pk", flat=True))
    open_tasks: dict[int, int] = {}
    for process_id, task_id, owner_id in (
        Task.objects.filter(process_id__in=wanted, flow_task=node, status__in=[STATUS.NEW, STATUS.ASSIGNED])
        .order_by("process_id", "pk")
        .values_list("process_id", "pk", "owner_id")
    ):
        if owner_id is not None and owner_id != actor.pk:
            raise Conflict(_("此任务已由他人认领。"))
        open_tasks.setdefault(process_id, task_id)
    if len(open_tasks) != len(wanted):
        raise Conflict()
    now = timezone.now()
    task_ids = [open_tasks[pk] for pk in wanted]
    Task.objects.filter(pk__in=task_ids).update(status=STATUS.DONE, owner=actor, started=now, finished=now)
    previous = task_ids
    for step in path:
        end = step is path[-1]
        same = {
            "flow_task": step,
            "flow_task_type": "END" if end else "EXCLUSIVE_GATEWAY",
            "status": STATUS.DONE,
            "token": Token("start"),
            "data": {},
            "finished": now,
            **({"started": now} if end else {}),
        }
        created = insert_rows(
            Task,
            same=same,
            each={"process_id": wanted, "created": [now + timedelta(microseconds=i) for i in range(len(wanted))]},
        )
        insert_rows(
            Task.previous.through,
            same={},
            each={"from_task_id": created, "to_task_id": previous},
            returning=False,
        )
        previous = created
    Process.objects.filter(pk__in=wanted).update(status=PROCESS.DONE, finished=now)
    return task_ids
