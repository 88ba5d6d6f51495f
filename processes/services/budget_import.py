"""Budget-preparation import (预算编制导入, issue 18 item 2): next year's projects from the
budget system's 项目库, created as drafts for their departments in one action.

The format (docs/processes/execution-data.md, "Budget-preparation import"): one worksheet, a header row, one
project a row. Headers are the Chinese ones of ``COLUMNS`` (English keys accepted, the
same as the JSON batch's keys); other columns are ignored.

    预算部门        department       the department's code or its name
    项目编码        code             unique in the file; with the year, the project's key
    项目名称        name
    项目类别        category         基建工程 … 其他 (the label) or its key
    项目性质        recurrence       经常性项目 / 一次性项目 (经常性 / 一次性), or its key
    申报金额（元）  requested_amount  yuan, > 0, at most two decimals
    总体目标        overall_goal     optional; blank keeps a draft's own

Every row is checked before anything is written; any problem refuses the whole import
(``BudgetImportRejected``, each problem by row and column). Keyed by (year, code): a new
code creates a draft (stage 草稿) of its department; a row equal to its project changes
nothing (whatever the project's stage); a changed row of a project still in draft
updates it; a changed row of a project that left draft is refused with its stage. The
import is the finance section's (``processes.intake_project``); each created project is
audited ``create`` as a department's own creation is, each updated one ``edit``, and the
import as a whole ``budget_import`` (who, file, year, counts). Each department with
created or updated projects hears once: 财政导入了 N 个 YEAR 年项目，请完善后提交.

The long part (reading, checking) runs outside any transaction and reports progress; the
writing is one short transaction of bulk statements (``budget_import_job``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, TYPE_CHECKING, Any

import openpyxl
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import Department, User
from accounts.roles import Role
from accounts.services import RowError, cell_text
from notifications.services import Message, notify

from .. import numbers
from ..errors import ActionNotAllowed
from ..files import check_xlsx
from ..fiscal_years import validate_fiscal_year
from ..models import BudgetProject, Job, ProjectCategory, Recurrence
from ..permissions import holds
from ..states import ProjectStage
from .audit import audit_record, audit_record_many
from .jobs import job_start

if TYPE_CHECKING:
    from .jobs import Progress

JOB_KIND = "budget_import"
PERMISSION = "processes.intake_project"
MAX_ROWS = 20_000
MAX_BYTES = 10 * 1024 * 1024
WRITE_BATCH = 1000
CENT = Decimal("0.01")

PHASE_READ = gettext_noop("读取文件")
PHASE_CHECK = gettext_noop("校验")
PHASE_WRITE = gettext_noop("写入")
IMPORTED = gettext_noop("财政导入了 %(count)s 个 %(year)s 年项目，请完善后提交")

#: field → (the Chinese header, the English key, other spellings accepted). The order is
#: the template's column order.
COLUMNS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "department": ("预算部门", "department", ("部门", "部门名称", "部门编码", "单位")),
    "code": ("项目编码", "code", ("project_code",)),
    "name": ("项目名称", "name", ("project_name",)),
    "category": ("项目类别", "category", ()),
    "recurrence": ("项目性质", "recurrence", ()),
    "requested_amount": ("申报金额（元）", "requested_amount", ("申报金额", "申报金额(元)", "requested")),
    "overall_goal": ("总体目标", "overall_goal", ("goal",)),
}
REQUIRED = ("department", "code", "name", "category", "recurrence", "requested_amount")
#: What a row sets on its project (besides the department).
FIELDS = ("name", "category", "recurrence", "requested_amount", "overall_goal")
AMOUNT_BOUNDS = numbers.decimal_bounds(BudgetProject, "requested_amount")
RESULT_LABELS = ("total", "created", "updated", "unchanged")


class BudgetImportRejected(ValidationError):
    """Nothing was written. ``errors`` lists every problem: the row (Excel's number for a
    file, the 1-based position for a JSON batch; None for the whole file) and the column
    as the file or the batch wrote it."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__([str(e) for e in errors])

    def as_json(self) -> list[dict[str, Any]]:
        return [{"row": e.row, "column": e.column, "message": e.message} for e in self.errors]


class _NoProgress:
    def start(self, phase: str, total: int) -> None: ...

    def advance(self, n: int = 1) -> None: ...


def _spellings() -> dict[str, str]:
    """Every accepted header (as written, and without blanks) → its field."""
    out: dict[str, str] = {}
    for field, (chinese, english, others) in COLUMNS.items():
        for spelling in (chinese, english, *others):
            out[spelling] = field
    return out


def _labels(choices) -> dict[str, str]:
    """Label (Chinese msgid, and the active language's) or key → the value."""
    out = {value: value for value, _label in choices}
    with translation.override(None):
        out.update({str(label): value for value, label in choices})
    out.update({str(label): value for value, label in choices})
    return out


def can_import(user: User) -> bool:
    return holds(user, PERMISSION)


def _require(actor: User) -> None:
    if not can_import(actor):
        raise PermissionDenied(_("只有财政绩效科可以导入预算编制项目。"))


def _year(fiscal_year: Any) -> int:
    try:
        year = int(str(fiscal_year).strip())
        validate_fiscal_year(year)
    except (TypeError, ValueError, ValidationError):
        raise ValidationError({"fiscal_year": _("请填写有效的预算年度。")}) from None
    return year


# -- reading -------------------------------------------------------------------------------


def read_workbook(file: File | IO[bytes], *, progress: Progress | _NoProgress | None = None) -> list[dict[str, str]]:
    """The first worksheet's data rows as {header as written: text}; row i of the list is Excel
    row i + 2 (trailing blank rows dropped). BudgetImportRejected when the file is not a
    readable workbook or is longer than MAX_ROWS."""
    progress = progress or _NoProgress()
    rows: list[tuple[Any, ...]] = []
    try:
        book = openpyxl.load_workbook(file, read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]
            progress.start(PHASE_READ, min(sheet.max_row or 0, MAX_ROWS))
            for row in sheet.iter_rows(values_only=True):
                rows.append(row)
                progress.advance()
                if len(rows) > MAX_ROWS + 1:
                    break
        finally:
            book.close()
    except Exception as exc:  # any failure to parse is the file's, whatever openpyxl raised
        raise BudgetImportRejected(
            [RowError(None, "", _("无法读取该文件，请上传用 Excel 保存的 .xlsx 工作簿。"))]
        ) from exc
    if len(rows) > MAX_ROWS + 1:
        raise BudgetImportRejected(
            [RowError(None, "", _("工作表超过 %(n)s 行，请分成几个文件导入。") % {"n": MAX_ROWS})]
        )
    while rows and not any(cell_text(v) for v in rows[-1]):
        rows.pop()
    if not rows:
        raise BudgetImportRejected([RowError(None, "", _("文件中没有数据行。"))])
    header = [cell_text(v) for v in rows[0]]
    index = {name: i for i, name in enumerate(header) if name}
    return [{name: cell_text(row[i]) if i < len(row) else "" for name, i in index.items()} for row in rows[1:]]


# -- checking ------------------------------------------------------------------------------


@dataclass
class _Row:
    number: int
    department_id: int
    code: str
    values: dict[str, Any]  # FIELDS


@dataclass
class Plan:
    """The checked rows, ready to write."""

    fiscal_year: int
    create: list[_Row]
    update: list[tuple[_Row, dict[str, Any]]]  # (row, the project as it was read)
    unchanged: int

    @property
    def counts(self) -> dict[str, int]:
        created, updated = len(self.create), len(self.update)
        return {
            "total": created + updated + self.unchanged,
            "created": created,
            "updated": updated,
            "unchanged": self.unchanged,
        }


def budget_import_check(
    *,
    fiscal_year: int,
    rows: Iterable[Mapping[str, Any]],
    first_row: int = 2,
    progress: Progress | _NoProgress | None = None,
) -> Plan:
    """Check every row against the format and the projects of ``fiscal_year`` (four queries:
    departments, their staff, the year's projects with those codes). ``first_row`` is the
    number of the first row (2 for a file, 1 for a JSON batch). Raises BudgetImportRejected
    listing every problem."""
    progress = progress or _NoProgress()
    rows = list(rows)
    errors: list[RowError] = []
    spellings = _spellings()
    headers: dict[str, str] = {}  # field → the header as written
    for first in rows[:1]:
        for key in first:
            field = spellings.get(str(key).strip().lstrip("\ufeff").strip())
            if field is not None and field not in headers:
                headers[field] = str(key)
    missing = [COLUMNS[f][0] for f in REQUIRED if f not in headers]
    if rows and missing:
        raise BudgetImportRejected(
            [RowError(None, "", _("缺少必填列：%(columns)s。") % {"columns": "、".join(missing)})]
        )
    if not rows:
        raise BudgetImportRejected([RowError(None, "", _("文件中没有数据行。"))])

    by_code = dict(Department.objects.values_list("code", "pk"))
    by_name = dict(Department.objects.values_list("name", "pk"))
    department_names = {pk: name for name, pk in by_name.items()}
    staffed = set(
        User.objects.filter(is_active=True, groups__name=Role.DEPT_STAFF, department__isnull=False).values_list(
            "department_id", flat=True
        )
    )
    categories = _labels(ProjectCategory.choices)
    recurrences = _labels(Recurrence.choices)
    recurrences.update({"经常性": Recurrence.RECURRING, "一次性": Recurrence.ONE_OFF})

    progress.start(PHASE_CHECK, len(rows))
    parsed: list[_Row] = []
    first_of: dict[str, int] = {}
    for number, raw in enumerate(rows, start=first_row):
        progress.advance()
        text = {field: cell_text(raw.get(header)) for field, header in headers.items()}
        if not any(text.values()):
            continue

        def error(field: str, message: str, number: int = number) -> None:
            errors.append(RowError(number, headers.get(field, COLUMNS[field][0]), message))

        before = len(errors)
        for field in REQUIRED:
            if not text.get(field):
                error(field, _("必须填写。"))
        department_id = None
        if text.get("department"):
            department_id = by_code.get(text["department"]) or by_name.get(text["department"])
            if department_id is None:
                error("department", _("没有编码或名称为「%(value)s」的部门。") % {"value": text["department"]})
            elif department_id not in staffed:
                error(
                    "department",
                    _("部门「%(name)s」还没有经办人账号，无法为其建立项目草稿。")
                    % {"name": department_names.get(department_id, text["department"])},
                )
        code = text.get("code", "")
        if len(code) > 40:
            error("code", _("项目编码最多 40 个字符。"))
        elif code:
            if code in first_of:
                error("code", _("与第 %(row)s 行的项目编码重复。") % {"row": first_of[code]})
            else:
                first_of[code] = number
        if len(text.get("name", "")) > 200:
            error("name", _("项目名称最多 200 个字符。"))
        category = categories.get(text.get("category", ""))
        if text.get("category") and category is None:
            error(
                "category",
                _("未知的项目类别「%(value)s」。可选：%(choices)s。")
                % {
                    "value": text["category"],
                    "choices": "、".join(str(label) for _v, label in ProjectCategory.choices),
                },
            )
        recurrence = recurrences.get(text.get("recurrence", ""))
        if text.get("recurrence") and recurrence is None:
            error("recurrence", _("应填“经常性项目”或“一次性项目”。"))
        amount = None
        if text.get("requested_amount"):
            try:
                amount = numbers.parse_decimal(
                    text["requested_amount"], AMOUNT_BOUNDS, invalid=_("请填写金额（元），如 1200000.00。")
                )
            except ValidationError as exc:
                for message in exc.messages:
                    error("requested_amount", message)
        if len(errors) > before:
            continue
        assert department_id is not None and amount is not None
        amount = amount.quantize(CENT)  # as stored: 27000000 is 27000000.00
        parsed.append(
            _Row(
                number,
                department_id,
                code,
                {
                    "name": text["name"],
                    "category": category,
                    "recurrence": recurrence,
                    "requested_amount": amount,
                    "overall_goal": text.get("overall_goal", ""),
                },
            )
        )

    existing = {
        p["code"]: p
        for p in BudgetProject.objects.filter(fiscal_year=fiscal_year, code__in=[r.code for r in parsed]).values(
            "pk", "code", "department_id", "stage", "version", *FIELDS
        )
    }
    stage_labels = dict(ProjectStage.choices)
    plan = Plan(fiscal_year, [], [], 0)
    for row in parsed:
        old = existing.get(row.code)
        if old is None:
            plan.create.append(row)
            continue
        if not row.values["overall_goal"]:
            row.values["overall_goal"] = old["overall_goal"]  # a blank goal keeps the draft's own
        if old["department_id"] != row.department_id:
            errors.append(
                RowError(
                    row.number,
                    headers["code"],
                    _("%(year)s 年度编码 %(code)s 已是「%(department)s」的项目。")
                    % {"year": fiscal_year, "code": row.code, "department": department_names.get(old["department_id"])},
                )
            )
        elif all(old[f] == row.values[f] for f in FIELDS):
            plan.unchanged += 1
        elif old["stage"] != ProjectStage.DRAFT:
            errors.append(
                RowError(
                    row.number,
                    headers["code"],
                    _("项目「%(name)s」已离开草稿（当前阶段：%(stage)s），不能再由导入修改。")
                    % {"name": old["name"], "stage": stage_labels[old["stage"]]},
                )
            )
        else:
            plan.update.append((row, old))
    if errors:
        errors.sort(key=lambda e: e.row or 0)
        raise BudgetImportRejected(errors)
    if not parsed:
        raise BudgetImportRejected([RowError(None, "", _("文件中没有数据行。"))])
    return plan


# -- writing -------------------------------------------------------------------------------


def _staff_of(department_ids: Iterable[int]) -> dict[int, int]:
    """Each department's first active staff member (the drafts' 经办人)."""
    out: dict[int, int] = {}
    staff = (
        User.objects.filter(is_active=True, groups__name=Role.DEPT_STAFF, department_id__in=set(department_ids))
        .order_by("pk")
        .values_list("department_id", "pk")
    )
    for department_id, pk in staff:
        out.setdefault(department_id, pk)
    return out


def budget_import_write(
    plan: Plan,
    *,
    actor: User,
    file_name: str = "",
    job: Job | None = None,
    progress: Progress | _NoProgress | None = None,
) -> dict[str, int]:
    """Write a checked plan in one transaction (see the module docstring). ActionNotAllowed
    (nothing written) when a project to update moved or changed since it was checked, or a
    code was taken meanwhile."""
    progress = progress or _NoProgress()
    counts = plan.counts
    progress.start(PHASE_WRITE, len(plan.create) + len(plan.update))
    with transaction.atomic():
        events: list[dict[str, Any]] = []
        created: list[BudgetProject] = []
        if plan.update:
            pks = [old["pk"] for _row, old in plan.update]
            locked = {p.pk: p for p in BudgetProject.objects.select_for_update().filter(pk__in=pks).order_by("pk")}
            changed = [
                row.number
                for row, old in plan.update
                if locked[old["pk"]].stage != ProjectStage.DRAFT or locked[old["pk"]].version != old["version"]
            ]
            if changed:
                raise ActionNotAllowed(
                    _("导入期间第 %(rows)s 行的项目已被他人修改或提交，没有写入任何数据，请重新导入。")
                    % {"rows": "、".join(str(n) for n in changed[:20])}
                )
            now = timezone.now()
            to_update = []
            for row, old in plan.update:
                project = locked[old["pk"]]
                diff = {f: [old[f], row.values[f]] for f in FIELDS if old[f] != row.values[f]}
                for field, value in row.values.items():
                    setattr(project, field, value)
                project.version += 1
                project.updated_at = now
                to_update.append(project)
                events.append(
                    {
                        "object_type": BudgetProject._meta.label_lower,
                        "object_id": project.pk,
                        "object_repr": str(project),
                        "action": "edit",
                        "from_state": project.stage,
                        "to_state": project.stage,
                        "detail": {"changed": diff, "import": JOB_KIND, "job": job.pk if job else None},
                    }
                )
            BudgetProject.objects.bulk_update(to_update, [*FIELDS, "version", "updated_at"], batch_size=WRITE_BATCH)
            progress.advance(len(to_update))
        if plan.create:
            staff = _staff_of(row.department_id for row in plan.create)
            new = [
                BudgetProject(
                    department_id=row.department_id,
                    fiscal_year=plan.fiscal_year,
                    code=row.code,
                    created_by_id=staff[row.department_id],
                    **row.values,
                )
                for row in plan.create
            ]
            try:
                with transaction.atomic():
                    created = BudgetProject.objects.bulk_create(new, batch_size=WRITE_BATCH)
            except IntegrityError as exc:
                raise ActionNotAllowed(_("导入期间有项目编码已被他人使用，没有写入任何数据，请重新导入。")) from exc
            if any(p.pk is None for p in created):  # a backend that does not return keys
                ids = dict(
                    BudgetProject.objects.filter(
                        fiscal_year=plan.fiscal_year, code__in=[p.code for p in created]
                    ).values_list("code", "pk")
                )
                for p in created:
                    p.pk = ids[p.code]
            for project in created:
                events.append(
                    {
                        "object_type": BudgetProject._meta.label_lower,
                        "object_id": project.pk,
                        "object_repr": str(project),
                        "action": "create",
                        "to_state": project.stage,
                        "detail": {
                            "fiscal_year": project.fiscal_year,
                            "code": project.code,
                            "name": project.name,
                            "category": project.category,
                            "recurrence": project.recurrence,
                            "requested_amount": project.requested_amount,
                            "overall_goal": project.overall_goal,
                            "import": JOB_KIND,
                            "job": job.pk if job else None,
                        },
                    }
                )
            progress.advance(len(created))
        if events:
            audit_record_many(events, actor=actor, role=Role.FINANCE_OFFICER)
        audit_record(
            obj=ContentType.objects.get_for_model(BudgetProject),
            action=JOB_KIND,
            actor=actor,
            role=Role.FINANCE_OFFICER,
            comment=file_name,
            detail={**counts, "fiscal_year": plan.fiscal_year, "file": file_name, "job": job.pk if job else None},
        )
        _tell_departments(plan, job=job)
    return counts


def _tell_departments(plan: Plan, *, job: Job | None) -> None:
    """One notice per department member: how many of the year's projects the import drafted
    or changed for the department."""
    per_department: dict[int, int] = defaultdict(int)
    for row in plan.create:
        per_department[row.department_id] += 1
    for row, _old in plan.update:
        per_department[row.department_id] += 1
    if not per_department:
        return
    members = User.objects.filter(
        department_id__in=per_department, is_active=True, groups__name__in=[Role.DEPT_STAFF, Role.DEPT_LEADER]
    ).distinct()
    told = {
        user: Message(
            "budget_import", IMPORTED, {"count": per_department[user.department_id], "year": plan.fiscal_year}
        )
        for user in members
        if user.department_id is not None
    }
    if told:  # one statement for every department: each member hears their own department's count
        url = reverse("workflows:project_list") + f"?fiscal_year={plan.fiscal_year}&stage={ProjectStage.DRAFT}"
        key = f"budget_import:{job.pk if job else timezone.now().isoformat()}"
        notify(messages=told, event_key=key, url=url)


# -- the job -------------------------------------------------------------------------------


def budget_import_start(
    *,
    actor: User,
    fiscal_year: Any,
    file: File | None = None,
    rows: list[Mapping[str, Any]] | None = None,
) -> Job:
    """Start an import of ``file`` (an .xlsx upload) or ``rows`` (a JSON batch: dicts keyed
    by the English keys or the Chinese headers). The rows are checked here, so a bad file or
    batch is refused at once (BudgetImportRejected, a 400 with every problem), then checked
    again and written by the ``budget_import`` job, whose page shows the progress and the
    counts. PermissionDenied for anyone but the finance section; ValidationError on
    ``fiscal_year`` or ``file``."""
    _require(actor)
    year = _year(fiscal_year)
    if (file is None) == (rows is None):
        raise ValidationError({"file": _("请上传文件或提交数据行（二选一）。")})
    if file is not None:
        name = getattr(file, "name", "") or ""
        size = getattr(file, "size", None)
        if size is not None and size > MAX_BYTES:
            raise ValidationError({"file": _("文件过大，上限为 %(limit)s MB。") % {"limit": MAX_BYTES // 1024 // 1024}})
        check_xlsx(file, field="file")
        file.seek(0)
        budget_import_check(fiscal_year=year, rows=read_workbook(file))
        file.seek(0)
        return job_start(kind=JOB_KIND, actor=actor, params={"fiscal_year": year, "file_name": name}, file=file)
    assert rows is not None
    if not isinstance(rows, list) or not all(isinstance(r, Mapping) for r in rows):
        raise ValidationError({"rows": _("rows 应为对象数组，每个对象是一行。")})
    if len(rows) > MAX_ROWS:
        raise ValidationError({"rows": _("一次最多 %(n)s 行，请分批提交。") % {"n": MAX_ROWS}})
    rows = [{str(k): v for k, v in r.items()} for r in rows]
    budget_import_check(fiscal_year=year, rows=rows, first_row=1)
    return job_start(kind=JOB_KIND, actor=actor, params={"fiscal_year": year, "file_name": "", "rows": rows})


def budget_import_job(job: Job, progress: Progress) -> dict[str, int]:
    """The ``budget_import`` job: read (the file or the batch), check again, write."""
    actor = job.created_by
    _require(actor)
    year = int(job.params["fiscal_year"])
    if "rows" in job.params:
        rows, first = job.params["rows"], 1
    else:
        with job.file.open("rb") as handle:
            rows, first = read_workbook(handle, progress=progress), 2
    plan = budget_import_check(fiscal_year=year, rows=rows, first_row=first, progress=progress)
    return budget_import_write(plan, actor=actor, file_name=job.params.get("file_name", ""), job=job, progress=progress)


def budget_import(
    *, actor: User, fiscal_year: Any, rows: Sequence[Mapping[str, Any]], file_name: str = "", first_row: int = 2
) -> dict[str, int]:
    """Check and write at once, without a job (the demo loader and tests of the rules)."""
    _require(actor)
    plan = budget_import_check(fiscal_year=_year(fiscal_year), rows=rows, first_row=first_row)
    return budget_import_write(plan, actor=actor, file_name=file_name)


# -- the template and the sample -----------------------------------------------------------


def template_rows() -> list[str]:
    return [chinese for chinese, _english, _others in COLUMNS.values()]
