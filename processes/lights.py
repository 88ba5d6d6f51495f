"""预警灯 of a monitoring report (DESIGN §3.4), as pure functions of exact numbers.

- spending: (executed ÷ budget) ÷ (months ÷ 12) × 100 → < 60 red, 60–80 yellow, ≥ 80 green;
  where the project has a payment plan (资金支付计划), against the plan instead: executed ÷
  (planned to the report's month) × 100, the same bands (``spending_light_against_plan``);
- a ≥ indicator: value ÷ (target × months ÷ 12) × 100 → < 60 red, 60–80 yellow, 80–120 green,
  ≥ 120 blue (the target was set too low); a non-cumulative one (a rate, a percentage, a
  score: ``cumulative``) is read against the target itself, value ÷ target × 100;
- a ≤ indicator: value within the target green, else red; an = indicator likewise on the
  pace-scaled target (at or above it on pace: green; see ``indicator_light``);
- qualitative: 达成 green, 部分达成 yellow, 未达成 red;
- the project takes its worst light (red > yellow > green > blue): the worst of its
  indicators' lights, and the spending light when it warns (red or yellow). Spending on
  pace (green) does not hide blue indicators: blue says the targets were set too low,
  which the spending pace cannot judge — and spending is never blue, so a project whose
  every indicator is far ahead would otherwise never show blue (``project_light``).

Thresholds come from ``settings.JIXIAO["MONITORING"]["LIGHTS"]``. Degenerate input has a
rule, never a crash; each light carries the reason a person reads:

- a missing value: no light (``none``), reason 未填报;
- zero budget: nothing executed → no light; something executed → red (spending without a
  budget);
- executed above the budget → red (超预算执行), whatever the pace;
- months outside 1–12 are refused by the round (ValueError here);
- a ≥ target of zero: any value meets it → green; a ≤ target of zero: zero → green, more →
  red (the ordinary rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext_noop

from .states import LIGHT_SEVERITY, Direction, Light, QualitativeProgress

HUNDRED = Decimal(100)
TWELVE = Decimal(12)

MISSING = gettext_noop("未填报")
NO_BUDGET = gettext_noop("预算为零且未执行")
SPENT_WITHOUT_BUDGET = gettext_noop("预算为零但已有支出")
OVER_BUDGET = gettext_noop("执行数超过预算")
SLOW = gettext_noop("支出进度慢于时序进度")
SLOW_AGAINST_PLAN = gettext_noop("支出进度慢于资金支付计划")
NOTHING_PLANNED = gettext_noop("支付计划截至本月为零")
BEHIND = gettext_noop("指标完成进度滞后")
TOO_LOW = gettext_noop("目标值设定偏低")
EXCEEDED = gettext_noop("超出目标上限")
ZERO_TARGET = gettext_noop("目标值为零，已达成")
QUALITATIVE = {
    QualitativeProgress.ACHIEVED: Light.GREEN,
    QualitativeProgress.PARTLY: Light.YELLOW,
    QualitativeProgress.NOT_ACHIEVED: Light.RED,
}


@dataclass(frozen=True)
class Reading:
    """A light, the rate it was read from (percent, exact; None if not computed), and why
    (a message id, '' when the rate says it all)."""

    light: str
    rate: Decimal | None = None
    reason: str = ""


def thresholds() -> dict:
    return settings.JIXIAO["MONITORING"]["LIGHTS"]


def _pace(months: int) -> Decimal:
    if not 1 <= months <= 12:
        raise ValueError(f"months elapsed must be 1–12, not {months}")
    return Decimal(months) / TWELVE


def _band(rate: Decimal, *, blue_from: Decimal | None = None) -> str:
    t = thresholds()
    if rate < t["red_below"]:
        return Light.RED
    if rate < t["yellow_below"]:
        return Light.YELLOW
    if blue_from is not None and rate >= blue_from:
        return Light.BLUE
    return Light.GREEN


def spending_light(*, executed: Decimal | None, budget: Decimal | None, months: int) -> Reading:
    """Spending pace: executed to date against the budget (the adjusted one if adjusted)."""
    pace = _pace(months)
    if executed is None or budget is None:
        return Reading(Light.NONE, reason=MISSING)
    if budget <= 0:
        return (
            Reading(Light.RED, reason=SPENT_WITHOUT_BUDGET) if executed > 0 else Reading(Light.NONE, reason=NO_BUDGET)
        )
    rate = executed / budget / pace * HUNDRED
    if executed > budget:
        return Reading(Light.RED, rate, OVER_BUDGET)
    light = _band(rate)
    return Reading(light, rate, SLOW if light != Light.GREEN else "")


def spending_light_against_plan(*, executed: Decimal | None, budget: Decimal | None, planned: Decimal) -> Reading:
    """Spending against the payment plan: executed to date ÷ planned to the same month.
    Above the budget is red as on the straight line; nothing planned yet is green (nothing
    could be behind it) with its reason."""
    if executed is None:
        return Reading(Light.NONE, reason=MISSING)
    if budget is not None and budget > 0 and executed > budget:
        return Reading(Light.RED, executed / budget * HUNDRED, OVER_BUDGET)
    if planned <= 0:
        return Reading(Light.GREEN, reason=NOTHING_PLANNED)
    rate = executed / planned * HUNDRED
    light = _band(rate)
    return Reading(light, rate, SLOW_AGAINST_PLAN if light != Light.GREEN else "")


def indicator_light(
    *,
    direction: str,
    target: Decimal | None,
    value: Decimal | None = None,
    progress: str = "",
    months: int,
    paced: bool = True,
) -> Reading:
    """One target indicator's light from its value to date (or qualitative progress).
    ``paced`` is False for a non-cumulative indicator (``cumulative``): read against the
    target itself, not the time pace."""
    pace = _pace(months) if paced else Decimal(1)
    if direction == Direction.QUALITATIVE:
        if progress not in QUALITATIVE:
            return Reading(Light.NONE, reason=MISSING)
        light = QUALITATIVE[QualitativeProgress(progress)]
        return Reading(light, reason="" if light == Light.GREEN else BEHIND)
    if value is None or target is None:
        return Reading(Light.NONE, reason=MISSING)
    if direction == Direction.LTE:
        # a ceiling (cost, duration, incidents): within it green, else red; not paced
        return Reading(Light.GREEN) if value <= target else Reading(Light.RED, reason=EXCEEDED)
    if target <= 0:
        return Reading(Light.GREEN, reason=ZERO_TARGET)
    rate = value / (target * pace) * HUNDRED
    blue_from = thresholds()["blue_from"] if direction == Direction.GTE else None
    band = _band(rate, blue_from=blue_from)
    reasons: dict[str, str] = {Light.RED: BEHIND, Light.YELLOW: BEHIND, Light.BLUE: TOO_LOW}
    return Reading(band, rate, reasons.get(band, ""))


#: Units of a level, not of an amount done so far: a percentage, a per-mille, a score.
LEVEL_UNITS = frozenset({"%", "％", "百分比", "百分点", "‰", "分", "级", "星", "星级"})
#: Words that make an indicator's name a rate or a level (按期完成率, 占比, 满意度, 达标…).
LEVEL_WORDS = ("率", "比例", "占比", "比重", "满意度", "达标", "指数", "得分")
#: Second-level kinds that are read at a point in time, never accumulated.
LEVEL_KINDS = frozenset({"quality", "timeliness", "satisfaction"})


def cumulative(row) -> bool:
    """Whether a target indicator accumulates over the year, so that its value to date is read
    against the time pace (target × months ÷ 12). The one rule, from the indicator's unit,
    name and second-level kind (``row`` has ``unit``, ``name``, ``level2``):

    - a level unit (%, ％, 百分比, ‰, 分, 级, 星…) → not cumulative;
    - a rate or level word in the name (率, 比例, 占比, 比重, 满意度, 达标, 指数, 得分) → not;
    - a quality, timeliness or satisfaction indicator (质量, 时效, 满意度指标) → not;
    - anything else (a count, a length, an amount: 人次, 公里, 万元, 个) → cumulative.

    A non-cumulative indicator is read against the target itself: 96 % against ≥ 98 % is
    97.96 % in any month."""
    unit = (row.unit or "").strip()
    if unit in LEVEL_UNITS:
        return False
    if any(word in (row.name or "") for word in LEVEL_WORDS):
        return False
    return row.level2 not in LEVEL_KINDS


def worst(lights) -> str:
    """The project's light: the worst of its lights (red > yellow > green > blue); none
    only when no light could be read."""
    lights = list(lights)
    if not lights:
        return Light.NONE
    return max(lights, key=lambda light: LIGHT_SEVERITY[Light(light)])


def project_light(spending: str, indicators) -> str:
    """The project's light from its spending light and its indicators' lights (see the
    module docstring): the worst of the indicators and of a warning spending light; the
    spending light alone when no indicator could be read; none when nothing could."""
    read = [light for light in indicators if light != Light.NONE]
    if spending in (Light.RED, Light.YELLOW) or (not read and spending != Light.NONE):
        read.append(spending)
    return worst(read)
