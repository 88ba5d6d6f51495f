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

from playwright.sync_api import Browser, Page, expect

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


def log_in(browser: Browser, base: str, username: str) -> Page:
    """A fresh browser context (its own cookies) logged in as ``username``, on the inbox."""
    page = browser.new_context(locale="zh-CN", base_url=base).new_page()
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]:has-text('登录')")
    expect(page).to_have_url(re.compile(r"/$"))
    return page
