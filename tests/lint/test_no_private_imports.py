"""An app uses another app's public API only (issue 17, item 7): no ``from other_app… import
_private`` across our apps — ``processes`` read ``accounts.services._text`` and ``_active``
before they became ``cell_text`` and ``cell_yes_no``."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("accounts", "notifications", "processes", "reports", "workflows", "config")


def _private_imports():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if not isinstance(node, ast.ImportFrom) or node.level or not node.module:
                    continue
                other = node.module.split(".")[0]
                if other == app or other not in APPS:
                    continue
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        yield f"{path.relative_to(ROOT)}:{node.lineno}: from {node.module} import {alias.name}"


def test_no_app_imports_another_apps_private_name_when_the_code_is_read():
    found = list(_private_imports())
    assert not found, "make it public API, or move it:\n" + "\n".join(found)
