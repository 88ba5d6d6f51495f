"""bench.markdown: the recorded runs' tables, and ``--targets``' one table of every target."""

from __future__ import annotations

import json

from bench import markdown


def run(database: str, met: bool | None, value: str) -> dict:
    return {
        "database": {"description": f"{database} (details)"},
        "scenarios": {
            "campaign": {
                "title": "Campaign launch",
                "figures": [{"name": "campaign_launch", "unit": "s", "median": 0.6, "min": 0.5, "max": 0.7}],
                "ratios": {"campaign_launch ÷ raw": 1.8},
                "targets": [{"name": "campaign launch wall time", "goal": "≤ 1.0 s", "value": value, "met": met}],
            }
        },
    }


def test_targets_lists_each_target_once_with_its_mark_per_run(tmp_path, capsys):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(run("SQLite 3.40", True, "0.60 s")))
    b.write_text(json.dumps(run("PostgreSQL 15", False, "1.20 s")))
    assert markdown.main(["--targets", str(a), str(b)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "| Target | Goal | SQLite 3.40 | PostgreSQL 15 |"
    assert out[2] == "| campaign launch wall time | ≤ 1.0 s | 0.60 s ✔ | 1.20 s ✘ |"
    assert len([line for line in out if line.startswith("| campaign")]) == 1


def test_a_smoke_run_marks_nothing_and_the_full_tables_still_print(tmp_path, capsys):
    a = tmp_path / "a.json"
    a.write_text(json.dumps(run("SQLite 3.40", None, "0.10 s")))
    assert markdown.main(["--targets", str(a)]) == 0
    assert "| campaign launch wall time | ≤ 1.0 s | 0.10 s |" in capsys.readouterr().out
    assert markdown.main([str(a)]) == 0
    out = capsys.readouterr().out
    assert "| campaign_launch | s | **0.600** [0.500–0.700] |" in out
    assert "| target: campaign launch wall time | ≤ 1.0 s | 0.10 s (not judged) |" in out
