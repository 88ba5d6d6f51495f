"""The expert library (专家库) as a spreadsheet: import all-or-nothing, and export.

The file is one worksheet with a header row; the columns are named by header, so their
order is free. Import and export use the same format, so an exported file imports back
unchanged. Headers and specialty labels are the Chinese originals whatever the interface
language: the file is a format, not a screen.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from io import BytesIO
from typing import IO, Any

import openpyxl
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter

from .models import Department, ExpertProfile, User
from .roles import Role, holds, role_labels
from .signals import expert_library_imported

IMPORT_PERMISSION = "accounts.import_experts"

# The file's columns (its format: never translated).
USERNAME = "账号"
FULL_NAME = "姓名"
EMAIL = "邮箱"
EMPLOYER = "工作单位"
SPECIALTIES = "专业领域"
CONFLICTS = "回避部门"
ACTIVE = "在库"
COLUMNS = (USERNAME, FULL_NAME, EMAIL, EMPLOYER, SPECIALTIES, CONFLICTS, ACTIVE)
REQUIRED_COLUMNS = (USERNAME, FULL_NAME)

#: How a list is written in one cell: 、 or a comma or a semicolon, half- or full-width.
LIST_SEPARATORS = re.compile(r"[、,，;；]")
#: What export writes between list items.
LIST_SEPARATOR = "、"
YES, NO = "是", "否"

#: The model field each column checks against, for the model's own validation messages.
_USER_FIELDS = {"username": USERNAME, "full_name": FULL_NAME, "email": EMAIL}
_PROFILE_FIELDS = {"employer": EMPLOYER}
#: An existing account may join the library only if it holds no role but this one.
_ROLES_COMPATIBLE_WITH_EXPERT = frozenset({Role.EXPERT})


@dataclass(frozen=True)
class RowError:
    """One problem in the file. ``row`` is the row number Excel shows (the header is row 1),
    None for the file as a whole; ``column`` is the column's header, "" for the whole row."""

    row: int | None
    column: str
    message: str

    def __str__(self) -> str:
        if self.row is None:
            return self.message
        if not self.column:
            return _("第 %(row)s 行：%(message)s") % {"row": self.row, "message": self.message}
        return _("第 %(row)s 行「%(column)s」：%(message)s") % {
            "row": self.row,
            "column": self.column,
            "message": self.message,
        }


class ExpertImportRejected(ValidationError):
    """The file was refused and nothing was imported. ``errors`` lists every problem found."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__([str(e) for e in errors])


@dataclass(frozen=True)
class ImportResult:
    """What an import did: library entries created and updated, by username."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    new_accounts: list[str] = field(default_factory=list)

    @property
    def created_count(self) -> int:
        return len(self.created)

    @property
    def updated_count(self) -> int:
        return len(self.updated)


@dataclass
class _Row:
    """One valid data row, ready to write: the account and profile are unsaved."""

    number: int
    user: User
    profile: ExpertProfile
    conflicts: list[Department] | None  # None: the file has no 回避部门 column, keep as is
    new_account: bool
    new_profile: bool


def expert_library_import(*, actor: User, file: File | IO[bytes]) -> ImportResult:
    """Create or update experts (account and 专家库 entry) from an .xlsx file.

    Every row is checked before anything is written; if any row is bad, nothing is
    imported and ExpertImportRejected lists every problem with its row and column. New
    accounts get an unusable password (an administrator sets one) and the expert role;
    an existing account is refused unless it holds no role or only the expert role. A
    column missing from the file leaves that field of existing entries as it is.

    Writes, in one transaction, the accounts, profiles and one audit event
    ``expert_import`` (announced as ``accounts.signals.expert_library_imported`` and written
    by processes.account_audit in the same transaction: accounts never imports processes).
    The event's object is the ``expert`` role group: an import is about the library as a
    whole, no one row stands for that, and the group is the library's membership (every
    entry's account is put in it). Its detail names the entries created and updated.

    Raises PermissionDenied unless the actor holds accounts.import_experts.
    """
    if not holds(actor, IMPORT_PERMISSION):
        raise PermissionDenied(_("只有财政绩效科或系统管理员可以导入专家库。"))
    header, data = _read_sheet(file)
    columns = _check_header(header)
    with transaction.atomic():
        rows = _check_rows(data, columns)
        result = _write(rows)
        expert_library_imported.send(
            sender=User,
            actor=actor,
            role=next((r for r in (Role.FINANCE_OFFICER, Role.SYSADMIN) if actor.has_role(r)), ""),
            group=Group.objects.get(name=Role.EXPERT),
            file_name=getattr(file, "name", "") or "",
            result=result,
        )
    return result


def expert_library_export() -> bytes:
    """The whole expert library as an .xlsx in the import's format, ordered by account."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None  # a new workbook has one sheet
    sheet.title = "专家库"
    sheet.append(COLUMNS)
    labels = _specialty_labels()
    profiles = ExpertProfile.objects.select_related("user").prefetch_related("conflicts").order_by("user__username")
    for profile in profiles:
        sheet.append(
            [
                profile.user.username,
                profile.user.full_name,
                profile.user.email,
                profile.employer,
                LIST_SEPARATOR.join(labels.get(s, s) for s in profile.specialties),
                LIST_SEPARATOR.join(sorted(d.code for d in profile.conflicts.all())),
                YES if profile.active else NO,
            ]
        )
        for cell in sheet[sheet.max_row]:
            # Text that begins with "=" is data, not a formula to run in the reader's Excel.
            if cell.data_type == "f":
                cell.data_type = "s"
    for index, width in enumerate((16, 12, 28, 28, 24, 24, 8), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    out = BytesIO()
    workbook.save(out)
    return out.getvalue()


# -- reading ----------------------------------------------------------------------------


def _read_sheet(file: File | IO[bytes]) -> tuple[tuple[Any, ...], list[tuple[int, tuple[Any, ...]]]]:
    """The first worksheet's header row and its non-blank data rows with their numbers."""
    name = getattr(file, "name", "") or ""
    if name and not name.lower().endswith(".xlsx"):
        raise ExpertImportRejected([RowError(None, "", _("只能导入 Excel 工作簿（.xlsx）文件。"))])
    try:
        workbook = openpyxl.load_workbook(file, read_only=True, data_only=True)
        try:
            rows = list(workbook.worksheets[0].iter_rows(values_only=True))
        finally:
            workbook.close()
    except Exception as exc:  # any failure to parse is the file's fault, whatever openpyxl raised
        raise ExpertImportRejected(
            [RowError(None, "", _("无法读取该文件，请上传用 Excel 保存的 .xlsx 工作簿。"))]
        ) from exc
    numbered = [(number, row) for number, row in enumerate(rows, start=1) if any(cell_text(v) for v in row)]
    if not numbered or numbered[0][0] != 1:
        raise ExpertImportRejected([RowError(None, "", _("工作表第 1 行应为表头（账号、姓名等列名）。"))])
    header, data = numbered[0][1], numbered[1:]
    if not data:
        raise ExpertImportRejected([RowError(None, "", _("文件中没有数据行。"))])
    return header, data


def _check_header(header: tuple[Any, ...]) -> dict[str, int]:
    """Each known column's index; every unknown, repeated or missing required column is an error."""
    columns: dict[str, int] = {}
    errors = []
    for index, value in enumerate(header):
        name = cell_text(value)
        if not name:
            continue
        if name not in COLUMNS:
            errors.append(
                RowError(
                    1,
                    name,
                    _("未知的列。可用的列：%(columns)s。") % {"columns": LIST_SEPARATOR.join(COLUMNS)},
                )
            )
        elif name in columns:
            errors.append(RowError(1, name, _("该列重复出现。")))
        else:
            columns[name] = index
    for name in REQUIRED_COLUMNS:
        if name not in columns:
            errors.append(RowError(1, name, _("缺少必需的列。")))
    if errors:
        raise ExpertImportRejected(errors)
    return columns


# -- reading cells: public, every spreadsheet import reads its cells with these ----------


def cell_text(value: Any) -> str:
    """A cell as text: numbers typed into Excel (an account like 10086) read as written."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _split(value: str) -> list[str]:
    """The items of a list cell, in order, without blanks or repeats."""
    return list(dict.fromkeys(item.strip() for item in LIST_SEPARATORS.split(value) if item.strip()))


# -- checking ---------------------------------------------------------------------------


def _specialty_labels() -> dict[str, str]:
    """Specialty value → its Chinese label (the msgid, whatever language is active)."""
    with translation.override(None):
        return {value: str(label) for value, label in ExpertProfile.Specialty.choices}


def _check_rows(data: list[tuple[int, tuple[Any, ...]]], columns: dict[str, int]) -> list[_Row]:
    """Every row checked; raises ExpertImportRejected with all errors if any row is bad."""

    def cell(row: tuple[Any, ...], column: str) -> Any:
        index = columns.get(column)
        return row[index] if index is not None and index < len(row) else None

    usernames = [cell_text(cell(row, USERNAME)) for _, row in data]
    existing = {
        u.username: u
        for u in User.objects.filter(username__in=[u for u in usernames if u])
        .select_related("expert_profile")
        .prefetch_related("groups")
    }
    departments = list(Department.objects.all())
    by_code = {d.code: d for d in departments}
    by_name = {d.name: d for d in departments}
    specialties = {label: value for value, label in _specialty_labels().items()}
    specialties.update({value: value for value in ExpertProfile.Specialty.values})

    errors: list[RowError] = []
    rows: list[_Row] = []
    first_row_of: dict[str, int] = {}
    for (number, row), username in zip(data, usernames, strict=True):
        row_errors: list[RowError] = []

        def error(column: str, message: str, number: int = number, row_errors: list[RowError] = row_errors) -> None:
            row_errors.append(RowError(number, column, message))

        full_name = cell_text(cell(row, FULL_NAME))
        if not username:
            error(USERNAME, _("必须填写。"))
        elif username in first_row_of:
            error(USERNAME, _("与第 %(row)s 行的账号重复。") % {"row": first_row_of[username]})
        else:
            first_row_of[username] = number
        if not full_name:
            error(FULL_NAME, _("必须填写。"))

        user = existing.get(username)
        new_account = user is None
        if user is None:
            user = User(username=username)
            user.set_unusable_password()
        else:
            other_roles = {g.name for g in user.groups.all()} - _ROLES_COMPATIBLE_WITH_EXPERT
            if other_roles:
                error(
                    USERNAME,
                    _("账号 %(username)s 已担任%(roles)s，不能同时作为专家。")
                    % {"username": username, "roles": role_labels(other_roles)},
                )
        profile = getattr(user, "expert_profile", None) if not new_account else None
        new_profile = profile is None
        if profile is None:
            profile = ExpertProfile()

        user.full_name = full_name
        if EMAIL in columns:
            user.email = cell_text(cell(row, EMAIL))
        if EMPLOYER in columns:
            profile.employer = cell_text(cell(row, EMPLOYER))
        if SPECIALTIES in columns:
            chosen = []
            for item in _split(cell_text(cell(row, SPECIALTIES))):
                if item in specialties:
                    chosen.append(specialties[item])
                else:
                    error(
                        SPECIALTIES,
                        _("未知的专业领域「%(item)s」。可选：%(choices)s。")
                        % {"item": item, "choices": LIST_SEPARATOR.join(_specialty_labels().values())},
                    )
            profile.specialties = list(dict.fromkeys(chosen))
        conflicts = None
        if CONFLICTS in columns:
            conflicts = []
            for item in _split(cell_text(cell(row, CONFLICTS))):
                department = by_code.get(item) or by_name.get(item)
                if department is None:
                    error(CONFLICTS, _("没有编码或名称为「%(item)s」的部门。") % {"item": item})
                else:
                    conflicts.append(department)
        if ACTIVE in columns:
            active = cell_yes_no(cell(row, ACTIVE))
            if active is None:
                error(ACTIVE, _("应填“是”或“否”（不填视为“是”）。"))
            else:
                profile.active = active
        elif new_profile:
            profile.active = True

        if not row_errors:  # the model's own rules, once the values are known to be sane
            row_errors.extend(_model_errors(number, user, profile))
        errors.extend(row_errors)
        rows.append(_Row(number, user, profile, conflicts, new_account, new_profile))
    if errors:
        raise ExpertImportRejected(errors)
    return rows


def cell_yes_no(value: Any) -> bool | None:
    """A yes/no cell: 是 (or empty) True, 否 False, a real boolean as is; None for anything else."""
    if isinstance(value, bool):
        return value
    text = cell_text(value)
    if text in ("", YES):
        return True
    if text == NO:
        return False
    return None


def _model_errors(number: int, user: User, profile: ExpertProfile) -> Iterable[RowError]:
    """Lengths, the username's characters, the e-mail's form: as the model validates them."""
    checks: list[tuple[Any, dict[str, str], list[str]]] = [
        (user, _USER_FIELDS, ["password"]),
        (profile, _PROFILE_FIELDS, ["user"]),
    ]
    for instance, fields, exclude in checks:
        try:
            instance.full_clean(exclude=exclude)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                column = fields.get(name, "")
                for message in messages:
                    yield RowError(number, column, message)


# -- writing ----------------------------------------------------------------------------


def _write(rows: list[_Row]) -> ImportResult:
    expert_group = Group.objects.get(name=Role.EXPERT)
    result = ImportResult()
    for row in rows:
        row.user.save()
        row.user.groups.add(expert_group)  # adding a group the account has is a no-op
        row.profile.user = row.user
        row.profile.save()
        if row.conflicts is not None:
            row.profile.conflicts.set(row.conflicts)
        (result.created if row.new_profile else result.updated).append(row.user.username)
        if row.new_account:
            result.new_accounts.append(row.user.username)
    return result
