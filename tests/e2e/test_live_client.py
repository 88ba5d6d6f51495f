"""static/js/live.js in a real browser, against a scripted WebSocket: which id it asks to
have replayed after a drop, that it shows each notification once, its reconnection
backoff (0.5 s base, 3 s cap, full jitter, reset once a connection delivers), and that a
socket closed for a retry (1013) is retried while an ended session (4401) goes to login.

The page and the script are served by Playwright's router (no server); the browser's
clock is Playwright's, paused and advanced by the test; Math.random is pinned to the top of its range
so a wait is the longest its step allows.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, sync_playwright

from config.env import BASE_DIR

from .support import CHROMIUM_ARGS

pytestmark = pytest.mark.browser

ORIGIN = "http://jixiao.test"
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LIVE_JS = (BASE_DIR / "static" / "js" / "live.js").read_text(encoding="utf-8")
PAGE = """<!doctype html><html><head><meta charset="utf-8"></head>
<body data-login-url="/accounts/login/">
<span data-testid="unread-count">0</span><div id="toasts"></div>
<script src="/static/js/live.js"></script></body></html>"""

FAKE_SOCKET = """
window.__sockets = [];
Math.random = function () { return 0.9999; };
function FakeSocket(url) { this.url = url; this.readyState = 0; this.sent = []; window.__sockets.push(this); }
FakeSocket.OPEN = 1;
FakeSocket.prototype.send = function (data) { this.sent.push(data); };
FakeSocket.prototype.close = function () { this.readyState = 3; };
window.WebSocket = FakeSocket;
window.__open = function (i) { var s = window.__sockets[i]; s.readyState = 1; s.onopen && s.onopen(); };
window.__message = function (i, data) { window.__sockets[i].onmessage({ data: JSON.stringify(data) }); };
window.__close = function (i, code) { var s = window.__sockets[i]; s.readyState = 3; s.onclose({ code: code }); };
"""


def route(r):
    url = r.request.url
    if url.endswith("/static/js/live.js"):
        r.fulfill(status=200, content_type="application/javascript", body=LIVE_JS)
    elif "/accounts/login/" in url:
        r.fulfill(status=200, content_type="text/html", body="<!doctype html><title>login</title>")
    else:
        r.fulfill(status=200, content_type="text/html", body=PAGE)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.route(f"{ORIGIN}/**", route)
    page.add_init_script(FAKE_SOCKET)
    # the page's time moves only when the test moves it (not with the wall clock, which on
    # a loaded machine would shorten the waits measured)
    page.clock.install(time=START)
    page.clock.pause_at(START + timedelta(seconds=1))
    page.goto(f"{ORIGIN}/inbox/")
    page.wait_for_function("window.__sockets.length === 1")
    try:
        yield page
    finally:
        context.close()


def sockets(page: Page) -> list[str]:
    return page.evaluate("window.__sockets.map(function (s) { return s.url; })")


def connected(page: Page, i: int, hello: dict) -> None:
    page.evaluate("([i, hello]) => { window.__open(i); window.__message(i, hello); }", [i, hello])


def notice(page: Page, i: int, nid: int, text: str, **extra) -> None:
    page.evaluate(
        "([i, m]) => window.__message(i, m)",
        [i, {"type": "notification", "id": nid, "text": text, "url": "/x/", "unread": 1, **extra}],
    )


def drop(page: Page, i: int, code: int = 1013) -> None:
    page.evaluate("([i, code]) => window.__close(i, code)", [i, code])


def reconnect_wait(page: Page) -> int:
    """Advance the clock 50 ms at a time until a new socket is opened; the wait, in ms."""
    before = len(sockets(page))
    for step in range(1, 200):
        page.clock.run_for(50)
        if len(sockets(page)) > before:
            return step * 50
    raise AssertionError("no reconnection within 10 s")


def toasts(page: Page) -> list[str]:
    return page.locator("[data-testid=toast]").all_inner_texts()


def test_first_socket_asks_for_no_replay_when_page_opens(page):
    assert sockets(page) == ["ws://jixiao.test/ws/notifications/"]


def test_reconnect_asks_for_notices_after_the_newest_seen_when_socket_drops(page):
    connected(page, 0, {"type": "unread", "unread": 2, "last_id": 7})
    notice(page, 0, 9, "新任务：甲")
    drop(page, 0)

    reconnect_wait(page)

    assert sockets(page)[1] == "ws://jixiao.test/ws/notifications/?since=9"
    assert page.locator("[data-testid=unread-count]").inner_text() == "1"


def test_reconnect_asks_since_zero_when_user_had_no_notice(page):
    connected(page, 0, {"type": "unread", "unread": 0, "last_id": 0})
    drop(page, 0)
    reconnect_wait(page)
    assert sockets(page)[1].endswith("?since=0")


def test_each_notice_is_shown_once_when_the_replay_repeats_a_push(page):
    connected(page, 0, {"type": "unread", "unread": 0, "last_id": 7})
    notice(page, 0, 8, "通知八")
    drop(page, 0)
    reconnect_wait(page)
    connected(page, 1, {"type": "unread", "unread": 2, "last_id": 9})
    notice(page, 1, 8, "通知八", replayed=True)
    notice(page, 1, 9, "通知九", replayed=True)
    notice(page, 1, 9, "通知九")  # its late push

    assert toasts(page) == ["通知八", "通知九"]


def test_backoff_doubles_to_a_3_s_cap_then_resets_when_a_connection_delivers(page):
    waits = []
    for i in range(5):  # accepted then closed at once: the server cannot serve yet
        page.evaluate("(i) => window.__open(i)", i)
        drop(page, i)
        waits.append(reconnect_wait(page))

    # full jitter: up to 0.5, 1, 2, 3, 3 s (Math.random pinned near 1)
    assert waits == [500, 1000, 2000, 3000, 3000]

    connected(page, 5, {"type": "unread", "unread": 0, "last_id": 0})
    drop(page, 5)
    assert reconnect_wait(page) == 500


def test_wait_is_jittered_below_its_step_when_random_is_low(page):
    page.evaluate("Math.random = function () { return 0.1; }")
    drop(page, 0)
    assert reconnect_wait(page) == 50  # 10 % of 500 ms, at the clock's 50 ms resolution


def test_ended_session_goes_to_login_without_retrying_when_closed_with_4401(page):
    connected(page, 0, {"type": "unread", "unread": 0, "last_id": 0})
    with page.expect_navigation():
        drop(page, 0, code=4401)
    assert "/accounts/login/?next=" in page.url
