"""Reads of the execution data (支付数据, 资金支付计划): cumulative amounts to a month, the
rows a user may see, and the exceptions list (declared executed amounts that differ from
the imported payments). Visibility follows the projects' (``project_list_for``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import F, Q, QuerySet, Sum

from config.prepared import PreparedValues

from .models import BudgetProject, MonitoringReport, Payment, PaymentPlan, SelfEvaluation
from .selectors import monitoring_reports_for, project_list_for, self_evaluations_for

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from accounts.models import User


def _to_month_query(model: type[Payment] | type[PaymentPlan], project_ids: list[int], month: int) -> QuerySet:
    return (
        model.objects.filter(project_id__in=project_ids)
        .values("project_id")
        .annotate(to_month=Sum("amount", filter=Q(month__lte=month), default=Decimal("0.00")))
    )


#: one project's sum (a task completion checks its executed amount against it), compiled
#: once per model and month (a small integer column: the month is in the SQL as Django puts it)
_ONE_TO_MONTH: dict[tuple[type, int], PreparedValues] = {}


def _to_month(model: type[Payment] | type[PaymentPlan], project_ids: Iterable[int], month: int) -> dict[int, Decimal]:
    """project id → the sum of its rows of months 1..``month``, for the projects that have
    any row at all (a project with rows only after ``month`` maps to 0)."""
    ids = list(project_ids)
    rows: Iterable[dict[str, Any]]
    if len(ids) == 1 and type(ids[0]) is int and type(month) is int and 1 <= month <= 12:
        prepared = _ONE_TO_MONTH.get((model, month))
        if prepared is None:
            prepared = _ONE_TO_MONTH[(model, month)] = PreparedValues(
                lambda project_id: _to_month_query(model, [project_id], month), project_id=int
            )
        rows = prepared(project_id=ids[0])
    else:
        rows = _to_month_query(model, ids, month)
    return {row["project_id"]: row["to_month"] for row in rows}


def paid_to(project_ids: Iterable[int], month: int) -> dict[int, Decimal]:
    """Cumulative paid to ``month`` (1–12) of each project with imported payments (one query)."""
    return _to_month(Payment, project_ids, month)


def planned_to(project_ids: Iterable[int], month: int) -> dict[int, Decimal]:
    """Cumulative planned to ``month`` of each project that has a payment plan (one query)."""
    return _to_month(PaymentPlan, project_ids, month)


def project_paid_to(project: BudgetProject, month: int = 12) -> Decimal | None:
    """The project's cumulative paid to ``month`` (None: no payments imported)."""
    return paid_to([project.pk], month).get(project.pk)


def project_planned_to(project: BudgetProject, month: int) -> Decimal | None:
    """The project's cumulative planned to ``month`` (None: no plan)."""
    return planned_to([project.pk], month).get(project.pk)


@dataclass(frozen=True)
class MonthRow:
    """One month of a project's execution: planned and paid in it, and to it."""

    month: int
    planned: Decimal | None
    paid: Decimal | None
    planned_to_date: Decimal | None
    paid_to_date: Decimal | None


def project_months(project: BudgetProject) -> list[MonthRow]:
    """The twelve months of the project's plan and payments (two queries)."""
    plans = dict(PaymentPlan.objects.filter(project=project).values_list("month", "amount"))
    paid = dict(Payment.objects.filter(project=project).values_list("month", "amount"))
    rows: list[MonthRow] = []
    planned_sum = paid_sum = Decimal("0.00")
    for month in range(1, 13):
        planned_sum += plans.get(month, 0)
        paid_sum += paid.get(month, 0)
        rows.append(
            MonthRow(
                month,
                plans.get(month),
                paid.get(month),
                planned_sum if plans else None,
                paid_sum if paid else None,
            )
        )
    return rows


def payments_for(user: User | AnonymousUser) -> QuerySet[Payment]:
    """The payments of the projects the user sees (a department: its own)."""
    return Payment.objects.filter(project__in=project_list_for(user)).select_related("project")


def payment_plans_for(user: User | AnonymousUser) -> QuerySet[PaymentPlan]:
    """The plans of the projects the user sees."""
    return PaymentPlan.objects.filter(project__in=project_list_for(user)).select_related("project")


# -- the exceptions list ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ExecutionException:
    """A report or sheet whose declared executed amount differs from the imported payments'."""

    kind: str  # "monitoring" or "self_evaluation"
    record: Any
    project: BudgetProject
    period: str
    status: str
    imported: Decimal
    declared: Decimal
    reason: str

    @property
    def difference(self) -> Decimal:
        return self.declared - self.imported


def execution_exceptions(user: User | AnonymousUser, *, year: int | None = None) -> list[ExecutionException]:
    """Every monitoring report and self-evaluation the user sees whose declared executed
    amount differs from the imported one, by project code then period (two queries)."""
    reports: QuerySet[MonitoringReport] = (
        monitoring_reports_for(user)
        .filter(executed_imported__isnull=False, executed__isnull=False)
        .exclude(executed=F("executed_imported"))
        .select_related("project__department", "round")
    )
    evaluations: QuerySet[SelfEvaluation] = (
        self_evaluations_for(user)
        .filter(sheet__executed_imported__isnull=False, sheet__executed__isnull=False)
        .exclude(sheet__executed=F("sheet__executed_imported"))
        .select_related("project__department", "sheet", "campaign")
    )
    if year is not None:
        reports = reports.filter(project__fiscal_year=year)
        evaluations = evaluations.filter(project__fiscal_year=year)
    rows = [
        ExecutionException(
            "monitoring",
            r,
            r.project,
            r.round.title,
            r.get_status_display(),
            r.executed_imported,  # type: ignore[arg-type]
            r.executed,  # type: ignore[arg-type]
            r.executed_reason,
        )
        for r in reports
    ]
    for e in evaluations:
        sheet = e.sheet
        assert sheet is not None and sheet.executed is not None and sheet.executed_imported is not None
        rows.append(
            ExecutionException(
                "self_evaluation",
                e,
                e.project,
                str(e.campaign),
                e.get_status_display(),
                sheet.executed_imported,
                sheet.executed,
                sheet.executed_reason,
            )
        )
    rows.sort(key=lambda row: (row.project.fiscal_year, row.project.code, row.kind, row.period))
    return rows
