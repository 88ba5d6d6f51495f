"""Server-drawn SVG charts (issue 21, decision 0019): one on each overview page, drawn from
the page's own figures, with a data table beside it, and nothing the CSP forbids."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import translation

from accounts.models import User
from processes.charts import Chart, Series
from processes.models import EvaluationCampaign, MonitoringRound
from processes.units import in_wan
from reports.figures import annual_report
from reports.selectors import report_years
from tests.workflows.test_demo import load

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        load()
        yield
        transaction.set_rollback(True)


@pytest.fixture
def finance(demo, db, client):
    client.force_login(User.objects.get(username="finance1"))
    return client


def figure(body: str, chart_id: str) -> str:
    found = re.search(rf'<figure class="chart" data-testid="chart-{chart_id}">(.*?)</figure>', body, re.S)
    assert found, f"no chart {chart_id}"
    return found.group(1)


def table_rows(fig: str) -> list[list[str]]:
    body = re.search(r"<tbody>(.*?)</tbody>", fig, re.S).group(1)
    return [
        [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def assert_csp_clean(fig: str) -> None:
    assert " style=" not in fig and "<script" not in fig and "<style" not in fig
    assert 'role="img"' in fig and "<details" in fig


def test_monitoring_round_shows_lights_by_department_chart_when_round_has_reports(finance):
    round_ = MonitoringRound.objects.order_by("-pk").first()
    body = finance.get(reverse("workflows:monitoring_round", args=[round_.pk])).content.decode()
    fig = figure(body, "monitoring-lights")
    assert_csp_clean(fig)
    assert "红灯" in fig and "各部门预警灯" in fig
    # the table is the page's own by-department counts
    rows = table_rows(fig)
    by_dept = re.findall(r'<tr data-department="\d+">\s*<td><a [^>]*>([^<]+)</a>', body)
    assert [r[0] for r in rows] == by_dept
    assert all(int(r[-1].replace(",", "")) == sum(int(v) for v in r[1:-1]) for r in rows)


def test_campaign_shows_grade_and_rate_charts_when_self_evaluations_graded(finance):
    campaign = EvaluationCampaign.objects.order_by("-fiscal_year").first()
    response = finance.get(reverse("workflows:evaluation_campaign", args=[campaign.pk]))
    body = response.content.decode()
    grades = figure(body, "campaign-grades")
    assert_csp_clean(grades)
    counted = {str(label): n for _v, label, n in response.context["overview"]["grades"]}
    assert {r[0]: int(r[1]) for r in table_rows(grades)} == counted
    rates = figure(body, "campaign-rates")
    assert "优良率" in rates
    expected = [d for d in response.context["overview"]["departments"] if d["rate"] is not None]
    assert [r[0] for r in table_rows(rates)] == [d["name"] for d in expected]


def test_board_shows_rectifications_on_time_and_overdue_chart_when_supervisor(demo, db, client):
    client.force_login(User.objects.get(username="supervisor"))
    body = client.get(reverse("workflows:deadline_board")).content.decode()
    fig = figure(body, "rectifications-by-department")
    assert_csp_clean(fig)
    assert "按期销号" in fig and "逾期未销号" in fig
    # the live refresh re-draws it with the tables
    fragment = client.get(reverse("workflows:deadline_board"), {"fragment": "1"}).content.decode()
    assert 'data-testid="chart-rectifications-by-department"' in fragment


def test_year_report_and_print_page_show_figure_charts_when_year_has_data(finance):
    year = next(y.year for y in report_years() if annual_report(y.year).pre_assessment.projects)
    report = annual_report(year)
    for url in (reverse("reports:year", args=[year]), reverse("reports:print", args=[year])):
        body = finance.get(url).content.decode()
        fig = figure(body, "pre-assessment-reduction")
        assert_csp_clean(fig)
        rows = table_rows(fig)
        assert rows[0][0] == "送审金额"
        assert Decimal(rows[0][1].replace(",", "")) == in_wan(report.pre_assessment.requested)
        assert Decimal(rows[2][1].replace(",", "")) == in_wan(report.pre_assessment.reduction)
    year = next(y.year for y in report_years() if annual_report(y.year).evaluated.amount)
    report = annual_report(year)
    for url in (reverse("reports:year", args=[year]), reverse("reports:print", args=[year])):
        fig = figure(finance.get(url).content.decode(), "evaluated-by-kind")
        assert_csp_clean(fig)
        rows = table_rows(fig)
        assert [r[0] for r in rows] == ["财政复核项目", "重点评价项目", "部门整体绩效评价"]
        assert Decimal(rows[1][1].replace(",", "")) == in_wan(report.key_evaluation.budget)


def test_chart_escapes_names_and_uses_no_style_attribute_when_drawn():
    chart = Chart(
        chart_id="t",
        title="<b>标题</b>",
        categories=["一个名字非常非常非常长的预算部门单位", "<script>"],
        series=[Series("a", "甲", [3, 0], "#000000"), Series("b", "乙", [Decimal("1.5"), 2], "#ffffff")],
    )
    svg = str(chart.svg)
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&lt;b&gt;" in svg
    assert " style=" not in svg
    assert "一个名字非常非常非常长的预算部门单位" in svg  # in full in the bar's tooltip
    assert chart.rows == [
        ("一个名字非常非常非常长的预算部门单位", ["3", "1.50"], "4.50"),
        ("<script>", ["0", "2"], "2"),
    ]


def test_chart_draws_nothing_when_no_categories():
    chart = Chart(chart_id="e", title="空", categories=[], series=[])
    assert chart.empty and str(chart.svg) == ""


def test_chart_labels_follow_language_when_english(demo, db):
    from reports.views import figure_charts

    texts = []
    for y in report_years():
        with translation.override("en"):
            for chart in figure_charts(annual_report(y.year)):
                texts += [chart.title, *chart.categories, chart.unit, *(s.label for s in chart.series)]
    assert len(texts) > 8
    assert not any(re.search(r"[\u4e00-\u9fff]", str(t)) for t in texts), texts


def test_axis_ticks_are_whole_numbers_when_values_are_counts():
    chart = Chart(chart_id="c", title="计数", categories=["甲", "乙"], series=[Series("n", "个数", [2, 1], "#000000")])
    ticks = re.findall(r'text-anchor="middle" fill="#52606d">([^<]+)</text>', str(chart.svg))
    assert ticks == ["0", "1", "2"]
