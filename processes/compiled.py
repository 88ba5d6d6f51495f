"""Querysets compiled once per process for a key that names everything they are built from.

The inbox asks the same few queries of the same user on every visit: their open tasks
(a count and a page) and one query per kind of state-machine step. Building and
compiling those querysets — nested ``Q`` objects, a visibility subquery, wide
``select_related`` joins — costs several times what running their SQL does (issue 20's
profiles: ~25 % of the inbox's CPU).

``CompiledQueries`` keeps, per database vendor and ``key``, the compiled SQL of the
queryset ``build()`` returns, and runs it again without building or compiling. The key
must hold **every** value the queryset is built from: the SQL is a pure function of them,
so an entry never goes stale — a write that changes an input (a user's roles,
permissions, department, agency) changes the key (see ``user_shape``). Entries are
evicted oldest first beyond ``size`` per store: a compiled queryset holds ~35 KB
(measured), so the default 512 keep ~18 MB per process at most — the recent visitors'
inboxes (a user's inbox takes 2 entries for its tasks and one per kind of step).

Only plain querysets of model instances (their ``select_related`` objects and
annotations included) are served, as ``processes.prepared.PreparedModels`` serves them;
``count`` runs the count Django itself would run (recorded the first time).
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet
from django.db.models.query import ModelIterable


def user_shape(user: Any) -> tuple:
    """Everything of ``user`` the visibility rules read (processes.selectors.project_list_for,
    evaluation_work_for, workflows.selectors.task_inbox_for): who they are, whether active,
    a superuser (a system account, holding no business permission), their department and
    agency, roles and permissions. No query beyond those the rules make themselves (the
    role and permission caches of the user object)."""
    business = user.is_active and not user.is_superuser
    perms = frozenset(user.get_all_permissions()) if business else frozenset()
    return (
        user.pk,
        user.is_active,
        user.is_superuser,
        user.department_id,
        user.agency_id,
        user.role_names,
        perms,
    )


class CompiledQueries:
    def __init__(self, size: int = 512) -> None:
        self.size = size
        #: per key: (queryset, compiler, sql, params), or None for a query that can match nothing
        self._rows: OrderedDict[Hashable, tuple[QuerySet, Any, str, tuple] | None] = OrderedDict()
        self._counts: OrderedDict[Hashable, tuple[str, tuple]] = OrderedDict()
        self._lock = threading.Lock()
        #: how many times a queryset was built and compiled (tests read it)
        self.compiled = 0

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()
            self._counts.clear()

    def _remember(self, store: OrderedDict, key: Hashable, value: Any) -> None:
        with self._lock:
            store[key] = value
            while len(store) > self.size:
                store.popitem(last=False)

    def rows(self, key: Hashable, build: Callable[[], QuerySet], using: str = "default") -> list:
        """The model instances of ``build()`` (its slice, ordering, ``select_related``)."""
        connection = connections[using]
        full = (connection.vendor, using, key)
        try:
            entry = self._rows[full]
        except KeyError:
            queryset = build()
            prefetch = queryset._prefetch_related_lookups  # type: ignore[attr-defined]
            if prefetch or not issubclass(queryset._iterable_class, ModelIterable):
                raise ValueError("compiled queries: only plain querysets of model instances") from None
            if queryset.query.select_for_update:
                raise ValueError("compiled queries: no row locks") from None
            compiler = queryset.query.get_compiler(using=using)
            try:
                sql, params = compiler.as_sql()
            except EmptyResultSet:  # e.g. pk__in=[]: Django answers it without a statement
                entry = None
            else:
                entry = (queryset, compiler, sql, tuple(params))
            self.compiled += 1
            self._remember(self._rows, full, entry)
        if entry is None:
            return []
        queryset, compiler, sql, params = entry
        run = copy.copy(compiler)
        run.using, run.connection = using, connection
        run.as_sql = lambda *args, **kwargs: (sql, params)
        query = copy.copy(queryset.query)
        query.get_compiler = lambda *args, **kwargs: run  # type: ignore[method-assign]
        # a shallow copy by hand: copy.copy() of a queryset evaluates it (__getstate__)
        evaluated = queryset.__class__.__new__(queryset.__class__)
        evaluated.__dict__ = {**queryset.__dict__, "_query": query, "_db": using, "_result_cache": None}
        return list(queryset._iterable_class(evaluated))  # type: ignore[call-overload]

    def count(self, key: Hashable, build: Callable[[], QuerySet], using: str = "default") -> int:
        """``build().count()``: the first time through Django (its statement recorded), then
        the recorded statement alone."""
        connection = connections[using]
        full = (connection.vendor, using, key)
        entry = self._counts.get(full)
        if entry is None:
            seen: list[tuple[str, tuple]] = []

            def record(execute, sql, params, many, context):
                seen.append((sql, tuple(params or ())))
                return execute(sql, params, many, context)

            with connection.execute_wrapper(record):
                answer = build().count()
            self.compiled += 1
            if len(seen) == 1:  # a count Django ran as one statement (not answered without SQL)
                self._remember(self._counts, full, seen[0])
            return answer
        sql, params = entry
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()[0]


#: The process's one store (the inbox's queries).
compiled_queries = CompiledQueries()
