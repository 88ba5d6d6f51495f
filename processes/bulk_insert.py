"""Thousands of new rows of one table in one statement, without a model instance each.

``bulk_create`` builds a model instance per row and prepares every field of every row;
for the rows a campaign launch writes (five per project, 3,755 projects) that costs more
than the database's own work (the issue 9 benchmark: docs/performance.md). ``insert_rows``
prepares each column that is the same for every row once, sends the others as one list
per column, and lets the database build the rows: ``INSERT … SELECT … FROM UNNEST(…)``
on PostgreSQL, ``INSERT … SELECT … FROM json_each(…)`` on SQLite. It writes what the
caller gives — no ``save()``, no signals, no ``pre_save`` (so no ``auto_now``); columns
not given take their field's default or NULL — and returns the new primary keys in the
order of the rows.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connection, models


def insert_rows(
    model: type[models.Model],
    *,
    same: Mapping[str, Any],
    each: Mapping[str, Sequence[Any]],
    returning: bool = True,
) -> list[int]:
    """Insert ``len`` of ``each``'s lists rows into ``model``'s table: column ``attname`` is
    ``same[attname]`` in every row and ``each[attname][i]`` in row i. Returns the new
    keys in row order (``returning``), else []. Inside the caller's transaction."""
    sizes = {len(values) for values in each.values()}
    if len(sizes) != 1:
        raise ValueError("every column of `each` needs one value per row")
    n = sizes.pop()
    if n == 0:
        return []
    meta = model._meta
    fixed: list[tuple[models.Field, Any]] = []
    varying: list[tuple[models.Field, Sequence[Any]]] = []
    for field in meta.concrete_fields:
        name = field.attname
        if name in each:
            varying.append((field, each[name]))
        elif name in same:
            fixed.append((field, same[name]))
        elif field is meta.pk and isinstance(field, models.AutoField):
            continue
        elif field.has_default():
            fixed.append((field, field.get_default()))
        elif field.null:
            fixed.append((field, None))
        else:
            raise ValueError(f"{meta.label}.{name}: no value and no default")
    unknown = set(same) | set(each)
    unknown -= {f.attname for f, _v in fixed} | {f.attname for f, _v in varying}
    if unknown:
        raise ValueError(f"{meta.label}: no such columns {sorted(unknown)}")

    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(f.column)) for f, _v in [*fixed, *varying])
    params: list[Any] = [_prepared(f, v) for f, v in fixed]
    picks = ["%s"] * len(fixed)
    if connection.vendor == "postgresql":
        arrays = []
        for i, (field, values) in enumerate(varying):
            if isinstance(field, models.JSONField):  # as text, cast back row by row
                arrays.append("%s::text[]")
                picks.append(f"v.c{i}::jsonb")
                params.append([json.dumps(value, cls=field.encoder) for value in values])
            else:
                arrays.append(f"%s::{field.cast_db_type(connection)}[]")
                picks.append(f"v.c{i}")
                params.append([_prepared(field, value) for value in values])
        source = f"UNNEST({', '.join(arrays)}) AS v({', '.join(f'c{i}' for i in range(len(varying)))})"
    elif connection.vendor == "sqlite":
        for i, _fv in enumerate(varying):
            picks.append(f"json_extract(v.value, '$[{i}]')")
        rows = zip(*([_sqlite_value(f, x) for x in values] for f, values in varying), strict=True)
        params.append(json.dumps(list(rows), separators=(",", ":")))
        source = "json_each(%s) AS v"
    else:  # pragma: no cover - the project runs on SQLite and PostgreSQL
        raise NotImplementedError(connection.vendor)
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) SELECT {', '.join(picks)} FROM {source}"
    if returning:
        sql += f" RETURNING {quote(str(meta.pk.column))}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if not returning:
            return []
        # keys grow in the order the rows were inserted, which is the order of the lists
        keys = sorted(row[0] for row in cursor.fetchall())
    if len(keys) != n:
        raise RuntimeError(f"{meta.label}: {len(keys)} keys returned for {n} rows")
    return keys


def _prepared(field: models.Field, value: Any) -> Any:
    return field.get_db_prep_save(value, connection)


def _sqlite_value(field: models.Field, value: Any) -> Any:
    """What SQLite stores for ``value`` in ``field``, as a JSON scalar."""
    if isinstance(field, models.JSONField):
        return json.dumps(value, cls=field.encoder)
    prepared = _prepared(field, value)
    if prepared is None or isinstance(prepared, int | float | str):
        return prepared
    return str(prepared)
