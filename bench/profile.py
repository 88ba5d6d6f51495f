"""Where the CPU goes (issue 20, item 1): `make profile`.

    .venv/bin/python -m bench.profile [--smoke] [--only completion,completion-http,lists] [--out DIR] [--html]

Profiles, on the benchmark's throwaway database (bench/database.py, the states of
bench/context.py and the scenarios), with cProfile timed by the thread's CPU clock
(waiting for the database or the disk is not counted):

- ``completion``: the completion scenario's in-process loop — ``self_evaluation_submit``
  on saved self-evaluations of every department in turn (after a few unprofiled ones);
  also its CPU per completion without the profiler, and with --html a pyinstrument
  HTML of another pass (not kept in git: ~100 MB at full size);
- ``completion-http``: the same completions POSTed to /api/evaluations/self/<id>/submit/
  by the scenario's first client count of department staff, against one daphne process
  that profiles itself (bench/profiling.py: its main thread and the Django thread);
- ``lists``: the lists scenario's pages — the inbox, the project list, the deadline
  board and the trivial logged-in request — each asked by one client of one profiling
  daphne process, at the scenario's two database sizes (1,000 and 100,000 tasks).

For each target it writes ``<date>-<database>-<target>.txt`` (CPU per operation, the
split between threads, own time by package, the top frames by cumulative and by own
time with their share of the total) and the ``.prof`` files (pstats) into
bench/results/profiles/ (a smoke run: var/profiles/ unless --out), and a Markdown
summary ``<date>-<database>.md`` that is also printed. The profiler's own cost
inflates the figures (the in-process target says by how much); read them as shares.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from .harness import BASE_DIR, RESULTS_DIR, git_commit

TARGETS = ["completion", "completion-http", "lists"]
PROFILES_DIR = RESULTS_DIR / "profiles"
SMOKE_DIR = BASE_DIR / "var" / "profiles"
ROWS = 20  # rows of each table


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="every target at a tiny size (seconds)")
    parser.add_argument("--only", default="", help=f"comma-separated targets: {', '.join(TARGETS)}")
    parser.add_argument("--out", type=Path, default=None, help="directory (default bench/results/profiles)")
    parser.add_argument(
        "--html",
        action="store_true",
        help="also a pyinstrument HTML of the in-process completion (~100 MB at full size)",
    )
    args = parser.parse_args(argv)
    args.names = [n.strip() for n in args.only.split(",") if n.strip()] or list(TARGETS)
    unknown = [n for n in args.names if n not in TARGETS]
    if unknown:
        parser.error(f"unknown target(s) {', '.join(unknown)}; choose from {', '.join(TARGETS)}")
    if args.out is None:
        args.out = SMOKE_DIR if args.smoke else PROFILES_DIR
    return args


# -- reading a profile -------------------------------------------------------------------------


@dataclass
class Profile:
    """One target's profile: pstats merged over its threads, and what it measured."""

    target: str
    title: str
    operations: int
    stats: pstats.Stats
    cpu: dict[str, float] = field(default_factory=dict)  # seconds, by thread (server) or "process"
    notes: list[str] = field(default_factory=list)

    @property
    def raw(self) -> dict:
        return self.stats.stats  # type: ignore[attr-defined]

    @property
    def total(self) -> float:
        """Profiled CPU seconds: every function's own time."""
        return sum(tt for _cc, _nc, tt, _ct, _callers in self.raw.values())

    def per_op_ms(self, seconds: float) -> float:
        return seconds / max(1, self.operations) * 1000


def label(key: tuple[str, int, str]) -> str:
    filename, line, name = key
    if filename == "~":
        return re.sub(r" at 0x[0-9a-f]+", "", name)
    text = filename
    for marker in ("site-packages/", "dist-packages/"):
        if marker in text:
            text = text.split(marker, 1)[1]
            break
    else:
        base = str(BASE_DIR) + os.sep
        if text.startswith(base):
            text = text[len(base) :]
        else:
            stdlib = os.path.dirname(os.__file__) + os.sep
            if text.startswith(stdlib):
                text = "stdlib/" + text[len(stdlib) :]
    return f"{text}:{line}({name})"


def package(key: tuple[str, int, str]) -> str:
    """Who owns a function's own time: a package, one of the project's apps, the standard
    library, or a C function (the database driver's apart)."""
    filename, _line, name = key
    if filename == "~":
        if "sqlite3" in name or "psycopg" in name:
            return "database driver (C)"
        return "C builtins (getattr, isinstance, dict, str…)"
    for marker in ("site-packages/", "dist-packages/"):
        if marker in filename:
            return filename.split(marker, 1)[1].split("/", 1)[0].removesuffix(".py")
    base = str(BASE_DIR) + os.sep
    if filename.startswith(base):
        return "jixiao: " + filename[len(base) :].split("/", 1)[0].removesuffix(".py")
    stdlib = os.path.dirname(os.__file__) + os.sep
    if filename.startswith(stdlib):
        return "stdlib: " + filename[len(stdlib) :].split("/", 1)[0].removesuffix(".py")
    return filename.rsplit("/", 1)[-1] or "?"


def table(profile: Profile, by: str, rows: int = ROWS) -> str:
    """The top ``rows`` functions by cumulative ("cum") or own ("own") time."""
    total = profile.total or 1e-12
    entries = sorted(profile.raw.items(), key=lambda kv: kv[1][3 if by == "cum" else 2], reverse=True)[:rows]
    ops = max(1, profile.operations)
    lines = [
        "| # | own ms/op | own % | cum ms/op | cum % | calls/op | function |",
        "|--:|--:|--:|--:|--:|--:|---|",
    ]
    for i, (key, (_cc, nc, tt, ct, _callers)) in enumerate(entries, 1):
        lines.append(
            f"| {i} | {tt / ops * 1000:.2f} | {tt / total * 100:.1f} | {ct / ops * 1000:.2f} | "
            f"{ct / total * 100:.1f} | {nc / ops:.1f} | `{label(key)}` |"
        )
    return "\n".join(lines)


def by_package(profile: Profile, rows: int = 15) -> list[tuple[str, float]]:
    shares: dict[str, float] = {}
    for key, (_cc, _nc, tt, _ct, _callers) in profile.raw.items():
        shares[package(key)] = shares.get(package(key), 0.0) + tt
    return sorted(shares.items(), key=lambda kv: kv[1], reverse=True)[:rows]


def package_table(profile: Profile) -> str:
    total = profile.total or 1e-12
    lines = ["| own time of | ms/op | % |", "|---|--:|--:|"]
    for name, tt in by_package(profile):
        lines.append(f"| {name} | {profile.per_op_ms(tt):.2f} | {tt / total * 100:.1f} |")
    return "\n".join(lines)


def cpu_lines(profile: Profile) -> list[str]:
    lines = [f"- profiled CPU (sum of own times): {profile.per_op_ms(profile.total):.2f} ms per operation"]
    names = {
        "unprofiled": "CPU per operation without the profiler (this process)",
        "process": "server process CPU per request (profiled)",
        "main_thread": "  of which the main thread (daphne, Twisted, asyncio, ASGI handler)",
        "django": "  of which inside the Django middleware stack (the Django thread)",
        "other": "  of which other threads (asgiref executor outside the middleware, the pool)",
    }
    for key, text in names.items():
        if key in profile.cpu:
            lines.append(f"- {text}: {profile.per_op_ms(profile.cpu[key]):.2f} ms")
    return lines


def write(profile: Profile, out: Path, stem: str, header: list[str]) -> Path:
    path = out / f"{stem}-{profile.target}.txt"
    body = [
        f"# {profile.title}",
        "",
        *header,
        f"- operations profiled: {profile.operations}",
        *cpu_lines(profile),
        *(f"- {n}" for n in profile.notes),
        "",
        "## Own time by package",
        "",
        package_table(profile),
        "",
        "## Top functions by cumulative time (% of the profiled total)",
        "",
        table(profile, "cum", ROWS + 5),
        "",
        "## Top functions by own time",
        "",
        table(profile, "own"),
        "",
    ]
    path.write_text("\n".join(body))
    profile.stats.dump_stats(out / f"{stem}-{profile.target}.prof")
    return path


def summary(profiles: list[Profile], header: list[str]) -> str:
    lines = ["# Profiles", "", *header, ""]
    lines += [
        "| target | operations | CPU ms/op (profiled) | server: main thread / Django / other (ms) | top own-time packages |",
        "|---|--:|--:|---|---|",
    ]
    for p in profiles:
        split = (
            " / ".join(f"{p.per_op_ms(p.cpu[k]):.1f}" for k in ("main_thread", "django", "other"))
            if "django" in p.cpu
            else (f"unprofiled {p.per_op_ms(p.cpu['unprofiled']):.1f}" if "unprofiled" in p.cpu else "")
        )
        top = ", ".join(f"{name} {tt / (p.total or 1e-12) * 100:.0f}%" for name, tt in by_package(p, 4))
        lines.append(f"| {p.target} | {p.operations} | {p.per_op_ms(p.total):.1f} | {split} | {top} |")
    trivial = [p for p in profiles if p.target.startswith("trivial-")]
    if trivial:
        lines += ["", "Pages against the trivial logged-in request (profiled CPU per request):", ""]
        for t in trivial:
            size = t.target.split("-", 1)[1]
            for p in profiles:
                if p.target.endswith(f"-{size}") and p is not t and t.total:
                    ratio = p.per_op_ms(p.total) / t.per_op_ms(t.total)
                    lines.append(f"- {p.target}: {ratio:.1f} × trivial")
    for p in profiles:
        lines += ["", f"## {p.title} — top own time", "", table(p, "own", 8)]
    return "\n".join(lines) + "\n"


# -- the targets -------------------------------------------------------------------------------


def _cprofile() -> cProfile.Profile:
    return cProfile.Profile(time.thread_time)


def completion_in_process(ctx, out: Path, stem: str, html: bool) -> Profile:
    from processes.models import SelfEvaluation
    from workflows.services import self_evaluation_submit

    from . import district
    from .scenarios.completion import _round_robin, ready

    n = ctx.size["completions"]
    warm = 2 if ctx.smoke else 10
    ready(ctx)
    d = district.load()

    def batch() -> list:
        saved = ready(ctx)
        pks = _round_robin(saved, min(n + warm, sum(len(v) for v in saved.values())))
        by_pk = {e.pk: e for e in SelfEvaluation.objects.filter(pk__in=pks).select_related("project")}
        evaluations = [by_pk[pk] for pk in pks]
        for e in evaluations[:warm]:  # imports, caches, the first statements: not profiled
            self_evaluation_submit(evaluation=e, actor=d.staff[e.project.department_id])
        return evaluations[warm:]

    def loop(evaluations: list) -> None:
        for e in evaluations:
            self_evaluation_submit(evaluation=e, actor=d.staff[e.project.department_id])

    evaluations = batch()
    cpu = time.process_time()
    loop(evaluations)
    unprofiled = time.process_time() - cpu

    evaluations = batch()
    profiler = _cprofile()
    profiler.enable()
    loop(evaluations)
    profiler.disable()
    result = Profile(
        "completion",
        "Task completion in-process (self_evaluation_submit)",
        len(evaluations),
        pstats.Stats(profiler),
        {"unprofiled": unprofiled},
    )
    if html:
        try:
            from pyinstrument import Profiler
        except ImportError:
            result.notes.append("pyinstrument not installed: no HTML")
        else:
            evaluations = batch()
            sampler = Profiler(interval=0.0005)
            sampler.start()
            loop(evaluations)
            sampler.stop()
            page = out / f"{stem}-completion.html"
            page.write_text(sampler.output_html())
            result.notes.append(f"pyinstrument (wall clock, another pass): {page.name}")
    return result


def _control(port: int, path: str) -> dict:
    from .http import Client

    client = Client(port)
    try:
        answer = client.get(path)
    finally:
        client.close()
    if answer.status != 200:
        raise RuntimeError(f"{path}: HTTP {answer.status}")
    return json.loads(answer.body)


def _server_profile(port: int, profdir: Path, name: str, title: str, operations: int) -> Profile:
    figures = _control(port, f"/__profile__/dump/{name}")
    stats = pstats.Stats(str(profdir / f"{name}-main.prof"))
    django = profdir / f"{name}-django.prof"
    if django.exists():
        stats.add(str(django))
    cpu = {
        "process": figures["process_cpu"],
        "main_thread": figures["main_thread_cpu"],
        "django": figures["django_cpu"],
        "other": figures["other_cpu"],
    }
    profile = Profile(name, title, operations, stats, cpu)
    if figures["requests"] != operations:
        profile.notes.append(f"the Django thread saw {figures['requests']} requests")
    return profile


def _profiling_server(ctx, profdir: Path):
    from .http import serve

    return serve(
        ctx.workdir,
        ctx.db.url,
        count=1,
        application="bench.profiling:application",
        extra_env={"BENCH_PROFILE": "1", "BENCH_PROFILE_DIR": str(profdir)},
    )


def completion_http(ctx, profdir: Path) -> Profile:
    from . import district
    from .http import Client, run_load
    from .scenarios.completion import ready

    n, k = ctx.size["completions"], ctx.size["clients"][0]
    saved = ready(ctx)
    d = district.load()
    dept_ids = sorted(saved)
    owners: dict[int, list[int]] = {}
    for i in range(k):
        owners.setdefault(dept_ids[i % len(dept_ids)], []).append(i)
    per_client = n // k + 1  # the first one is the warm-up
    work: list[list[int]] = [[] for _ in range(k)]
    for dept, clients_of in owners.items():
        for j, pk in enumerate(saved[dept][: per_client * len(clients_of)]):
            work[clients_of[j % len(clients_of)]].append(pk)
    with _profiling_server(ctx, profdir) as servers:
        port = servers.ports[0]
        clients = [Client(port) for _ in range(k)]
        for i, client in enumerate(clients):
            client.log_in(d.staff[dept_ids[i % len(dept_ids)]].username, district.PASSWORD)
        warm = run_load(clients, [[lambda c, pk=w[0]: c.post(f"/api/evaluations/self/{pk}/submit/")] for w in work])
        _control(port, "/__profile__/reset")
        load = run_load(
            clients, [[lambda c, pk=pk: c.post(f"/api/evaluations/self/{pk}/submit/") for pk in w[1:]] for w in work]
        )
        for client in clients:
            client.close()
        profile = _server_profile(
            port, profdir, "completion-http", f"Task completion over HTTP in daphne ({k} clients)", load.ok
        )
    errors = warm.errors + load.errors
    if errors:
        profile.notes.append(f"{len(errors)} error(s), e.g. {errors[0][:200]}")
    return profile


LIST_TARGETS = {"inbox": "inbox", "project list": "projects", "deadline board": "board"}


def lists(ctx, profdir: Path) -> list[Profile]:
    from viewflow.workflow.models import Task

    from .scenarios.lists import PAGES, _history, _open_work, log_in

    small, large = ctx.size["list_tasks"]
    n, warmup = ctx.size["list_requests"], ctx.size["list_warmup"]
    ctx.district()
    ctx.state(f"lists-{small}", lambda: _open_work(small), base="district")
    profiles: list[Profile] = []
    with _profiling_server(ctx, profdir) as servers:
        port = servers.ports[0]
        for tasks in (small, large):
            if tasks == large:
                _history(large - small)
            assert Task.objects.count() == tasks, Task.objects.count()
            clients = log_in(port)
            for page, path, who in PAGES:
                client = clients[who]
                expected = 302 if path == "/accounts/login/" else 200
                for _ in range(warmup):
                    client.get(path)
                _control(port, "/__profile__/reset")
                for _ in range(n):
                    answer = client.get(path)
                    if answer.status != expected:
                        raise AssertionError(f"{path} as {who}: HTTP {answer.status}")
                name = f"{LIST_TARGETS.get(page, 'trivial')}-{tasks}"
                title = f"GET {path} as {who}, {tasks:,} tasks (in daphne)"
                profiles.append(_server_profile(port, profdir, name, title, n))
            for client in clients.values():
                client.close()
    return profiles


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    started = time.perf_counter()
    load_before = os.getloadavg()
    from .run import bench_context

    with bench_context(smoke=args.smoke, runs=1) as ctx:
        from django.conf import settings

        out: Path = args.out
        out.mkdir(parents=True, exist_ok=True)
        vendor = ctx.report.database["vendor"]
        stem = f"{datetime.now(UTC).date().isoformat()}-{vendor}"
        commit, dirty = git_commit()
        profdir = ctx.workdir / "profiles"
        profiles: list[Profile] = []

        def header() -> list[str]:
            return [
                f"- {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit}{' (uncommitted changes)' if dirty else ''}, "
                f"{'smoke size' if args.smoke else 'full size'}",
                f"- database: {ctx.report.database['description']}; channel layer "
                f"{settings.CHANNEL_LAYERS['default']['BACKEND'].rsplit('.', 1)[-1]}",
                f"- machine: {os.cpu_count()} cores, load average {load_before[0]:.2f} at the start, "
                f"{os.getloadavg()[0]:.2f} now (other processes share the cores)",
                "- cProfile timed by each thread's CPU clock; the profiler's own cost inflates every figure",
            ]

        for name in args.names:
            print(f"--- {name}", flush=True)
            if name == "completion":
                done = [completion_in_process(ctx, out, stem, html=args.html)]
            elif name == "completion-http":
                done = [completion_http(ctx, profdir)]
            else:
                done = lists(ctx, profdir)
            for profile in done:  # each target's tables as soon as it is done
                print(f"written: {write(profile, out, stem, header())}", flush=True)
            profiles.extend(done)
        text = summary(profiles, header())
        (out / f"{stem}.md").write_text(text)
        print(text)
        print(f"written: {out / f'{stem}.md'}")
        shutil.rmtree(profdir, ignore_errors=True)
    print(f"\nprofile: {len(args.names)} target(s) in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
