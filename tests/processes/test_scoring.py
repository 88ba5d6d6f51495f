"""绩效自评表 score sheet (DESIGN §3.5): properties over arbitrary sheets, and every rule for
zero, missing and boundary values."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from processes.scoring import (
    Line,
    ScoringError,
    SheetScore,
    Weights,
    grade_of,
    rate_pct,
    score_sheet,
    score_sheet_strict,
)
from processes.states import Direction, Grade, QualitativeProgress

D = Decimal
WEIGHTS = Weights(execution=D(10), output=D(50), outcome=D(30), satisfaction=D(10))
BUDGET = D("7920.00")
QUANTITATIVE = [Direction.GTE, Direction.LTE, Direction.EQ]
BAND_RANGE = {
    QualitativeProgress.ACHIEVED: (80, 100),
    QualitativeProgress.PARTLY: (60, 80),
    QualitativeProgress.NOT_ACHIEVED: (0, 60),
}


def line(key="a", section="output", direction=Direction.GTE, weight="1", target="100", actual="100", **kw) -> Line:
    return Line(
        key=key,
        section=section,
        direction=direction,
        weight=D(weight),
        target=None if target is None else D(target),
        actual=None if actual is None else D(actual),
        **kw,
    )


def sheet(*lines: Line, budget=BUDGET, executed=BUDGET) -> SheetScore:
    return score_sheet(budget=budget, executed=executed, lines=lines, weights=WEIGHTS)


def single(scored: Line) -> SheetScore:
    """A sheet where ``scored`` is the only output line (50 points): the other sections are met."""
    return sheet(scored, line("o", section="outcome"), line("s", section="satisfaction"))


def decimals(places: int = 2, min_value=0):
    return st.decimals(allow_nan=False, allow_infinity=False, places=places, min_value=min_value, max_value=10**9)


amounts = decimals(2)
# zeros and gaps are what breaks a scorer: draw them often
maybe_amounts = st.one_of(st.none(), st.just(D(0)), amounts)
maybe_values = st.one_of(st.none(), st.just(D(0)), decimals(4))


@st.composite
def lines_(draw, *, min_size=0):
    n = draw(st.integers(min_value=min_size, max_value=12))
    result = []
    for i in range(n):
        direction = draw(st.sampled_from([*QUANTITATIVE, Direction.QUALITATIVE]))
        band = ""
        band_pct = None
        if direction == Direction.QUALITATIVE:
            band = draw(st.sampled_from(["", *BAND_RANGE]))
            band_pct = draw(st.none() | st.decimals(min_value=0, max_value=100, places=2))
        result.append(
            Line(
                key=i,
                section=draw(st.sampled_from(["output", "outcome", "satisfaction"])),
                direction=direction,
                weight=draw(st.decimals(min_value=D("0.01"), max_value=100, places=2)),
                target=draw(maybe_values),
                actual=draw(maybe_values),
                band=band,
                band_pct=band_pct,
            )
        )
    return result


def decimals_of(result: SheetScore) -> list[Decimal]:
    values = [result.execution, result.output, result.outcome, result.satisfaction, result.total]
    if result.execution_rate is not None:
        values.append(result.execution_rate)
    for ls in result.lines:
        values.append(ls.points)
        if ls.score is not None:
            values.append(ls.score)
    return values


# -- properties -------------------------------------------------------------------------


@given(budget=maybe_amounts, executed=maybe_amounts, lines=lines_())
def test_any_sheet_scores_without_raising_to_finite_numbers_when_values_are_zero_or_missing(budget, executed, lines):
    result = score_sheet(budget=budget, executed=executed, lines=lines, weights=WEIGHTS)
    assert all(value.is_finite() for value in decimals_of(result))
    assert all(value >= 0 for value in decimals_of(result))
    assert result.complete == (not result.issues)
    if budget is None or budget == 0 or executed is None:
        assert result.execution_rate is None and result.execution == 0 and not result.complete
    if not lines:
        assert result.grade is None and "lines" in result.issues
    else:
        assert result.grade == grade_of(result.total)


@given(budget=maybe_amounts, executed=maybe_amounts, lines=lines_())
def test_total_is_within_0_and_100_and_adds_up_the_sections_when_any_sheet_is_scored(budget, executed, lines):
    result = score_sheet(budget=budget, executed=executed, lines=lines, weights=WEIGHTS)
    assert D(0) <= result.total <= D(100)
    parts = result.execution + result.output + result.outcome + result.satisfaction
    # the total is rounded once from unrounded scores; each of the four parts is rounded on
    # its own, so their sum may drift by up to 4 × half a cent
    assert abs(result.total - parts) <= D("0.02")
    for ls in result.lines:
        assert ls.score is None or ls.score <= ls.points


@given(lines=lines_(min_size=1))
def test_line_points_fill_the_indicator_part_when_every_line_has_a_weight(lines):
    result = sheet(*lines)
    points = sum(ls.points for ls in result.lines)
    # 90 points of indicators, shared out (a section without lines hands its weight on)
    assert abs(points - D(90)) <= D("0.005") * len(lines)


@given(budget=amounts.filter(lambda b: b > 0), lines=lines_(min_size=1))
def test_a_complete_sheet_scores_every_line_when_it_has_no_issues(budget, lines):
    result = score_sheet(budget=budget, executed=budget / 2, lines=lines, weights=WEIGHTS)
    if result.complete:
        assert all(ls.score is not None for ls in result.lines)
        assert result.grade is not None
    else:
        failing = {key.split(".")[1] for key in result.issues if key.startswith("lines.")}
        assert {str(ls.key) for ls in result.lines if ls.score is None} <= failing


@given(target=decimals(4), extra=decimals(4))
def test_a_gte_indicator_gets_full_points_and_no_more_when_it_is_met_or_over_met(target, extra):
    result = single(line(direction=Direction.GTE, target=target, actual=target + extra))
    ls = result.lines[0]
    assert ls.score == ls.points == D("50.00")
    assert result.output == D("50.00")


@given(target=decimals(4, min_value=D("0.0001")), short=st.decimals(min_value=D("0.0001"), max_value=1, places=4))
def test_a_gte_indicator_scores_in_proportion_when_it_is_not_met(target, short):
    actual = target * (1 - short)
    result = single(line(direction=Direction.GTE, target=target, actual=actual))
    ls = result.lines[0]
    assert abs(ls.score - actual / target * 50) <= D("0.005")
    assert ls.score <= ls.points


@given(target=decimals(4), under=st.decimals(min_value=0, max_value=1, places=4))
def test_an_lte_indicator_gets_full_points_and_no_more_when_it_stays_within_target(target, under):
    result = single(line(direction=Direction.LTE, target=target, actual=target * under))
    ls = result.lines[0]
    assert ls.score == ls.points == D("50.00")


@given(target=decimals(4), actual=decimals(4))
def test_an_lte_indicator_scores_target_over_actual_when_it_is_exceeded(target, actual):
    result = single(line(direction=Direction.LTE, target=target, actual=actual))
    ls = result.lines[0]
    expected = D(50) if actual <= target else target / actual * 50
    assert abs(ls.score - expected) <= D("0.005")


@given(target=decimals(4), actual=decimals(4))
def test_an_eq_indicator_scores_the_smaller_over_the_larger_when_it_misses(target, actual):
    result = single(line(direction=Direction.EQ, target=target, actual=actual))
    ls = result.lines[0]
    if actual == target:
        assert ls.score == D("50.00")
    else:
        assert abs(ls.score - min(actual, target) / max(actual, target) * 50) <= D("0.005")
        assert ls.score <= D("50.00")


@given(total=st.decimals(min_value=-10, max_value=110, places=2, allow_nan=False, allow_infinity=False))
def test_grade_follows_the_bands_when_the_total_is_anything(total):
    expected = (
        Grade.EXCELLENT if total >= 90 else Grade.GOOD if total >= 80 else Grade.FAIR if total >= 60 else Grade.POOR
    )
    assert grade_of(total) == expected
    order = [Grade.POOR, Grade.FAIR, Grade.GOOD, Grade.EXCELLENT]
    assert order.index(grade_of(total)) <= order.index(grade_of(total + D("0.01")))


# -- grades --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "grade"),
    [
        ("100", Grade.EXCELLENT),
        ("90.00", Grade.EXCELLENT),
        ("89.99", Grade.GOOD),
        ("80", Grade.GOOD),
        ("79.99", Grade.FAIR),
        ("60", Grade.FAIR),
        ("59.99", Grade.POOR),
        ("0", Grade.POOR),
    ],
)
def test_grade_at_each_boundary(total, grade):
    assert grade_of(D(total)) == grade


def test_grade_is_read_from_the_rounded_total_when_the_score_is_half_a_cent_below_90():
    # outputs 7,999 of 10,000 → 39.995 points; 10 + 39.995 + 30 + 10 = 89.995 → 90.00
    result = sheet(
        line("a", target="10000", actual="7999"),
        line("b", section="outcome", target="1", actual="1"),
        line("c", section="satisfaction", target="1", actual="1"),
    )
    assert result.total == D("90.00") and result.grade == Grade.EXCELLENT


# -- execution -----------------------------------------------------------------------------


def test_rate_pct_rounds_half_up_to_two_decimals_as_in_the_design_example():
    # DESIGN §2: 1,200万 of 7,920万 is 15.15 %
    assert rate_pct(1200, 7920) == D("15.15")
    assert rate_pct(D("12000000.00"), D("79200000.00")) == D("15.15")
    assert rate_pct(1, 8) == D("12.50")
    assert rate_pct(D("0.0005"), D(1)) == D("0.05")  # 0.05 exactly
    assert rate_pct(D("0.000005"), D(1)) == D("0.00")


@pytest.mark.parametrize(("numerator", "denominator"), [(1, 0), (1, None), (None, 1), (D("NaN"), 1), (1, D("Inf"))])
def test_rate_pct_is_none_when_it_cannot_be_computed(numerator, denominator):
    assert rate_pct(numerator, denominator) is None


def test_execution_scores_rate_times_its_weight_when_under_executed():
    # 6,732 of an adjusted budget of 7,920: 85 % → 8.5 of 10
    result = sheet(line(), executed=D("6732.00"))
    assert result.execution_rate == D("85.00")
    assert result.execution == D("8.50")
    assert result.total == D("98.50")
    assert result.complete


def test_execution_is_capped_at_its_weight_when_over_executed():
    result = sheet(line(), executed=BUDGET * 2)
    assert result.execution_rate == D("200.00") and result.execution == D("10.00")


def test_execution_rate_comes_from_exact_amounts_when_shown_to_two_decimals():
    # 1,200 of 7,920 = 15.1515… %: shown 15.15, scored from the exact ratio (1.515151… → 1.52)
    result = sheet(line(), executed=D(1200))
    assert result.execution_rate == D("15.15")
    assert result.execution == D("1.52")


@pytest.mark.parametrize(
    ("budget", "executed", "keys"),
    [
        (None, D(1), {"budget"}),
        (D(0), D(1), {"budget"}),
        (D(-5), D(1), {"budget"}),
        (D(100), None, {"executed"}),
        (D(100), D(-1), {"executed"}),
        (None, None, {"budget", "executed"}),
        (D("NaN"), D("Infinity"), {"budget", "executed"}),
        (D("sNaN"), D(1), {"budget"}),
    ],
)
def test_execution_is_an_issue_scoring_0_when_budget_or_executed_is_missing_or_wrong(budget, executed, keys):
    result = sheet(line(), budget=budget, executed=executed)
    assert set(result.issues) == keys
    assert result.execution_rate is None and result.execution == D("0.00")
    assert result.total == D("90.00")  # the indicators still count: a live preview
    assert not result.complete


def test_zero_executed_of_a_budget_scores_0_without_issue():
    result = sheet(line(), executed=D(0))
    assert result.execution_rate == D("0.00") and result.execution == D("0.00") and result.complete


# -- indicator lines -----------------------------------------------------------------------


def test_section_weight_is_shared_by_line_weight_when_a_section_has_several_lines():
    result = sheet(
        line("a", weight="1"),
        line("b", weight="3", actual="50"),
        line("c", section="outcome"),
        line("d", section="satisfaction"),
    )
    a, b, c, d = result.lines
    assert (a.points, b.points, c.points, d.points) == (D("12.50"), D("37.50"), D("30.00"), D("10.00"))
    assert (a.score, b.score) == (D("12.50"), D("18.75"))
    assert result.output == D("31.25") and result.total == D("81.25")
    assert result.grade == Grade.GOOD


def test_missing_satisfaction_section_hands_its_weight_on_in_proportion_when_it_has_no_lines():
    # outputs 50 and outcomes 30 share the 90 indicator points: 50/80 × 90 and 30/80 × 90
    result = sheet(line("a"), line("b", section="outcome", target="10", actual="5"))
    a, b = result.lines
    assert a.points == D("56.25") and b.points == D("33.75")
    assert result.output == D("56.25") and result.outcome == D("16.88") and result.satisfaction == D("0.00")
    assert result.total == D("83.13")  # 10 + 56.25 + 16.875, rounded once
    assert result.complete


def test_a_lone_section_takes_all_indicator_points_when_the_others_have_no_lines():
    result = sheet(line("s", section="satisfaction", target="95", actual="90"))
    (s,) = result.lines
    assert s.points == D("90.00")
    assert result.satisfaction == D("85.26")  # 90/95 × 90 = 85.263…


def test_sheet_without_lines_has_an_issue_and_no_grade():
    result = sheet()
    assert result.issues == {"lines": ["没有可评分的绩效指标。"]}
    assert result.grade is None and result.total == D("10.00") and result.lines == ()


@pytest.mark.parametrize(
    ("direction", "target", "actual", "score"),
    [
        (Direction.GTE, "0", "0", "50.00"),  # a target of 0 is met by anything
        (Direction.GTE, "0", "7", "50.00"),
        (Direction.GTE, "100", "0", "0.00"),
        (Direction.GTE, "100", "80", "40.00"),
        (Direction.GTE, "100", "150", "50.00"),  # over-met: no more than full points
        (Direction.LTE, "10", "0", "50.00"),  # 0 is within any target
        (Direction.LTE, "0", "0", "50.00"),
        (Direction.LTE, "0", "3", "0.00"),
        (Direction.LTE, "10", "20", "25.00"),
        (Direction.LTE, "10", "5", "50.00"),
        (Direction.EQ, "0", "0", "50.00"),
        (Direction.EQ, "10", "10", "50.00"),
        (Direction.EQ, "10", "8", "40.00"),
        (Direction.EQ, "10", "12.5", "40.00"),
        (Direction.EQ, "0", "4", "0.00"),
        (Direction.EQ, "4", "0", "0.00"),
    ],
)
def test_quantitative_line_score_for_each_direction_and_zero(direction, target, actual, score):
    result = single(line(direction=direction, target=target, actual=actual))
    assert result.lines[0].score == D(score)
    assert result.complete


@pytest.mark.parametrize(
    ("target", "actual", "key", "message"),
    [
        ("100", None, "lines.a.actual", "请填写实际完成值。"),
        ("100", "-1", "lines.a.actual", "实际完成值不能为负数。"),
        ("100", "NaN", "lines.a.actual", "请填写有效的数值。"),
        ("100", "Infinity", "lines.a.actual", "请填写有效的数值。"),
        ("-1", "5", "lines.a.target", "目标值不能为负数。"),
        (None, "5", "lines.a.target", "该指标缺少目标值。"),
    ],
)
def test_quantitative_line_is_an_issue_scoring_0_when_a_value_is_missing_or_wrong(target, actual, key, message):
    result = sheet(line("a", target=target, actual=actual), line("b", section="outcome"))
    assert result.issues == {key: [message]}
    a, b = result.lines
    assert a.score is None and a.points == D("56.25")
    assert b.score == D("33.75")
    assert result.output == D("0.00") and result.total == D("43.75")


def test_every_issue_is_reported_at_once_when_a_sheet_has_several():
    result = sheet(
        line("a", actual=None),
        line("b", actual="-2"),
        line("c", direction=Direction.QUALITATIVE, band=""),
        line("d", direction=Direction.QUALITATIVE, band=QualitativeProgress.PARTLY, band_pct=D(90)),
        line("e", weight="0"),
        budget=None,
        executed=None,
    )
    assert set(result.issues) == {
        "budget",
        "executed",
        "lines.a.actual",
        "lines.b.actual",
        "lines.c.band",
        "lines.d.band_pct",
        "lines.e.weight",
    }
    assert [ls.score for ls in result.lines] == [None] * 5
    assert result.total == D("0.00") and result.grade == Grade.POOR


def test_line_of_unknown_direction_is_a_programming_error():
    with pytest.raises(ValueError, match="direction"):
        sheet(line(direction="gt"))
    with pytest.raises(ValueError, match="section"):
        sheet(line(section="effect"))


# -- qualitative lines ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("band", "pct", "score"),
    [
        (QualitativeProgress.ACHIEVED, "100", "50.00"),
        (QualitativeProgress.ACHIEVED, "80", "40.00"),
        (QualitativeProgress.PARTLY, "80", "40.00"),
        (QualitativeProgress.PARTLY, "60", "30.00"),
        (QualitativeProgress.PARTLY, "75.5", "37.75"),
        (QualitativeProgress.NOT_ACHIEVED, "60", "30.00"),
        (QualitativeProgress.NOT_ACHIEVED, "0", "0.00"),
    ],
)
def test_qualitative_line_scores_its_percent_when_it_lies_within_the_band(band, pct, score):
    result = single(line(direction=Direction.QUALITATIVE, target=None, actual=None, band=band, band_pct=D(pct)))
    assert result.lines[0].score == D(score)
    assert result.complete


@pytest.mark.parametrize(
    ("band", "score"),
    [
        (QualitativeProgress.ACHIEVED, "50.00"),
        (QualitativeProgress.PARTLY, "40.00"),
        (QualitativeProgress.NOT_ACHIEVED, "30.00"),
    ],
)
def test_qualitative_line_scores_the_top_of_its_band_when_no_percent_is_given(band, score):
    result = single(line(direction=Direction.QUALITATIVE, band=band))
    assert result.lines[0].score == D(score) and result.complete


@pytest.mark.parametrize(
    ("band", "pct"),
    [
        (QualitativeProgress.ACHIEVED, "79.99"),
        (QualitativeProgress.ACHIEVED, "100.01"),
        (QualitativeProgress.PARTLY, "59.99"),
        (QualitativeProgress.PARTLY, "80.01"),
        (QualitativeProgress.NOT_ACHIEVED, "60.01"),
        (QualitativeProgress.NOT_ACHIEVED, "-1"),
        (QualitativeProgress.ACHIEVED, "NaN"),
    ],
)
def test_qualitative_line_is_an_issue_when_its_percent_lies_outside_the_band(band, pct):
    result = single(line("q", direction=Direction.QUALITATIVE, band=band, band_pct=D(pct)))
    assert list(result.issues) == ["lines.q.band_pct"]
    assert result.lines[0].score is None


@pytest.mark.parametrize(("band", "message"), [("", "请选择完成情况档次。"), ("mostly", "完成情况档次无效。")])
def test_qualitative_line_is_an_issue_when_its_band_is_missing_or_unknown(band, message):
    result = single(line("q", direction=Direction.QUALITATIVE, band=band, band_pct=D(90)))
    assert result.issues == {"lines.q.band": [message]}


# -- strict scoring and weights ------------------------------------------------------------


def test_strict_scoring_raises_a_validation_error_keyed_by_field_when_the_sheet_has_issues():
    lines = [line("a", actual=None), line("q", direction=Direction.QUALITATIVE, band="")]
    with pytest.raises(ValidationError) as raised:
        score_sheet_strict(budget=D(0), executed=D(1), lines=lines, weights=WEIGHTS)
    assert isinstance(raised.value, ScoringError)
    assert set(raised.value.message_dict) == {"budget", "lines.a.actual", "lines.q.band"}
    assert raised.value.message_dict["lines.a.actual"] == ["请填写实际完成值。"]


def test_strict_scoring_returns_the_sheet_when_it_is_complete():
    result = score_sheet_strict(budget=BUDGET, executed=BUDGET, lines=[line()], weights=WEIGHTS)
    assert result.total == D("100.00") and result.grade == Grade.EXCELLENT and result.complete


def test_weights_come_from_settings(settings):
    settings.JIXIAO = {
        **settings.JIXIAO,
        "EVALUATION": {"WEIGHTS": {"execution": 20, "output": "40", "outcome": D(30), "satisfaction": D(10)}},
    }
    assert Weights.from_settings() == Weights(D(20), D(40), D(30), D(10))


@pytest.mark.parametrize(
    "parts",
    [(D(10), D(50), D(30), D(20)), (D(-10), D(70), D(30), D(10)), (D("NaN"), D(50), D(30), D(10))],
)
def test_weights_are_refused_when_they_do_not_make_a_sheet_of_100(parts):
    with pytest.raises(ValueError):
        Weights(*parts)


def test_other_weights_move_the_points_when_the_setting_changes():
    weights = Weights(execution=D(20), output=D(40), outcome=D(30), satisfaction=D(10))
    result = score_sheet(budget=D(100), executed=D(50), lines=[line()], weights=weights)
    assert result.execution == D("10.00") and result.lines[0].points == D("80.00") and result.total == D("90.00")


def test_total_is_rounded_once_from_unrounded_scores_when_the_parts_each_round_up():
    # each part is exactly half a cent: the parts show 0.01 each, the total 0.02, not 0.04
    result = sheet(
        line("a", target="10000", actual="1"),
        line("b", section="outcome", target="6000", actual="1"),
        line("c", section="satisfaction", target="2000", actual="1"),
        budget=D(10000),
        executed=D(5),
    )
    parts = (result.execution, result.output, result.outcome, result.satisfaction)
    assert parts == (D("0.01"),) * 4
    assert result.total == D("0.02")
