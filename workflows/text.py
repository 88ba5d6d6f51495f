"""HTML text for the rows written in Python (workflows/inbox_html.py, the project list's
ProjectRows)."""

from __future__ import annotations

from html import escape as _escape
from typing import Any


def esc(value: Any) -> str:
    """What ``{{ value }}`` writes for a value already made text — Django's
    ``conditional_escape`` (safe text as it is, anything else through ``html.escape``, as
    Django's ``escape`` does) without its lazy-text wrapper, which costs more than the
    escaping on a list's hundreds of cells."""
    html = getattr(value, "__html__", None)
    if html is not None:
        return html()
    return _escape(str(value))
