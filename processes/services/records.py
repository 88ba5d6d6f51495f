"""What every writer of a versioned domain record does the same way."""

from __future__ import annotations

from django.db import models
from django_fsm import ConcurrentTransition

from ..errors import Conflict


def save_versioned(record: models.Model, *, counter: str = "revision") -> None:
    """Bump the record's version counter and save it. A concurrent state change since it was
    read (django-fsm's ConcurrentTransitionMixin) is a Conflict (409), not a 500."""
    setattr(record, counter, getattr(record, counter) + 1)
    try:
        record.save()
    except ConcurrentTransition as exc:
        raise Conflict() from exc
