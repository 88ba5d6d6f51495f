"""Queries compiled once per process, run many times with new values.

Django compiles a queryset to SQL every time it runs it. For most queries that is a
fraction of a millisecond; for the few built from many conditions and subqueries — who
may take a task: the holders of its permission among everyone who sees its project —
compiling costs twenty times what running the SQL does, on every task completion.

``Prepared`` builds such a queryset once with stand-in values, compiles it, and finds
where the stand-ins landed among the SQL's parameters; each call then swaps in the real
values and runs the same SQL (``Model.objects.raw``), yielding model instances.
"""

from __future__ import annotations

import copy
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import (
    FlatValuesListIterable,
    ModelIterable,
    NamedValuesListIterable,
    RawQuerySet,
    ValuesIterable,
    ValuesListIterable,
)
from django.db.models.sql.compiler import SQLCompiler
from django.db.transaction import TransactionManagementError

#: Stand-in values no real argument takes: negative ids, and text no code contains.
_INT_BASE = -7_319_000_000
_TEXT_MARK = "\x1fprepared-"
_INT32_BASE = -2_100_000_000


class _Converters:
    """The converters of one compiled query's columns, built once per database connection.

    Django rebuilds them (``SQLCompiler.get_converters``: the backend's and each field's
    ``from_db_value``…) every time a query yields rows — 7 % of a task completion over HTTP
    (issue 20's profiles), for columns that never change once the query is compiled. They
    are bound to one connection (``connection.ops``'s methods, its time zone), and every
    thread has its own connection (daphne runs sync views in threads; a pooled PostgreSQL
    connection keeps its wrapper), so they are kept per connection object, weakly: a
    thread's connection that goes away takes its converters with it, and no connection is
    ever given another's."""

    __slots__ = ("_by_connection", "_lock")

    def __init__(self) -> None:
        self._by_connection: weakref.WeakKeyDictionary[Any, dict] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def install(self, run: SQLCompiler, connection: Any) -> None:
        """Give ``run`` (a copy of the compiled compiler, on ``connection``) this query's
        converters instead of building them again. Only the query's own select list is
        served from the cache; any other list of expressions goes to Django as before."""
        fields = [s[0] for s in run.select[0 : run.col_count]]
        converters = self._by_connection.get(connection)
        if converters is None:
            converters = SQLCompiler.get_converters(run, fields)
            with self._lock:
                self._by_connection[connection] = converters

        def get_converters(expressions: Any) -> dict:
            if len(expressions) == len(fields) and all(a is b for a, b in zip(expressions, fields, strict=True)):
                return converters
            return SQLCompiler.get_converters(run, expressions)

        run.get_converters = get_converters  # type: ignore[method-assign]


def _run(
    queryset: QuerySet, compiler: Any, sql: str, params: tuple, converters: _Converters, using: str, connection: Any
) -> list:
    """The model instances of ``queryset`` compiled to ``compiler`` and ``sql``, run with
    ``params`` on ``connection`` without compiling it again."""
    run = copy.copy(compiler)
    run.using, run.connection = using, connection
    run.as_sql = lambda *args, **kwargs: (sql, params)
    converters.install(run, connection)
    query = copy.copy(queryset.query)
    query.get_compiler = lambda *args, **kwargs: run  # type: ignore[method-assign]
    # a shallow copy by hand: copy.copy() of a queryset evaluates it (__getstate__)
    evaluated = queryset.__class__.__new__(queryset.__class__)
    evaluated.__dict__ = {**queryset.__dict__, "_query": query, "_db": using, "_result_cache": None}
    return list(queryset._iterable_class(evaluated))  # type: ignore[call-overload]


class Prepared:
    """``build(**arguments) -> QuerySet``, compiled once per database vendor. Every argument
    is declared as ``int`` or ``str``, and must reach the SQL as a parameter of its own
    (not folded into the SQL text, not transformed): ``__call__`` checks each stand-in
    was found exactly where it was put."""

    def __init__(self, build: Callable[..., QuerySet], **arguments: type) -> None:
        self.build = build
        self.stand_ins: dict[str, Any] = {}
        for i, (name, kind) in enumerate(arguments.items()):
            if kind is int:
                self.stand_ins[name] = _INT_BASE - i
            elif kind is str:
                self.stand_ins[name] = f"{_TEXT_MARK}{name}"
            else:
                raise TypeError(f"{name}: only int and str arguments can be prepared")
        self._compiled: dict[str, tuple[type[Model], str, list, list[tuple[int, str]]]] = {}

    def _slots(self, params: Any) -> list[tuple[int, str]]:
        """Where each argument's stand-in landed among the compiled SQL's parameters."""
        slots = [
            (position, name)
            for position, value in enumerate(params)
            for name, stand_in in self.stand_ins.items()
            if type(value) is type(stand_in) and value == stand_in
        ]
        missing = set(self.stand_ins) - {name for _, name in slots}
        if missing:
            raise ValueError(f"prepared query: {', '.join(sorted(missing))} did not reach the SQL as parameters")
        return slots

    def _compile(self, using: str) -> tuple[type[Model], str, list, list[tuple[int, str]]]:
        queryset = self.build(**self.stand_ins)
        sql, params = queryset.query.get_compiler(using=using).as_sql()
        slots = self._slots(params)
        return queryset.model, sql, list(params), slots

    def __call__(self, using: str = "default", **values: Any) -> RawQuerySet:
        vendor = connections[using].vendor
        if vendor not in self._compiled:
            self._compiled[vendor] = self._compile(using)
        model, sql, params, slots = self._compiled[vendor]
        bound = list(params)
        for position, name in slots:
            bound[position] = values[name]
        return model._default_manager.db_manager(using).raw(sql, bound)


class PreparedModels(Prepared):
    """A prepared queryset run through the ORM's own machinery: ``__call__`` returns the
    list of model instances the queryset itself would give — its ``select_related``
    objects, annotations and row locks included — without compiling it again.

    The queryset compiled with the stand-ins keeps its compiler (the selected columns,
    how rows map to instances); each call runs a copy of it with the SQL and the real
    values. Only plain evaluation is served: the built queryset carries its own filters,
    ordering and slice (``[:1]`` for "the first"); no ``prefetch_related``, no
    ``values()`` (``PreparedValues`` below)."""

    #: the kinds of results served, and what the check says when refusing another
    _iterables: tuple[type, ...] = (ModelIterable,)
    _refusal = "prepared models: only plain querysets of model instances"

    def __init__(self, build: Callable[..., QuerySet], **arguments: type) -> None:
        super().__init__(build, **arguments)
        for i, (name, kind) in enumerate(arguments.items()):
            if kind is int:  # within a 32-bit column's range: Django empties a lookup beyond it
                self.stand_ins[name] = _INT32_BASE - i
        self._ready: dict[str, tuple[QuerySet, Any, str, list, list[tuple[int, str]], _Converters]] = {}

    def _prepare(self, using: str) -> tuple[QuerySet, Any, str, list, list[tuple[int, str]], _Converters]:
        queryset = self.build(**self.stand_ins)
        prefetch = queryset._prefetch_related_lookups  # type: ignore[attr-defined]
        if prefetch or not issubclass(queryset._iterable_class, self._iterables):
            raise ValueError(self._refusal)
        compiler = queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        slots = self._slots(params)
        return queryset, compiler, sql, list(params), slots, _Converters()

    def __call__(self, using: str = "default", **values: Any) -> list:  # type: ignore[override]
        vendor = connections[using].vendor
        if vendor not in self._ready:
            self._ready[vendor] = self._prepare(using)
        queryset, compiler, sql, params, slots, converters = self._ready[vendor]
        connection = connections[using]
        features = connection.features
        if (  # as the compiler refuses it
            queryset.query.select_for_update
            and features.has_select_for_update
            and connection.get_autocommit()
            and features.supports_transactions
        ):
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        bound = list(params)
        for position, name in slots:
            bound[position] = values[name]
        return _run(queryset, compiler, sql, tuple(bound), converters, using, connection)


class PreparedValues(PreparedModels):
    """``PreparedModels`` for a ``values()`` / ``values_list()`` queryset (an aggregate per
    group, say): ``__call__`` returns the list of dicts or tuples the queryset would give,
    each column converted as the ORM converts it."""

    _iterables = (ValuesIterable, ValuesListIterable, FlatValuesListIterable, NamedValuesListIterable)
    _refusal = "prepared values: only values() or values_list() querysets, without prefetch"


class PreparedModelsIn:
    """``build(ids) -> QuerySet`` over a list of ids (``pk__in=ids``, with whatever else
    the queryset says), compiled once per number of ids up to ``most``; none or more ids
    than that go through the ORM as the queryset is. The ids are taken without repeats,
    in ascending order (the same rows: an ``IN`` list's order and repeats change nothing)."""

    def __init__(self, build: Callable[[list[int]], QuerySet], *, most: int = 8) -> None:
        self.build = build
        self.most = most
        self._by_count: dict[int, PreparedModels] = {}

    def __call__(self, ids: Any, using: str = "default") -> list:
        ids = sorted({int(pk) for pk in ids if pk is not None})  # an IN list drops None too
        count = len(ids)
        if not 0 < count <= self.most:
            return list(self.build(ids).using(using))
        prepared = self._by_count.get(count)
        if prepared is None:
            build = self.build
            prepared = self._by_count[count] = PreparedModels(
                lambda **stand_ins: build(list(stand_ins.values())), **{f"id{i}": int for i in range(count)}
            )
        return prepared(using, **{f"id{i}": pk for i, pk in enumerate(ids)})


# -- querysets compiled once per key (the inbox, issue 20) ---------------------------------------


class CompiledQueries:
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
    annotations included) are served, as ``PreparedModels`` above serves them;
    ``count`` runs the count Django itself would run (recorded the first time).
    """

    def __init__(self, size: int = 512) -> None:
        self.size = size
        #: per key: (queryset, compiler, sql, params), or None for a query that can match nothing
        self._rows: OrderedDict[Hashable, tuple[QuerySet, Any, str, tuple, _Converters] | None] = OrderedDict()
        self._counts: OrderedDict[Hashable, tuple[str, tuple]] = OrderedDict()
        self._prepared: OrderedDict[Hashable, PreparedModels] = OrderedDict()
        self._lock = threading.Lock()
        #: how many times a queryset was built and compiled (tests read it)
        self.compiled = 0

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()
            self._counts.clear()
            self._prepared.clear()

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
                entry = (queryset, compiler, sql, tuple(params), _Converters())
            self.compiled += 1
            self._remember(self._rows, full, entry)
        if entry is None:
            return []
        queryset, compiler, sql, params, converters = entry
        return _run(queryset, compiler, sql, params, converters, using, connection)

    def prepared(self, key: Hashable, build: Callable[..., QuerySet], **arguments: type) -> PreparedModels:
        """The ``PreparedModels`` of ``build`` for ``key``: a query whose shape ``key`` names
        (every input it is built from but ``arguments``, e.g. the user's shape) and whose
        ``arguments`` vary per call (e.g. the record's id). Kept beside the rows, evicted
        oldest first beyond ``size``."""
        try:
            return self._prepared[key]
        except KeyError:
            pass
        found = PreparedModels(build, **arguments)
        self.compiled += 1
        self._remember(self._prepared, key, found)
        return found

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
