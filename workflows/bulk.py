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

from django.conf import settings
from django.db import connection, models
from django.utils import timezone
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import PROCESS, STATUS
from viewflow.workflow.token import Token

from processes.bulk_insert import array_literal, fixed_columns, fixed_value, insert_rows

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
    encode = (data_field.encoder or json.JSONEncoder)().encode
    project_type = ProjectProcessRow._meta.get_field("project").cast_db_type(connection)
    params += [
        Process._meta.db_table,
        Process._meta.pk.column,
        Task._meta.db_table,
        Task._meta.pk.column,
        # the columns as array literals, each data encoded by one encoder (as json.dumps with
        # the field's encoder): the driver's dumping of 3,755-element lists costs more
        *(
            column if literal is None else literal
            for column in ([project_id for project_id, _ in items], [encode(data) for _, data in items])
            for literal in [array_literal(column)]
        ),
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


# -- completing one open task per item, for many items (decision 0023) ------------------------


def bulk_finish(node, *, data_key: str, keys: Sequence[int], actor, then: Sequence[Any]) -> dict[int, dict]:
    """Complete, for each of ``keys``, the open task of ``node`` in the running process of
    ``node``'s flow whose ``data[data_key]`` is that key — claimed for ``actor`` if queued —
    and route each process along ``then``: gateway nodes (recorded as done, the way
    viewflow records a passed ``If``), ending in an ``End`` (the process is done) or a
    human ProjectTask (queued for its permission, due per its kind). The same rows
    ``_finish_task`` leaves one item at a time, in a constant number of statements: the
    process rows locked (SELECT … FOR UPDATE, pk order: the flow lock), the tasks read,
    one UPDATE, one INSERT per node of ``then`` and one for its links to the task before.

    Returns, per key, what the next task's holders are told ({} for an End). Raises
    Conflict when a key's task is missing or held by someone else (the caller's
    transaction — one chunk of a bulk action — is rolled back)."""
    from processes.errors import Conflict

    from .services import OPEN

    keys = list(keys)
    if not keys:
        return {}
    flow_class = node.flow_class
    now = timezone.now()
    process_ids = list(
        Process.objects.select_for_update()
        .filter(flow_class=flow_class, status=PROCESS.NEW, **{f"data__{data_key}__in": keys})
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    tasks = list(
        Task.objects.filter(process_id__in=process_ids, flow_task=node, status__in=OPEN)
        .select_related("process__projectprocess__project")
        .order_by("pk")
    )
    by_key = {t.process.data.get(data_key): t for t in tasks}
    if set(by_key) != set(keys) or any(t.owner_id not in (None, actor.pk) for t in tasks):
        raise Conflict()
    tasks = [by_key[k] for k in keys]
    Task.objects.filter(pk__in=[t.pk for t in tasks]).update(
        status=STATUS.DONE, owner_id=actor.pk, started=now, finished=now
    )
    previous = [t.pk for t in tasks]
    told: dict[int, dict] = {k: {} for k in keys}
    for step in then:
        kind = type(step).__name__
        same: dict[str, Any] = {"flow_task": step, "token": Token("start")}
        each: dict[str, list] = {"process_id": [t.process_id for t in tasks]}
        if kind == "If":
            same.update(flow_task_type="EXCLUSIVE_GATEWAY", status=STATUS.DONE, finished=now)
        elif kind == "End":
            same.update(flow_task_type="END", status=STATUS.DONE, started=now, finished=now)
        else:  # a human ProjectTask, as ProjectTaskActivation.create makes it
            due_at = now + timedelta(days=settings.JIXIAO["TASK_DUE_DAYS"][step.due_key])
            same.update(
                flow_task_type="HUMAN",
                status=STATUS.NEW,
                owner_permission=step._owner_permission,
                data={"due_at": due_at.isoformat()},
            )
        each["created"] = [now + timedelta(microseconds=i) for i in range(len(tasks))]
        created = insert_rows(Task, same=same, each=each)
        insert_rows(
            Task.previous.through,
            same={},
            each={"from_task_id": created, "to_task_id": previous},
            returning=False,
        )
        previous = created
        if kind == "End":
            Process.objects.filter(pk__in=[t.process_id for t in tasks]).update(status=PROCESS.DONE, finished=now)
        elif kind != "If":
            insert_rows(TaskDue, same={"due_at": due_at}, each={"task_id": created}, returning=False)
            told = _queue_told(step, tasks, keys, due_at)
    from notifications.services import board_changed

    board_changed("task_done")
    return told


def _queue_told(step, tasks: Sequence[Task], keys: Sequence[int], due_at: datetime) -> dict[int, dict]:
    """Each new task's queue told of it (task_assigned, as ``_next_actor_messages`` says it).
    The queue is read once per department (its holders who see the department's
    projects), not once per task."""
    from processes.messages import task_assigned
    from processes.transitions import msgid

    from .nodes import _QUEUE_HOLDERS as holders

    app_label, codename = step._owner_permission.split(".", 1)
    due = timezone.localtime(due_at).date().isoformat()
    title = msgid(step.task_title)
    queues: dict[int, list] = {}
    told: dict[int, dict] = {}
    for key, task in zip(keys, tasks, strict=True):
        project = task.process.projectprocess.project
        if project.department_id not in queues:
            queues[project.department_id] = list(
                holders(
                    app_label=app_label, codename=codename, project_id=project.pk, department_id=project.department_id
                )
            )
        told[key] = dict.fromkeys(queues[project.department_id], task_assigned(title, project.name, due))
    return told


def bulk_step(node, *, data_key: str, then: Sequence[Any]):
    """The bulk flow step (processes.transitions.register_bulk_flow_step) that completes
    ``node``'s task of every applied record's process (``data[data_key]`` = the record's
    id) and routes it along ``then``: see :func:`bulk_finish`."""

    def step(steps) -> list[dict]:
        actor = steps[0].actor
        if actor is None:  # pragma: no cover - every declared step is a person's
            raise RuntimeError("a flow task is completed by a person")
        keys = [s.obj.pk for s in steps]
        told = bulk_finish(node, data_key=data_key, keys=keys, actor=actor, then=then)
        return [told[k] for k in keys]

    return step
