"""In a real browser: a project's self-evaluation (绩效自评) from the campaign's task to the
grade. The department staff open their task from the inbox and fill the score sheet; the
scores and the grade follow the typing live; a submission with shortfalls unexplained comes
back with the errors on their fields and everything typed kept; explained, it goes to the
leader, who passes it; the finance section accepts it, and the project page shows the grade
and next year's budget recommendation.

Same server arrangement as the other browser tests (daphne's runserver on a throwaway
SQLite file); the project is set up through the real services and flows.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect, sync_playwright

from .support import CHROMIUM_ARGS, evaluated_year_script, log_in, serve

pytestmark = pytest.mark.browser

SETUP_SCRIPT = (
    evaluated_year_script(
        prefix="s",
        dept_code="E2E06",
        dept_name="区教育局",
        code="E2E-SE-1",
        name="中小学课后服务",
        category="education",
    )
    + """
import json
from processes.services.evaluation import approved_rows
ids = [r.pk for r in approved_rows(project)]
print("E2E " + json.dumps({"project": project.pk, "rows": ids}))
"""
)


@pytest.fixture(scope="module")
def evaluation_server(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("e2e_self_evaluation"), SETUP_SCRIPT) as (url, printed):
        facts = json.loads(next(line for line in printed.splitlines() if line.startswith("E2E "))[4:])
        yield url, facts


def test_self_evaluation_scored_live_explained_passed_and_accepted_with_its_recommendation(evaluation_server):
    base, facts = evaluation_server
    quantity, qualitative = facts["rows"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            # -- the department staff: from the campaign's task to the score sheet ----------
            staff = log_in(browser, base, "s_staff")
            staff.locator("[data-testid=task-row]:has-text('中小学课后服务') [data-testid=task-link]").click()
            expect(staff.locator("h1")).to_contain_text("填报绩效自评")
            staff.get_by_test_id("work-link").get_by_role("link", name="前往办理").click()
            form = staff.get_by_test_id("se-fill")
            expect(form).to_be_visible()
            staff.wait_for_function("() => document.readyState === 'complete'")

            # typing scores the sheet live: 900,000 of 1,000,000 → 9 points; no satisfaction
            # row, so its 10 points go to 产出 and 效益 in proportion (56.25 and 33.75);
            # 1,500 of 2,000 pupils → 75 % of 56.25; 部分达成 at 70 % of 33.75
            form.locator("input[name=executed]").fill("900000")
            form.locator(f"input[name='lines.{quantity}.actual']").fill("1500")
            form.locator(f"select[name='lines.{qualitative}.band']").select_option("partly")
            form.locator(f"input[name='lines.{qualitative}.band_pct']").fill("70")
            expect(form.locator("[data-live=execution_rate]")).to_have_text("90.00%")
            expect(form.locator(f"[data-line-score='{quantity}']")).to_have_text("42.19")
            expect(form.locator(f"[data-line-score='{qualitative}']")).to_have_text("23.63")
            expect(form.locator("[data-live=total]")).to_have_text("74.81")
            expect(form.locator("[data-live=grade]")).to_have_text("中")

            # shortfalls unexplained: refused, with the errors on their fields, nothing lost
            form.get_by_role("button", name="提交").click()
            form = staff.get_by_test_id("se-fill")
            expect(form.locator(f"[data-cell='lines.{quantity}.deviation_reason']")).to_contain_text(
                "未满分的指标请说明偏差原因和改进措施"
            )
            expect(form.locator(f"input[name='lines.{quantity}.actual']")).to_have_value("1500")
            expect(form.locator(f"input[name='lines.{qualitative}.band_pct']")).to_have_value("70")
            expect(staff.get_by_test_id("se-status")).to_have_text("待自评")

            for row in (quantity, qualitative):
                form.locator(f"[name='lines.{row}.deviation_reason']").fill("春季学期受疫情影响停课两周")
                form.locator(f"[name='lines.{row}.measure']").fill("秋季学期增设托管班次")
            form.get_by_role("button", name="提交").click()
            expect(staff.get_by_test_id("se-status")).to_have_text("已提交")
            expect(staff.get_by_test_id("se-score")).to_contain_text("74.81")
            expect(staff.get_by_test_id("se-fill")).to_have_count(0)

            # -- the leader passes it; the finance section accepts it -----------------------
            leader = log_in(browser, base, "s_leader")
            leader.locator("[data-testid=task-row]:has-text('中小学课后服务') [data-testid=task-link]").click()
            leader.get_by_test_id("work-link").get_by_role("link", name="前往办理").click()
            leader.get_by_test_id("se-dept-review").get_by_role("button", name="通过").click()
            expect(leader.get_by_test_id("se-status")).to_have_text("部门已审核")

            finance = log_in(browser, base, "s_finance")
            finance.locator("[data-testid=task-row]:has-text('中小学课后服务') [data-testid=task-link]").click()
            finance.get_by_test_id("work-link").get_by_role("link", name="前往办理").click()
            finance.get_by_test_id("se-review").get_by_role("button", name="确认").click()
            expect(finance.get_by_test_id("se-status")).to_have_text("财政已确认")
            expect(finance.get_by_test_id("recommendation-text")).to_have_text("压减预算 10%")

            # the project page: evaluated, graded 中, with next year's recommendation
            staff.goto(f"/projects/{facts['project']}/")
            expect(staff.locator("body")).to_contain_text("已评价")
            expect(staff.locator("body")).to_contain_text("压减预算 10%")
            assert re.search(r"74\.81", staff.content())
        finally:
            browser.close()
