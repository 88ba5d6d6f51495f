"""结果应用台账 (issue 18 item 3, decision 0025): at next year's intake a continuing project's
grade of record becomes the *proposed* figure, and the finance officer's decision on it
is kept (processes.models.ResultsDecision).

A project *continues* an earlier one when an earlier year's project of the same department
has the same code (as ``processes.results.last_result`` reads it). The proposal, from the
settings' recommendation (JIXIAO["EVALUATION"]["RECOMMENDATIONS"]):

- 优 ``priority``: the request as is, with 优先保障 — unless a rectification of the project
  (of any earlier year of the code) is not verified yet: then no 优先保障, shown with the
  rectification's title and deadline, and it cannot be accepted (only overridden, with a
  reason, and an override never grants 优先保障);
- 良 ``keep``: the request as is;
- 中 ``cut``: the request less ``cut_percent`` (10 %), half-up to the fen;
- 差 ``cancel``: 0 — flagged 取消或调整用途 (``cut_percent`` 100).

``ledger(year)`` reads a year's rows in a fixed number of queries, whatever their number.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from accounts.models import User

from .models import BudgetProject, Rectification
from .models.results import DecisionStatus, ResultsDecision
from .permissions import holds
from .results import PAST_COLUMNS, Recommendation, grades_of_record
from .states import RECTIFICATION_OPEN, Grade, ProjectStage
from .units import HUNDRED, ZERO, half_up

#: The stages in which the finance officer decides: taken in, not budgeted yet.
DECIDABLE = (ProjectStage.DEPT_APPROVED, ProjectStage.PRE_ASSESSMENT, ProjectStage.TARGET_REVIEW)


def recommendation_text(action: str, cut_percent: Decimal) -> str:
    """The recommendation's words (压减预算 10%) from the settings' label of ``action``."""
    label = next(
        (r["label"] for r in settings.JIXIAO["EVALUATION"]["RECOMMENDATIONS"].values() if r["action"] == action),
        action,
    )
    if action == "cut":
        return _("%(label)s %(pct)s%%") % {"label": _(label), "pct": f"{Decimal(cut_percent).normalize():f}"}
    return _(label)


def proposed_amount(requested: Decimal, recommendation: Recommendation) -> Decimal:
    """The request with the recommendation's cut applied, half-up to the fen."""
    if recommendation.action in ("cut", "cancel"):
        return half_up(requested * (HUNDRED - recommendation.cut_percent) / HUNDRED)
    return half_up(requested)


@dataclass(frozen=True)
class Block:
    """An unverified rectification that withholds 优先保障."""

    rectification_id: int
    title: str
    deadline: datetime

    @property
    def text(self) -> str:
        return _("整改「%(title)s」尚未验收销号（整改期限 %(deadline)s），暂不予优先保障。") % {
            "title": self.title,
            "deadline": f"{self.deadline:%Y-%m-%d}",
        }


@dataclass(frozen=True)
class Proposal:
    """What the grade of record proposes for a continuing project's request."""

    project: BudgetProject
    graded_project: BudgetProject
    recommendation: Recommendation
    proposed_amount: Decimal
    block: Block | None = None

    @property
    def priority(self) -> bool:
        return self.recommendation.action == "priority" and self.block is None

    @property
    def flagged(self) -> bool:
        """差: to be cancelled or put to another use (取消或调整用途)."""
        return self.recommendation.action == "cancel"

    @property
    def cut(self) -> Decimal:
        return self.project.requested_amount - self.proposed_amount

    @property
    def text(self) -> str:
        return recommendation_text(self.recommendation.action, self.recommendation.cut_percent)

    @property
    def grade_label(self) -> str:
        return self.recommendation.grade_label

    @property
    def acceptable(self) -> bool:
        """优先保障 cannot be accepted while a rectification is unverified."""
        return not (self.recommendation.action == "priority" and self.block is not None)


def proposals_for(projects: Iterable[BudgetProject], *, query: QuerySet | None = None) -> dict[int, Proposal]:
    """{project id: its proposal} for those of ``projects`` that continue a graded project;
    at most five queries whatever their number. ``query``, the queryset ``projects`` were
    read from, lets the earlier years be found by a subquery (one query even for none)."""
    projects = list(projects)
    if not projects and query is None:
        return {}
    if query is not None:
        codes: Any = query.values("code")
        departments: Any = query.values("department_id")
    else:
        codes = {p.code for p in projects if p.code}
        departments = {p.department_id for p in projects}
    latest = max((p.fiscal_year for p in projects), default=0)
    earlier = list(
        BudgetProject.objects.filter(code__in=codes, department_id__in=departments, fiscal_year__lt=latest)
        .only(*PAST_COLUMNS)
        .order_by("-fiscal_year")
    )
    if not earlier:
        return {}
    graded = grades_of_record(p.pk for p in earlier)
    chains: dict[tuple[int, str], list[BudgetProject]] = {}
    for past in earlier:  # most recent first
        chains.setdefault((past.department_id, past.code), []).append(past)
    blocks: dict[tuple[int, str, int], Block] = {}
    open_items = (
        Rectification.objects.filter(project__in=[p.pk for p in earlier], status__in=RECTIFICATION_OPEN)
        .order_by("deadline", "pk")
        .values_list("pk", "title", "deadline", "project_id")
    )
    by_pk = {p.pk: p for p in earlier}
    for pk, title, deadline, project_id in open_items:
        past = by_pk[project_id]
        blocks.setdefault((past.department_id, past.code, past.fiscal_year), Block(pk, title, deadline))
    found: dict[int, Proposal] = {}
    for project in projects:
        chain = [
            p for p in chains.get((project.department_id, project.code), []) if p.fiscal_year < project.fiscal_year
        ]
        last = next((p for p in chain if p.pk in graded), None)
        if last is None:
            continue
        recommendation = graded[last.pk]
        block = (
            None
            if recommendation.action != "priority"
            else next(
                (
                    blocks[(p.department_id, p.code, p.fiscal_year)]
                    for p in chain
                    if (p.department_id, p.code, p.fiscal_year) in blocks
                ),
                None,
            )
        )
        found[project.pk] = Proposal(
            project=project,
            graded_project=last,
            recommendation=recommendation,
            proposed_amount=proposed_amount(project.requested_amount, recommendation),
            block=block,
        )
    return found


def proposal_for(project: BudgetProject) -> Proposal | None:
    return proposals_for([project]).get(project.pk)


def decided_cap(project: BudgetProject, amount: Decimal) -> Decimal:
    """The approved amount when the project is budgeted: ``amount`` (the request, or the
    pre-assessment's), capped by the results-application decision if there is one."""
    decision = (
        ResultsDecision.objects.filter(project=project)
        .exclude(status=DecisionStatus.PROPOSED)
        .values_list("decided_amount", flat=True)
        .first()
    )
    if decision is None:
        return amount
    return min(amount, decision)


# -- the ledger -------------------------------------------------------------------------------


def ledger_visible_to(user: User) -> bool:
    """The finance section and the bureau's leaders read every department's ledger; a
    department's staff and leaders their own department's rows; nobody else."""
    return holds(user, "processes.view_all_projects") or (user.is_department_user and user.department_id is not None)


def ledger_scope(user: User) -> int | None:
    """The department a user's ledger is limited to (None: every department)."""
    return None if holds(user, "processes.view_all_projects") else user.department_id


@dataclass(frozen=True)
class LedgerRow:
    project: BudgetProject
    proposal: Proposal | None
    decision: ResultsDecision | None

    @property
    def grade(self) -> str:
        return self.decision.grade if self.decision else self.proposal.recommendation.grade  # type: ignore[union-attr]

    @property
    def grade_label(self) -> str:
        return str(Grade(self.grade).label)

    @property
    def last_year(self) -> int:
        if self.decision is not None:
            return self.decision.graded_project.fiscal_year
        return self.proposal.graded_project.fiscal_year  # type: ignore[union-attr]

    @property
    def recommendation_text(self) -> str:
        if self.decision is not None:
            return recommendation_text(self.decision.recommendation, self.decision.cut_percent)
        return self.proposal.text  # type: ignore[union-attr]

    @property
    def requested(self) -> Decimal:
        return self.decision.requested_amount if self.decision else self.project.requested_amount

    @property
    def proposed(self) -> Decimal:
        return self.decision.proposed_amount if self.decision else self.proposal.proposed_amount  # type: ignore[union-attr]

    @property
    def decided(self) -> Decimal | None:
        return self.decision.decided_amount if self.decision else None

    @property
    def overridden(self) -> bool:
        return bool(self.decision and self.decision.overridden)

    @property
    def reason(self) -> str:
        return self.decision.reason if self.decision else ""

    @property
    def status_label(self) -> str:
        return str(self.decision.get_status_display() if self.decision else DecisionStatus.PROPOSED.label)

    @property
    def cut(self) -> Decimal:
        """Cut because of the grade: the request less the decided amount (once decided)."""
        return self.requested - self.decided if self.decided is not None else ZERO

    @property
    def block(self) -> Block | None:
        return self.proposal.block if self.proposal else None


@dataclass(frozen=True)
class Ledger:
    year: int
    rows: list[LedgerRow] = field(default_factory=list)

    @property
    def projects(self) -> int:
        return len(self.rows)

    @property
    def requested(self) -> Decimal:
        return sum((r.requested for r in self.rows), ZERO)

    @property
    def proposed(self) -> Decimal:
        return sum((r.proposed for r in self.rows), ZERO)

    @property
    def decided(self) -> Decimal:
        return sum((r.decided for r in self.rows if r.decided is not None), ZERO)

    @property
    def decided_count(self) -> int:
        return sum(1 for r in self.rows if r.decided is not None)

    @property
    def overridden_count(self) -> int:
        return sum(1 for r in self.rows if r.overridden)

    @property
    def cut(self) -> Decimal:
        return sum((r.cut for r in self.rows), ZERO)

    @property
    def cut_count(self) -> int:
        return sum(1 for r in self.rows if r.cut > 0)

    @property
    def grades(self) -> dict[str, int]:
        counts = dict.fromkeys(Grade.values, 0)
        for r in self.rows:
            counts[r.grade] += 1
        return counts


def ledger(year: int, *, department: int | None = None, grade: str = "") -> Ledger:
    """The year's 结果应用台账: each project of ``year`` that continues a graded project (or
    has a decision), with its proposal and decision; a fixed number of queries."""
    projects: QuerySet[BudgetProject] = (
        BudgetProject.objects.filter(fiscal_year=year).select_related("department").order_by("department_id", "code")
    )
    if department is not None:
        projects = projects.filter(department_id=department)
    listed = list(projects)
    proposals = proposals_for(listed, query=projects)
    decisions = {
        d.project_id: d
        for d in ResultsDecision.objects.filter(project__in=projects.values("pk")).select_related("graded_project")
    }
    rows = [
        LedgerRow(p, proposals.get(p.pk), decisions.get(p.pk)) for p in listed if p.pk in proposals or p.pk in decisions
    ]
    if grade:
        rows = [r for r in rows if r.grade == grade]
    return Ledger(year=year, rows=rows)
