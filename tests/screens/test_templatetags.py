"""The screens' filters: 万元 from exact yuan, Beijing time, labels."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from processes.templatetags.jixiao import action_label, cst, minutes, role_label, stage_badge, wan, yuan


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (Decimal("35000000.00"), "3,500.00"),
        (Decimal("79200000"), "7,920.00"),
        (Decimal("12345678.91"), "1,234.57"),
        (Decimal("50.00"), "0.01"),  # 0.005 万 rounds half up
        (Decimal("49.99"), "0.00"),
        (Decimal("-12000000"), "-1,200.00"),
        (1200000, "120.00"),
        ("1200000.00", "120.00"),
    ],
)
def test_wan_shows_ten_thousands_with_two_places_when_given_yuan(amount, shown):
    assert wan(amount) == shown


@pytest.mark.parametrize("empty", [None, ""])
def test_wan_is_empty_when_no_amount(empty):
    assert wan(empty) == ""


def test_wan_refuses_when_given_float():
    with pytest.raises(TypeError):
        wan(1200000.0)


def test_yuan_shows_thousands_separators_when_given_yuan():
    assert yuan(Decimal("1234567.8")) == "1,234,567.80"


def test_cst_shows_beijing_time_when_given_utc():
    assert cst(datetime(2021, 3, 1, 16, 30, tzinfo=UTC)) == "2021-03-02 00:30"
    assert cst(None) == ""


def test_labels_are_chinese_when_given_codes():
    assert role_label("dept_leader") == "部门负责人"
    assert action_label("approve") == "审核通过"
    assert action_label("create") == "新建"
    assert action_label("something_new") == "something_new"
    assert 'class="badge stage-dept_approved"' in stage_badge("dept_approved")
    assert "部门已审核" in stage_badge("dept_approved")


def test_minutes_counts_whole_minutes_when_given_timedelta():
    assert minutes(timedelta(minutes=15)) == 15
    assert minutes(None) == ""
