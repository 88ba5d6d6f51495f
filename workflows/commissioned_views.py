"""Screens of 重点评价 and 部门整体绩效评价 (DESIGN §3.5): the list (filters, paginated), the
finance section's commission form, an evaluation's page (every stage's data, framework and
scores, the panel and its numbered suggestions, findings, budget / executed / completion
rate, grade, and exactly the forms the user may use now), the files (through a view that
checks visibility), and a published evaluation's report for the public (no login; the
public page that lists them is reports.views.public_index).

Who sees what: processes.selectors.commissioned_for (bureau-wide readers all; the agency its
own commissions; the department its own; a panel member theirs; others 404). Every change
goes through processes.services.commissioned (findings through services.findings).
Answers follow the other screens: success redirects with a message; ActionNotAllowed /
Conflict 409 with the message; ValidationError 400 with the errors on their fields and
what was typed kept; PermissionDenied 403.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from processes.errors import ActionNotAllowed
from processes.files import file_response
from processes.models import (
    AuditEvent,
    CommissionedEvaluation,
    EvaluationPanelMember,
    ExpertSuggestion,
    Finding,
    FrameworkCommission,
)
from processes.outcomes import EVALUATION_CONCLUDED
from processes.selectors import commissioned_for, commissioned_get_for, published_evaluations
from processes.services import agencies
from processes.services import commissioned as svc
from processes.services.findings import can_record, finding_add, finding_remove, findings_of
from processes.services.panel_reminders import panel_remind_hours
from processes.states import FrameworkDimension
from processes.units import percent_text

from .commissioned_forms import (
    CommentForm,
    CommissionFilterForm,
    CommissionForm,
    DraftForm,
    FinalizeForm,
    FindingForm,
    PlanForm,
    QualityScoreForm,
    ReturnFinalForm,
    ReviewPlanForm,
    SuggestionsForm,
)

PAGE_SIZE = 50

#: The evaluation's audited actions as its history shows them.
HISTORY_LABELS = {
    "commission": gettext_lazy("委托评价"),
    "submit_plan": gettext_lazy("提交评价方案"),
    "approve_plan": gettext_lazy("批准评价方案"),
    "return_plan": gettext_lazy("退回评价方案"),
    "start_fieldwork": gettext_lazy("开始现场评价"),
    "submit_draft": gettext_lazy("提交报告初稿"),
    "comment": gettext_lazy("部门反馈意见"),
    "draw_panel": gettext_lazy("抽取专家评审组"),
    "submit_suggestions": gettext_lazy("提交评审建议"),
    "remind_panel": gettext_lazy("提醒评审组成员"),
    "finalize": gettext_lazy("形成评价结果"),
    "return_final": gettext_lazy("退回最终报告"),
    "quality_score": gettext_lazy("成果质量评分"),
    "publish": gettext_lazy("批准公开"),
}


def rate_text(rate: Decimal | None) -> str:
    """A fraction as a percent to two places: 0.833333 → "83.33%"; None → "—"."""
    return "—" if rate is None else percent_text(rate)


def filtered(qs: QuerySet[CommissionedEvaluation], filters: dict[str, Any]) -> QuerySet[CommissionedEvaluation]:
    if filters.get("fiscal_year"):
        qs = qs.filter(fiscal_year=filters["fiscal_year"])
    if filters.get("kind"):
        qs = qs.filter(kind=filters["kind"])
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("department"):
        qs = qs.filter(department_id=filters["department"])
    return qs


# -- the list and the commission ---------------------------------------------------------------


@login_required
@require_GET
def commissioned_list(request):
    """重点评价与部门整体绩效评价: those the user may see, filtered by year, kind, status and
    (for those who see more than their own department) department."""
    user = request.user
    own_department = user.is_department_user and not user.reads_all_projects
    form = CommissionFilterForm(request.GET or None, show_department=not own_department)
    rows = filtered(commissioned_for(user), form.filters()).order_by("-fiscal_year", "kind", "department__code", "pk")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "workflows/commissioned/list.html",
        {"page": page, "filter_form": form, "can_commission": svc.can_commission(user)},
    )


@login_required
def commissioned_new(request):
    """委托评价 (finance section): kind, the project or the department and year, the agency,
    the due date and an optional title."""
    user = request.user
    if not svc.can_commission(user):
        raise PermissionDenied(_("只有财政绩效科可以委托重点评价或部门整体绩效评价。"))
    frameworks = list(FrameworkCommission.objects.select_related("agency").order_by("-fiscal_year")[:10])
    if request.method != "POST":
        return render(request, "workflows/commissioned/new.html", {"form": CommissionForm(), "frameworks": frameworks})
    form = CommissionForm(request.POST)
    if not form.is_valid():
        return render(request, "workflows/commissioned/new.html", {"form": form, "frameworks": frameworks}, status=400)
    try:
        evaluation = svc.evaluation_commission(actor=user, **form.service_kwargs())
    except ValidationError as exc:
        form.add_service_errors(exc)
        return render(request, "workflows/commissioned/new.html", {"form": form, "frameworks": frameworks}, status=400)
    messages.success(request, _("已委托「%(title)s」，已通知受托机构。") % {"title": evaluation.title})
    return redirect(evaluation)


# -- an evaluation's page --------------------------------------------------------------------


def _forms(evaluation: CommissionedEvaluation, user, bound: dict[str, Any]) -> dict[str, Any]:
    """The forms of the actions the user may take now (bound ones kept as posted), keyed by
    the action's slug with "_" for "-" (templates read ``forms.review_plan``)."""
    forms: dict[str, Any] = {}
    for slug in svc.available_actions(evaluation, user):
        if slug in bound:
            forms[slug] = bound[slug]
        elif slug == "plan":
            forms[slug] = PlanForm(initial=PlanForm.initial_from(evaluation))
        elif slug == "review-plan":
            forms[slug] = ReviewPlanForm()
        elif slug == "draft":
            forms[slug] = DraftForm()
        elif slug == "comment":
            forms[slug] = CommentForm()
        elif slug == "suggestions":
            forms[slug] = SuggestionsForm()
        elif slug == "finalize":
            forms[slug] = FinalizeForm(evaluation=evaluation)
        elif slug == "return-final":
            forms[slug] = ReturnFinalForm()
        else:  # fieldwork, draw, remind, disclose: a button only
            forms[slug] = None
    return {slug.replace("-", "_"): form for slug, form in forms.items()}


def _page(request, evaluation: CommissionedEvaluation, *, bound=None, error=None, status=200):
    user = request.user
    bound = bound or {}
    panel = list(
        EvaluationPanelMember.objects.filter(evaluation=evaluation)
        .select_related("user")
        .prefetch_related(Prefetch("suggestions", queryset=ExpertSuggestion.objects.order_by("position")))
        .order_by("seat")
    )
    framework = [
        {
            "code": code,
            "label": FrameworkDimension(code).label,
            "weight": evaluation.framework.get(code),
            "score": evaluation.scores.get(code),
        }
        for code in svc.DIMENSIONS
    ]
    may_record = can_record(evaluation, user)
    history = (
        AuditEvent.objects.filter(object_type=CommissionedEvaluation._meta.label_lower, object_id=str(evaluation.pk))
        .select_related("actor")
        .order_by("sequence")
    )
    if not agencies.may_see_scores(evaluation, user):  # departments never see quality scores
        history = history.exclude(action="quality_score")
    return render(
        request,
        "workflows/commissioned/detail.html",
        {
            "evaluation": evaluation,
            "framework": framework,
            "panel": panel,
            "suggestion_count": sum(len(m.suggestions.all()) for m in panel),
            "findings": list(findings_of(evaluation)),
            "may_record": may_record,
            "finding_form": bound.get("finding-add") or (FindingForm() if may_record else None),
            "completion_rate": rate_text(evaluation.completion_rate),
            "forms": _forms(evaluation, user, bound),
            "remind_pending": [str(m.user) for m in panel if m.submitted_at is None],
            "remind_hours": panel_remind_hours(),
            "history": [(event, HISTORY_LABELS.get(event.action, event.action)) for event in history],
            "quality": list(agencies.scores_of(evaluation).values())
            if agencies.may_see_scores(evaluation, user)
            else None,
            "quality_form": bound.get("quality")
            or (
                QualityScoreForm(kinds=agencies.scorable_kinds(evaluation))
                if agencies.can_manage(user) and agencies.scorable_kinds(evaluation)
                else None
            ),
            "error": error,
            "outcome_open": evaluation.status in EVALUATION_CONCLUDED and any(m.user_id == user.pk for m in panel),
        },
        status=status,
    )


@login_required
@require_GET
def commissioned_detail(request, pk):
    return _page(request, commissioned_get_for(request.user, pk))


def _fresh(request, evaluation: CommissionedEvaluation) -> CommissionedEvaluation:
    return commissioned_get_for(request.user, evaluation.pk)


DONE = {
    "plan": gettext_lazy("评价方案已提交，等待财政绩效科审核。"),
    "fieldwork": gettext_lazy("已进入现场评价阶段。"),
    "draft": gettext_lazy("报告初稿已提交，等待被评价部门反馈。"),
    "comment": gettext_lazy("反馈意见已提交。"),
    "draw": gettext_lazy("专家评审组已抽取，已通知各成员。"),
    "suggestions": gettext_lazy("评审建议已提交。"),
    "finalize": gettext_lazy("评价结果已形成，等待财政绩效科审核公开。"),
    "disclose": gettext_lazy("已批准公开，评价报告已在公开页面发布。"),
    "return-final": gettext_lazy("最终报告已退回受托机构修改。"),
    "quality": gettext_lazy("质量评分已保存，已通知受托机构。"),
    "finding-add": gettext_lazy("已记录问题。"),
    "finding-remove": gettext_lazy("已删除问题。"),
}


def _run(request, evaluation, slug: str, form, call: Callable[[], Any], done=None):
    """Validate ``form`` (None for a button), run the service ``call`` and answer; ``done``
    (else DONE[slug]) is the success message, or a function giving it once ``call`` ran."""
    bound = {slug: form} if form is not None else {}
    if form is not None and not form.is_valid():
        return _page(request, evaluation, bound=bound, status=400)
    try:
        call()
    except ActionNotAllowed as exc:  # Conflict included
        return _page(request, _fresh(request, evaluation), bound=bound, error=exc.message, status=409)
    except ValidationError as exc:
        if form is None:
            return _page(request, _fresh(request, evaluation), error=" ".join(exc.messages), status=400)
        form.add_service_errors(exc)
        return _page(request, _fresh(request, evaluation), bound=bound, status=400)
    if callable(done):  # a message that depends on what the call did
        done = done()
    messages.success(request, done or DONE[slug])
    return redirect(evaluation)


def _plan(request, ev):
    form = PlanForm(request.POST)
    return _run(
        request,
        ev,
        "plan",
        form,
        lambda: svc.evaluation_submit_plan(evaluation=ev, actor=request.user, **form.service_kwargs()),
    )


def _review_plan(request, ev):
    form = ReviewPlanForm(request.POST)
    decision = request.POST.get("decision", "")
    if decision not in ("approve", "return"):
        raise ValidationError(_("请选择审核结果。"))
    approve = decision == "approve"
    return _run(
        request,
        ev,
        "review-plan",
        form,
        lambda: svc.evaluation_review_plan(
            evaluation=ev, actor=request.user, approve=approve, comment=form.cleaned_data["comment"]
        ),
        done=_("评价方案已批准。") if approve else _("评价方案已退回受托机构。"),
    )


def _fieldwork(request, ev):
    return _run(
        request, ev, "fieldwork", None, lambda: svc.evaluation_start_fieldwork(evaluation=ev, actor=request.user)
    )


def _draft(request, ev):
    form = DraftForm(request.POST, request.FILES)
    return _run(
        request,
        ev,
        "draft",
        form,
        lambda: svc.evaluation_submit_draft(
            evaluation=ev,
            actor=request.user,
            note=form.cleaned_data["note"],
            draft_report=form.cleaned_data.get("draft_report"),
        ),
    )


def _comment(request, ev):
    form = CommentForm(request.POST)
    return _run(
        request,
        ev,
        "comment",
        form,
        lambda: svc.evaluation_comment(evaluation=ev, actor=request.user, comment=form.cleaned_data["comment"]),
    )


def _draw(request, ev):
    return _run(request, ev, "draw", None, lambda: svc.evaluation_draw_panel(evaluation=ev, actor=request.user))


def _suggestions(request, ev):
    member = svc.seat_of(ev, request.user)
    if member is None:
        raise PermissionDenied(_("只有本评审组成员本人可以提交评审建议。"))
    form = SuggestionsForm(request.POST)
    return _run(
        request,
        ev,
        "suggestions",
        form,
        lambda: svc.suggestion_submit(member=member, actor=request.user, suggestions=form.items()),
    )


def _remind(request, ev):
    told: dict[str, Any] = {}

    def call() -> None:
        told["reminded"], told["skipped"] = svc.evaluation_remind_panel(evaluation=ev, actor=request.user)

    def done() -> str:
        text = _("已提醒 %(names)s 提交评审建议。") % {"names": "、".join(str(m.user) for m in told["reminded"])}
        if told["skipped"]:
            text += " " + _("%(names)s 在 %(hours)s 小时内已提醒过，本次未再提醒。") % {
                "names": "、".join(str(m.user) for m in told["skipped"]),
                "hours": panel_remind_hours(),
            }
        return text

    return _run(request, ev, "remind", None, call, done=done)


def _finalize(request, ev):
    form = FinalizeForm(request.POST, request.FILES, evaluation=ev)
    return _run(
        request,
        ev,
        "finalize",
        form,
        lambda: svc.evaluation_finalize(evaluation=ev, actor=request.user, **form.service_kwargs()),
    )


def _return_final(request, ev):
    form = ReturnFinalForm(request.POST)
    return _run(
        request,
        ev,
        "return-final",
        form,
        lambda: svc.evaluation_return_final(evaluation=ev, actor=request.user, comment=form.cleaned_data["comment"]),
    )


def _quality(request, ev):
    if not agencies.can_manage(request.user):
        raise PermissionDenied(_("只有财政绩效科可以对第三方机构的成果评分。"))
    form = QualityScoreForm(request.POST, kinds=agencies.scorable_kinds(ev))
    return _run(
        request,
        ev,
        "quality",
        form,
        lambda: agencies.quality_score(actor=request.user, evaluation=ev, **form.cleaned_data),
    )


def _disclose(request, ev):
    return _run(
        request, ev, "disclose", None, lambda: svc.evaluation_approve_disclosure(evaluation=ev, actor=request.user)
    )


def _finding_add(request, ev):
    form = FindingForm(request.POST)
    return _run(
        request,
        ev,
        "finding-add",
        form,
        lambda: finding_add(source=ev, actor=request.user, **form.cleaned_data),
    )


def _finding_remove(request, ev):
    finding = get_object_or_404(Finding, pk=request.POST.get("finding") or 0, evaluation=ev)
    return _run(request, ev, "finding-remove", None, lambda: finding_remove(finding=finding, actor=request.user))


#: The page's actions, by the slug in the URL.
HANDLERS = {
    "plan": _plan,
    "review-plan": _review_plan,
    "fieldwork": _fieldwork,
    "draft": _draft,
    "comment": _comment,
    "draw": _draw,
    "suggestions": _suggestions,
    "remind": _remind,
    "finalize": _finalize,
    "return-final": _return_final,
    "quality": _quality,
    "disclose": _disclose,
    "finding-add": _finding_add,
    "finding-remove": _finding_remove,
}


@login_required
@require_POST
def commissioned_act(request, pk, action):
    """One of the page's actions (see HANDLERS); the service decides who may."""
    evaluation = commissioned_get_for(request.user, pk)
    if action not in HANDLERS:
        raise Http404(_("未知的操作。"))
    try:
        return HANDLERS[action](request, evaluation)
    except ValidationError as exc:  # a request no form could produce (no decision given)
        return _page(request, evaluation, error=" ".join(exc.messages), status=400)


# -- files ---------------------------------------------------------------------------------------

FILES = {"draft": "draft_report", "report": "report"}


def _attachment(field) -> FileResponse:
    return file_response(field)


@login_required
@require_GET
def commissioned_file(request, pk, which):
    """The draft or the final report, to those who may see the evaluation (never a public URL)."""
    evaluation = commissioned_get_for(request.user, pk)
    if which not in FILES:
        raise Http404
    field = getattr(evaluation, FILES[which])
    if not field:
        raise Http404
    return _attachment(field)


# -- public: a published evaluation's report ------------------------------------------------


@require_GET
def public_evaluation_report(request, pk):
    """A published evaluation's final report (no login); anything unpublished is 404."""
    evaluation = get_object_or_404(published_evaluations(), pk=pk)
    if not evaluation.report:
        raise Http404
    return _attachment(evaluation.report)
