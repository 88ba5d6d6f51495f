"""The browser tests' server: daphne's runserver on a throwaway SQLite file, set up by a
script run through `manage.py shell` (pytest-django's live_server speaks no WebSocket).
It is daphne's ``runserver`` rather than bare ``daphne config.asgi:application`` so that
static files (live.js) are served as in `make run`."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect

BASE_DIR = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
PASSWORD = "E2e-pass-2026!"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, server: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited early with code {server.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server did not answer on port {port} within {timeout}s")


MANAGE = [str(VENV_BIN / "python"), str(BASE_DIR / "manage.py")]


def _env(tmp: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "DATABASE_URL": f"sqlite:///{tmp / 'e2e.sqlite3'}",
        "MEDIA_ROOT": str(tmp / "media"),
        "PRIVATE_MEDIA_ROOT": str(tmp / "private"),
        "PYTHONUNBUFFERED": "1",
    }


def run_script(tmp: Path, script: str) -> subprocess.CompletedProcess:
    """Run ``script`` through `manage.py shell` on the database of ``serve(tmp, …)`` (e.g. to
    change the data while the server runs)."""
    return subprocess.run(
        [*MANAGE, "shell", "-c", script], cwd=BASE_DIR, env=_env(tmp), check=True, capture_output=True, text=True
    )


@contextmanager
def serve(tmp: Path, setup_script: str, extra_env: dict[str, str] | None = None) -> Iterator[tuple[str, str]]:
    """Migrate a fresh database in ``tmp``, run ``setup_script``, serve it (with
    ``extra_env`` in the server's environment only); yields the base URL and what the
    script printed."""
    env = _env(tmp)
    subprocess.run([*MANAGE, "migrate", "--noinput", "-v", "0"], cwd=BASE_DIR, env=env, check=True)
    setup = run_script(tmp, setup_script)
    port = free_port()
    with open(tmp / "daphne.log", "wb") as log:
        server = subprocess.Popen(
            [*MANAGE, "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=BASE_DIR,
            env={**env, **(extra_env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for_port(port, server)
            yield f"http://127.0.0.1:{port}", setup.stdout
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


#: Content-Security-Policy violations seen by any page of a context made by ``log_in`` or
#: ``new_context`` during the running test; tests/e2e/conftest.py fails the test on any.
CSP_VIOLATIONS: list[str] = []

#: Reports every violation to the console, where ``watch_csp`` reads it (Chromium also
#: logs its own "Refused to …" line; both are caught, either one fails the test).
_REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error("CSP violation: " + e.effectiveDirective + " blocked " + (e.blockedURI || "inline")
    + " at " + e.sourceFile + ":" + e.lineNumber);
});
"""


def watch_csp(context: BrowserContext) -> BrowserContext:
    """Record every Content-Security-Policy violation of the context's pages in CSP_VIOLATIONS."""

    def on_console(message: ConsoleMessage) -> None:
        text = message.text
        if "CSP violation" in text or "Content Security Policy" in text:
            CSP_VIOLATIONS.append(f"{message.page.url if message.page else '?'}: {text}")

    context.add_init_script(_REPORT_VIOLATIONS)
    context.on("console", on_console)
    return context


def new_context(browser: Browser, base: str) -> BrowserContext:
    """A fresh browser context (its own cookies) whose CSP violations fail the test."""
    return watch_csp(browser.new_context(locale="zh-CN", base_url=base))


def log_in(browser: Browser, base: str, username: str) -> Page:
    """A fresh browser context (its own cookies) logged in as ``username``, on the inbox."""
    page = new_context(browser, base).new_page()
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]:has-text('登录')")
    expect(page).to_have_url(re.compile(r"/$"))
    return page


def evaluated_year_script(*, prefix: str, dept_code: str, dept_name: str, code: str, name: str, category: str) -> str:
    """A `manage.py shell` script: a department with staff, leader and finance logins
    (``<prefix>_staff`` …), one executing project with approved targets (a ≥ row of weight 60
    and a qualitative row of 40) taken there through the real services, and the year's
    self-evaluation campaign launched. Defines ``project``, ``staff``, ``leader``, ``finance``."""
    return f"""
from datetime import timedelta
from decimal import Decimal
from django.contrib.auth.models import Group
from django.utils import timezone
from accounts.models import Department, User
from processes.services.projects import project_create
from processes.services.targets import target_draft_open, target_set_save
from workflows.services import campaign_launch, project_act, targets_dept_review, targets_rate, targets_submit

def person(username, role, **extra):
    user = User(username=username, full_name=username, language="zh-hans", **extra)
    user.set_password({PASSWORD!r})
    user.save()
    user.groups.add(Group.objects.get(name=role))
    return user

dept = Department.objects.create(code={dept_code!r}, name={dept_name!r})
staff = person("{prefix}_staff", "dept_staff", department=dept)
leader = person("{prefix}_leader", "dept_leader", department=dept)
finance = person("{prefix}_finance", "finance_officer")
project = project_create(actor=staff, fiscal_year=2021, code={code!r}, name={name!r},
                         category={category!r}, recurrence="recurring", requested_amount=Decimal("1000000"))
project_act(project=project, actor=staff, action="submit")
project_act(project=project, actor=leader, action="approve")
project_act(project=project, actor=finance, action="route_to_target_review")
rows = [
    dict(level1="output", level2="quantity", name="服务人数", direction="gte", target_value="2000", unit="人", weight="60"),
    dict(level1="effect", level2="social", name="服务对象获得感", direction="qualitative", target_text="明显提升", weight="40"),
]
ts = target_set_save(target_set=target_draft_open(project=project, actor=staff), actor=staff, overall_goal="全覆盖", rows=rows)
ts = targets_dept_review(target_set=targets_submit(target_set=ts, actor=staff), actor=leader, approve=True)
targets_rate(target_set=ts, actor=finance, rating="excellent", comment="")
project.refresh_from_db()
project_act(project=project, actor=finance, action="start_execution")
campaign_launch(actor=finance, fiscal_year=2021, due_at=timezone.now() + timedelta(days=30))
"""


#: axe-core's WCAG 2 A/AA rules, and the impacts that fail a page (issue 21).
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa"]}, "resultTypes": ["violations"]}
AXE_FAILING = {"serious", "critical"}


def axe_violations(page: Page) -> list[str]:
    """The serious and critical WCAG 2 A/AA violations of the page (axe-core, bundled by
    axe-playwright-python: no network), one line per offending node."""
    from axe_playwright_python.sync_playwright import Axe

    page.wait_for_load_state("load")
    results = Axe().run(page, options=AXE_OPTIONS).response
    return [
        f"{page.url} [{v['impact']}] {v['id']}: {v['help']} — {' '.join(node['target'])}"
        for v in results["violations"]
        if v.get("impact") in AXE_FAILING
        for node in v["nodes"]
    ]
