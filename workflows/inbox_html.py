"""The inbox's rows written in Python (issue 20): the row template rendered ~45 nodes, an
include and a dozen escapes per row — most of the inbox page's template time. The HTML
is exactly what templates/workflows/inbox_rows.html's row and workflows/task_state.html
wrote (tests render both and compare), so the page and its live-refresh fragment
(?rows=1) are unchanged."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from processes.templatetags.jixiao import cst

from .selectors import InboxRow
from .task_status import QUEUED
from .text import esc


def task_state_html(row: InboxRow) -> str:
    """workflows/task_state.html for ``row`` (its trailing newline included)."""
    state = esc(row.state)
    queue = f' <span class="muted small">{esc(row.queue)}</span>' if row.state == QUEUED and row.queue else ""
    return f'<span class="badge badge-task-{state}" data-task-state="{state}">{esc(row.state_label)}</span>{queue}\n'


def inbox_row_html(row: InboxRow, tags: dict[str, str]) -> SafeString:
    """One row of the inbox's table; ``tags``: the overdue / due-soon tags, translated once
    per page (see set_rows_html)."""
    code = f'<span class="muted">{esc(row.subject_code)}</span> ' if row.subject_code else ""
    return mark_safe(  # noqa: S308 -- every value below is escaped
        f"""
      <tr class="{esc(row.due_state)}" data-testid="{"task-row" if row.task else "step-row"}" data-kind="{esc(row.kind)}" data-task="{esc(row.key)}">
        <td><a href="{esc(row.url)}" data-testid="task-link">{esc(row.title)}</a></td>
        <td>{code}{esc(row.subject)}</td>
        <td>{esc(row.department)}</td>
        <td>{esc(row.action)}</td>
        <td class="nowrap">{esc(cst(row.due) or "—")}{tags.get(row.due_state, "")}</td>
        <td>{task_state_html(row)}</td>
      </tr>
"""
    )


def set_rows_html(rows: Iterable[InboxRow]) -> None:
    """Give each row its ``html`` (what templates/workflows/inbox_rows.html writes for it)."""
    tags = {
        "overdue": f' <span class="tag-overdue">{esc(gettext("已逾期"))}</span>',
        "due-soon": f' <span class="tag-due-soon">{esc(gettext("即将到期"))}</span>',
    }
    for row in rows:
        row.html = inbox_row_html(row, tags)  # type: ignore[attr-defined]
