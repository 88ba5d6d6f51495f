"""In a real browser: as department staff type next year's project, the form shows the last
grade of the project it continues (same code) with its budget recommendation, and warns of a
similar one-off project graded 差 — before anything is saved (results_application.js)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect, sync_playwright

from .support import CHROMIUM_ARGS, PASSWORD, log_in, serve

# Graded rows as a past year leaves them (accepted self-evaluations); the real grading path
# is covered by test_self_evaluation.py.
SETUP_SCRIPT = f"""
from decimal import Decimal
from django.contrib.auth.models import Group
from django.utils import timezone
from accounts.models import Department, User
from processes.models import BudgetProject, EvaluationCampaign, SelfEvaluation

def person(username, role, **extra):
    user = User(username=username, full_name=username, language="zh-hans", **extra)
    user.set_password({PASSWORD!r})
    user.save()
    user.groups.add(Group.objects.get(name=role))
    return user

dept = Department.objects.create(code="RA01", name="区民政局")
staff = person("ra_staff", "dept_staff", department=dept)
finance = person("ra_finance", "finance_officer")
campaign = EvaluationCampaign.objects.create(fiscal_year=2021, title="2021 年度绩效自评", due_at=timezone.now(),
                                             launched_by=finance)
for code, name, recurrence, score, grade in [
    ("MZ-001", "困难群众临时救助", "recurring", "72.30", "fair"),
    ("MZ-2021-09", "2021年社区长者饭堂建设", "one_off", "55.00", "poor"),
]:
    project = BudgetProject.objects.create(department=dept, fiscal_year=2021, code=code, name=name,
        category="civil_affairs", recurrence=recurrence, requested_amount=Decimal("800000"), created_by=staff)
    SelfEvaluation.objects.create(campaign=campaign, project=project, status="accepted", score=Decimal(score), grade=grade)
"""

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server_url(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("e2e_results"), SETUP_SCRIPT) as (url, _):
        yield url


def test_new_project_form_shows_last_grade_and_warning_live_when_code_and_name_are_typed(server_url):
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            staff = log_in(browser, server_url, "ra_staff")
            staff.goto("/projects/new/")
            staff.wait_for_function("() => document.readyState === 'complete'")
            expect(staff.get_by_test_id("last-result")).to_have_count(0)
            form = staff.get_by_test_id("project-form")
            form.locator("input[name=fiscal_year]").fill("2022")
            form.locator("select[name=category]").select_option("civil_affairs")

            form.locator("input[name=code]").fill("MZ-001")
            expect(staff.get_by_test_id("last-grade")).to_have_text("中")
            expect(staff.get_by_test_id("last-recommendation")).to_contain_text("压减预算 10%")
            expect(staff.get_by_test_id("similar-failed")).to_have_count(0)

            form.locator("input[name=name]").fill("2022年社区长者饭堂建设")
            expect(staff.get_by_test_id("similar-failed")).to_contain_text("MZ-2021-09 2021年社区长者饭堂建设")

            form.locator("input[name=code]").fill("MZ-NEW-1")
            expect(staff.get_by_test_id("last-result")).to_have_count(0)
            expect(staff.get_by_test_id("similar-failed")).to_be_visible()
        finally:
            browser.close()
