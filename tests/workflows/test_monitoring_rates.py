"""Issue 18 item 4, second defect: a rate indicator is not prorated by the elapsed share of
the year. "按期完成率 ≥ 98 %" with 96 % reported in mid-year reads 96 ÷ 98 = 97.96 % (green),
not 96 ÷ (98 × 6/12) = 195.92 % (blue, 目标值设定偏低); a cumulative indicator (公里) is still
read against the time pace."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from processes import lights
from processes.models import TargetRow
from processes.services.monitoring import approved_rows, report_save
from processes.states import Light, ProjectStage
from workflows.services import monitoring_round_open, project_act

pytestmark = pytest.mark.django_db
D = Decimal

ROWS = [
    {
        "level1": "output",
        "level2": "quantity",
        "name": "新建灌溉渠道长度",
        "direction": "gte",
        "target_value": "12.5",
        "unit": "公里",
        "weight": "40",
    },
    {
        "level1": "output",
        "level2": "timeliness",
        "name": "按期完成率",
        "direction": "gte",
        "target_value": "98",
        "unit": "%",
        "weight": "30",
    },
    {
        "level1": "satisfaction",
        "level2": "satisfaction",
        "name": "受益群众满意度",
        "direction": "gte",
        "target_value": "90",
        "unit": "%",
        "weight": "20",
    },
    {
        "level1": "effect",
        "level2": "social",
        "name": "农田灌溉条件改善",
        "direction": "qualitative",
        "target_text": "明显改善",
        "weight": "10",
    },
]


def mid_year_report(district):
    project = district.project(ProjectStage.TARGET_REVIEW)
    district.approve_targets(project, rows=ROWS)
    project.refresh_from_db()
    project_act(project=project, actor=district.finance, action="start_execution")
    due = timezone.now() + timedelta(days=10)
    return monitoring_round_open(actor=district.finance, fiscal_year=2021, end_month=6, due_at=due).created[0]


def test_rate_indicator_reads_against_its_target_not_the_pace_when_reported_mid_year(district):
    report = mid_year_report(district)
    values = {"新建灌溉渠道长度": "5", "按期完成率": "96", "受益群众满意度": "92"}
    indicators = [
        {"target_row": row.pk, "value": values[row.name], "likelihood": "certain"}
        if row.name in values
        else {"target_row": row.pk, "progress": "achieved", "likelihood": "certain"}
        for row in approved_rows(report.project)
    ]
    report = report_save(
        report=report,
        actor=district.staff_a,
        budget="1200000",
        executed="600000",
        expected_full_year="1200000",
        indicators=indicators,
    )
    by_name = {p.target_row.name: p for p in report.indicators.select_related("target_row")}
    assert (by_name["按期完成率"].rate, by_name["按期完成率"].light) == (D("97.96"), Light.GREEN)
    assert by_name["按期完成率"].reason != lights.TOO_LOW
    assert (by_name["受益群众满意度"].rate, by_name["受益群众满意度"].light) == (D("102.22"), Light.GREEN)
    # cumulative: 5 km of 12.5 at half the year is 80 % of the pace
    assert (by_name["新建灌溉渠道长度"].rate, by_name["新建灌溉渠道长度"].light) == (D("80.00"), Light.GREEN)
    assert report.light == Light.GREEN


@pytest.mark.parametrize(
    ("unit", "name", "level2", "paced"),
    [
        ("%", "按期完成率", "timeliness", False),
        ("％", "培训合格人数占比", "quantity", False),
        ("百分比", "覆盖面", "quantity", False),
        ("‰", "事故发生率", "quality", False),
        ("", "验收合格率", "quality", False),
        ("分", "群众评议得分", "social", False),
        ("", "服务对象满意度", "satisfaction", False),
        ("人次", "培训人次", "quantity", True),
        ("公里", "新建灌溉渠道长度", "quantity", True),
        ("万元", "带动社会投资", "economic", True),
        ("个", "新增就业岗位", "social", True),
    ],
)
def test_indicator_is_paced_only_when_it_accumulates_over_the_year(unit, name, level2, paced):
    row = TargetRow(unit=unit, name=name, level2=level2, direction="gte")
    assert lights.cumulative(row) is paced


def test_rate_indicator_light_is_blue_only_at_120_percent_of_the_target_when_not_paced():
    reading = lights.indicator_light(direction="gte", target=D(98), value=D(96), months=6, paced=False)
    assert (reading.rate.quantize(D("0.01")), reading.light) == (D("97.96"), Light.GREEN)
    paced = lights.indicator_light(direction="gte", target=D(98), value=D(96), months=6)
    assert paced.rate.quantize(D("0.01")) == D("195.92")  # the cumulative reading, for comparison
    assert lights.indicator_light(direction="gte", target=D(50), value=D(60), months=1, paced=False).light == Light.BLUE
