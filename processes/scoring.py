"""Score sheet of a project's self-evaluation 绩效自评表 (DESIGN §3.5), as pure functions of
exact numbers: no database, no models.

The sheet has 100 points (``Weights``, from ``settings.JIXIAO["EVALUATION"]["WEIGHTS"]``):
budget execution 10, outputs 50, outcomes 30, satisfaction 10.

- Execution: rate = executed ÷ adjusted budget; points = min(rate, 1) × execution weight.
  ``execution_rate`` is shown in percent to two decimals (``rate_pct``).
- A line (one target indicator) is worth section weight × line weight ÷ Σ line weights of
  its section. A section without lines hands its weight to the sections that have lines,
  in proportion to their weights, so the indicator part always totals output + outcome +
  satisfaction (if every section with lines weighs 0, they share it equally).
- ≥: min(actual ÷ target, 1) × points; a target of 0 is met by any actual (full points).
- ≤: min(target ÷ actual, 1) × points; an actual of 0 is within any target (full points);
  a target of 0 with an actual above it scores 0.
- = (DESIGN is silent): full points when actual = target, else
  min(actual, target) ÷ max(actual, target) × points; both 0 is a hit.
- qualitative: 达成 80–100 %, 部分达成 60–80 %, 未达成 0–60 % of points (bounds inclusive);
  the scorer's ``band_pct`` must lie in the chosen band; without one the band's top counts.
- Over-met indicators never score above their points.

Missing or wrong input never raises and never yields NaN: it becomes an issue (a message
for the person filling the sheet, keyed by field: ``budget``, ``executed``, ``lines`` and
``lines.<key>.actual|target|band|band_pct|weight``) and the part it spoils counts 0, so a
preview while typing still shows a partial total. Budget missing or ≤ 0, executed missing
or negative, actual missing, negative or non-finite numbers, a missing band, a band_pct
outside its band, a line weight ≤ 0, and no line at all are issues.

Line scores, section scores and the total are rounded to 0.01 (half up); the total is
computed from the unrounded line scores, then rounded and kept within 0–100. Grades:
≥ 90 优, ≥ 80 良, ≥ 60 中, else 差, read from the rounded total; no grade without a line.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from decimal import MAX_EMAX, MIN_EMIN, ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal, localcontext

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .states import Direction, Grade, QualitativeProgress, ScoreSection

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)
CENT = Decimal("0.01")

OUTPUT: str = ScoreSection.OUTPUT
OUTCOME: str = ScoreSection.OUTCOME
SATISFACTION: str = ScoreSection.SATISFACTION
SECTIONS = (OUTPUT, OUTCOME, SATISFACTION)

#: Percent of a qualitative line's points each band allows (low, high), bounds inclusive.
BANDS: dict[str, tuple[Decimal, Decimal]] = {
    QualitativeProgress.ACHIEVED: (Decimal(80), HUNDRED),
    QualitativeProgress.PARTLY: (Decimal(60), Decimal(80)),
    QualitativeProgress.NOT_ACHIEVED: (ZERO, Decimal(60)),
}

#: Lowest total of each grade, best first.
GRADE_FLOORS: tuple[tuple[Decimal, str], ...] = (
    (Decimal(90), Grade.EXCELLENT),
    (Decimal(80), Grade.GOOD),
    (Decimal(60), Grade.FAIR),
)

# Precision 28 as Decimal's default; exponent limits wide open so that no finite input
# overflows a quotient.
_CONTEXT = Context(prec=28, rounding=ROUND_HALF_EVEN, Emax=MAX_EMAX, Emin=MIN_EMIN)


@dataclass(frozen=True)
class Weights:
    """Points of each part of the sheet; together 100."""

    execution: Decimal
    output: Decimal
    outcome: Decimal
    satisfaction: Decimal

    def __post_init__(self) -> None:
        parts = (self.execution, self.output, self.outcome, self.satisfaction)
        if any(not isinstance(p, Decimal) or not p.is_finite() or p < 0 for p in parts):
            raise ValueError(f"score sheet weights must be finite non-negative Decimals: {parts}")
        if sum(parts, ZERO) != HUNDRED:
            raise ValueError(f"score sheet weights must total 100, not {sum(parts, ZERO)}")

    @classmethod
    def from_settings(cls) -> Weights:
        """The bureau's weights, ``settings.JIXIAO["EVALUATION"]["WEIGHTS"]``."""
        from django.conf import settings

        w = settings.JIXIAO["EVALUATION"]["WEIGHTS"]
        return cls(
            execution=Decimal(w["execution"]),
            output=Decimal(w["output"]),
            outcome=Decimal(w["outcome"]),
            satisfaction=Decimal(w["satisfaction"]),
        )

    def section(self, name: str) -> Decimal:
        return {OUTPUT: self.output, OUTCOME: self.outcome, SATISFACTION: self.satisfaction}[name]


@dataclass(frozen=True)
class Line:
    """One indicator row of the sheet. ``weight`` is the target row's weight (relative within
    its section); quantitative rows carry ``target`` and ``actual``, qualitative rows a
    ``band`` (QualitativeProgress) and optionally ``band_pct``, the percent picked in it."""

    key: Hashable
    section: str
    direction: str
    weight: Decimal
    target: Decimal | None = None
    actual: Decimal | None = None
    band: str = ""
    band_pct: Decimal | None = None


@dataclass(frozen=True)
class LineScore:
    """A line's points (分值) and score (得分), both to 0.01; score None while it cannot be
    scored (see the sheet's issues)."""

    key: Hashable
    points: Decimal
    score: Decimal | None


@dataclass(frozen=True)
class SheetScore:
    """The scored sheet. ``execution_rate`` is in percent (two decimals), None when it cannot
    be computed; the parts and the total are points to 0.01; ``grade`` is a Grade value,
    None when the sheet has no line to score."""

    execution_rate: Decimal | None
    execution: Decimal
    output: Decimal
    outcome: Decimal
    satisfaction: Decimal
    total: Decimal
    grade: str | None
    lines: tuple[LineScore, ...]
    issues: dict[str, list[str]] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """Every part could be scored: the sheet may be submitted."""
        return not self.issues


class ScoringError(ValidationError):
    """The sheet cannot be scored in full; ``error_dict`` holds the issues by field."""


def _round(value: Decimal) -> Decimal:
    # the "+ ZERO" turns a -0.00 into 0.00
    return value.quantize(CENT, rounding=ROUND_HALF_UP) + ZERO


def rate_pct(numerator: Decimal | int | None, denominator: Decimal | int | None) -> Decimal | None:
    """numerator ÷ denominator in percent, two decimals half up (1,200 of 7,920 → 15.15);
    None when either is missing or not finite, or the denominator is 0."""
    if numerator is None or denominator is None:
        return None
    n, d = Decimal(numerator), Decimal(denominator)
    if not (n.is_finite() and d.is_finite()) or d.is_zero():
        return None
    with localcontext(_CONTEXT) as ctx:
        pct = n * HUNDRED / d
        # enough digits to keep the cents of a very large rate
        ctx.prec = max(ctx.prec, pct.adjusted() + 4)
        return pct.quantize(CENT, rounding=ROUND_HALF_UP) + ZERO


def grade_of(total: Decimal) -> str:
    """The Grade of a total: 90 and above 优, 80 to below 90 良, 60 to below 80 中, else 差."""
    if not total.is_finite():
        raise ValueError(f"a grade needs a finite total, not {total}")
    for floor, grade in GRADE_FLOORS:
        if total >= floor:
            return grade
    return Grade.POOR


def _number_issue(value: Decimal | None, *, missing: str, negative: str) -> str | None:
    if value is None:
        return missing
    if not value.is_finite():
        return _("请填写有效的数值。")
    if value < 0:
        return negative
    return None


def _execution(budget: Decimal | None, executed: Decimal | None, issues: dict[str, list[str]]) -> Decimal | None:
    """The execution ratio (unrounded, not capped), None with issues when it cannot be had."""
    budget_issue = _number_issue(budget, missing=_("请填写调整后预算数。"), negative=_("调整后预算数应大于零。"))
    if budget_issue is None and budget is not None and budget.is_zero():
        budget_issue = _("调整后预算数应大于零。")
    executed_issue = _number_issue(executed, missing=_("请填写全年执行数。"), negative=_("全年执行数不能为负数。"))
    if budget_issue:
        issues.setdefault("budget", []).append(budget_issue)
    if executed_issue:
        issues.setdefault("executed", []).append(executed_issue)
    if budget_issue or executed_issue or budget is None or executed is None:
        return None
    return executed / budget


def _line_ratio(line: Line, issues: dict[str, list[str]]) -> Decimal | None:
    """The share (0–1) of its points a line earns, None with issues when it cannot be scored."""
    prefix = f"lines.{line.key}"
    if line.direction == Direction.QUALITATIVE:
        if not line.band:
            issues.setdefault(f"{prefix}.band", []).append(_("请选择完成情况档次。"))
            return None
        if line.band not in BANDS:
            issues.setdefault(f"{prefix}.band", []).append(_("完成情况档次无效。"))
            return None
        low, high = BANDS[line.band]
        pct = high if line.band_pct is None else line.band_pct
        if not pct.is_finite() or not low <= pct <= high:
            label = str(QualitativeProgress(line.band).label)
            issues.setdefault(f"{prefix}.band_pct", []).append(
                _("“%(band)s”的得分比例应在 %(low)s%% 至 %(high)s%% 之间。") % {"band": label, "low": low, "high": high}
            )
            return None
        return pct / HUNDRED

    target_issue = _number_issue(line.target, missing=_("该指标缺少目标值。"), negative=_("目标值不能为负数。"))
    actual_issue = _number_issue(line.actual, missing=_("请填写实际完成值。"), negative=_("实际完成值不能为负数。"))
    if target_issue:
        issues.setdefault(f"{prefix}.target", []).append(target_issue)
    if actual_issue:
        issues.setdefault(f"{prefix}.actual", []).append(actual_issue)
    target, actual = line.target, line.actual
    if target_issue or actual_issue or target is None or actual is None:
        return None
    if line.direction == Direction.GTE:
        return ONE if actual >= target else actual / target  # target > actual ≥ 0
    if line.direction == Direction.LTE:
        return ONE if actual <= target else target / actual  # actual > target ≥ 0
    if line.direction == Direction.EQ:
        return ONE if actual == target else min(actual, target) / max(actual, target)
    raise ValueError(f"unknown indicator direction {line.direction!r}")


def _section_points(lines: Sequence[Line], weights: Weights) -> dict[str, Decimal]:
    """Each present section's points, the absent sections' weight handed on."""
    present = [s for s in SECTIONS if any(line.section == s for line in lines)]
    if len(present) == len(SECTIONS):
        return {s: weights.section(s) for s in present}
    indicators = weights.output + weights.outcome + weights.satisfaction
    present_weight = sum((weights.section(s) for s in present), ZERO)
    if present_weight.is_zero():
        return {s: indicators / len(present) for s in present}
    return {s: weights.section(s) * indicators / present_weight for s in present}


def score_sheet(
    *,
    budget: Decimal | None,
    executed: Decimal | None,
    lines: Sequence[Line],
    weights: Weights,
) -> SheetScore:
    """Score a self-evaluation sheet (see the module docstring for every rule). Never raises
    on missing or wrong numbers: they are reported in ``issues``. Raises ValueError for a
    line of an unknown section or direction (a programming error, not an input one)."""
    issues: dict[str, list[str]] = {}
    with localcontext(_CONTEXT):
        for line in lines:
            if line.section not in SECTIONS:
                raise ValueError(f"unknown score sheet section {line.section!r}")
            if line.direction not in Direction.values:
                raise ValueError(f"unknown indicator direction {line.direction!r}")

        ratio = _execution(budget, executed, issues)
        execution = weights.execution * min(ratio, ONE) if ratio is not None else ZERO

        weighted = [line.weight.is_finite() and line.weight > 0 for line in lines]
        scorable = [line for line, ok in zip(lines, weighted, strict=True) if ok]
        for line, ok in zip(lines, weighted, strict=True):
            if not ok:
                issues.setdefault(f"lines.{line.key}.weight", []).append(_("指标权重应大于零。"))
        if not scorable:
            issues.setdefault("lines", []).append(_("没有可评分的绩效指标。"))

        section_points = _section_points(scorable, weights)
        section_weight = {s: sum((ln.weight for ln in scorable if ln.section == s), ZERO) for s in SECTIONS}
        section_score = dict.fromkeys(SECTIONS, ZERO)
        line_scores: list[LineScore] = []
        for line, ok in zip(lines, weighted, strict=True):
            if not ok:
                _line_ratio(line, issues)  # still report its other issues
                line_scores.append(LineScore(line.key, _round(ZERO), None))
                continue
            points = section_points[line.section] * line.weight / section_weight[line.section]
            line_ratio = _line_ratio(line, issues)
            score = None if line_ratio is None else (points if line_ratio >= ONE else points * line_ratio)
            if score is not None:
                section_score[line.section] += score
            line_scores.append(LineScore(line.key, _round(points), None if score is None else _round(score)))

        unrounded_total = execution + sum(section_score.values(), ZERO)
        total = min(max(_round(unrounded_total), ZERO), HUNDRED)
        return SheetScore(
            execution_rate=rate_pct(executed, budget) if ratio is not None else None,
            execution=_round(execution),
            output=_round(section_score[OUTPUT]),
            outcome=_round(section_score[OUTCOME]),
            satisfaction=_round(section_score[SATISFACTION]),
            total=total,
            grade=grade_of(total) if scorable else None,
            lines=tuple(line_scores),
            issues=issues,
        )


def score_sheet_strict(
    *,
    budget: Decimal | None,
    executed: Decimal | None,
    lines: Sequence[Line],
    weights: Weights,
) -> SheetScore:
    """As ``score_sheet``, for submitting: raises ScoringError (a ValidationError keyed by
    field) when the sheet has any issue."""
    sheet = score_sheet(budget=budget, executed=executed, lines=lines, weights=weights)
    if sheet.issues:
        raise ScoringError({key: list(messages) for key, messages in sheet.issues.items()})
    return sheet
