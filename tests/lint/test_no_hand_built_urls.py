"""URLs by ``reverse`` / ``obj.get_absolute_url()`` (issue 17, item 6): no path is built as
an f-string in the domain, interaction or report code, so moving a screen (its URL) never
leaves a stale link behind in an inbox, a reminder or a notice."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PATH_FSTRING = re.compile(r"""\bf["']/""")


def test_no_url_path_is_an_fstring_when_code_links_to_an_object():
    found = []
    for app in ("processes", "workflows", "reports", "notifications", "accounts"):
        for path in sorted((ROOT / app).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            if "/migrations/" in name:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if PATH_FSTRING.search(line):
                    found.append(f"{name}:{number}: {line.strip()}")
    assert not found, "build URLs with reverse() or get_absolute_url():\n" + "\n".join(found)
