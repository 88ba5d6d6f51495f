"""Recorded runs side by side, as the Markdown tables of docs/performance.md:

    .venv/bin/python -m bench.markdown bench/results/<date>-sqlite.json bench/results/<date>-postgresql.json
    .venv/bin/python -m bench.markdown --targets A.json B.json   # every target in one table

One table per scenario: each figure's median and [min–max] per run file, then the
ratios and the targets. Reads only the JSON files (no Django, no database)."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _num(value: float) -> str:
    if value == int(value):
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def cell(figure: dict | None) -> str:
    if figure is None:
        return "—"
    median = f"**{_num(figure['median'])}**"
    if figure["min"] != figure["max"]:
        median += f" [{_num(figure['min'])}–{_num(figure['max'])}]"
    return median


def tables(runs: list[dict]) -> str:
    heads = [r["database"]["description"].split(" (")[0] for r in runs]
    out: list[str] = []
    names: list[str] = []
    for r in runs:
        for name in r["scenarios"]:
            if name not in names:
                names.append(name)
    for name in names:
        scenarios = [r["scenarios"].get(name) for r in runs]
        first = next(s for s in scenarios if s)
        out.append(f"### {first['title']}\n")
        out.append("| Figure | Unit | " + " | ".join(heads) + " |")
        out.append("|---|---|" + "---|" * len(runs))
        figure_names: list[tuple[str, str]] = []
        for s in scenarios:
            for f in (s or {}).get("figures", []):
                if (f["name"], f["unit"]) not in figure_names:
                    figure_names.append((f["name"], f["unit"]))
        for fname, unit in figure_names:
            cells = []
            for s in scenarios:
                found = next((f for f in (s or {}).get("figures", []) if f["name"] == fname), None)
                cells.append(cell(found))
            out.append(f"| {fname} | {unit} | " + " | ".join(cells) + " |")
        ratio_names: list[str] = []
        for s in scenarios:
            for rname in (s or {}).get("ratios", {}):
                if rname not in ratio_names:
                    ratio_names.append(rname)
        for rname in ratio_names:
            cells = [_num(s["ratios"][rname]) if s and rname in s["ratios"] else "—" for s in scenarios]
            out.append(f"| ratio: {rname} | | " + " | ".join(cells) + " |")
        target_names: list[tuple[str, str]] = []
        for s in scenarios:
            for t in (s or {}).get("targets", []):
                if (t["name"], t["goal"]) not in target_names:
                    target_names.append((t["name"], t["goal"]))
        for tname, goal in target_names:
            cells = []
            for s in scenarios:
                t = next((t for t in (s or {}).get("targets", []) if t["name"] == tname), None)
                mark = {True: "met", False: "**missed**", None: "not judged"}[t["met"]] if t else ""
                cells.append(f"{t['value']} ({mark})" if t else "—")
            out.append(f"| target: {tname} | {goal} | " + " | ".join(cells) + " |")
        out.append("")
    return "\n".join(out)


def targets(runs: list[dict]) -> str:
    """Every scenario's targets in one table (``--targets``): goal, then per run file the
    value with ✔ (met), ✘ (missed) or no mark (not judged, e.g. a smoke run)."""
    heads = [r["database"]["description"].split(" (")[0] for r in runs]
    out = ["| Target | Goal | " + " | ".join(heads) + " |", "|---|---|" + "---|" * len(runs)]
    rows: list[tuple[str, str, str]] = []
    for r in runs:
        for sname, s in r["scenarios"].items():
            for t in s.get("targets", []):
                if (sname, t["name"], t["goal"]) not in rows:
                    rows.append((sname, t["name"], t["goal"]))
    for sname, tname, goal in rows:
        cells = []
        for r in runs:
            t = next((t for t in r["scenarios"].get(sname, {}).get("targets", []) if t["name"] == tname), None)
            mark = {True: " ✔", False: " ✘", None: ""}[t["met"]] if t else ""
            cells.append(f"{t['value']}{mark}" if t else "—")
        out.append(f"| {tname} | {goal} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    only_targets = "--targets" in argv
    argv = [a for a in argv if a != "--targets"]
    if not argv:
        print(__doc__)
        return 2
    runs = [json.loads(Path(p).read_text()) for p in argv]
    print(targets(runs) if only_targets else tables(runs))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
