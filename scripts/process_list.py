"""The production process list: the Procfile at the repository root is the one source.

- ``scripts/prod-up`` runs it under honcho (one machine);
- ``deploy/*.service`` (systemd, a real server) are generated from it:
  ``python3 scripts/process_list.py --write`` rewrites them, ``--check`` fails when they
  drift (tests/infra/test_process_list.py runs the check in ``make test``);
- tests/production starts each entry as a process of its own (``command``).

Only the standard library and honcho's Procfile parser (when installed) are used, so the
script runs before the virtualenv has everything.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROCFILE = ROOT / "Procfile"
DEPLOY = ROOT / "deploy"

#: Where the application lives on a server (docs/deployment.md).
APP_DIR = "/srv/jixiao/app"
LINE = re.compile(r"^([A-Za-z0-9_-]+):\s*(.+)$")

#: The systemd unit of each Procfile entry: file name, description, and whether it is a
#: template instantiated once per port (web@8001, web@8002, …).
UNITS = {
    "web": ("jixiao-web@.service", "Jixiao web (daphne) on port %i", True),
    "worker": ("jixiao-worker.service", "Jixiao Celery worker (e-mail, jobs, periodic tasks)", False),
    "beat": ("jixiao-beat.service", "Jixiao Celery beat (flow timers, reminders, e-mail sweep; once per site)", False),
}


def processes(procfile: Path = PROCFILE) -> dict[str, str]:
    """{name: command} of the Procfile, in order (honcho's own parser when available)."""
    text = procfile.read_text(encoding="utf-8")
    try:
        from honcho.environ import parse_procfile
    except ImportError:  # honcho not installed yet: the same grammar
        return {m.group(1): m.group(2) for m in map(LINE.match, text.splitlines()) if m}
    return dict(parse_procfile(text).processes)


def command(name: str, *, port: int | None = None, env: dict[str, str] | None = None) -> list[str]:
    """The argv of Procfile entry ``name`` with ``$PORT`` (and other variables of ``env``)
    expanded, as a shell would; relative paths stay relative to the repository root."""
    cmd = processes()[name]
    values = dict(os.environ if env is None else env)
    if port is not None:
        values["PORT"] = str(port)

    def expand(match: re.Match) -> str:
        key = match.group(1) or match.group(2)
        if key not in values:
            raise KeyError(f"Procfile entry {name!r} needs ${key}")
        return values[key]

    return shlex.split(re.sub(r"\$\{(\w+)\}|\$(\w+)", expand, cmd))


def unit(name: str, cmd: str) -> str:
    """The systemd unit of one Procfile entry."""
    filename, description, templated = UNITS[name]
    argv = shlex.split(cmd.replace("$PORT", "%i"))
    argv = [f"{APP_DIR}/{a}" if a.startswith(".venv/") else a for a in argv]
    exec_start = " ".join(argv)
    lines = [
        "# Generated from the Procfile by scripts/process_list.py --write; do not edit by hand.",
        "[Unit]",
        f"Description={description}",
        "After=network.target postgresql.service redis-server.service",
        "PartOf=jixiao.target",
        "",
        "[Service]",
        "Type=simple",
        "User=jixiao",
        "Group=jixiao",
        f"WorkingDirectory={APP_DIR}",
        f"EnvironmentFile={APP_DIR}/.env",
        "Environment=DJANGO_SETTINGS_MODULE=config.settings.prod",
        f"ExecStart={exec_start}",
        "Restart=on-failure",
        "RestartSec=2",
        # a worker finishing its e-mails gets time to do so (acks_late re-delivers the rest)
        "TimeoutStopSec=30",
        "KillMode=mixed",
        "",
        "[Install]",
        "WantedBy=jixiao.target",
        "",
    ]
    if templated:
        lines.insert(1, "# One instance per port: systemctl enable --now jixiao-web@8001 jixiao-web@8002")
    return "\n".join(lines)


def target() -> str:
    return "\n".join(
        [
            "# Generated from the Procfile by scripts/process_list.py --write; do not edit by hand.",
            "[Unit]",
            "Description=Jixiao (every web, worker and beat unit)",
            "Wants=" + " ".join(UNITS[n][0] for n in UNITS if not UNITS[n][2]),
            "",
            "[Install]",
            "WantedBy=multi-user.target",
            "",
        ]
    )


def units() -> dict[str, str]:
    """{file name: content} of every unit deploy/ must hold."""
    procs = processes()
    missing = set(procs) ^ set(UNITS)
    if missing:
        raise SystemExit(f"Procfile and scripts/process_list.py UNITS disagree on: {', '.join(sorted(missing))}")
    out = {UNITS[name][0]: unit(name, cmd) for name, cmd in procs.items()}
    out["jixiao.target"] = target()
    return out


def drift() -> list[str]:
    """What differs between deploy/ and the units the Procfile gives (empty: in step)."""
    problems = []
    for filename, content in units().items():
        path = DEPLOY / filename
        if not path.exists():
            problems.append(f"deploy/{filename} is missing")
        elif path.read_text(encoding="utf-8") != content:
            problems.append(f"deploy/{filename} differs from the Procfile's")
    expected = set(units())
    for path in sorted(DEPLOY.glob("*.service")) + sorted(DEPLOY.glob("*.target")):
        if path.name not in expected:
            problems.append(f"deploy/{path.name} is not in the Procfile")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", action="store_true", help="(re)write deploy/*.service from the Procfile")
    group.add_argument("--check", action="store_true", help="exit 1 when deploy/ differs from the Procfile")
    group.add_argument("--names", action="store_true", help="print the Procfile's process names")
    args = parser.parse_args(argv)
    if args.names:
        print(" ".join(processes()))
        return 0
    if args.write:
        DEPLOY.mkdir(exist_ok=True)
        for filename, content in units().items():
            (DEPLOY / filename).write_text(content, encoding="utf-8")
            print(f"wrote deploy/{filename}")
        return 0
    problems = drift()
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print("run: python3 scripts/process_list.py --write", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
