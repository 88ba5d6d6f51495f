"""In a real browser: an expert drawn onto a pre-assessment panel logs in, sees only the
review assigned to them, saves a draft opinion, submits it; the agency sees it arrive.

Same server arrangement as test_submit_and_approve.py (daphne's runserver on a throwaway
SQLite file); the review is set up through the real services and flow.
"""

from __future__ import annotations

import json
import os

import pytest
from playwright.sync_api import expect, sync_playwright

from .support import CHROMIUM_ARGS, PASSWORD, log_in, serve

pytestmark = pytest.mark.browser

SETUP_SCRIPT = f"""
import json
from datetime import timedelta
from decimal import Decimal
from django.contrib.auth.models import Group
from django.utils import timezone
from accounts.models import Agency, DeputyProfile, Department, ExpertProfile, User
from processes.models import PanelMember
from processes.services.projects import project_create
from workflows.services import pre_assessment_begin, pre_assessment_draw, project_act

def person(username, role, **extra):
    user = User(username=username, full_name=username, language="zh-hans", **extra)
    user.set_password({PASSWORD!r})
    user.save()
    user.groups.add(Group.objects.get(name=role))
    return user

dept = Department.objects.create(code="E2E02", name="区水务局")
other = Department.objects.create(code="E2E03", name="区人大常委会")
agency = Agency.objects.create(name="某绩效评价公司", credit_code="91440101E2E0000001")
staff = person("w_staff", "dept_staff", department=dept)
leader = person("w_leader", "dept_leader", department=dept)
finance = person("w_finance", "finance_officer")
agent = person("w_agency", "agency_staff", agency=agency)
for i in range(6):
    ExpertProfile.objects.create(user=person(f"w_expert{{i}}", "expert"), specialties=["infrastructure"])
for i in range(2):
    DeputyProfile.objects.create(user=person(f"w_deputy{{i}}", "deputy", department=other))
project = project_create(actor=staff, fiscal_year=2021, code="E2E-PA-1", name="河涌整治工程",
                         category="infrastructure", recurrence="one_off", requested_amount=Decimal("8000000"))
project_act(project=project, actor=staff, action="submit")
project_act(project=project, actor=leader, action="approve")
project_act(project=project, actor=finance, action="route_to_pre_assessment")
other_project = project_create(actor=staff, fiscal_year=2021, code="E2E-PA-2", name="另一个项目",
                               category="infrastructure", recurrence="one_off", requested_amount=Decimal("100"))
pa = pre_assessment_begin(project=project, actor=finance, agency=agency, due_at=timezone.now() + timedelta(days=7))
pa = pre_assessment_draw(pre_assessment=pa, actor=agent, seed=7)
seated = [m.user.username for m in PanelMember.objects.filter(pre_assessment=pa, active=True).select_related("user")]
expert = next(u for u in seated if u.startswith("w_expert"))
print("E2E " + json.dumps({{"pa": pa.pk, "expert": expert}}))
"""


@pytest.fixture(scope="module")
def review_server(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("e2e_review"), SETUP_SCRIPT) as (url, printed):
        facts = json.loads(next(line for line in printed.splitlines() if line.startswith("E2E "))[4:])
        yield url, facts


def test_expert_drafts_then_submits_and_agency_sees_it_when_reviewing(review_server):
    base, facts = review_server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            agency = log_in(browser, base, "w_agency")
            agency.goto(f"/pre-assessments/{facts['pa']}/")
            opinions = agency.get_by_test_id("opinions")
            expect(opinions).to_be_visible()
            expect(opinions.locator(".opinion-submitted")).to_have_count(0)

            expert = log_in(browser, base, facts["expert"])
            # the inbox holds exactly the one assigned review; the project list only its project
            rows = expert.locator("table tbody tr")
            expect(rows).to_have_count(1)
            expect(rows.first).to_contain_text("专家评审意见")
            expect(rows.first).to_contain_text("河涌整治工程")
            expert.goto("/projects/")
            expect(expert.get_by_text("河涌整治工程")).to_be_visible()
            expect(expert.get_by_text("另一个项目")).to_have_count(0)

            expert.goto("/")
            expert.locator("table tbody tr").first.locator("a").first.click()
            expert.get_by_role("link", name="前往办理").click()
            form = expert.get_by_test_id("opinion-form")
            form.locator("input[name=score_necessity]").fill("18")
            form.locator("textarea[name=text]").fill("草稿：测算依据待补充")
            form.locator("button[name=save]").click()
            expect(expert.get_by_test_id("opinion-status")).to_have_text("草稿")
            expect(form.locator("input[name=score_necessity]")).to_have_value("18")

            form = expert.get_by_test_id("opinion-form")
            for code, score in [("economy", "16"), ("targets", "17"), ("feasibility", "18"), ("funding", "19")]:
                form.locator(f"input[name=score_{code}]").fill(score)
            # the running total follows the scores as they are typed
            expect(form.get_by_test_id("score-total")).to_have_text("88")
            form.locator("input[name=score_funding]").fill("20")
            expect(form.get_by_test_id("score-total")).to_have_text("89")
            form.locator("input[name=score_funding]").fill("19")
            form.locator("select[name=recommendation]").select_option("partial")
            form.locator("input[name=recommended_amount]").fill("7000000")
            form.locator("textarea[name=text]").fill("建议核减部分绿化工程费用。")
            expect(form.locator("#id_recommended_amount-wan")).to_have_text("= 700.00 万元")
            if os.environ.get("JX_SCREENSHOTS"):
                form.screenshot(path=os.path.join(os.environ["JX_SCREENSHOTS"], "opinion-form.png"))
            # submitting is final: the page asks first, saying so; 取消 sends nothing
            form.locator("button[name=submit]").click()
            dialog = expert.get_by_test_id("confirm-dialog")
            expect(dialog).to_be_visible()
            expect(dialog).to_contain_text("提交后评审意见即为最终意见，不能再修改")
            expect(dialog.get_by_role("button", name="取消")).to_be_focused()
            dialog.get_by_role("button", name="取消").click()
            expect(dialog).to_be_hidden()
            expect(expert.get_by_test_id("opinion-status")).to_have_text("草稿")
            expect(form.locator("button[name=submit]")).to_be_focused()
            # Escape cancels too
            form.locator("button[name=submit]").click()
            expect(dialog).to_be_visible()
            expert.keyboard.press("Escape")
            expect(dialog).to_be_hidden()
            expect(expert.get_by_test_id("opinion-status")).to_have_text("草稿")
            # confirming sends the form with the pressed button (name=submit), so it is submitted
            form.locator("button[name=submit]").click()
            if os.environ.get("JX_SCREENSHOTS"):
                expert.screenshot(path=os.path.join(os.environ["JX_SCREENSHOTS"], "confirm-dialog.png"))
            dialog.get_by_role("button", name="提交").click()
            expect(expert.get_by_test_id("opinion-status")).to_have_text("已提交")

            agency.reload()
            expect(agency.get_by_test_id("opinions").locator(".opinion-submitted")).to_have_count(1)
            expect(agency.get_by_test_id("opinions")).to_contain_text("建议核减部分绿化工程费用")
        finally:
            browser.close()
