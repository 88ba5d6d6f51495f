"""The production process list has one source, the Procfile: the systemd units in deploy/
are generated from it and must not drift (scripts/process_list.py)."""

from __future__ import annotations

import subprocess
import sys

from config.env import BASE_DIR
from scripts import process_list


def test_systemd_units_match_the_procfile_when_committed():
    assert process_list.drift() == [], "run: python3 scripts/process_list.py --write"


def test_drift_is_reported_when_a_unit_differs_from_the_procfile(tmp_path, monkeypatch):
    for filename, content in process_list.units().items():
        (tmp_path / filename).write_text(content, encoding="utf-8")
    web = tmp_path / "jixiao-web@.service"
    web.write_text(web.read_text(encoding="utf-8").replace("--proxy-headers ", ""), encoding="utf-8")
    (tmp_path / "jixiao-extra.service").write_text("[Unit]\n", encoding="utf-8")
    monkeypatch.setattr(process_list, "DEPLOY", tmp_path)
    assert process_list.drift() == [
        "deploy/jixiao-web@.service differs from the Procfile's",
        "deploy/jixiao-extra.service is not in the Procfile",
    ]


def test_check_command_exits_zero_when_units_are_in_step():
    done = subprocess.run(
        [sys.executable, "scripts/process_list.py", "--check"], cwd=BASE_DIR, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def test_procfile_lists_web_worker_and_beat_with_the_documented_commands():
    procs = process_list.processes()
    assert list(procs) == ["web", "worker", "beat"]
    assert process_list.command("web", port=8001) == [
        ".venv/bin/daphne",
        "--proxy-headers",
        "-b",
        "127.0.0.1",
        "-p",
        "8001",
        "config.asgi:application",
    ]
    assert process_list.command("worker")[:4] == [".venv/bin/celery", "-A", "config", "worker"]
    assert process_list.command("beat")[:4] == [".venv/bin/celery", "-A", "config", "beat"]
