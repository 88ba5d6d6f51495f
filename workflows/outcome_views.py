"""结论告知 (issue 19): the read-only page where a panel member — expert or deputy — reads the
conclusion of a review they sat on, beside their own recommendation. Only that panel's
members; everyone else gets 404 (processes.outcomes)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from processes.outcomes import evaluation_outcome, own_difference, pre_assessment_outcome


@login_required
@require_GET
def pre_assessment_outcome_page(request, pk):
    """A confirmed pre-assessment: conclusion and approved amount, the member's own."""
    outcome = pre_assessment_outcome(request.user, pk)
    return render(
        request,
        "workflows/outcome.html",
        {"kind": "pre_assessment", "outcome": outcome, "difference": own_difference(outcome)},
    )


@login_required
@require_GET
def evaluation_outcome_page(request, pk):
    """A final commissioned evaluation: score, grade and conclusion, the member's suggestions."""
    outcome = evaluation_outcome(request.user, pk)
    return render(request, "workflows/outcome.html", {"kind": "evaluation", "outcome": outcome})
