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
    n = _row_count(each)
    if n == 0:
        return []
    sql, params = insert_sql(model, same=same, each=each)
    meta = model._meta
    if returning:
        sql += f" RETURNING {connection.ops.quote_name(str(meta.pk.column))}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if not returning:
            return []
        # keys grow in the order the rows were inserted, which is the order of the lists
        keys = sorted(row[0] for row in cursor.fetchall())
    if len(keys) != n:
        raise RuntimeError(f"{meta.label}: {len(keys)} keys returned for {n} rows")
    return keys


def _row_count(each: Mapping[str, Sequence[Any]]) -> int:
    sizes = {len(values) for values in each.values()}
    if len(sizes) != 1:
        raise ValueError("every column of `each` needs one value per row")
    return sizes.pop()


def fixed_columns(model: type[models.Model], *, same: Mapping[str, Any], given: set[str]) -> list[models.Field]:
    """The concrete fields of ``model`` a bulk insert fills with one value for every row:
    those in ``same``, else their default, else NULL (not the ``given`` per-row columns,
    not an auto primary key). Raises ValueError for a column with none of these."""
    meta = model._meta
    fixed: list[models.Field] = []
    for field in meta.concrete_fields:
        name = field.attname
        if name in given:
            continue
        if name in same or field.has_default() or field.null:
            fixed.append(field)
        elif not (field is meta.pk and isinstance(field, models.AutoField)):
            raise ValueError(f"{meta.label}.{name}: no value and no default")
    unknown = set(same) - {f.attname for f in fixed} - given
    unknown |= given - {f.attname for f in meta.concrete_fields}
    if unknown:
        raise ValueError(f"{meta.label}: no such columns {sorted(unknown)}")
    return fixed


def fixed_value(field: models.Field, same: Mapping[str, Any]) -> Any:
    """The value, prepared for the database, of a column ``fixed_columns`` returned."""
    if field.attname in same:
        return _prepared(field, same[field.attname])
    return _prepared(field, field.get_default() if field.has_default() else None)


def insert_sql(
    model: type[models.Model], *, same: Mapping[str, Any], each: Mapping[str, Sequence[Any]]
) -> tuple[str, list[Any]]:
    """The ``INSERT … SELECT`` statement ``insert_rows`` runs (without RETURNING) and its
    parameters, for a caller that runs it inside a larger statement."""
    _row_count(each)
    meta = model._meta
    fixed = fixed_columns(model, same=same, given=set(each))
    varying = [(field, each[field.attname]) for field in meta.concrete_fields if field.attname in each]

    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(f.column)) for f in [*fixed, *(f for f, _v in varying)])
    params: list[Any] = [fixed_value(f, same) for f in fixed]
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
    return sql, params


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


def insert_unless_exists(instance: models.Model, *, unique: Sequence[str]) -> bool:
    """Insert the unsaved ``instance`` unless a row with its values of the ``unique`` fields
    (a unique constraint) exists: ``INSERT … ON CONFLICT DO NOTHING``, one statement, no
    savepoint. True, and ``instance`` saved with its new key, if inserted. A transaction
    inserting the same key concurrently is waited for: its commit makes this a no-op, its
    rollback lets this insert. The new row is the caller's alone until it commits."""
    meta = instance._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    by_name = {f.name: f for f in fields}
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(str(f.column)) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        f"ON CONFLICT ({', '.join(quote(str(by_name[name].column)) for name in unique)}) DO NOTHING "
        f"RETURNING {quote(str(meta.pk.column))}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields])
        row = cursor.fetchone()
    if row is None:
        return False
    instance.pk = row[0]
    instance._state.adding, instance._state.db = False, connection.alias
    return True
