"""What every scenario shares: the figures it records (median and spread of its runs),
the machine and versions they were measured on, the table printed at the end and the
JSON file written to bench/results/. Nothing here imports Django models: run.py uses it
before ``django.setup()``."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS_DIR = BASE_DIR / "bench" / "results"


@dataclass
class Figure:
    """One measured quantity: every run's value, and their median and spread."""

    name: str
    unit: str
    runs: list[float]
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "unit": self.unit,
            "median": _round(self.median),
            "min": _round(min(self.runs)),
            "max": _round(max(self.runs)),
            "runs": [_round(v) for v in self.runs],
            **({"note": self.note} if self.note else {}),
        }


@dataclass
class Target:
    """A goal of issue 9 and whether this run met it (None: not judged, e.g. a smoke run)."""

    name: str
    goal: str
    value: str
    met: bool | None


@dataclass
class Scenario:
    """What one scenario recorded."""

    name: str
    title: str
    size: dict[str, Any] = field(default_factory=dict)
    figures: list[Figure] = field(default_factory=list)
    ratios: list[tuple[str, float]] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, name: str, runs: list[float] | float, unit: str = "s", note: str = "") -> Figure:
        figure = Figure(name, unit, list(runs) if isinstance(runs, list) else [runs], note)
        self.figures.append(figure)
        return figure

    def get(self, name: str) -> Figure:
        return next(f for f in self.figures if f.name == name)

    def find(self, name: str) -> Figure | None:
        """The figure ``name``, or None when this run did not record it."""
        return next((f for f in self.figures if f.name == name), None)

    def ratio(self, name: str, value: float) -> float:
        self.ratios.append((name, value))
        return value

    def target(self, name: str, goal: str, value: str, met: bool | None) -> None:
        self.targets.append(Target(name, goal, value, met))

    def note(self, text: str) -> None:
        self.notes.append(text)

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "size": self.size,
            "seconds": round(self.seconds, 1),
            "figures": [f.as_dict() for f in self.figures],
            "ratios": {name: _round(value) for name, value in self.ratios},
            "targets": [asdict(t) for t in self.targets],
            "notes": self.notes,
        }


def _round(value: float) -> float:
    if isinstance(value, int) or value == int(value) and abs(value) >= 1:
        return value
    return float(f"{value:.4g}") if abs(value) < 1000 else round(value, 1)


@dataclass
class Options:
    """The command line, as every scenario sees it."""

    smoke: bool
    runs: int
    scale: dict[str, int]


# -- timing ------------------------------------------------------------------------------------


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0–100) by linear interpolation between closest ranks."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def busy_seconds() -> float | None:
    """CPU time all processes spent busy (Linux /proc/stat), to tell the other load apart."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def process_seconds(pid: int | None) -> float:
    """User + system CPU of a process (/proc/<pid>/stat); 0 if unknown."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class OtherLoad:
    """Cores used by anything but this process (and the given server processes, e.g. its
    PostgreSQL backend) while the block ran; None off Linux. /proc/stat counts in clock
    ticks (10 ms): meaningful over seconds, not milliseconds."""

    def __init__(self, pids: list[int] | None = None) -> None:
        self.pids = pids or []
        self.cores: float | None = None

    def __enter__(self) -> OtherLoad:
        self.busy, self.own = busy_seconds(), time.process_time()
        self.servers = sum(process_seconds(p) for p in self.pids)
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        wall = time.perf_counter() - self.started
        now = busy_seconds()
        servers = sum(process_seconds(p) for p in self.pids) - self.servers
        if self.busy is not None and now is not None and wall > 0:
            self.cores = max(0.0, (now - self.busy) - (time.process_time() - self.own) - servers) / wall


# -- the machine -------------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def machine() -> dict[str, Any]:
    return {
        "cpu_model": cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": memory_gib(),
        "kernel": platform.release(),
    }


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in ("Django", "django-viewflow", "django-fsm-2", "channels", "channels-redis", "daphne", "psycopg"):
        try:
            versions[name.lower()] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return versions


def git_commit() -> tuple[str, bool]:
    """The commit measured, and whether the tree had uncommitted changes to tracked files."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=BASE_DIR, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = bool(
            subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no"], cwd=BASE_DIR, capture_output=True, text=True
            ).stdout.strip()
        )
    except (OSError, subprocess.CalledProcessError):
        return "?", False
    return commit, dirty


# -- the report --------------------------------------------------------------------------------


class Report:
    """Everything one `python -m bench.run` measured."""

    def __init__(self, *, smoke: bool, runs: int) -> None:
        self.started = datetime.now().astimezone()
        self.smoke = smoke
        self.runs = runs
        self.commit, self.dirty = git_commit()
        self.machine = machine()
        self.versions = package_versions()
        self.database: dict[str, Any] = {}
        self.channel_layer = ""
        self.scenarios: list[Scenario] = []

    def scenario(self, name: str, title: str, **size: Any) -> Scenario:
        scenario = Scenario(name, title, dict(size))
        self.scenarios.append(scenario)
        return scenario

    @contextmanager
    def timing(self, scenario: Scenario) -> Iterator[Scenario]:
        started = time.perf_counter()
        try:
            yield scenario
        finally:
            scenario.seconds = time.perf_counter() - started

    def as_dict(self) -> dict[str, Any]:
        return {
            "date": self.started.isoformat(timespec="seconds"),
            "commit": self.commit,
            "uncommitted_changes": self.dirty,
            "smoke": self.smoke,
            "runs": self.runs,
            "machine": self.machine,
            "versions": self.versions,
            "database": self.database,
            "channel_layer": self.channel_layer,
            "scenarios": {s.name: s.as_dict() for s in self.scenarios},
        }

    def write(self, directory: Path = RESULTS_DIR) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        vendor = self.database.get("vendor", "db")
        suffix = "-smoke" if self.smoke else ""
        path = directory / f"{self.started:%Y-%m-%d}-{vendor}{suffix}.json"
        path.write_text(json.dumps(self.as_dict(), ensure_ascii=False, indent=2) + "\n")
        return path

    def table(self) -> str:
        lines = [
            f"{self.machine['cpu_model']}, {self.machine['cores']} cores; {self.database.get('description', '')}; "
            f"channel layer {self.channel_layer}",
            "Python {python}, Django {django}, viewflow {django-viewflow}; commit {commit}{dirty}; "
            "median [min–max] of {runs} runs{smoke}".format(
                **self.versions,
                commit=self.commit,
                dirty=" (+ uncommitted changes)" if self.dirty else "",
                runs=self.runs,
                smoke=", SMOKE SIZES (not results)" if self.smoke else "",
            ),
        ]
        for s in self.scenarios:
            size = ", ".join(f"{k} {v:,}" if isinstance(v, int) else f"{k} {v}" for k, v in s.size.items())
            lines.append("")
            lines.append(f"== {s.title} ({size}; {s.seconds:.0f} s)")
            for f in s.figures:
                spread = f"[{_fmt(min(f.runs))}–{_fmt(max(f.runs))}]" if len(f.runs) > 1 else ""
                lines.append(f"  {f.name:<58} {_fmt(f.median):>10} {f.unit:<10} {spread}")
            for name, value in s.ratios:
                lines.append(f"  ratio {name:<52} {value:>10.2f}")
            for t in s.targets:
                mark = {True: "met", False: "MISSED", None: "n/a"}[t.met]
                lines.append(f"  target {t.name:<51} {t.value:>10} (goal {t.goal}): {mark}")
            for note in s.notes:
                lines.append(f"  note: {note}")
        return "\n".join(lines)


def _fmt(value: float) -> str:
    if value == int(value):
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.4f}"
