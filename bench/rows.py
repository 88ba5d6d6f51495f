"""The limit beside a bulk workload: the same rows it inserted, inserted again on the same
starting state by the ORM (``bulk_create``) and by the database driver with nothing in
between (``executemany`` on SQLite, ``COPY`` on PostgreSQL).

``NewRows.watch()`` notes every table's largest key; after the workload ``take()`` keeps
every row above it, in every table that got some — whatever the workload wrote, nothing
chosen by hand. Restore the snapshot, then time ``orm_insert()`` or ``raw_insert()``.
Rows a workload *updated* (e.g. the projects' stage) are not part of the limit.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import connection, models, transaction
from django.db.models import Max

from workflows.models import ProjectProcessRow


def _tables() -> list[type[models.Model]]:
    """Every table with an integer key; a bulk-started flow's child rows under their own
    model (ProjectProcess cannot be bulk-created, workflows.bulk writes ProjectProcessRow)."""
    found: dict[str, type[models.Model]] = {}
    for model in apps.get_models(include_auto_created=True):
        pk = model._meta.pk
        while isinstance(pk, models.ForeignKey):
            pk = pk.target_field
        if not model._meta.proxy and isinstance(pk, models.AutoField):  # Big/SmallAutoField too
            found.setdefault(model._meta.db_table, model)
    found[ProjectProcessRow._meta.db_table] = ProjectProcessRow
    return list(found.values())


def _order(tables: list[type[models.Model]]) -> list[type[models.Model]]:
    """Parents before children (the non-null foreign keys among the tables; a nullable one,
    like a process's parent task, would make a cycle)."""
    by_table = {m._meta.db_table: m for m in tables}
    done: list[type[models.Model]] = []

    def visit(model: type[models.Model], seen: set[str]) -> None:
        if model in done or model._meta.db_table in seen:
            return
        seen.add(model._meta.db_table)
        for f in model._meta.concrete_fields:
            if f.is_relation and not f.null and f.related_model is not None:
                parent = by_table.get(f.related_model._meta.db_table)
                if parent is not None and parent is not model:
                    visit(parent, seen)
        done.append(model)

    for m in tables:
        visit(m, set())
    return done


@dataclass
class Table:
    model: type[models.Model]
    columns: list[str]
    raw: Any  # SQLite: list of tuples as stored; PostgreSQL: COPY text
    instances: list[models.Model]
    count: int


@dataclass
class NewRows:
    before: dict[type[models.Model], int] = field(default_factory=dict)
    tables: list[Table] = field(default_factory=list)

    @classmethod
    def watch(cls) -> NewRows:
        watch = cls()
        for model in _tables():
            watch.before[model] = model._base_manager.aggregate(m=Max("pk"))["m"] or 0
        return watch

    def take(self) -> NewRows:
        for model in _order(list(self.before)):
            since = self.before[model]
            instances = list(model._base_manager.filter(pk__gt=since).order_by("pk"))
            if not instances:
                continue
            columns = [f.column for f in model._meta.concrete_fields]
            self.tables.append(Table(model, columns, _read_raw(model, columns, since), instances, len(instances)))
        return self

    @property
    def rows(self) -> int:
        return sum(t.count for t in self.tables)

    def describe(self) -> str:
        return ", ".join(f"{t.model._meta.db_table} {t.count:,}" for t in self.tables)

    def orm_insert(self) -> None:
        """``bulk_create`` of the same rows (built from their field values, as a service
        builds its instances), one call per table, in one transaction."""
        with transaction.atomic():
            for t in self.tables:
                names = [f.attname for f in t.model._meta.concrete_fields]
                objs = [t.model(**{n: getattr(o, n) for n in names}) for o in t.instances]
                t.model._base_manager.bulk_create(objs)

    def raw_insert(self) -> None:
        """The same rows through the driver: one ``executemany`` per table on SQLite (on a
        plain sqlite3 connection, foreign keys on), one ``COPY`` per table on PostgreSQL;
        one transaction."""
        if connection.vendor == "sqlite":
            connection.close()
            raw = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
            try:
                raw.execute("PRAGMA foreign_keys = ON")
                raw.execute("BEGIN")
                for t in self.tables:
                    cols = ", ".join(f'"{c}"' for c in t.columns)
                    marks = ", ".join("?" for _ in t.columns)
                    raw.executemany(f'INSERT INTO "{t.model._meta.db_table}" ({cols}) VALUES ({marks})', t.raw)
                raw.execute("COMMIT")
            finally:
                raw.close()
            return
        with transaction.atomic(), connection.cursor() as cursor:
            for t in self.tables:
                cols = ", ".join(f'"{c}"' for c in t.columns)
                with cursor.cursor.copy(f'COPY "{t.model._meta.db_table}" ({cols}) FROM STDIN') as copy:
                    copy.write(t.raw)


def _read_raw(model: type[models.Model], columns: list[str], since: int) -> Any:
    table, pk = model._meta.db_table, model._meta.pk.column
    cols = ", ".join(f'"{c}"' for c in columns)
    select = f'SELECT {cols} FROM "{table}" WHERE "{pk}" > {int(since)} ORDER BY "{pk}"'
    if connection.vendor == "sqlite":
        raw = sqlite3.connect(connection.settings_dict["NAME"])
        try:
            return raw.execute(select).fetchall()  # the values as stored, no converters
        finally:
            raw.close()
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY ({select}) TO STDOUT") as copy:
            return b"".join(bytes(chunk) for chunk in copy)
