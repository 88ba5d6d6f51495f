"""In a real browser, at the widths people use (issue 21): the header of every role fits on
one line from 1280 px up, and below that folds into a menu opened by a button (aria-expanded,
keyboard: Enter opens it, Escape closes it and gives the focus back); at 1366 and 390 px the
header, the inbox, a task form, the board and the score sheet never scroll sideways
(``document.documentElement.scrollWidth <= innerWidth``); at 1280 px every input of a score
sheet row can be clicked (the element at its centre is itself) and the 偏差原因 box is wide
enough to write in.

Served on the demo data (tests/e2e/demo_support.py); same arrangement as the other browser tests.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect, sync_playwright

from .demo_support import DEMO_SCRIPT, ROLES, demo_facts, open_as
from .support import CHROMIUM_ARGS, serve

pytestmark = pytest.mark.browser

NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth"
#: The elements that stick out to the right of the viewport (for the failure message).
STICKING_OUT = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.table-wrap'))
  .slice(0, 5).map(e => e.tagName.toLowerCase() + '.' + e.className)"""
#: Every element is rendered whole enough to be clicked: the element at its centre is itself.
CLICKABLE = """els => els.map(el => {
  el.scrollIntoView({block: 'center'});
  const r = el.getBoundingClientRect();
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return [el.name, hit === el || el.contains(hit), Math.round(r.width)];
})"""


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("e2e_layout"), DEMO_SCRIPT) as (url, printed):
        yield url, demo_facts(printed)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def assert_no_sideways_scroll(page, what):
    page.wait_for_load_state("load")
    assert page.evaluate(NO_SIDEWAYS_SCROLL), f"{what} scrolls sideways: {page.evaluate(STICKING_OUT)}"


@pytest.mark.parametrize("width", [1280, 1366, 1440])
def test_header_fits_on_one_line_when_the_window_is_1280_px_or_wider(demo_server, browser, width):
    base, _ = demo_server
    for username in ROLES:
        page = open_as(browser, base, username, width, height=800)
        try:
            assert_no_sideways_scroll(page, f"{username}'s page at {width} px")
            expect(page.get_by_test_id("nav-toggle")).to_be_hidden()
            nav = page.get_by_role("navigation", name="主导航")
            expect(nav).to_be_visible()
            logout = page.locator("header").get_by_role("button", name="退出")
            expect(logout).to_be_visible()
            box = logout.bounding_box()
            assert box is not None and box["x"] + box["width"] <= width, f"退出 off-screen for {username}"
            header = page.locator("header.topbar").bounding_box()
            assert header is not None and header["height"] <= 60, f"{username}'s header wraps at {width} px"
        finally:
            page.context.close()


@pytest.mark.parametrize("width", [390, 1024])
def test_header_folds_into_a_menu_opened_by_its_button_when_the_window_is_narrow(demo_server, browser, width):
    base, _ = demo_server
    for username in ROLES:
        page = open_as(browser, base, username, width, height=800)
        try:
            assert_no_sideways_scroll(page, f"{username}'s page at {width} px")
            toggle = page.get_by_test_id("nav-toggle")
            nav = page.get_by_role("navigation", name="主导航")
            logout = page.locator("header").get_by_role("button", name="退出")
            expect(toggle).to_be_visible()
            expect(toggle).to_have_attribute("aria-expanded", "false")
            expect(nav).to_be_hidden()

            # by keyboard: the button takes the focus, Enter opens the menu
            toggle.focus()
            page.keyboard.press("Enter")
            expect(toggle).to_have_attribute("aria-expanded", "true")
            expect(nav).to_be_visible()
            expect(logout).to_be_in_viewport()
            assert_no_sideways_scroll(page, f"{username}'s open menu at {width} px")
            for link in nav.get_by_role("link").all():
                box = link.bounding_box()
                assert box is not None and box["x"] + box["width"] <= width

            # Escape closes it and gives the focus back to the button; a click opens it again
            nav.get_by_role("link").first.focus()
            page.keyboard.press("Escape")
            expect(toggle).to_have_attribute("aria-expanded", "false")
            expect(nav).to_be_hidden()
            expect(toggle).to_be_focused()
            toggle.click()
            expect(nav).to_be_visible()
            toggle.click()
            expect(nav).to_be_hidden()
        finally:
            page.context.close()


@pytest.mark.parametrize("width", [1366, 390])
def test_inbox_task_form_and_board_do_not_scroll_sideways_when_the_window_is(demo_server, browser, width):
    base, facts = demo_server
    staff, _ = facts["self_evaluation"]
    page = open_as(browser, base, staff, width, height=800)
    try:
        expect(page.get_by_test_id("task-row").first).to_be_visible()
        assert_no_sideways_scroll(page, f"the inbox at {width} px")
        page.get_by_test_id("task-link").first.click()
        expect(page.locator("h1")).to_be_visible()
        assert_no_sideways_scroll(page, f"a task page at {width} px")
    finally:
        page.context.close()
    page = open_as(browser, base, "supervisor", width, height=800)
    try:
        expect(page).to_have_url(f"{base}/board/")  # a supervisor lands on the board
        assert_no_sideways_scroll(page, f"the board at {width} px")
    finally:
        page.context.close()
    page = open_as(browser, base, "finance1", width, height=800)
    try:
        page.goto("/projects/new/")
        assert_no_sideways_scroll(page, f"the project form at {width} px")
    finally:
        page.context.close()


@pytest.mark.parametrize("width", [1280, 1366, 390])
def test_score_sheet_inputs_are_usable_and_the_page_does_not_scroll_sideways_when_the_window_is(
    demo_server, browser, width
):
    base, facts = demo_server
    staff, url = facts["self_evaluation"]
    page = open_as(browser, base, staff, width, height=900)
    try:
        page.goto(url)
        form = page.get_by_test_id("se-fill")
        expect(form).to_be_visible()
        assert_no_sideways_scroll(page, f"the score sheet at {width} px")
        if width < 1280:
            return  # on a phone the sheet's table scrolls inside its own box
        inputs = form.locator("tr[data-row] input, tr[data-row] select, tr.sheet-explain textarea")
        assert inputs.count() >= 8
        hits = inputs.evaluate_all(CLICKABLE)
        hidden = [name for name, clickable, _ in hits if not clickable]
        assert not hidden, f"covered or clipped at {width} px: {hidden}"
        reasons = [w for name, _, w in hits if name.endswith(".deviation_reason") or name.endswith(".measure")]
        assert reasons and min(reasons) >= 200, f"reason and measure boxes at {width} px: {reasons}"
        names = form.locator("td.sheet-name")
        for cell in names.all():  # indicator names are not broken every few characters
            box = cell.bounding_box()
            assert box is not None and box["width"] >= 110
        # the 档内比例 input takes a click and the typing
        pct = form.locator("input[name$='.band_pct']").first
        pct.click()
        page.keyboard.type("75")
        expect(pct).to_have_value("75")
    finally:
        page.context.close()
