"""The report's narrative from data (issue 19 item 2): 取得的成绩, 存在的问题, monitoring,
target review and rectification, computed from a year's records — in the JSON report, on
the report screen and print page, in the workbook — and an imported year saying what it
lacks. The year below is built row by row (tests/reports/builders.py's way); the figures
are worked out by hand:

取得的成绩  P1 (A): 受益人次 1,200 人次, 新建设施 3 个, 满意度 95 % (a rate: left out),
            定性 (left out); P2 (A), re-checked: its own sheet says 受益人次 900, the
            final re-check's 800 wins; P3 (B): 受益人次 500 人次 and 受益人次 2 万人次
            (another unit: never added to 人次); P4 (B) not accepted: left out
            → district 受益人次 2,500 人次 (3 projects), 新建设施 3 个, 受益人次 2 万人次
            → A: 受益人次 2,000 人次, 新建设施 3 个; B: 受益人次 500 人次, 2 万人次
存在的问题  findings: 2 目标设置, 1 资金管理, 1 uncategorised; another year's not counted
            suggestions: 1 项目实施, 2 财务管理, 1 not stated
监控        round 1–7: red 1, yellow 1, green 1 (one report not filled: not counted);
            round 8–10: red 1; disposals: adjusted 3,000,000 → 2,400,000 (−600,000),
            suspended 1 (budget 1,000,000)
目标审核    优 2, 良 1, 差 1 (a cancelled version not counted)
整改        A: 3 issued, 2 verified (1 submitted by the deadline, 1 after), 1 open past its
            deadline; B: 1 open, not yet due
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from io import BytesIO, StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from processes.models import (
    BudgetProject,
    MonitoringReport,
    MonitoringRound,
    Rectification,
    ScoreLine,
    ScoreSheet,
    SelfEvaluation,
    TargetRow,
    TargetSet,
)
from processes.states import (
    Direction,
    Disposal,
    Light,
    RectificationStatus,
    ReportStatus,
    ScoreSection,
    SelfEvaluationStatus,
    TargetSetStatus,
)
from reports.figures import annual_report, report_json
from tests.reports.builders import Builder, imported_history

YEAR = 2023
D = Decimal
NOW = timezone.now()


def _sheet(b: Builder, project: BudgetProject, lines: list[tuple]) -> ScoreSheet:
    """A sheet of ``project`` with ``lines`` (section, name, direction, unit, actual); the
    target rows they score are made on an approved version."""
    targets = TargetSet.objects.filter(project=project).first() or TargetSet.objects.create(
        project=project, number=1, status=TargetSetStatus.APPROVED, created_by=b.d.staff_a
    )
    sheet = ScoreSheet.objects.create(project=project)
    for position, (section, name, direction, unit, actual) in enumerate(lines, start=1):
        row = TargetRow.objects.create(
            target_set=targets,
            position=targets.rows.count() + 1,
            level1="output",
            level2="quantity",
            name=name,
            direction=direction,
            unit=unit,
            weight=D("10"),
        )
        ScoreLine.objects.create(
            sheet=sheet,
            target_row=row,
            position=position,
            section=section,
            name=name,
            direction=direction,
            unit=unit,
            weight=D("10"),
            actual_value=None if actual is None else D(actual),
        )
    return sheet


OUT, EFFECT, SAT = ScoreSection.OUTPUT, ScoreSection.OUTCOME, ScoreSection.SATISFACTION
GTE, QUAL = Direction.GTE, Direction.QUALITATIVE


@pytest.fixture
def year(district):
    return build(district)


@pytest.fixture
def finance(client, district):
    client.force_login(district.finance)
    return client


def build(district, year: int = YEAR):
    b = Builder(district, year)
    a, bb = district.dept_a, district.dept_b
    finance = district.finance

    p1 = b.project(f"{year}-P1", a, budget="1000000")
    se1 = b.self_evaluation(p1, "excellent")
    se1.sheet = _sheet(
        b,
        p1,
        [
            (EFFECT, "受益人次", GTE, "人次", "1200"),
            (OUT, "新建设施", GTE, "个", "3"),
            (SAT, "满意度", GTE, "%", "95"),
            (EFFECT, "群众获得感", QUAL, "", None),
        ],
    )
    se1.save()
    p2 = b.project(f"{year}-P2", a, budget="1000000")
    recheck = b.recheck(p2, score="85", grade="good")
    se2 = SelfEvaluation.objects.get(pk=recheck.self_evaluation_id)
    se2.sheet = _sheet(b, p2, [(EFFECT, "受益人次", GTE, "人次", "900")])
    se2.save()
    recheck.sheet = _sheet(b, p2, [(EFFECT, "受益人次", GTE, "人次", "800")])
    recheck.save()
    p3 = b.project(f"{year}-P3", bb, budget="1000000")
    se3 = b.self_evaluation(p3, "good")
    se3.sheet = _sheet(b, p3, [(EFFECT, "受益 人次", GTE, "人次", "500"), (EFFECT, "受益人次", GTE, "万人次", "2")])
    se3.save()
    p4 = b.project(f"{year}-P4", bb, budget="1000000")
    se4 = b.self_evaluation(p4, "good", status=SelfEvaluationStatus.SUBMITTED)
    se4.sheet = _sheet(b, p4, [(EFFECT, "受益人次", GTE, "人次", "10000")])
    se4.save()

    # 存在的问题
    key = b.key(p3, score="88", grade="good")
    for finding, category in (
        (b.finding("绩效目标不够细化", evaluation=key), "targets"),
        (b.finding("绩效目标与预算不匹配", recheck=recheck), "targets"),
        (b.finding("资金拨付滞后", evaluation=key), "funds"),
        (b.finding("旧记录的问题", recheck=recheck), ""),
    ):
        type(finding).objects.filter(pk=finding.pk).update(category=category)
    other = Builder(district, year + 1)
    elsewhere = other.key(other.project(f"{year + 1}-X", a, budget="100"), score="80", grade="good")
    elsewhere_finding = other.finding("别的年度", evaluation=elsewhere)
    type(elsewhere_finding).objects.filter(pk=elsewhere_finding.pk).update(category="targets")
    b.suggest("按期调度", recheck=recheck)
    b.suggest("加强核算", "规范支付", evaluation=key)
    b.suggest("未注明方面的建议", evaluation=key)
    suggestions = list(key.suggestions.order_by("position", "pk")) + list(recheck.suggestions.all())
    for s, aspect in zip(suggestions, ("finance", "finance", "", "implementation"), strict=True):
        type(s).objects.filter(pk=s.pk).update(aspect=aspect)

    # 监控
    first = MonitoringRound.objects.create(
        fiscal_year=year, start_month=1, end_month=7, title=f"{year} 年 1—7 月监控", due_at=NOW, opened_by=finance
    )
    second = MonitoringRound.objects.create(
        fiscal_year=year, start_month=8, end_month=10, title=f"{year} 年 8—10 月监控", due_at=NOW, opened_by=finance
    )
    adjusted = b.project(f"{year}-M1", a, budget="2400000")
    suspended = b.project(f"{year}-M2", bb, budget="1000000")
    for round_, project, status, light, extra in (
        (first, adjusted, ReportStatus.DISPOSED, Light.RED, {"disposal": Disposal.ADJUST}),
        (first, suspended, ReportStatus.CLEARED, Light.YELLOW, {}),
        (first, p1, ReportStatus.CLEARED, Light.GREEN, {}),
        (first, p2, ReportStatus.ISSUED, Light.NONE, {}),
        (second, suspended, ReportStatus.DISPOSED, Light.RED, {"disposal": Disposal.SUSPEND}),
    ):
        if extra.get("disposal") == Disposal.ADJUST:
            extra.update(amount_before=D("3000000"), amount_after=D("2400000"))
        MonitoringReport.objects.create(round=round_, project=project, status=status, light=light, **extra)

    # 目标审核
    for project, rating, status in (
        (p1, "excellent", TargetSetStatus.APPROVED),
        (p2, "excellent", TargetSetStatus.APPROVED),
        (p3, "good", TargetSetStatus.APPROVED),
        (p4, "poor", TargetSetStatus.REJECTED),
        (adjusted, "fair", TargetSetStatus.CANCELLED),
    ):
        if not TargetSet.objects.filter(project=project).exists():
            TargetSet.objects.create(project=project, number=1, status=status, created_by=district.staff_a)
        TargetSet.objects.filter(project=project).update(status=status, rating=rating)

    # 整改
    def rectification(department, project, status, *, deadline_days: int, submitted_days: int | None = None):
        deadline = NOW + timedelta(days=deadline_days)
        return Rectification.objects.create(
            department=department,
            project=project,
            title="整改",
            status=status,
            deadline=deadline,
            original_deadline=deadline,
            issued_by=finance,
            submitted_at=None if submitted_days is None else NOW + timedelta(days=submitted_days),
        )

    rectification(a, p1, RectificationStatus.VERIFIED, deadline_days=-10, submitted_days=-12)
    rectification(a, p2, RectificationStatus.VERIFIED, deadline_days=-10, submitted_days=-5)
    rectification(a, p1, RectificationStatus.ACKNOWLEDGED, deadline_days=-1)
    rectification(bb, p3, RectificationStatus.ISSUED, deadline_days=5)
    return b


def figures(year: int = YEAR) -> dict:
    return report_json(annual_report(year, now=NOW))


@pytest.mark.django_db
def test_achievements_add_each_indicator_by_unit_from_the_sheets_of_record_when_projects_report_them(district, year):
    achievements = figures()["achievements"]
    assert achievements["district"] == [
        {"indicator": "受益人次", "unit": "人次", "total": "2500", "projects": 3},
        {"indicator": "受益人次", "unit": "万人次", "total": "2", "projects": 1},
        {"indicator": "新建设施", "unit": "个", "total": "3", "projects": 1},
    ]
    assert achievements["departments"] == [
        {
            "department": "区农水局",
            "items": [
                {"indicator": "受益人次", "unit": "人次", "total": "2000", "projects": 2},
                {"indicator": "新建设施", "unit": "个", "total": "3", "projects": 1},
            ],
        },
        {
            "department": "区住房建设局",
            "items": [
                {"indicator": "受益人次", "unit": "万人次", "total": "2", "projects": 1},
                {"indicator": "受益人次", "unit": "人次", "total": "500", "projects": 1},
            ],
        },
    ]


@pytest.mark.django_db
def test_problems_count_findings_by_category_with_examples_and_suggestions_by_aspect_when_recorded(district, year):
    problems = figures()["problems"]
    assert problems["findings"] == 4
    assert problems["by_category"] == [
        {
            "category": "targets",
            "label": "目标设置",
            "count": 2,
            "examples": ["绩效目标不够细化", "绩效目标与预算不匹配"],
        },
        {"category": "funds", "label": "资金管理", "count": 1, "examples": ["资金拨付滞后"]},
        {"category": "implementation", "label": "项目实施", "count": 0, "examples": []},
        {"category": "management", "label": "绩效管理", "count": 0, "examples": []},
    ]
    assert problems["uncategorised"] == 1
    assert problems["suggestions"] == {
        "total": 4,
        "by_aspect": {"implementation": 1, "finance": 2, "performance": 0, "unstated": 1},
    }


@pytest.mark.django_db
def test_problems_follow_the_categories_of_the_settings_when_they_change(district, year, settings):
    settings.JIXIAO = {**settings.JIXIAO, "FINDING_CATEGORIES": [{"code": "funds", "label": "资金管理"}]}
    problems = figures()["problems"]
    assert [c["category"] for c in problems["by_category"]] == ["funds"]
    assert problems["uncategorised"] == 3  # two 目标设置 (no longer listed) and the blank one


@pytest.mark.django_db
def test_monitoring_counts_lights_by_round_and_sums_the_disposals_when_reports_are_handed_in(district, year):
    monitoring = figures()["monitoring"]
    assert [(r["start_month"], r["end_month"], r["reports"], r["lights"]) for r in monitoring["rounds"]] == [
        (1, 7, 3, {"red": 1, "yellow": 1, "green": 1, "blue": 0, "none": 0}),
        (8, 10, 1, {"red": 1, "yellow": 0, "green": 0, "blue": 0, "none": 0}),
    ]
    assert monitoring["lights"] == {"red": 2, "yellow": 1, "green": 1, "blue": 0, "none": 0}
    assert monitoring["adjusted"] == {
        "projects": 1,
        "before": "3000000.00",
        "after": "2400000.00",
        "change": "-600000.00",
    }
    assert monitoring["suspended"] == {"projects": 1, "budget": "1000000.00"}
    assert monitoring["payments_stopped"] == {"projects": 0, "budget": "0.00"}


@pytest.mark.django_db
def test_target_review_counts_each_rating_given_when_versions_were_rated(district, year):
    assert figures()["target_review"] == {
        "rated": 4,
        "ratings": {"excellent": 2, "good": 1, "fair": 0, "poor": 1},
    }


@pytest.mark.django_db
def test_rectification_counts_issued_verified_on_time_and_overdue_by_department_when_issued(district, year):
    rectification = figures()["rectification"]
    assert rectification["departments"] == [
        {"department": "区农水局", "issued": 3, "verified": 2, "on_time": 1, "overdue": 1},
        {"department": "区住房建设局", "issued": 1, "verified": 0, "on_time": 0, "overdue": 0},
    ]
    assert (rectification["issued"], rectification["verified"], rectification["on_time"]) == (4, 2, 1)
    assert rectification["overdue"] == 1
    assert figures()["narrative_missing"] == []


@pytest.mark.django_db
def test_imported_year_names_what_its_workbook_lacks_when_reported(district, finance):
    imported_history(2019)
    report = figures(2019)
    assert report["narrative_missing"] == ["achievements", "findings", "monitoring", "target_review", "rectification"]
    page = finance.get(reverse("reports:year", args=[2019])).content.decode()
    assert "历史导入的年度不含：取得的成绩（评分表的实际完成值）、问题类别（评价发现的问题）" in page
    assert 'data-testid="achievements-table"' not in page and 'data-testid="monitoring-lights"' not in page
    book = load_workbook(BytesIO(finance.get(reverse("reports:xlsx", args=[2019])).content))
    assert str(book["成绩与问题"]["A3"].value).startswith("历史导入的年度不含：")


@pytest.mark.django_db
def test_narrative_costs_the_same_queries_when_the_year_grows(district, year):
    with CaptureQueriesContext(connection) as small:
        annual_report(YEAR, now=NOW)
    b = build(district, 2040)
    for i in range(5):  # more sheets, findings, reports and rectifications in 2040
        p = b.project(f"2040-N{i}", district.dept_b, budget="100")
        se = b.self_evaluation(p, "good")
        se.sheet = _sheet(b, p, [(EFFECT, f"指标{i}", GTE, "个", "1")])
        se.save()
        b.finding("问题", evaluation=b.key(p, score="90", grade="excellent"))
    with CaptureQueriesContext(connection) as large:
        annual_report(2040, now=NOW)
    assert len(large) == len(small)


@pytest.mark.django_db
def test_report_screen_print_page_and_workbook_show_the_narrative_when_the_year_has_it(district, finance, year):
    page = finance.get(reverse("reports:year", args=[YEAR])).content.decode()
    for testid in ("achievements-table", "findings-by-category", "monitoring-lights", "rectification-summary"):
        assert f'data-testid="{testid}"' in page
    assert "绩效目标不够细化" in page and "动态调整预算 1 个项目，由 300.00 万元调整为 240.00 万元" in page
    assert "专家共提出 4 条建议，其中：项目实施 1 条，财务管理 2 条，绩效情况 0 条，未注明方面 1 条。" in page

    printed = finance.get(reverse("reports:print", args=[YEAR])).content.decode()
    assert 'data-testid="narrative"' in printed and "受益人次" in printed

    book = load_workbook(BytesIO(finance.get(reverse("reports:xlsx", args=[YEAR])).content))
    rows = [[c for c in row if c is not None] for row in book["成绩与问题"].iter_rows(values_only=True)]
    assert ["全区", "受益人次", 2500, "人次", 3] in rows
    assert ["目标设置", 2, "1. 绩效目标不够细化\n2. 绩效目标与预算不匹配"] in rows
    assert ["调整预算", 1, D("300.00"), D("240.00"), D("-60.00")] in rows
    assert ["区农水局", 3, 2, 1, 1] in rows


@pytest.mark.django_db
def test_public_pages_leave_the_narrative_out_when_a_year_is_disclosed(district, year, client):
    from reports.services import report_disclose

    report_disclose(year=YEAR, actor=district.finance, note="")
    printed = client.get(reverse("reports:public_report", args=[YEAR])).content.decode()
    assert printed.count("受益人次") == 0 and 'data-testid="narrative"' not in printed
    book = load_workbook(BytesIO(client.get(reverse("reports:public_report_xlsx", args=[YEAR])).content))
    assert "成绩与问题" not in book.sheetnames


@pytest.mark.django_db
def test_annual_report_command_prints_the_narrative_keys_when_asked_for_json(district, year):
    out = StringIO()
    call_command("annual_report", "--year", str(YEAR), "--format", "json", stdout=out)
    report = json.loads(out.getvalue())
    assert {"achievements", "problems", "monitoring", "target_review", "rectification", "narrative_missing"} <= set(
        report
    )
    assert report["problems"]["findings"] == 4
