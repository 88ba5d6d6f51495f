"""Automated accessibility check (issue 21): axe-core (bundled by axe-playwright-python, no
network) over the main page of every role and each journey's forms — the pre-assessment
opinion, the targets' edit form and their rating, the monitoring report, the self-evaluation
score sheet, the rectification report and the reports page (the pictures' pages — project
lifecycle, charts, the auditor's screen — are checked in test_pictures.py) — failing on any serious or
critical violation of WCAG 2 A/AA (axe tags wcag2a, wcag2aa).

Served on the demo data (tests/e2e/demo_support.py); same arrangement as the other browser tests.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import sync_playwright

from .demo_support import DEMO_SCRIPT, ROLES, demo_facts, open_as
from .support import CHROMIUM_ARGS, axe_violations, serve

pytestmark = pytest.mark.browser

JOURNEYS = [
    "opinion",
    "targets_edit",
    "targets_rate",
    "monitoring_report",
    "self_evaluation",
    "rectification_report",
    "reports",
]


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("e2e_a11y"), DEMO_SCRIPT) as (url, printed):
        yield url, demo_facts(printed)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def test_axe_runs_offline_and_finds_a_violation_when_an_input_has_no_label(demo_server, browser):
    base, _ = demo_server
    page = open_as(browser, base, "finance1")
    try:
        # the check itself works (axe-core bundled, no network) and does fail a bad page
        page.evaluate("() => document.querySelector('main').appendChild(document.createElement('input'))")
        assert any(" label: " in line for line in axe_violations(page))
    finally:
        page.context.close()


def test_main_page_of_every_role_has_no_serious_accessibility_violation_when_checked(demo_server, browser):
    base, _ = demo_server
    found = []
    for username in ROLES:
        page = open_as(browser, base, username)
        try:
            found += axe_violations(page)
        finally:
            page.context.close()
    assert not found, "\n".join(found)


def test_journey_forms_have_no_serious_accessibility_violation_when_checked(demo_server, browser):
    base, facts = demo_server
    found = []
    for journey in JOURNEYS:
        username, url = facts[journey]
        page = open_as(browser, base, username)
        try:
            response = page.goto(url)
            assert response is not None and response.status == 200, (
                f"{journey}: {url} answered {response and response.status}"
            )
            assert page.locator("main form[method=post]").count() or journey == "reports", (
                f"{journey}: no form at {url}"
            )
            found += axe_violations(page)
        finally:
            page.context.close()
    assert not found, "\n".join(found)
