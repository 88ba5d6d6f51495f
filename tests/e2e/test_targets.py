"""In a real browser: a project's performance targets (绩效目标) from filing to the budget.
The department staff fill the edit form — library indicators picked through the
autocomplete (never another department's), rows added, a qualitative row written fresh,
live weight totals — a submission with the weights off comes back with everything typed
kept; the leader passes the targets; the finance section rates them 良 with an agreed
edit, which budgets the project and shows on the targets page as before → after.

Same server arrangement as test_expert_review.py (daphne's runserver on a throwaway
SQLite file); the project is set up through the real services and flow.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect, sync_playwright

from .support import CHROMIUM_ARGS, PASSWORD, log_in, serve

pytestmark = pytest.mark.browser

SETUP_SCRIPT = f"""
import json
from decimal import Decimal
from django.contrib.auth.models import Group
from accounts.models import Department, User
from processes.models import Indicator
from processes.services.projects import project_create
from workflows.services import project_act

def person(username, role, **extra):
    user = User(username=username, full_name=username, language="zh-hans", **extra)
    user.set_password({PASSWORD!r})
    user.save()
    user.groups.add(Group.objects.get(name=role))
    return user

dept = Department.objects.create(code="E2E04", name="区水务局")
other = Department.objects.create(code="E2E05", name="区城市管理局")
staff = person("t_staff", "dept_staff", department=dept)
leader = person("t_leader", "dept_leader", department=dept)
finance = person("t_finance", "finance_officer")
Indicator.objects.create(code="E2E-TY-001", level1="output", level2="quantity", name="新建河道长度",
                         unit="公里", direction="gte", scope="general", department=None)
Indicator.objects.create(code="E2E-TY-002", level1="effect", level2="social", name="受益群众人数",
                         unit="人", direction="gte", scope="general", department=None)
Indicator.objects.create(code="E2E-BM-001", level1="output", level2="quality", name="河道保洁覆盖率",
                         unit="%", direction="gte", scope="department", department=other)
project = project_create(actor=staff, fiscal_year=2021, code="E2E-TG-1", name="河涌清淤工程",
                         category="infrastructure", recurrence="one_off", requested_amount=Decimal("3000000"))
project_act(project=project, actor=staff, action="submit")
project_act(project=project, actor=leader, action="approve")
project_act(project=project, actor=finance, action="route_to_target_review")
print("E2E " + json.dumps({{"project": project.pk}}))
"""


#: Every element is rendered whole and on top: the element at its centre is itself (or inside it).
SHOWN_WHOLE = """els => els.every(el => {
  const r = el.getBoundingClientRect();
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return r.height >= 16 && r.width >= 100 && hit !== null && el.contains(hit);
})"""


@pytest.fixture(scope="module")
def targets_server(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("e2e_targets"), SETUP_SCRIPT) as (url, printed):
        facts = json.loads(next(line for line in printed.splitlines() if line.startswith("E2E "))[4:])
        yield url, facts


def test_targets_filed_with_library_indicators_passed_by_leader_rated_good_with_an_edit(targets_server):
    base, facts = targets_server
    targets_url = f"/projects/{facts['project']}/targets/"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            # -- the department staff: from the inbox task to the edit form -----------------
            staff = log_in(browser, base, "t_staff")
            staff.locator("[data-testid=task-row]:has-text('河涌清淤工程') [data-testid=task-link]").click()
            expect(staff.locator("h1")).to_contain_text("填报绩效目标")
            staff.get_by_test_id("work-link").get_by_role("link", name="前往办理").click()
            expect(staff).to_have_url(re.compile(re.escape(targets_url) + "$"))
            form = staff.get_by_test_id("targets-edit")
            expect(form).to_be_visible()
            staff.wait_for_function("() => document.readyState === 'complete'")  # targets.js is deferred
            form.locator("textarea[name=overall_goal]").fill("完成河涌清淤，改善水环境。")

            rows = form.locator("tr[data-row]")
            expect(rows).to_have_count(1)  # an empty version starts with one blank row
            first = rows.nth(0)
            code = first.locator("[data-field=indicator_code]")
            picker = first.locator(".picker-list")
            options = picker.locator("li[role=option]")

            # another department's indicator is never offered, by code or by shared name
            code.fill("E2E")
            expect(options).to_have_count(2)
            # the list shows whole above the table's scroll box (it was clipped to a sliver):
            # at the centre of each option the browser finds that option
            assert options.evaluate_all(SHOWN_WHOLE), "the autocomplete is clipped"
            expect(picker).to_contain_text("E2E-TY-001")
            expect(picker).to_contain_text("E2E-TY-002")
            expect(picker).not_to_contain_text("E2E-BM-001")
            code.fill("E2E-BM-001")
            expect(picker).to_contain_text("没有本项目可选用的匹配指标")
            expect(options).to_have_count(0)
            code.fill("河道")
            expect(options).to_have_count(1)
            expect(options.first).to_contain_text("新建河道长度")
            expect(picker).not_to_contain_text("河道保洁覆盖率")

            # pick a general indicator by part of its code; the script fills the row
            code.fill("TY-001")
            expect(options).to_have_count(1)
            expect(options.first).to_contain_text("E2E-TY-001")
            options.first.click()
            expect(picker).to_be_hidden()
            expect(code).to_have_value("E2E-TY-001")
            expect(first.locator("[data-field=level1]")).to_have_value("output")
            expect(first.locator("[data-field=level2]")).to_have_value("quantity")
            expect(first.locator("[data-field=name]")).to_have_value("新建河道长度")
            expect(first.locator("[data-field=direction]")).to_have_value("gte")
            expect(first.locator("[data-field=unit]")).to_have_value("公里")
            first.locator("[data-field=target_value]").fill("12")
            first.locator("[data-field=weight]").fill("40")

            totals = form.get_by_test_id("weight-totals")
            quantitative = totals.locator("[data-total=quantitative]")
            qualitative = totals.locator("[data-total=qualitative]")
            total = totals.locator("[data-total=all]")
            expect(quantitative).to_have_text("40")
            expect(total).to_have_text("40")

            # a second row, picked by part of its name
            form.get_by_role("button", name="添加一行").click()
            expect(rows).to_have_count(2)
            second = rows.nth(1)
            second.locator("[data-field=indicator_code]").fill("受益")
            second_options = second.locator(".picker-list li[role=option]")
            expect(second_options).to_have_count(1)
            expect(second_options.first).to_contain_text("E2E-TY-002")
            second_options.first.click()
            expect(second.locator("[data-field=indicator_code]")).to_have_value("E2E-TY-002")
            expect(second.locator("[data-field=level1]")).to_have_value("effect")
            expect(second.locator("[data-field=level2]")).to_have_value("social")
            expect(second.locator("[data-field=name]")).to_have_value("受益群众人数")
            expect(second.locator("[data-field=unit]")).to_have_value("人")
            second.locator("[data-field=target_value]").fill("5000")
            second.locator("[data-field=weight]").fill("30")
            expect(quantitative).to_have_text("70")
            expect(total).to_have_text("70")

            # a third row written fresh: a qualitative indicator not in the library
            form.get_by_role("button", name="添加一行").click()
            expect(rows).to_have_count(3)
            third = rows.nth(2)
            third.locator("[data-field=level1]").select_option("satisfaction")
            third.locator("[data-field=level2]").select_option("satisfaction")
            third.locator("[data-field=name]").fill("沿岸居民满意度")
            third.locator("[data-field=direction]").select_option("qualitative")
            third.locator("[data-field=target_text]").fill("明显提升")
            third.locator("[data-field=weight]").fill("20")
            expect(quantitative).to_have_text("70")
            expect(qualitative).to_have_text("20")
            expect(total).to_have_text("90")
            expect(total).to_have_class(re.compile(r"\boff\b"))

            # weights summing to 90: refused, and every typed value is still there
            form.get_by_role("button", name="提交审核").click()
            errors = staff.get_by_test_id("set-errors")
            expect(errors).to_contain_text("各指标权重之和应为 100，现为 90")
            form = staff.get_by_test_id("targets-edit")
            rows = form.locator("tr[data-row]")
            expect(rows).to_have_count(3)
            expect(form.locator("textarea[name=overall_goal]")).to_have_value("完成河涌清淤，改善水环境。")
            kept = [
                {"indicator_code": "E2E-TY-001", "level1": "output", "level2": "quantity", "name": "新建河道长度",
                 "direction": "gte", "target_value": "12", "unit": "公里", "weight": "40"},
                {"indicator_code": "E2E-TY-002", "level1": "effect", "level2": "social", "name": "受益群众人数",
                 "direction": "gte", "target_value": "5000", "unit": "人", "weight": "30"},
                {"indicator_code": "", "level1": "satisfaction", "level2": "satisfaction", "name": "沿岸居民满意度",
                 "direction": "qualitative", "target_text": "明显提升", "weight": "20"},
            ]  # fmt: skip
            for i, values in enumerate(kept):
                for name, value in values.items():
                    expect(rows.nth(i).locator(f"[data-field={name}]")).to_have_value(value)
            expect(staff.get_by_test_id("open-status")).to_have_text("填报中")  # nothing was saved
            totals = form.get_by_test_id("weight-totals")
            expect(totals.locator("[data-total=all]")).to_have_text("90")

            # fix the weight and submit
            staff.wait_for_function("() => document.readyState === 'complete'")
            rows.nth(2).locator("[data-field=weight]").fill("30")
            expect(totals.locator("[data-total=quantitative]")).to_have_text("70")
            expect(totals.locator("[data-total=qualitative]")).to_have_text("30")
            expect(totals.locator("[data-total=all]")).to_have_text("100")
            expect(totals.locator("[data-total=all]")).not_to_have_class(re.compile(r"\boff\b"))
            form.get_by_role("button", name="提交审核").click()
            expect(staff.get_by_test_id("open-status")).to_have_text("已提交")
            expect(staff.get_by_test_id("targets-edit")).to_have_count(0)
            expect(staff.get_by_test_id("target-rows").locator("tbody tr")).to_have_count(3)

            # -- the leader passes it -------------------------------------------------------
            leader = log_in(browser, base, "t_leader")
            leader.locator("[data-testid=task-row]:has-text('河涌清淤工程') [data-testid=task-link]").click()
            expect(leader.locator("h1")).to_contain_text("部门审核绩效目标")
            leader.get_by_test_id("work-link").get_by_role("link", name="前往办理").click()
            review = leader.get_by_test_id("targets-review")
            review.locator("textarea[name=comment]").fill("同意报送")
            review.get_by_role("button", name="审核通过").click()
            expect(leader.get_by_test_id("open-status")).to_have_text("部门已审核")
            expect(leader.get_by_test_id("leader-comment")).to_contain_text("同意报送")

            # -- the finance section rates it 良, editing one row's target value -------------
            finance = log_in(browser, base, "t_finance")
            finance.goto(targets_url)
            rate = finance.get_by_test_id("targets-rate")
            rate.locator("input[name=rating][value=good]").check()
            rate.locator("textarea[name=comment]").fill("按商定意见调整清淤长度后通过。")
            value = rate.locator("input[name=row_1_target_value]")
            expect(value).to_have_value("12")
            value.fill("15")
            rate.locator("input[name=row_1_review_comment]").fill("长度按实际河段调整")
            rate.get_by_role("button", name="评定审核等次").click()

            in_force = finance.get_by_test_id("in-force")
            expect(in_force.get_by_test_id("version-status")).to_have_text("审核通过")
            expect(in_force.get_by_test_id("rating")).to_have_text("良")
            expect(in_force.get_by_test_id("review-comment")).to_contain_text("按商定意见调整清淤长度后通过")
            edited = in_force.locator("[data-testid=target-rows] tr[data-position='1']")
            edits = edited.get_by_test_id("row-edits")
            expect(edits).to_contain_text("指标值")
            expect(edits.locator("del")).to_have_text("12")
            expect(edits.locator("ins")).to_have_text("15")
            expect(edited).to_contain_text("长度按实际河段调整")
            untouched = in_force.locator("[data-testid=target-rows] tr[data-position='2'] [data-testid=row-edits]")
            expect(untouched).to_have_text("—")
            expect(finance.get_by_test_id("open-version")).to_have_count(0)

            finance.get_by_role("link", name="查看项目").click()
            expect(finance.get_by_test_id("stage")).to_have_text("已批复预算")
            expect(finance.get_by_test_id("targets-in-force")).to_contain_text("良")

            # the department sees the same edit on its targets page
            staff.goto(targets_url)
            staff_edits = staff.locator(
                "[data-testid=in-force] [data-testid=target-rows] tr[data-position='1'] [data-testid=row-edits]"
            )
            expect(staff_edits.locator("del")).to_have_text("12")
            expect(staff_edits.locator("ins")).to_have_text("15")
        finally:
            browser.close()
