"""The city scale (issue 20) is opt-in: `make bench` stays as long as it was, `--only city`
or `--city` (make bench-city) runs it, a smoke run (CI) includes it at a tiny size, and
``--city-scale`` builds a share of the 41,000 projects and 1,000,000 tasks."""

from __future__ import annotations

import pytest

from bench.context import SIZES
from bench.run import parse


def test_a_full_run_leaves_the_city_out():
    names = parse([]).names
    assert "city" not in names
    assert {"campaign", "lists", "acceptance"} <= set(names)


def test_the_city_is_asked_for_by_name_or_flag():
    assert parse(["--only", "city"]).names == ["city"]
    assert parse(["--city"]).names[-1] == "city"
    assert parse(["--only", "lists", "--city"]).names == ["lists", "city"]


def test_a_smoke_run_includes_the_city_at_a_tiny_size():
    assert "city" in parse(["--smoke"]).names
    smoke = SIZES["smoke"]
    assert smoke["city_projects"] <= 100 and smoke["city_tasks"][1] <= 1_000


def test_the_full_city_is_eleven_districts():
    full = SIZES["full"]
    assert full["city_projects"] == 41_000 and full["city_departments"] == 11 * full["departments"]
    assert full["city_tasks"] == [1_000, 1_000_000]


def test_the_city_scale_is_a_share(capsys):
    assert parse(["--only", "city", "--city-scale", "0.1"]).city_scale == 0.1
    with pytest.raises(SystemExit):
        parse(["--city-scale", "2"])


def test_a_tenth_of_the_city_keeps_the_open_work():
    from types import SimpleNamespace

    from bench.scenarios.city import sizes

    tenth = sizes(SimpleNamespace(city_scale=0.1, size=SIZES["full"]))
    assert tenth == {"projects": 4_100, "departments": 85, "open": 1_000, "tasks": 100_000}
    assert sizes(SimpleNamespace(city_scale=1.0, size=SIZES["full"]))["tasks"] == 1_000_000
