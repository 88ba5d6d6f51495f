"""Screens of 事前绩效评估 (DESIGN §3.2): starting one from the project page, the
pre-assessment page (panel, opinions side by side, the agency's and the finance section's
actions), a panel member's opinion form, and the year summary (page and XLSX).

A pre-assessment is visible exactly when its project is (processes.selectors.project_list_for),
otherwise 404. Every change goes through workflows.services. Answers follow workflows.views:
success redirects with a message; ActionNotAllowed / Conflict 409 with the message;
ValidationError 400 with form errors; PermissionDenied 403.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from viewflow.workflow.exceptions import FlowLockFailed

from accounts.roles import BUREAU_WIDE_READERS, Role
from processes import transitions
from processes.errors import ActionNotAllowed
from processes.files import file_response, xlsx_response
from processes.models import PanelMember, PreAssessment
from processes.permissions import holds
from processes.selectors import project_get_for, project_list_for
from processes.services import pre_assessment as pa_services
from processes.services.pre_assessment import dimensions
from processes.states import Conclusion, OpinionStatus, PreAssessmentStatus, ProjectStage
from processes.units import half_up
from reports import exports
from reports.figures import pre_assessment_summary

from . import services
from .pre_assessment_forms import ConclusionForm, OpinionForm, PanelReplaceForm, PreAssessmentBeginForm, ReturnForm

#: The pre-assessment page's action forms, by the name in the URL.
ACTIONS = ("draw", "replace", "remind", "conclude", "confirm", "return")


# -- who sees what ---------------------------------------------------------------------


def pre_assessment_get_for(user, pk) -> PreAssessment:
    """The pre-assessment if ``user`` may see its project; 404 otherwise."""
    return get_object_or_404(
        PreAssessment.objects.filter(project__in=project_list_for(user).values("pk")).select_related(
            "project__department", "project__policy", "agency"
        ),
        pk=pk,
    )


def _is_reader(user) -> bool:
    return any(user.has_role(role) for role in BUREAU_WIDE_READERS)


def _is_commissioned(user, pa: PreAssessment) -> bool:
    return user.has_role(Role.AGENCY_STAFF) and user.agency_id == pa.agency_id


def _seat_of(user, pa: PreAssessment) -> PanelMember | None:
    return (
        PanelMember.objects.filter(pre_assessment=pa, user=user, active=True).select_related("user", "opinion").first()
    )


def _average(values: list[Decimal]) -> Decimal | None:
    return half_up(sum(values, Decimal(0)) / len(values)) if values else None


def _opinion_table(members: list[PanelMember]) -> dict:
    """Opinions side by side: one column per member; a row per dimension, then the total.
    A draft is not shown (it is not final); averages are over submitted opinions only."""
    submitted = [m.opinion for m in members if m.opinion.status == OpinionStatus.SUBMITTED]
    rows = []
    for dim in dimensions():
        code = dim["code"]
        rows.append(
            {
                "label": _(dim["label"]),
                "points": dim["points"],
                "cells": [
                    m.opinion.scores.get(code, "") if m.opinion.status == OpinionStatus.SUBMITTED else ""
                    for m in members
                ],
                "average": _average([Decimal(o.scores[code]) for o in submitted if code in o.scores]),
            }
        )
    return {
        "members": members,
        "rows": rows,
        "totals": [m.opinion.total_score if m.opinion.status == OpinionStatus.SUBMITTED else "" for m in members],
        "total_average": _average([o.total_score for o in submitted]),
        "submitted": len(submitted),
    }


# -- starting --------------------------------------------------------------------------


def _begin_page(request, project, form, *, error=None, status=200):
    return render(
        request,
        "workflows/pre_assessment/begin.html",
        {"project": project, "form": form, "error": error},
        status=status,
    )


@login_required
def pre_assessment_begin(request, pk):
    """发起事前绩效评估 (finance officer, project in stage pre_assessment)."""
    user = request.user
    project = project_get_for(user, pk)
    if not holds(user, "processes.start_pre_assessment"):
        raise PermissionDenied(_("只有财政绩效科可以发起事前绩效评估。"))
    if request.method != "POST":
        if project.stage != ProjectStage.PRE_ASSESSMENT:
            return _begin_page(
                request, project, None, error=_("只有处于「事前绩效评估」阶段的项目可以发起评估。"), status=409
            )
        return _begin_page(request, project, PreAssessmentBeginForm())
    form = PreAssessmentBeginForm(request.POST)
    if not form.is_valid():
        return _begin_page(request, project, form, status=400)
    try:
        pa = services.pre_assessment_begin(
            project=project, actor=user, agency=form.cleaned_data["agency"], due_at=form.cleaned_data["due_at"]
        )
    except ActionNotAllowed as exc:
        return _begin_page(request, project, form, error=exc.message, status=409)
    except ValidationError as exc:
        form.add_service_errors(exc)
        return _begin_page(request, project, form, status=400)
    except FlowLockFailed:
        return _begin_page(request, project, form, error=_("系统繁忙，请稍后重试。"), status=503)
    messages.success(request, _("已发起事前绩效评估，委托「%(agency)s」。") % {"agency": pa.agency.name})
    return redirect("workflows:pre_assessment", pk=pa.pk)


# -- the pre-assessment page -------------------------------------------------------------


def _page(request, pa: PreAssessment, *, bound=None, error=None, status=200):
    user = request.user
    bound = bound or {}
    panel = list(pa.panel.select_related("user", "opinion").order_by("seat", "-active"))
    seated = [m for m in panel if m.active]
    commissioned = _is_commissioned(user, pa)
    if commissioned or _is_reader(user):
        shown = seated
    else:  # a panel member sees their own opinion only; the department none
        shown = [m for m in seated if m.user_id == user.pk]
    actions: dict = {}
    # The transitions' own declarations say who may take which now (processes.transitions).
    available = {d.name for d in transitions.available(pa, user)}
    if "form_panel" in available:
        actions["draw"] = True
    if commissioned and pa.status == PreAssessmentStatus.UNDER_REVIEW:  # replacing, reminding: no transitions
        replaceable = pa.panel.filter(active=True).exclude(opinion__status=OpinionStatus.SUBMITTED).order_by("seat")
        actions["replace"] = bound.get("replace") or PanelReplaceForm(members=replaceable, prefix="replace")
        actions["remind"] = [str(m.user) for m in seated if m.opinion.status != OpinionStatus.SUBMITTED]
    if "conclude" in available:
        actions["conclude"] = bound.get("conclude") or ConclusionForm(prefix="conclude")
    if "confirm" in available:
        actions["confirm"] = True
    if "send_back" in available:
        actions["return"] = bound.get("return") or ReturnForm(prefix="return")
    return render(
        request,
        "workflows/pre_assessment/detail.html",
        {
            "pa": pa,
            "project": pa.project,
            "panel": panel,
            "table": _opinion_table(shown) if shown else None,
            "my_seat": next((m for m in seated if m.user_id == user.pk), None),
            "forms": actions,
            "draw_errors": bound.get("draw"),
            "remind_hours": pa_services.panel_remind_hours(),
            "error": error,
        },
        status=status,
    )


@login_required
def pre_assessment_detail(request, pk):
    """事前绩效评估: status, panel, opinions (as the user may see them) and the user's actions."""
    return _page(request, pre_assessment_get_for(request.user, pk))


@login_required
@require_POST
def pre_assessment_act(request, pk, action):
    """One of the page's actions: draw, replace, conclude, confirm, return."""
    user = request.user
    pa = pre_assessment_get_for(user, pk)
    if action not in ACTIONS:
        raise Http404(_("未知的操作。"))
    form: PanelReplaceForm | ConclusionForm | ReturnForm | None = None
    if action == "replace":
        form = PanelReplaceForm(request.POST, members=pa.panel.filter(active=True), prefix="replace")
    elif action == "conclude":
        form = ConclusionForm(request.POST, request.FILES, prefix="conclude")
    elif action == "return":
        form = ReturnForm(request.POST, prefix="return")
    if form is not None and not form.is_valid():
        if action == "replace" and not _is_commissioned(user, pa):
            raise PermissionDenied(_("只有受托第三方机构的人员可以办理此事项。"))
        return _page(request, pa, bound={action: form}, status=400)
    data = form.cleaned_data if form is not None else {}
    try:
        if action == "draw":
            services.pre_assessment_draw(pre_assessment=pa, actor=user)
            done = _("评审组已抽取，评审任务已分派给各成员。")
        elif action == "replace":
            seat = services.panel_member_replace(member=data["member"], actor=user, reason=data["reason"])
            done = _("已替换第 %(seat)s 席成员。") % {"seat": seat.seat}
        elif action == "remind":
            reminded, skipped = pa_services.pre_assessment_remind_panel(pre_assessment=pa, actor=user)
            done = _("已提醒 %(names)s 提交评审意见。") % {"names": "、".join(str(m.user) for m in reminded)}
            if skipped:
                done += " " + _("%(names)s 在 %(hours)s 小时内已提醒过，本次未再提醒。") % {
                    "names": "、".join(str(m.user) for m in skipped),
                    "hours": pa_services.panel_remind_hours(),
                }
        elif action == "conclude":
            services.pre_assessment_propose(
                pre_assessment=pa,
                actor=user,
                conclusion=data["conclusion"],
                approved_amount=data["approved_amount"],
                reasons=data["reasons"],
                report=data["report"] or None,
            )
            done = _("评估结论已提交财政绩效科确认。")
        elif action == "confirm":
            services.pre_assessment_decide(pre_assessment=pa, actor=user, confirm=True)
            done = _("评估结论已确认。")
        else:
            services.pre_assessment_decide(pre_assessment=pa, actor=user, confirm=False, reason=data["reason"])
            done = _("评估结论已退回第三方机构。")
    except ActionNotAllowed as exc:  # Conflict included
        return _page(request, pre_assessment_get_for(user, pk), error=exc.message, status=409)
    except ValidationError as exc:
        if form is None:
            return _page(request, pre_assessment_get_for(user, pk), bound={action: exc.messages}, status=400)
        form.add_service_errors(exc)
        return _page(request, pre_assessment_get_for(user, pk), bound={action: form}, status=400)
    except FlowLockFailed:
        return _page(request, pre_assessment_get_for(user, pk), error=_("系统繁忙，请稍后重试。"), status=503)
    messages.success(request, done)
    return redirect("workflows:pre_assessment", pk=pa.pk)


# -- a member's opinion -----------------------------------------------------------------


def _opinion_page(request, pa, member, form, *, error=None, status=200):
    opinion = member.opinion
    return render(
        request,
        "workflows/pre_assessment/opinion.html",
        {
            "pa": pa,
            "project": pa.project,
            "member": member,
            "opinion": opinion,
            "form": form if opinion.status == OpinionStatus.DRAFT else None,
            "table": _opinion_table([member]),
            "error": error,
        },
        status=status,
    )


@login_required
def opinion_edit(request, pk):
    """我的评审意见: the seated member's score sheet; drafts may be saved, a submission is final."""
    user = request.user
    pa = pre_assessment_get_for(user, pk)
    member = _seat_of(user, pa)
    if member is None:
        raise PermissionDenied(_("您不是本评审组的在任成员。"))
    if request.method != "POST":
        initial = OpinionForm.initial_from(member.opinion)
        return _opinion_page(request, pa, member, OpinionForm(initial=initial, dimensions=dimensions()))
    form = OpinionForm(request.POST, dimensions=dimensions())
    member.pre_assessment = pa
    if not any(d.name == "submit" for d in transitions.available(member.opinion, user)):
        return _opinion_page(request, pa, member, form, error=_("意见已提交或评审已结束，不能再修改。"), status=409)
    if not form.is_valid():
        return _opinion_page(request, pa, member, form, status=400)
    submit = "submit" in request.POST
    try:
        opinion = services.opinion_submit(opinion=member.opinion, actor=user, submit=submit, **form.service_kwargs())
    except ActionNotAllowed as exc:
        return _opinion_page(request, pa, member, form, error=exc.message, status=409)
    except ValidationError as exc:
        form.add_service_errors(exc)
        return _opinion_page(request, pa, member, form, status=400)
    except FlowLockFailed:
        return _opinion_page(request, pa, member, form, error=_("系统繁忙，请稍后重试。"), status=503)
    if opinion.conflict_declared:
        messages.success(request, _("已申报利益冲突，您的席位已由新抽取的成员接替。"))
        return redirect("workflows:inbox")
    if submit:
        messages.success(request, _("评审意见已提交。"))
    else:
        messages.success(request, _("草稿已保存。"))
    return redirect("workflows:pre_assessment_opinion", pk=pa.pk)


# -- the year summary -------------------------------------------------------------------


def _summary_for(request):
    if not _is_reader(request.user):
        raise PermissionDenied(_("只有财政绩效科、督办和审计人员可以查看汇总。"))
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        year = None
    if year is None or not 2000 <= year <= 2100:
        year = max(
            project_list_for(request.user).values_list("fiscal_year", flat=True).order_by("-fiscal_year")[:1] or [2021]
        )
    summary = pre_assessment_summary(year)
    rows = list(
        PreAssessment.objects.filter(
            project__in=project_list_for(request.user).values("pk"),
            project__fiscal_year=year,
            status=PreAssessmentStatus.CONFIRMED,
        )
        .select_related("project__department")
        .order_by("project__department__code", "project__code")
    )
    counts = [(label, summary.by_conclusion.get(value, 0)) for value, label in Conclusion.choices]
    return year, summary, rows, counts


def _rate(summary) -> str:
    rate = summary.reduction_rate  # in percent, two places half-up (reports.figures)
    return "" if rate is None else f"{rate}%"


@login_required
def pre_assessment_year_summary(request):
    """事前绩效评估年度汇总: the year's confirmed pre-assessments, totals and per project."""
    year, summary, rows, counts = _summary_for(request)
    return render(
        request,
        "workflows/pre_assessment/summary.html",
        {"year": year, "summary": summary, "rate": _rate(summary), "rows": rows, "counts": counts},
    )


@login_required
def pre_assessment_year_summary_xlsx(request):
    """The year summary as an XLSX workbook (amounts in 万元, Chinese headers; reports.exports)."""
    year, summary, rows, counts = _summary_for(request)
    filename = f"pre-assessment-summary-{year}.xlsx"
    return xlsx_response(exports.pre_assessment_summary_xlsx(year, summary, counts, rows), filename, fallback=filename)


@login_required
def pre_assessment_report(request, pk):
    """The agency's report file, to those who may see the pre-assessment (never a public URL)."""
    pa = pre_assessment_get_for(request.user, pk)
    if not pa.report:
        raise Http404
    return file_response(pa.report)
