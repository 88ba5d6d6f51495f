"""The unread count of base.html's badge, on every signed-in page.

Django built and compiled ``unread_count``'s COUNT query on each page (~a quarter of the
base template's own rendering, issue 20). Its SQL depends on nothing but the user's id,
so it is compiled once per database (decision 0029: SQL kept, never rows — nothing to
invalidate): the statement ``unread_count`` itself runs for a stand-in user is recorded,
and each page runs it with the user's id in the stand-in's place.
"""

from django.db import connections

from .models import Notification
from .services import unread_count

#: A user id no row has; its place among the recorded statement's parameters is checked.
_STAND_IN = -7_319_500_001
#: per (database alias, vendor): (sql, params, the stand-in's position)
_compiled: dict[tuple[str, str], tuple[str, tuple, int]] = {}


def _compile(alias: str) -> tuple[str, tuple, int] | None:
    from django.contrib.auth import get_user_model

    stand_in = get_user_model()(pk=_STAND_IN)
    stand_in._state.adding = False
    seen: list[tuple[str, tuple]] = []

    def record(execute, sql, params, many, context):
        seen.append((sql, tuple(params or ())))
        return execute(sql, params, many, context)

    with connections[alias].execute_wrapper(record):
        unread_count(stand_in)
    if len(seen) != 1:
        return None
    sql, params = seen[0]
    places = [i for i, value in enumerate(params) if type(value) is int and value == _STAND_IN]
    if len(places) != 1:
        return None
    return sql, params, places[0]


def count_unread(user) -> int:
    """``unread_count(user)``, its statement compiled once (see the module's doc)."""
    alias = Notification.objects.db
    connection = connections[alias]
    key = (alias, connection.vendor)
    entry = _compiled.get(key)
    if entry is None:
        entry = _compile(alias)
        if entry is None:  # not one statement with the id as a parameter: never seen, but safe
            return unread_count(user)
        _compiled[key] = entry
    sql, params, place = entry
    bound = list(params)
    bound[place] = user.pk
    with connection.cursor() as cursor:
        cursor.execute(sql, bound)
        return cursor.fetchone()[0]


def unread_notifications(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": count_unread(user)}
