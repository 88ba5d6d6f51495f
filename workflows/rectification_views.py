"""Screens of rectifications 整改 (DESIGN §3.6): the list (filters, paginated, deadline
with days left or overdue), the finance section's issue form for a source's findings, a
rectification's page (the notice, its deadlines and extensions, the department's report
with evidence, and exactly the forms the user may use now), its actions, and the evidence
files (through a view that checks visibility).

Who sees what: processes.rectification_selectors (bureau-wide readers all; the department
its own; others 404). Every change goes through processes.services.rectification.
Answers follow the other screens: success redirects with a message; ActionNotAllowed /
Conflict 409 with the message; ValidationError 400 with the errors on their fields and
what was typed kept; PermissionDenied 403.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from processes.clock import deadline_clock
from processes.errors import ActionNotAllowed
from processes.files import check_upload, file_response
from processes.forms import SHANGHAI
from processes.models import (
    CommissionedEvaluation,
    DeadlineExtension,
    Evidence,
    MonitoringReport,
    Recheck,
    Rectification,
    RectificationItem,
    SelfEvaluation,
)
from processes.rectification_selectors import (
    due_soon_horizon,
    pending_extension,
    rectification_actions,
    rectification_get_for,
    rectification_timeline,
    rectifications_filtered,
    rectifications_for,
)
from processes.services import rectification as svc
from processes.services.findings import findings_of
from processes.states import RECTIFICATION_OPEN

from .rectification_forms import (
    DecideForm,
    ExtensionForm,
    IssueForm,
    RectificationFilterForm,
    ReportForm,
    ReviewForm,
)

PAGE_SIZE = 50

#: ?source=<kind>:<id> of the issue form.
SOURCES: dict[str, type[models.Model]] = {
    "self_evaluation": SelfEvaluation,
    "recheck": Recheck,
    "evaluation": CommissionedEvaluation,
    "monitoring_report": MonitoringReport,
}
SOURCE_TITLES = {
    "self_evaluation": gettext_lazy("%(subject)s 绩效自评发现问题整改"),
    "recheck": gettext_lazy("%(subject)s 绩效评价复核发现问题整改"),
    "evaluation": gettext_lazy("%(subject)s 发现问题整改"),
    "monitoring_report": gettext_lazy("%(subject)s 绩效监控发现问题整改"),
}


# -- the clock -------------------------------------------------------------------------------


def annotate_clock(rectification: Rectification, now=None) -> Rectification:
    """Set ``overdue``, ``days_left``, ``days_overdue`` and ``urgency`` ("overdue", "soon"
    when due soon — the one rule of rectification_selectors —, or "") for the templates; a
    closed rectification has none."""
    now = now or timezone.now()
    r: Any = rectification
    r.overdue = r.days_left = r.days_overdue = None
    r.urgency = ""
    if rectification.status in RECTIFICATION_OPEN:
        overdue, days = deadline_clock(rectification.deadline, now)
        if overdue:
            r.overdue, r.days_overdue, r.urgency = True, days, "overdue"
        else:
            r.overdue, r.days_left = False, days
            r.urgency = "soon" if rectification.deadline <= due_soon_horizon(now) else ""
    return rectification


# -- the list --------------------------------------------------------------------------------


@login_required
def rectification_list(request):
    """整改: those the user may see, by status, department, deadline and year."""
    user = request.user
    own_department = user.is_department_user and not user.reads_all_projects
    form = RectificationFilterForm(request.GET or None, show_department=not own_department)
    rows = rectifications_filtered(rectifications_for(user), form.filters()).order_by("deadline", "pk")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    for r in page:
        annotate_clock(r, now)
    return render(
        request,
        "workflows/rectification/list.html",
        {"page": page, "filter_form": form, "can_issue": svc.can_issue(user)},
    )


# -- issuing ---------------------------------------------------------------------------------


def _source(raw: str):
    kind, _sep, pk = (raw or "").partition(":")
    model = SOURCES.get(kind)
    if model is None or not pk.isdigit():
        raise Http404(_("请从评价页面的问题清单进入下达整改。"))
    related = ["project"] if model is not CommissionedEvaluation else ["project", "department"]
    return kind, get_object_or_404(model._default_manager.select_related(*related), pk=int(pk))


def _default_title(kind: str, source) -> str:
    if kind == "evaluation":
        subject = source.title
    else:
        subject = source.project.name
    return str(SOURCE_TITLES[kind] % {"subject": subject})[:200]


@login_required
def rectification_new(request):
    """下达整改 (finance section): the source's findings not yet issued, ticked, each with
    its requirement; the title and the deadline prefilled."""
    user = request.user
    if not svc.can_issue(user):
        raise PermissionDenied(_("只有财政绩效科可以下达整改。"))
    raw = request.GET.get("source") or request.POST.get("source") or ""
    kind, source = _source(raw)
    open_findings = list(findings_of(source).filter(rectification_item__isnull=True))
    context = {"source": source, "source_key": raw, "kind": kind}
    if request.method != "POST":
        form = IssueForm(
            findings=open_findings,
            initial={
                "findings": [str(f.pk) for f in open_findings],
                "title": _default_title(kind, source),
                "deadline": timezone.localtime(svc.default_deadline(), SHANGHAI).strftime("%Y-%m-%dT%H:%M"),
            },
        )
        return render(request, "workflows/rectification/new.html", {**context, "form": form})
    form = IssueForm(request.POST, findings=open_findings)
    if not form.is_valid():
        return render(request, "workflows/rectification/new.html", {**context, "form": form}, status=400)
    try:
        rectification = svc.rectification_issue(actor=user, **form.service_kwargs())
    except ValidationError as exc:
        form.add_service_errors(exc)
        return render(request, "workflows/rectification/new.html", {**context, "form": form}, status=400)
    except ActionNotAllowed as exc:  # the same finding issued by someone else meanwhile
        form.add_error(None, exc.message)
        return render(request, "workflows/rectification/new.html", {**context, "form": form}, status=409)
    messages.success(
        request,
        _("已下达整改「%(title)s」，已通知%(department)s。")
        % {
            "title": rectification.title,
            "department": rectification.department.name,
        },
    )
    return redirect("workflows:rectification_detail", pk=rectification.pk)


# -- a rectification's page ------------------------------------------------------------------


def _items(rectification: Rectification) -> list[RectificationItem]:
    return list(
        rectification.items.select_related("finding").prefetch_related(
            Prefetch("evidence", queryset=Evidence.objects.select_related("uploaded_by").order_by("pk"))
        )
    )


def _page(request, rectification: Rectification, *, bound=None, error=None, status=200):
    user = request.user
    bound = bound or {}
    items = _items(rectification)
    pending = pending_extension(rectification)
    actions = rectification_actions(rectification, user, pending)
    forms: dict[str, Any] = {}
    for slug in actions:
        if slug in bound:
            forms[slug] = bound[slug]
        elif slug == "report":
            forms[slug] = ReportForm(items=items, initial={"revision": rectification.revision})
        elif slug == "extension":
            forms[slug] = ExtensionForm()
        elif slug == "decide":
            forms[slug] = DecideForm()
        elif slug == "review":
            forms[slug] = ReviewForm()
        else:
            forms[slug] = None
    timeline = rectification_timeline(rectification)
    return render(
        request,
        "workflows/rectification/detail.html",
        {
            "rectification": annotate_clock(rectification),
            "items": items,
            "extensions": list(rectification.extensions.select_related("requested_by", "decided_by")),
            "pending": pending,
            "forms": {slug.replace("-", "_"): form for slug, form in forms.items()},
            "report_form": forms.get("report"),
            "can_remove": "evidence-remove" in actions,
            "timeline": timeline,
            "error": error,
        },
        status=status,
    )


@login_required
def rectification_detail(request, pk):
    return _page(request, rectification_get_for(request.user, pk))


DONE = {
    "acknowledge": gettext_lazy("已签收整改通知，请按要求整改并填报整改报告。"),
    "report": gettext_lazy("整改报告已保存。"),
    "submit": gettext_lazy("整改报告已提交，等待财政绩效科验收。"),
    "evidence-remove": gettext_lazy("已删除佐证材料。"),
    "extension": gettext_lazy("延期申请已提交，等待分管领导审批。"),
    "grant": gettext_lazy("已同意延期，整改期限已变更。"),
    "refuse": gettext_lazy("已不同意延期。"),
    "verify": gettext_lazy("整改已验收销号。"),
    "reject": gettext_lazy("整改报告已退回被整改部门。"),
}


def _run(request, rectification, slug: str, form, call: Callable[[], Any], done: str):
    """Validate ``form`` (None for a button), run ``call`` and answer."""
    bound = {slug: form} if form is not None else {}
    if form is not None and not form.is_valid():
        return _page(request, rectification, bound=bound, status=400)
    try:
        call()
    except ActionNotAllowed as exc:  # Conflict included
        fresh = rectification_get_for(request.user, rectification.pk)
        return _page(request, fresh, bound=bound, error=exc.message, status=409)
    except ValidationError as exc:
        fresh = rectification_get_for(request.user, rectification.pk)
        if form is None:
            return _page(request, fresh, error=" ".join(exc.messages), status=400)
        form.add_service_errors(exc)
        return _page(request, fresh, bound=bound, status=400)
    messages.success(request, done)
    return redirect("workflows:rectification_detail", pk=rectification.pk)


def _acknowledge(request, r):
    return _run(
        request,
        r,
        "acknowledge",
        None,
        lambda: svc.rectification_acknowledge(rectification=r, actor=request.user),
        str(DONE["acknowledge"]),
    )


def _report(request, r):
    """Save the report with the files chosen (and submit it if asked), in one service call.
    Files are checked first: if one is refused, those that passed are kept as evidence (a
    browser cannot re-fill a file input), the report itself is neither saved nor submitted,
    and the form comes back as typed, saying which file was refused and why (issue 21)."""
    form = ReportForm(request.POST, request.FILES, items=list(r.items.all()))
    then_submit = request.POST.get("then") == "submit"

    def call() -> None:
        problems: dict[str, list[str]] = {}
        valid = []
        for item, upload in form.uploads():
            try:
                check_upload(upload, field=f"file_{item.pk}")
            except ValidationError as exc:
                for key, msgs in exc.message_dict.items():
                    problems.setdefault(key, []).extend(
                        _("「%(name)s」未被接受：%(reason)s") % {"name": upload.name, "reason": m} for m in msgs
                    )
            else:
                valid.append((item, upload))
        if problems:
            kept = svc.evidence_add_all(rectification=r, actor=request.user, uploads=valid) if valid else []
            if kept:
                problems.setdefault("__all__", []).append(
                    _("其他文件已保存为佐证材料：%(names)s。被拒绝的文件请重新选择后再保存。")
                    % {"names": "、".join(e.name for e in kept)}
                )
            raise ValidationError(problems)
        svc.rectification_report_save(
            rectification=r,
            actor=request.user,
            items=form.entries(),
            revision=form.cleaned_data["revision"],
            uploads=list(form.uploads()),
            submit=then_submit,
        )

    return _run(request, r, "report", form, call, str(DONE["submit" if then_submit else "report"]))


def _evidence_remove(request, r):
    evidence = get_object_or_404(Evidence, pk=request.POST.get("evidence") or 0, item__rectification=r)
    return _run(
        request,
        r,
        "evidence-remove",
        None,
        lambda: svc.evidence_remove(evidence=evidence, actor=request.user),
        str(DONE["evidence-remove"]),
    )


def _extension(request, r):
    form = ExtensionForm(request.POST)
    return _run(
        request,
        r,
        "extension",
        form,
        lambda: svc.extension_request(rectification=r, actor=request.user, **form.cleaned_data),
        str(DONE["extension"]),
    )


def _decide(request, r):
    if not svc.can_decide_extension(request.user):
        raise PermissionDenied(_("只有分管领导可以审批整改延期。"))
    extension = get_object_or_404(DeadlineExtension, pk=request.POST.get("extension") or 0, rectification=r)
    decision = request.POST.get("decision", "")
    if decision not in ("grant", "refuse"):
        raise ValidationError(_("请选择审批结果。"))
    grant = decision == "grant"
    form = DecideForm(request.POST)
    return _run(
        request,
        r,
        "decide",
        form,
        lambda: svc.extension_decide(
            extension=extension,
            actor=request.user,
            grant=grant,
            comment=form.cleaned_data["comment"],
            new_deadline=form.cleaned_data.get("new_deadline"),
        ),
        str(DONE[decision]),
    )


def _review(request, r):
    decision = request.POST.get("decision", "")
    if decision not in ("verify", "reject"):
        raise ValidationError(_("请选择验收结果。"))
    verify = decision == "verify"
    form = ReviewForm(request.POST)
    return _run(
        request,
        r,
        "review",
        form,
        lambda: svc.rectification_review(
            rectification=r, actor=request.user, verify=verify, comment=form.cleaned_data["comment"]
        ),
        str(DONE[decision]),
    )


#: The page's actions, by the slug in the URL.
HANDLERS = {
    "acknowledge": _acknowledge,
    "report": _report,
    "evidence-remove": _evidence_remove,
    "extension": _extension,
    "decide": _decide,
    "review": _review,
}


@login_required
def rectification_act(request, pk, action):
    """One of the page's actions (see HANDLERS); the service decides who may."""
    if request.method != "POST":
        return redirect("workflows:rectification_detail", pk=pk)
    rectification = rectification_get_for(request.user, pk)
    if action not in HANDLERS:
        raise Http404(_("未知的操作。"))
    try:
        return HANDLERS[action](request, rectification)
    except ValidationError as exc:  # a request no form could produce (no decision given)
        return _page(request, rectification, error=" ".join(exc.messages), status=400)


@login_required
def rectification_evidence(request, pk):
    """An evidence file, to those who may see its rectification (never a public URL)."""
    evidence = get_object_or_404(Evidence.objects.select_related("item"), pk=pk)
    rectification_get_for(request.user, evidence.item.rectification_id)
    return file_response(evidence.file, filename=evidence.name or None)
