"""审议意见落实情况 (issue 19): a year's table of the people's congress committee's review
opinions and how each item was carried out — the screen, its XLSX and its print page.

Who: the readers of the whole table (``processes.read_committee_opinions``: the finance
section, supervisors, auditors and the congress reader 人大预算工委); anyone else 403. The
page costs the same number of queries whatever the number of rows (two reads)."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext
from django.views.decorators.http import require_GET
from openpyxl import Workbook

from processes.clock import deadline_clock
from processes.committee_selectors import YearTable, year_table
from processes.files import xlsx_response
from processes.permissions.committee import can_read_all, can_record

from .exports import BOX, HEADER_FILL, WRAP, _append, _heading, _style_row
from .selectors import valid_year
from .titles import district_name


def _check(request: HttpRequest, year: int) -> None:
    if not can_read_all(request.user):  # type: ignore[arg-type]
        raise PermissionDenied(_("只有财政绩效科、督办、审计人员和人大预算工委可以查看审议意见落实情况。"))
    if not valid_year(year):
        raise Http404(_("年度无效。"))


def table_title(year: int) -> str:
    return _("%(district)s %(year)s 年度绩效评价报告审议意见落实情况") % {"district": district_name(), "year": year}


def _context(request: HttpRequest, table: YearTable) -> dict[str, Any]:
    return {
        "table": table,
        "year": table.year,
        "title": table_title(table.year),
        "may_record": can_record(request.user),  # type: ignore[arg-type]
        "rows": [(o, [(i, item_clock(i, table.now)) for i in o.items.all()]) for o in table.opinions],
    }


def item_clock(item, now) -> str:
    """剩余 / 逾期 of an open item; empty once accepted."""
    if not item.is_open:
        return ""
    overdue, days = deadline_clock(item.deadline, now)
    if overdue:
        return ngettext("逾期 %(n)s 天", "逾期 %(n)s 天", days) % {"n": days}
    return ngettext("剩余 %(n)s 天", "剩余 %(n)s 天", days) % {"n": days}


@login_required
@require_GET
def committee_opinions(request: HttpRequest, year: int) -> HttpResponse:
    """The year's opinions, each with its items: assignee, deadline, state, response."""
    _check(request, year)
    return render(request, "reports/committee.html", _context(request, year_table(year)))


@login_required
@require_GET
def committee_opinions_print(request: HttpRequest, year: int) -> HttpResponse:
    _check(request, year)
    return render(request, "reports/committee_print.html", _context(request, year_table(year)))


HEADERS = [
    gettext_noop("序号"),
    gettext_noop("审议意见"),
    gettext_noop("审议会议日期"),
    gettext_noop("审议意见事项"),
    gettext_noop("承办单位"),
    gettext_noop("办理期限"),
    gettext_noop("状态"),
    gettext_noop("落实情况"),
    gettext_noop("佐证材料（个）"),
    gettext_noop("验收意见"),
    gettext_noop("剩余 / 逾期"),
]


def committee_opinions_xlsx_bytes(table: YearTable) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _("审议意见落实情况")
    headers = [_(h) for h in HEADERS]
    _heading(sheet, table_title(table.year), len(headers), "")
    row = _append(sheet, headers)
    _style_row(sheet, row, fill=HEADER_FILL)
    n = 0
    for opinion in table.opinions:
        for item in opinion.items.all():
            n += 1
            row = _append(
                sheet,
                [
                    n,
                    opinion.title,
                    opinion.session_date.isoformat(),
                    item.requirement,
                    item.assignee_name,
                    timezone.localtime(item.deadline).strftime("%Y-%m-%d"),
                    item.get_status_display(),
                    item.response,
                    getattr(item, "evidence_count", 0),
                    item.review_comment,
                    item_clock(item, table.now),
                ],
            )
            for cell in sheet[row]:
                cell.border, cell.alignment = BOX, WRAP
    for column, width in zip("ABCDEFGHIJK", (6, 24, 12, 40, 16, 12, 12, 40, 10, 24, 12), strict=True):
        sheet.column_dimensions[column].width = width
    out = BytesIO()
    book.save(out)
    return out.getvalue()


@login_required
@require_GET
def committee_opinions_xlsx(request: HttpRequest, year: int) -> HttpResponse:
    _check(request, year)
    content = committee_opinions_xlsx_bytes(year_table(year))
    return xlsx_response(content, f"{table_title(year)}.xlsx", fallback=f"committee-opinions-{year}.xlsx")
