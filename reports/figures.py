"""Every figure of the annual performance report (DESIGN §4), computed from the data of
one year — a year run in the system and an imported year alike.

``annual_report(year)`` reads the year in a fixed number of queries (none per row) and
returns plain dataclasses; screens, the XLSX workbook, the print page and
``manage.py annual_report`` all render the same object. Amounts are yuan and rates exact
ratios here; rounding (two decimals, half up) happens only when a figure is shown.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, F, Q
from django.db.models.functions import Coalesce

from processes.models import (
    MONEY,
    CommissionedEvaluation,
    ExpertSuggestion,
    Finding,
    HistoryImport,
    Indicator,
    PreAssessment,
    Recheck,
    SelfEvaluation,
    imported_years,
)
from processes.results_ledger import ledger
from processes.scoring import rate_pct
from processes.states import (
    Conclusion,
    EvaluationKind,
    EvaluationStatus,
    Grade,
    IndicatorScope,
    IndicatorStatus,
    PreAssessmentStatus,
    RecheckStatus,
    SelfEvaluationStatus,
)
from processes.units import half_up, in_yuan

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
GRADES: tuple[str, ...] = tuple(Grade.values)  # excellent, good, fair, poor
EXCELLENT_OR_GOOD = frozenset({Grade.EXCELLENT, Grade.GOOD})
#: Where a commissioned evaluation's result is of record.
FINISHED = (EvaluationStatus.FINAL, EvaluationStatus.PUBLISHED)
NINETY = Decimal("0.9")


# -- figures ------------------------------------------------------------------------------


def excellent_or_good_rate(grades: Mapping[str, int], *, projects: int | None = None) -> Decimal | None:
    """优良率 = (优 + 良) ÷ ``projects`` (by default, the graded ones: the sum of ``grades``),
    in percent to two places half-up; None when there is nothing to divide by. The one
    definition the report, the evaluation screens, their workbook and the API use."""
    graded = sum(grades.get(g, 0) for g in GRADES) if projects is None else projects
    return rate_pct(grades.get(Grade.EXCELLENT, 0) + grades.get(Grade.GOOD, 0), graded)


@dataclass(frozen=True)
class IndicatorLibrary:
    """指标库: the imported year's library counts, else the library in force now."""

    total: int
    general: int
    department_specific: int
    imported: bool


@dataclass(frozen=True)
class PreAssessmentRow:
    department: str
    project_code: str
    project_name: str
    agency: str
    requested: Decimal
    approved: Decimal
    conclusion: str

    @property
    def reduction(self) -> Decimal:
        return self.requested - self.approved

    @property
    def reduction_rate(self) -> Decimal | None:
        return rate_pct(self.reduction, self.requested)

    def get_conclusion_display(self) -> str:
        return str(Conclusion(self.conclusion).label)


@dataclass(frozen=True)
class PreAssessmentSummary:
    """事前绩效评估: the confirmed reviews of the year's projects — the one summary the
    annual report, the year-summary screen and workbook, and the API show."""

    rows: list[PreAssessmentRow]
    fiscal_year: int | None = None

    @property
    def projects(self) -> int:
        return len(self.rows)

    @property
    def requested(self) -> Decimal:
        return sum((r.requested for r in self.rows), ZERO)

    @property
    def approved(self) -> Decimal:
        return sum((r.approved for r in self.rows), ZERO)

    @property
    def reduction(self) -> Decimal:
        return self.requested - self.approved

    @property
    def reduction_rate(self) -> Decimal | None:
        """核减率 in percent (two decimals, half up)."""
        return rate_pct(self.reduction, self.requested)

    @property
    def conclusions(self) -> dict[str, int]:
        counted = Counter(r.conclusion for r in self.rows)
        return {c: counted.get(c, 0) for c in Conclusion.values}

    @property
    def by_conclusion(self) -> dict[str, int]:
        """The conclusions given, with their counts (one not given is left out)."""
        return {c: n for c, n in self.conclusions.items() if n}


@dataclass(frozen=True)
class SelfEvaluationSummary:
    """全面自评: the accepted self-evaluations of the year, by grade."""

    departments: int
    grades: dict[str, int]

    @property
    def projects(self) -> int:
        return sum(self.grades.values())

    @property
    def excellent_or_good(self) -> int:
        return self.grades[Grade.EXCELLENT] + self.grades[Grade.GOOD]

    @property
    def excellent_or_good_rate(self) -> Decimal | None:
        """优良率 in percent."""
        return excellent_or_good_rate(self.grades)


class _Graded:
    """What a table row shows of its amounts and grade."""

    budget: Decimal
    executed: Decimal
    grade: str

    @property
    def completion_rate(self) -> Decimal | None:
        """预算完成率 in percent."""
        return rate_pct(self.executed, self.budget)

    def get_grade_display(self) -> str:
        return str(Grade(self.grade).label) if self.grade else ""


@dataclass(frozen=True)
class ProjectRow(_Graded):
    """One line of 附件1 (re-check) or 附件2 (key evaluation)."""

    department: str
    project_code: str
    project_name: str
    budget: Decimal
    executed: Decimal
    score: Decimal | None
    grade: str
    findings: list[str] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)

    @property
    def completion_band(self) -> str:
        """full (≥ 100 %), at_least_90 (90–100 %) or below_90 — on the exact ratio."""
        return completion_band(self.executed, self.budget)


@dataclass(frozen=True)
class ProjectTable:
    """附件1 / 附件2 with its totals."""

    rows: list[ProjectRow]

    @property
    def projects(self) -> int:
        return len(self.rows)

    @property
    def departments(self) -> int:
        return len({r.department for r in self.rows})

    @property
    def budget(self) -> Decimal:
        return sum((r.budget for r in self.rows), ZERO)

    @property
    def executed(self) -> Decimal:
        return sum((r.executed for r in self.rows), ZERO)

    @property
    def completion_rate(self) -> Decimal | None:
        """总体预算完成率 = Σ executed ÷ Σ budget, in percent."""
        return rate_pct(self.executed, self.budget)

    @property
    def grades(self) -> dict[str, int]:
        counted = Counter(r.grade for r in self.rows)
        return {g: counted.get(g, 0) for g in GRADES}

    @property
    def excellent_or_good_rate(self) -> Decimal | None:
        """优良率 over every row of the table (a row without a grade counts as not 优/良)."""
        return excellent_or_good_rate(self.grades, projects=self.projects)

    @property
    def completion(self) -> dict[str, int]:
        counted = Counter(r.completion_band for r in self.rows)
        return {band: counted.get(band, 0) for band in ("full", "at_least_90", "below_90")}


@dataclass(frozen=True)
class DepartmentRow(_Graded):
    """One line of 附件3."""

    department: str
    budget: Decimal
    executed: Decimal
    score: Decimal | None
    grade: str


@dataclass(frozen=True)
class DepartmentTable:
    rows: list[DepartmentRow]

    @property
    def departments(self) -> int:
        return len(self.rows)

    @property
    def budget(self) -> Decimal:
        return sum((r.budget for r in self.rows), ZERO)

    @property
    def executed(self) -> Decimal:
        return sum((r.executed for r in self.rows), ZERO)


@dataclass(frozen=True)
class Evaluated:
    """§二: what the finance section evaluated — re-checked and key-evaluated projects, and
    the departments evaluated as a whole — and the money it covered."""

    projects: int
    departments: int
    amount: Decimal


@dataclass(frozen=True)
class ResultsApplication:
    """§三 结果应用: how the grades of record carried into the next year's budget — the
    next year's 结果应用台账 (processes.results_ledger; decision 0025)."""

    budget_year: int
    projects: int = 0
    decided: int = 0
    overridden: int = 0
    cut: Decimal = ZERO
    cut_projects: int = 0
    priority: int = 0
    cancel: int = 0


@dataclass(frozen=True)
class AnnualReport:
    year: int
    history: HistoryImport | None
    indicator_library: IndicatorLibrary
    pre_assessment: PreAssessmentSummary
    self_evaluation: SelfEvaluationSummary
    recheck: ProjectTable
    key_evaluation: ProjectTable
    department_evaluation: DepartmentTable
    expert_suggestions: int
    evaluated: Evaluated
    results_application: ResultsApplication = field(default_factory=lambda: ResultsApplication(0))

    @property
    def imported(self) -> bool:
        """The year was brought in from a workbook (历史导入), not run in the system."""
        return self.history is not None


# -- reading a year -------------------------------------------------------------------------


def completion_band(executed: Decimal, budget: Decimal) -> str:
    if not budget:
        return "below_90"
    ratio = executed / budget
    if ratio >= 1:
        return "full"
    return "at_least_90" if ratio >= NINETY else "below_90"


def _money(value: Any) -> Decimal:
    return ZERO if value is None else half_up(Decimal(value))


def _project_budget() -> Coalesce:
    """A project's budget: adjusted, else approved, else requested."""
    return Coalesce(
        F("project__adjusted_amount"),
        F("project__approved_amount"),
        F("project__requested_amount"),
        output_field=DecimalField(**MONEY),
    )


def indicator_library(year: int, history: HistoryImport | None) -> IndicatorLibrary:
    if history is not None and history.indicator_total is not None:
        return IndicatorLibrary(
            total=history.indicator_total,
            general=history.indicator_general or 0,
            department_specific=history.indicator_department or 0,
            imported=True,
        )
    counts = Indicator.objects.filter(status=IndicatorStatus.APPROVED, active=True).aggregate(
        general=Count("pk", filter=Q(scope=IndicatorScope.GENERAL)),
        department=Count("pk", filter=Q(scope=IndicatorScope.DEPARTMENT)),
    )
    return IndicatorLibrary(
        total=counts["general"] + counts["department"],
        general=counts["general"],
        department_specific=counts["department"],
        imported=False,
    )


def pre_assessment_summary(year: int) -> PreAssessmentSummary:
    rows = (
        PreAssessment.objects.filter(status=PreAssessmentStatus.CONFIRMED, project__fiscal_year=year)
        .order_by("project__department__code", "project__code")
        .values(
            "project__department__name",
            "project__code",
            "project__name",
            "agency__name",
            "project__requested_amount",
            "approved_amount",
            "conclusion",
        )
    )
    return PreAssessmentSummary(
        fiscal_year=year,
        rows=[
            PreAssessmentRow(
                department=r["project__department__name"],
                project_code=r["project__code"],
                project_name=r["project__name"],
                agency=r["agency__name"],
                requested=_money(r["project__requested_amount"]),
                approved=_money(r["approved_amount"]),
                conclusion=r["conclusion"],
            )
            for r in rows
        ],
    )


def self_evaluation_summary(year: int) -> SelfEvaluationSummary:
    accepted = SelfEvaluation.objects.filter(campaign__fiscal_year=year, status=SelfEvaluationStatus.ACCEPTED)
    by_grade = dict(accepted.order_by().values_list("grade").annotate(n=Count("pk")))
    departments = accepted.aggregate(n=Count("project__department", distinct=True))["n"]
    return SelfEvaluationSummary(departments=departments, grades={g: by_grade.get(g, 0) for g in GRADES})


def _texts(queryset, key: str) -> dict[int, list[str]]:
    """Each owner's texts in order, each text once: a panel's members often give the same
    suggestion, and the report's cell lists what was suggested, not who said it how often."""
    texts: dict[int, list[str]] = defaultdict(list)
    for owner, text in queryset.values_list(key, "problem" if queryset.model is Finding else "text"):
        said = " ".join(text.split())
        if said not in texts[owner]:
            texts[owner].append(said)
    return texts


def recheck_table(year: int) -> ProjectTable:
    rechecks = (
        Recheck.objects.filter(sample__campaign__fiscal_year=year, status=RecheckStatus.FINAL)
        .annotate(budget=_project_budget())
        .order_by("project__department__code", "project__code")
        .values(
            "pk",
            "project__department__name",
            "project__code",
            "project__name",
            "budget",
            "project__executed_amount",
            "final_score",
            "final_grade",
        )
    )
    rows = list(rechecks)
    ids = [r["pk"] for r in rows]
    findings = _texts(Finding.objects.filter(recheck__in=ids).order_by("pk"), "recheck")
    suggestions = _texts(ExpertSuggestion.objects.filter(recheck__in=ids).order_by("position", "pk"), "recheck")
    return ProjectTable(
        rows=[
            ProjectRow(
                department=r["project__department__name"],
                project_code=r["project__code"],
                project_name=r["project__name"],
                budget=_money(r["budget"]),
                executed=_money(r["project__executed_amount"]),
                score=r["final_score"],
                grade=r["final_grade"],
                findings=findings.get(r["pk"], []),
                suggestions=suggestions.get(r["pk"], []),
            )
            for r in rows
        ]
    )


def _finished(year: int, kind: str):
    return CommissionedEvaluation.objects.filter(fiscal_year=year, kind=kind, status__in=FINISHED)


def key_evaluation_table(year: int) -> ProjectTable:
    evaluations = list(
        _finished(year, EvaluationKind.KEY)
        .annotate(project_budget=_project_budget())
        .order_by("department__code", "project__code")
        .values(
            "pk",
            "department__name",
            "project__code",
            "project__name",
            "budget",
            "project_budget",
            "executed",
            "project__executed_amount",
            "score",
            "grade",
        )
    )
    ids = [e["pk"] for e in evaluations]
    findings = _texts(Finding.objects.filter(evaluation__in=ids).order_by("pk"), "evaluation")
    suggestions = _texts(
        ExpertSuggestion.objects.filter(evaluation__in=ids).order_by("member__seat", "position", "pk"), "evaluation"
    )
    return ProjectTable(
        rows=[
            ProjectRow(
                department=e["department__name"],
                project_code=e["project__code"],
                project_name=e["project__name"],
                budget=_money(e["budget"] if e["budget"] is not None else e["project_budget"]),
                executed=_money(e["executed"] if e["executed"] is not None else e["project__executed_amount"]),
                score=e["score"],
                grade=e["grade"],
                findings=findings.get(e["pk"], []),
                suggestions=suggestions.get(e["pk"], []),
            )
            for e in evaluations
        ]
    )


def department_table(year: int) -> DepartmentTable:
    evaluations = (
        _finished(year, EvaluationKind.DEPARTMENT)
        .order_by("department__code")
        .values("department__name", "budget", "executed", "score", "grade")
    )
    return DepartmentTable(
        rows=[
            DepartmentRow(
                department=e["department__name"],
                budget=_money(e["budget"]),
                executed=_money(e["executed"]),
                score=e["score"],
                grade=e["grade"],
            )
            for e in evaluations
        ]
    )


def suggestion_count(year: int) -> int:
    return ExpertSuggestion.objects.filter(
        Q(recheck__sample__campaign__fiscal_year=year, recheck__status=RecheckStatus.FINAL)
        | Q(evaluation__fiscal_year=year, evaluation__status__in=FINISHED)
    ).count()


def evaluated(year: int, recheck: ProjectTable, key: ProjectTable, departments: DepartmentTable) -> Evaluated:
    """A project re-checked and also key-evaluated counts once (with its key budget)."""
    budgets = {r.project_code: r.budget for r in recheck.rows}
    budgets.update({r.project_code: r.budget for r in key.rows})
    return Evaluated(
        projects=len(budgets),
        departments=departments.departments,
        amount=sum(budgets.values(), ZERO) + departments.budget,
    )


def results_application(year: int) -> ResultsApplication:
    """The grades of ``year`` (and before) applied to the budget of ``year + 1``."""
    book = ledger(year + 1)
    actions = Counter(r.decision.recommendation if r.decision else r.proposal.recommendation.action for r in book.rows)  # type: ignore[union-attr]
    return ResultsApplication(
        budget_year=year + 1,
        projects=book.projects,
        decided=book.decided_count,
        overridden=book.overridden_count,
        cut=book.cut,
        cut_projects=book.cut_count,
        priority=actions["priority"],
        cancel=actions["cancel"],
    )


def annual_report(year: int) -> AnnualReport:
    """The year's report, in a fixed number of queries whatever the number of projects."""
    history = imported_years().get(year)
    recheck = recheck_table(year)
    key = key_evaluation_table(year)
    departments = department_table(year)
    return AnnualReport(
        year=year,
        history=history,
        indicator_library=indicator_library(year, history),
        pre_assessment=pre_assessment_summary(year),
        self_evaluation=self_evaluation_summary(year),
        recheck=recheck,
        key_evaluation=key,
        department_evaluation=departments,
        expert_suggestions=suggestion_count(year),
        evaluated=evaluated(year, recheck, key, departments),
        results_application=results_application(year),
    )


# -- showing figures ----------------------------------------------------------------------

# 元 / 万元 / 亿元, half-up: processes.units, the one place every screen, export and API
# converts money.


def _yuan(amount: Decimal) -> str:
    return str(in_yuan(amount))


def _pct(rate: Decimal | None) -> str:
    return str(rate if rate is not None else ZERO)


def _table_json(table: ProjectTable) -> dict[str, Any]:
    return {
        "departments": table.departments,
        "projects": table.projects,
        "budget": _yuan(table.budget),
        "executed": _yuan(table.executed),
        "completion_rate": _pct(table.completion_rate),
        "grades": table.grades,
        "excellent_or_good_rate": _pct(table.excellent_or_good_rate),
        "completion": table.completion,
    }


def report_json(report: AnnualReport) -> dict[str, Any]:
    """The machine-readable report (docs/reports.md): amounts in yuan and rates in percent,
    as strings with two decimals (half up); grades keyed excellent / good / fair / poor."""
    pre = report.pre_assessment
    self_evaluation = report.self_evaluation
    return {
        "year": report.year,
        "indicator_library": {
            "total": report.indicator_library.total,
            "general": report.indicator_library.general,
            "department_specific": report.indicator_library.department_specific,
        },
        "pre_assessment": {
            "projects": pre.projects,
            "requested": _yuan(pre.requested),
            "approved": _yuan(pre.approved),
            "reduction": _yuan(pre.reduction),
            "reduction_rate": _pct(pre.reduction_rate),
            "conclusions": pre.conclusions,
        },
        "self_evaluation": {
            "departments": self_evaluation.departments,
            "projects": self_evaluation.projects,
            "grades": self_evaluation.grades,
            "excellent_or_good": self_evaluation.excellent_or_good,
            "excellent_or_good_rate": _pct(self_evaluation.excellent_or_good_rate),
        },
        "recheck": _table_json(report.recheck),
        "key_evaluation": _table_json(report.key_evaluation),
        "department_evaluation": {
            "departments": report.department_evaluation.departments,
            "budget": _yuan(report.department_evaluation.budget),
            "items": [
                {
                    "department": row.department,
                    "budget": _yuan(row.budget),
                    "executed": _yuan(row.executed),
                    "completion_rate": _pct(row.completion_rate),
                    "score": None if row.score is None else str(row.score),
                    "grade": row.grade,
                }
                for row in report.department_evaluation.rows
            ],
        },
        "expert_suggestions": report.expert_suggestions,
        "evaluated": {
            "projects": report.evaluated.projects,
            "departments": report.evaluated.departments,
            "amount": _yuan(report.evaluated.amount),
        },
        "results_application": {
            "budget_year": report.results_application.budget_year,
            "projects": report.results_application.projects,
            "decided": report.results_application.decided,
            "overridden": report.results_application.overridden,
            "cut": _yuan(report.results_application.cut),
            "cut_projects": report.results_application.cut_projects,
            "priority": report.results_application.priority,
            "cancel": report.results_application.cancel,
        },
    }
