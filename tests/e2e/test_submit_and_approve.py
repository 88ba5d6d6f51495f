"""In a real browser against a real ASGI server: staff submit, the leader's badge updates
live over the WebSocket, the leader approves from the inbox.

The server is daphne in a subprocess on a throwaway SQLite file (pytest-django's
live_server speaks no WebSocket). It is started through daphne's ``runserver`` rather than
the bare ``daphne config.asgi:application``: the dev settings leave static files to
runserver (WhiteNoise is production-only), and without live.js there is no live badge.
The test is a plain sync function: the sync Playwright API refuses to run inside an
event loop.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect, sync_playwright

from .support import CHROMIUM_ARGS, PASSWORD, log_in, serve

SETUP_SCRIPT = f"""
from django.contrib.auth.models import Group
from accounts.models import Department, User

dept = Department.objects.create(code="E2E01", name="区农业农村局")
for username, full_name, role in [("e2e_staff", "王经办", "dept_staff"), ("e2e_leader", "李局长", "dept_leader")]:
    user = User(username=username, full_name=full_name, department=dept, language="zh-hans")
    user.set_password({PASSWORD!r})
    user.save()
    user.groups.add(Group.objects.get(name=role))
"""

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server_url(tmp_path_factory):
    """A migrated SQLite database with a department, its staff and leader, served by daphne."""
    with serve(tmp_path_factory.mktemp("e2e"), SETUP_SCRIPT) as (url, _):
        yield url


def test_leader_sees_live_badge_and_approves_when_staff_submits(server_url):
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            # B: the leader is logged in and sitting on the inbox, nothing to do yet.
            leader = log_in(browser, server_url, "e2e_leader")
            badge = leader.locator("[data-testid=unread-count]")
            expect(badge).to_have_text("0")
            expect(leader.locator("[data-testid=inbox]")).to_contain_text("暂无待办事项")
            leader.wait_for_function("() => document.readyState === 'complete'")

            # A: the staff member drafts a project and submits it.
            staff = log_in(browser, server_url, "e2e_staff")
            staff.click("nav a:has-text('项目')")
            staff.click("a:has-text('新建项目')")
            staff.fill("input[name=fiscal_year]", "2022")
            staff.fill("input[name=code]", "2022-NY-001")
            staff.fill("input[name=name]", "高标准农田建设")
            staff.select_option("select[name=category]", "infrastructure")
            staff.select_option("select[name=recurrence]", "one_off")
            staff.fill("input[name=requested_amount]", "3500000.00")
            # typed in 元, shown in 万元 beside the input as it is typed
            expect(staff.locator("#id_requested_amount-wan")).to_have_text("= 350.00 万元")
            staff.click("button:has-text('保存草稿')")
            expect(staff.locator("[data-testid=requested-amount]")).to_contain_text("350.00")
            expect(staff.locator("[data-testid=stage]")).to_have_text("草稿")
            staff.click("form[data-action=submit] button[type=submit]")
            expect(staff.locator("[data-testid=stage]")).to_have_text("已提交")

            # B: the badge changes without a reload, and a toast says why.
            expect(badge).to_have_text("1", timeout=15_000)
            expect(leader.locator("[data-testid=toast]")).to_contain_text("高标准农田建设")
            # the open inbox shows the new task without a reload (static/js/inbox_live.js), marked new
            new_row = leader.locator("[data-testid=task-row][data-new='1']")
            expect(new_row).to_have_count(1, timeout=15_000)
            expect(new_row).to_contain_text("高标准农田建设")
            expect(new_row).to_contain_text("待办理")
            expect(leader.locator("[data-testid=inbox]")).not_to_contain_text("暂无待办事项")
            # its link opens the task, as a row rendered with the page does
            expect(new_row.locator("[data-testid=task-link]")).to_have_attribute("href", re.compile(r"^/tasks/\d+/$"))

            # B opens the task from the inbox and approves it.
            leader.click("nav a:has-text('待办')")
            leader.click("[data-testid=task-row]:has-text('高标准农田建设') [data-testid=task-link]")
            expect(leader.locator("h1")).to_contain_text("部门审核")
            leader.fill("textarea[name=approve-comment]", "同意申报")
            leader.click("form[data-action=approve] button[type=submit]")
            expect(leader.locator("[data-testid=stage]")).to_have_text("部门已审核")
            expect(leader.locator("[data-testid=timeline]")).to_contain_text("同意申报")
        finally:
            browser.close()


def test_open_page_goes_to_login_when_session_logged_out_in_another_tab(server_url):
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            inbox = log_in(browser, server_url, "e2e_staff")
            inbox.wait_for_function("() => document.readyState === 'complete'")
            other_tab = inbox.context.new_page()
            other_tab.goto("/projects/")
            other_tab.click("button:has-text('退出')")
            expect(other_tab).to_have_url(re.compile(r"/accounts/login/"))
            # The first tab was told over its socket and left for the login page by itself.
            expect(inbox).to_have_url(re.compile(r"/accounts/login/\?next=%2F$"), timeout=15_000)
        finally:
            browser.close()
