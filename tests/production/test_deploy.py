"""Deploy: the release steps pass with production settings, as scripts/prod-up runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .topology import record

pytestmark = pytest.mark.production


def test_release_steps_pass_when_run_with_production_settings(topology):
    release = topology.release["prod-up"]
    out = release.stdout + release.stderr
    assert release.returncode == 0, f"scripts/prod-up --release-only failed (exit {release.returncode}):\n{out[-4000:]}"
    for step in ("check --deploy", "migrate", "collectstatic", "sync_roles"):
        assert f"manage.py {step}" in out, f"prod-up did not run {step}"
    manifest = Path(topology.env["STATIC_ROOT"]) / "staticfiles.json"
    assert manifest.exists(), "collectstatic wrote no manifest"
    assert len(json.loads(manifest.read_text())["paths"]) > 50


def test_check_deploy_reports_no_error_when_run_against_the_live_database(topology):
    done = topology.manage("check", "--deploy", "--fail-level", "ERROR")
    assert done.returncode == 0, done.stdout + done.stderr
    migrate = topology.manage("migrate", "--check")
    assert migrate.returncode == 0, "unapplied migrations: " + migrate.stdout + migrate.stderr
    record("deploy", {"check_deploy": "ok", "migrate": "ok", "collectstatic_files": _static_count(topology)})


def test_static_files_are_served_by_each_web_process_when_collected(topology):
    import httpx

    for i in range(2):
        page = httpx.get(f"{topology.base(i)}/accounts/login/", timeout=30)
        assert page.status_code == 200
        css = [part.split('"')[0] for part in page.text.split('href="/static/')[1:] if ".css" in part.split('"')[0]]
        assert css, "the login page links no stylesheet"
        r = httpx.get(f"{topology.base(i)}/static/{css[0]}", timeout=30)
        assert r.status_code == 200, f"/static/{css[0]} → {r.status_code}"


def _static_count(topology) -> int:
    manifest = Path(topology.env["STATIC_ROOT"]) / "staticfiles.json"
    return len(json.loads(manifest.read_text())["paths"]) if manifest.exists() else 0
