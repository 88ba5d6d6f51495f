"""Past years from a workbook (历史数据导入, DESIGN §4): ``history_import``.

A bureau brings in the years it ran before Jixiao, so that its annual report, its
results application and its boards read them through the same code as the years run in
the system. The workbook's sheets and header rows (keys exactly as written, amounts in
yuan) are documented in docs/reports.md:

    projects                year, department_code, department_name, project_code,
                            project_name, category, requested, approved, adjusted, executed
                            (and optionally recurrence)
    pre_assessments         project_code, agency, conclusion, approved
    self_evaluations        project_code, score
    rechecks                project_code, agency, final_score
    key_evaluations         project_code, agency, score
    department_evaluations  year, department_code, budget, executed, score
    suggestions             kind (recheck / key / department), ref, text
    indicators (optional)   the indicator library template (processes.services.indicators)

Grades, completion rates and reductions are computed, never read. Every row is checked
before anything is written; if anything is wrong, nothing is written and the error lists
every problem by sheet, row and column. The same file imported again changes nothing.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal, InvalidOperation
from io import BytesIO
from typing import IO, Any
from zoneinfo import ZoneInfo

import openpyxl
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _

from accounts.models import Agency, Department, User
from accounts.roles import Role
from accounts.services import cell_text

from ..fiscal_years import fiscal_year_range
from ..models import (
    BudgetProject,
    CommissionedEvaluation,
    EvaluationCampaign,
    ExpertSuggestion,
    HistoryImport,
    PreAssessment,
    ProjectCategory,
    Recheck,
    RecheckSample,
    Recurrence,
    SelfEvaluation,
)
from ..permissions import holds
from ..scoring import grade_of
from ..states import (
    CampaignStatus,
    Conclusion,
    EvaluationKind,
    EvaluationStatus,
    PreAssessmentStatus,
    ProjectStage,
    RecheckStatus,
    SampleMethod,
    SelfEvaluationStatus,
)
from .audit import audit_record
from .indicators import IndicatorImportRejected, indicators_write_rows

IMPORT_PERMISSION = "processes.import_history"
#: The account that stands for the operator when the command runs without --user.
IMPORT_ACCOUNT = "history-import"
BATCH = 1000
MAX_ROWS = 100_000
CENT = Decimal("0.01")
HUNDRED = Decimal(100)

PROJECTS = "projects"
PRE_ASSESSMENTS = "pre_assessments"
SELF_EVALUATIONS = "self_evaluations"
RECHECKS = "rechecks"
KEY_EVALUATIONS = "key_evaluations"
DEPARTMENT_EVALUATIONS = "department_evaluations"
SUGGESTIONS = "suggestions"
INDICATORS = "indicators"

#: sheet → (required columns, optional columns). Keys are a format: never translated.
SHEETS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    PROJECTS: (
        (
            "year",
            "department_code",
            "department_name",
            "project_code",
            "project_name",
            "category",
            "requested",
            "approved",
            "adjusted",
            "executed",
        ),
        ("recurrence",),
    ),
    PRE_ASSESSMENTS: (("project_code", "agency", "conclusion", "approved"), ()),
    SELF_EVALUATIONS: (("project_code", "score"), ()),
    RECHECKS: (("project_code", "agency", "final_score"), ()),
    KEY_EVALUATIONS: (("project_code", "agency", "score"), ()),
    DEPARTMENT_EVALUATIONS: (("year", "department_code", "budget", "executed", "score"), ("agency",)),
    SUGGESTIONS: (("kind", "ref", "text"), ()),
}
OPTIONAL_SHEETS = frozenset({INDICATORS})

CONCLUSIONS = {str(label): value for value, label in Conclusion.choices} | {v: v for v in Conclusion.values}
SUGGESTION_KINDS = {"recheck", "key", "department"}
#: The agency of record of a department evaluation whose row names none (the optional
#: ``agency`` column is blank or absent): said plainly rather than guessed.
UNSTATED_AGENCY = "未载明机构（历史导入）"


@dataclass(frozen=True)
class SheetError:
    """One problem of the workbook: ``row`` is the row Excel shows (None: the sheet or the
    file as a whole), ``column`` the header key ("" for the whole row)."""

    sheet: str
    row: int | None
    column: str
    message: str

    def __str__(self) -> str:
        where = f"「{self.sheet}」" if self.sheet else ""
        if self.row is not None:
            where += _("第 %(row)s 行") % {"row": self.row}
        if self.column:
            where += f"「{self.column}」"
        return f"{where}：{self.message}" if where else self.message

    def as_dict(self) -> dict[str, Any]:
        return {"sheet": self.sheet, "row": self.row, "column": self.column, "message": self.message}


class HistoryImportRejected(ValidationError):
    """The workbook was refused and nothing was written; ``errors`` lists every problem."""

    def __init__(self, errors: list[SheetError]):
        self.errors = errors
        super().__init__([str(e) for e in errors])


@dataclass
class HistoryImportResult:
    history: HistoryImport
    created: bool
    counts: dict[str, int] = field(default_factory=dict)


# -- reading -------------------------------------------------------------------------------


def read_history_workbook(file: IO[bytes]) -> dict[str, list[dict[str, str]]]:
    """{sheet: data rows as {header key: cell text}}; row i of a list is Excel row i + 2.

    Raises HistoryImportRejected when the file is not a readable .xlsx, a required sheet or
    column is missing, or a column is unknown."""
    errors: list[SheetError] = []
    sheets: dict[str, list[tuple[Any, ...]]] = {}
    try:
        workbook = openpyxl.load_workbook(file, read_only=True, data_only=True)
        try:
            for sheet in workbook.worksheets:
                if sheet.title in SHEETS or sheet.title in OPTIONAL_SHEETS:
                    rows: list[tuple[Any, ...]] = []
                    for row in sheet.iter_rows(values_only=True):
                        rows.append(row)
                        if len(rows) > MAX_ROWS + 1:
                            break
                    sheets[sheet.title] = rows
        finally:
            workbook.close()
    except Exception as exc:  # any failure to parse is the file's fault, whatever openpyxl raised
        raise HistoryImportRejected(
            [SheetError("", None, "", _("无法读取该文件，请提供用 Excel 保存的 .xlsx 工作簿。"))]
        ) from exc

    data: dict[str, list[dict[str, str]]] = {}
    for name, (required, optional) in SHEETS.items():
        if name not in sheets:
            errors.append(SheetError(name, None, "", _("缺少工作表「%(sheet)s」。") % {"sheet": name}))
            continue
        data[name] = _sheet_rows(name, sheets[name], required, optional, errors)
    if INDICATORS in sheets:
        rows = sheets[INDICATORS]
        while rows and not any(cell_text(v) for v in rows[-1]):
            rows.pop()
        if rows:
            header = [cell_text(v) for v in rows[0]]
            data[INDICATORS] = [
                {name: cell_text(row[i]) if i < len(row) else "" for i, name in enumerate(header) if name}
                for row in rows[1:]
            ]
    if errors:
        raise HistoryImportRejected(errors)
    return data


def _sheet_rows(
    name: str,
    rows: list[tuple[Any, ...]],
    required: tuple[str, ...],
    optional: tuple[str, ...],
    errors: list[SheetError],
) -> list[dict[str, str]]:
    if len(rows) > MAX_ROWS + 1:
        errors.append(SheetError(name, None, "", _("工作表超过 %(n)s 行。") % {"n": MAX_ROWS}))
        return []
    while rows and not any(cell_text(v) for v in rows[-1]):
        rows.pop()
    if not rows:
        errors.append(SheetError(name, 1, "", _("第 1 行应为表头：%(columns)s。") % {"columns": ", ".join(required)}))
        return []
    header = [cell_text(v) for v in rows[0]]
    seen: set[str] = set()
    for key in header:
        if not key:
            continue
        if key in seen:
            errors.append(SheetError(name, 1, key, _("表头重复。")))
        elif key not in required and key not in optional:
            errors.append(
                SheetError(
                    name,
                    1,
                    key,
                    _("未知的列。本表的列为：%(columns)s。") % {"columns": ", ".join((*required, *optional))},
                )
            )
        seen.add(key)
    for key in required:
        if key not in seen:
            errors.append(SheetError(name, 1, key, _("缺少此列。")))
    index = {key: i for i, key in enumerate(header) if key}
    return [{key: cell_text(row[i]) if i < len(row) else "" for key, i in index.items()} for row in rows[1:]]


# -- checking ------------------------------------------------------------------------------


@dataclass
class _Project:
    row: int
    year: int
    department_code: str
    department_name: str
    code: str
    name: str
    category: str
    recurrence: str
    requested: Decimal
    approved: Decimal
    adjusted: Decimal
    executed: Decimal


@dataclass
class _Plan:
    """The checked workbook, ready to write."""

    projects: dict[str, _Project] = field(default_factory=dict)  # by code
    departments: dict[str, str] = field(default_factory=dict)  # code → name
    agencies: set[str] = field(default_factory=set)
    pre_assessments: list[tuple[str, str, str, Decimal]] = field(default_factory=list)
    self_evaluations: dict[str, Decimal] = field(default_factory=dict)
    rechecks: dict[str, tuple[str, Decimal]] = field(default_factory=dict)
    key_evaluations: dict[str, tuple[str, Decimal]] = field(default_factory=dict)
    #: (department code, year) → (agency, budget, executed, score)
    department_evaluations: dict[tuple[str, int], tuple[str, Decimal, Decimal, Decimal]] = field(default_factory=dict)
    suggestions: list[tuple[str, str, str]] = field(default_factory=list)
    indicators: list[dict[str, str]] | None = None
    rejected: set[str] = field(default_factory=set)  # codes pre-assessed 不予支持

    @property
    def years(self) -> list[int]:
        years = {p.year for p in self.projects.values()}
        years.update(year for _code, year in self.department_evaluations)
        return sorted(years)


class _Checker:
    """Reads cells into values, collecting every problem as a SheetError."""

    def __init__(self) -> None:
        self.errors: list[SheetError] = []

    def error(self, sheet: str, row: int | None, column: str, message: str) -> None:
        self.errors.append(SheetError(sheet, row, column, message))

    def text(self, sheet: str, row: int, values: dict[str, str], column: str, *, max_length: int) -> str:
        value = values.get(column, "").strip()
        if not value:
            self.error(sheet, row, column, _("必须填写。"))
        elif len(value) > max_length:
            self.error(sheet, row, column, _("不能超过 %(n)s 个字符。") % {"n": max_length})
        return value

    def number(self, sheet: str, row: int, values: dict[str, str], column: str) -> Decimal | None:
        raw = values.get(column, "").strip().replace(",", "")
        if not raw:
            self.error(sheet, row, column, _("必须填写。"))
            return None
        try:
            value = Decimal(raw)
        except InvalidOperation:
            self.error(sheet, row, column, _("「%(value)s」不是数字。") % {"value": raw})
            return None
        if not value.is_finite():
            self.error(sheet, row, column, _("「%(value)s」不是数字。") % {"value": raw})
            return None
        return value

    def amount(self, sheet: str, row: int, values: dict[str, str], column: str) -> Decimal | None:
        value = self.number(sheet, row, values, column)
        if value is None:
            return None
        if value < 0:
            self.error(sheet, row, column, _("金额不能为负数。"))
            return None
        if value != value.quantize(CENT):
            self.error(sheet, row, column, _("金额（元）最多保留两位小数。"))
            return None
        if value >= Decimal(10) ** 14:
            self.error(sheet, row, column, _("金额过大。"))
            return None
        return value.quantize(CENT)

    def score(self, sheet: str, row: int, values: dict[str, str], column: str) -> Decimal | None:
        value = self.number(sheet, row, values, column)
        if value is None:
            return None
        if not Decimal(0) <= value <= HUNDRED:
            self.error(sheet, row, column, _("得分应在 0 到 100 之间。"))
            return None
        if value != value.quantize(CENT):
            self.error(sheet, row, column, _("得分最多保留两位小数。"))
            return None
        return value.quantize(CENT)

    def year(self, sheet: str, row: int, values: dict[str, str], column: str) -> int | None:
        raw = values.get(column, "").strip()
        if not raw:
            self.error(sheet, row, column, _("必须填写。"))
            return None
        try:
            year = int(Decimal(raw))
        except (InvalidOperation, ValueError):
            year = 0
        low, high = fiscal_year_range()
        if str(year) != raw.removesuffix(".0") or not low <= year <= high:
            self.error(sheet, row, column, _("「%(value)s」不是有效的年度（如 2020）。") % {"value": raw})
            return None
        return year

    def once(self, sheet: str, row: int, column: str, key: str, seen: dict[str, int]) -> bool:
        """False (and an error) when ``key`` was already on an earlier row of the sheet."""
        if key in seen:
            self.error(sheet, row, column, _("与第 %(row)s 行重复。") % {"row": seen[key]})
            return False
        seen[key] = row
        return True


def _rows(data: dict[str, list[dict[str, str]]], sheet: str) -> Iterable[tuple[int, dict[str, str]]]:
    for number, values in enumerate(data.get(sheet, []), start=2):
        if any(v.strip() for v in values.values()):
            yield number, values


def _category(value: str) -> str | None:
    labels = {str(label): key for key, label in ProjectCategory.choices}
    return value if value in ProjectCategory.values else labels.get(value)


def _recurrence(value: str) -> str | None:
    if not value:
        return Recurrence.RECURRING
    labels = {str(label): key for key, label in Recurrence.choices} | {"经常性": "recurring", "一次性": "one_off"}
    return value if value in Recurrence.values else labels.get(value)


def _check(data: dict[str, list[dict[str, str]]]) -> _Plan:
    c = _Checker()
    plan = _Plan()
    known_departments = dict(Department.objects.values_list("code", "name"))
    #: Keys whose own rows are bad, by sheet: rows referring to them are not reported again.
    invalid: dict[str, set[str]] = defaultdict(set)
    name_row: dict[str, tuple[str, int]] = {}

    def project_ref(sheet: str, row: int, values: dict[str, str]) -> str | None:
        code = values.get("project_code", "").strip()
        if not code:
            c.error(sheet, row, "project_code", _("必须填写。"))
            return None
        if code in invalid["projects"]:
            return None  # its own row's problems are reported; this row is not checked against it
        if code not in plan.projects:
            c.error(sheet, row, "project_code", _("「projects」表中没有项目编码「%(code)s」。") % {"code": code})
            return None
        return code

    def agency(sheet: str, row: int, values: dict[str, str]) -> str:
        name = c.text(sheet, row, values, "agency", max_length=128)
        if name:
            plan.agencies.add(name)
        return name

    # projects
    seen: dict[str, int] = {}
    code: str | None
    for row, v in _rows(data, PROJECTS):
        year = c.year(PROJECTS, row, v, "year")
        dept_code = c.text(PROJECTS, row, v, "department_code", max_length=32)
        dept_name = c.text(PROJECTS, row, v, "department_name", max_length=128)
        code = c.text(PROJECTS, row, v, "project_code", max_length=40)
        name = c.text(PROJECTS, row, v, "project_name", max_length=200)
        category = _category(v.get("category", "").strip())
        if category is None:
            c.error(
                PROJECTS,
                row,
                "category",
                _("未知的项目类别「%(value)s」。可选：%(choices)s。")
                % {
                    "value": v.get("category", ""),
                    "choices": "、".join(str(label) for _, label in ProjectCategory.choices),
                },
            )
        recurrence = _recurrence(v.get("recurrence", "").strip())
        if recurrence is None:
            c.error(PROJECTS, row, "recurrence", _("应填“经常性项目”或“一次性项目”（不填视为经常性项目）。"))
        requested = c.amount(PROJECTS, row, v, "requested")
        approved = c.amount(PROJECTS, row, v, "approved")
        adjusted = c.amount(PROJECTS, row, v, "adjusted")
        executed = c.amount(PROJECTS, row, v, "executed")
        if requested is not None and requested <= 0:
            c.error(PROJECTS, row, "requested", _("送审金额必须大于 0。"))
            requested = None
        if adjusted is not None and adjusted < 0:
            c.error(PROJECTS, row, "adjusted", _("调整后预算必须大于 0，完成率以它为分母。"))
            adjusted = None
        if dept_code and dept_name:
            if dept_code in known_departments and known_departments[dept_code] != dept_name:
                c.error(
                    PROJECTS,
                    row,
                    "department_name",
                    _("部门编码「%(code)s」在系统中的名称是「%(name)s」。")
                    % {"code": dept_code, "name": known_departments[dept_code]},
                )
            elif dept_code in plan.departments and plan.departments[dept_code] != dept_name:
                c.error(
                    PROJECTS,
                    row,
                    "department_name",
                    _("与「projects」表其他行中该部门编码的名称「%(name)s」不一致。")
                    % {"name": plan.departments[dept_code]},
                )
            else:
                other = name_row.get(dept_name)
                if other and other[0] != dept_code:
                    invalid["department_codes"].add(dept_code)
                    c.error(
                        PROJECTS,
                        row,
                        "department_code",
                        _("部门「%(name)s」在第 %(row)s 行的编码是「%(code)s」。")
                        % {"name": dept_name, "row": other[1], "code": other[0]},
                    )
                else:
                    plan.departments[dept_code] = dept_name
                    name_row[dept_name] = (dept_code, row)
        if not code or not c.once(PROJECTS, row, "project_code", code, seen):
            continue
        if (
            year is None
            or requested is None
            or approved is None
            or adjusted is None
            or executed is None
            or category is None
            or recurrence is None
            or not (dept_code and dept_name and name)
        ):
            invalid["projects"].add(code)
            continue
        plan.projects[code] = _Project(
            row, year, dept_code, dept_name, code, name, category, recurrence, requested, approved, adjusted, executed
        )

    # pre-assessments
    seen = {}
    rejected: set[str] = set()
    for row, v in _rows(data, PRE_ASSESSMENTS):
        code = project_ref(PRE_ASSESSMENTS, row, v)
        name = agency(PRE_ASSESSMENTS, row, v)
        conclusion = CONCLUSIONS.get(v.get("conclusion", "").strip())
        if conclusion is None:
            c.error(PRE_ASSESSMENTS, row, "conclusion", _("应为 予以支持、部分予以支持 或 不予支持。"))
        approved = c.amount(PRE_ASSESSMENTS, row, v, "approved")
        if code and approved is not None and approved > plan.projects[code].requested:
            c.error(PRE_ASSESSMENTS, row, "approved", _("审定金额不能大于项目的送审金额。"))
            approved = None
        if conclusion == Conclusion.REJECT and code:
            rejected.add(code)  # even when another cell of the row is wrong: its amounts are 0
            if approved:
                c.error(PRE_ASSESSMENTS, row, "approved", _("结论为不予支持时，审定金额应为 0。"))
                approved = None
        if (
            code
            and c.once(PRE_ASSESSMENTS, row, "project_code", code, seen)
            and name
            and conclusion
            and approved is not None
        ):
            plan.pre_assessments.append((code, name, conclusion, approved))

    # A project pre-assessed 不予支持 was never budgeted: approved, adjusted and executed are
    # 0, it is written as 未予支持 and counts in the pre-assessment summary (cut 100 %). Any
    # other project needs an adjusted budget above 0: its completion rate divides by it.
    for code, p in plan.projects.items():
        if code in rejected:
            for column, amount in (("approved", p.approved), ("adjusted", p.adjusted), ("executed", p.executed)):
                if amount != 0:
                    c.error(PROJECTS, p.row, column, _("事前评估不予支持的项目，该金额应为 0。"))
        elif p.adjusted == 0:
            c.error(
                PROJECTS, p.row, "adjusted", _("调整后预算必须大于 0，完成率以它为分母（事前评估不予支持的项目除外）。")
            )
    plan.rejected = rejected

    def unbudgeted(sheet: str, row: int, code: str | None) -> bool:
        """A rejected project has no budget: nothing was executed, evaluated or re-checked."""
        if code in rejected:
            c.error(sheet, row, "project_code", _("该项目事前评估不予支持，没有预算，不能有绩效评价数据。"))
            return True
        return False

    # self-evaluations
    seen = {}
    for row, v in _rows(data, SELF_EVALUATIONS):
        code = project_ref(SELF_EVALUATIONS, row, v)
        score = c.score(SELF_EVALUATIONS, row, v, "score")
        if unbudgeted(SELF_EVALUATIONS, row, code):
            continue
        if code and c.once(SELF_EVALUATIONS, row, "project_code", code, seen):
            if score is not None:
                plan.self_evaluations[code] = score
            else:
                invalid["self"].add(code)

    # re-checks (of a self-evaluation in the workbook) and key evaluations
    for sheet, score_column, kind, found in (
        (RECHECKS, "final_score", "recheck", plan.rechecks),
        (KEY_EVALUATIONS, "score", "key", plan.key_evaluations),
    ):
        seen = {}
        for row, v in _rows(data, sheet):
            code = project_ref(sheet, row, v)
            name = agency(sheet, row, v)
            score = c.score(sheet, row, v, score_column)
            if unbudgeted(sheet, row, code):
                invalid[kind].add(code or "")
                continue
            if sheet == RECHECKS and code and code not in plan.self_evaluations and code not in invalid["self"]:
                c.error(
                    sheet, row, "project_code", _("复核的是绩效自评：该项目在「self_evaluations」表中没有自评得分。")
                )
                invalid[kind].add(code)
                continue
            if code and c.once(sheet, row, "project_code", code, seen):
                if name and score is not None:
                    found[code] = (name, score)
                else:
                    invalid[kind].add(code)

    # department evaluations
    seen = {}
    for row, v in _rows(data, DEPARTMENT_EVALUATIONS):
        year = c.year(DEPARTMENT_EVALUATIONS, row, v, "year")
        dept_code = c.text(DEPARTMENT_EVALUATIONS, row, v, "department_code", max_length=32)
        budget = c.amount(DEPARTMENT_EVALUATIONS, row, v, "budget")
        executed = c.amount(DEPARTMENT_EVALUATIONS, row, v, "executed")
        score = c.score(DEPARTMENT_EVALUATIONS, row, v, "score")
        agency_name = v.get("agency", "").strip()[:128] or UNSTATED_AGENCY
        if budget is not None and budget <= 0:
            c.error(DEPARTMENT_EVALUATIONS, row, "budget", _("预算数必须大于 0，完成率以它为分母。"))
            budget = None
        if dept_code in invalid["department_codes"]:
            invalid["department"].add(dept_code)
            continue
        if dept_code and dept_code not in plan.departments and dept_code not in known_departments:
            c.error(
                DEPARTMENT_EVALUATIONS,
                row,
                "department_code",
                _("没有编码为「%(code)s」的部门（「projects」表和系统中都没有）。") % {"code": dept_code},
            )
            continue
        if year is None or budget is None or executed is None or score is None or not dept_code:
            invalid["department"].add(dept_code)
            continue
        if c.once(DEPARTMENT_EVALUATIONS, row, "department_code", f"{dept_code}/{year}", seen):
            plan.agencies.add(agency_name)
            plan.department_evaluations[dept_code, year] = (agency_name, budget, executed, score)

    # suggestions: on a re-check, a key evaluation or a department evaluation of the workbook
    by_department: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for key in plan.department_evaluations:
        by_department[key[0]].append(key)
    for row, v in _rows(data, SUGGESTIONS):
        kind = v.get("kind", "").strip()
        ref = v.get("ref", "").strip()
        text = c.text(SUGGESTIONS, row, v, "text", max_length=5000)
        if kind not in SUGGESTION_KINDS:
            c.error(SUGGESTIONS, row, "kind", _("应为 recheck、key 或 department。"))
            continue
        if not ref:
            c.error(SUGGESTIONS, row, "ref", _("必须填写。"))
            continue
        subjects: dict[str, Mapping[str, object]] = {
            "recheck": plan.rechecks,
            "key": plan.key_evaluations,
            "department": by_department,
        }
        if ref in invalid[kind] or (kind != "department" and ref in invalid["projects"]):
            continue
        if ref not in subjects[kind]:
            sheet = {"recheck": RECHECKS, "key": KEY_EVALUATIONS, "department": DEPARTMENT_EVALUATIONS}[kind]
            c.error(SUGGESTIONS, row, "ref", _("「%(sheet)s」表中没有「%(ref)s」。") % {"sheet": sheet, "ref": ref})
            continue
        if kind == "department" and len(by_department[ref]) > 1:
            c.error(SUGGESTIONS, row, "ref", _("该部门在工作簿中有多个年度的整体评价，请按年度分文件导入。"))
            continue
        if text:
            plan.suggestions.append((kind, ref, text))

    if INDICATORS in data:
        plan.indicators = data[INDICATORS]

    # A year is run in the system or imported, never both.
    years = plan.years
    if not plan.projects:
        c.error(PROJECTS, None, "", _("没有项目数据行。"))
    run_years = set(
        BudgetProject.objects.filter(fiscal_year__in=years).values_list("fiscal_year", flat=True).distinct()
    ) | set(EvaluationCampaign.objects.filter(fiscal_year__in=years).values_list("fiscal_year", flat=True))
    for year in sorted(run_years):
        c.error(
            PROJECTS,
            None,
            "year",
            _("%(year)s 年度在系统中已有数据（项目或自评工作），不能再导入该年度。") % {"year": year},
        )
    if c.errors:
        raise HistoryImportRejected(c.errors)
    return plan


# -- writing -------------------------------------------------------------------------------


def import_account() -> User:
    """The account standing for the operator of ``manage.py import_history``: it cannot log in."""
    user, created = User.objects.get_or_create(
        username=IMPORT_ACCOUNT, defaults={"full_name": _("历史数据导入"), "is_active": False}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def _end_of(year: int) -> datetime:
    return datetime.combine(datetime(year, 12, 31).date(), time(23, 59), tzinfo=ZoneInfo(settings.TIME_ZONE))


def _bulk(model: type[models.Model], objs: list, **kwargs: Any) -> list:
    return model._default_manager.bulk_create(objs, batch_size=BATCH, **kwargs)


def history_import(
    *, file: IO[bytes], file_name: str, actor: User | None = None, progress: Callable[[str], None] | None = None
) -> HistoryImportResult:
    """Import a past years' workbook (see the module docstring).

    ``actor`` None means the operator at the command line (the ``history-import``
    account is recorded); a person must hold processes.import_history. The same file
    (by SHA-256) imported again returns its first import with ``created`` False and writes
    nothing. Writes in one transaction: departments and agencies the workbook names and
    the system lacks, the projects (stage 已关闭, or 未予支持 when pre-assessed 不予支持; marked with the import), a closed
    campaign per year with its accepted self-evaluations, the re-checks (final), the key
    and department evaluations (final), the suggestions, the indicator library rows, and
    one audit event ``history_import``.

    Raises PermissionDenied, or HistoryImportRejected listing every problem.
    """
    if actor is not None and not holds(actor, IMPORT_PERMISSION):
        raise PermissionDenied(_("只有财政绩效科可以导入历史年度数据。"))
    say = progress or (lambda message: None)
    content = file.read()
    digest = hashlib.sha256(content).hexdigest()
    existing = HistoryImport.objects.filter(sha256=digest).first()
    if existing is not None:
        return HistoryImportResult(history=existing, created=False, counts=existing.counts)
    say(_("读取工作簿"))
    data = read_history_workbook(BytesIO(content))
    say(_("校验数据"))
    plan = _check(data)
    say(_("写入数据"))
    try:
        with transaction.atomic():
            return _write(plan, digest=digest, file_name=file_name, actor=actor or import_account())
    except IndicatorImportRejected as exc:
        raise HistoryImportRejected([SheetError(INDICATORS, e.row, e.column, e.message) for e in exc.errors]) from exc
    except IntegrityError as exc:
        # Another import committed first: of this very file (then its result is this one's),
        # or of the same year's project codes from another file.
        existing = HistoryImport.objects.filter(sha256=digest).first()
        if existing is not None:
            return HistoryImportResult(history=existing, created=False, counts=existing.counts)
        raise HistoryImportRejected(
            [SheetError(PROJECTS, None, "year", _("导入期间该年度的数据已被另一次导入写入，没有写入任何数据。"))]
        ) from exc


def _write(plan: _Plan, *, digest: str, file_name: str, actor: User) -> HistoryImportResult:
    history = HistoryImport.objects.create(
        sha256=digest, file_name=file_name[:255], years=plan.years, imported_by=actor
    )
    counts: dict[str, int] = defaultdict(int)

    # departments and agencies the system does not know yet
    known = set(Department.objects.filter(code__in=plan.departments).values_list("code", flat=True))
    new_departments = [Department(code=code, name=name) for code, name in plan.departments.items() if code not in known]
    _bulk(Department, new_departments)
    counts["departments"] = len(new_departments)
    departments = dict(Department.objects.filter(code__in=plan.departments).values_list("code", "pk"))
    known_agencies = set(Agency.objects.filter(name__in=plan.agencies).values_list("name", flat=True))
    new_agencies = [Agency(name=name) for name in sorted(plan.agencies - known_agencies)]
    _bulk(Agency, new_agencies)
    counts["agencies"] = len(new_agencies)
    agencies = dict(Agency.objects.filter(name__in=plan.agencies).values_list("name", "pk"))

    # projects
    _bulk(
        BudgetProject,
        [
            BudgetProject(
                department_id=departments[p.department_code],
                fiscal_year=p.year,
                code=p.code,
                name=p.name,
                category=p.category,
                recurrence=p.recurrence,
                requested_amount=p.requested,
                approved_amount=p.approved,
                adjusted_amount=p.adjusted,
                executed_amount=p.executed,
                stage=ProjectStage.REJECTED if p.code in plan.rejected else ProjectStage.CLOSED,
                history=history,
                created_by=actor,
            )
            for p in plan.projects.values()
        ],
    )
    counts[PROJECTS] = len(plan.projects)
    project_ids = dict(BudgetProject.objects.filter(history=history).values_list("code", "pk"))

    # pre-assessments, confirmed
    _bulk(
        PreAssessment,
        [
            PreAssessment(
                project_id=project_ids[code],
                agency_id=agencies[agency],
                due_at=_end_of(plan.projects[code].year),
                initiated_by=actor,
                status=PreAssessmentStatus.CONFIRMED,
                conclusion=conclusion,
                approved_amount=approved,
            )
            for code, agency, conclusion, approved in plan.pre_assessments
        ],
    )
    counts[PRE_ASSESSMENTS] = len(plan.pre_assessments)

    # one closed campaign per year, with its accepted self-evaluations
    campaigns = {
        year: EvaluationCampaign.objects.create(
            fiscal_year=year,
            title=_("%(year)s年度绩效自评（历史导入）") % {"year": year},
            due_at=_end_of(year),
            status=CampaignStatus.CLOSED,
            launched_by=actor,
            history=history,
        )
        for year in sorted({plan.projects[code].year for code in plan.self_evaluations})
    }
    _bulk(
        SelfEvaluation,
        [
            SelfEvaluation(
                campaign=campaigns[plan.projects[code].year],
                project_id=project_ids[code],
                status=SelfEvaluationStatus.ACCEPTED,
                score=score,
                grade=grade_of(score),
            )
            for code, score in plan.self_evaluations.items()
        ],
    )
    counts[SELF_EVALUATIONS] = len(plan.self_evaluations)
    self_evaluations = dict(SelfEvaluation.objects.filter(project__history=history).values_list("project__code", "pk"))

    # re-checks, final: one sample per year and agency
    samples: dict[tuple[int, str], RecheckSample] = {}
    for code, (agency, _score) in plan.rechecks.items():
        year = plan.projects[code].year
        if (year, agency) not in samples:
            samples[year, agency] = RecheckSample.objects.create(
                campaign=campaigns[year],
                agency_id=agencies[agency],
                method=SampleMethod.MANUAL,
                due_at=_end_of(year),
                created_by=actor,
            )
    _bulk(
        Recheck,
        [
            Recheck(
                sample=samples[plan.projects[code].year, agency],
                self_evaluation_id=self_evaluations[code],
                project_id=project_ids[code],
                status=RecheckStatus.FINAL,
                self_score=plan.self_evaluations[code],
                self_grade=grade_of(plan.self_evaluations[code]),
                final_score=score,
                final_grade=grade_of(score),
            )
            for code, (agency, score) in plan.rechecks.items()
        ],
    )
    counts[RECHECKS] = len(plan.rechecks)
    rechecks = dict(Recheck.objects.filter(project__history=history).values_list("project__code", "pk"))

    # key and department evaluations, final
    evaluations = [
        CommissionedEvaluation(
            kind=EvaluationKind.KEY,
            fiscal_year=plan.projects[code].year,
            department_id=departments[plan.projects[code].department_code],
            project_id=project_ids[code],
            agency_id=agencies[agency],
            title=_("%(name)s重点绩效评价") % {"name": plan.projects[code].name},
            due_at=_end_of(plan.projects[code].year),
            status=EvaluationStatus.FINAL,
            score=score,
            grade=grade_of(score),
            budget=plan.projects[code].adjusted,
            executed=plan.projects[code].executed,
            commissioned_by=actor,
            history=history,
        )
        for code, (agency, score) in plan.key_evaluations.items()
    ]
    department_ids = dict(
        Department.objects.filter(code__in={code for code, _year in plan.department_evaluations}).values_list(
            "code", "pk"
        )
    )
    department_names = dict(Department.objects.filter(code__in=department_ids).values_list("code", "name"))
    evaluations += [
        CommissionedEvaluation(
            kind=EvaluationKind.DEPARTMENT,
            fiscal_year=year,
            department_id=department_ids[code],
            agency_id=agencies[agency],
            title=_("%(department)s%(year)s年度部门整体绩效评价")
            % {"department": department_names[code], "year": year},
            due_at=_end_of(year),
            status=EvaluationStatus.FINAL,
            score=score,
            grade=grade_of(score),
            budget=budget,
            executed=executed,
            commissioned_by=actor,
            history=history,
        )
        for (code, year), (agency, budget, executed, score) in plan.department_evaluations.items()
    ]
    _bulk(CommissionedEvaluation, evaluations)
    counts[KEY_EVALUATIONS] = len(plan.key_evaluations)
    counts[DEPARTMENT_EVALUATIONS] = len(plan.department_evaluations)
    keyed = dict(
        CommissionedEvaluation.objects.filter(history=history, kind=EvaluationKind.KEY).values_list(
            "project__code", "pk"
        )
    )
    by_department = dict(
        CommissionedEvaluation.objects.filter(history=history, kind=EvaluationKind.DEPARTMENT).values_list(
            "department__code", "pk"
        )
    )

    # suggestions, numbered per subject in the file's order
    positions: dict[tuple[str, str], int] = defaultdict(int)
    suggestions = []
    for kind, ref, text in plan.suggestions:
        positions[kind, ref] += 1
        if kind == "recheck":
            suggestions.append(ExpertSuggestion(recheck_id=rechecks[ref], position=positions[kind, ref], text=text))
        else:
            subject = keyed[ref] if kind == "key" else by_department[ref]
            suggestions.append(ExpertSuggestion(evaluation_id=subject, position=positions[kind, ref], text=text))
    _bulk(ExpertSuggestion, suggestions)
    counts[SUGGESTIONS] = len(suggestions)

    # the indicator library of those years
    if plan.indicators is not None:
        result = indicators_write_rows(actor=actor, rows=plan.indicators, file_name=file_name)
        counts[INDICATORS] = result["total"]
        history.indicator_total = result["total"]
        history.indicator_general = result["general"]
        history.indicator_department = result["department"]

    history.counts = dict(counts)
    history.save(update_fields=["counts", "indicator_total", "indicator_general", "indicator_department"])
    audit_record(
        obj=history,
        action="history_import",
        actor=actor,
        role=Role.FINANCE_OFFICER,
        comment=file_name,
        detail={"years": plan.years, "file": file_name, "sha256": digest, **counts},
    )
    return HistoryImportResult(history=history, created=True, counts=dict(counts))
