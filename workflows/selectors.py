"""Task reads with the visibility rules: a user's inbox is the tasks assigned to them plus
the queued tasks they hold the permission for *on projects they may see*."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import F, Q, QuerySet
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS, STATUS

from accounts.models import User
from processes.selectors import project_list_for

#: How an inbox may be sorted: by creation (the default) or by due time, tasks without one last.
INBOX_ORDER = {
    "created": ("created", "pk"),
    "due": (F("due_at").asc(nulls_last=True), "created", "pk"),
    "-due": (F("due_at").desc(nulls_last=True), "created", "pk"),
}


def task_inbox_for(user: User | AnonymousUser, *, sort: str = "created") -> QuerySet[Task]:
    """The user's open tasks, each annotated with ``due_at`` (its TaskDue, or None), in the
    order ``sort`` names (a key of INBOX_ORDER; anything else: by creation)."""
    if not user.is_authenticated:
        return Task.objects.none()
    # a superuser is a system account: it holds no business permission (三员分立)
    perms = set() if user.is_superuser else user.get_all_permissions()
    return (
        Task.objects.filter(flow_task_type="HUMAN", process__status=PROCESS.NEW)
        .filter(
            Q(owner=user, status=STATUS.ASSIGNED)
            | Q(
                owner__isnull=True,
                status=STATUS.NEW,
                owner_permission__in=perms,
                process__projectprocess__project__in=project_list_for(user).values("pk"),
            )
        )
        # the process data too: a row's work page is named there (a report, a self-evaluation)
        .select_related("process__projectprocess__project__department", "owner")
        .annotate(due_at=F("due__due_at"))
        .order_by(*INBOX_ORDER.get(sort, INBOX_ORDER["created"]))
    )


def task_get_for(user: User | AnonymousUser, pk) -> Task:
    from django.shortcuts import get_object_or_404

    return get_object_or_404(task_inbox_for(user), pk=pk)


def task_get_visible_to(user: User, pk) -> Task:
    """Any human task, open or done, of a project ``user`` may see; 404 otherwise.

    The inbox answers only open tasks the user may take; this lets a task page tell
    "someone else already did it" (409) and "not yours" (403) from "no such task" (404).
    """
    from django.shortcuts import get_object_or_404

    return get_object_or_404(
        Task.objects.filter(
            flow_task_type="HUMAN",
            process__projectprocess__project__in=project_list_for(user).values("pk"),
        ).select_related("process__projectprocess__project__department", "owner"),
        pk=pk,
    )
