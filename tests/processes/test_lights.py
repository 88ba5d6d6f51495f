"""预警灯 (DESIGN §3.4): every boundary and every degenerate input has its rule."""

from decimal import Decimal

import pytest

from processes import lights
from processes.lights import indicator_light, project_light, spending_light, worst
from processes.states import Light

D = Decimal
TWELVE = 12


def spent(rate: str, months: int = TWELVE) -> str:
    """The spending light at ``rate`` percent of the time pace (budget 10,000; full year)."""
    executed = D(rate) * D(100) * D(months) / D(12)
    return spending_light(executed=executed, budget=D(10000), months=months).light


@pytest.mark.parametrize(
    ("rate", "light"),
    [
        ("0", Light.RED),
        ("59.99", Light.RED),
        ("60", Light.YELLOW),
        ("79.99", Light.YELLOW),
        ("80", Light.GREEN),
        ("100", Light.GREEN),
    ],
)
def test_spending_light_at_each_boundary_when_a_full_year_has_passed(rate, light):
    assert spent(rate) == light


def test_spending_light_reads_against_the_time_pace_when_seven_months_have_passed():
    # 7/12 of the year: 5,833.33 of 10,000 spent is exactly on pace
    reading = spending_light(executed=D("4666.67"), budget=D(10000), months=7)
    assert reading.light == Light.GREEN and reading.rate.quantize(D("0.01")) == D("80.00")
    reading = spending_light(executed=D("4666.66"), budget=D(10000), months=7)
    assert reading.light == Light.YELLOW and reading.reason == lights.SLOW


def test_spending_is_never_blue_when_far_ahead_of_the_pace():
    assert spending_light(executed=D(9000), budget=D(10000), months=1).light == Light.GREEN


@pytest.mark.parametrize(
    ("rate", "light"),
    [
        ("59.99", Light.RED),
        ("60", Light.YELLOW),
        ("79.99", Light.YELLOW),
        ("80", Light.GREEN),
        ("119.99", Light.GREEN),
        ("120", Light.BLUE),
        ("400", Light.BLUE),
    ],
)
def test_gte_indicator_light_at_each_boundary_when_read_against_its_pace(rate, light):
    # target 1,200 over the year; 6 months elapsed → pace 600; value = rate % of 600
    value = D(rate) * D(6)
    reading = indicator_light(direction="gte", target=D(1200), value=value, months=6)
    assert reading.light == light
    assert reading.rate == D(rate)
    assert reading.reason == {Light.BLUE: lights.TOO_LOW, Light.GREEN: ""}.get(light, lights.BEHIND)


@pytest.mark.parametrize(("value", "light"), [("299.99", Light.GREEN), ("300", Light.GREEN), ("300.01", Light.RED)])
def test_lte_indicator_is_green_within_its_ceiling_and_red_beyond_it(value, light):
    assert indicator_light(direction="lte", target=D(300), value=D(value), months=3).light == light


def test_eq_indicator_is_paced_but_never_blue_when_over_its_pace():
    assert indicator_light(direction="eq", target=D(10), value=D(10), months=6).light == Light.GREEN
    assert indicator_light(direction="eq", target=D(10), value=D(2), months=6).light == Light.RED


@pytest.mark.parametrize(
    ("progress", "light"),
    [("achieved", Light.GREEN), ("partly", Light.YELLOW), ("not_achieved", Light.RED), ("", Light.NONE)],
)
def test_qualitative_indicator_light_follows_the_chosen_progress(progress, light):
    assert indicator_light(direction="qualitative", target=None, progress=progress, months=7).light == light


# -- degenerate input --------------------------------------------------------------------


def test_zero_budget_has_no_light_when_nothing_was_spent_and_red_when_something_was():
    nothing = spending_light(executed=D(0), budget=D(0), months=7)
    assert (nothing.light, nothing.rate, nothing.reason) == (Light.NONE, None, lights.NO_BUDGET)
    something = spending_light(executed=D("0.01"), budget=D(0), months=7)
    assert (something.light, something.reason) == (Light.RED, lights.SPENT_WITHOUT_BUDGET)


def test_spending_above_the_budget_is_red_whatever_the_pace():
    reading = spending_light(executed=D("10000.01"), budget=D(10000), months=12)
    assert (reading.light, reading.reason) == (Light.RED, lights.OVER_BUDGET)
    assert reading.rate > D(100)


def test_zero_target_is_met_by_any_value_when_the_indicator_is_gte():
    reading = indicator_light(direction="gte", target=D(0), value=D(0), months=7)
    assert (reading.light, reading.reason) == (Light.GREEN, lights.ZERO_TARGET)


def test_zero_ceiling_is_red_once_exceeded_when_the_indicator_is_lte():
    assert indicator_light(direction="lte", target=D(0), value=D(0), months=7).light == Light.GREEN
    assert indicator_light(direction="lte", target=D(0), value=D(1), months=7).light == Light.RED


def test_first_month_reads_against_one_twelfth_of_the_year():
    assert spending_light(executed=D(600), budget=D(12000), months=1).light == Light.YELLOW  # 60 % of the pace
    assert spending_light(executed=D(599), budget=D(12000), months=1).light == Light.RED
    assert spending_light(executed=D(800), budget=D(12000), months=1).light == Light.GREEN
    assert indicator_light(direction="gte", target=D(120), value=D(12), months=1).light == Light.BLUE


@pytest.mark.parametrize("months", [0, 13, -1])
def test_months_outside_the_year_are_refused_when_read(months):
    with pytest.raises(ValueError):
        spending_light(executed=D(1), budget=D(1), months=months)


def test_missing_values_give_no_light_with_the_reason_when_not_reported():
    assert spending_light(executed=None, budget=D(100), months=7) == lights.Reading(Light.NONE, None, lights.MISSING)
    assert spending_light(executed=D(1), budget=None, months=7).light == Light.NONE
    assert indicator_light(direction="gte", target=D(5), value=None, months=7).reason == lights.MISSING
    assert indicator_light(direction="lte", target=None, value=D(5), months=7).light == Light.NONE


def test_project_takes_the_worst_light_and_none_only_when_nothing_could_be_read():
    assert worst([Light.GREEN, Light.BLUE, Light.YELLOW]) == Light.YELLOW
    assert worst([Light.BLUE, Light.GREEN]) == Light.GREEN
    assert worst([Light.BLUE, Light.RED, Light.NONE]) == Light.RED
    assert worst([Light.BLUE]) == Light.BLUE
    assert worst([Light.NONE, Light.BLUE]) == Light.BLUE
    assert worst([]) == Light.NONE


def test_thresholds_follow_the_settings_when_changed(settings):
    settings.JIXIAO = {
        **settings.JIXIAO,
        "MONITORING": {"LIGHTS": {"red_below": D(50), "yellow_below": D(70), "blue_from": D(150)}},
    }
    assert spent("55") == Light.YELLOW
    assert spent("70") == Light.GREEN
    assert indicator_light(direction="gte", target=D(100), value=D(149), months=12).light == Light.GREEN


@pytest.mark.parametrize(
    ("spending", "indicators", "light"),
    [
        (Light.GREEN, [Light.BLUE, Light.BLUE], Light.BLUE),  # on pace, every target far ahead: blue
        (Light.GREEN, [Light.BLUE, Light.GREEN], Light.GREEN),
        (Light.YELLOW, [Light.BLUE, Light.BLUE], Light.YELLOW),  # a spending warning counts
        (Light.RED, [Light.GREEN], Light.RED),
        (Light.GREEN, [Light.YELLOW, Light.RED], Light.RED),
        (Light.GREEN, [], Light.GREEN),  # no indicator read: the spending light alone
        (Light.NONE, [Light.BLUE, Light.NONE], Light.BLUE),
        (Light.NONE, [Light.NONE], Light.NONE),
    ],
)
def test_project_light_is_the_worst_of_its_indicators_and_of_a_warning_spending_light(spending, indicators, light):
    assert project_light(spending, indicators) == light
