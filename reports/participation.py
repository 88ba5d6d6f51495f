"""Participation figures (issue 19, item 1): how many reviews the people's congress deputies
and the experts sat on in a year, how many opinions they gave, and how many of those came
in by the opinion deadline — from the panels of the year's pre-assessments (opinions, due
by the review's 意见截止时间) and commissioned evaluations (suggestions, due by the
evaluation's 完成期限). Four queries whatever the number of panels.

A seat counts once it was drawn, a replaced pre-assessment member included (they sat, and
their opinion was withdrawn when they were replaced); cancelled reviews do not count.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, Q
from django.utils.translation import gettext_lazy as _

from processes.models import EvaluationPanelMember, PanelMember
from processes.scoring import rate_pct
from processes.states import OpinionStatus, PreAssessmentStatus

#: The two kinds of panel member, in the order the report shows them.
KINDS = ("deputy", "expert")
KIND_LABELS = {"deputy": _("人大代表"), "expert": _("专家")}


@dataclass(frozen=True)
class Participation:
    """One kind of member's figures for a year."""

    kind: str
    #: distinct people who sat on at least one panel
    people: int
    #: seats on pre-assessment panels and on commissioned evaluations' panels
    pre_assessment_seats: int
    evaluation_seats: int
    #: opinions (pre-assessment) or suggestions (evaluation) given, and of them in time
    given: int
    on_time: int

    @property
    def seats(self) -> int:
        return self.pre_assessment_seats + self.evaluation_seats

    @property
    def on_time_rate(self) -> Decimal | None:
        """On-time opinions as a percent of the seats (None without seats)."""
        return rate_pct(self.on_time, self.seats)


def participation(year: int) -> dict[str, Participation]:
    """``{"deputy": ..., "expert": ...}`` for ``year`` (the project's or evaluation's year)."""
    pa_seats = PanelMember.objects.filter(pre_assessment__project__fiscal_year=year).exclude(
        pre_assessment__status=PreAssessmentStatus.CANCELLED
    )
    ev_seats = EvaluationPanelMember.objects.filter(evaluation__fiscal_year=year)
    pa = {
        row["kind"]: row
        for row in pa_seats.order_by()
        .values("kind")
        .annotate(
            seats=Count("pk"),
            given=Count("pk", filter=Q(opinion__status=OpinionStatus.SUBMITTED)),
            on_time=Count(
                "pk",
                filter=Q(
                    opinion__status=OpinionStatus.SUBMITTED,
                    opinion__submitted_at__lte=F("pre_assessment__due_at"),
                ),
            ),
        )
    }
    ev = {
        row["kind"]: row
        for row in ev_seats.order_by()
        .values("kind")
        .annotate(
            seats=Count("pk"),
            given=Count("pk", filter=Q(submitted_at__isnull=False)),
            on_time=Count("pk", filter=Q(submitted_at__lte=F("evaluation__due_at"))),
        )
    }
    people: dict[str, set[int]] = {kind: set() for kind in KINDS}
    for qs in (pa_seats, ev_seats):
        for kind, user_id in qs.order_by().values_list("kind", "user_id").distinct():
            people.setdefault(kind, set()).add(user_id)
    empty = {"seats": 0, "given": 0, "on_time": 0}
    return {
        kind: Participation(
            kind=kind,
            people=len(people[kind]),
            pre_assessment_seats=pa.get(kind, empty)["seats"],
            evaluation_seats=ev.get(kind, empty)["seats"],
            given=pa.get(kind, empty)["given"] + ev.get(kind, empty)["given"],
            on_time=pa.get(kind, empty)["on_time"] + ev.get(kind, empty)["on_time"],
        )
        for kind in KINDS
    }


def participation_json(figures: dict[str, Participation]) -> dict[str, dict]:
    """The ``participation`` key of ``annual_report --format json`` (docs/reports.md)."""
    return {
        kind: {
            "people": p.people,
            "seats": p.seats,
            "pre_assessment_seats": p.pre_assessment_seats,
            "evaluation_seats": p.evaluation_seats,
            "opinions_given": p.given,
            "on_time": p.on_time,
            "on_time_rate": str(p.on_time_rate if p.on_time_rate is not None else Decimal("0.00")),
        }
        for kind, p in figures.items()
    }


def participation_rows(figures: dict[str, Participation]) -> list[tuple[str, Participation]]:
    """(label, figures) per kind, for the screens."""
    return [(str(KIND_LABELS[kind]), figures[kind]) for kind in KINDS]
