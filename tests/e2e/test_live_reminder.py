"""In a real browser, as in `make run`: a reminder whose time has come appears live in the
assignee's browser with nothing else started — the embedded scheduler of the web process
runs the reminder sweep, and the notification is pushed over the WebSocket.

The server runs as `make run` does (daphne's runserver with the embedded scheduler; here
the sweep every 3 s instead of 60). While the department's staff member is logged in, the
finance section issues a rectification due in 7 days and a few seconds: its 7-day reminder
falls due moments later, and the toast and the badge show it without a reload.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect, sync_playwright

from .support import CHROMIUM_ARGS, evaluated_year_script, log_in, run_script, serve

pytestmark = pytest.mark.browser

SETUP_SCRIPT = evaluated_year_script(
    prefix="r", dept_code="E2E07", dept_name="区民政局", code="E2E-RM-1", name="居家养老服务", category="civil_affairs"
)

ISSUE_SCRIPT = """
from datetime import timedelta
from django.utils import timezone
from accounts.models import User
from processes.models import SelfEvaluation
from processes.services.findings import finding_add
from processes.services.rectification import rectification_issue

finance = User.objects.get(username="r_finance")
se = SelfEvaluation.objects.get(project__code="E2E-RM-1")
finding = finding_add(source=se, actor=finance, problem="服务台账不完整", requirement="补齐服务台账")
rectification_issue(actor=finance, findings=[finding], title="居家养老服务整改",
                    deadline=timezone.now() + timedelta(days=7, seconds=4))
"""


@pytest.fixture(scope="module")
def reminder_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e_reminder")
    with serve(tmp, SETUP_SCRIPT, extra_env={"RUN_MAIN": "true", "REMINDER_SWEEP_SECONDS": "3"}) as (url, _):
        yield url, tmp


def test_reminder_appears_live_in_the_assignees_browser_when_its_time_comes(reminder_server):
    base, tmp = reminder_server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            staff = log_in(browser, base, "r_staff")
            badge = staff.locator("[data-testid=unread-count]")
            before = int(badge.inner_text() or 0)
            # issued from another process (its own in-memory channel layer: no push from
            # there); the notice is one notification in the database
            run_script(tmp, ISSUE_SCRIPT)
            # seconds later the 7-day reminder is due: the web process's scheduler sends it,
            # and it arrives over the socket — a toast, and the badge counts all three: the
            # finding (issue 17: a finding added tells the department), the notice, the reminder
            toasts = staff.get_by_test_id("toast")
            expect(toasts.filter(has_text="将于")).to_have_count(1, timeout=30_000)
            expect(badge).to_have_text(str(before + 3))
        finally:
            browser.close()
