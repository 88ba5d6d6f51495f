"""The annual report as an XLSX workbook (DESIGN §4): 汇总 (the figures of the report's §一
and §二), 事前评估 (per project with its conclusion), and the three attachments — 附件1 复核,
附件2 重点评价 (with findings and suggestions), 附件3 部门整体 — each with its title, totals and
figures below the table — and 成绩与问题, the report's narrative from data (reports.narrative).

Amounts are 万元 and rates percent, both rounded half up to two places before they are
written (``in_wan``, ``rate_pct``), so a cell holds exactly what the screen shows and
Excel's own (binary) rounding never changes a figure. The public workbook (a disclosed
year's) leaves out the per-project pre-assessment sheet, the narrative sheet (its examples
quote findings word for word) and the import's file name.

The screens' lists go out from here too, in the same look (bold headers on one fill): a
campaign's self-evaluations, a monitoring round's reports, a year's pre-assessments and the
deadline board. The views read the data through the selectors and pass it in as plain
objects; each builder returns the file's bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from io import BytesIO
from typing import Any
from zoneinfo import ZoneInfo

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from processes.files import xlsx_response
from processes.scoring import rate_pct
from processes.services.evaluation import budget_of
from processes.states import Conclusion, Grade, Light, ReportStatus, SuggestionAspect, TargetRating
from processes.units import half_up, in_wan, in_yi, percent_text

from .figures import GRADES, AnnualReport, ProjectTable
from .narrative import LIGHTS
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
    applied = report.results_application
    section = _("评价结果应用（%(year)s 年度预算）") % {"year": applied.budget_year}
    rows += [
        (section, _("延续以前年度已评价项目"), applied.projects, count_unit),
        (section, _("已决定"), applied.decided, count_unit),
        (section, _("未采纳建议"), applied.overridden, count_unit),
        (section, _("因评价结果核减预算"), in_wan(applied.cut), wan),
        (section, _("核减项目数"), applied.cut_projects, count_unit),
        (section, _("建议优先保障的项目数"), applied.priority, count_unit),
        (section, _("建议取消或调整用途的项目数"), applied.cancel, count_unit),
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


def _pre_assessment(sheet: Worksheet, report: AnnualReport, *, policies: bool = False) -> None:
    """事前绩效评估汇总表 of the projects, or with ``policies`` of the major policies (0027)."""
    pre = report.policy_pre_assessment if policies else report.pre_assessment
    header = [
        _("序号"),
        _("牵头部门") if policies else _("预算部门"),
        _("评估载体编码") if policies else _("项目编码"),
        _("政策名称") if policies else _("项目名称"),
        _("评估机构"),
        _("送审金额"),
        _("审定金额"),
        _("核减金额"),
        _("核减率（%）"),
        _("评估结论"),
    ]
    _table_sheet(
        sheet,
        title=(_("%(year)s 年度重大政策事前绩效评估汇总表") if policies else _("%(year)s 年度事前绩效评估汇总表"))
        % {"year": report.year},
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
        (_("%(n)s 项政策") if policies else _("%(n)s 个项目")) % {"n": pre.projects},
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


def _block(sheet: Worksheet, title: str, header: Sequence[str], rows: Iterable[Sequence[Any]], formats) -> None:
    """One table of the narrative sheet: a blank row, its title, its header, its rows (or
    a row saying there are none)."""
    sheet.append([])
    sheet.cell(row=_append(sheet, [title]), column=1).font = BOLD
    _style_row(sheet, _append(sheet, header), font=BOLD, fill=HEADER_FILL)
    written = 0
    for row in rows:
        _style_row(sheet, _append(sheet, row, formats))
        written += 1
    if not written:
        _append(sheet, [_("无")])


def _narrative(sheet: Worksheet, report: AnnualReport) -> None:
    """成绩与问题: 取得的成绩, 存在的问题, monitoring, target review and rectification
    (reports.narrative); for an imported year, what its workbook lacks instead."""
    narrative = report.narrative
    _heading(
        sheet,
        _("%(year)s 年度取得的成绩、存在的问题与整改情况") % {"year": report.year},
        5,
        _("金额单位：万元"),
    )
    for index, width in enumerate((30, 30, 18, 16, 16, 16, 12), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    if narrative.missing:
        _append(sheet, [_("历史导入的年度不含：") + "、".join(narrative.missing_labels)])
    else:
        _append(
            sheet, [_("根据本年度已确认的评分表、评价发现的问题、专家建议、监控报告、绩效目标审核和整改记录计算。")]
        )
    sheet.freeze_panes = "A4"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    missing = set(narrative.missing)
    if "achievements" not in missing:
        rows: list[list[Any]] = [
            [_("全区"), a.indicator, a.total, a.unit, a.projects] for a in narrative.achievements.district
        ]
        rows += [
            [d.department, a.indicator, a.total, a.unit, a.projects]
            for d in narrative.achievements.departments
            for a in d.items
        ]
        _block(
            sheet,
            _("1. 取得的成绩"),
            [_("范围"), _("指标"), _("实际完成值合计"), _("计量单位"), _("项目数")],
            rows,
            [None, None, "General", None, COUNT],
        )
    problems = narrative.problems
    if "findings" not in missing:
        _block(
            sheet,
            _("2. 存在的问题"),
            [_("问题类别"), _("问题数"), _("典型问题")],
            [
                *([c.label, c.count, numbered(c.examples)] for c in problems.categories),
                *([[_("未分类"), problems.uncategorised, ""]] if problems.uncategorised else []),
            ],
            [None, COUNT, None],
        )
    aspects = [(str(label), problems.suggestions[value]) for value, label in SuggestionAspect.choices]
    _block(
        sheet,
        _("专家建议（按方面）"),
        [_("方面"), _("建议数")],
        [*([label, n] for label, n in aspects), [_("未注明方面"), problems.suggestions["unstated"]]],
        [None, COUNT],
    )
    monitoring = narrative.monitoring
    if "monitoring" not in missing:
        lights = dict(Light.choices)
        _block(
            sheet,
            _("绩效运行监控"),
            [_("监控轮次"), *(str(lights[light]) for light in LIGHTS), _("报告数")],
            [[r.title, *(r.lights[light] for light in LIGHTS), r.reports] for r in monitoring.rounds],
            [None, *([COUNT] * (len(LIGHTS) + 1))],
        )
        _block(
            sheet,
            _("监控处置"),
            [_("处置方式"), _("项目数"), _("调整前预算"), _("调整后预算"), _("调整金额")],
            [
                [
                    _("调整预算"),
                    monitoring.adjusted.count,
                    in_wan(monitoring.adjusted_before),
                    in_wan(monitoring.adjusted_after),
                    in_wan(monitoring.adjusted.amount),
                ],
                [_("暂停项目"), monitoring.suspended.count, in_wan(monitoring.suspended.amount), None, None],
                [_("停止拨款"), monitoring.stopped.count, in_wan(monitoring.stopped.amount), None, None],
            ],
            [None, COUNT, AMOUNT, AMOUNT, AMOUNT],
        )
    if "target_review" not in missing:
        ratings = narrative.target_review.ratings
        _block(
            sheet,
            _("绩效目标审核"),
            [_("审核等次"), _("次数")],
            [[str(label), ratings[value]] for value, label in TargetRating.choices],
            [None, COUNT],
        )
    rect = narrative.rectification
    if "rectification" not in missing:
        _block(
            sheet,
            _("评价结果整改"),
            [_("预算部门"), _("下达整改"), _("验收销号"), _("按期完成"), _("逾期未完成")],
            [
                *([d.department, d.issued, d.verified, d.on_time, d.overdue] for d in rect.departments),
                *([[_("合计"), rect.issued, rect.verified, rect.on_time, rect.overdue]] if rect.departments else []),
            ],
            [None, COUNT, COUNT, COUNT, COUNT],
        )


def annual_report_xlsx(report: AnnualReport, *, public: bool = False) -> bytes:
    """The workbook of ``report`` (see the module's docstring); ``public`` for the public page."""
    book = Workbook()
    summary = book.active
    assert summary is not None  # a new workbook has one sheet
    summary.title = _("汇总")
    _summary(summary, report, public=public)
    if not public:
        _pre_assessment(book.create_sheet(_("事前评估")), report)
        if report.policy_pre_assessment.rows:
            _pre_assessment(book.create_sheet(_("重大政策事前评估")), report, policies=True)
    _project_table(book.create_sheet(_("附件1 复核")), report.recheck, title=recheck_title(report.year), findings=False)
    _project_table(
        book.create_sheet(_("附件2 重点评价")),
        report.key_evaluation,
        title=key_evaluation_title(report.year),
        findings=True,
    )
    _department_table(book.create_sheet(_("附件3 部门整体")), report)
    if not public:
        _narrative(book.create_sheet(_("成绩与问题")), report)
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


# -- the screens' workbooks -------------------------------------------------------------------
#
# The lists the screens export (a campaign, a monitoring round, a year's pre-assessments, the
# deadline board): the views read the data through the selectors and pass it in; these lay it
# out, headers bold on the attachments' fill, and return the file's bytes.

DATETIME = "yyyy-mm-dd hh:mm"


def _header(sheet: Worksheet, values: Iterable[Any]) -> int:
    row = _append(sheet, values)
    _style_row(sheet, row, font=BOLD, fill=HEADER_FILL)
    return row


def _saved(book: Workbook) -> bytes:
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _rate_text(rate: Decimal | None) -> str:
    """A rate already in percent as text: 15.15 → "15.15%"; none is ""."""
    return "" if rate is None else f"{rate}%"


def evaluation_campaign_xlsx(campaign: Any, overview: dict[str, Any], listed: Iterable[Any]) -> bytes:
    """总览 (counts by status and grade, 优良率), 分部门 and 自评清单 of a campaign
    (``campaign_overview``'s figures and the self-evaluations listed, their sheet and re-check
    loaded); amounts in 万元."""
    grades = list(Grade)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _("总览")
    _append(sheet, [campaign.title])
    sheet["A1"].font = TITLE
    _append(sheet, [_("年度"), campaign.fiscal_year])
    _append(sheet, [])
    _header(sheet, [_("自评项目数"), *[str(label) for _v, label, _n in overview["statuses"]]])
    _append(sheet, [overview["total"], *[n for _v, _l, n in overview["statuses"]]])
    _append(sheet, [])
    _header(sheet, [*[str(g.label) for g in grades], _("优良率")])
    _append(sheet, [*[n for _v, _l, n in overview["grades"]], _rate_text(overview["rate"])])

    by_department = book.create_sheet(_("分部门"))
    _header(
        by_department,
        [_("预算部门编码"), _("预算部门"), _("项目数"), _("已确认"), *[str(g.label) for g in grades], _("优良率")],
    )
    for row in overview["departments"]:
        _append(
            by_department,
            [row["code"], row["name"], row["projects"], row["accepted"], *row["grades"], _rate_text(row["rate"])],
        )

    listing = book.create_sheet(_("自评清单"))
    _header(
        listing,
        [
            _("预算部门"),
            _("项目编码"),
            _("项目名称"),
            _("状态"),
            _("预算数（万元）"),
            _("执行数（万元）"),
            _("预算执行率"),
            _("自评得分"),
            _("自评等次"),
            _("复核得分"),
            _("复核等次"),
        ],
    )
    for se in listed:
        s = se.sheet
        recheck = getattr(se, "recheck", None)
        _append(
            listing,
            [
                se.project.department.name,
                se.project.code,
                se.project.name,
                se.get_status_display(),
                in_wan(s.budget if s else budget_of(se.project)),
                in_wan(s.executed if s else None),
                _rate_text(s.execution_rate if s else None),
                se.score,
                se.get_grade_display() if se.grade else "",
                recheck.final_score if recheck else None,
                recheck.get_final_grade_display() if recheck and recheck.final_grade else "",
            ],
            [None, None, None, None, AMOUNT, AMOUNT, None, SCORE, None, SCORE],
        )
    return _saved(book)


# The monitoring round's workbook reads lights, reasons and rates as the round's pages do.

#: The lights in the order the screens list them (worst first).
LIGHT_ORDER = [Light.RED, Light.YELLOW, Light.GREEN, Light.BLUE, Light.NONE]


def _reason(reason: str) -> str:
    """A light's reason (a message id) as read; "" for none (gettext("") is the catalog's header)."""
    return _(reason) if reason else ""


def _percent(value: Decimal | None) -> str:
    """A rate already in percent, to two places: 45.8333 → "45.83%"; None → ""."""
    return "" if value is None else f"{half_up(value)}%"


def _indicators(items: Iterable[Any]) -> str:
    return "；".join(f"{item.target_row.name}（{_reason(item.reason) or Light(item.light).label}）" for item in items)


def monitoring_round_xlsx(overview: Any, reports: Iterable[Any]) -> bytes:
    """总览 (pace, counts by light and status, by department), 红灯项目 (with their causes)
    and 报告清单 (every report listed, its indicators loaded): ``round_overview``'s figures;
    amounts in yuan and in 万元."""
    round_ = overview.round
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _("总览")
    _append(sheet, [round_.title])
    sheet["A1"].font = TITLE
    _append(
        sheet,
        [
            _("监控期间"),
            _("%(year)s 年 %(start)s—%(end)s 月")
            % {"year": round_.fiscal_year, "start": round_.start_month, "end": round_.end_month},
        ],
    )
    _append(sheet, [])
    _header(
        sheet,
        [
            _("纳入测算的报告数"),
            _("执行数（元）"),
            _("执行数（万元）"),
            _("预算数（元）"),
            _("预算数（万元）"),
            _("支出进度"),
            _("时序进度"),
            _("支出进度与时序进度之比"),
            _("支出进度灯"),
        ],
    )
    pace = overview.pace
    _append(
        sheet,
        [
            pace.reports,
            pace.executed,
            in_wan(pace.executed),
            pace.budget,
            in_wan(pace.budget),
            percent_text(pace.execution_rate),
            percent_text(pace.time_pace),
            _percent(pace.ratio),
            str(Light(pace.reading.light).label),
        ],
        [COUNT, AMOUNT, AMOUNT, AMOUNT, AMOUNT],
    )
    _append(sheet, [])
    _header(sheet, [_("报告数"), *[str(light.label) for light in LIGHT_ORDER]])
    _append(sheet, [overview.total, *[overview.by_light.get(light.value, 0) for light in LIGHT_ORDER]])
    _append(sheet, [])
    _header(sheet, [str(s.label) for s in ReportStatus])
    _append(sheet, [overview.by_status.get(s.value, 0) for s in ReportStatus])
    _append(sheet, [])
    _header(
        sheet,
        [
            _("预算部门编码"),
            _("预算部门"),
            _("报告数"),
            *[str(light.label) for light in LIGHT_ORDER],
            _("执行数（元）"),
            _("预算数（元）"),
            _("执行数（万元）"),
            _("预算数（万元）"),
            _("支出进度"),
            _("支出进度与时序进度之比"),
        ],
    )
    for row in overview.departments:
        _append(
            sheet,
            [
                row.code,
                row.name,
                row.total,
                *[row.by_light[light] for light in LIGHT_ORDER],
                row.pace.executed,
                row.pace.budget,
                in_wan(row.pace.executed),
                in_wan(row.pace.budget),
                percent_text(row.pace.execution_rate),
                _percent(row.pace.ratio),
            ],
            [None, None, COUNT, *[COUNT] * len(LIGHT_ORDER), AMOUNT, AMOUNT, AMOUNT, AMOUNT],
        )

    red = book.create_sheet(_("红灯项目"))
    _header(
        red,
        [
            _("预算部门"),
            _("项目编码"),
            _("项目名称"),
            _("支出进度灯"),
            _("支出进度说明"),
            _("红灯指标"),
            _("偏差原因"),
            _("纠偏措施"),
        ],
    )
    for report in overview.red:
        _append(
            red,
            [
                report.project.department.name,
                report.project.code,
                report.project.name,
                str(Light(report.spending_light).label),
                _reason(report.spending_reason),
                _indicators(getattr(report, "red_indicators", [])),
                report.deviation_causes,
                report.measures,
            ],
        )

    listing = book.create_sheet(_("报告清单"))
    _header(
        listing,
        [
            _("预算部门"),
            _("项目编码"),
            _("项目名称"),
            _("状态"),
            _("年初预算数（元）"),
            _("调整后预算（元）"),
            _("截至期末执行数（元）"),
            _("截至期末执行数（万元）"),
            _("执行预算数（万元）"),
            _("预计全年执行数（元）"),
            _("支出进度与时序进度之比"),
            _("支出进度灯"),
            _("项目预警灯"),
            _("红灯、黄灯指标"),
            _("申请调整预算"),
            _("申请调整后金额（元）"),
            _("处置方式"),
            _("调整前预算（元）"),
            _("调整后预算金额（元）"),
        ],
    )
    for report in reports:
        warned = [i for i in report.indicators.all() if i.light in (Light.RED, Light.YELLOW)]
        _append(
            listing,
            [
                report.project.department.name,
                report.project.code,
                report.project.name,
                report.get_status_display(),
                report.budget,
                report.adjusted_budget,
                report.executed,
                in_wan(report.executed),
                in_wan(report.budget_in_force),
                report.expected_full_year,
                _percent(report.spending_rate),
                report.get_spending_light_display(),
                report.get_light_display(),
                _indicators(warned),
                _("是") if report.adjustment_requested else _("否"),
                report.proposed_amount,
                report.get_disposal_display() if report.disposal else "",
                report.amount_before,
                report.amount_after,
            ],
            [None, None, None, None, *[AMOUNT] * 6, None, None, None, None, None, AMOUNT, None, AMOUNT, AMOUNT],
        )
    return _saved(book)


def pre_assessment_summary_xlsx(
    year: int, summary: Any, counts: Sequence[tuple[Any, int]], rows: Iterable[Any]
) -> bytes:
    """汇总: a year's confirmed pre-assessments (``reports.figures.pre_assessment_summary``),
    its conclusions counted, then one project a row; amounts in 万元."""

    def w(amount: Decimal | int) -> float:  # the cell's number; the exact amount stays in the database
        return float(in_wan(amount))

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _("汇总")
    _append(sheet, [_("%(year)s年度事前绩效评估汇总") % {"year": year}])
    sheet["A1"].font = TITLE
    _header(sheet, [_("评估项目数"), _("送审金额（万元）"), _("审定金额（万元）"), _("核减金额（万元）"), _("核减率")])
    _append(
        sheet,
        [
            summary.projects,
            w(summary.requested),
            w(summary.approved),
            w(summary.reduction),
            _rate_text(summary.reduction_rate),
        ],
        [COUNT, AMOUNT, AMOUNT, AMOUNT],
    )
    _append(sheet, [])
    _header(sheet, [str(label) for label, _count in counts])
    _append(sheet, [count for _label, count in counts])
    _append(sheet, [])
    _header(
        sheet,
        [
            _("预算部门"),
            _("项目编码"),
            _("项目名称"),
            _("送审金额（万元）"),
            _("审定金额（万元）"),
            _("核减金额（万元）"),
            _("评估结论"),
        ],
    )
    for pa in rows:
        _append(
            sheet,
            [
                pa.project.department.name,
                pa.project.code,
                pa.project.name,
                w(pa.requested_amount),
                w(pa.approved_amount),
                w(pa.reduction),
                pa.get_conclusion_display(),
            ],
            [None, None, None, AMOUNT, AMOUNT, AMOUNT],
        )
    return _saved(book)


SHANGHAI = ZoneInfo("Asia/Shanghai")


def _local(value: datetime | None) -> datetime | None:
    """A time as a naive Asia/Shanghai datetime (XLSX cells hold no zone)."""
    if value is None:
        return None
    return timezone.localtime(value, SHANGHAI).replace(tzinfo=None)


def deadline_board_xlsx(
    rows: Iterable[Any],
    record: dict[str, Any],
    now: datetime,
    *,
    site_url: str,
    counts: Iterable[dict[str, Any]] = (),
) -> bytes:
    """督办清单 (every row of the board — kind_label, title, department, project, due_at,
    original_due_at, overdue, days, status, url — its link absolute under ``site_url``),
    分部门统计 (``board_counts``: overdue and due-soon rectifications, flow tasks and the
    committee's review opinion items by department, the finance bureau's own items under the
    bureau) and 按期完成情况 (``completion_record``: department × month); times in Asia/Shanghai."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _("督办清单")
    _append(sheet, [_("督办看板"), _("导出时间"), _local(now)], [None, None, DATETIME])
    _header(
        sheet,
        [
            _("类型"),
            _("事项"),
            _("预算部门"),
            _("预算项目"),
            _("期限"),
            _("原定期限"),
            _("期限状态"),
            _("天数"),
            _("状态"),
            _("链接"),
        ],
    )
    base = site_url.rstrip("/")
    for row in rows:
        _append(
            sheet,
            [
                row.kind_label,
                row.title,
                row.department,
                row.project,
                _local(row.due_at),
                _local(row.original_due_at),
                _("已逾期") if row.overdue else _("即将到期"),
                row.days,
                row.status,
                base + row.url,
            ],
            [None, None, None, None, DATETIME, DATETIME, None, COUNT],
        )
    for column, width in zip("ABCDEFGHIJ", (10, 40, 20, 30, 18, 18, 10, 8, 14, 40), strict=True):
        sheet.column_dimensions[column].width = width

    by_dept = book.create_sheet(_("分部门统计"))
    _header(
        by_dept,
        [
            _("预算部门编码"),
            _("预算部门"),
            _("整改已逾期"),
            _("整改即将到期"),
            _("流程任务已逾期"),
            _("流程任务即将到期"),
            _("人大审议意见已逾期"),
            _("人大审议意见即将到期"),
            _("合计"),
        ],
    )
    for d in counts:
        _append(
            by_dept,
            [
                d["code"],
                d["name"],
                d["rect_overdue"],
                d["rect_soon"],
                d["task_overdue"],
                d["task_soon"],
                d["committee_overdue"],
                d["committee_soon"],
                d["total"],
            ],
            [None, None, *[COUNT] * 7],
        )
    for column, width in zip("ABCDEFGHI", (12, 24, 10, 12, 14, 16, 18, 20, 8), strict=True):
        by_dept.column_dimensions[column].width = width

    done = book.create_sheet(_("按期完成情况"))
    _header(done, [_("预算部门编码"), _("预算部门"), _("月份"), _("按期销号"), _("逾期销号"), _("按期率")])
    for dept in record["departments"]:
        for month, cell in zip(record["months"], dept["cells"], strict=True):
            if cell["on_time"] or cell["late"]:
                _append(
                    done,
                    [dept["code"], dept["name"], month.strftime("%Y-%m"), cell["on_time"], cell["late"], cell["rate"]],
                )
        _append(done, [dept["code"], dept["name"], _("合计"), dept["on_time"], dept["late"], dept["rate"]])
    return _saved(book)


def execution_exceptions_xlsx(rows: Iterable[Any], *, year: int | None) -> bytes:
    """执行数差异清单: every monitoring report and self-evaluation whose declared executed
    amount differs from the imported payments' (processes.execution_selectors
    .execution_exceptions' rows), amounts in yuan, the difference declared − imported."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _("执行数差异清单")
    _append(sheet, [_("执行数差异清单"), _("年度"), year if year is not None else _("全部")])
    _header(
        sheet,
        [
            _("类型"),
            _("项目编码"),
            _("项目名称"),
            _("预算部门"),
            _("轮次 / 自评工作"),
            _("状态"),
            _("支付数据执行数（元）"),
            _("填报执行数（元）"),
            _("差额（元）"),
            _("差异说明"),
        ],
    )
    kinds = {"monitoring": _("绩效监控报告"), "self_evaluation": _("绩效自评")}
    for row in rows:
        _append(
            sheet,
            [
                kinds.get(row.kind, row.kind),
                row.project.code,
                row.project.name,
                row.project.department.name,
                row.period,
                row.status,
                row.imported,
                row.declared,
                row.difference,
                row.reason,
            ],
            [None, None, None, None, None, None, AMOUNT, AMOUNT, AMOUNT, None],
        )
    for column, width in zip("ABCDEFGHIJ", (14, 16, 30, 20, 30, 12, 18, 18, 16, 40), strict=True):
        sheet.column_dimensions[column].width = width
    return _saved(book)


def results_ledger_xlsx(ledger: Any) -> bytes:
    """结果应用台账 (``processes.results_ledger.ledger``): its totals, then one project a row —
    department, project, last grade, recommendation, requested, proposed, decided (万元),
    overridden and the reason."""

    def w(amount: Decimal | None) -> float | None:
        return None if amount is None else float(in_wan(amount))

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _("结果应用台账")
    _append(sheet, [_("%(year)s年度预算评价结果应用台账") % {"year": ledger.year}])
    sheet["A1"].font = TITLE
    _header(
        sheet,
        [
            _("项目数"),
            _("已决定"),
            _("未采纳建议"),
            _("送审金额（万元）"),
            _("建议安排（万元）"),
            _("决定安排（万元）"),
            _("因评价结果核减（万元）"),
            _("核减项目数"),
        ],
    )
    _append(
        sheet,
        [
            ledger.projects,
            ledger.decided_count,
            ledger.overridden_count,
            w(ledger.requested),
            w(ledger.proposed),
            w(ledger.decided),
            w(ledger.cut),
            ledger.cut_count,
        ],
        [COUNT, COUNT, COUNT, AMOUNT, AMOUNT, AMOUNT, AMOUNT, COUNT],
    )
    _append(sheet, [])
    _header(
        sheet,
        [
            _("预算部门"),
            _("项目编码"),
            _("项目名称"),
            _("评价年度"),
            _("评价等次"),
            _("应用建议"),
            _("送审金额（万元）"),
            _("建议安排（万元）"),
            _("决定安排（万元）"),
            _("状态"),
            _("是否调整建议"),
            _("调整理由"),
        ],
    )
    for row in ledger.rows:
        _append(
            sheet,
            [
                row.project.department.name,
                row.project.code,
                row.project.name,
                row.last_year,
                row.grade_label,
                row.recommendation_text,
                w(row.requested),
                w(row.proposed),
                w(row.decided),
                row.status_label,
                _("是") if row.overridden else _("否"),
                row.reason,
            ],
            [None, None, None, COUNT, None, None, AMOUNT, AMOUNT, AMOUNT],
        )
    return _saved(book)
