"""年度关账 (year close-out, issue 18): the finance section closes a year's evaluated
projects that have nothing left open — no finding, or every finding issued and every
rectification verified — by the declared transition ``BudgetProject.close_out``, one
project at a time or a whole year at once (the bulk action 年度关账). A project
with an open rectification or findings not yet issued is refused with that reason and
stays where it is; the cascade ``close`` still closes a project when its last
rectification is verified (processes.services.rectification)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

from django.db.models import Count, Q, QuerySet

from accounts.models import User

from .. import transitions
from ..models import BudgetProject
from ..models.project import CLOSE_BLOCKERS_READER, close_blockers_message
from ..states import RECTIFICATION_OPEN, ProjectStage

#: The stages a close-out looks at: evaluated, and rectifying (refused while a rectification is open).
CLOSABLE = [ProjectStage.EVALUATED, ProjectStage.RECTIFYING]


def close_out_candidates(*, fiscal_year: int, department_id: int | None = None) -> QuerySet[BudgetProject]:
    """The projects of ``fiscal_year`` (of one department if given) a close-out considers."""
    projects = BudgetProject.objects.filter(fiscal_year=fiscal_year, stage__in=CLOSABLE)
    if department_id is not None:
        projects = projects.filter(department_id=department_id)
    return projects.order_by("department_id", "code")


def close_blockers(project_ids: Iterable[int]) -> dict[int, str]:
    """Why each project cannot be closed ("" when it can), for many projects in one query."""
    ids = list(project_ids)
    rows = (
        BudgetProject.objects.filter(pk__in=ids)
        .annotate(
            open_rectifications=Count(
                "rectifications", filter=Q(rectifications__status__in=RECTIFICATION_OPEN), distinct=True
            ),
            unissued=Count("findings", filter=Q(findings__rectification_item__isnull=True), distinct=True),
        )
        .values_list("pk", "open_rectifications", "unissued")
    )
    return {pk: close_blockers_message(open_, unissued) for pk, open_, unissued in rows}


@contextmanager
def blockers_read_per_chunk(project_ids: Sequence[int], *, chunk: int) -> Iterator[None]:
    """Within the block, the close-out condition of a project of ``project_ids`` reads the
    blockers of its whole chunk (the ``chunk`` projects from it, in the order given — the
    order apply_many takes them in) in one query, the first time one of them is checked:
    after apply_many locked that chunk's rows, so what it reads cannot change before the
    chunk commits."""
    position = {pk: i for i, pk in enumerate(project_ids)}
    read: dict[int, str] = {}

    def reader(pk: int) -> str | None:
        if pk not in position:
            return None
        if pk not in read:
            start = position[pk] - position[pk] % chunk
            read.update(close_blockers(project_ids[start : start + chunk]))
        return read.get(pk, "")

    token = CLOSE_BLOCKERS_READER.set(reader)
    try:
        yield
    finally:
        CLOSE_BLOCKERS_READER.reset(token)


def project_close_out(*, project: BudgetProject, actor: User, comment: str = "") -> BudgetProject:
    """Close one evaluated project (年度关账) — refused with the reason while anything is open."""
    return transitions.apply(project, "close_out", actor=actor, comment=comment)


#: Projects per transaction of a year's close-out.
CHUNK = 500


def projects_close_out(
    *, actor: User, projects: Iterable[BudgetProject], comment: str = "", progress=None
) -> transitions.BulkOutcome:
    """年度关账 of many projects at once (a year's, a department's), each exactly as
    :func:`project_close_out` closes one: the declared ``close_out`` (audit row with the
    actor's role, the department told — once per person for all its projects). A project
    with an open rectification or a finding not issued is refused with that reason, and one
    moved by someone else meanwhile as taken; they stay where they are."""
    projects = list(projects)
    with blockers_read_per_chunk([p.pk for p in projects], chunk=CHUNK):
        return transitions.apply_many(
            projects, "close_out", actor=actor, comment=comment, progress=progress, chunk=CHUNK
        )
