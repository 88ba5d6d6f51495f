"""`make profile` (bench/profile.py) at its smoke size: every target runs and writes its
tables, and the profiles count the work that was asked for (no time is asserted).

Run in a subprocess, as `make profile PROFILE_ARGS="--smoke"` runs it: the benchmark
makes its own SQLite database and sets Django up on the bench settings itself.
"""

from __future__ import annotations

import os
import pstats
import subprocess
import sys
from datetime import UTC, datetime
from importlib.util import find_spec

from config.env import BASE_DIR

#: the smoke size's list sizes (bench/context.py SIZES["smoke"]["list_tasks"])
LIST_SIZES = (12, 60)


def _calls(path, function: str) -> int:
    """How many times the profile saw ``function`` called (primitive calls)."""
    stats = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
    return sum(nc for (_file, _line, name), (_cc, nc, *_rest) in stats.items() if name == function)


def test_profile_smoke_profiles_every_target_and_writes_its_tables(tmp_path):
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}  # SQLite: no DATABASE_URL
    run = subprocess.run(
        [sys.executable, "-m", "bench.profile", "--smoke", "--html", "--out", str(tmp_path)],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]

    stem = f"{datetime.now(UTC).date().isoformat()}-sqlite"
    targets = ["completion", "completion-http"] + [
        f"{page}-{size}" for size in LIST_SIZES for page in ("inbox", "projects", "board", "trivial")
    ]
    for target in targets:
        text = (tmp_path / f"{stem}-{target}.txt").read_text()
        assert "## Top functions by cumulative time" in text
        assert "## Top functions by own time" in text
        assert "## Own time by package" in text
        own = text.split("## Top functions by own time", 1)[1]
        assert own.count("\n| ") >= 20, own  # the header and (at least) 20 rows
        assert (tmp_path / f"{stem}-{target}.prof").exists()
    summary = (tmp_path / f"{stem}.md").read_text()
    assert summary in run.stdout  # printed as written
    for target in targets:
        assert f"| {target} |" in summary

    # 8 completions profiled in-process and 8 over HTTP (2 clients × 4 after a warm-up
    # each): the service ran once per completion, in the profiled thread
    assert "operations profiled: 8" in (tmp_path / f"{stem}-completion.txt").read_text()
    assert _calls(tmp_path / f"{stem}-completion.prof", "self_evaluation_submit") == 8
    http = (tmp_path / f"{stem}-completion-http.txt").read_text()
    assert "operations profiled: 8" in http
    assert "inside the Django middleware stack" in http
    assert _calls(tmp_path / f"{stem}-completion-http.prof", "self_evaluation_submit") == 8
    # each page's profile holds its own requests only (4 each, after the warm-up), in both
    # of the server's threads: the ASGI handler's (main) and Django's (URL resolution)
    for size in LIST_SIZES:
        for page in ("inbox", "projects", "board", "trivial"):
            prof = tmp_path / f"{stem}-{page}-{size}.prof"
            assert _calls(prof, "create_request") == 4, page
            assert _calls(prof, "resolve_request") == 4, page
    if find_spec("pyinstrument") is not None:
        assert (tmp_path / f"{stem}-completion.html").stat().st_size > 0
