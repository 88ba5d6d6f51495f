"""The one writer of monitoring rounds and reports (绩效运行监控, "双监控", DESIGN §3.4).

Opening a round writes every report in bulk (thousands in seconds, nothing twice);
a report is filled by the department, passed by its leader, cleared or warned by the
finance section, and a warned one is disposed (budget adjustment, suspension, stop
payments, or no action). Lights are computed by processes.lights and stored with the
report on every save.

Each state change goes through processes.transitions.apply (locks in the one order,
permission, audit row, the declared notices, and the flow step workflows registered for
it); who may take each transition and who is told are declared on MonitoringReport.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, Exists, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import User
from accounts.roles import Role
from notifications.services import notify

from .. import lights, numbers, transitions
from ..bulk_insert import insert_instances, insert_unless_exists
from ..errors import ActionNotAllowed, Conflict
from ..execution_selectors import paid_to, planned_to
from ..models import MONEY, BudgetProject, IndicatorProgress, MonitoringReport, MonitoringRound, TargetRow
from ..notices.monitoring import round_told
from ..permissions.monitoring import can_dept_review, can_fill, can_open, can_review
from ..states import (
    REPORT_OPEN,
    Disposal,
    ExecutionHold,
    Light,
    Likelihood,
    ProjectStage,
    QualitativeProgress,
    ReportStatus,
    RoundStatus,
    TargetSetStatus,
)
from .audit import audit_record, audit_record_many
from .execution import executed_difference_error
from .records import save_versioned

__all__ = ["can_dept_review", "can_fill", "can_open", "can_review"]  # rights: processes.permissions.monitoring

#: Hook run inside round_open with the new reports: workflows starts their flows in bulk.
AfterOpen = Callable[[MonitoringRound, list[MonitoringReport]], None]
#: Hook run inside round_open when a reopened round's due date moved, with its reports
#: still open: workflows moves their tasks' due dates.
AfterMove = Callable[[MonitoringRound, list[int]], None]

MAX_AMOUNT = Decimal(10) ** (MONEY["max_digits"] - MONEY["decimal_places"])
# The bounds of what a department reports (processes.numbers): amounts and values ≥ 0.
AMOUNT_BOUNDS = numbers.decimal_bounds(MonitoringReport, "executed", min_value=0)
VALUE_BOUNDS = numbers.decimal_bounds(IndicatorProgress, "value", min_value=0)
OPENING = gettext_noop("生成监控报告")


# -- opening a round -------------------------------------------------------------------------


@dataclass
class Opened:
    round: MonitoringRound
    created: list[MonitoringReport] = field(default_factory=list)
    already: int = 0  # projects of the set that already had a report in this round


def _month(value: Any, name: str) -> int:
    try:
        month = int(value)
    except (TypeError, ValueError):
        raise ValidationError({name: _("月份必须是 1 至 12 的整数。")}) from None
    if not 1 <= month <= 12:
        raise ValidationError({name: _("月份必须是 1 至 12 的整数。")})
    return month


@transaction.atomic
def round_open(
    *,
    actor: User,
    fiscal_year: int,
    end_month: int,
    due_at: datetime,
    start_month: int = 1,
    title: str = "",
    project_ids: Iterable[int] | None = None,
    progress=None,
    after: AfterOpen | None = None,
    after_move: AfterMove | None = None,
) -> Opened:
    """Open (or extend) the round of ``fiscal_year`` over start_month–end_month: one report
    for every executing project of the year, or of the chosen ``project_ids`` (all must
    be executing projects of that year). Opening the same round again adds reports only
    for projects that have none in it: nothing is created twice; a different ``due_at``
    moves the reopened round's due date (and its open reports' tasks, by ``after_move``).

    Every department concerned is told, once for the whole round, with the due date: those
    with new reports, and — when the due date moved — those whose reports are not yet
    submitted."""
    if not can_open(actor):
        raise PermissionDenied(_("只有财政绩效科可以发起绩效运行监控。"))
    start_month, end_month = _month(start_month, "start_month"), _month(end_month, "end_month")
    if start_month > end_month:
        raise ValidationError({"end_month": _("截止月份不能早于起始月份。")})
    if due_at <= timezone.now():
        raise ValidationError({"due_at": _("填报截止时间必须晚于现在。")})
    title = (title or "").strip() or _("%(year)s 年 %(start)s—%(end)s 月绩效运行监控") % {
        "year": fiscal_year,
        "start": start_month,
        "end": end_month,
    }
    round_ = MonitoringRound(
        fiscal_year=fiscal_year,
        start_month=start_month,
        end_month=end_month,
        title=title[:100],
        due_at=due_at,
        opened_by=actor,
    )
    # one opener at a time: a new round's row is this transaction's alone, an existing
    # one is row-locked
    created = insert_unless_exists(round_, unique=["fiscal_year", "start_month", "end_month"])
    moved_from = None
    if not created:
        round_ = MonitoringRound.objects.select_for_update().get(
            fiscal_year=fiscal_year, start_month=start_month, end_month=end_month
        )
        if round_.due_at != due_at or round_.status != RoundStatus.OPEN:
            moved_from = round_.due_at if round_.due_at != due_at else None
            round_.due_at, round_.status = due_at, RoundStatus.OPEN
            round_.save(update_fields=["due_at", "status"])
    executing = BudgetProject.objects.filter(fiscal_year=fiscal_year, stage=ProjectStage.EXECUTING)
    if project_ids is not None:
        wanted = {int(pk) for pk in project_ids}
        found = set(executing.filter(pk__in=wanted).values_list("pk", flat=True))
        if wanted - found:
            raise ValidationError(
                {
                    "projects": _("所选项目中有 %(n)s 个不是 %(year)s 年度执行中的项目。")
                    % {"n": len(wanted - found), "year": fiscal_year}
                }
            )
        if not wanted:
            raise ValidationError({"projects": _("请至少选择一个项目。")})
        executing = executing.filter(pk__in=wanted)
    # a round created just now has no reports yet
    have = (
        set(MonitoringReport.objects.filter(round=round_).values_list("project_id", flat=True))
        if not created
        else set()
    )
    projects = list(
        executing.exclude(pk__in=have).only(
            # stage too: the FSM mixin reads it when a project is built (a query each otherwise)
            "pk",
            "stage",
            "department_id",
            "approved_amount",
            "adjusted_amount",
            "name",
        )
    )
    already = executing.filter(pk__in=have).count()
    if progress is not None:
        progress.start(OPENING, len(projects))
    # one INSERT, without an instance built and prepared per row (processes.bulk_insert)
    reports = insert_instances(
        MonitoringReport(round=round_),
        {
            "project_id": [p.pk for p in projects],
            "budget": [p.approved_amount for p in projects],
            "adjusted_budget": [p.adjusted_amount for p in projects],
        },
    )
    for report, project in zip(reports, projects, strict=True):
        report.project = project
    if progress is not None:
        progress.advance(len(reports))
    if after is not None and reports:
        after(round_, reports)
    waiting: Counter[int] = Counter()
    if moved_from is not None:
        still_open = list(
            MonitoringReport.objects.filter(round=round_, status__in=REPORT_OPEN)
            .exclude(pk__in=[r.pk for r in reports])
            .values_list("pk", "status", "project__department_id")
        )
        if after_move is not None and still_open:
            after_move(round_, [pk for pk, _status, _department in still_open])
        waiting.update(department for _pk, status, department in still_open if status == ReportStatus.ISSUED)
    sequence = audit_record_many(  # one event: the rows and the head's move in one statement on PostgreSQL
        [
            {
                "object_type": round_._meta.label_lower,
                "object_id": str(round_.pk),
                "object_repr": str(round_),
                "action": "round_open" if created else "round_extend",
                "to_state": round_.status,
                "detail": {
                    "reports_created": len(reports),
                    "already_in_round": already,
                    "end_month": end_month,
                    **({"due_at": [moved_from.isoformat(), due_at.isoformat()]} if moved_from else {}),
                },
            }
        ],
        actor=actor,
        role=Role.FINANCE_OFFICER,
    )
    created_per_department = Counter(report.project.department_id for report in reports)
    told = round_told(round_, created=created_per_department, waiting=waiting)
    told.pop(actor, None)
    if told:
        notify(
            messages=told,
            event_key=f"audit:{sequence}",
            url=round_.get_absolute_url(),
            object_type=round_._meta.label_lower,
            object_id=str(round_.pk),
        )
    return Opened(round_, reports, already)


# -- filling ----------------------------------------------------------------------------------


def approved_rows(project: BudgetProject) -> list[TargetRow]:
    """The target rows a report covers: those of the version in force."""
    return list(
        TargetRow.objects.filter(target_set__project=project, target_set__status=TargetSetStatus.APPROVED).order_by(
            "position"
        )
    )


def _amount(raw: Any, name: str, errors: dict[str, list[str]]) -> Decimal | None:
    return numbers.parse_into(
        errors, name, raw, AMOUNT_BOUNDS, invalid=_("请填写数字金额（元）。"), negative=_("金额不能为负数。")
    )


# What the department types. The budgets (年初预算数, 调整后预算) are not among them: they are
# the project's approved and adjusted amounts, copied at each save, so the department
# cannot choose the budget its spending light is read against (issue 16).
AMOUNT_FIELDS = ("executed", "expected_full_year")
BUDGET_FIELDS = ("budget", "adjusted_budget")
TEXT_FIELDS = ("deviation_causes", "measures")


@transaction.atomic
def report_save(
    *,
    report: MonitoringReport,
    actor: User,
    indicators: Iterable[Mapping[str, Any]] = (),
    revision: int | None = None,
    **values: Any,
) -> MonitoringReport:
    """Save what the department reports (a draft; may be incomplete): amounts in yuan,
    causes and measures, an optional adjustment request, and per target row (by its id)
    the value to date or qualitative progress and the likelihood. The budgets are the
    project's (approved and adjusted amounts), never typed: a budget sent that differs from
    the project's is a field error.
    Lights are recomputed.
    Every problem is reported at once (ValidationError keyed by field, indicators keyed
    ``indicators.<row id>.<field>``); nothing is changed then."""
    report = cast(MonitoringReport, transitions.lock(report))
    if not can_fill(report, actor):
        raise PermissionDenied(_("只有本部门经办人可以填报监控报告。"))
    if report.status != ReportStatus.ISSUED:
        raise ActionNotAllowed(
            _("监控报告当前为「%(status)s」，不能执行此操作。") % {"status": report.get_status_display()}
        )
    if revision is not None and int(revision) != report.revision:
        raise Conflict(_("监控报告已被他人修改（当前修订号 %(r)s），请刷新后重新填写。") % {"r": report.revision})
    unknown = set(values) - {
        *AMOUNT_FIELDS,
        *BUDGET_FIELDS,
        *TEXT_FIELDS,
        "adjustment_requested",
        "proposed_amount",
        "executed_reason",
    }
    if unknown:
        raise ValidationError({f: _("此字段不能填写。") for f in sorted(unknown)})
    errors: dict[str, list[str]] = {}
    changes: dict[str, Any] = {}
    for name in AMOUNT_FIELDS:
        if name in values:
            changes[name] = _amount(values[name], name, errors)
    project_budgets = {"budget": report.project.approved_amount, "adjusted_budget": report.project.adjusted_amount}
    for name in BUDGET_FIELDS:
        if name in values and _amount(values[name], name, errors) != project_budgets[name] and name not in errors:
            errors[name] = [_("预算数取自项目的批复（调整）金额，不能在监控报告中修改。")]
    for name in TEXT_FIELDS:
        if name in values:
            changes[name] = str(values[name] or "").strip()
    if "adjustment_requested" in values:
        changes["adjustment_requested"] = bool(values["adjustment_requested"])
    if "proposed_amount" in values:
        changes["proposed_amount"] = _amount(values["proposed_amount"], "proposed_amount", errors)
    rows = {row.pk: row for row in approved_rows(report.project)}
    progress_rows = _clean_indicators(rows, indicators, errors)
    _prefill_executed(report, changes, values, errors)
    if errors:
        raise ValidationError(errors)
    for name, value in changes.items():
        setattr(report, name, value)
    report.budget, report.adjusted_budget = report.project.approved_amount, report.project.adjusted_amount
    if not report.adjustment_requested:
        report.proposed_amount = None
    existing = {p.target_row_id: p for p in report.indicators.all()}
    for row_id, data in progress_rows.items():
        item = existing.get(row_id) or IndicatorProgress(report=report, target_row=rows[row_id])
        item.value, item.progress, item.likelihood = data["value"], data["progress"], data["likelihood"]
        existing[row_id] = item
    _read_lights(report, rows, existing)
    IndicatorProgress.objects.bulk_create([p for p in existing.values() if p.pk is None])
    IndicatorProgress.objects.bulk_update(
        [p for p in existing.values() if p.pk is not None],
        ["value", "progress", "likelihood", "light", "rate", "reason"],
    )
    save_versioned(report)
    audit_record(
        obj=report,
        action="report_edit",
        actor=actor,
        role=Role.DEPT_STAFF,
        from_state=report.status,
        to_state=report.status,
        detail={"project": report.project_id, "light": report.light, "revision": report.revision},
    )
    return report


def imported_executed(report: MonitoringReport) -> Decimal | None:
    """The cumulative paid to the round's end month from the imported payments (None: none imported)."""
    return paid_to([report.project_id], report.round.months).get(report.project_id)


def _prefill_executed(
    report: MonitoringReport, changes: dict[str, Any], values: Mapping[str, Any], errors: dict[str, list[str]]
) -> None:
    """The prefill rule (processes.services.execution): the executed amount is the imported
    payments' unless the department gives another with a reason. Sets ``executed`` (when
    none was ever given), ``executed_imported`` and ``executed_reason`` in ``changes``."""
    imported = imported_executed(report)
    changes["executed_imported"] = imported
    if imported is None:
        changes["executed_reason"] = ""
        return
    executed = changes["executed"] if "executed" in changes else report.executed
    if executed is None and "executed" not in errors:
        executed = changes["executed"] = imported
    reason = str(values.get("executed_reason", report.executed_reason) or "").strip()
    if executed == imported:
        reason = ""
    message = executed_difference_error(executed=executed, imported=imported, reason=reason)
    if message and "executed" not in errors:
        errors.setdefault("executed_reason", []).append(message)
    changes["executed_reason"] = reason


def _clean_indicators(
    rows: dict[int, TargetRow], indicators: Iterable[Mapping[str, Any]], errors: dict[str, list[str]]
) -> dict[int, dict]:
    out: dict[int, dict] = {}
    if isinstance(indicators, str | bytes | Mapping) or not isinstance(indicators, Iterable):
        errors.setdefault("indicators", []).append(_("指标完成情况格式不正确。"))
        return out
    for item in indicators:
        if not isinstance(item, Mapping):
            errors.setdefault("indicators", []).append(_("指标完成情况格式不正确。"))
            continue
        raw_id = item.get("target_row")
        try:
            row_id = int(getattr(raw_id, "pk", raw_id))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            errors.setdefault("indicators", []).append(_("指标行无效。"))
            continue
        row = rows.get(row_id)
        if row is None:
            errors.setdefault("indicators", []).append(
                _("第 %(id)s 号指标不是本项目已批复的绩效指标。") % {"id": row_id}
            )
            continue
        key = f"indicators.{row_id}"
        value, progress = None, str(item.get("progress") or "")
        if row.quantitative:
            value = numbers.parse_into(
                errors,
                f"{key}.value",
                item.get("value"),
                VALUE_BOUNDS,
                invalid=_("完成值必须是数字。"),
                negative=_("完成值不能为负数。"),
            )
            progress = ""
        elif progress and progress not in QualitativeProgress.values:
            errors.setdefault(f"{key}.progress", []).append(_("请选择达成、部分达成或未达成。"))
        likelihood = str(item.get("likelihood") or "")
        if likelihood and likelihood not in Likelihood.values:
            errors.setdefault(f"{key}.likelihood", []).append(_("请选择确定能、有可能或不可能。"))
        out[row_id] = {"value": value, "progress": progress, "likelihood": likelihood}
    return out


def _read_lights(report: MonitoringReport, rows: dict[int, TargetRow], progress: dict[int, IndicatorProgress]) -> None:
    months = report.round.months
    # Against the project's payment plan where it has one (资金支付计划), else the straight line.
    planned = planned_to([report.project_id], months).get(report.project_id)
    if planned is not None:
        spending = lights.spending_light_against_plan(
            executed=report.executed, budget=report.budget_in_force, planned=planned
        )
    else:
        spending = lights.spending_light(executed=report.executed, budget=report.budget_in_force, months=months)
    report.spending_light, report.spending_rate, report.spending_reason = (
        spending.light,
        _pct(spending.rate),
        spending.reason,
    )
    read: list[str] = []
    for row_id, row in rows.items():
        item = progress.get(row_id)
        if item is None:
            continue
        reading = lights.indicator_light(
            direction=row.direction,
            target=row.target_value,
            value=item.value,
            progress=item.progress,
            months=months,
            paced=lights.cumulative(row),
        )
        item.light, item.rate, item.reason = reading.light, _pct(reading.rate), reading.reason
        read.append(reading.light)
    report.light = lights.project_light(spending.light, read)


def _pct(rate: Decimal | None) -> Decimal | None:
    if rate is None:
        return None
    return min(rate, Decimal("9999999999")).quantize(Decimal("0.01"))


# -- the review path ------------------------------------------------------------------------


def report_submit(*, report: MonitoringReport, actor: User) -> MonitoringReport:
    """The department submits the report to its leader. It must be complete: amounts,
    every indicator of the approved targets with its value (or progress) and likelihood,
    and causes and measures when any light is red or yellow."""

    def before_save(report: MonitoringReport) -> None:
        report.submitted_at = timezone.now()

    return transitions.apply(report, "submit", actor=actor, validate=_check_complete, before_save=before_save)


@transaction.atomic
def report_save_and_submit(
    *,
    report: MonitoringReport,
    actor: User,
    indicators: Iterable[Mapping[str, Any]] = (),
    revision: int | None = None,
    **values: Any,
) -> MonitoringReport:
    """Save what the department reports and submit it, in one transaction: a refused
    submission leaves the report as it was (the screen's 「保存并提交」)."""
    saved = report_save(report=report, actor=actor, indicators=indicators, revision=revision, **values)
    return report_submit(report=saved, actor=actor)


def _check_complete(report: MonitoringReport) -> None:
    errors: dict[str, list[str]] = {}
    # Payments imported since the last save count too.
    report.executed_imported = imported_executed(report)
    message = executed_difference_error(
        executed=report.executed, imported=report.executed_imported, reason=report.executed_reason
    )
    if message:
        errors["executed_reason"] = [message]
    for name in ("budget", "executed", "expected_full_year"):
        if getattr(report, name) is None:
            errors[name] = [_("提交前请填写此项。")]
    progress = {p.target_row_id: p for p in report.indicators.all()}
    for row in approved_rows(report.project):
        item = progress.get(row.pk)
        key = f"indicators.{row.pk}"
        if item is None or (row.quantitative and item.value is None) or (not row.quantitative and not item.progress):
            errors[f"{key}.value" if row.quantitative else f"{key}.progress"] = [
                _("请填写「%(name)s」的完成情况。") % {"name": row.name}
            ]
        if item is None or not item.likelihood:
            errors[f"{key}.likelihood"] = [_("请选择完成目标可能性。")]
    if report.light in (Light.RED, Light.YELLOW):
        for name in TEXT_FIELDS:
            if not getattr(report, name):
                errors[name] = [_("出现红灯或黄灯时，请说明偏差原因和纠偏措施。")]
    if report.adjustment_requested and report.proposed_amount is None:
        errors["proposed_amount"] = [_("申请调整预算时请填写调整后金额。")]
    if errors:
        raise ValidationError(errors)


def report_dept_review(*, report: MonitoringReport, actor: User, approve: bool, comment: str = "") -> MonitoringReport:
    """The department leader passes the report to the finance section or returns it."""
    comment = (comment or "").strip()
    return transitions.apply(
        report,
        "dept_approve" if approve else "dept_return",
        actor=actor,
        comment=comment,
        arguments={"comment": comment},
    )


def reports_dept_approve_many(
    *, reports: list[MonitoringReport], actor: User, comment: str = "", progress=None
) -> transitions.BulkOutcome:
    """The department leader passes many of the department's submitted monitoring reports
    at once: the declared ``dept_approve`` of :func:`report_dept_review`, in bulk."""
    comment = (comment or "").strip()
    return transitions.apply_many(
        reports, "dept_approve", actor=actor, comment=comment, arguments={"comment": comment}, progress=progress
    )


REVIEW_DECISIONS = ("clear", "warn", "return")
_REVIEW_TRANSITIONS = {"clear": "clear", "warn": "warn", "return": "send_back"}


def report_review(*, report: MonitoringReport, actor: User, decision: str, comment: str = "") -> MonitoringReport:
    """The finance section clears the report, marks it warned (to be disposed), or returns
    it to the department. Cleared and warned reports record the executed amount on the
    project."""
    if decision not in REVIEW_DECISIONS:
        raise ValidationError({"decision": _("请选择审核通过、预警或退回。")})
    comment = (comment or "").strip()
    if decision != "clear" and not comment:
        raise ValidationError({"comment": _("预警或退回时请填写审核意见。")})

    detail: dict[str, Any] = {}  # filled under the lock (apply reads it after before_save)

    def validate(report: MonitoringReport) -> None:
        if decision not in REVIEW_DECISIONS:
            raise ValidationError({"decision": _("请选择审核通过、预警或退回。")})

    def before_save(report: MonitoringReport) -> None:
        detail.update(_reviewed(report, actor))
        if decision != "return":
            record_executed([report])

    return transitions.apply(
        report,
        # an unknown decision is refused under the lock, after the right and the state
        _REVIEW_TRANSITIONS.get(decision, "clear"),
        actor=actor,
        comment=comment,
        arguments={"comment": comment},
        validate=validate,
        before_save=before_save,
        detail=detail,
    )


def _reviewed(report: MonitoringReport, actor: User) -> dict[str, Any]:
    """What the finance section's decision writes on the report besides its state (one
    report or many, processes.services.monitoring.reports_clear): who reviewed it and when;
    returns the audit row's detail."""
    report.reviewed_by, report.reviewed_at = actor, timezone.now()
    return {"executed": report.executed}


def record_executed(reports: Iterable[MonitoringReport]) -> None:
    """A cleared or warned report records its executed amount on its project: one UPDATE
    for any number of reports (the projects are locked by the transition, first)."""
    amounts = {r.project_id: r.executed for r in reports if r.executed is not None}
    if not amounts:
        return
    if len(amounts) == 1:
        [(project_id, executed)] = amounts.items()
        BudgetProject.objects.filter(pk=project_id).update(executed_amount=executed)
        return
    BudgetProject.objects.filter(pk__in=list(amounts)).update(
        executed_amount=Case(
            *(When(pk=pk, then=Value(amount)) for pk, amount in amounts.items()),
            output_field=BudgetProject._meta.get_field("executed_amount"),
        )
    )


# -- clearing many green reports at once (issue 18, bulk actions) ---------------------------


def all_green() -> Q:
    """Reports whose every light is green: the project's, the spending one and each
    indicator's (an indicator not read, or any other light, keeps the report out)."""
    return Q(light=Light.GREEN, spending_light=Light.GREEN) & ~Q(
        Exists(IndicatorProgress.objects.filter(report=OuterRef("pk")).exclude(light=Light.GREEN))
    )


def clear_candidates() -> QuerySet[MonitoringReport]:
    """Reports the finance section may clear in bulk: passed by their leader, all green."""
    return MonitoringReport.objects.filter(status=ReportStatus.DEPT_APPROVED).filter(all_green())


NOT_GREEN = gettext_noop("并非全部绿灯，请逐份审核。")


def reports_clear(
    *, actor: User, reports: Iterable[MonitoringReport], comment: str = "", progress=None
) -> transitions.BulkOutcome:
    """审核通过 (``clear``) of many green reports at once, each exactly as
    :func:`report_review` clears one (reviewer and time, the executed amount recorded on the
    project, the finance task completed, the department told — one notice per person for
    all their reports). A report not all green, or moved by
    someone else since it was selected, is refused with the reason and left as it is."""
    if not can_review(actor):
        raise PermissionDenied(_("只有财政绩效科可以审核绩效监控报告。"))
    comment = (comment or "").strip()
    reports = list(reports)
    green = set(
        MonitoringReport.objects.filter(all_green(), pk__in=[r.pk for r in reports]).values_list("pk", flat=True)
    )
    outcome = transitions.BulkOutcome(refused=[(r, _(NOT_GREEN)) for r in reports if r.pk not in green])
    outcome.extend(
        transitions.apply_many(
            [r for r in reports if r.pk in green],
            "clear",
            actor=actor,
            comment=comment,
            arguments={"comment": comment},
            before_save=lambda report: setattr(report, "_review_detail", _reviewed(report, actor)),
            detail=lambda report: report.__dict__.pop("_review_detail", {}),
            after=lambda steps: record_executed(s.obj for s in steps),
            progress=progress,
        )
    )
    return outcome


def report_dispose(
    *,
    report: MonitoringReport,
    actor: User,
    disposal: str,
    reason: str,
    new_amount: Any = None,
) -> MonitoringReport:
    """Dispose of a warned report (动态调整): adjust the project's budget to ``new_amount``
    (the old and new amounts are kept on the report and in the audit), suspend the
    project, stop its payments, or take no action — each with a reason."""
    reason = (reason or "").strip()
    detail: dict[str, Any] = {"disposal": disposal}  # completed under the lock
    project_changes: dict[str, Any] = {}

    def validate(report: MonitoringReport) -> None:
        if disposal not in Disposal.values:
            raise ValidationError({"disposal": _("请选择处置方式。")})
        if not reason:
            raise ValidationError({"reason": _("请填写处置理由。")})
        project = report.project
        current = project.adjusted_amount if project.adjusted_amount is not None else project.approved_amount
        detail["current"] = current
        amount: Decimal | None = None
        if disposal == Disposal.ADJUST:
            errors: dict[str, list[str]] = {}
            amount = _amount(new_amount, "new_amount", errors)
            if errors:
                raise ValidationError(errors)
            if amount is None:
                raise ValidationError({"new_amount": _("调整预算时请填写调整后金额。")})
            if amount == current:
                raise ValidationError({"new_amount": _("调整后金额与现有预算相同。")})
            report.amount_before, report.amount_after = current, amount
            project_changes["adjusted_amount"] = amount
        elif new_amount not in (None, ""):
            raise ValidationError({"new_amount": _("只有调整预算时才填写金额。")})
        elif disposal == Disposal.SUSPEND:
            project_changes["execution_hold"] = ExecutionHold.SUSPENDED
        elif disposal == Disposal.STOP_PAYMENTS:
            project_changes["execution_hold"] = ExecutionHold.PAYMENTS_STOPPED

    def before_save(report: MonitoringReport) -> None:
        current = detail.pop("current")
        detail.update(amount_before=report.amount_before, amount_after=report.amount_after)
        if not project_changes:
            return
        project = BudgetProject.objects.get(pk=report.project_id)  # locked by apply, first
        BudgetProject.objects.filter(pk=project.pk).update(**project_changes, version=project.version + 1)
        audit_record(
            obj=project,
            action=f"dispose_{disposal}",
            actor=actor,
            role=Role.FINANCE_OFFICER,
            from_state=project.stage,
            to_state=project.stage,
            comment=reason,
            detail={
                "report": report.pk,
                "amount_before": current,
                "amount_after": report.amount_after,
                **project_changes,
            },
        )

    return transitions.apply(
        report,
        "dispose",
        actor=actor,
        comment=reason,
        arguments={"disposal": disposal, "reason": reason},
        validate=validate,
        before_save=before_save,
        detail=detail,
    )


def reports_cancel_open(*, project: BudgetProject, actor: User | None, reason: str) -> int:
    """The project ended (cancelled): its open reports end too. Runs inside its
    transition, under its actor (the role recorded is the one they acted in there)."""
    open_reports = list(MonitoringReport.objects.filter(project=project, status__in=REPORT_OPEN).order_by("pk"))
    for report in open_reports:
        transitions.apply(report, "cancel", actor=actor, comment=reason)
    return len(open_reports)
