"""The one status vocabulary of a flow task, for the inbox, the task page, the project page
and the 督办看板 (issue 21).

There is no claim step: the first eligible user to act takes and completes a queued task in
one locked step (workflows/nodes.py), so a queued task is 待办理 (with the roles that may do
it), not 待认领; a task named for one person (a panel seat) is 已指派.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy
from viewflow.workflow.status import PROCESS, STATUS

QUEUED = "queued"
ASSIGNED = "assigned"
DONE = "done"
CANCELLED = "cancelled"

LABELS = {
    QUEUED: gettext_lazy("待办理"),
    ASSIGNED: gettext_lazy("已指派"),
    DONE: gettext_lazy("已办结"),
    CANCELLED: gettext_lazy("已取消"),
}

OPEN = (STATUS.NEW, STATUS.ASSIGNED)


def task_state(status: str, owner_id: int | None, process_status: str = PROCESS.NEW) -> str:
    """One of QUEUED, ASSIGNED, DONE, CANCELLED."""
    if status in OPEN and process_status == PROCESS.NEW:
        return ASSIGNED if owner_id else QUEUED
    if status in (STATUS.CANCELED, STATUS.REVIVED) or process_status == PROCESS.CANCELED:
        return CANCELLED
    return DONE


def task_state_label(state: str) -> str:
    return str(LABELS[state])
