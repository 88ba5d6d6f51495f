"""结论告知: what a panel member (expert or deputy) may read once the review they sat on is
concluded — a confirmed pre-assessment, or a commissioned evaluation that is final (or
published) — and nothing before. Only the members of that panel; anyone else (another
panel's member, another project's department, an outsider) gets the same 404 as an id that
does not exist, so the page says nothing about reviews one did not sit on."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.http import Http404

from .models import CommissionedEvaluation, EvaluationPanelMember, PanelMember, PreAssessment
from .states import EvaluationStatus, OpinionStatus, PreAssessmentStatus

#: The states in which a commissioned evaluation's result stands.
EVALUATION_CONCLUDED = (EvaluationStatus.FINAL, EvaluationStatus.PUBLISHED)


@dataclass(frozen=True)
class PreAssessmentOutcome:
    """A confirmed pre-assessment beside the reader's own opinion."""

    review: PreAssessment
    seat: PanelMember
    #: the reader's submitted opinion, or None (expired, withdrawn, never sent)
    opinion: Any


@dataclass(frozen=True)
class EvaluationOutcome:
    """A final commissioned evaluation beside the reader's own suggestions."""

    review: CommissionedEvaluation
    seat: EvaluationPanelMember
    suggestions: list[str]


def pre_assessment_outcome(user: Any, pk: int) -> PreAssessmentOutcome:
    """The outcome of pre-assessment ``pk`` for ``user``, who must have had a seat on its
    panel (a replaced member too: they sat on it); 404 otherwise or when not confirmed."""
    if not user.is_authenticated:
        raise Http404
    seat = (
        PanelMember.objects.select_related("pre_assessment__project__department", "pre_assessment__agency", "opinion")
        .filter(
            user_id=user.pk,
            pre_assessment_id=pk,
            pre_assessment__status=PreAssessmentStatus.CONFIRMED,
        )
        .first()
    )
    if seat is None:
        raise Http404
    opinion = getattr(seat, "opinion", None)
    if opinion is not None and opinion.status != OpinionStatus.SUBMITTED:
        opinion = None
    return PreAssessmentOutcome(review=seat.pre_assessment, seat=seat, opinion=opinion)


def evaluation_outcome(user: Any, pk: int) -> EvaluationOutcome:
    """The outcome of commissioned evaluation ``pk`` for a member of its panel; 404 otherwise
    or while it is not final."""
    if not user.is_authenticated:
        raise Http404
    seat = (
        EvaluationPanelMember.objects.select_related(
            "evaluation__department", "evaluation__project", "evaluation__agency"
        )
        .filter(user_id=user.pk, evaluation_id=pk, evaluation__status__in=EVALUATION_CONCLUDED)
        .first()
    )
    if seat is None:
        raise Http404
    suggestions = list(seat.suggestions.order_by("position").values_list("text", flat=True))
    return EvaluationOutcome(review=seat.evaluation, seat=seat, suggestions=suggestions)


def own_difference(outcome: PreAssessmentOutcome) -> Decimal | None:
    """The confirmed amount less the member's own recommended amount (None without both)."""
    opinion = outcome.opinion
    approved = outcome.review.approved_amount
    if opinion is None or opinion.recommended_amount is None or approved is None:
        return None
    return approved - opinion.recommended_amount
