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
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from django.db import connection, models
from django.db.models.base import ModelState

M = TypeVar("M", bound=models.Model)


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
    model: type[models.Model],
    *,
    same: Mapping[str, Any],
    each: Mapping[str, Sequence[Any]],
    encoded: Collection[str] = (),
) -> tuple[str, list[Any]]:
    """The ``INSERT … SELECT`` statement ``insert_rows`` runs (without RETURNING) and its
    parameters, for a caller that runs it inside a larger statement. ``encoded``: JSON
    columns (PostgreSQL) whose ``each`` values are their JSON text already."""
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
                encode = _json_encoder(field)
                texts = list(values) if field.attname in encoded else [encode(value) for value in values]
                literal = array_literal(texts)
                params.append(texts if literal is None else literal)
            else:
                arrays.append(f"%s::{field.cast_db_type(connection)}[]")
                picks.append(f"v.c{i}")
                kind = _kind(field)
                exact = {"text": str, "int": int}.get(kind)
                literal = None
                if exact is not None and all(type(value) is exact for value in values):
                    # what the converter would leave as is (a str) or size (an int)
                    literal = array_literal(values)
                if literal is not None:
                    params.append(literal)
                    continue
                prepare = _converter(field)
                prepared = [prepare(value) for value in values]
                literal = array_literal(prepared) if kind in ("text", "int") else None
                params.append(prepared if literal is None else literal)
        source = f"UNNEST({', '.join(arrays)}) AS v({', '.join(f'c{i}' for i in range(len(varying)))})"
    elif connection.vendor == "sqlite":
        for i, _fv in enumerate(varying):
            picks.append(f"json_extract(v.value, '$[{i}]')")
        columns_ = []
        for f, values in varying:
            convert = _sqlite_converter(f)
            columns_.append([convert(x) for x in values])
        rows = zip(*columns_, strict=True)
        params.append(json.dumps(list(rows), separators=(",", ":")))
        source = "json_each(%s) AS v"
    else:  # pragma: no cover - the project runs on SQLite and PostgreSQL
        raise NotImplementedError(connection.vendor)
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) SELECT {', '.join(picks)} FROM {source}"
    return sql, params


def array_literal(values: Sequence[Any]) -> str | None:
    """PostgreSQL's text form of a one-dimensional array of ``values`` (``{"a","b\\"c",NULL}``),
    cast by the statement to the column's array type: the same array the driver sends for
    the list, built by a few string operations over the whole column rather than a dumper
    call and a regular expression per element (the driver's cost for a campaign's columns
    of 3,755 values). Only for values that are all str, int (psycopg's sized ints too) or
    None; otherwise None (the caller sends the list)."""
    if not values:
        return "{}"
    if all(type(v) is str for v in values):
        joined = "\x00".join(values)  # NUL: never in a PostgreSQL text (the driver refuses it)
        if joined.count("\x00") != len(values) - 1:
            return None
        escaped = joined.replace("\\", "\\\\").replace('"', '\\"').replace("\x00", '","')
        return '{"' + escaped + '"}'
    if all(isinstance(v, int) and type(v) is not bool for v in values):
        return "{" + ",".join(map(str, map(int, values))) + "}"
    parts = []
    for value in values:
        if value is None:
            parts.append("NULL")
        elif type(value) is str:
            parts.append('"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"')
        elif isinstance(value, int) and type(value) is not bool:
            parts.append(str(int(value)))
        else:
            return None
    return "{" + ",".join(parts) + "}"


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


# -- one conversion chosen per column, not per value -----------------------------------------
#
# A column of thousands of values went through ``get_db_prep_save`` value by value (six
# calls deep each, the largest share of a campaign launch's Python time on SQLite). The
# values the bulk actions send are mostly of the field's own type already — a str for a
# text column, an int for an integer or a key, an aware datetime — and for those the
# field's preparation is known: the value itself, or (SQLite) the naive UTC datetime's
# ``str``. Any other value, and any other field, still goes through the field.

_TEXT_FIELDS = (models.CharField, models.TextField, models.SlugField, models.EmailField)
_INT_FIELDS = (
    models.AutoField,
    models.BigAutoField,
    models.SmallAutoField,
    models.IntegerField,
    models.BigIntegerField,
    models.SmallIntegerField,
    models.PositiveIntegerField,
    models.PositiveBigIntegerField,
    models.PositiveSmallIntegerField,
)


def _kind(field: models.Field) -> str:
    """The kind ("text", "int", "datetime") of a field whose preparation of a value of its own type
    is known (its exact class one of Django's own, a key to such a column), else ""."""
    if isinstance(field, models.ForeignKey) and type(field) in (models.ForeignKey, models.OneToOneField):
        return _kind(field.target_field)
    if type(field) in _TEXT_FIELDS:
        return "text"
    if type(field) in _INT_FIELDS:
        return "int"
    if type(field) is models.DateTimeField:
        return "datetime"
    return ""


def _converter(field: models.Field) -> Callable[[Any], Any]:
    """``field.get_db_prep_save(value, connection)`` for one column's values, quicker for a
    value of the field's own type (the same result: tests/processes/test_bulk_insert.py)."""
    kind = _kind(field)

    def slow(value: Any) -> Any:
        return field.get_db_prep_save(value, connection)

    if kind == "text":
        return lambda value: value if type(value) is str else slow(value)
    if kind == "int":
        target = field.target_field if isinstance(field, models.ForeignKey) else field
        # PostgreSQL (psycopg 3): an integer column's value goes as its sized type (Int4…),
        # an auto key's as the int itself
        sized = getattr(connection.ops, "integerfield_type_map", {}).get(target.get_internal_type())
        if sized is not None:
            return lambda value: sized(value) if type(value) is int else slow(value)
        return lambda value: value if type(value) is int else slow(value)
    if kind == "datetime":
        if connection.vendor == "postgresql":  # the driver adapts an aware datetime itself
            return lambda value: value if type(value) is datetime and value.tzinfo is not None else slow(value)
        if connection.vendor == "sqlite":
            zone = connection.timezone

            def naive_text(value: Any) -> Any:
                if type(value) is datetime and value.tzinfo is not None:
                    return str(value.astimezone(zone).replace(tzinfo=None))
                return slow(value)

            return naive_text
    return slow


def _json_encoder(field: models.JSONField) -> Callable[[Any], str]:
    """``json.dumps(value, cls=field.encoder)`` with one encoder for the whole column."""
    return (field.encoder or json.JSONEncoder)().encode


def _sqlite_converter(field: models.Field) -> Callable[[Any], Any]:
    """``_sqlite_value`` for one column's values."""
    if isinstance(field, models.JSONField):
        return _json_encoder(field)
    kind = _kind(field)
    if kind == "text":
        return lambda value: value if type(value) is str else _sqlite_value(field, value)
    if kind == "int":
        return lambda value: value if type(value) is int else _sqlite_value(field, value)
    if kind == "datetime":
        return _converter(field)  # the naive UTC text, or the field's own for another value
    return lambda value: _sqlite_value(field, value)


def insert_instances(template: M, each: Mapping[str, Sequence[Any]]) -> list[M]:
    """Insert one row per item of ``each``'s lists (``insert_rows``): the columns of the
    unsaved ``template`` as ``save`` would write them (each field's ``pre_save`` once, so
    every row has the same timestamps) and row i's ``each`` values. Returns the saved
    instances in row order, each a copy of ``template`` with its row's values and key —
    what ``bulk_create`` returns, without building and preparing an instance per row
    (``template``'s cached related objects are shared, as if each had been built with
    them). Inside the caller's transaction."""
    model = type(template)
    meta = template._meta
    pk = meta.pk
    if pk is None:  # pragma: no cover - every model here has a key
        raise ValueError(f"{meta.label}: no primary key")
    same = {
        f.attname: f.pre_save(template, True)
        for f in meta.concrete_fields
        if f.attname not in each and not (f is pk and getattr(template, f.attname) is None)
    }
    keys = insert_rows(model, same=same, each=each)
    return copies_of(template, each, keys)


def copies_of(template: M, each: Mapping[str, Sequence[Any]], keys: Sequence[Any]) -> list[M]:
    """Saved instances of ``template``'s model, one per key: each a copy of ``template``
    with row i's ``each`` values and ``keys[i]`` as its key (``template``'s cached related
    objects shared) — what building each through ``__init__`` (and django-fsm's initial
    state) would give, without the per-row cost."""
    model = type(template)
    pk = template._meta.pk
    if pk is None:  # pragma: no cover - every model here has a key
        raise ValueError(f"{template._meta.label}: no primary key")
    base = {name: value for name, value in template.__dict__.items() if name != "_state"}
    cache = template._state.fields_cache
    names = list(each)
    alias = connection.alias
    created = []
    for i, key in enumerate(keys):
        obj = model.__new__(model)
        values = {name: dict(value) if type(value) is dict else value for name, value in base.items()}
        for name in names:
            values[name] = each[name][i]
        values[pk.attname] = key
        state = ModelState()
        state.adding, state.db, state.fields_cache = False, alias, dict(cache)
        values["_state"] = state
        obj.__dict__.update(values)
        created.append(obj)
    return created


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
