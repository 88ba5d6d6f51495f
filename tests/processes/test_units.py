"""One units module (issue 17, item 6): money to 万元/亿元 and fractions to percent, two places
rounded half-up, in processes.units — and every screen, export, report and API that shows
them goes through it (the copies that rounded half-even are gone); one API money field with
the models' digits; DRF's nested errors flattened in one place."""

from __future__ import annotations

import importlib
import inspect
from decimal import Decimal

import pytest
from rest_framework import serializers

from processes import units
from processes.api.fields import MoneyField, flat_errors
from processes.models import MONEY
from processes.templatetags.jixiao import wan, yuan
from reports.templatetags.report_figures import yi


@pytest.mark.parametrize(
    ("yuan_amount", "expected"),
    [
        ("12345", "1.23"),
        ("12350", "1.24"),
        ("12250", "1.23"),  # half-even would give 1.22
        ("12249.99", "1.22"),
        ("0", "0.00"),
        ("99999999999999.99", "10000000000.00"),  # the largest column value: no overflow
    ],
)
def test_in_wan_rounds_half_up_when_the_amount_ends_in_a_half(yuan_amount, expected):
    assert units.in_wan(Decimal(yuan_amount)) == Decimal(expected)
    assert str(units.in_wan(Decimal(yuan_amount))) == expected


@pytest.mark.parametrize(
    ("yuan_amount", "expected"),
    [("766000000", "7.66"), ("1225000000", "12.25"), ("1235000000", "12.35"), ("1224999999", "12.25")],
)
def test_in_yi_rounds_half_up_when_given_yuan(yuan_amount, expected):
    assert str(units.in_yi(Decimal(yuan_amount))) == expected


@pytest.mark.parametrize(
    ("fraction", "expected"), [("0.12245", "12.25"), ("0.12255", "12.26"), ("0.833333", "83.33"), ("1", "100.00")]
)
def test_percent_rounds_half_up_when_given_a_fraction(fraction, expected):
    assert str(units.percent(Decimal(fraction))) == expected
    assert units.percent_text(Decimal(fraction)) == f"{expected}%"


def test_conversions_keep_none_and_never_show_minus_zero_when_given_none_or_a_tiny_negative():
    assert units.in_wan(None) is None and units.in_yi(None) is None and units.percent(None) is None
    assert units.wan_text(None) == "" and units.yi_text(None) == "" and units.percent_text(None) == ""
    assert str(units.in_wan(Decimal("-0.4"))) == "0.00"


def test_template_filters_show_the_units_figures_when_the_amount_ends_in_a_half():
    assert wan(Decimal("12250")) == "1.23"
    assert wan(Decimal("35000000")) == "3,500.00"
    assert yuan(Decimal("1200000.005")) == "1,200,000.01"
    assert yi(Decimal("1225000000")) == "12.25"


def test_screens_and_api_round_half_up_when_a_copy_rounded_half_even_before():
    from workflows import monitoring_views, pre_assessment_api

    assert pre_assessment_api.percent(Decimal("0.12245")) == "12.25"  # was 12.24 (half-even)
    assert monitoring_views.wan(Decimal("12250")) == Decimal("1.23")
    assert monitoring_views.fraction_percent(Decimal("0.12245")) == "12.25%"


def test_excellent_or_good_rate_is_one_definition_when_screens_and_report_show_it():
    from reports.figures import SelfEvaluationSummary, excellent_or_good_rate
    from workflows.evaluation_views import excellent_good_rate

    grades = {"excellent": 1, "good": 1, "fair": 1, "poor": 0}
    assert excellent_or_good_rate(grades) == Decimal("66.67")  # half-up
    assert excellent_good_rate(grades) == Decimal("66.67")  # the evaluation screens and API
    assert SelfEvaluationSummary(departments=1, grades=grades).excellent_or_good_rate == Decimal("66.67")
    assert excellent_or_good_rate(grades, projects=4) == Decimal("50.00")  # a table's ungraded rows count
    assert excellent_or_good_rate({}) is None and excellent_good_rate({"excellent": 0}) is None


API_MODULES = [
    "processes.api.indicators",
    "processes.api.serializers",
    "workflows.commissioned_api",
    "workflows.project_api",
    "workflows.rectification_api",
    "reports.api",
    "workflows.api",
    "workflows.evaluation_api",
    "workflows.monitoring_api",
    "workflows.pre_assessment_api",
    "workflows.target_api",
]
MONEY_NAMES = ("amount", "budget", "executed", "requested", "approved", "reduction")


def _money_fields():
    for name in API_MODULES:
        module = importlib.import_module(name)
        for cls_name, cls in inspect.getmembers(module, inspect.isclass):
            if not issubclass(cls, serializers.Serializer) or cls.__module__ != name:
                continue
            for field_name, field in cls._declared_fields.items():
                if isinstance(field, serializers.DecimalField) and any(m in field_name for m in MONEY_NAMES):
                    yield f"{name}.{cls_name}.{field_name}", field


def test_every_api_money_field_has_the_models_digits_when_declared_in_any_api_module():
    found = dict(_money_fields())
    # the pre-assessment API's fields allowed 14 digits before; monitoring's 16
    assert "workflows.pre_assessment_api.ConcludeSerializer.approved_amount" in found
    assert "workflows.monitoring_api.ReportDetailSerializer.proposed_amount" in found
    wrong = {k: (f.max_digits, f.decimal_places) for k, f in found.items() if f.max_digits != MONEY["max_digits"]}
    assert not wrong, wrong
    assert all(f.decimal_places == MONEY["decimal_places"] for f in found.values())


def test_money_field_accepts_fourteen_integer_digits_when_the_column_holds_them():
    field = MoneyField()
    assert field.to_internal_value("99999999999999.99") == Decimal("99999999999999.99")
    with pytest.raises(serializers.ValidationError):
        field.to_internal_value("100000000000000.00")
    with pytest.raises(serializers.ValidationError):
        field.to_internal_value("1.005")


def test_flat_errors_keys_nested_errors_like_the_services_when_drf_nests_them():
    nested = {"rows": [{}, {"weight": ["必填"]}], "note": ["太长"], "lines": {"3": {"band_pct": ["x"]}}}
    assert flat_errors(nested) == {"rows.1.weight": ["必填"], "note": ["太长"], "lines.3.band_pct": ["x"]}
