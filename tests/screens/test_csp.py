"""The Content-Security-Policy (decision 0015): every screen of a crawl, as each role of the
demo district, answers with the policy (no 'unsafe-inline' or 'unsafe-eval' for scripts)
and its HTML has no inline script, no on*= handler, no <style> block and no style
attribute; the pages that come from libraries (admin, DRF's browsable API, the Swagger
UI) likewise."""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

import pytest
from django.db import transaction

from tests.workflows.test_demo import load

pytestmark = pytest.mark.django_db

#: One login per role of the demo district (workflows.demo.USERS).
ROLES = [
    "nongshui_staff",
    "nongshui_leader",
    "finance1",
    "supervisor",
    "auditor",
    "sysadmin",
    "expert1",
    "deputy1",
    "agency1",
]
#: Pages a crawl of one role fetches at most, and URLs per shape (digits as N, no query).
MAX_PAGES = 100
PER_SHAPE = 2
#: Links not followed: they end the session or only switch its language.
SKIP = ("/accounts/logout/", "/admin/logout/", "/accounts/language/")

POLICY = {
    "default-src": {"'self'"},
    "script-src": {"'self'"},
    "style-src": {"'self'"},
    "img-src": {"'self'", "data:"},
    "frame-ancestors": {"'none'"},
    "form-action": {"'self'"},
    "base-uri": {"'self'"},
    "object-src": {"'none'"},
}


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo district, loaded once for the module and rolled back at its end."""
    with django_db_blocker.unblock(), transaction.atomic():
        load()
        yield
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _savepoint(demo, db):
    """The module's demo first, then the test's savepoint (``db``)."""


class Page(HTMLParser):
    """What the policy would block in a page: inline scripts, handlers, inline styles; and
    the same-site links to follow."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        for name, _value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…> (inline event handler)")
            if name == "style":
                self.problems.append(f"<{tag} style=…> (inline style)")
        if tag == "script" and not names.get("src") and names.get("type") != "application/json":
            self.problems.append(f"<script {names}> without src (inline script)")
        if tag == "style":
            self.problems.append("<style> block (inline style)")
        if tag == "a" and names.get("href"):
            self.links.append(names["href"])
        for name in ("href", "src", "action", "formaction"):
            value = (names.get(name) or "").strip().lower()
            if value.startswith("javascript:"):
                self.problems.append(f"<{tag} {name}=javascript:…>")


def directives(header: str) -> dict[str, set[str]]:
    out = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = set(words[1:])
    return out


def check_response(url: str, response) -> list[str]:
    """The policy's problems of one response (empty when it is right)."""
    header = response.get("Content-Security-Policy")
    if not header:
        return [f"{url}: no Content-Security-Policy header"]
    policy = directives(header)
    problems = []
    for name, expected in POLICY.items():
        if policy.get(name) != expected:
            problems.append(f"{url}: {name} is {policy.get(name)}, not {expected}")
    for name in ("script-src", "default-src"):
        for word in ("'unsafe-inline'", "'unsafe-eval'"):
            if word in policy.get(name, set()):
                problems.append(f"{url}: {word} in {name}")
    if "'self'" not in policy.get("connect-src", set()) or not any(
        w.startswith(("ws://", "wss://")) for w in policy.get("connect-src", set())
    ):
        problems.append(f"{url}: connect-src {policy.get('connect-src')} lacks 'self' or the WebSocket origin")
    return problems


def shape(url: str) -> str:
    return re.sub(r"\d+", "N", urlsplit(url).path)


def crawl(client, start: list[str]) -> tuple[int, list[str]]:
    """Fetch same-site pages breadth first from ``start``; the number of HTML pages checked
    and every problem found."""
    queue, seen, shapes = deque(start), set(start), {}
    visited: list[str] = []
    problems: list[str] = []
    pages = 0
    while queue and pages < MAX_PAGES:
        url = queue.popleft()
        response = client.get(url, HTTP_ACCEPT="text/html")  # as a browser: DRF's browsable API
        if response.status_code in (301, 302):
            problems += check_response(url, response)
            continue
        if response.status_code != 200:
            continue
        problems += check_response(url, response)
        if not response.get("Content-Type", "").startswith("text/html"):
            continue
        pages += 1
        visited.append(url)
        page = Page()
        page.feed(response.content.decode())
        problems += [f"{url}: {p}" for p in page.problems]
        for href in page.links:
            href = urldefrag(href).url
            if not href.startswith("/") or href.startswith("//") or href.startswith(SKIP) or href in seen:
                continue
            key = shape(href)
            if shapes.get(key, 0) >= PER_SHAPE:
                continue
            shapes[key] = shapes.get(key, 0) + 1
            seen.add(href)
            queue.append(href)
    print(f"crawl: {pages} pages:", " ".join(visited))
    return pages, problems


@pytest.mark.parametrize("username", ROLES)
def test_every_crawled_page_has_the_policy_and_no_inline_script_when_role_browses(client, username):
    from accounts.models import User

    client.force_login(User.objects.get(username=username))

    pages, problems = crawl(client, ["/", "/api/projects/", "/api/indicators/", "/api/docs/", "/admin/"])

    assert problems == []
    assert pages >= 8, f"the crawl reached only {pages} pages"


def test_login_and_error_pages_have_the_policy_when_anonymous(client):
    for url in ("/accounts/login/", "/projects/"):
        response = client.get(url)
        assert check_response(url, response) == []
    login = client.get("/accounts/login/")
    page = Page()
    page.feed(login.content.decode())
    assert page.problems == []
    missing = client.get("/no-such-page/")
    assert missing.status_code == 404 and check_response("/no-such-page/", missing) == []


def test_connect_src_names_the_sites_websocket_origin_when_served_over_https(client, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    plain = directives(client.get("/accounts/login/")["Content-Security-Policy"])
    secure = directives(
        client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https", secure=True)["Content-Security-Policy"]
    )

    assert plain["connect-src"] == {"'self'", "ws://testserver"}
    assert secure["connect-src"] == {"'self'", "wss://testserver"}


def test_swagger_ui_init_script_is_a_same_origin_file_when_docs_open(client):
    from accounts.models import User

    client.force_login(User.objects.get(username="nongshui_staff"))
    docs = client.get("/api/docs/")
    page = Page()
    page.feed(docs.content.decode())
    script = re.search(r'<script src="([^"]*script=[^"]*)"', docs.content.decode())

    assert docs.status_code == 200 and page.problems == [] and script is not None
    init = client.get(script.group(1).replace("&amp;", "&"))
    assert init.status_code == 200
    assert init["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in init.content.decode()
    assert init["Cross-Origin-Resource-Policy"] == "same-origin"
    assert "no-store" in init["Cache-Control"]
