"""The signed-in user's three reads of every request, compiled once per database.

Every signed-in request reads the user's row (the session's user), their permissions and
their role names. Building and compiling those three querysets costs more than running
their SQL; each is compiled here once per database vendor with a stand-in user id and
run again with the real one. (``config.prepared`` does the same for the apps above; the
accounts app imports nothing of ours, so its three queries have this small copy.)
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import connections
from django.db.models import QuerySet

#: A user id no user has: where it lands among the compiled query's parameters, the
#: user's id goes (within a 32-bit column's range, which Django would otherwise empty).
STAND_IN = -2_100_000_077
#: The largest id the user id column holds (a 32-bit integer; Django empties a lookup beyond it).
MAX_ID = 2**31 - 1

#: (name, vendor) → the SQL, its parameters, and where the user id goes among them
_COMPILED: dict[tuple[str, str], tuple[str, list, list[int]]] = {}


def by_user_id(name: str, build: Callable[[int], QuerySet], user_id: int, using: str) -> tuple[str, list]:
    """The SQL and parameters of ``build(user_id)``, compiled once per ``name`` and vendor
    (``build`` must put the id into the SQL as parameters only: checked on compiling)."""
    vendor = connections[using].vendor
    entry = _COMPILED.get((name, vendor))
    if entry is None:
        sql, params = build(STAND_IN).query.get_compiler(using=using).as_sql()
        slots = [i for i, value in enumerate(params) if type(value) is int and value == STAND_IN]
        if not slots:
            raise RuntimeError(f"{name}: the user id did not reach the query's parameters")
        entry = _COMPILED[(name, vendor)] = (sql, list(params), slots)
    sql, params, slots = entry
    bound = list(params)
    for i in slots:
        bound[i] = user_id
    return sql, bound
