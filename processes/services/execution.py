"""Execution data from the budget system (数字财政 / 国库支付): the one writer of Payment and
PaymentPlan (docs/processes/execution-data.md, decision 0024).

Two kinds of rows come in the same shape — per project (年度 + 项目编码) and month, an
amount in yuan:

- **payments** (支付数据): what the treasury paid, imported from its export (XLSX or CSV,
  UTF-8, UTF-8 with BOM or GBK/GB18030), from the API's JSON batch, or from the nightly
  drop folder;
- **plans** (资金支付计划): what the project plans to pay, imported the same way or entered
  month by month on the project's page (``payment_plan_save``).

An import is all-or-nothing: every row is checked first (the check runs outside any
transaction and reports progress); any bad row refuses the whole batch with every problem
named by row and column (``ExecutionImportRejected``) and nothing is written. A good batch
is written in one short transaction as an upsert on (project, month): a month sent again
replaces its amount, never adds to it, and a row equal to what is stored is not touched —
the same file twice changes nothing. Two imports at once cannot make two rows of one
month: the unique constraint and ``INSERT … ON CONFLICT DO UPDATE`` see to that. Every
import that passes the check is one audit event ``payments_import`` / ``payment_plans_import``
(who, file name, SHA-256, source, counts, job).

The file is a format, not a screen: its headers are the Chinese originals (English names are
accepted too, see ``ALIASES``) whatever the interface language.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import openpyxl
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.roles import Role
from accounts.services import RowError, cell_text

from .. import numbers, transitions
from ..files import is_xlsx
from ..models import MONEY, BudgetProject, Job, Payment, PaymentPlan
from ..permissions import holds, in_department
from ..states import ProjectStage
from ..units import yuan_text
from .audit import audit_record
from .jobs import NoProgress, Progress, job_start

if TYPE_CHECKING:
    from accounts.models import User

IMPORT_PERMISSION = "processes.import_payments"
PLAN_PERMISSION = "processes.plan_payments"

PAYMENTS = "payments"
PLANS = "plans"
#: The job kind of each import (processes.services.jobs.JOB_KINDS).
JOB_OF = {PAYMENTS: "payments_import", PLANS: "payment_plans_import"}
MODEL_OF: dict[str, type[Payment] | type[PaymentPlan]] = {PAYMENTS: Payment, PLANS: PaymentPlan}

# -- the formats (never translated) --------------------------------------------------------

YEAR = "年度"
CODE = "项目编码"
MONTH = "月份"
PAID = "支付金额(元)"
PLANNED = "计划支付金额(元)"
#: The columns of each format, in order; other columns (项目名称, 预算单位 …) are ignored.
COLUMNS = {PAYMENTS: (YEAR, CODE, MONTH, PAID), PLANS: (YEAR, CODE, MONTH, PLANNED)}
#: The API's JSON keys and the English headers a file may use instead of the Chinese ones.
ENGLISH = {YEAR: "year", CODE: "project_code", MONTH: "month", PAID: "amount", PLANNED: "planned_amount"}
#: Header spellings (normalised by ``_header_key``) → the column.
ALIASES: dict[str, str] = {
    "年度": YEAR,
    "预算年度": YEAR,
    "year": YEAR,
    "fiscal_year": YEAR,
    "项目编码": CODE,
    "项目代码": CODE,
    "project_code": CODE,
    "code": CODE,
    "月份": MONTH,
    "支付月份": MONTH,
    "计划月份": MONTH,
    "month": MONTH,
    "支付金额(元)": PAID,
    "支付金额": PAID,
    "amount": PAID,
    "paid_amount": PAID,
    "计划支付金额(元)": PLANNED,
    "计划支付金额": PLANNED,
    "计划金额(元)": PLANNED,
    "planned_amount": PLANNED,
}
#: Stages in which a project has a budget to pay from (批复 onwards, not withdrawn or cancelled).
PAYABLE_STAGES = frozenset(
    {
        ProjectStage.BUDGETED,
        ProjectStage.EXECUTING,
        ProjectStage.EVALUATING,
        ProjectStage.EVALUATED,
        ProjectStage.RECTIFYING,
        ProjectStage.CLOSED,
    }
)
#: Stages in which the plan is entered on the project's page (the finance section also in 已批复).
PLAN_STAGES_DEPARTMENT = frozenset({ProjectStage.EXECUTING})
PLAN_STAGES_FINANCE = frozenset({ProjectStage.BUDGETED, ProjectStage.EXECUTING})

AMOUNT_BOUNDS = numbers.Bounds(MONEY["max_digits"], MONEY["decimal_places"], Decimal(0))
#: The longest batch read (rows): 3,755 projects × 12 months with room to spare.
MAX_ROWS = 100_000
MAX_BYTES = 20 * 1024 * 1024
WRITE_BATCH = 1000
COUNTS = ("total", "created", "replaced", "unchanged")

SOURCE_UPLOAD = "upload"
SOURCE_API = "api"
SOURCE_DROP = "drop"

PHASE_READ = gettext_noop("读取文件")
PHASE_CHECK = gettext_noop("校验数据")
PHASE_WRITE = gettext_noop("写入数据")


class ExecutionImportRejected(ValidationError):
    """The batch was refused and nothing was written. ``errors`` lists every problem found,
    by row (the header is row 1; the API's first row is row 1 too, see ``rows_from_json``)
    and column header."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__([str(e) for e in errors])


@dataclass(frozen=True)
class Batch:
    """Rows read from one file or request, as dicts keyed by the format's columns (or
    their aliases); ``first_row`` is the number of rows[0] as the sender counts it."""

    rows: list[dict[str, Any]]
    first_row: int = 2


# -- reading -------------------------------------------------------------------------------


def _header_key(name: Any) -> str:
    """A header as the aliases spell it: no BOM, no blanks, half-width parentheses, lower case."""
    text = str(name or "").lstrip("\ufeff").strip().replace("（", "(").replace("）", ")")
    return re.sub(r"\s+", "", text).lower()


def _columns(kind: str, header: Iterable[Any]) -> dict[int, str]:
    """Column index → the format's column, checking the header row (row 1): each required
    column once. Unknown columns are ignored. ExecutionImportRejected if not."""
    wanted = COLUMNS[kind]
    found: dict[int, str] = {}
    errors: list[RowError] = []
    for index, name in enumerate(header):
        column = ALIASES.get(_header_key(name))
        if column is None or column not in wanted:
            continue
        if column in found.values():
            errors.append(RowError(1, str(name).strip(), _("该列重复出现。")))
            continue
        found[index] = column
    errors.extend(
        RowError(1, column, _("缺少必需的列（也可用英文列名 %(english)s）。") % {"english": ENGLISH[column]})
        for column in wanted
        if column not in found.values()
    )
    if errors:
        raise ExecutionImportRejected(errors)
    return found


def _table(kind: str, rows: list[list[Any]]) -> Batch:
    while rows and not any(cell_text(v) for v in rows[-1]):
        rows.pop()
    if not rows or not any(cell_text(v) for v in rows[0]):
        raise ExecutionImportRejected(
            [RowError(None, "", _("第 1 行应为表头（%(columns)s）。") % {"columns": "、".join(COLUMNS[kind])})]
        )
    if len(rows) > MAX_ROWS + 1:
        raise ExecutionImportRejected([RowError(None, "", _("超过 %(n)s 行，请分成几个文件导入。") % {"n": MAX_ROWS})])
    index = _columns(kind, rows[0])
    return Batch([{column: row[i] if i < len(row) else None for i, column in index.items()} for row in rows[1:]])


def decode_csv(content: bytes) -> str:
    """The text of a CSV as Chinese systems export it: UTF-8 (with or without a BOM), else
    GBK / GB18030. ExecutionImportRejected if it is neither."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ExecutionImportRejected([RowError(None, "", _("无法识别 CSV 文件的编码，请另存为 UTF-8 或 GBK 编码。"))])


def read_file(kind: str, name: str, content: bytes, *, progress: Progress | None = None) -> Batch:
    """The rows of an .xlsx workbook (its first worksheet) or a .csv file (comma, semicolon
    or tab separated). ExecutionImportRejected if the file cannot be read or its header is
    not the format's."""
    progress = progress or NoProgress()
    lower = (name or "").lower()
    rows: list[list[Any]] = []
    if lower.endswith(".csv"):
        text = decode_csv(content)
        try:
            dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        rows = [list(row) for row in csv.reader(io.StringIO(text), dialect)]
        progress.start(PHASE_READ, len(rows))
        progress.advance(len(rows))
    elif lower.endswith(".xlsx"):
        try:
            workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
            try:
                sheet = workbook.worksheets[0]
                progress.start(PHASE_READ, min(sheet.max_row or 0, MAX_ROWS))
                for row in sheet.iter_rows(values_only=True):
                    rows.append(list(row))
                    progress.advance()
                    if len(rows) > MAX_ROWS + 1:
                        break
            finally:
                workbook.close()
        except Exception as exc:  # any failure to parse is the file's fault, whatever openpyxl raised
            raise ExecutionImportRejected(
                [RowError(None, "", _("无法读取该文件，请上传用 Excel 保存的 .xlsx 工作簿。"))]
            ) from exc
    else:
        raise ExecutionImportRejected([RowError(None, "", _("只能导入 Excel 工作簿（.xlsx）或 CSV（.csv）文件。"))])
    return _table(kind, rows)


def rows_from_json(kind: str, body: Any) -> Batch:
    """The API's batch: ``{"rows": [{"year", "project_code", "month", "amount" | "planned_amount"}, …]}``
    (or the list itself). Row numbers are the list's positions from 1. Chinese keys are read as well."""
    rows = body.get("rows") if isinstance(body, Mapping) else body
    if not isinstance(rows, list) or not all(isinstance(row, Mapping) for row in rows):
        raise ExecutionImportRejected([RowError(None, "rows", _('请求体应为 {"rows": [ … ]}，每行是一个对象。'))])
    if len(rows) > MAX_ROWS:
        raise ExecutionImportRejected([RowError(None, "rows", _("一次最多 %(n)s 行，请分批发送。") % {"n": MAX_ROWS})])
    wanted = COLUMNS[kind]
    batch = []
    for row in rows:
        read: dict[str, Any] = {}
        for key, value in row.items():
            column = ALIASES.get(_header_key(key))
            if column in wanted:
                read[column] = value
        batch.append(read)
    return Batch(batch, first_row=1)


# -- checking -------------------------------------------------------------------------------


def _integer(text: str) -> int | None:
    text = text.strip().removesuffix("月").removesuffix("年").strip()
    if re.fullmatch(r"\d{1,4}(\.0+)?", text):
        return int(Decimal(text))
    return None


@dataclass
class Checked:
    """What passed the check: (project id, month) → amount, and the projects' ids by (year, code)."""

    amounts: dict[tuple[int, int], Decimal]
    total: int


def check_rows(kind: str, batch: Batch, *, progress: Progress | None = None) -> Checked:
    """Check every row; ExecutionImportRejected lists every problem (row, column, message).

    A row's year and project code must name a project of that year whose budget was
    approved (已批复预算 or later, not cancelled); the month is 1–12 (``3`` or ``3月``); the
    amount is yuan, not negative, at most two decimal places (``1,234.50`` is read).
    A (year, code, month) given twice in the batch is an error on the second row. Blank
    rows are skipped. Two queries read the projects the rows name."""
    progress = progress or NoProgress()
    amount_column = COLUMNS[kind][3]
    texts: list[tuple[int, dict[str, str]]] = []
    for offset, raw in enumerate(batch.rows):
        text = {column: cell_text(raw.get(column)) for column in COLUMNS[kind]}
        if any(text.values()):
            texts.append((batch.first_row + offset, text))
    if not texts:
        raise ExecutionImportRejected([RowError(None, "", _("没有数据行。"))])
    years = {_integer(text[YEAR]) for _number, text in texts} - {None}
    codes = {text[CODE] for _number, text in texts if text[CODE]}
    projects = {
        (year, code): (pk, stage)
        for pk, year, code, stage in BudgetProject.objects.filter(fiscal_year__in=years, code__in=codes).values_list(
            "pk", "fiscal_year", "code", "stage"
        )
    }
    stage_labels = dict(ProjectStage.choices)
    progress.start(PHASE_CHECK, len(texts))
    errors: list[RowError] = []
    amounts: dict[tuple[int, int], Decimal] = {}
    first_row_of: dict[tuple[int, int], int] = {}
    for number, text in texts:
        progress.advance()

        def error(column: str, message: str, number: int = number) -> None:
            errors.append(RowError(number, column, message))

        for column in COLUMNS[kind]:
            if not text[column]:
                error(column, _("必须填写。"))
        year = _integer(text[YEAR]) if text[YEAR] else None
        if text[YEAR] and (year is None or not 2000 <= year <= 2100):
            error(YEAR, _("「%(value)s」不是有效的年度（如 2026）。") % {"value": text[YEAR]})
            year = None
        month = _integer(text[MONTH]) if text[MONTH] else None
        if text[MONTH] and (month is None or not 1 <= month <= 12):
            error(MONTH, _("「%(value)s」不是有效的月份，应为 1 至 12。") % {"value": text[MONTH]})
            month = None
        amount = None
        if text[amount_column]:
            try:
                amount = numbers.parse_decimal(
                    text[amount_column],
                    AMOUNT_BOUNDS,
                    invalid=_("请填写数字金额（元）。"),
                    negative=_("金额不能为负数。"),
                )
            except ValidationError as exc:
                error(amount_column, "；".join(exc.messages))
        project = None
        if year is not None and text[CODE]:
            found = projects.get((year, text[CODE]))
            if found is None:
                error(CODE, _("%(year)s 年度没有编码为「%(code)s」的项目。") % {"year": year, "code": text[CODE]})
            elif found[1] not in PAYABLE_STAGES:
                error(
                    CODE,
                    _("项目「%(code)s」处于「%(stage)s」阶段，尚无批复预算，不能导入。")
                    % {"code": text[CODE], "stage": stage_labels.get(found[1], found[1])},
                )
            else:
                project = found[0]
        if project is not None and month is not None:
            key = (project, month)
            if key in first_row_of:
                error(MONTH, _("与第 %(row)s 行的项目和月份重复。") % {"row": first_row_of[key]})
            else:
                first_row_of[key] = number
                if amount is not None:
                    amounts[key] = amount
    if errors:
        raise ExecutionImportRejected(errors)
    return Checked(amounts, len(texts))


# -- writing -------------------------------------------------------------------------------


def import_rows(
    *,
    kind: str,
    actor: User,
    batch: Batch,
    file_name: str = "",
    sha256: str = "",
    source: str = SOURCE_UPLOAD,
    job: Job | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Check and write a batch of ``kind`` (PAYMENTS or PLANS) for ``actor`` (who must hold
    processes.import_payments): {total, created, replaced, unchanged, projects}. See the
    module's docstring for the rules. Raises PermissionDenied or ExecutionImportRejected."""
    if not holds(actor, IMPORT_PERMISSION):
        raise PermissionDenied(_("只有财政绩效科可以导入支付数据和资金支付计划。"))
    progress = progress or NoProgress()
    checked = check_rows(kind, batch, progress=progress)
    model = MODEL_OF[kind]
    existing = {
        (project, month): amount
        for project, month, amount in model.objects.filter(
            project_id__in={project for project, _month in checked.amounts}
        ).values_list("project_id", "month", "amount")
    }
    changed = [(key, amount) for key, amount in checked.amounts.items() if existing.get(key) != amount]
    created = sum(1 for key, _amount in changed if key not in existing)
    result: dict[str, Any] = {
        "total": checked.total,
        "created": created,
        "replaced": len(changed) - created,
        "unchanged": len(checked.amounts) - len(changed),
        "projects": len({project for project, _month in checked.amounts}),
    }
    progress.start(PHASE_WRITE, len(changed))
    now = timezone.now()
    with transaction.atomic():
        for start in range(0, len(changed), WRITE_BATCH):
            chunk = changed[start : start + WRITE_BATCH]
            rows: list[Any] = [
                model(project_id=project, month=month, amount=amount, job=job, updated_by=actor, updated_at=now)
                for (project, month), amount in chunk
            ]
            model.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["project", "month"],
                update_fields=["amount", "job", "updated_by", "updated_at"],
            )
            progress.advance(len(chunk))
        audit_record(
            obj=ContentType.objects.get_for_model(model),
            action=JOB_OF[kind],
            actor=actor,
            role=Role.FINANCE_OFFICER,
            comment=file_name,
            detail={
                **result,
                "file": file_name,
                "sha256": sha256,
                "source": source,
                "job": job.pk if job is not None else None,
            },
        )
    return result


# -- starting an import (screen, API, drop folder) -----------------------------------------------


def _refuse_unless_importer(actor: User) -> None:
    if not holds(actor, IMPORT_PERMISSION):
        raise PermissionDenied(_("只有财政绩效科可以导入支付数据和资金支付计划。"))


def import_file_start(*, kind: str, actor: User, file: File, source: str = SOURCE_UPLOAD, dispatch: bool = True) -> Job:
    """Upload a treasury file (.xlsx or .csv) of ``kind`` for import: checks the actor, the
    name, the size and (for .xlsx) the content, and queues the import job (its page shows the
    progress and the outcome). Raises PermissionDenied or ValidationError (on ``file``)."""
    _refuse_unless_importer(actor)
    name = getattr(file, "name", "") or ""
    lower = name.lower()
    if not (lower.endswith(".xlsx") or lower.endswith(".csv")):
        raise ValidationError({"file": _("只能导入 Excel 工作簿（.xlsx）或 CSV（.csv）文件。")})
    size = getattr(file, "size", None)
    if size is not None and size > MAX_BYTES:
        raise ValidationError({"file": _("文件过大，上限为 %(limit)s MB。") % {"limit": MAX_BYTES // 1024 // 1024}})
    if lower.endswith(".xlsx") and not is_xlsx(file):
        raise ValidationError(
            {"file": _("文件内容不是 Excel 工作簿：请上传用 Excel 保存的 .xlsx 文件（不能只改扩展名）。")}
        )
    return job_start(
        kind=JOB_OF[kind], actor=actor, params={"file_name": name, "source": source}, file=file, dispatch=dispatch
    )


def import_json_start(*, kind: str, actor: User, body: Any) -> Job:
    """The API's JSON batch: checked at once (ExecutionImportRejected lists every problem —
    the API answers 400 — and nothing is queued), then queued as the import job, which
    checks again and writes (the API answers 202 with the job)."""
    _refuse_unless_importer(actor)
    batch = rows_from_json(kind, body)
    check_rows(kind, batch)
    content = json.dumps({"rows": batch.rows}, ensure_ascii=False, default=str).encode()
    return job_start(
        kind=JOB_OF[kind],
        actor=actor,
        params={"file_name": "", "source": SOURCE_API},
        file=ContentFile(content, name=f"{kind}-api.json"),
    )


def _job(kind: str, job: Job, progress: Progress) -> dict[str, Any]:
    with job.file.open("rb") as handle:
        content = handle.read()
    source = job.params.get("source", SOURCE_UPLOAD)
    if source == SOURCE_API:
        batch = rows_from_json(kind, json.loads(content))
    else:
        batch = read_file(kind, job.params.get("file_name", "") or job.file.name or "", content, progress=progress)
    return import_rows(
        kind=kind,
        actor=job.created_by,
        batch=batch,
        file_name=job.params.get("file_name", ""),
        sha256=hashlib.sha256(content).hexdigest(),
        source=source,
        job=job,
        progress=progress,
    )


def payments_import_job(job: Job, progress: Progress) -> dict[str, Any]:
    """The ``payments_import`` job."""
    return _job(PAYMENTS, job, progress)


def payment_plans_import_job(job: Job, progress: Progress) -> dict[str, Any]:
    """The ``payment_plans_import`` job."""
    return _job(PLANS, job, progress)


# -- the plan on the project's page -------------------------------------------------------------


def can_plan(project: BudgetProject, user: User) -> bool:
    """The department's staff while the project executes; the finance section from 已批复."""
    if not holds(user, PLAN_PERMISSION):
        return False
    if holds(user, IMPORT_PERMISSION):
        return project.stage in PLAN_STAGES_FINANCE
    return in_department(user, project) and project.stage in PLAN_STAGES_DEPARTMENT


@transaction.atomic
def payment_plan_save(*, project: BudgetProject, actor: User, amounts: Mapping[int, Any]) -> dict[str, int]:
    """Save the project's plan for the months given (1–12 → yuan; blank removes the month).
    Every problem at once (ValidationError keyed ``month_<n>``); nothing is changed then.
    The months' total may not exceed the budget in force (adjusted, else approved). One
    audit event ``payment_plan_save`` on the project with the months changed. Returns
    {saved, removed, unchanged}."""
    project = BudgetProject.objects.select_for_update(of=("self",)).get(pk=project.pk)
    if not can_plan(project, actor):
        raise PermissionDenied(_("只有本部门经办人（项目执行中）或财政绩效科可以填报资金支付计划。"))
    errors: dict[str, list[str]] = {}
    wanted: dict[int, Decimal | None] = {}
    for month, raw in amounts.items():
        if not (isinstance(month, int) and 1 <= month <= 12):
            raise ValidationError({"__all__": [_("月份必须是 1 至 12 的整数。")]})
        wanted[month] = numbers.parse_into(
            errors,
            f"month_{month}",
            raw,
            AMOUNT_BOUNDS,
            invalid=_("请填写数字金额（元）。"),
            negative=_("金额不能为负数。"),
        )
    stored = {p.month: p for p in PaymentPlan.objects.filter(project=project)}
    after = {m: p.amount for m, p in stored.items()} | {m: a for m, a in wanted.items() if a is not None}
    for month, amount in wanted.items():
        if amount is None:
            after.pop(month, None)
    budget = project.adjusted_amount if project.adjusted_amount is not None else project.approved_amount
    if not errors and budget is not None and sum(after.values(), Decimal(0)) > budget:
        errors["__all__"] = [
            _("各月计划合计 %(total)s 元超过预算 %(budget)s 元。")
            % {"total": yuan_text(sum(after.values(), Decimal(0))), "budget": yuan_text(budget)}
        ]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    changed = {m: a for m, a in wanted.items() if a is not None and (m not in stored or stored[m].amount != a)}
    removed = [m for m, a in wanted.items() if a is None and m in stored]
    if changed:
        PaymentPlan.objects.bulk_create(
            [
                PaymentPlan(project=project, month=m, amount=a, updated_by=actor, updated_at=now)
                for m, a in changed.items()
            ],
            update_conflicts=True,
            unique_fields=["project", "month"],
            update_fields=["amount", "job", "updated_by", "updated_at"],
        )
    if removed:
        PaymentPlan.objects.filter(project=project, month__in=removed).delete()
    if changed or removed:
        audit_record(
            obj=project,
            action="payment_plan_save",
            actor=actor,
            role=transitions.acting_role(actor, [Role.DEPT_STAFF, Role.FINANCE_OFFICER]),
            from_state=project.stage,
            to_state=project.stage,
            detail={"months": {str(m): a for m, a in sorted(changed.items())}, "removed": sorted(removed)},
        )
    return {"saved": len(changed), "removed": len(removed), "unchanged": len(wanted) - len(changed) - len(removed)}


# -- the prefill rule -------------------------------------------------------------------------


def executed_difference_error(*, executed: Decimal | None, imported: Decimal | None, reason: str) -> str | None:
    """The message when a declared executed amount differs from the imported payments'
    without a reason (None when it is fine: no payments, the same amount, or a reason)."""
    if imported is None or executed is None or executed == imported or reason:
        return None
    return _("执行数与国库支付数据（%(imported)s 元）不一致，请说明差异原因。") % {"imported": yuan_text(imported)}


# -- the nightly drop folder ----------------------------------------------------------------------

DONE = "done"
FAILED = "failed"
PROCESSING = "processing"


def kind_of_file(name: str) -> str | None:
    """PLANS for a file whose name says plan (payment-plans-2026.xlsx, 资金支付计划.csv),
    PAYMENTS for another .xlsx / .csv, None for anything else (left in the folder)."""
    lower = name.lower()
    if not (lower.endswith(".xlsx") or lower.endswith(".csv")) or lower.startswith((".", "~$")):
        return None
    return PLANS if ("plan" in lower or "计划" in name) else PAYMENTS


def import_drop_folder(*, folder: str, username: str) -> list[dict[str, Any]]:
    """Import each treasury file in ``folder`` once, as the finance officer ``username``: the
    file is first moved to processing/ (so a second run at the same time never takes it too),
    then imported as a job of its own, run here, and moved to done/ (succeeded) or failed/
    with ``<name>.errors.txt`` listing every problem. A name already in done/ or failed/ is
    given a time suffix. Returns one {file, kind, job, status} per file taken.
    Raises ValueError when the user is not an active finance officer who may import."""
    from pathlib import Path

    from accounts.models import User

    from .jobs import job_errors, job_run

    root = Path(folder)
    actor = User.objects.filter(username=username, is_active=True).first()
    if actor is None or not holds(actor, IMPORT_PERMISSION):
        raise ValueError(f"JIXIAO_PAYMENTS_IMPORT_USER {username!r} is not an active user who may import payments")
    for sub in (DONE, FAILED, PROCESSING):
        (root / sub).mkdir(parents=True, exist_ok=True)
    outcomes: list[dict[str, Any]] = []
    for path in sorted(p for p in root.iterdir() if p.is_file()):
        kind = kind_of_file(path.name)
        if kind is None:
            continue
        taken = root / PROCESSING / path.name
        try:
            path.rename(taken)  # atomic on one file system: only one run takes the file
        except FileNotFoundError:
            continue
        errors: list[dict[str, Any]]
        job = None
        try:
            with taken.open("rb") as handle:
                job = import_file_start(
                    kind=kind, actor=actor, file=File(handle, name=path.name), source=SOURCE_DROP, dispatch=False
                )
            job = job_run(job.pk) or job
            errors = list(job.errors)
            status = job.status
        except (ValidationError, PermissionDenied) as exc:
            errors, status = job_errors(exc), "failed"
        target = root / (DONE if status == "succeeded" else FAILED) / path.name
        if target.exists():
            target = target.with_name(f"{target.stem}-{timezone.now():%Y%m%d%H%M%S}{target.suffix}")
        taken.rename(target)
        if errors:
            lines = [str(RowError(e.get("row"), e.get("column") or "", e.get("message", ""))) for e in errors]
            target.with_name(target.name + ".errors.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        outcomes.append({"file": path.name, "kind": kind, "job": job.pk if job else None, "status": status})
    return outcomes
