"""The annual report as an XLSX workbook (DESIGN §4): 汇总 (the figures of the report's §一
and §二), 事前评估 (per project with its conclusion), and the three attachments — 附件1 复核,
附件2 重点评价 (with findings and suggestions), 附件3 部门整体 — each with its title, totals and
figures below the table.

Amounts are 万元 and rates percent, both rounded half up to two places before they are
written (``in_wan``, ``rate_pct``), so a cell holds exactly what the screen shows and
Excel's own (binary) rounding never changes a figure. The public workbook (a disclosed
year's) leaves out the per-project pre-assessment sheet and the import's file name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from io import BytesIO
from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from processes.files import xlsx_response
from processes.scoring import rate_pct
from processes.states import Conclusion, Grade
from processes.units import in_wan, in_yi

from .figures import GRADES, AnnualReport, ProjectTable
from .titles import department_title, key_evaluation_title, recheck_title, report_title

AMOUNT = "#,##0.00"
PERCENT = '0.00"%"'  # the cell holds 15.15, already rounded half up, not 0.1515
SCORE = "0.00"
COUNT = "0"

ZERO = Decimal("0.00")
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)
HEADER_FILL = PatternFill("solid", fgColor="F0F3F6")
THIN = Side(style="thin", color="D9DEE4")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="top")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)

#: The attachments' header row (below the title and the unit line).
HEADER_ROW = 3


def pct(rate: Decimal | None) -> Decimal:
    """A rate as the report shows it: percent, two places; none (no denominator) is 0.00."""
    return ZERO if rate is None else rate


def grade_label(grade: str) -> str:
    return str(Grade(grade).label) if grade else ""


def band_labels() -> dict[str, str]:
    """The completion bands of 附件1 and 附件2 (预算完成率), as the reference report says them."""
    return {
        "full": _("预算完成率为100%的项目"),
        "at_least_90": _("预算完成率为90%–100%的项目"),
        "below_90": _("预算完成率为90%以下的项目"),
    }


def numbered(texts: Sequence[str]) -> str:
    """Findings or suggestions in one cell: "1. …" a line each (a single one unnumbered)."""
    if len(texts) == 1:
        return texts[0]
    return "\n".join(f"{n}. {text}" for n, text in enumerate(texts, start=1))


# -- cells ------------------------------------------------------------------------------------


def _append(sheet: Worksheet, values: Iterable[Any], formats: Sequence[str | None] = ()) -> int:
    """Append a row; number formats by column (None: none). Text that begins with "=" stays
    text, never a formula the reader's Excel would run. Returns the row's number."""
    sheet.append(list(values))
    row = sheet.max_row
    for index, cell in enumerate(sheet[row]):
        if cell.data_type == "f":
            cell.data_type = "s"
        if index < len(formats) and formats[index] and cell.value is not None:
            cell.number_format = formats[index]
    return row


def _style_row(sheet: Worksheet, row: int, *, font: Font | None = None, fill: PatternFill | None = None) -> None:
    for cell in sheet[row]:
        if font is not None:
            cell.font = font
        if fill is not None:
            cell.fill = fill
        cell.border = BOX
        cell.alignment = CENTER if fill is not None else WRAP


def _heading(sheet: Worksheet, title: str, columns: int, unit: str) -> None:
    """The title (merged over the table's width) and the unit line."""
    sheet.append([title])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=columns)
    sheet["A1"].font = TITLE
    sheet["A1"].alignment = Alignment(horizontal="center", vertical="center")
    sheet.row_dimensions[1].height = 28
    sheet.append([unit])
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=columns)
    sheet["A2"].alignment = Alignment(horizontal="right")


def _table_sheet(
    sheet: Worksheet,
    *,
    title: str,
    header: Sequence[str],
    widths: Sequence[int],
    unit: str | None = None,
) -> None:
    _heading(sheet, title, len(header), unit or _("金额单位：万元"))
    _style_row(sheet, _append(sheet, header), font=BOLD, fill=HEADER_FILL)
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = f"A{HEADER_ROW + 1}"
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True


def _figure_rows(sheet: Worksheet, rows: Sequence[tuple[str, Any, str]], *, label_column: int = 2) -> None:
    """Figures below a table: a label and its value, one a row, after a blank row."""
    sheet.append([])
    for label, value, number_format in rows:
        values: list[Any] = [None] * (label_column - 1) + [label, value]
        formats: list[str | None] = [None] * label_column + [number_format]
        _append(sheet, values, formats)
        sheet.cell(row=sheet.max_row, column=label_column).font = BOLD


# -- the sheets -------------------------------------------------------------------------------


def source_line(report: AnnualReport, *, public: bool) -> str:
    """Where the year's figures come from: the system, or an import (its file name only
    inside the bureau)."""
    if report.history is None:
        return _("数据来源：系统数据")
    date = report.history.imported_at.date().isoformat()
    if public:
        return _("数据来源：历史导入（%(date)s）") % {"date": date}
    return _("数据来源：历史导入 %(file)s（%(date)s）") % {"file": report.history.file_name, "date": date}


def _summary(sheet: Worksheet, report: AnnualReport, *, public: bool) -> None:
    """汇总: one figure a row — section, item, value, unit."""
    wan, yi, pct_unit, count_unit = _("万元"), _("亿元"), "%", _("个")
    _heading(sheet, report_title(report.year), 4, source_line(report, public=public))
    _style_row(sheet, _append(sheet, [_("类别"), _("指标"), _("数值"), _("单位")]), font=BOLD, fill=HEADER_FILL)
    rows: list[tuple[str, str, Any, str]] = []

    library = report.indicator_library
    section = _("预算绩效指标库")
    rows += [
        (section, _("指标总数"), library.total, _("条")),
        (section, _("通用类指标"), library.general, _("条")),
        (section, _("部门个性化指标"), library.department_specific, _("条")),
    ]

    pre = report.pre_assessment
    section = _("事前绩效评估")
    rows += [
        (section, _("评估项目数"), pre.projects, count_unit),
        (section, _("送审金额"), in_wan(pre.requested), wan),
        (section, _("审定金额"), in_wan(pre.approved), wan),
        (section, _("核减金额"), in_wan(pre.reduction), wan),
        (section, _("核减率"), pct(pre.reduction_rate), pct_unit),
    ]
    rows += [(section, str(label), pre.conclusions[value], count_unit) for value, label in Conclusion.choices]

    se = report.self_evaluation
    section = _("全面自评")
    rows += [
        (section, _("自评预算部门"), se.departments, count_unit),
        (section, _("自评预算项目"), se.projects, count_unit),
    ]
    for grade in GRADES:
        rows.append((section, _("%(grade)s等次项目") % {"grade": grade_label(grade)}, se.grades[grade], count_unit))
        rows.append(
            (
                section,
                _("%(grade)s等次占比") % {"grade": grade_label(grade)},
                pct(rate_pct(se.grades[grade], se.projects)),
                pct_unit,
            )
        )
    rows += [
        (section, _("优良等次项目"), se.excellent_or_good, count_unit),
        (section, _("优良率"), pct(se.excellent_or_good_rate), pct_unit),
    ]

    for section, table in ((_("自评复核（附件1）"), report.recheck), (_("重点评价（附件2）"), report.key_evaluation)):
        rows += _table_figures(section, table)

    departments = report.department_evaluation
    section = _("部门整体绩效评价（附件3）")
    rows += [
        (section, _("评价部门数"), departments.departments, count_unit),
        (section, _("预算数"), in_wan(departments.budget), wan),
        (section, _("执行数"), in_wan(departments.executed), wan),
    ]

    rows.append((_("专家建议"), _("专家建议"), report.expert_suggestions, _("条")))
    evaluated = report.evaluated
    section = _("绩效评价范围")
    rows += [
        (section, _("评价项目数"), evaluated.projects, count_unit),
        (section, _("部门整体评价"), evaluated.departments, count_unit),
        (section, _("涉及财政资金"), in_wan(evaluated.amount), wan),
        (section, _("涉及财政资金"), in_yi(evaluated.amount), yi),
    ]

    formats = {wan: AMOUNT, yi: AMOUNT, pct_unit: PERCENT}
    for category, item, value, unit in rows:
        row = _append(sheet, [category, item, value, unit], [None, None, formats.get(unit, COUNT), None])
        _style_row(sheet, row)
    for column, width in zip("ABCD", (26, 26, 16, 8), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = f"A{HEADER_ROW + 1}"


def _table_figures(section: str, table: ProjectTable) -> list[tuple[str, str, Any, str]]:
    wan, pct_unit, count_unit = _("万元"), "%", _("个")
    rows: list[tuple[str, str, Any, str]] = [
        (section, _("部门数"), table.departments, count_unit),
        (section, _("项目数"), table.projects, count_unit),
        (section, _("预算数"), in_wan(table.budget), wan),
        (section, _("执行数"), in_wan(table.executed), wan),
        (section, _("总体预算完成率"), pct(table.completion_rate), pct_unit),
    ]
    grades = table.grades
    rows += [(section, _("%(grade)s等次项目") % {"grade": grade_label(g)}, grades[g], count_unit) for g in GRADES]
    rows.append((section, _("项目优良率"), pct(table.excellent_or_good_rate), pct_unit))
    labels = band_labels()
    rows += [(section, labels[band], n, count_unit) for band, n in table.completion.items()]
    return rows


def _pre_assessment(sheet: Worksheet, report: AnnualReport) -> None:
    pre = report.pre_assessment
    header = [
        _("序号"),
        _("预算部门"),
        _("项目编码"),
        _("项目名称"),
        _("评估机构"),
        _("送审金额"),
        _("审定金额"),
        _("核减金额"),
        _("核减率（%）"),
        _("评估结论"),
    ]
    _table_sheet(
        sheet,
        title=_("%(year)s 年度事前绩效评估汇总表") % {"year": report.year},
        header=header,
        widths=(6, 22, 16, 36, 24, 14, 14, 14, 12, 14),
    )
    formats = [COUNT, None, None, None, None, AMOUNT, AMOUNT, AMOUNT, PERCENT, None]
    for number, row in enumerate(pre.rows, start=1):
        values = [
            number,
            row.department,
            row.project_code,
            row.project_name,
            row.agency,
            in_wan(row.requested),
            in_wan(row.approved),
            in_wan(row.reduction),
            pct(row.reduction_rate),
            row.get_conclusion_display(),
        ]
        _style_row(sheet, _append(sheet, values, formats))
    totals = [
        None,
        _("合计"),
        None,
        _("%(n)s 个项目") % {"n": pre.projects},
        None,
        in_wan(pre.requested),
        in_wan(pre.approved),
        in_wan(pre.reduction),
        pct(pre.reduction_rate),
        None,
    ]
    _style_row(sheet, _append(sheet, totals, formats), font=BOLD)
    _figure_rows(sheet, [(str(label), pre.conclusions[value], COUNT) for value, label in Conclusion.choices])


def _project_table(sheet: Worksheet, table: ProjectTable, *, title: str, findings: bool) -> None:
    """附件1 or 附件2: a row per project, the totals, then 优良率, the grades and the bands."""
    header = [
        _("序号"),
        _("预算部门"),
        _("项目编码"),
        _("项目名称"),
        _("预算数"),
        _("执行数"),
        _("预算完成率（%）"),
        _("评价得分"),
        _("绩效等级"),
    ]
    widths = [6, 22, 16, 36, 14, 14, 14, 10, 10]
    if findings:
        header += [_("主要问题"), _("意见建议")]
        widths += [48, 48]
    _table_sheet(sheet, title=title, header=header, widths=widths)
    formats = [COUNT, None, None, None, AMOUNT, AMOUNT, PERCENT, SCORE, None, None, None]
    for number, row in enumerate(table.rows, start=1):
        values: list[Any] = [
            number,
            row.department,
            row.project_code,
            row.project_name,
            in_wan(row.budget),
            in_wan(row.executed),
            pct(row.completion_rate),
            row.score,
            row.get_grade_display(),
        ]
        if findings:
            values += [numbered(row.findings), numbered(row.suggestions)]
        _style_row(sheet, _append(sheet, values, formats))
    totals: list[Any] = [
        None,
        _("合计"),
        None,
        _("%(departments)s 个部门 %(projects)s 个项目")
        % {"departments": table.departments, "projects": table.projects},
        in_wan(table.budget),
        in_wan(table.executed),
        pct(table.completion_rate),
        None,
        None,
    ]
    if findings:
        totals += [None, None]
    _style_row(sheet, _append(sheet, totals, formats), font=BOLD)
    grades = table.grades
    labels = band_labels()
    _figure_rows(
        sheet,
        [
            (_("项目优良率（%）"), pct(table.excellent_or_good_rate), PERCENT),
            (_("总体预算完成率（%）"), pct(table.completion_rate), PERCENT),
            *[(_("%(grade)s等次项目") % {"grade": grade_label(g)}, grades[g], COUNT) for g in GRADES],
            *[(labels[band], n, COUNT) for band, n in table.completion.items()],
        ],
    )


def _department_table(sheet: Worksheet, report: AnnualReport) -> None:
    table = report.department_evaluation
    header = [_("序号"), _("部门"), _("预算数"), _("执行数"), _("预算完成率（%）"), _("综合得分"), _("绩效等级")]
    _table_sheet(sheet, title=department_title(report.year), header=header, widths=(6, 30, 16, 16, 16, 12, 10))
    formats = [COUNT, None, AMOUNT, AMOUNT, PERCENT, SCORE, None]
    for number, row in enumerate(table.rows, start=1):
        values = [
            number,
            row.department,
            in_wan(row.budget),
            in_wan(row.executed),
            pct(row.completion_rate),
            row.score,
            row.get_grade_display(),
        ]
        _style_row(sheet, _append(sheet, values, formats))
    totals = [
        None,
        _("合计（%(n)s 个部门）") % {"n": table.departments},
        in_wan(table.budget),
        in_wan(table.executed),
        pct(rate_pct(table.executed, table.budget)),
        None,
        None,
    ]
    _style_row(sheet, _append(sheet, totals, formats), font=BOLD)


def annual_report_xlsx(report: AnnualReport, *, public: bool = False) -> bytes:
    """The workbook of ``report`` (see the module's docstring); ``public`` for the public page."""
    book = Workbook()
    summary = book.active
    assert summary is not None  # a new workbook has one sheet
    summary.title = _("汇总")
    _summary(summary, report, public=public)
    if not public:
        _pre_assessment(book.create_sheet(_("事前评估")), report)
    _project_table(book.create_sheet(_("附件1 复核")), report.recheck, title=recheck_title(report.year), findings=False)
    _project_table(
        book.create_sheet(_("附件2 重点评价")),
        report.key_evaluation,
        title=key_evaluation_title(report.year),
        findings=True,
    )
    _department_table(book.create_sheet(_("附件3 部门整体")), report)
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def xlsx_filename(report: AnnualReport) -> str:
    return f"{report_title(report.year)}.xlsx"


def annual_report_response(report: AnnualReport, *, public: bool = False) -> HttpResponse:
    return xlsx_response(
        annual_report_xlsx(report, public=public),
        xlsx_filename(report),
        fallback=f"annual-report-{report.year}.xlsx",
    )
