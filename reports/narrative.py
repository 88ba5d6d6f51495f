"""The report's narrative from data (issue 19 item 2): what §二(二) of the report to the
congress says in words — 取得的成绩 and 存在的问题 — and the summaries of monitoring,
target review and rectification, each computed from the year's records.

``year_narrative(year, imported=...)`` reads the year in a fixed number of queries (none
per row). A year imported from a history workbook has none of these records (its workbook
carries projects, grades and suggestions only): the sections it lacks are named in
``Narrative.missing`` and shown as lacking rather than as zeros.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, DecimalField, F, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from processes.models import (
    MONEY,
    ExpertSuggestion,
    Finding,
    MonitoringReport,
    Rectification,
    ScoreLine,
    SelfEvaluation,
    TargetSet,
    finding_categories,
)
from processes.states import (
    RECTIFICATION_OPEN,
    Direction,
    Disposal,
    Light,
    RectificationStatus,
    ReportStatus,
    ScoreSection,
    SelfEvaluationStatus,
    SuggestionAspect,
    TargetRating,
    TargetSetStatus,
)
from processes.units import half_up

ZERO = Decimal("0.00")
#: Units of a rate: adding them across projects means nothing, so they are left out.
RATE_UNITS = frozenset({"%", "％", "‰", "百分比"})
#: How many problems a category shows as examples.
EXAMPLES = 3
#: The lights in the report's order (worst first), then 无法判定.
LIGHTS: tuple[str, ...] = (Light.RED, Light.YELLOW, Light.GREEN, Light.BLUE, Light.NONE)
RATINGS: tuple[str, ...] = tuple(TargetRating.values)
ASPECTS: tuple[str, ...] = tuple(SuggestionAspect.values)
#: The sections a year needs records of the system for, with what each is called when lacking.
SECTIONS = {
    "achievements": _("取得的成绩（评分表的实际完成值）"),
    "findings": _("问题类别（评价发现的问题）"),
    "monitoring": _("绩效运行监控"),
    "target_review": _("绩效目标审核"),
    "rectification": _("整改情况"),
}


@dataclass(frozen=True)
class Achievement:
    """One outcome added up: an indicator (by name and unit) over the projects that report it."""

    indicator: str
    unit: str
    total: Decimal
    projects: int


@dataclass(frozen=True)
class DepartmentAchievements:
    department: str
    items: list[Achievement]


@dataclass(frozen=True)
class Achievements:
    """取得的成绩: for the district and by department."""

    district: list[Achievement]
    departments: list[DepartmentAchievements]


@dataclass(frozen=True)
class FindingCategory:
    code: str
    label: str
    count: int
    examples: list[str]


@dataclass(frozen=True)
class Problems:
    """存在的问题: findings by category (with examples) and suggestions by aspect."""

    categories: list[FindingCategory]
    uncategorised: int
    suggestions: dict[str, int]  # by aspect, plus "unstated"

    @property
    def findings(self) -> int:
        return sum(c.count for c in self.categories) + self.uncategorised

    @property
    def suggestion_total(self) -> int:
        return sum(self.suggestions.values())


@dataclass(frozen=True)
class MonitoringRoundLights:
    title: str
    start_month: int
    end_month: int
    lights: dict[str, int]

    @property
    def reports(self) -> int:
        return sum(self.lights.values())


@dataclass(frozen=True)
class DisposalFigures:
    count: int
    amount: Decimal  # adjust: Σ (after − before), negative when budgets were cut; else Σ budgets


@dataclass(frozen=True)
class Monitoring:
    """绩效运行监控: the lights of the reports handed in, by round, and the disposals."""

    rounds: list[MonitoringRoundLights]
    adjusted: DisposalFigures
    adjusted_before: Decimal
    adjusted_after: Decimal
    suspended: DisposalFigures
    stopped: DisposalFigures

    @property
    def lights(self) -> dict[str, int]:
        return {light: sum(r.lights[light] for r in self.rounds) for light in LIGHTS}


@dataclass(frozen=True)
class TargetReview:
    """绩效目标审核: the finance section's ratings of the year's projects' targets."""

    ratings: dict[str, int]

    @property
    def rated(self) -> int:
        return sum(self.ratings.values())


@dataclass(frozen=True)
class RectificationRow:
    department: str
    issued: int
    verified: int
    on_time: int
    overdue: int


@dataclass(frozen=True)
class Rectifications:
    """整改: issued, verified (销号), verified on time, overdue — by department and in all."""

    departments: list[RectificationRow]

    def _sum(self, key: str) -> int:
        return sum(getattr(r, key) for r in self.departments)

    @property
    def issued(self) -> int:
        return self._sum("issued")

    @property
    def verified(self) -> int:
        return self._sum("verified")

    @property
    def on_time(self) -> int:
        return self._sum("on_time")

    @property
    def overdue(self) -> int:
        return self._sum("overdue")


@dataclass(frozen=True)
class Narrative:
    achievements: Achievements
    problems: Problems
    monitoring: Monitoring
    target_review: TargetReview
    rectification: Rectifications
    #: Keys of SECTIONS the year's records cannot give (an imported year).
    missing: list[str] = field(default_factory=list)

    @property
    def missing_labels(self) -> list[str]:
        return [str(SECTIONS[key]) for key in self.missing]


def plain_number(value: Decimal) -> str:
    """An indicator's total as written: 1234.5000 → "1234.5", 300.0000 → "300"."""
    text = format(value.normalize(), "f")
    return "0" if text == "-0" else text


# -- reading a year -------------------------------------------------------------------------


def _sheets_of_record(year: int) -> list[int]:
    """The score sheet that stands for each accepted self-evaluation of the year: the final
    re-check's (the agency corrected the actual values), else the department's own."""
    rows = SelfEvaluation.objects.filter(
        campaign__fiscal_year=year, status=SelfEvaluationStatus.ACCEPTED, sheet__isnull=False
    ).values_list("sheet_id", "recheck__status", "recheck__sheet_id")
    return [recheck_sheet if status == "final" and recheck_sheet else sheet for sheet, status, recheck_sheet in rows]


def _added(lines: list[tuple[str, str, Decimal, int]]) -> list[Achievement]:
    totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    projects: dict[tuple[str, str], set[int]] = defaultdict(set)
    for name, unit, value, project in lines:
        totals[(name, unit)] += value
        projects[(name, unit)].add(project)
    return [
        Achievement(indicator=name, unit=unit, total=totals[(name, unit)], projects=len(projects[(name, unit)]))
        for name, unit in sorted(totals, key=lambda k: (-len(projects[k]), k))
    ]


def achievements(year: int) -> Achievements:
    """Quantitative output and outcome indicators (产出, 效益) of the sheets of record, their
    actual values added up by indicator name and unit (spaces ignored) — never across
    units, never rates."""
    lines = (
        ScoreLine.objects.filter(
            sheet_id__in=_sheets_of_record(year),
            section__in=(ScoreSection.OUTPUT, ScoreSection.OUTCOME),
            actual_value__isnull=False,
        )
        .exclude(direction=Direction.QUALITATIVE)
        .exclude(unit__in=RATE_UNITS)
        .order_by("sheet__project__department__code", "sheet__project__code", "position")
        .values_list("sheet__project__department__name", "name", "unit", "actual_value", "sheet__project_id")
    )
    by_department: dict[str, list[tuple[str, str, Decimal, int]]] = defaultdict(list)
    every: list[tuple[str, str, Decimal, int]] = []
    for department, name, unit, value, project in lines:
        line = ("".join(name.split()), "".join(unit.split()), Decimal(value or 0), project)  # never null: filtered
        by_department[department].append(line)
        every.append(line)
    return Achievements(
        district=_added(every),
        departments=[DepartmentAchievements(department=d, items=_added(ls)) for d, ls in by_department.items()],
    )


def _year_findings(year: int) -> Q:
    return (
        Q(self_evaluation__campaign__fiscal_year=year)
        | Q(recheck__sample__campaign__fiscal_year=year)
        | Q(evaluation__fiscal_year=year)
        | Q(monitoring_report__round__fiscal_year=year)
    )


def problems(year: int, suggestions: Q) -> Problems:
    """Every finding recorded on the year's evaluations and monitoring reports, by category,
    each with its first distinct problems as examples; ``suggestions`` selects the
    suggestions the report counts (figures.suggestion_count's rule), here by aspect."""
    counted: Counter[str] = Counter()
    examples: dict[str, list[str]] = defaultdict(list)
    for category, problem in (
        Finding.objects.filter(_year_findings(year)).order_by("pk").values_list("category", "problem")
    ):
        counted[category] += 1
        said = " ".join(problem.split())
        if len(examples[category]) < EXAMPLES and said not in examples[category]:
            examples[category].append(said)
    known = finding_categories()
    codes = {code for code, _label in known}
    by_aspect = dict(
        ExpertSuggestion.objects.filter(suggestions).order_by().values_list("aspect").annotate(n=Count("pk"))
    )
    return Problems(
        categories=[
            FindingCategory(code=code, label=label, count=counted.get(code, 0), examples=examples.get(code, []))
            for code, label in known
        ],
        uncategorised=sum(n for code, n in counted.items() if code not in codes),
        suggestions={**{a: by_aspect.get(a, 0) for a in ASPECTS}, "unstated": by_aspect.get("", 0)},
    )


def _project_budget() -> Coalesce:
    return Coalesce(
        F("project__adjusted_amount"),
        F("project__approved_amount"),
        F("project__requested_amount"),
        output_field=DecimalField(**MONEY),
    )


def monitoring(year: int) -> Monitoring:
    """The lights of the reports handed in (neither waiting to be filled nor cancelled) by
    round, and the disposals of the warned ones: budgets adjusted (before → after),
    projects suspended and payments stopped (with the projects' budgets)."""
    reports = MonitoringReport.objects.filter(round__fiscal_year=year).exclude(
        status__in=(ReportStatus.ISSUED, ReportStatus.CANCELLED)
    )
    rounds: dict[int, MonitoringRoundLights] = {}
    for pk, title, start, end, light, n in (
        reports.order_by("round__start_month", "round__end_month", "round_id")
        .values_list("round_id", "round__title", "round__start_month", "round__end_month", "light")
        .annotate(n=Count("pk"))
    ):
        row = rounds.setdefault(
            pk, MonitoringRoundLights(title=title, start_month=start, end_month=end, lights=dict.fromkeys(LIGHTS, 0))
        )
        row.lights[light] = row.lights.get(light, 0) + n
    money = DecimalField(**MONEY)
    disposed = reports.filter(status=ReportStatus.DISPOSED).aggregate(
        adjusted=Count("pk", filter=Q(disposal=Disposal.ADJUST)),
        before=Sum("amount_before", filter=Q(disposal=Disposal.ADJUST), output_field=money),
        after=Sum("amount_after", filter=Q(disposal=Disposal.ADJUST), output_field=money),
        suspended=Count("pk", filter=Q(disposal=Disposal.SUSPEND)),
        suspended_amount=Sum(_project_budget(), filter=Q(disposal=Disposal.SUSPEND), output_field=money),
        stopped=Count("pk", filter=Q(disposal=Disposal.STOP_PAYMENTS)),
        stopped_amount=Sum(_project_budget(), filter=Q(disposal=Disposal.STOP_PAYMENTS), output_field=money),
    )

    def money_of(key: str) -> Decimal:
        return ZERO if disposed[key] is None else half_up(Decimal(disposed[key]))

    return Monitoring(
        rounds=list(rounds.values()),
        adjusted=DisposalFigures(count=disposed["adjusted"], amount=money_of("after") - money_of("before")),
        adjusted_before=money_of("before"),
        adjusted_after=money_of("after"),
        suspended=DisposalFigures(count=disposed["suspended"], amount=money_of("suspended_amount")),
        stopped=DisposalFigures(count=disposed["stopped"], amount=money_of("stopped_amount")),
    )


def target_review(year: int) -> TargetReview:
    """Every rating the finance section gave the year's projects' targets (a version rated,
    whatever became of it since, except versions cancelled with their project)."""
    rated = dict(
        TargetSet.objects.filter(project__fiscal_year=year)
        .exclude(rating="")
        .exclude(status=TargetSetStatus.CANCELLED)
        .order_by()
        .values_list("rating")
        .annotate(n=Count("pk"))
    )
    return TargetReview(ratings={r: rated.get(r, 0) for r in RATINGS})


def rectifications(year: int, now: datetime | None = None) -> Rectifications:
    """The year's rectifications (the project's year, or the year issued when there is no
    project — the rectification list's rule) by department: issued, verified (销号),
    verified with the report handed in by the deadline in force, and still open past it."""
    now = now or timezone.now()
    rows = (
        Rectification.objects.filter(Q(project__fiscal_year=year) | Q(project__isnull=True, issued_at__year=year))
        .order_by("department__code")
        .values("department__code", "department__name")
        .annotate(
            issued=Count("pk"),
            verified=Count("pk", filter=Q(status=RectificationStatus.VERIFIED)),
            on_time=Count("pk", filter=Q(status=RectificationStatus.VERIFIED, submitted_at__lte=F("deadline"))),
            overdue=Count("pk", filter=Q(status__in=RECTIFICATION_OPEN, deadline__lt=now)),
        )
    )
    return Rectifications(
        departments=[
            RectificationRow(
                department=r["department__name"],
                issued=r["issued"],
                verified=r["verified"],
                on_time=r["on_time"],
                overdue=r["overdue"],
            )
            for r in rows
        ]
    )


def year_narrative(year: int, *, imported: bool, suggestions: Q, now: datetime | None = None) -> Narrative:
    """The narrative of ``year``; for an imported year, the sections its workbook lacks are
    listed in ``missing`` (their figures stay empty)."""
    return Narrative(
        achievements=achievements(year),
        problems=problems(year, suggestions),
        monitoring=monitoring(year),
        target_review=target_review(year),
        rectification=rectifications(year, now),
        missing=list(SECTIONS) if imported else [],
    )
