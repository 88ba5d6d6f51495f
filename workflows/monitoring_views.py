"""Screens of 绩效运行监控 ("双监控", DESIGN §3.4): the rounds (and, for the finance
section, the form that opens one as a background job), a round's overview with its report
list and its XLSX, a department's summary, and a report's page with the form each role
uses on it (fill and submit; the leader's review; the finance section's review; the
disposal of a warned report).

Who sees what (processes.selectors): the bureau-wide readers (finance section,
supervisors, auditors) every round, department and report; department roles their own
department's reports and summary only — a round's overview sends them to their own
department's summary; anyone else nothing (the rounds list 403, everything else 404).
Every change goes through workflows.services (which moves the report's tasks). Answers
follow workflows.views: success redirects with a message; ActionNotAllowed / Conflict 409
with the message; ValidationError 400 with the errors on their fields and everything typed
kept; PermissionDenied 403.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST
from viewflow.workflow.exceptions import FlowLockFailed

from processes import charts
from processes.errors import ActionNotAllowed
from processes.files import xlsx_response
from processes.models import AuditEvent, Job, MonitoringReport, MonitoringRound
from processes.selectors import (
    department_summary,
    monitoring_department_get_for,
    monitoring_department_of,
    monitoring_filter,
    monitoring_lights_by_round,
    monitoring_report_get_for,
    monitoring_reports_for,
    monitoring_round_get_for,
    monitoring_round_years_for,
    monitoring_rounds_counted_for,
    monitoring_rounds_for,
    reads_all_monitoring,
    round_overview,
)
from processes.services.monitoring import (
    REVIEW_DECISIONS,
    approved_rows,
    can_dept_review,
    can_fill,
    can_open,
    can_review,
    report_save,
)
from processes.states import Disposal, Light, ReportStatus
from processes.transitions import available
from processes.units import half_up, in_wan, percent_text
from reports import exports
from reports.exports import LIGHT_ORDER

from . import services
from .evaluation_views import add_finding_from_page, findings_context, remove_finding_from_page
from .monitoring_forms import (
    ROUND_JOB,
    DeptReviewForm,
    DisposeForm,
    ReportFilterForm,
    ReportForm,
    ReviewForm,
    RoundOpenForm,
    RoundsChartForm,
    number_text,
    round_job_start,
)

PAGE_SIZE = 50
#: The overview page lists at most this many red projects (the XLSX lists them all).
RED_SHOWN = 100

#: The report's audited actions as its history shows them.
HISTORY_LABELS = {
    "report_edit": gettext_lazy("保存监控报告"),
    "report_submit": gettext_lazy("提交监控报告"),
    "report_dept_approve": gettext_lazy("部门审核通过"),
    "report_dept_return": gettext_lazy("部门退回修改"),
    "report_clear": gettext_lazy("财政审核通过"),
    "report_warn": gettext_lazy("财政预警"),
    "report_return": gettext_lazy("财政退回重新填报"),
    "report_dispose": gettext_lazy("处置预警项目"),
    "report_cancel": gettext_lazy("监控报告取消"),
}


# -- figures as shown ---------------------------------------------------------------------------


def percent(value: Decimal | None) -> str:
    """A rate already in percent, to two places: 45.8333 → "45.83%"; None → ""."""
    return "" if value is None else f"{half_up(value)}%"


def fraction_percent(value: Decimal | None) -> str:
    """A fraction as a percent to two places: 0.458333 → "45.83%"."""
    return percent_text(value)


def wan(amount: Decimal | None) -> Decimal | None:
    """Yuan → 万元, two places half-up (processes.units)."""
    return in_wan(amount)


def _light_counts(by_light: dict[str, int]) -> list[tuple[str, str, int]]:
    return [(light.value, str(light.label), by_light.get(light.value, 0)) for light in LIGHT_ORDER]


# -- rounds ---------------------------------------------------------------------------------------


def _rounds_page(request, *, form: RoundOpenForm | None = None, status: int = 200):
    user = request.user
    department = monitoring_department_of(user)
    page = Paginator(monitoring_rounds_counted_for(user), PAGE_SIZE).get_page(request.GET.get("page"))
    opener = can_open(user)
    if opener and form is None:
        form = RoundOpenForm(initial={"scope": RoundOpenForm.ALL, "start_month": 1})
    jobs = Job.objects.filter(created_by=user, kind=ROUND_JOB).order_by("-created_at")[:5] if opener else []
    chart_form, rounds_chart = _rounds_chart(request)
    if chart_form.is_bound and not chart_form.is_valid() and status == 200:
        status = 400
    return render(
        request,
        "workflows/monitoring/rounds.html",
        {
            "page": page,
            "form": form if opener else None,
            "jobs": jobs,
            "department": department,
            "chart_form": chart_form,
            "rounds_chart": rounds_chart,
        },
        status=status,
    )


#: The rounds chart compares at most this many rounds of a year (the latest ones).
ROUNDS_CHARTED = 24


def _rounds_chart(request) -> tuple[RoundsChartForm, charts.Chart | None]:
    """预警灯 by round: the rounds of the chosen year (the newest by default) the user may
    see, oldest first, each with its reports the user may read counted by light — for the
    bureau-wide readers optionally one department's. Four queries whatever the number of
    rounds: the years, the departments of the filter, the rounds, the counts."""
    user = request.user
    own = monitoring_department_of(user)
    query = request.GET if ("year" in request.GET or "department" in request.GET) else None
    form = RoundsChartForm(
        query, years=monitoring_round_years_for(user), show_department=own is None, auto_id="chart_%s"
    )
    year, department = form.chosen()
    if year is None:
        return form, None
    rounds = list(
        monitoring_rounds_for(user)
        .filter(fiscal_year=year)
        .order_by("-end_month", "-start_month", "-pk")[:ROUNDS_CHARTED]
    )[::-1]
    rows = monitoring_lights_by_round(user, rounds, department=department.pk if department is not None else own)
    if department is not None:
        title = _("%(year)s 年各轮次预警灯（%(department)s）") % {"year": year, "department": department.name}
    else:
        title = _("%(year)s 年各轮次预警灯") % {"year": year}
    chart = charts.Chart(
        chart_id="monitoring-rounds-lights",
        title=title,
        category_label=_("监控轮次"),
        categories=[_("%(start)s—%(end)s 月") % {"start": r.round.start_month, "end": r.round.end_month} for r in rows],
        series=[
            charts.Series(light.value, str(light.label), [r.by_light[light] for r in rows], LIGHT_FILLS[light])
            for light in LIGHT_ORDER
        ],
        unit=_("个项目"),
        total_label=_("报告数"),
    )
    return form, chart


@login_required
def monitoring_rounds(request):
    """绩效运行监控: the rounds the user may see; for the finance section the form that
    opens a round over every executing project of a year (or the listed ones) — a
    background job whose page shows the progress and then the round."""
    user = request.user
    if not (reads_all_monitoring(user) or monitoring_department_of(user) is not None):
        raise PermissionDenied(_("您的角色不参与绩效运行监控。"))
    if request.method != "POST":
        return _rounds_page(request)
    if not can_open(user):
        raise PermissionDenied(_("只有财政绩效科可以发起绩效运行监控。"))
    form = RoundOpenForm(request.POST)
    if not form.is_valid():
        return _rounds_page(request, form=form, status=400)
    project_ids = form.project_ids()
    if form.errors:
        return _rounds_page(request, form=form, status=400)
    try:
        job = round_job_start(actor=user, project_ids=project_ids, **form.job_params())
    except ValidationError as exc:
        form.add_service_errors(exc)
        return _rounds_page(request, form=form, status=400)
    return redirect("processes:job_detail", pk=job.pk)


def _filtered(request, round_: MonitoringRound, *, forced_department: int | None = None):
    """The filter form, the filters it gives (a department's people: their own department
    only) and the report list they select."""
    form = ReportFilterForm(request.GET or None, show_department=forced_department is None)
    filters = form.filters()
    if forced_department is not None:
        filters["department"] = forced_department
    reports = monitoring_filter(monitoring_reports_for(request.user).filter(round=round_), filters).order_by(
        "project__department__code", "project__code"
    )
    return form, filters, reports


@login_required
@require_GET
def monitoring_round(request, pk):
    """A round's overview: counts by light and by department, the red projects with their
    causes, the district's spending pace, and the report list (filtered, paginated). A
    department's people are sent to their own department's summary."""
    user = request.user
    round_ = monitoring_round_get_for(user, pk)
    if not reads_all_monitoring(user):
        department = monitoring_department_of(user)
        if department is None:
            raise Http404
        return redirect("workflows:monitoring_department", pk=round_.pk, dept_pk=department)
    form, filters, reports = _filtered(request, round_)
    overview = round_overview(round_, filters, red_limit=RED_SHOWN)
    page = Paginator(reports, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "workflows/monitoring/round.html",
        {
            "round": round_,
            "overview": overview,
            "light_counts": _light_counts(overview.by_light),
            "status_counts": [(s.value, s.label, overview.by_status.get(s.value, 0)) for s in ReportStatus],
            "lights": LIGHT_ORDER,
            "pace": _pace_view(overview.pace),
            "departments": [
                {"row": d, "lights": [d.by_light[light] for light in LIGHT_ORDER], "pace": _pace_view(d.pace)}
                for d in overview.departments
            ],
            "lights_chart": _lights_chart(round_, overview),
            "red_rows": [_red_row(report) for report in overview.red],
            "red_more": max(overview.by_light[Light.RED] - len(overview.red), 0),
            "filter_form": form,
            "page": page,
            "xlsx_query": request.GET.urlencode(),
        },
    )


LIGHT_FILLS = {
    Light.RED: charts.RED,
    Light.YELLOW: charts.AMBER,
    Light.GREEN: charts.GREEN,
    Light.BLUE: charts.BLUE,
    Light.NONE: charts.GREY,
}


def _lights_chart(round_: MonitoringRound, overview) -> charts.Chart:
    """预警灯 by department: the round overview's own counts (round_overview), drawn."""
    rows = overview.departments
    return charts.Chart(
        chart_id="monitoring-lights",
        title=_("%(round)s：各部门预警灯") % {"round": round_.title},
        category_label=_("预算部门"),
        categories=[d.name for d in rows],
        series=[
            charts.Series(light.value, str(light.label), [d.by_light[light] for d in rows], LIGHT_FILLS[light])
            for light in LIGHT_ORDER
        ],
        unit=_("个项目"),
        total_label=_("报告数"),
    )


def _reason(reason: str) -> str:
    """A light's reason (a message id) as read; "" for none (gettext("") is the catalog's header)."""
    return _(reason) if reason else ""


def _red_row(report: MonitoringReport) -> dict[str, Any]:
    """A red project as the overview lists it: its spending reason and its red indicators'
    names and reasons, read."""
    items = getattr(report, "red_indicators", [])
    return {
        "report": report,
        "spending_reason": _reason(report.spending_reason),
        "indicators": [(item.target_row.name, _reason(item.reason)) for item in items],
    }


def _pace_view(pace) -> dict[str, Any]:
    reading = pace.reading
    return {
        "pace": pace,
        "execution_rate": fraction_percent(pace.execution_rate),
        "time_pace": fraction_percent(pace.time_pace),
        "ratio": percent(pace.ratio),
        "light": reading.light,
        "light_label": Light(reading.light).label,
        "reason": _reason(reading.reason),
    }


@login_required
@require_GET
def monitoring_department(request, pk, dept_pk):
    """A department's summary in a round: its reports with their lights and its spending
    pace. A department's people see their own department's only (another's is 404)."""
    user = request.user
    round_ = monitoring_round_get_for(user, pk)
    department = monitoring_department_get_for(user, dept_pk)
    summary = department_summary(round_, department)
    return render(
        request,
        "workflows/monitoring/department.html",
        {
            "round": round_,
            "summary": summary,
            "light_counts": _light_counts(summary.by_light),
            "pace": _pace_view(summary.pace),
            "is_reader": reads_all_monitoring(user),
        },
    )


# -- the XLSX ---------------------------------------------------------------------------------


@login_required
@require_GET
def monitoring_round_xlsx(request, pk):
    """The round's overview and its report list (the page's filters) as an XLSX workbook in
    Chinese, amounts in yuan and in 万元. A department's people get their own department's."""
    user = request.user
    round_ = monitoring_round_get_for(user, pk)
    forced = monitoring_department_of(user)
    if not reads_all_monitoring(user) and forced is None:
        raise Http404
    _form, filters, reports = _filtered(request, round_, forced_department=forced)
    overview = round_overview(round_, filters)
    filename = f"monitoring-{round_.fiscal_year}-{round_.start_month:02d}-{round_.end_month:02d}.xlsx"
    return xlsx_response(
        exports.monitoring_round_xlsx(overview, reports.prefetch_related("indicators__target_row")),
        filename,
        fallback=filename,
    )


# -- a report -------------------------------------------------------------------------------------


def _lines(report: MonitoringReport, rows) -> list[dict[str, Any]]:
    """The indicator table: every approved row with its progress (if any), then progress of
    rows no longer approved (the targets changed after it was filled)."""
    progress = {p.target_row_id: p for p in report.indicators.select_related("target_row")}
    shown = {row.pk for row in rows}
    lines = [{"row": row, "item": progress.get(row.pk)} for row in rows]
    lines += [{"row": p.target_row, "item": p} for row_id, p in progress.items() if row_id not in shown]
    for line in lines:
        item = line["item"]
        line["reason"] = _reason(item.reason) if item is not None else ""
        line["value"] = number_text(item.value) if item is not None else ""
    return lines


def _page(request, report: MonitoringReport, *, bound=None, error=None, status=200):
    user = request.user
    bound = bound or {}
    rows = approved_rows(report.project)
    forms: dict[str, Any] = {}
    acts = {d.name for d in available(report, user)}  # the declared transitions the user may take now
    if "submit" in acts:  # filling and submitting go together
        progress = {p.target_row_id: p for p in report.indicators.all()}
        forms["fill"] = bound.get("fill") or ReportForm(initial=ReportForm.initial_from(report, progress), rows=rows)
    if "dept_approve" in acts:
        forms["dept_review"] = bound.get("dept_review") or DeptReviewForm()
    if "clear" in acts:
        forms["review"] = bound.get("review") or ReviewForm()
    if "dispose" in acts:
        forms["dispose"] = bound.get("dispose") or DisposeForm()
    project = report.project
    history = (
        AuditEvent.objects.filter(object_type=MonitoringReport._meta.label_lower, object_id=str(report.pk))
        .select_related("actor")
        .order_by("sequence")
    )
    return render(
        request,
        "workflows/monitoring/report.html",
        {
            "report": report,
            "project": project,
            "round": report.round,
            "lines": _lines(report, rows),
            "spending_reason": _reason(report.spending_reason),
            "current_budget": project.adjusted_amount
            if project.adjusted_amount is not None
            else project.approved_amount,
            "forms": forms,
            "history": [(event, HISTORY_LABELS.get(event.action, event.action)) for event in history],
            "is_reader": reads_all_monitoring(user),
            "error": error,
            **findings_context(report, user, bound.get("finding")),
        },
        status=status,
    )


@login_required
@require_GET
def monitoring_report(request, pk):
    """绩效监控报告: amounts, the spending light, each indicator's light with its reason, the
    review so far, and the form the user may use now."""
    return _page(request, monitoring_report_get_for(request.user, pk))


def _busy() -> str:
    return _("系统繁忙，请稍后重试。")


def _fill(request, report: MonitoringReport):
    """保存 / 提交: what the department reports; submitting saves first, and a refused
    submission saves nothing (the form keeps what was typed)."""
    user = request.user
    if not can_fill(report, user):
        raise PermissionDenied(_("只有本部门经办人可以填报监控报告。"))
    rows = approved_rows(report.project)
    form = ReportForm(request.POST, rows=rows, extra_ids=ReportForm.posted_row_ids(request.POST))
    bound = {"fill": form}
    if not form.is_valid():
        return _page(request, report, bound=bound, status=400)
    submit = "submit" in request.POST
    save = services.monitoring_save_and_submit if submit else report_save
    try:
        saved = save(report=report, actor=user, **form.service_kwargs())
    except ActionNotAllowed as exc:  # Conflict included
        return _page(request, _fresh(request, report), bound=bound, error=exc.message, status=409)
    except ValidationError as exc:
        form.add_service_errors(exc)
        return _page(request, _fresh(request, report), bound=bound, status=400)
    except FlowLockFailed:
        return _page(request, _fresh(request, report), bound=bound, error=_busy(), status=503)
    if submit:
        messages.success(request, _("监控报告已提交，等待部门负责人审核。"))
    else:
        messages.success(request, _("监控报告已保存，当前预警灯：%(light)s。") % {"light": saved.get_light_display()})
    return redirect("workflows:monitoring_report", pk=report.pk)


def _fresh(request, report: MonitoringReport) -> MonitoringReport:
    return monitoring_report_get_for(request.user, report.pk)


def _decided(request, report, form, key, choices, call):
    """Run a reviewing ``call(decision, data)`` for the button pressed (``decision``),
    answering as every action here does."""
    decision = request.POST.get("decision", "")
    bound = {key: form}
    valid = form.is_valid()
    if decision not in choices:
        form.add_error(None, _("请选择审核结果。"))
        valid = False
    if not valid:
        return None, _page(request, report, bound=bound, status=400)
    try:
        done = call(decision, form.cleaned_data)
    except ActionNotAllowed as exc:
        return None, _page(request, _fresh(request, report), error=exc.message, status=409)
    except ValidationError as exc:
        form.add_service_errors(exc)
        return None, _page(request, _fresh(request, report), bound=bound, status=400)
    except FlowLockFailed:
        return None, _page(request, _fresh(request, report), bound=bound, error=_busy(), status=503)
    return (decision, done), None


def _dept_review(request, report: MonitoringReport):
    """审核通过 / 退回 (the department leader)."""
    user = request.user
    if not can_dept_review(report, user):
        raise PermissionDenied(_("只有本部门负责人可以审核监控报告。"))
    outcome, refused = _decided(
        request,
        report,
        DeptReviewForm(request.POST),
        "dept_review",
        ("approve", "return"),
        lambda decision, data: services.monitoring_dept_review(
            report=report, actor=user, approve=decision == "approve", comment=data["comment"]
        ),
    )
    if refused is not None:
        return refused
    if outcome[0] == "approve":
        messages.success(request, _("已审核通过，监控报告已报送财政绩效科。"))
    else:
        messages.success(request, _("已退回经办人修改。"))
    return redirect("workflows:monitoring_report", pk=report.pk)


def _review(request, report: MonitoringReport):
    """审核通过 / 预警 / 退回 (the finance section)."""
    user = request.user
    if not can_review(user):
        raise PermissionDenied(_("只有财政绩效科可以审核监控报告。"))
    outcome, refused = _decided(
        request,
        report,
        ReviewForm(request.POST),
        "review",
        REVIEW_DECISIONS,
        lambda decision, data: services.monitoring_review(
            report=report, actor=user, decision=decision, comment=data["comment"]
        ),
    )
    if refused is not None:
        return refused
    messages.success(
        request,
        {
            "clear": _("监控报告已审核通过。"),
            "warn": _("已预警，请对该项目作出处置。"),
            "return": _("已退回部门重新填报。"),
        }[outcome[0]],
    )
    return redirect("workflows:monitoring_report", pk=report.pk)


def _dispose(request, report: MonitoringReport):
    """处置 a warned report (the finance section)."""
    user = request.user
    if not can_review(user):
        raise PermissionDenied(_("只有财政绩效科可以处置预警项目。"))
    form = DisposeForm(request.POST)
    bound = {"dispose": form}
    if not form.is_valid():
        return _page(request, report, bound=bound, status=400)
    data = form.cleaned_data
    try:
        done = services.monitoring_dispose(
            report=report,
            actor=user,
            disposal=data["disposal"],
            reason=data["reason"],
            new_amount=data["new_amount"] or None,
        )
    except ActionNotAllowed as exc:
        return _page(request, _fresh(request, report), error=exc.message, status=409)
    except ValidationError as exc:
        form.add_service_errors(exc)
        return _page(request, _fresh(request, report), bound=bound, status=400)
    except FlowLockFailed:
        return _page(request, _fresh(request, report), bound=bound, error=_busy(), status=503)
    if done.disposal == Disposal.ADJUST:
        messages.success(
            request,
            _("已处置：调整预算，由 %(before)s 万元调整为 %(after)s 万元。")
            % {"before": f"{wan(done.amount_before):,}", "after": f"{wan(done.amount_after):,}"},
        )
    else:
        messages.success(request, _("已处置：%(disposal)s。") % {"disposal": done.get_disposal_display()})
    return redirect("workflows:monitoring_report", pk=report.pk)


#: The report page's actions, by the name in the URL.
HANDLERS = {
    "fill": _fill,
    "dept-review": _dept_review,
    "review": _review,
    "dispose": _dispose,
    # findings of the report, to be issued as rectifications (DESIGN §3.6)
    "finding-add": lambda request, report: add_finding_from_page(request, report, _page, "workflows:monitoring_report"),
    "finding-remove": lambda request, report: remove_finding_from_page(
        request, report, _page, "workflows:monitoring_report", "monitoring_report"
    ),
}


@login_required
@require_POST
def monitoring_report_act(request, pk, action):
    """One of the report page's actions: fill (保存 / 提交), dept-review, review, dispose."""
    report = monitoring_report_get_for(request.user, pk)
    if action not in HANDLERS:
        raise Http404(_("未知的操作。"))
    return HANDLERS[action](request, report)
