"""In a real browser (issue 21, decision 0019): the project page's lifecycle picture, one
chart on each overview page, and the auditor's screen with its filters and Chinese labels —
all under the Content-Security-Policy (tests/e2e/conftest.py fails on any violation).

With ``SCREENS_DIR`` set, the tests also save the screenshots committed under docs/screens/.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from .support import CHROMIUM_ARGS, PASSWORD, axe_violations, log_in, serve

SETUP_SCRIPT = f"""
import json
from io import StringIO
from django.core.management import call_command
from accounts.models import User
from processes.models import BudgetProject, EvaluationCampaign, MonitoringRound
from reports.figures import annual_report
from reports.selectors import report_years
call_command("load_demo", stdout=StringIO(), stderr=StringIO())
for user in User.objects.all():
    user.set_password({PASSWORD!r})
    user.save(update_fields=["password"])
project = BudgetProject.objects.filter(stage="executing").order_by("pk").first()
print(json.dumps({{
    "project": project.pk,
    "round": MonitoringRound.objects.order_by("-pk").first().pk,
    "campaign": EvaluationCampaign.objects.order_by("-fiscal_year").first().pk,
    "year": next(y.year for y in report_years() if annual_report(y.year).pre_assessment.projects),
}}))
"""

pytestmark = pytest.mark.browser
SCREENS = os.environ.get("SCREENS_DIR")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("e2e_pictures"), SETUP_SCRIPT) as (url, out):
        yield url, json.loads(out.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def shot(page, name: str, locator=None) -> None:
    if SCREENS:
        Path(SCREENS).mkdir(parents=True, exist_ok=True)
        (locator or page).screenshot(path=str(Path(SCREENS) / name))


def test_project_page_shows_lifecycle_with_current_stage_when_project_executing(demo, browser):
    url, ids = demo
    page = log_in(browser, url, "finance1")
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"/projects/{ids['project']}/")
    panel = page.get_by_test_id("lifecycle")
    expect(panel.locator("svg.lifecycle-svg")).to_be_visible()
    current = panel.locator("g.node.lc-current")
    expect(current).to_have_count(1)
    expect(current).to_have_attribute("data-stage", "executing")
    # the current stage is drawn filled in the brand colour, the path in bold
    fill = current.locator("path").first.evaluate("el => getComputedStyle(el).fill")
    assert fill == "rgb(29, 79, 124)", fill
    assert panel.locator("g.edge.lc-taken").count() >= 5
    expect(panel.get_by_test_id("lifecycle-path")).to_contain_text("已批复预算 → 执行中")
    expect(panel.get_by_test_id("lifecycle-current")).to_contain_text("执行中")
    found = axe_violations(page)
    assert not found, "\n".join(found)
    shot(page, "project-lifecycle.png", panel)


@pytest.mark.parametrize(
    ("user", "path", "chart"),
    [
        ("finance1", "/monitoring/rounds/{round}/", "monitoring-lights"),
        ("finance1", "/monitoring/rounds/", "monitoring-rounds-lights"),
        ("finance1", "/evaluations/campaigns/{campaign}/", "campaign-grades"),
        ("supervisor", "/board/", "rectifications-by-department"),
        ("finance1", "/reports/{year}/", "pre-assessment-reduction"),
        ("finance1", "/reports/{year}/print/", "pre-assessment-reduction"),
    ],
)
def test_overview_page_draws_chart_with_data_table_when_opened(demo, browser, user, path, chart):
    url, ids = demo
    page = log_in(browser, url, user)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(path.format(**ids))
    figure = page.get_by_test_id(f"chart-{chart}")
    svg = figure.locator("svg.chart-svg")
    expect(svg).to_be_visible()
    box = svg.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 60, box
    assert svg.locator("rect").count() >= 2
    # the data table is one click away for screen readers and sighted users alike (the
    # print page shows it open)
    if not figure.locator("details").evaluate("d => d.open"):
        figure.locator("summary").click()
    expect(figure.locator("table tbody tr").first).to_be_visible()
    found = axe_violations(page)
    assert not found, "\n".join(found)
    if chart in ("monitoring-lights", "monitoring-rounds-lights"):
        shot(page, f"chart-{chart}.png", figure)


def test_print_media_shows_chart_table_without_toggle_when_printed(demo, browser):
    url, ids = demo
    page = log_in(browser, url, "finance1")
    page.emulate_media(media="print")
    for path in (f"/reports/{ids['year']}/print/", f"/reports/{ids['year']}/"):
        page.goto(path)
        figure = page.get_by_test_id("chart-pre-assessment-reduction")
        expect(figure.locator("svg.chart-svg")).to_be_visible()
        expect(figure.locator("summary")).to_be_hidden()
        expect(figure.locator("table")).to_be_visible()


def test_auditor_filters_trail_and_reads_chinese_labels_when_on_audit_screen(demo, browser):
    url, _ids = demo
    page = log_in(browser, url, "auditor")
    page.set_viewport_size({"width": 1366, "height": 900})
    page.get_by_role("link", name="审计日志").click()
    expect(page).to_have_url(re.compile(r"/audit/$"))
    table = page.get_by_test_id("audit-table")
    expect(table.locator("thead")).to_contain_text("时间（北京时间）")
    filters = page.get_by_test_id("audit-filters")
    filters.locator("select[name=role]").select_option(label="财政绩效科")
    filters.locator("select[name=object_type]").select_option(label="预算项目")
    filters.get_by_role("button", name="查询").click()
    expect(page).to_have_url(re.compile(r"role=finance_officer"))
    rows = table.locator("tbody tr")
    assert rows.count() > 0
    roles = set(rows.locator("td:nth-child(4)").all_inner_texts())
    assert roles == {"财政绩效科"}, roles
    assert set(rows.locator("td:nth-child(5)").all_inner_texts()) == {"预算项目"}
    text = table.inner_text()
    for code in ("finance_officer", "budgetproject", "route_to_pre_assessment", "dept_approved"):
        assert code not in text, code
    page.get_by_role("button", name="立即校验整条审计链").click()
    expect(page.get_by_test_id("audit-chain-status")).to_contain_text("审计链完整")
    found = axe_violations(page)
    assert not found, "\n".join(found)
    shot(page, "audit-trail.png")
