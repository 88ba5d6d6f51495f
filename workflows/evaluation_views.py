"""Screens of 绩效评价 (DESIGN §3.5, §3.7): the evaluation hub (the campaigns with their
counts, and for the finance section the form that launches a year's self-evaluation as a
background job), a campaign's overview with its self-evaluation list and XLSX, its re-checks
with the finance section's sampling form, the self-evaluation score sheet (fill and
submit; the leader's review; the finance section's acceptance; findings; the
recommendation once graded) and the agency's re-check sheet (the same sheet component).

Who sees what: the bureau-wide readers (finance section, supervisors, auditors) everything;
department roles their own department's self-evaluations and re-checks only (a campaign's
figures and list are narrowed to their department); agency staff their agency's re-checks;
anyone else nothing (lists 403, objects 404). Every change is one call of
processes.services.evaluation / findings (a transition moves its flow task by the step
workflows registered; "save and submit" is one call, so no view opens a transaction); the
forms and buttons shown are the transitions processes.transitions.available allows. Answers
follow workflows.views: success redirects with a message; ActionNotAllowed / Conflict 409 with the
message; ValidationError 400 with the errors on their fields and everything typed kept;
PermissionDenied 403.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST
from viewflow.workflow.exceptions import FlowLockFailed

from accounts.models import User
from accounts.roles import Role
from processes import charts, transitions
from processes.errors import ActionNotAllowed
from processes.execution_selectors import project_paid_to
from processes.files import file_response, xlsx_response
from processes.models import AuditEvent, Deliverable, EvaluationCampaign, Finding, Job, Recheck, SelfEvaluation
from processes.permissions import holds
from processes.scoring import rate_pct
from processes.selectors import (
    campaigns_for,
    recheck_get_for,
    rechecks_for,
    self_evaluation_get_for,
    self_evaluations_for,
)
from processes.services import agencies, evaluation, findings
from processes.services.agencies import framework_agency
from processes.states import Grade, RecheckStatus, SampleMethod, ScoreSection, SelfEvaluationStatus
from reports import exports
from reports.figures import excellent_or_good_rate

from .commissioned_forms import QualityScoreForm
from .evaluation_forms import (
    CAMPAIGN_JOB,
    CampaignLaunchForm,
    CommentForm,
    FeedbackForm,
    FindingForm,
    OpinionForm,
    RecheckFilterForm,
    RecheckFinalizeForm,
    RecheckSampleForm,
    RowView,
    SelfEvaluationFilterForm,
    SelfEvaluationSheetForm,
    SheetForm,
    campaign_job_start,
    rows_of,
    sheet_preview,
)

PAGE_SIZE = 50
#: The sampling form lists at most this many candidates to tick (filter to narrow).
POOL_SHOWN = 200
GRADES = list(Grade)
SECTIONS = [ScoreSection.OUTPUT, ScoreSection.OUTCOME, ScoreSection.SATISFACTION]

HISTORY_LABELS = {
    "self_evaluation_edit": gettext_lazy("保存绩效自评"),
    "self_evaluation_submit": gettext_lazy("提交绩效自评"),
    "self_evaluation_dept_approve": gettext_lazy("部门审核通过"),
    "self_evaluation_dept_return": gettext_lazy("部门退回修改"),
    "self_evaluation_accept": gettext_lazy("财政确认"),
    "self_evaluation_return": gettext_lazy("财政退回修改"),
    "self_evaluation_cancel": gettext_lazy("绩效自评取消"),
    "recheck_edit": gettext_lazy("保存复核评分"),
    "recheck_rescore": gettext_lazy("提交复核结果"),
    "recheck_feedback": gettext_lazy("部门反馈意见"),
    "recheck_finalize": gettext_lazy("完成复核"),
    "quality_score": gettext_lazy("成果质量评分"),
}


# -- who sees what -----------------------------------------------------------------------------


def reads_all(user) -> bool:
    """The bureau-wide readers: finance section, supervisors, auditors."""
    return holds(user, "processes.view_all_projects")


def department_of(user) -> int | None:
    """The department a department role is narrowed to (None for the bureau-wide readers)."""
    if reads_all(user) or not user.is_department_user:
        return None
    return user.department_id


def agency_of(user) -> int | None:
    if user.has_role(Role.AGENCY_STAFF) and user.agency_id is not None:
        return user.agency_id
    return None


def require_evaluation_reader(user, *, agency_ok: bool = False) -> None:
    if reads_all(user) or department_of(user) is not None or (agency_ok and agency_of(user) is not None):
        return
    raise PermissionDenied(_("您的角色不参与绩效评价。"))


def _busy() -> str:
    return _("系统繁忙，请稍后重试。")


def commissioned_url() -> str | None:
    """The commissioned evaluations list (built beside this module); None until it exists."""
    try:
        return reverse("workflows:commissioned_list")
    except NoReverseMatch:
        return None


# -- counts ----------------------------------------------------------------------------------


def excellent_good_rate(by_grade: dict[str, int]) -> Decimal | None:
    """优良率 = (优 + 良) ÷ graded, by count, in percent to two places (reports.figures)."""
    return excellent_or_good_rate(by_grade)


def _grade_counts(prefix: str = "self_evaluations__", scope: Q | None = None) -> dict[str, Count]:
    """One Count per grade of the accepted self-evaluations (the grade of record of a campaign)."""
    scope = scope if scope is not None else Q()
    return {
        f"g_{g.value}": Count(
            f"{prefix}pk" if prefix else "pk",
            filter=scope & Q(**{f"{prefix}status": SelfEvaluationStatus.ACCEPTED, f"{prefix}grade": g.value}),
        )
        for g in GRADES
    }


def campaign_rows(user) -> QuerySet[EvaluationCampaign]:
    """The campaigns with their self-evaluations counted by status and grade in one query (a
    department's people: their own department's)."""
    department = department_of(user)
    scope = Q(self_evaluations__project__department_id=department) if department is not None else Q()
    statuses = {
        f"s_{s.value}": Count("self_evaluations", filter=scope & Q(self_evaluations__status=s.value))
        for s in SelfEvaluationStatus
    }
    return (
        campaigns_for(user)
        .annotate(
            total=Count("self_evaluations", filter=scope & ~Q(self_evaluations__status=SelfEvaluationStatus.CANCELLED)),
            **statuses,
            **_grade_counts(scope=scope),
        )
        .order_by("-fiscal_year")
    )


def _campaign_view(c) -> dict[str, Any]:
    by_status = {s.value: getattr(c, f"s_{s.value}", 0) for s in SelfEvaluationStatus}
    by_grade = {g.value: getattr(c, f"g_{g.value}", 0) for g in GRADES}
    return {
        "campaign": c,
        "total": c.total,
        "statuses": [(s.value, s.label, by_status[s.value]) for s in SelfEvaluationStatus],
        "grades": [(g.value, g.label, by_grade[g.value]) for g in GRADES],
        "rate": excellent_good_rate(by_grade),
    }


# -- the hub ---------------------------------------------------------------------------------


def _hub_page(request, *, form: CampaignLaunchForm | None = None, status: int = 200):
    user = request.user
    launcher = evaluation.can_launch(user)
    agency = agency_of(user)
    campaigns = campaign_rows(user)
    if agency is not None and not reads_all(user):
        campaigns = campaigns.none()
    page: Page = Paginator(campaigns, PAGE_SIZE).get_page(request.GET.get("page"))
    if launcher and form is None:
        form = CampaignLaunchForm()
    jobs = Job.objects.filter(created_by=user, kind=CAMPAIGN_JOB).order_by("-created_at")[:5] if launcher else []
    my_rechecks = None
    if agency is not None:
        my_rechecks = Paginator(
            rechecks_for(user).select_related("sample__campaign").order_by("sample__due_at", "pk"), PAGE_SIZE
        ).get_page(request.GET.get("rpage"))
    return render(
        request,
        "workflows/evaluation/hub.html",
        {
            "page": page,
            "rows": [_campaign_view(c) for c in page],
            "grades": GRADES,
            "form": form if launcher else None,
            "jobs": jobs,
            "department": department_of(user),
            "my_rechecks": my_rechecks,
            "commissioned_url": commissioned_url(),
        },
        status=status,
    )


@login_required
def evaluations(request):
    """绩效评价: the campaigns with their counts by status and grade and 优良率; for the
    finance section the form that launches a year's self-evaluation (a background job whose
    page shows the progress); for agency staff their re-checks."""
    user = request.user
    require_evaluation_reader(user, agency_ok=True)
    if request.method != "POST":
        return _hub_page(request)
    if not evaluation.can_launch(user):
        raise PermissionDenied(_("只有财政绩效科可以发起绩效自评。"))
    form = CampaignLaunchForm(request.POST)
    if not form.is_valid():
        return _hub_page(request, form=form, status=400)
    data = form.cleaned_data
    try:
        job = campaign_job_start(
            actor=user, fiscal_year=data["fiscal_year"], due_at=data["due_at"], title=data["title"]
        )
    except ValidationError as exc:
        form.add_service_errors(exc)
        return _hub_page(request, form=form, status=400)
    return redirect("processes:job_detail", pk=job.pk)


# -- a campaign ------------------------------------------------------------------------------


def _campaign_get(user, pk) -> EvaluationCampaign:
    campaign = get_object_or_404(campaigns_for(user), pk=pk)
    require_evaluation_reader(user)
    return campaign


def _self_evaluations(user, campaign, filters: dict[str, Any]) -> QuerySet[SelfEvaluation]:
    qs = self_evaluations_for(user).filter(campaign=campaign)
    department = department_of(user)
    if department is not None:
        qs = qs.filter(project__department_id=department)
    if filters.get("department"):
        qs = qs.filter(project__department_id=filters["department"])
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("grade"):
        qs = qs.filter(grade=filters["grade"])
    return qs


def campaign_overview(qs: QuerySet[SelfEvaluation]) -> dict[str, Any]:
    """Counts by status and grade (accepted ones) and by department, in three queries."""
    by_status = dict(qs.order_by().values_list("status").annotate(n=Count("pk")))
    by_grade = dict(
        qs.filter(status=SelfEvaluationStatus.ACCEPTED)
        .exclude(grade="")
        .order_by()
        .values_list("grade")
        .annotate(n=Count("pk"))
    )
    departments = []
    rows = (
        qs.order_by()
        .values("project__department_id", "project__department__code", "project__department__name")
        .annotate(
            projects=Count("pk", filter=~Q(status=SelfEvaluationStatus.CANCELLED)),
            accepted=Count("pk", filter=Q(status=SelfEvaluationStatus.ACCEPTED)),
            **_grade_counts(prefix=""),
        )
        .order_by("project__department__code")
    )
    for row in rows:
        counted: dict[str, Any] = dict(row)
        grades = {g.value: counted[f"g_{g.value}"] for g in GRADES}
        departments.append(
            {
                "id": row["project__department_id"],
                "code": row["project__department__code"],
                "name": row["project__department__name"],
                "projects": row["projects"],
                "accepted": row["accepted"],
                "grades": [grades[g.value] for g in GRADES],
                "rate": excellent_good_rate(grades),
            }
        )
    return {
        "total": sum(n for s, n in by_status.items() if s != SelfEvaluationStatus.CANCELLED),
        "statuses": [(s.value, s.label, by_status.get(s.value, 0)) for s in SelfEvaluationStatus],
        "grades": [(g.value, g.label, by_grade.get(g.value, 0)) for g in GRADES],
        "rate": excellent_good_rate(by_grade),
        "departments": departments,
    }


def _listed(qs: QuerySet[SelfEvaluation]) -> QuerySet[SelfEvaluation]:
    return qs.select_related("project__department", "sheet", "recheck").order_by(
        "project__department__code", "project__code"
    )


@login_required
@require_GET
def evaluation_campaign(request, pk):
    """A campaign: counts by status and grade, by department (projects, accepted, 优/良/中/差,
    优良率) and the self-evaluation list (filtered, paginated). A department's people see
    their own department's only."""
    user = request.user
    campaign = _campaign_get(user, pk)
    department = department_of(user)
    form = SelfEvaluationFilterForm(request.GET or None, show_department=department is None)
    filters = form.filters()
    base = _self_evaluations(user, campaign, {"department": filters.get("department")})
    overview = campaign_overview(base)
    listed = _listed(_self_evaluations(user, campaign, filters))
    page = Paginator(listed, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "workflows/evaluation/campaign.html",
        {
            "campaign": campaign,
            "overview": overview,
            "grade_chart": _grade_chart(campaign, overview),
            "rate_chart": _rate_chart(campaign, overview),
            "grades": GRADES,
            "filter_form": form,
            "page": page,
            "department": department,
            "is_reader": reads_all(user),
            "xlsx_query": request.GET.urlencode(),
        },
    )


GRADE_FILLS = [charts.GREEN, charts.BLUE, charts.AMBER, charts.RED]


def _grade_chart(campaign, overview: dict[str, Any]) -> charts.Chart:
    """等次分布: the campaign overview's own counts (campaign_overview), drawn."""
    return charts.Chart(
        chart_id="campaign-grades",
        title=_("%(title)s：评价等次分布") % {"title": campaign.title},
        category_label=_("等次"),
        categories=[str(label) for _v, label, _n in overview["grades"]],
        series=[charts.Series("count", _("项目数"), [n for _v, _l, n in overview["grades"]], charts.BRAND)],
        unit=_("个项目"),
        stacked=False,
    )


def _rate_chart(campaign, overview: dict[str, Any]) -> charts.Chart:
    """优良率 by department (campaign_overview's per-department rate; departments with
    nothing graded yet are left out)."""
    rows = [d for d in overview["departments"] if d["rate"] is not None]
    return charts.Chart(
        chart_id="campaign-rates",
        title=_("%(title)s：各部门优良率") % {"title": campaign.title},
        category_label=_("预算部门"),
        categories=[d["name"] for d in rows],
        series=[charts.Series("rate", _("优良率"), [d["rate"] for d in rows], charts.TEAL)],
        unit="%",
        stacked=False,
        percent=True,
    )


@login_required
@require_GET
def evaluation_campaign_xlsx(request, pk):
    """The campaign's figures and its self-evaluation list (the page's filters) as XLSX, in
    Chinese, amounts in 万元 (reports.exports). A department's people get their own department's."""
    user = request.user
    campaign = _campaign_get(user, pk)
    department = department_of(user)
    filters = SelfEvaluationFilterForm(request.GET or None, show_department=department is None).filters()
    overview = campaign_overview(_self_evaluations(user, campaign, {"department": filters.get("department")}))
    listed = _listed(_self_evaluations(user, campaign, filters))
    filename = f"self-evaluation-{campaign.fiscal_year}.xlsx"
    return xlsx_response(
        exports.evaluation_campaign_xlsx(campaign, overview, listed.iterator(chunk_size=500)),
        filename,
        fallback=filename,
    )


# -- re-checks of a campaign ------------------------------------------------------------------


def recheck_row(recheck: Recheck) -> dict[str, Any]:
    """A re-check as the summary (附件1) lists it: budget, executed, completion rate, both
    scores and grades, the difference."""
    sheet = recheck.sheet or recheck.self_evaluation.sheet
    budget = sheet.budget if sheet is not None else evaluation.budget_of(recheck.project)
    executed = sheet.executed if sheet is not None else recheck.project.executed_amount
    return {
        "recheck": recheck,
        "budget": budget,
        "executed": executed,
        "completion": rate_pct(executed, budget),
        "difference": recheck.difference,
    }


def _rechecks_page(request, campaign, *, form: RecheckSampleForm | None = None, status: int = 200):
    user = request.user
    filter_form = RecheckFilterForm(request.GET or None)
    qs = rechecks_for(user).filter(sample__campaign=campaign).select_related("self_evaluation__sheet")
    if filter_form.is_valid():
        if filter_form.cleaned_data.get("department"):
            qs = qs.filter(project__department=filter_form.cleaned_data["department"])
        if filter_form.cleaned_data.get("status"):
            qs = qs.filter(status=filter_form.cleaned_data["status"])
    qs = qs.order_by("project__department__code", "project__code")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    sampler = evaluation.can_launch(user)
    pool: list[SelfEvaluation] = []
    pool_count = 0
    if sampler:
        pool_qs = evaluation.recheck_pool(
            campaign,
            departments=[d for d in request.GET.getlist("pool_department") if d.isdigit()],
            grades=[g for g in request.GET.getlist("pool_grade") if g in Grade.values],
        )
        pool_count = pool_qs.count()
        pool = list(pool_qs.select_related("project__department")[:POOL_SHOWN])
        if form is None:  # the agency pre-filled with the year's framework commission (整体委托)
            framework = framework_agency(campaign.fiscal_year)
            form = RecheckSampleForm(pool=pool, initial={"agency": framework.pk} if framework else None)
        else:
            form.pool = pool
    samples = (
        campaign.samples.select_related("agency", "created_by").annotate(n=Count("rechecks")).order_by("-created_at")
        if reads_all(user)
        else []
    )
    return render(
        request,
        "workflows/evaluation/rechecks.html",
        {
            "campaign": campaign,
            "page": page,
            "rows": [recheck_row(r) for r in page],
            "filter_form": filter_form,
            "form": form if sampler else None,
            "pool": pool,
            "pool_count": pool_count,
            "pool_shown": POOL_SHOWN,
            "grades": GRADES,
            "samples": [_sample_view(s) for s in samples],
            "is_reader": reads_all(user),
        },
        status=status,
    )


def _sample_view(sample) -> dict[str, Any]:
    filters = sample.filters or {}
    grades = [str(Grade(g).label) for g in filters.get("grades", []) if g in Grade.values]
    return {
        "sample": sample,
        "random": sample.method == SampleMethod.RANDOM,
        "departments": filters.get("departments", []),
        "grades": grades,
        "size": filters.get("size"),
        "pool_size": len(sample.pool or []),
    }


@login_required
def evaluation_rechecks(request, pk):
    """复核: the campaign's re-checks the user may see (附件1's columns) and, for the finance
    section, the form that samples self-evaluations (by hand or at random with a recorded
    seed) and commissions an agency; every sample with its method, seed and filters."""
    user = request.user
    campaign = get_object_or_404(campaigns_for(user), pk=pk)
    require_evaluation_reader(user, agency_ok=True)
    if request.method != "POST":
        return _rechecks_page(request, campaign)
    if not evaluation.can_launch(user):
        raise PermissionDenied(_("只有财政绩效科可以抽取复核项目。"))
    form = RecheckSampleForm(request.POST)
    if not form.is_valid():
        return _rechecks_page(request, campaign, form=form, status=400)
    try:
        sample = evaluation.recheck_sample(actor=user, campaign=campaign, **form.service_kwargs())
    except ValidationError as exc:
        form.add_service_errors(exc)
        return _rechecks_page(request, campaign, form=form, status=400)
    count = sample.rechecks.count()
    if sample.method == SampleMethod.RANDOM:
        messages.success(
            request, _("已随机抽取 %(n)s 个项目（随机种子 %(seed)s）。") % {"n": count, "seed": sample.seed}
        )
    else:
        messages.success(request, _("已选取 %(n)s 个项目复核。") % {"n": count})
    return redirect("workflows:evaluation_rechecks", pk=campaign.pk)


# -- the score sheet (shared by the self-evaluation and the re-check) -------------------------


def sheet_context(
    rows: list[RowView],
    *,
    budget: Decimal | None,
    form: SheetForm | None,
    executed: Any,
    entries: list[dict[str, Any]],
    compare: dict[int, Any] | None = None,
    compare_sheet=None,
    summary: str = "",
) -> dict[str, Any]:
    """What templates/workflows/evaluation/sheet.html needs: the rows by section with their
    fields (when editable), points and scores (of what is shown: saved or typed), the
    subtotals, the total and the grade — and, beside them, another sheet's scores."""
    preview = sheet_preview(rows=rows, budget=budget, executed=executed, lines=entries)
    fields = form.row_fields() if form is not None else {}
    sections = []
    for section in SECTIONS:
        section_rows = [
            {
                "view": row,
                "fields": fields.get(row.row_id),
                "points": preview["lines"][str(row.row_id)]["points"],
                "score": preview["lines"][str(row.row_id)]["score"],
                "compare": (compare or {}).get(row.row_id),
            }
            for row in rows
            if row.section == section
        ]
        if section_rows:
            sections.append(
                {
                    "value": section.value,
                    "label": section.label,
                    "rows": section_rows,
                    "subtotal": preview[section.value],
                    "compare": getattr(compare_sheet, f"{section.value}_score", None) if compare_sheet else None,
                }
            )
    return {
        "sections": sections,
        "preview": preview,
        "form": form,
        "budget": budget,
        "executed": executed,
        "summary": summary,
        "compare_sheet": compare_sheet,
    }


def _saved_entries(rows: list[RowView]) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        line = row.line
        if line is None:
            continue
        out.append(
            {"target_row": row.row_id, "actual": line.actual_value, "band": line.band, "band_pct": line.band_pct}
        )
    return out


def _sheet_for_page(rows, sheet, *, budget, form, bound: bool, executed_default=None, **compare):
    if bound and form is not None:
        entries = form.entries()
        return sheet_context(
            rows, budget=budget, form=form, executed=entries["executed"], entries=entries["lines"], **compare
        )
    executed = sheet.executed if sheet is not None else executed_default
    return sheet_context(
        rows,
        budget=budget,
        form=form,
        executed=executed,
        entries=_saved_entries(rows),
        summary=sheet.summary if sheet is not None else "",
        **compare,
    )


def _history(obj, *, hide=()) -> list[tuple[AuditEvent, Any]]:
    events = (
        AuditEvent.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))
        .exclude(action__in=hide)
        .select_related("actor")
        .order_by("sequence")
    )
    return [(event, HISTORY_LABELS.get(event.action, event.action)) for event in events]


def findings_context(source, user, bound: FindingForm | None) -> dict[str, Any]:
    allowed = findings.can_record(source, user)
    return {
        "findings": list(findings.findings_of(source).select_related("created_by")),
        "finding_form": (bound or FindingForm()) if allowed else None,
        "can_record_findings": allowed,
    }


# -- a self-evaluation ---------------------------------------------------------------------


def _se_rows(se: SelfEvaluation) -> list[RowView]:
    return rows_of(se.project, se.sheet)


def _se_budget(se: SelfEvaluation) -> Decimal | None:
    return se.sheet.budget if se.sheet is not None else evaluation.budget_of(se.project)


def _se_executed_default(se: SelfEvaluation) -> Decimal | None:
    """What a sheet not saved yet starts from: the year's imported payments (the prefill
    rule), else the project's executed amount."""
    paid = project_paid_to(se.project, 12)
    return paid if paid is not None else se.project.executed_amount


def _se_page(request, se: SelfEvaluation, *, bound=None, error=None, status=200):
    user = request.user
    bound = bound or {}
    rows = _se_rows(se)
    actions = {d.name for d in transitions.available(se, user)}  # what the declarations allow now
    editable = "submit" in actions
    form = None
    if editable:
        form = bound.get("fill") or SelfEvaluationSheetForm(
            initial=SelfEvaluationSheetForm.initial_from(
                se.sheet, rows, revision=se.revision, executed=_se_executed_default(se) or None
            ),
            rows=rows,
        )
    forms: dict[str, Any] = {}
    if actions & {"dept_approve", "dept_return"}:
        forms["dept_review"] = bound.get("dept_review") or CommentForm()
    if actions & {"accept", "send_back"}:
        forms["review"] = bound.get("review") or CommentForm()
    recheck = Recheck.objects.filter(self_evaluation=se).select_related("sample__agency").first()
    graded = se.status == SelfEvaluationStatus.ACCEPTED
    return render(
        request,
        "workflows/evaluation/self_evaluation.html",
        {
            "se": se,
            "project": se.project,
            "campaign": se.campaign,
            "sheet": se.sheet,
            "sheet_ctx": _sheet_for_page(
                rows,
                se.sheet,
                budget=_se_budget(se),
                form=form,
                bound="fill" in bound,
                executed_default=_se_executed_default(se),
            ),
            "preview_url": reverse("workflows:self_evaluation_preview", args=[se.pk]) if form else "",
            "fill_url": reverse("workflows:self_evaluation_act", args=[se.pk, "fill"]),
            "forms": forms,
            "recheck": recheck,
            "recommendation": evaluation.recommendation_for(se.project) if graded else None,
            "history": _history(se),
            "is_reader": reads_all(user),
            "error": error,
            **findings_context(se, user, bound.get("finding")),
        },
        status=status,
    )


@login_required
@require_GET
def self_evaluation(request, pk):
    """绩效自评表: budget, executed and its points, each indicator with its score, the section
    subtotals, total and grade (live while typing), and the form the user may use now."""
    return _se_page(request, self_evaluation_get_for(request.user, pk))


@login_required
@require_POST
def self_evaluation_preview(request, pk):
    """The scores of what is typed, not saved (JSON): the page's live total."""
    se = self_evaluation_get_for(request.user, pk)
    rows = _se_rows(se)
    entries = SheetForm(request.POST, rows=rows).entries()
    return JsonResponse(
        _jsonable(sheet_preview(rows=rows, budget=_se_budget(se), executed=entries["executed"], lines=entries["lines"]))
    )


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return value


def _fresh_se(request, se) -> SelfEvaluation:
    return self_evaluation_get_for(request.user, se.pk)


def _se_fill(request, se: SelfEvaluation):
    """保存 / 提交: submitting saves first; a refused submission saves nothing."""
    user = request.user
    if not evaluation.can_fill(se, user):
        raise PermissionDenied(_("只有本部门经办人可以填报绩效自评。"))
    form = SelfEvaluationSheetForm(request.POST, rows=_se_rows(se))
    bound = {"fill": form}
    if not form.is_valid():
        return _se_page(request, se, bound=bound, status=400)
    submit = "submit" in request.POST
    try:
        saved = evaluation.self_evaluation_save(evaluation=se, actor=user, submit=submit, **form.service_kwargs())
    except ActionNotAllowed as exc:
        return _se_page(request, _fresh_se(request, se), bound=bound, error=exc.message, status=409)
    except ValidationError as exc:
        form.add_service_errors(exc)
        return _se_page(request, _fresh_se(request, se), bound=bound, status=400)
    except FlowLockFailed:
        return _se_page(request, _fresh_se(request, se), bound=bound, error=_busy(), status=503)
    if submit:
        messages.success(request, _("绩效自评已提交，等待部门负责人审核。"))
    else:
        messages.success(
            request,
            _("绩效自评已保存：%(score)s 分。") % {"score": saved.score if saved.score is not None else "—"},
        )
    return redirect("workflows:self_evaluation", pk=se.pk)


def _se_decide(request, se, *, key: str, choices: tuple[str, str], call):
    decision = request.POST.get("decision", "")
    form = CommentForm(request.POST)
    bound = {key: form}
    valid = form.is_valid()
    if decision not in choices:
        form.add_error(None, _("请选择审核结果。"))
        valid = False
    if not valid:
        return None, _se_page(request, se, bound=bound, status=400)
    try:
        call(decision == choices[0], form.cleaned_data["comment"])
    except ActionNotAllowed as exc:
        return None, _se_page(request, _fresh_se(request, se), error=exc.message, status=409)
    except ValidationError as exc:
        form.add_service_errors(exc)
        return None, _se_page(request, _fresh_se(request, se), bound=bound, status=400)
    except FlowLockFailed:
        return None, _se_page(request, _fresh_se(request, se), bound=bound, error=_busy(), status=503)
    return decision, None


def _se_dept_review(request, se: SelfEvaluation):
    user = request.user
    if not evaluation.can_dept_review(se, user):
        raise PermissionDenied(_("只有本部门负责人可以审核绩效自评。"))
    decision, refused = _se_decide(
        request,
        se,
        key="dept_review",
        choices=("approve", "return"),
        call=lambda ok, comment: evaluation.self_evaluation_dept_review(
            evaluation=se, actor=user, approve=ok, comment=comment
        ),
    )
    if refused is not None:
        return refused
    if decision == "approve":
        messages.success(request, _("已审核通过，绩效自评已报送财政绩效科。"))
    else:
        messages.success(request, _("已退回经办人修改。"))
    return redirect("workflows:self_evaluation", pk=se.pk)


def _se_review(request, se: SelfEvaluation):
    user = request.user
    if not evaluation.can_accept(user):
        raise PermissionDenied(_("只有财政绩效科可以确认绩效自评。"))
    decision, refused = _se_decide(
        request,
        se,
        key="review",
        choices=("accept", "return"),
        call=lambda ok, comment: evaluation.self_evaluation_review(
            evaluation=se, actor=user, accept=ok, comment=comment
        ),
    )
    if refused is not None:
        return refused
    if decision == "accept":
        messages.success(request, _("绩效自评已确认。"))
    else:
        messages.success(request, _("已退回部门修改。"))
    return redirect("workflows:self_evaluation", pk=se.pk)


def add_finding_from_page(request, source, page, target: str):
    user = request.user
    if not findings.can_record(source, user):
        raise PermissionDenied(_("只有财政绩效科或受托第三方机构可以记录评价发现的问题。"))
    form = FindingForm(request.POST)
    if not form.is_valid():
        return page(request, source, bound={"finding": form}, status=400)
    try:
        findings.finding_add(source=source, actor=user, **form.cleaned_data)
    except ValidationError as exc:
        form.add_service_errors(exc)
        return page(request, source, bound={"finding": form}, status=400)
    messages.success(request, _("已记录发现的问题。"))
    return redirect(target, pk=source.pk)


def remove_finding_from_page(request, source, page, target: str, key: str):
    finding = get_object_or_404(Finding, pk=request.POST.get("finding") or 0, **{key: source})
    findings.finding_remove(finding=finding, actor=request.user)
    messages.success(request, _("已删除该问题。"))
    return redirect(target, pk=source.pk)


SELF_EVALUATION_HANDLERS = {
    "fill": _se_fill,
    "dept-review": _se_dept_review,
    "review": _se_review,
    "finding-add": lambda request, se: add_finding_from_page(request, se, _se_page, "workflows:self_evaluation"),
    "finding-remove": lambda request, se: remove_finding_from_page(
        request, se, _se_page, "workflows:self_evaluation", "self_evaluation"
    ),
}


@login_required
@require_POST
def self_evaluation_act(request, pk, action):
    """One of the sheet's actions: fill (保存 / 提交), dept-review, review, finding-add, finding-remove."""
    se = self_evaluation_get_for(request.user, pk)
    if action not in SELF_EVALUATION_HANDLERS:
        raise Http404(_("未知的操作。"))
    return SELF_EVALUATION_HANDLERS[action](request, se)


# -- a re-check -------------------------------------------------------------------------------


def _recheck_sheet(recheck: Recheck):
    """The sheet shown: the agency's own, else the department's it starts from."""
    return recheck.sheet if recheck.sheet is not None else recheck.self_evaluation.sheet


def _recheck_rows(recheck: Recheck) -> list[RowView]:
    return rows_of(recheck.project, _recheck_sheet(recheck))


def _recheck_budget(recheck: Recheck) -> Decimal | None:
    sheet = _recheck_sheet(recheck)
    return sheet.budget if sheet is not None else evaluation.budget_of(recheck.project)


def _recheck_page(request, recheck: Recheck, *, bound=None, error=None, status=200):
    user = request.user
    bound = bound or {}
    rows = _recheck_rows(recheck)
    sheet = _recheck_sheet(recheck)
    actions = {d.name for d in transitions.available(recheck, user)}  # what the declarations allow now
    # the agency's sheet is open while it may submit it, and again before it finalizes
    editable = bool(actions & {"rescore", "finalize"})
    form = None
    if editable:
        form = bound.get("fill") or SheetForm(
            initial=SheetForm.initial_from(sheet, rows, revision=recheck.revision), rows=rows
        )
    self_sheet = recheck.self_evaluation.sheet
    self_scores = {line.target_row_id: line.score for line in self_sheet.lines.all()} if self_sheet else {}
    forms: dict[str, Any] = {}
    if "rescore" in actions:
        forms["opinion"] = bound.get("opinion") or OpinionForm()
    if "feed_back" in actions:
        forms["feedback"] = bound.get("feedback") or FeedbackForm()
    can_finalize = "finalize" in actions
    if can_finalize:
        forms["finalize"] = bound.get("finalize") or RecheckFinalizeForm()
    sees_score = agencies.may_see_recheck_score(recheck, user)  # departments never see it
    quality_form = bound.get("quality")  # a refused score is shown with its errors
    if quality_form is None and agencies.can_manage(user) and recheck.status == RecheckStatus.FINAL:
        quality_form = QualityScoreForm(kinds=[Deliverable.RECHECK])
    return render(
        request,
        "workflows/evaluation/recheck.html",
        {
            "recheck": recheck,
            "se": recheck.self_evaluation,
            "project": recheck.project,
            "sample": recheck.sample,
            "campaign": recheck.sample.campaign,
            "sheet": recheck.sheet,
            "sheet_ctx": _sheet_for_page(
                rows,
                sheet,
                budget=_recheck_budget(recheck),
                form=form,
                bound="fill" in bound,
                compare=self_scores,
                compare_sheet=self_sheet,
            ),
            "preview_url": reverse("workflows:recheck_preview", args=[recheck.pk]) if form else "",
            "fill_url": reverse("workflows:recheck_act", args=[recheck.pk, "fill"]),
            "forms": forms,
            "can_finalize": can_finalize,
            "history": _history(recheck, hide=() if sees_score else ("quality_score",)),
            "quality": ([q] if (q := agencies.recheck_score_of(recheck)) else []) if sees_score else None,
            "quality_form": quality_form,
            "is_reader": reads_all(user),
            "error": error,
            **findings_context(recheck, user, bound.get("finding")),
        },
        status=status,
    )


def _recheck_get(user, pk) -> Recheck:
    return get_object_or_404(
        rechecks_for(user).select_related("sample__campaign", "self_evaluation__sheet", "project__department"), pk=pk
    )


@login_required
@require_GET
def recheck(request, pk):
    """复核评分表: the agency's sheet beside the department's scores, its opinion, the
    department's feedback, the final score and the difference."""
    return _recheck_page(request, _recheck_get(request.user, pk))


@login_required
@require_POST
def recheck_preview(request, pk):
    """The scores of what the agency is typing, not saved (JSON)."""
    recheck_ = recheck_get_for(request.user, pk)
    rows = _recheck_rows(recheck_)
    entries = SheetForm(request.POST, rows=rows).entries()
    return JsonResponse(
        _jsonable(
            sheet_preview(
                rows=rows, budget=_recheck_budget(recheck_), executed=entries["executed"], lines=entries["lines"]
            )
        )
    )


def _fresh_recheck(request, recheck_) -> Recheck:
    return _recheck_get(request.user, recheck_.pk)


def _recheck_fill(request, recheck_: Recheck):
    """保存 / 提交复核结果 (the agency): submitting saves first; a refusal saves nothing."""
    user = request.user
    if not evaluation.can_rescore(recheck_, user):
        raise PermissionDenied(_("只有受托第三方机构可以复核评分。"))
    form = SheetForm(request.POST, rows=_recheck_rows(recheck_))
    opinion = OpinionForm(request.POST)
    bound = {"fill": form, "opinion": opinion}
    if not (form.is_valid() and opinion.is_valid()):
        return _recheck_page(request, recheck_, bound=bound, status=400)
    submit = "submit" in request.POST
    try:
        saved = evaluation.recheck_save(
            recheck=recheck_,
            actor=user,
            submit=submit,
            opinion=opinion.cleaned_data["opinion"],
            **form.service_kwargs(),
        )
    except ActionNotAllowed as exc:
        return _recheck_page(request, _fresh_recheck(request, recheck_), bound=bound, error=exc.message, status=409)
    except ValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        if "opinion" in errors:
            opinion.add_error("opinion", errors.pop("opinion"))
        if errors:
            form.add_service_errors(ValidationError(errors))
        return _recheck_page(request, _fresh_recheck(request, recheck_), bound=bound, status=400)
    if submit:
        messages.success(request, _("复核结果已提交，等待部门反馈意见。"))
    else:
        total = saved.sheet.total if saved.sheet is not None else None
        messages.success(request, _("复核评分已保存：%(score)s 分。") % {"score": total if total is not None else "—"})
    return redirect("workflows:recheck", pk=recheck_.pk)


def _recheck_feedback(request, recheck_: Recheck):
    user = request.user
    if not evaluation.can_feed_back(recheck_, user):
        raise PermissionDenied(_("只有项目所属部门可以反馈复核意见。"))
    form = FeedbackForm(request.POST)
    if not form.is_valid():
        return _recheck_page(request, recheck_, bound={"feedback": form}, status=400)
    try:
        evaluation.recheck_feedback(recheck=recheck_, actor=user, comment=form.cleaned_data["comment"])
    except ActionNotAllowed as exc:
        return _recheck_page(request, _fresh_recheck(request, recheck_), error=exc.message, status=409)
    except ValidationError as exc:
        form.add_service_errors(exc)
        return _recheck_page(request, _fresh_recheck(request, recheck_), bound={"feedback": form}, status=400)
    messages.success(request, _("反馈意见已提交。"))
    return redirect("workflows:recheck", pk=recheck_.pk)


def _recheck_finalize(request, recheck_: Recheck):
    user = request.user
    if not evaluation.can_rescore(recheck_, user):
        raise PermissionDenied(_("只有受托第三方机构可以完成复核。"))
    form = RecheckFinalizeForm(request.POST, request.FILES)
    if not form.is_valid():
        return _recheck_page(request, recheck_, bound={"finalize": form}, status=400)
    try:
        done = evaluation.recheck_finalize(recheck=recheck_, actor=user, report=form.cleaned_data.get("report"))
    except ActionNotAllowed as exc:
        return _recheck_page(request, _fresh_recheck(request, recheck_), error=exc.message, status=409)
    except ValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        if "report" in errors:
            form.add_error("report", errors.pop("report"))
        error = " ".join(str(m) for messages_ in errors.values() for m in messages_) or None
        return _recheck_page(
            request, _fresh_recheck(request, recheck_), bound={"finalize": form}, error=error, status=400
        )
    messages.success(
        request,
        _("复核完成：%(score)s 分，%(grade)s。") % {"score": done.final_score, "grade": done.get_final_grade_display()},
    )
    return redirect("workflows:recheck", pk=recheck_.pk)


def _recheck_quality(request, recheck_: Recheck):
    """质量评分 of the finished re-check (the finance section), as on the evaluation page."""
    user = request.user
    if not agencies.can_manage(user):
        raise PermissionDenied(_("只有财政绩效科可以对第三方机构的成果评分。"))
    form = QualityScoreForm(request.POST, kinds=[Deliverable.RECHECK])
    if not form.is_valid():
        return _recheck_page(request, recheck_, bound={"quality": form}, status=400)
    try:
        agencies.quality_score(actor=user, recheck=recheck_, **form.cleaned_data)
    except ValidationError as exc:
        form.add_service_errors(exc)
        return _recheck_page(request, _fresh_recheck(request, recheck_), bound={"quality": form}, status=400)
    messages.success(request, _("质量评分已保存，已通知受托机构。"))
    return redirect("workflows:recheck", pk=recheck_.pk)


RECHECK_HANDLERS = {
    "fill": _recheck_fill,
    "feedback": _recheck_feedback,
    "finalize": _recheck_finalize,
    "quality": _recheck_quality,
    "finding-add": lambda request, r: add_finding_from_page(request, r, _recheck_page, "workflows:recheck"),
    "finding-remove": lambda request, r: remove_finding_from_page(
        request, r, _recheck_page, "workflows:recheck", "recheck"
    ),
}


@login_required
@require_GET
def recheck_report(request, pk):
    """The re-check's report file, to those who may see the re-check (never a public URL)."""
    recheck_ = _recheck_get(request.user, pk)
    if not recheck_.report:
        raise Http404
    return file_response(recheck_.report)


@login_required
@require_POST
def recheck_act(request, pk, action):
    """One of the re-check's actions: fill (保存 / 提交), feedback, finalize, finding-add, finding-remove."""
    recheck_ = _recheck_get(request.user, pk)
    if action not in RECHECK_HANDLERS:
        raise Http404(_("未知的操作。"))
    return RECHECK_HANDLERS[action](request, recheck_)


# -- the project page's panel ----------------------------------------------------------------


def project_evaluation_panel(project, user: User) -> dict[str, Any] | None:
    """The project page's 绩效评价 panel: the self-evaluation (status, score, grade), the final
    re-check score and the recommendation — in a fixed number of queries."""
    se = SelfEvaluation.objects.filter(project=project).select_related("recheck").first()
    if se is None:
        return None
    recheck_ = getattr(se, "recheck", None)
    return {
        "se": se,
        "recheck": recheck_,
        "recheck_visible": recheck_ is not None and rechecks_for(user).filter(pk=recheck_.pk).exists(),
        "recommendation": evaluation.recommendation_for(project),
    }
