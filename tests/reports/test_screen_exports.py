"""The screens' workbooks as reports.exports builds them from plain data: a campaign's, a
monitoring round's, a year's pre-assessments and the deadline board's (the views only read
the data and send the bytes; tests/screens fetch them)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from io import BytesIO
from types import SimpleNamespace as NS

import pytest
from openpyxl import load_workbook

from processes.states import Light, ReportStatus
from reports import exports

D = Decimal
LIGHTS = ["红灯", "黄灯", "绿灯", "蓝灯", "无法判定"]


def rows_of(content: bytes, title: str) -> list[tuple]:
    return list(load_workbook(BytesIO(content))[title].iter_rows(values_only=True))


def project(code="P001", name="项目一", department="财政局"):
    return NS(code=code, name=name, department=NS(name=department))


def campaign() -> bytes:
    se = NS(
        project=project(),
        sheet=NS(budget=D("1234500"), executed=D("1000000"), execution_rate=D("81.00")),
        recheck=NS(final_score=D("88.50"), final_grade="good", get_final_grade_display=lambda: "良"),
        get_status_display=lambda: "已确认",
        score=D("90.00"),
        grade="excellent",
        get_grade_display=lambda: "优",
    )
    overview = {"statuses": [], "total": 1, "grades": [], "rate": None, "departments": []}
    return exports.evaluation_campaign_xlsx(NS(title="2025年自评", fiscal_year=2025), overview, [se])


def monitoring() -> bytes:
    pace = NS(
        reports=0, executed=D(0), budget=D(0), execution_rate=None, time_pace=None, ratio=None, reading=NS(light="none")
    )
    overview = NS(
        round=NS(title="第一轮", fiscal_year=2025, start_month=1, end_month=6),
        pace=pace,
        total=0,
        by_light={},
        by_status={},
        departments=[],
        red=[],
    )
    report = NS(
        project=project(),
        get_status_display=lambda: str(ReportStatus.CLEARED.label),
        budget=D("1000000"),
        adjusted_budget=D("1200000"),
        executed=D("612345"),
        budget_in_force=D("1200000"),
        expected_full_year=D("1100000"),
        spending_rate=D("51.0287"),
        get_spending_light_display=lambda: "绿灯",
        get_light_display=lambda: "红灯",
        indicators=NS(all=lambda: [NS(light=Light.RED, reason="", target_row=NS(name="完成率"))]),
        adjustment_requested=False,
        proposed_amount=None,
        disposal="",
        amount_before=None,
        amount_after=None,
    )
    return exports.monitoring_round_xlsx(overview, [report])


def pre_assessment() -> bytes:
    summary = NS(projects=1, requested=D("2000000"), approved=D("1500000"), reduction=D("500000"), reduction_rate=D(25))
    pa = NS(
        project=project(),
        requested_amount=D("2000000"),
        approved_amount=D("1500000"),
        reduction=D("500000"),
        get_conclusion_display=lambda: "予以支持",
    )
    return exports.pre_assessment_summary_xlsx(2025, summary, [("予以支持", 1)], [pa])


def board() -> bytes:
    due = datetime(2025, 3, 1, 1, 30, tzinfo=UTC)  # 09:30 in Beijing
    row = NS(
        kind_label="整改",
        title="整改事项",
        department="财政局",
        project="项目一",
        due_at=due,
        original_due_at=None,
        overdue=True,
        days=3,
        status="整改中",
        url="/rectifications/1/",
    )
    now = datetime(2025, 3, 4, 2, 0, tzinfo=UTC)
    return exports.deadline_board_xlsx([row], {"departments": [], "months": []}, now, site_url="https://jx.example/")


CASES = {
    "campaign": (
        campaign,
        "自评清单",
        0,
        (
            "预算部门",
            "项目编码",
            "项目名称",
            "状态",
            "预算数（万元）",
            "执行数（万元）",
            "预算执行率",
            "自评得分",
            "自评等次",
            "复核得分",
            "复核等次",
        ),
        ("财政局", "P001", "项目一", "已确认", 123.45, 100, "81.00%", 90, "优", 88.5, "良"),
    ),
    "monitoring": (
        monitoring,
        "报告清单",
        0,
        (
            "预算部门",
            "项目编码",
            "项目名称",
            "状态",
            "年初预算数（元）",
            "调整后预算（元）",
            "截至期末执行数（元）",
            "截至期末执行数（万元）",
            "执行预算数（万元）",
            "预计全年执行数（元）",
            "支出进度与时序进度之比",
            "支出进度灯",
            "项目预警灯",
            "红灯、黄灯指标",
            "申请调整预算",
            "申请调整后金额（元）",
            "处置方式",
            "调整前预算（元）",
            "调整后预算金额（元）",
        ),
        (
            "财政局",
            "P001",
            "项目一",
            "审核通过",
            1000000,
            1200000,
            612345,
            61.23,
            120,
            1100000,
            "51.03%",
            "绿灯",
            "红灯",
            "完成率（红灯）",
            "否",
            None,
            None,  # "" is written as an empty cell
            None,
            None,
        ),
    ),
    "pre_assessment": (
        pre_assessment,
        "汇总",
        7,  # below the totals and the conclusions counted
        ("预算部门", "项目编码", "项目名称", "送审金额（万元）", "审定金额（万元）", "核减金额（万元）", "评估结论"),
        ("财政局", "P001", "项目一", 200, 150, 50, "予以支持"),
    ),
    "board": (
        board,
        "督办清单",
        1,
        ("类型", "事项", "预算部门", "预算项目", "期限", "原定期限", "期限状态", "天数", "状态", "链接"),
        (
            "整改",
            "整改事项",
            "财政局",
            "项目一",
            datetime(2025, 3, 1, 9, 30),
            None,
            "已逾期",
            3,
            "整改中",
            "https://jx.example/rectifications/1/",
        ),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_each_screen_builder_writes_its_header_and_first_row_when_given_one_row(name):
    build, title, header_at, header, first = CASES[name]
    rows = rows_of(build(), title)
    assert rows[header_at] == header
    assert rows[header_at + 1] == first
