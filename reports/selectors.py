"""Reads of the report screens: which years have data, what was disclosed, who may read."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from accounts.models import User
from accounts.roles import Role
from processes.models import (
    BudgetProject,
    CommissionedEvaluation,
    EvaluationCampaign,
    HistoryImport,
    Recheck,
    imported_years,
)
from processes.states import RecheckStatus

from .models import ReportDisclosure

#: The years a report may be asked for (as ``manage.py annual_report`` accepts them).
FIRST_YEAR, LAST_YEAR = 1990, 2100


@dataclass(frozen=True)
class ReportYear:
    """A year on the overview: whether it was imported (历史导入) and disclosed (已公开)."""

    year: int
    history: HistoryImport | None
    disclosure: ReportDisclosure | None

    @property
    def imported(self) -> bool:
        return self.history is not None


def reads_reports(user: User | AnonymousUser) -> bool:
    """The annual report is for the bureau-wide readers (finance section, supervisors,
    auditors) and the people's congress (人大预算工委, any year, disclosed or not)."""
    return user.is_authenticated and (user.reads_all_projects or Role.CONGRESS_READER in user.role_names)


def valid_year(year: int) -> bool:
    return FIRST_YEAR <= year <= LAST_YEAR


def report_years() -> list[ReportYear]:
    """Every year with data — projects, a self-evaluation campaign, a commissioned evaluation
    or an import — newest first, in five queries whatever the number of rows."""
    history = imported_years()
    disclosures = {d.fiscal_year: d for d in ReportDisclosure.objects.all()}
    years: set[int] = set(history)
    for model in (BudgetProject, EvaluationCampaign, CommissionedEvaluation):
        years.update(model.objects.order_by().values_list("fiscal_year", flat=True).distinct())
    return [ReportYear(year, history.get(year), disclosures.get(year)) for year in sorted(years, reverse=True)]


def year_has_data(year: int) -> bool:
    return (
        year in imported_years()
        or BudgetProject.objects.filter(fiscal_year=year).exists()
        or EvaluationCampaign.objects.filter(fiscal_year=year).exists()
        or CommissionedEvaluation.objects.filter(fiscal_year=year).exists()
    )


def disclosure_of(year: int) -> ReportDisclosure | None:
    return ReportDisclosure.objects.filter(fiscal_year=year).select_related("approved_by").first()


def disclosed_years() -> list[ReportDisclosure]:
    """What the public page lists: the years whose summary tables were approved, newest first."""
    return list(ReportDisclosure.objects.order_by("-fiscal_year"))


def disclosed_recheck_reports() -> QuerySet[Recheck]:
    """What the public may download of the re-checks (decision 0028): the 复核报告 of a
    finished re-check whose year's summary tables (with their 自评复核 table) a finance
    officer approved for disclosure. Anything else — a re-check not finished, a year not
    disclosed, a re-check without a report — is not public."""
    return (
        Recheck.objects.filter(
            status=RecheckStatus.FINAL,
            sample__campaign__fiscal_year__in=ReportDisclosure.objects.values("fiscal_year"),
        )
        .exclude(report="")
        .select_related("project__department", "sample__campaign", "sample__agency")
    )
