"""The server `make run` starts: dev settings, daphne's runserver, the embedded scheduler.

Started in a subprocess on a fresh SQLite file, the way the autoreloader's serving child
runs (RUN_MAIN=true is what makes workflows.apps start the scheduler thread).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from django.urls import reverse

from config.env import BASE_DIR

START_TIMEOUT = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def test_dev_server_serves_login_page_and_runs_scheduler_when_started_as_make_run_does(tmp_path):
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.dev", DATABASE_URL=f"sqlite:///{tmp_path / 'dev.sqlite3'}")
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert migrate.returncode == 0, migrate.stderr

    url = f"http://127.0.0.1:{free_port()}"
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", url.removeprefix("http://"), "--noreload"],
        cwd=BASE_DIR, env={**env, "RUN_MAIN": "true"}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    status = None
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and server.poll() is None:
            status = http_status(url + reverse("login"))
            if status is not None:
                break
            time.sleep(0.5)
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)

    assert status == 200, output
    assert "embedded scheduler started" in output, output
