"""绩效指标库 (DESIGN §2): the one writer of Indicator.

- A department's staff propose a department-specific (部门个性化) indicator for their own
  department; the finance section approves it into the library or declines it.
- The finance section edits library rows and deactivates / reactivates them.
- The library is imported and exported as an XLSX workbook of one fixed format (the
  template, ``indicator_template_workbook``): all-or-nothing, upsert by 指标编码,
  idempotent. ``indicators_import_rows`` takes the rows as dicts keyed by the Chinese
  headers, so it serves a CSV of the same headers as well (the demo loader).

Every path checks the same rules (``indicator_rule_errors``): level 2 belongs to level 1,
a quantitative indicator (≥ ≤ =) has a unit, the name is not empty, a general indicator
has no department and a department-specific one has an existing department.

The file's headers and cell values are the Chinese originals whatever the interface
language: the file is a format, not a screen (as the expert library's, decision 0007).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from io import BytesIO
from typing import IO, Any, TypedDict, Unpack, cast

import openpyxl
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import IntegrityError, models, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from accounts.models import Department, User
from accounts.roles import Role
from accounts.services import NO, YES, RowError, cell_text
from accounts.services import cell_yes_no as yes_no
from notifications.services import Message, notify

from ..errors import ActionNotAllowed
from ..files import check_xlsx
from ..models import Indicator, Job
from ..permissions import holds
from ..states import (
    LEVEL2_PARENT,
    QUANTITATIVE,
    Direction,
    IndicatorLevel1,
    IndicatorLevel2,
    IndicatorScope,
    IndicatorStatus,
)
from .audit import audit_record
from .jobs import NoProgress, Progress, job_start

PROPOSE_PERMISSION = "processes.propose_indicator"
APPROVE_PERMISSION = "processes.approve_indicator"
IMPORT_PERMISSION = "processes.import_indicators"
IMPORT_JOB = "indicator_import"

# -- the file's format (never translated) -------------------------------------------------

CODE = "指标编码"
LEVEL1 = "一级指标"
LEVEL2 = "二级指标"
NAME = "三级指标"
UNIT = "计量单位"
DIRECTION = "指标性质"
SCOPE = "适用范围"
DEPARTMENT = "所属部门编码"
DESCRIPTION = "指标解释"
SCORING = "评分标准"
ACTIVE = "启用"
COLUMNS = (CODE, LEVEL1, LEVEL2, NAME, UNIT, DIRECTION, SCOPE, DEPARTMENT, DESCRIPTION, SCORING, ACTIVE)
SHEET_TITLE = "绩效指标库"
HELP_SHEET_TITLE = "说明"
#: The model field each column fills (the rules' messages are reported on these columns).
FIELD_COLUMNS = {
    "code": CODE,
    "level1": LEVEL1,
    "level2": LEVEL2,
    "name": NAME,
    "unit": UNIT,
    "direction": DIRECTION,
    "scope": SCOPE,
    "department": DEPARTMENT,
    "description": DESCRIPTION,
    "scoring_standard": SCORING,
    "active": ACTIVE,
}
#: What the file writes for each direction (and reads, with the aliases below).
DIRECTION_SYMBOLS: dict[str, str] = {
    Direction.GTE: "≥",
    Direction.LTE: "≤",
    Direction.EQ: "=",
    Direction.QUALITATIVE: "定性",
}
DIRECTION_ALIASES: dict[str, str] = {">=": Direction.GTE, "<=": Direction.LTE, "＝": Direction.EQ, "==": Direction.EQ}

#: Fields an import compares and writes (besides code).
COMPARED_FIELDS = (
    "level1",
    "level2",
    "name",
    "unit",
    "direction",
    "scope",
    "department_id",
    "description",
    "scoring_standard",
    "active",
)
MAX_LENGTHS: dict[str, int] = {
    name: cast(models.CharField, Indicator._meta.get_field(name)).max_length or 0 for name in ("code", "name", "unit")
}
DIRECTIONS = frozenset(Direction.values)
#: The longest worksheet read (header included): some fourteen times Liwan's 7,104 rows.
MAX_SHEET_ROWS = 100_000
#: Rows per bulk_create / bulk_update call of an import (SQLite splits them further).
WRITE_BATCH = 500
#: What an import reports: rows in the file, and how many were created, updated, left as they were.
IMPORT_COUNTS = ("total", "created", "updated", "unchanged")

# Phases of the import job (message ids, shown translated on the job page).
PHASE_READ = gettext_noop("读取文件")
PHASE_CHECK = gettext_noop("校验数据")
PHASE_WRITE = gettext_noop("写入指标库")

# Notifications (message ids, translated when read).
PROPOSED = gettext_noop("%(department)s提出部门个性化指标「%(name)s」（%(code)s），请审核入库")
APPROVED = gettext_noop("您提出的指标「%(name)s」已审核入库，指标编码 %(code)s")
DECLINED = gettext_noop("您提出的指标「%(name)s」未予入库。理由：%(reason)s")


class IndicatorFields(TypedDict, total=False):
    """The editable fields of a library row (``indicator_update``)."""

    code: str
    level1: str
    level2: str
    name: str
    unit: str
    direction: str
    scope: str
    department: Department | None
    description: str
    scoring_standard: str


EDITABLE_FIELDS = tuple(IndicatorFields.__annotations__)


class IndicatorImportRejected(ValidationError):
    """The file was refused and nothing was written. ``errors`` lists every problem found,
    by Excel row number (the header is row 1) and column header."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__([str(e) for e in errors])


# -- the rules every path shares ------------------------------------------------------------


def _msgid_labels(choices) -> dict[str, str]:
    """value → the Chinese label (the msgid, whatever language is active)."""
    with translation.override(None):
        return {value: str(label) for value, label in choices}


@cache
def level1_labels() -> dict[str, str]:
    return _msgid_labels(IndicatorLevel1.choices)


@cache
def level2_labels() -> dict[str, str]:
    return _msgid_labels(IndicatorLevel2.choices)


@cache
def scope_labels() -> dict[str, str]:
    return _msgid_labels(IndicatorScope.choices)


def _readings(labels: dict[str, str]) -> dict[str, str]:
    """What a cell may say for each value: the label, the label without 指标, the value."""
    table: dict[str, str] = {}
    for value, label in labels.items():
        table[value] = value
        table[label] = value
        if label.endswith("指标") and len(label) > 2:
            table[label[: -len("指标")]] = value
    return table


def _normalise_text(value: str) -> str:
    """Multi-line text as stored: newlines are \\n, no surrounding blanks."""
    return (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def indicator_rule_errors(
    *,
    level1: str,
    level2: str,
    name: str,
    unit: str,
    direction: str,
    scope: str,
    department: Department | int | None,
    code: str | None = None,
) -> dict[str, str]:
    """The rules of a library row, checked on known values: {field: message}, empty if none
    is broken. ``department`` is a Department (or its id) known to exist, or None."""
    errors: dict[str, str] = {}
    l1, l2 = level1_labels(), level2_labels()
    if code is not None:
        if not code:
            errors["code"] = _("必须填写指标编码。")
        elif len(code) > MAX_LENGTHS["code"]:
            errors["code"] = _("指标编码不能超过 %(n)s 个字符。") % {"n": MAX_LENGTHS["code"]}
    if level1 not in l1:
        errors["level1"] = _("未知的一级指标。可选：%(choices)s。") % {"choices": "、".join(l1.values())}
    if level2 not in l2:
        errors["level2"] = _("未知的二级指标。可选：%(choices)s。") % {"choices": "、".join(l2.values())}
    elif level1 in l1 and LEVEL2_PARENT[level2] != level1:
        errors["level2"] = _("二级指标「%(level2)s」不属于一级指标「%(level1)s」（它属于「%(parent)s」）。") % {
            "level2": l2[level2],
            "level1": l1[level1],
            "parent": l1[LEVEL2_PARENT[level2]],
        }
    if not name:
        errors["name"] = _("必须填写三级指标名称。")
    elif len(name) > MAX_LENGTHS["name"]:
        errors["name"] = _("三级指标名称不能超过 %(n)s 个字符。") % {"n": MAX_LENGTHS["name"]}
    if direction not in DIRECTIONS:
        errors["direction"] = _("未知的指标性质。可选：≥、≤、=、定性。")
    elif direction in QUANTITATIVE and not unit:
        errors["unit"] = _("定量指标（≥、≤、=）必须填写计量单位。")
    if len(unit) > MAX_LENGTHS["unit"]:
        errors["unit"] = _("计量单位不能超过 %(n)s 个字符。") % {"n": MAX_LENGTHS["unit"]}
    if scope == IndicatorScope.GENERAL:
        if department is not None:
            errors["department"] = _("通用类指标不属于任何部门，所属部门应为空。")
    elif scope == IndicatorScope.DEPARTMENT:
        if department is None:
            errors["department"] = _("部门个性化指标必须指定所属部门。")
    else:
        errors["scope"] = _("未知的适用范围。可选：通用类、部门个性化。")
    return errors


def _check(values: Mapping[str, Any], *, with_code: bool) -> None:
    errors = indicator_rule_errors(
        level1=values["level1"],
        level2=values["level2"],
        name=values["name"],
        unit=values["unit"],
        direction=values["direction"],
        scope=values["scope"],
        department=values["department"],
        code=values["code"] if with_code else None,
    )
    department = values["department"]
    if "department" not in errors and department is not None:
        if not Department.objects.filter(pk=getattr(department, "pk", department)).exists():
            errors["department"] = _("所属部门不存在。")
    if errors:
        raise ValidationError(errors)


def _code_taken(code: str, *, exclude_pk: int | None = None) -> bool:
    qs = Indicator.objects.filter(code=code)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.exists()


# -- who is told ------------------------------------------------------------------------------


def indicator_approvers() -> list[User]:
    """The finance section's active officers (holders of processes.approve_indicator)."""
    perm = {"codename": "approve_indicator", "content_type__app_label": "processes"}
    return list(
        User.objects.filter(is_active=True, is_superuser=False)
        .filter(
            Q(**{f"groups__permissions__{k}": v for k, v in perm.items()})
            | Q(**{f"user_permissions__{k}": v for k, v in perm.items()})
        )
        .distinct()
    )


def indicator_url(indicator: Indicator) -> str:
    return reverse("processes:indicator_detail", args=[indicator.pk])


def _tell(indicator: Indicator, event_sequence: int, told: dict[User, Message], actor: User) -> None:
    told.pop(actor, None)
    notify(
        messages=told,
        event_key=f"audit:{event_sequence}",
        url=indicator_url(indicator),
        object_type=Indicator._meta.label_lower,
        object_id=str(indicator.pk),
    )


# -- proposals ------------------------------------------------------------------------------


def _next_proposal_code(department: Department) -> str:
    """<department code>-P<4 digits>, one more than the highest such code so far."""
    prefix = f"{department.code}-P"
    numbers = [
        int(code[len(prefix) :])
        for code in Indicator.objects.filter(code__startswith=prefix).values_list("code", flat=True)
        if code[len(prefix) :].isdigit()
    ]
    return f"{prefix}{max(numbers, default=0) + 1:04d}"


@transaction.atomic
def indicator_propose(
    *,
    actor: User,
    level1: str,
    level2: str,
    name: str,
    unit: str,
    direction: str,
    description: str = "",
    scoring_standard: str = "",
) -> Indicator:
    """A department's staff propose a department-specific indicator for their own department.

    The row is stored with status ``proposed`` and a code ``<department code>-P0001`` (the
    next free number); the finance officers are told. Raises PermissionDenied unless the
    actor holds processes.propose_indicator and belongs to a department, ValidationError
    (by field) when a rule is broken.
    """
    if not holds(actor, PROPOSE_PERMISSION) or actor.department_id is None:
        raise PermissionDenied(_("只有部门经办人可以提出部门个性化指标。"))
    department = Department.objects.get(pk=actor.department_id)
    values: dict[str, Any] = {
        "level1": level1,
        "level2": level2,
        "name": (name or "").strip(),
        "unit": (unit or "").strip(),
        "direction": direction,
        "scope": IndicatorScope.DEPARTMENT,
        "department": department,
        "description": _normalise_text(description),
        "scoring_standard": _normalise_text(scoring_standard),
    }
    _check(values, with_code=False)
    indicator = None
    for _attempt in range(5):  # a concurrent proposal may take the same number first
        try:
            with transaction.atomic():
                indicator = Indicator.objects.create(
                    code=_next_proposal_code(department),
                    status=IndicatorStatus.PROPOSED,
                    proposed_by=actor,
                    **values,
                )
            break
        except IntegrityError:
            continue
    if indicator is None:
        raise ActionNotAllowed(_("指标编码分配冲突，请稍后重试。"))
    event = audit_record(
        obj=indicator,
        action="propose",
        actor=actor,
        role=Role.DEPT_STAFF,
        to_state=indicator.status,
        detail=_snapshot(indicator),
    )
    message = Message("task", PROPOSED, {"department": department.name, "name": indicator.name, "code": indicator.code})
    _tell(indicator, event.sequence, {u: message for u in indicator_approvers()}, actor)
    return indicator


@transaction.atomic
def indicator_decide(
    *, indicator: Indicator, actor: User, approve: bool, comment: str = "", code: str | None = None
) -> Indicator:
    """The finance section approves a proposal into the library (optionally giving it a
    library code) or declines it (a comment is required). The proposer is told.

    Raises PermissionDenied (not the finance section), ActionNotAllowed (already decided)
    or ValidationError (no reason to decline; a code that is taken or too long; a rule
    the proposal breaks).
    """
    if not holds(actor, APPROVE_PERMISSION):
        raise PermissionDenied(_("只有财政绩效科可以审核部门提出的指标。"))
    indicator = (
        Indicator.objects.select_for_update(of=("self",))
        .select_related("department", "proposed_by")
        .get(pk=indicator.pk)
    )
    if indicator.status != IndicatorStatus.PROPOSED:
        raise ActionNotAllowed(
            _("该指标已审核（%(status)s），不能再次审核。") % {"status": indicator.get_status_display()}
        )
    comment = _normalise_text(comment)
    before = indicator.status
    detail: dict[str, Any] = {}
    if approve:
        new_code = (code or "").strip()
        if new_code and new_code != indicator.code:
            if len(new_code) > MAX_LENGTHS["code"]:
                raise ValidationError({"code": _("指标编码不能超过 %(n)s 个字符。") % {"n": MAX_LENGTHS["code"]}})
            if _code_taken(new_code, exclude_pk=indicator.pk):
                raise ValidationError({"code": _("指标编码 %(code)s 已被使用。") % {"code": new_code}})
            detail["code"] = [indicator.code, new_code]
            indicator.code = new_code
        _check(_values_of(indicator), with_code=True)
        indicator.status = IndicatorStatus.APPROVED
    else:
        if not comment:
            raise ValidationError({"comment": _("不予入库时必须填写理由。")})
        indicator.status = IndicatorStatus.DECLINED
    indicator.decision_comment = comment
    try:
        with transaction.atomic():
            indicator.save()
    except IntegrityError as exc:
        raise ValidationError({"code": _("指标编码 %(code)s 已被使用。") % {"code": indicator.code}}) from exc
    event = audit_record(
        obj=indicator,
        action="approve" if approve else "decline",
        actor=actor,
        role=Role.FINANCE_OFFICER,
        from_state=before,
        to_state=indicator.status,
        comment=comment,
        detail=detail,
    )
    proposer = indicator.proposed_by
    if proposer is not None:
        if approve:
            message = Message("approved", APPROVED, {"name": indicator.name, "code": indicator.code})
        else:
            message = Message("returned", DECLINED, {"name": indicator.name, "reason": comment})
        _tell(indicator, event.sequence, {proposer: message}, actor)
    return indicator


# -- the finance section's edits ------------------------------------------------------------


def _values_of(indicator: Indicator) -> dict[str, Any]:
    return {
        "code": indicator.code,
        "level1": indicator.level1,
        "level2": indicator.level2,
        "name": indicator.name,
        "unit": indicator.unit,
        "direction": indicator.direction,
        "scope": indicator.scope,
        "department": indicator.department_id,
        "description": indicator.description,
        "scoring_standard": indicator.scoring_standard,
    }


def _snapshot(indicator: Indicator) -> dict[str, Any]:
    """The row as the audit trail records it (the department by code)."""
    values = _values_of(indicator)
    values["department"] = indicator.department.code if indicator.department is not None else ""
    values["active"] = indicator.active
    return values


def _lock_library_row(indicator: Indicator, actor: User) -> Indicator:
    if not holds(actor, APPROVE_PERMISSION):
        raise PermissionDenied(_("只有财政绩效科可以维护指标库。"))
    indicator = Indicator.objects.select_for_update(of=("self",)).select_related("department").get(pk=indicator.pk)
    if indicator.status != IndicatorStatus.APPROVED:
        raise ActionNotAllowed(_("只有已入库的指标可以维护；部门提出的指标请先审核。"))
    return indicator


@transaction.atomic
def indicator_update(*, indicator: Indicator, actor: User, **changes: Unpack[IndicatorFields]) -> Indicator:
    """The finance section edits a library row. Fields not given stay as they are; if
    nothing changes nothing is written. Audited with every changed field's old and new
    value. Raises PermissionDenied, ActionNotAllowed (not a library row) or ValidationError."""
    indicator = _lock_library_row(indicator, actor)
    before = _snapshot(indicator)
    for name, value in changes.items():
        if name in ("description", "scoring_standard"):
            value = _normalise_text(str(value or ""))
        elif name in ("code", "name", "unit"):
            value = str(value or "").strip()
        setattr(indicator, name, value)
    values = _values_of(indicator)
    _check(values, with_code=True)
    if indicator.code != before["code"] and _code_taken(indicator.code, exclude_pk=indicator.pk):
        raise ValidationError({"code": _("指标编码 %(code)s 已被使用。") % {"code": indicator.code}})
    after = _snapshot(indicator)
    changed = {name: [before[name], after[name]] for name in after if before[name] != after[name]}
    if not changed:
        return indicator
    try:
        with transaction.atomic():
            indicator.save()
    except IntegrityError as exc:
        raise ValidationError({"code": _("指标编码 %(code)s 已被使用。") % {"code": indicator.code}}) from exc
    audit_record(
        obj=indicator,
        action="edit",
        actor=actor,
        role=Role.FINANCE_OFFICER,
        from_state=indicator.status,
        to_state=indicator.status,
        detail={"changed": changed},
    )
    return indicator


@transaction.atomic
def indicator_set_active(*, indicator: Indicator, actor: User, active: bool, comment: str = "") -> Indicator:
    """Deactivate (停用: no longer offered to new targets) or reactivate a library row.
    Setting the state it already has writes nothing."""
    indicator = _lock_library_row(indicator, actor)
    if indicator.active == active:
        return indicator
    indicator.active = active
    indicator.save(update_fields=["active", "updated_at"])
    audit_record(
        obj=indicator,
        action="activate" if active else "deactivate",
        actor=actor,
        role=Role.FINANCE_OFFICER,
        from_state=indicator.status,
        to_state=indicator.status,
        comment=_normalise_text(comment),
        detail={"active": active},
    )
    return indicator


# -- import ------------------------------------------------------------------------------------


def _check_columns(names: Iterable[str]) -> None:
    """Every column of the format present once, and no other (row 1 is the header)."""
    errors: list[RowError] = []
    seen: set[str] = set()
    for name in names:
        if not name:
            continue
        if name not in COLUMNS:
            errors.append(RowError(1, name, _("未知的列。可用的列：%(columns)s。") % {"columns": "、".join(COLUMNS)}))
        elif name in seen:
            errors.append(RowError(1, name, _("该列重复出现。")))
        seen.add(name)
    errors.extend(RowError(1, name, _("缺少必需的列。")) for name in COLUMNS if name not in seen)
    if errors:
        raise IndicatorImportRejected(errors)


def read_indicator_workbook(file: File | IO[bytes], *, progress: Progress | None = None) -> list[dict[str, str]]:
    """The first worksheet's data rows as dicts keyed by the column headers, every cell as
    text. Row i of the list is Excel row i + 2 (blank rows inside the data are kept, as
    empty dicts' values, so the numbers stay right; trailing blank rows are dropped).
    ``progress`` hears of the rows read (phase 读取文件; the total is the sheet's declared
    size, when it has one).

    Raises IndicatorImportRejected when the file is not a readable .xlsx, is longer than
    MAX_SHEET_ROWS, or its header row is not the format's (unknown, repeated or missing
    columns)."""
    progress = progress or NoProgress()
    name = getattr(file, "name", "") or ""
    if name and not name.lower().endswith(".xlsx"):
        raise IndicatorImportRejected([RowError(None, "", _("只能导入 Excel 工作簿（.xlsx）文件。"))])
    rows: list[tuple[Any, ...]] = []
    try:
        workbook = openpyxl.load_workbook(file, read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            progress.start(PHASE_READ, min(sheet.max_row or 0, MAX_SHEET_ROWS))
            for row in sheet.iter_rows(values_only=True):
                rows.append(row)
                progress.advance()
                if len(rows) > MAX_SHEET_ROWS:
                    break
        finally:
            workbook.close()
    except Exception as exc:  # any failure to parse is the file's fault, whatever openpyxl raised
        raise IndicatorImportRejected(
            [RowError(None, "", _("无法读取该文件，请上传用 Excel 保存的 .xlsx 工作簿。"))]
        ) from exc
    if len(rows) > MAX_SHEET_ROWS:
        raise IndicatorImportRejected(
            [RowError(None, "", _("工作表超过 %(n)s 行，请分成几个文件导入。") % {"n": MAX_SHEET_ROWS})]
        )
    while rows and not any(cell_text(v) for v in rows[-1]):
        rows.pop()
    if not rows or not any(cell_text(v) for v in rows[0]):
        raise IndicatorImportRejected([RowError(None, "", _("工作表第 1 行应为表头（指标编码、一级指标等列名）。"))])
    header = [cell_text(v) for v in rows[0]]
    _check_columns(header)
    index = {name: i for i, name in enumerate(header) if name}
    return [{name: cell_text(row[i]) if i < len(row) else "" for name, i in index.items()} for row in rows[1:]]


@cache
def _cell_readings() -> tuple[dict[str, str], dict[str, str], dict[str, str], dict[str, str]]:
    """What a cell may say → the value: level 1, level 2, direction, scope."""
    directions = {symbol: value for value, symbol in DIRECTION_SYMBOLS.items()}
    directions.update(DIRECTION_ALIASES)
    directions.update({value: value for value in DIRECTIONS})
    return _readings(level1_labels()), _readings(level2_labels()), directions, _readings(scope_labels())


def _parse_row(
    number: int, raw: Mapping[str, str], departments: dict[str, int]
) -> tuple[dict[str, Any], list[RowError]]:
    """One data row (cells as text, by column) → the model's values (department as id),
    and the row's errors."""
    errors: list[RowError] = []

    def error(column: str, message: str) -> None:
        errors.append(RowError(number, column, message))

    text = raw
    level1_of, level2_of, direction_of, scope_of = _cell_readings()

    for column in (CODE, LEVEL1, LEVEL2, NAME, DIRECTION, SCOPE):
        if not text[column]:
            error(column, _("必须填写。"))
    level1 = level1_of.get(text[LEVEL1], "")
    if text[LEVEL1] and not level1:
        error(
            LEVEL1,
            _("未知的一级指标「%(value)s」。可选：%(choices)s。")
            % {"value": text[LEVEL1], "choices": "、".join(level1_labels().values())},
        )
    level2 = level2_of.get(text[LEVEL2], "")
    if text[LEVEL2] and not level2:
        error(
            LEVEL2,
            _("未知的二级指标「%(value)s」。可选：%(choices)s。")
            % {"value": text[LEVEL2], "choices": "、".join(level2_labels().values())},
        )
    direction = direction_of.get(text[DIRECTION], "")
    if text[DIRECTION] and not direction:
        error(DIRECTION, _("未知的指标性质「%(value)s」。可选：≥、≤、=、定性。") % {"value": text[DIRECTION]})
    scope = scope_of.get(text[SCOPE], "")
    if text[SCOPE] and not scope:
        error(SCOPE, _("未知的适用范围「%(value)s」。可选：通用类、部门个性化。") % {"value": text[SCOPE]})
    department_id = None
    if text[DEPARTMENT]:
        department_id = departments.get(text[DEPARTMENT])
        if department_id is None:
            error(DEPARTMENT, _("没有编码为「%(code)s」的部门。") % {"code": text[DEPARTMENT]})
    active = yes_no(text[ACTIVE])
    if active is None:
        error(ACTIVE, _("应填“是”或“否”（不填视为“是”）。"))

    values: dict[str, Any] = {
        "code": text[CODE],
        "level1": level1,
        "level2": level2,
        "name": text[NAME],
        "unit": text[UNIT],
        "direction": direction,
        "scope": scope,
        "department_id": department_id,
        "description": _normalise_text(text[DESCRIPTION]),
        "scoring_standard": _normalise_text(text[SCORING]),
        "active": bool(active),
    }
    # The shared rules, on the columns that read well (a bad cell is reported once).
    rules = indicator_rule_errors(
        code=values["code"],
        level1=level1,
        level2=level2,
        name=values["name"],
        unit=values["unit"],
        direction=direction,
        scope=scope,
        department=department_id,
    )
    if scope == IndicatorScope.GENERAL and "department" in rules:
        rules["department"] = _("通用类指标不属于任何部门，所属部门编码应为空。")
    elif scope == IndicatorScope.DEPARTMENT and "department" in rules:
        rules["department"] = _("部门个性化指标必须填写所属部门编码。")
    bad = {e.column for e in errors}
    errors.extend(
        RowError(number, FIELD_COLUMNS[field], message)
        for field, message in rules.items()
        if FIELD_COLUMNS[field] not in bad
    )
    errors.sort(key=lambda e: COLUMNS.index(e.column))  # in the file's column order
    return values, errors


def indicators_import_rows(
    *,
    actor: User,
    rows: Iterable[Mapping[str, Any]],
    progress: Progress | None = None,
    file_name: str = "",
    job: Job | None = None,
) -> dict[str, int]:
    """Import library rows given as dicts keyed by the file's Chinese headers (COLUMNS);
    the first dict is Excel row 2. Returns {total, created, updated, unchanged}.

    Every row is checked before anything is written; if any is bad, nothing is written and
    IndicatorImportRejected lists every problem by row and column. Otherwise the rows are
    upserted by 指标编码 as approved library rows: a new code is created, a row whose
    values differ is updated, an identical row is not touched (so importing the same file
    again writes nothing at all). Rows of the library absent from the file stay. A code
    held by a department's proposal (not in the library) is refused.

    The checking runs outside any transaction and reports ``progress``; the writing is one
    short transaction (bulk INSERTs and UPDATEs in batches) with one audit event
    ``indicator_import`` (counts, file name, updated codes) on the library as a whole —
    the Indicator content type, since no one row stands for an import. An import that
    changes nothing writes no audit event either. Two queries read what the rows
    are checked against (all departments' codes, all indicators' compared fields).

    Raises PermissionDenied unless the actor holds processes.import_indicators.
    """
    if not holds(actor, IMPORT_PERMISSION):
        raise PermissionDenied(_("只有财政绩效科可以导入指标库。"))
    result = indicators_write_rows(actor=actor, rows=rows, progress=progress, file_name=file_name, job=job)
    return {key: result[key] for key in IMPORT_COUNTS}


def indicators_write_rows(
    *,
    actor: User,
    rows: Iterable[Mapping[str, Any]],
    progress: Progress | None = None,
    file_name: str = "",
    job: Job | None = None,
) -> dict[str, int]:
    """indicators_import_rows without the permission check, for a caller that made its own
    (the history import). Also returns the file's rows by scope: {general, department}."""
    progress = progress or NoProgress()
    rows = list(rows)
    if rows:
        # Headers as written by hand or by a CSV editor: surrounding blanks, a UTF-8 BOM.
        keys = {key: str(key).strip().lstrip("\ufeff").strip() for key in rows[0] if key}
        if any(key != name for key, name in keys.items()):
            rows = [{keys.get(key, key): value for key, value in raw.items()} for raw in rows]
        _check_columns(keys.values())
    departments = dict(Department.objects.values_list("code", "pk"))
    existing = {row["code"]: row for row in Indicator.objects.values("pk", "code", "status", *COMPARED_FIELDS)}
    status_labels = dict(IndicatorStatus.choices)

    progress.start(PHASE_CHECK, len(rows))
    errors: list[RowError] = []
    parsed: list[dict[str, Any]] = []
    first_row_of: dict[str, int] = {}
    for number, raw in enumerate(rows, start=2):
        progress.advance()
        text = {column: cell_text(raw.get(column)) for column in COLUMNS}
        if not any(text.values()):
            continue
        values, row_errors = _parse_row(number, text, departments)
        code = values["code"]
        if code:
            if code in first_row_of:
                row_errors.insert(
                    0, RowError(number, CODE, _("与第 %(row)s 行的指标编码重复。") % {"row": first_row_of[code]})
                )
            else:
                first_row_of[code] = number
            old = existing.get(code)
            if old is not None and old["status"] != IndicatorStatus.APPROVED:
                row_errors.append(
                    RowError(
                        number,
                        CODE,
                        _("该编码属于一条%(status)s的部门提议，不能通过导入覆盖。")
                        % {"status": status_labels[old["status"]]},
                    )
                )
        errors.extend(row_errors)
        parsed.append(values)
    if errors:
        raise IndicatorImportRejected(errors)
    if not parsed:
        raise IndicatorImportRejected([RowError(None, "", _("文件中没有数据行。"))])

    now = timezone.now()
    to_create: list[Indicator] = []
    to_update: list[Indicator] = []
    for values in parsed:
        old = existing.get(values["code"])
        if old is None:
            to_create.append(Indicator(status=IndicatorStatus.APPROVED, **values))
        elif any(old[name] != values[name] for name in COMPARED_FIELDS):
            to_update.append(Indicator(pk=old["pk"], updated_at=now, **values))
    result = {
        "total": len(parsed),
        "created": len(to_create),
        "updated": len(to_update),
        "unchanged": len(parsed) - len(to_create) - len(to_update),
        "general": sum(1 for values in parsed if values["scope"] == IndicatorScope.GENERAL),
        "department": sum(1 for values in parsed if values["scope"] == IndicatorScope.DEPARTMENT),
    }

    progress.start(PHASE_WRITE, len(to_create) + len(to_update))
    if not (to_create or to_update):
        return result  # the library already holds the file: nothing to write, nothing to audit
    with transaction.atomic():
        for start in range(0, len(to_create), WRITE_BATCH):
            batch = to_create[start : start + WRITE_BATCH]
            try:
                with transaction.atomic():
                    Indicator.objects.bulk_create(batch)
            except IntegrityError as exc:  # a code created by someone else since the check
                raise ActionNotAllowed(_("导入期间指标库被他人修改，请重新导入。")) from exc
            progress.advance(len(batch))
        for start in range(0, len(to_update), WRITE_BATCH):
            batch = to_update[start : start + WRITE_BATCH]
            Indicator.objects.bulk_update(batch, [*COMPARED_FIELDS, "updated_at"])
            progress.advance(len(batch))
        audit_record(
            obj=ContentType.objects.get_for_model(Indicator),
            action="indicator_import",
            actor=actor,
            role=Role.FINANCE_OFFICER,
            comment=file_name,
            detail={
                **result,
                "file": file_name,
                "job": job.pk if job is not None else None,
                "updated_codes": [i.code for i in to_update][:500],
            },
        )
    return result


def indicator_import_start(*, actor: User, file: File) -> Job:
    """Upload a library file for import: checks the actor, the file's name, size and content, and
    queues the ``indicator_import`` job (its page shows the progress and the outcome).
    Raises PermissionDenied or ValidationError (on ``file``)."""
    if not holds(actor, IMPORT_PERMISSION):
        raise PermissionDenied(_("只有财政绩效科可以导入指标库。"))
    name = getattr(file, "name", "") or ""
    if not name.lower().endswith(".xlsx"):
        raise ValidationError({"file": _("只能导入 Excel 工作簿（.xlsx）文件。")})
    limit = settings.JIXIAO["INDICATOR_IMPORT_MAX_BYTES"]
    size = getattr(file, "size", None)
    if size is not None and size > limit:
        raise ValidationError(
            {"file": _("文件过大（%(size)s MB），上限为 %(limit)s MB。") % {"size": _mb(size), "limit": _mb(limit)}}
        )
    check_xlsx(file, field="file")  # the content, not only the name: a zip naming a spreadsheet
    return job_start(kind=IMPORT_JOB, actor=actor, params={"file_name": name}, file=file)


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.1f}".rstrip("0").rstrip(".")


def indicator_import_job(job: Job, progress: Progress) -> dict[str, int]:
    """The ``indicator_import`` job: read the uploaded workbook, then import its rows."""
    with job.file.open("rb") as handle:
        rows = read_indicator_workbook(handle, progress=progress)
    return indicators_import_rows(
        actor=job.created_by, rows=rows, progress=progress, file_name=job.params.get("file_name", ""), job=job
    )


# -- export --------------------------------------------------------------------------------------

COLUMN_WIDTHS = (16, 12, 16, 36, 10, 10, 12, 14, 40, 40, 6)


def _row_of(indicator: Indicator) -> list[str]:
    return [
        indicator.code,
        level1_labels().get(indicator.level1, indicator.level1),
        level2_labels().get(indicator.level2, indicator.level2),
        indicator.name,
        indicator.unit,
        DIRECTION_SYMBOLS.get(indicator.direction, indicator.direction),
        scope_labels().get(indicator.scope, indicator.scope),
        indicator.department.code if indicator.department is not None else "",
        indicator.description,
        indicator.scoring_standard,
        YES if indicator.active else NO,
    ]


def _workbook(indicators: Iterable[Indicator]) -> bytes:
    """The library sheet (header, then one row per indicator) and the 说明 sheet."""
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(SHEET_TITLE)
    for index, width in enumerate(COLUMN_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    sheet.append([_text_cell(sheet, name, font=bold) for name in COLUMNS])
    for indicator in indicators:
        sheet.append([_text_cell(sheet, value) for value in _row_of(indicator)])
    help_sheet = workbook.create_sheet(HELP_SHEET_TITLE)
    help_sheet.column_dimensions["A"].width = 16
    help_sheet.column_dimensions["B"].width = 10
    help_sheet.column_dimensions["C"].width = 90
    for number, row in enumerate(_help_rows()):
        help_sheet.append([_text_cell(help_sheet, value, font=None if number else bold) for value in row])
    out = BytesIO()
    workbook.save(out)
    return out.getvalue()


def _text_cell(sheet, value: str, font: Font | None = None) -> WriteOnlyCell:
    """A text cell; text that begins with "=" is data, never a formula the reader's Excel runs."""
    cell = WriteOnlyCell(sheet, value=value)
    if cell.data_type == "f":
        cell.data_type = "s"
    if font is not None:
        cell.font = font
    return cell


@cache
def _help_rows() -> list[tuple[str, str, str]]:
    """The 说明 sheet: each column, whether it is required, what it may hold."""
    level2_by_level1 = "；".join(
        f"{label1}：" + "、".join(label2 for v2, label2 in level2_labels().items() if LEVEL2_PARENT[v2] == v1)
        for v1, label1 in level1_labels().items()
    )
    return [
        ("列名", "必填", "说明与可填写的值"),
        (CODE, "是", "指标的唯一编码（最长 40 个字符）。导入时按编码更新：编码已存在则更新该行，不存在则新增。"),
        (LEVEL1, "是", "、".join(level1_labels().values()) + "（也可省略末尾的“指标”，如“产出”）。"),
        (LEVEL2, "是", "须属于所填的一级指标。" + level2_by_level1 + "（也可省略末尾的“指标”，如“数量”）。"),
        (NAME, "是", "三级指标名称（最长 200 个字符）。"),
        (UNIT, "定量指标必填", "指标性质为 ≥、≤、= 时必须填写（如 个、%、万元、天）；定性指标可不填。"),
        (DIRECTION, "是", "≥（越大越好，也可写 >=）、≤（越小越好，也可写 <=）、=（等于目标值，也可写全角 ＝）、定性。"),
        (SCOPE, "是", "通用类（所有部门可用）或 部门个性化（仅所属部门可用）。"),
        (DEPARTMENT, "部门个性化必填", "部门个性化指标填所属部门的编码（须为系统中已有的部门）；通用类指标必须留空。"),
        (DESCRIPTION, "否", "指标的含义与计算口径。"),
        (SCORING, "否", "评分标准。"),
        (ACTIVE, "否", "是 或 否；不填视为“是”。停用的指标不再供新填报的绩效目标选用。"),
        ("", "", ""),
        ("导入规则", "", "第 1 行为表头，列名须与本模板一致；从第 2 行起每行一个指标。"),
        ("", "", "任何一行有错误时整个文件都不导入，并按行号和列名列出全部错误；改正后重新上传即可。"),
        ("", "", "同一文件中指标编码不得重复。重复导入同一文件不会改变指标库；文件中没有的指标保持不变。"),
    ]


def indicators_export_workbook(queryset: QuerySet[Indicator]) -> bytes:
    """The library rows of ``queryset`` (approved only; its filters apply) as the import's
    format, ordered by code: exporting and importing the file back changes nothing."""
    rows = queryset.filter(status=IndicatorStatus.APPROVED).select_related("department").order_by("code")
    return _workbook(rows.iterator(chunk_size=2000))


def indicator_template_workbook() -> bytes:
    """The empty import template: the header row and the 说明 sheet."""
    return _workbook([])
