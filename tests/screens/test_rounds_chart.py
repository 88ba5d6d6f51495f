"""The rounds list's chart (issue 21, decision 0019): 预警灯 of each round of a year, stacked,
with its data table; a department filter for the bureau-wide readers; a department's people
see their own department's reports only; the figures in one query whatever the rounds."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from processes.models import MonitoringReport, MonitoringRound
from processes.selectors import monitoring_lights_by_round
from processes.states import Light, ReportStatus
from tests.screens.test_charts import assert_csp_clean, figure, table_rows
from tests.screens.test_monitoring_pages import executing, login
from workflows.services import monitoring_round_open

pytestmark = pytest.mark.django_db

ROUNDS = reverse("workflows:monitoring_rounds")
CHART = "monitoring-rounds-lights"
#: the data table's columns after the round: red, yellow, green, blue, none, total
HEAD = ["监控轮次", "红灯", "黄灯", "绿灯", "蓝灯", "无法判定", "报告数"]


def open_round(district, year, end_month) -> MonitoringRound:
    due = timezone.now() + timedelta(days=10)
    return monitoring_round_open(actor=district.finance, fiscal_year=year, end_month=end_month, due_at=due).round


def set_lights(round_, lights: dict) -> None:
    """``lights``: project → light (or "cancelled": red but cancelled)."""
    for project, light in lights.items():
        reports = MonitoringReport.objects.filter(round=round_, project=project)
        if light == "cancelled":
            reports.update(light=Light.RED, status=ReportStatus.CANCELLED)
        else:
            reports.update(light=light)


@pytest.fixture
def rounds(district):
    """2021: Jan–Mar (A1 red, A2 green, B yellow) and Jan–Jun (A1 blue, A2 red, B cancelled)."""
    a1, a2, b = executing(district, "a"), executing(district, "a"), executing(district, "b")
    march, june = open_round(district, 2021, 3), open_round(district, 2021, 6)
    set_lights(march, {a1: Light.RED, a2: Light.GREEN, b: Light.YELLOW})
    set_lights(june, {a1: Light.BLUE, a2: Light.RED, b: "cancelled"})
    return march, june


def chart_table(response) -> list[list[str]]:
    body = response.content.decode()
    fig = figure(body, CHART)
    assert_csp_clean(fig)
    head = re.search(r"<thead>(.*?)</thead>", fig, re.S).group(1)
    assert [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<th[^>]*>(.*?)</th>", head, re.S)] == HEAD
    return table_rows(fig)


def test_rounds_page_charts_each_rounds_lights_with_table_when_finance(client, district, rounds):
    response = login(client, district.finance).get(ROUNDS)

    assert response.status_code == 200
    fig = figure(response.content.decode(), CHART)
    assert "2021 年各轮次预警灯" in fig and 'role="img"' in fig and "<title" in fig
    # oldest first; the cancelled report is left out, as in the list's counts
    assert chart_table(response) == [
        ["1—3 月", "1", "1", "1", "0", "0", "3"],
        ["1—6 月", "1", "0", "0", "1", "0", "2"],
    ]
    # stacked bars: one segment per lit count (3 + 2), each named
    assert len(re.findall(r'<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="14" fill=', fig)) == 5
    assert "1—6 月 · 红灯：1" in html.unescape(fig)


def test_rounds_chart_shows_one_departments_lights_when_filtered_by_department(client, district, rounds):
    response = login(client, district.finance).get(ROUNDS, {"department": district.dept_b.pk})

    assert response.status_code == 200
    assert f"2021 年各轮次预警灯（{district.dept_b.name}）" in html.unescape(figure(response.content.decode(), CHART))
    assert chart_table(response) == [
        ["1—3 月", "0", "1", "0", "0", "0", "1"],
        ["1—6 月", "0", "0", "0", "0", "0", "0"],
    ]
    a = login(client, district.finance).get(ROUNDS, {"department": district.dept_a.pk, "year": 2021})
    assert [row[-1] for row in chart_table(a)] == ["2", "2"]


def test_department_staff_see_only_their_departments_lights_when_on_rounds_page(client, district, rounds):
    staff_b = login(client, district.staff_b)
    response = staff_b.get(ROUNDS)
    body = response.content.decode()

    assert response.status_code == 200
    assert 'name="department"' not in body.split('data-testid="rounds-chart-filters"')[1].split("</form>")[0]
    assert chart_table(response) == [
        ["1—3 月", "0", "1", "0", "0", "0", "1"],
        ["1—6 月", "0", "0", "0", "0", "0", "0"],
    ]
    # asking for another department changes nothing: the filter is not theirs to use
    other = staff_b.get(ROUNDS, {"department": district.dept_a.pk})
    assert other.status_code == 200 and chart_table(other) == chart_table(response)
    # their rounds only: a round without any of B's reports is neither listed nor charted
    executing(district, "a")
    MonitoringReport.objects.filter(project__department=district.dept_b).update(status=ReportStatus.CANCELLED)
    only_a = open_round(district, 2022, 3)
    assert not MonitoringReport.objects.filter(round=only_a, project__department=district.dept_b).exists()
    again = staff_b.get(ROUNDS).content.decode()
    assert "2022 年各轮次预警灯" not in again and f'data-round="{only_a.pk}"' not in again


def test_rounds_chart_compares_the_chosen_year_when_year_given(client, district, rounds):
    a = executing(district, "a")
    later = open_round(district, 2022, 3)
    set_lights(later, {a: Light.YELLOW})
    finance = login(client, district.finance)

    newest = finance.get(ROUNDS)
    assert "2022 年各轮次预警灯" in figure(newest.content.decode(), CHART)
    assert [row[0] for row in chart_table(newest)] == ["1—3 月"]
    assert chart_table(newest)[0][-1] == str(MonitoringReport.objects.filter(round=later).count())
    older = finance.get(ROUNDS, {"year": 2021})
    assert [row[0] for row in chart_table(older)] == ["1—3 月", "1—6 月"]


def test_rounds_page_answers_400_with_the_message_when_chart_filter_is_bad(client, district, rounds):
    finance = login(client, district.finance)
    for query in ({"year": 1999}, {"year": "abc"}, {"department": "x"}):
        response = finance.get(ROUNDS, query)
        assert response.status_code == 400, query
        section = response.content.decode().split('data-testid="rounds-chart-filters"')[1].split("</form>")[0]
        assert "errorlist" in section, query
        assert f'data-round="{rounds[0].pk}"' in response.content.decode()  # the list is still shown


def test_rounds_chart_is_absent_and_page_still_403_when_outsider_or_no_rounds(client, district):
    assert login(client, district.expert).get(ROUNDS).status_code == 403
    body = login(client, district.finance).get(ROUNDS).content.decode()
    assert 'data-testid="rounds-lights"' not in body and f"chart-{CHART}" not in body


def test_rounds_chart_figures_take_one_query_when_rounds_grow(client, district, django_assert_num_queries):
    for dept in ("a", "a", "b"):
        executing(district, dept)
    finance = login(client, district.finance)
    months = iter(range(1, 13))
    for _ in range(2):
        open_round(district, 2021, next(months))
    few = list(MonitoringRound.objects.all())
    with django_assert_num_queries(1):
        assert len(monitoring_lights_by_round(district.finance, few)) == 2
    finance.get(ROUNDS)  # warm the per-process caches
    with CaptureQueriesContext(connection) as before:
        assert finance.get(ROUNDS).status_code == 200

    for _ in range(4):
        open_round(district, 2021, next(months))
    many = list(MonitoringRound.objects.all())
    with django_assert_num_queries(1):
        rows = monitoring_lights_by_round(district.finance, many, department=district.dept_a.pk)
    assert len(rows) == 6 and all(r.total == 2 for r in rows)
    with django_assert_num_queries(len(before)):
        response = finance.get(ROUNDS)
    assert len(chart_table(response)) == 6


def test_rounds_chart_labels_follow_language_when_english(rf, district, rounds):
    from workflows.monitoring_views import _rounds_chart

    for query in ({}, {"department": district.dept_b.pk}):
        request = rf.get(ROUNDS, query)
        request.user = district.finance
        with translation.override("en"):
            _form, chart = _rounds_chart(request)
            texts = [chart.title, chart.category_label, chart.unit, chart.total_label, *chart.categories]
            texts += [s.label for s in chart.series]
        assert chart.title.startswith("Warning lights by round, 2021"), chart.title
        # the department's name is data, not a label
        texts = [str(t).replace(district.dept_b.name, "") for t in texts]
        assert not any(re.search(r"[\u4e00-\u9fff]", t) for t in texts), texts
