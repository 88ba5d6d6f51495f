"""Screens of the annual report (DESIGN §4, §3.7): the overview of years, a year's report,
its XLSX and its print page for the congress, the finance section's approval of the
year's summary tables for disclosure, and the public page (no login) of what was approved.

Who sees what: the report screens are the bureau-wide readers' (finance section,
supervisors, auditors; everyone else 403, anonymous to the login page). The public URLs
answer a disclosed year or a published evaluation and 404 for anything else; they show the
summary tables and the report's figures, never a person's name.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from processes import charts
from processes.errors import ActionNotAllowed
from processes.files import file_response
from processes.models import CommissionedEvaluation
from processes.scoring import rate_pct
from processes.selectors import published_evaluations
from processes.states import Conclusion, Light, SuggestionAspect, TargetRating
from processes.units import in_wan

from . import public
from .exports import annual_report_response, band_labels, grade_label, source_line
from .figures import GRADES, AnnualReport, ProjectTable, annual_report
from .narrative import LIGHTS
from .participation import participation_rows
from .selectors import (
    disclosed_recheck_reports,
    disclosed_years,
    disclosure_of,
    reads_reports,
    report_years,
    valid_year,
)
from .services import NOTE_MAX_LENGTH, can_disclose, report_disclose
from .titles import department_title, district_name, key_evaluation_title, recheck_title, report_title

PUBLIC_PAGE_SIZE = 50
#: Target sets per public page (each with its indicators).
PUBLIC_TARGETS_PAGE_SIZE = 20


def _check(request: HttpRequest) -> None:
    if not reads_reports(request.user):
        raise PermissionDenied(_("只有财政绩效科、督办、审计人员和人大预算工委可以查看年度绩效报告。"))


def _year(year: int) -> int:
    if not valid_year(year):
        raise Http404(_("年度无效。"))
    return year


def _grades(table: ProjectTable) -> list[tuple[str, int]]:
    return [(grade_label(g), table.grades[g]) for g in GRADES]


def report_context(report: AnnualReport, *, public: bool = False) -> dict[str, Any]:
    """What every page of a year's report shows (the screen, the print page, the public
    page): the report, its titles, and the figures the templates cannot compute."""
    self_evaluation = report.self_evaluation
    bands = band_labels()
    return {
        "report": report,
        "year": report.year,
        "public": public,
        "district": district_name(),
        "title": report_title(report.year),
        "recheck_title": recheck_title(report.year),
        "key_title": key_evaluation_title(report.year),
        "department_title": department_title(report.year),
        "source": source_line(report, public=public) if report.imported else "",
        "participation": participation_rows(report.participation),
        "conclusions": [(label, report.pre_assessment.conclusions[value]) for value, label in Conclusion.choices],
        "self_grades": [
            (grade_label(g), self_evaluation.grades[g], rate_pct(self_evaluation.grades[g], self_evaluation.projects))
            for g in GRADES
        ],
        "recheck_grades": _grades(report.recheck),
        "key_grades": _grades(report.key_evaluation),
        "recheck_bands": [(bands[band], n) for band, n in report.recheck.completion.items()],
        "key_bands": [(bands[band], n) for band, n in report.key_evaluation.completion.items()],
        "department_rate": rate_pct(report.department_evaluation.executed, report.department_evaluation.budget),
        "figure_charts": figure_charts(report),
        **({} if public else narrative_context(report)),
    }


def narrative_context(report: AnnualReport) -> dict[str, Any]:
    """The labels the narrative's tables need (reports.narrative computes the figures).
    The public pages leave the narrative out: its examples quote findings word for word."""
    narrative = report.narrative
    lights = dict(Light.choices)
    return {
        "narrative": narrative,
        "light_labels": [lights[light] for light in LIGHTS],
        "monitoring_rows": [(r, [r.lights[light] for light in LIGHTS]) for r in narrative.monitoring.rounds],
        "monitoring_totals": [narrative.monitoring.lights[light] for light in LIGHTS],
        "target_ratings": [(label, narrative.target_review.ratings[value]) for value, label in TargetRating.choices],
        "suggestion_aspects": [
            *((label, narrative.problems.suggestions[value]) for value, label in SuggestionAspect.choices),
            (_("未注明方面"), narrative.problems.suggestions["unstated"]),
        ],
    }


def figure_charts(report: AnnualReport) -> list[charts.Chart]:
    """The report's figures drawn (reports/figures.py computes them; nothing is re-counted):
    the pre-assessment's reduction, and the money evaluated by kind of evaluation."""
    pa = report.pre_assessment
    out = []
    if pa.projects:
        out.append(
            charts.Chart(
                chart_id="pre-assessment-reduction",
                title=_("%(year)s 年度事前绩效评估：送审、审定与核减金额") % {"year": report.year},
                category_label=_("金额"),
                categories=[_("送审金额"), _("审定金额"), _("核减金额")],
                series=[
                    charts.Series(
                        "amount",
                        _("金额（万元）"),
                        [in_wan(pa.requested), in_wan(pa.approved), in_wan(pa.reduction)],
                        charts.BRAND,
                    )
                ],
                unit=_("万元"),
                stacked=False,
            )
        )
    kinds = [
        (_("财政复核项目"), report.recheck.budget),
        (_("重点评价项目"), report.key_evaluation.budget),
        (_("部门整体绩效评价"), report.department_evaluation.budget),
    ]
    if any(amount for _label, amount in kinds):
        out.append(
            charts.Chart(
                chart_id="evaluated-by-kind",
                title=_("%(year)s 年度绩效评价涉及资金（按评价类型）") % {"year": report.year},
                category_label=_("评价类型"),
                categories=[str(label) for label, _amount in kinds],
                series=[charts.Series("budget", _("预算金额（万元）"), [in_wan(a) for _l, a in kinds], charts.TEAL)],
                unit=_("万元"),
                stacked=False,
            )
        )
    return out


# -- the bureau's screens ----------------------------------------------------------------------


@login_required
@require_GET
def report_overview(request: HttpRequest) -> HttpResponse:
    """绩效报告: the years with data, newest first, imported and disclosed ones marked; a year
    typed in the picker opens that year's report."""
    _check(request)
    chosen = request.GET.get("year", "")
    if chosen:
        try:
            return redirect("reports:year", year=_year(int(chosen)))
        except (ValueError, Http404):
            messages.error(request, _("请输入 %(first)s–%(last)s 之间的年度。") % {"first": 1990, "last": 2100})
    return render(request, "reports/overview.html", {"years": report_years()})


def _year_page(request: HttpRequest, year: int, *, error: str = "", note: str = "", status: int = 200):
    report = annual_report(year)
    user = request.user
    disclosure = disclosure_of(year)
    context = report_context(report)
    context.update(
        {
            "years": report_years(),
            "disclosure": disclosure,
            "may_disclose": disclosure is None and can_disclose(user),  # type: ignore[arg-type]
            "note": note,
            "note_max_length": NOTE_MAX_LENGTH,
            "error": error,
        }
    )
    return render(request, "reports/year.html", context, status=status)


@login_required
@require_GET
def report_year(request: HttpRequest, year: int) -> HttpResponse:
    """A year's report: the figures of §一 and §二, the pre-assessments, the self-evaluation
    by grade, 附件1–3; the XLSX and print links; the disclosure panel."""
    _check(request)
    return _year_page(request, _year(year))


@login_required
@require_GET
def report_xlsx(request: HttpRequest, year: int) -> HttpResponse:
    _check(request)
    return annual_report_response(annual_report(_year(year)))


@login_required
@require_GET
def report_print(request: HttpRequest, year: int) -> HttpResponse:
    """The page printed for the people's congress: A4, no navigation, 附件1–3 each on its pages."""
    _check(request)
    return render(request, "reports/print.html", report_context(annual_report(_year(year))))


@login_required
@require_POST
def report_disclose_view(request: HttpRequest, year: int) -> HttpResponse:
    """批准公开 (finance section): the year's summary tables go to the public page."""
    _check(request)
    year = _year(year)
    note = request.POST.get("note", "")
    try:
        report_disclose(year=year, actor=request.user, note=note)  # type: ignore[arg-type]
    except ActionNotAllowed as exc:  # Conflict included
        return _year_page(request, year, error=str(exc.message), status=409)
    except ValidationError as exc:
        return _year_page(request, year, error=" ".join(exc.messages), note=note, status=400)
    messages.success(request, _("已批准公开 %(year)s 年度汇总表，公开页面已可查看和下载。") % {"year": year})
    return redirect("reports:year", year=year)


# -- the public page (no login) --------------------------------------------------------------


@require_GET
def public_index(request: HttpRequest) -> HttpResponse:
    """信息公开: the years whose summary tables a finance officer approved, and the published
    third-party evaluation reports (title, department, score, grade, completion rate)."""
    rows = published_evaluations().order_by("-fiscal_year", "kind", "department__code", "pk")
    page = Paginator(rows, PUBLIC_PAGE_SIZE).get_page(request.GET.get("page"))
    evaluations: list[CommissionedEvaluation] = list(page)
    for evaluation in evaluations:
        rate = evaluation.completion_rate
        evaluation.rate = None if rate is None else rate_pct(rate, 1)  # type: ignore[attr-defined]
    rechecks = disclosed_recheck_reports().order_by(
        "-sample__campaign__fiscal_year", "project__department__code", "project__code", "pk"
    )
    recheck_page = Paginator(rechecks, PUBLIC_PAGE_SIZE).get_page(request.GET.get("rechecks_page"))
    return render(
        request,
        "reports/public.html",
        {
            "page": page,
            "evaluations": evaluations,
            "recheck_page": recheck_page,
            "disclosures": disclosed_years(),
            "district": district_name(),
            "target_years": public.target_years(),
            "self_evaluation_years": public.self_evaluation_years(),
        },
    )


@require_GET
def public_targets(request: HttpRequest, year: int) -> HttpResponse:
    """绩效目标公开: the approved targets of ``year``'s budgeted projects, with their budgets
    (a page of target sets, their indicators in one more query); a year without any is 404."""
    if not valid_year(year):
        raise Http404
    page = Paginator(public.targets_of_year(year), PUBLIC_TARGETS_PAGE_SIZE).get_page(request.GET.get("page"))
    if not page.object_list:
        raise Http404
    return render(
        request,
        "reports/public_targets.html",
        {"year": year, "page": page, "target_sets": public.with_rows(list(page)), "district": district_name()},
    )


@require_GET
def public_self_evaluations(request: HttpRequest, year: int) -> HttpResponse:
    """绩效自评结果公开: ``year``'s accepted self-evaluations by department — project, budget,
    executed amount (决算), score, grade; a year without any is 404."""
    if not valid_year(year):
        raise Http404
    departments = public.self_evaluations_of_year(year)
    if not departments:
        raise Http404
    return render(
        request,
        "reports/public_self_evaluations.html",
        {"year": year, "departments": departments, "district": district_name()},
    )


def _disclosed(year: int) -> AnnualReport:
    if not valid_year(year) or disclosure_of(year) is None:
        raise Http404
    return annual_report(year)


@require_GET
def public_report(request: HttpRequest, year: int) -> HttpResponse:
    """A disclosed year's summary tables as the print page; any other year is 404."""
    return render(request, "reports/print.html", report_context(_disclosed(year), public=True))


@require_GET
def public_report_xlsx(request: HttpRequest, year: int) -> HttpResponse:
    return annual_report_response(_disclosed(year), public=True)


@require_GET
def public_recheck_report(request: HttpRequest, pk: int) -> FileResponse:
    """A finished re-check's report once its year was approved for disclosure (no login);
    anything else is 404."""
    recheck = get_object_or_404(disclosed_recheck_reports(), pk=pk)
    return file_response(recheck.report)
