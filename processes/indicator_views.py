"""Screens of the indicator library (绩效指标库, DESIGN §2).

- everyone logged in: the library list (search, filters, counts, 50 a page), an
  indicator's page, the export of the current filters — each scoped by
  processes.selectors.indicator_list_for (another department's row is 404);
- department staff: propose a department-specific indicator, and their department's
  proposals;
- the finance section: the proposals queue (approve / decline), edit, deactivate /
  reactivate, import (upload → the job page with its progress → counts or the error
  table) and the template.

Reads go through processes.selectors, writes through processes.services.indicators.
Answers follow the other screens: success redirects with a message; ValidationError
400 with form errors; ActionNotAllowed 409 with its message; PermissionDenied 403.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_GET, require_POST

from .errors import ActionNotAllowed
from .indicator_forms import (
    IndicatorDecisionForm,
    IndicatorEditForm,
    IndicatorFilterForm,
    IndicatorImportForm,
    IndicatorProposalForm,
)
from .models import AuditEvent, Indicator, Job
from .permissions import holds
from .selectors import (
    INDICATOR_READERS_OF_ALL,
    indicator_counts,
    indicator_filter,
    indicator_get_for,
    indicator_list_for,
)
from .services import indicators as services
from .states import IndicatorStatus

PAGE_SIZE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: The audited actions of an indicator, as its history shows them.
ACTION_LABELS = {
    "propose": gettext_lazy("提出"),
    "approve": gettext_lazy("审核入库"),
    "decline": gettext_lazy("不予入库"),
    "edit": gettext_lazy("修改"),
    "activate": gettext_lazy("启用"),
    "deactivate": pgettext_lazy("action", "停用"),
}


# -- who may do what (the services check again) --------------------------------------------


def can_propose(user) -> bool:
    return holds(user, services.PROPOSE_PERMISSION) and user.department_id is not None


def can_curate(user) -> bool:
    return holds(user, services.APPROVE_PERMISSION)


def can_import(user) -> bool:
    return holds(user, services.IMPORT_PERMISSION)


def sees_departments(user) -> bool:
    """Whether the user reads more than one department's rows (the department filter)."""
    return bool(user.role_names & INDICATOR_READERS_OF_ALL)


def _library(user):
    return indicator_list_for(user).filter(status=IndicatorStatus.APPROVED)


def _xlsx(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _back(request, default: str) -> str:
    target = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default


# -- the library -----------------------------------------------------------------------------


@login_required
def indicator_list(request):
    """绩效指标库: the library rows the user may read, searched, filtered and paginated."""
    user = request.user
    form = IndicatorFilterForm(request.GET or None, show_department=sees_departments(user))
    library = indicator_filter(_library(user), form.filters())
    counts = indicator_counts(library)
    paginator = Paginator(library, PAGE_SIZE)
    paginator.count = counts["total"]  # known already: saves the paginator's COUNT query
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    pending = 0
    if can_curate(user) or can_propose(user):
        pending = indicator_list_for(user).filter(status=IndicatorStatus.PROPOSED).count()
    return render(
        request,
        "processes/indicators/list.html",
        {
            "form": form,
            "page": page,
            "counts": counts,
            "export_query": query.urlencode(),
            "show_department_filter": "department" in form.fields,
            "can_propose": can_propose(user),
            "can_curate": can_curate(user),
            "can_import": can_import(user),
            "pending": pending,
        },
    )


def _history(indicator: Indicator):
    return (
        AuditEvent.objects.filter(object_type=Indicator._meta.label_lower, object_id=str(indicator.pk))
        .select_related("actor")
        .order_by("sequence")
    )


def _detail_page(request, indicator: Indicator, *, decision_form=None, error=None, status=200):
    user = request.user
    curate = can_curate(user)
    proposed = indicator.status == IndicatorStatus.PROPOSED
    return render(
        request,
        "processes/indicators/detail.html",
        {
            "indicator": indicator,
            "history": [(event, ACTION_LABELS.get(event.action, event.action)) for event in _history(indicator)],
            "can_curate": curate and indicator.status == IndicatorStatus.APPROVED,
            "decision_form": (decision_form or IndicatorDecisionForm()) if curate and proposed else None,
            "error": error,
        },
        status=status,
    )


@login_required
def indicator_detail(request, pk):
    """An indicator's page: its fields, its history, and what the user may do with it."""
    return _detail_page(request, indicator_get_for(request.user, pk))


@login_required
def indicator_propose(request):
    """提出部门个性化指标 (dept_staff), for the user's own department."""
    user = request.user
    if not can_propose(user):
        raise PermissionDenied(_("只有部门经办人可以提出部门个性化指标。"))
    status = 200
    if request.method == "POST":
        form = IndicatorProposalForm(request.POST)
        if form.is_valid():
            try:
                indicator = services.indicator_propose(actor=user, **form.service_kwargs())
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(
                    request,
                    _("指标「%(name)s」已提出（编码 %(code)s），等待财政绩效科审核。")
                    % {"name": indicator.name, "code": indicator.code},
                )
                return redirect("processes:indicator_proposals")
        status = 400
    else:
        form = IndicatorProposalForm()
    return render(request, "processes/indicators/propose.html", {"form": form}, status=status)


@login_required
def indicator_proposals(request):
    """部门提出的指标: the finance section's queue (any department, by status, with approve /
    decline), or a department's own proposals."""
    user = request.user
    curate = can_curate(user)
    if not (curate or (user.is_department_user and user.department_id)):
        raise PermissionDenied(_("只有财政绩效科和部门人员可以查看部门提出的指标。"))
    status = request.GET.get("status", IndicatorStatus.PROPOSED if curate else "")
    if status not in IndicatorStatus.values:
        status = ""
    proposals = indicator_list_for(user).filter(proposed_by__isnull=False).select_related("proposed_by")
    if status:
        proposals = proposals.filter(status=status)
    if not curate:
        proposals = proposals.filter(department_id=user.department_id)
    page = Paginator(proposals.order_by("-created_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "processes/indicators/proposals.html",
        {
            "page": page,
            "status": status,
            "statuses": IndicatorStatus.choices,
            "can_curate": curate,
            "can_propose": can_propose(user),
        },
    )


@login_required
@require_POST
def indicator_decide(request, pk):
    """审核入库 / 不予入库 (finance section), from the queue or the indicator's page."""
    user = request.user
    indicator = indicator_get_for(user, pk)
    if not can_curate(user):
        raise PermissionDenied(_("只有财政绩效科可以审核部门提出的指标。"))
    form = IndicatorDecisionForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        approve = data["decision"] == "approve"
        try:
            indicator = services.indicator_decide(
                indicator=indicator, actor=user, approve=approve, comment=data["comment"], code=data["code"] or None
            )
        except ActionNotAllowed as exc:
            return _detail_page(request, indicator_get_for(user, pk), error=exc.message, status=409)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            if approve:
                messages.success(request, _("指标「%(name)s」已审核入库。") % {"name": indicator.name})
            else:
                messages.success(request, _("指标「%(name)s」未予入库。") % {"name": indicator.name})
            return redirect(_back(request, reverse("processes:indicator_detail", args=[indicator.pk])))
    return _detail_page(request, indicator, decision_form=form, status=400)


@login_required
def indicator_edit(request, pk):
    """修改指标 (finance section): a library row's every field."""
    user = request.user
    indicator = indicator_get_for(user, pk)
    if not can_curate(user):
        raise PermissionDenied(_("只有财政绩效科可以维护指标库。"))
    if indicator.status != IndicatorStatus.APPROVED:
        messages.warning(request, _("只有已入库的指标可以维护；部门提出的指标请先审核。"))
        return redirect("processes:indicator_detail", pk=indicator.pk)
    status, error = 200, None
    if request.method == "POST":
        form = IndicatorEditForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                services.indicator_update(indicator=indicator, actor=user, **form.service_kwargs())
            except ActionNotAllowed as exc:
                status, error = 409, exc.message
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("指标已保存。"))
                return redirect("processes:indicator_detail", pk=indicator.pk)
    else:
        form = IndicatorEditForm(
            initial={name: getattr(indicator, name) for name in services.EDITABLE_FIELDS if name != "department"}
            | {"department": indicator.department_id}
        )
    return render(
        request,
        "processes/indicators/edit.html",
        {"form": form, "indicator": indicator, "error": error},
        status=status,
    )


@login_required
@require_POST
def indicator_set_active(request, pk):
    """停用 / 启用 (finance section)."""
    user = request.user
    indicator = indicator_get_for(user, pk)
    if not can_curate(user):
        raise PermissionDenied(_("只有财政绩效科可以维护指标库。"))
    active = request.POST.get("active") == "1"
    try:
        services.indicator_set_active(indicator=indicator, actor=user, active=active)
    except ActionNotAllowed as exc:
        return _detail_page(request, indicator, error=exc.message, status=409)
    messages.success(request, _("指标已启用。") if active else _("指标已停用。"))
    return redirect("processes:indicator_detail", pk=indicator.pk)


# -- import and export --------------------------------------------------------------------------


@login_required
def indicator_import(request):
    """导入指标库 (finance section): the upload starts a background job; its page shows the
    progress, then the counts or every row's errors."""
    user = request.user
    if not can_import(user):
        raise PermissionDenied(_("只有财政绩效科可以导入指标库。"))
    status = 200
    if request.method == "POST":
        form = IndicatorImportForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                job = services.indicator_import_start(actor=user, file=form.cleaned_data["file"])
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                return redirect("processes:job_detail", pk=job.pk)
        status = 400
    else:
        form = IndicatorImportForm()
    recent = Job.objects.filter(created_by=user, kind=services.IMPORT_JOB).order_by("-created_at")[:10]
    return render(
        request,
        "processes/indicators/import.html",
        {"form": form, "recent": recent, "columns": services.COLUMNS},
        status=status,
    )


@login_required
@require_GET
def indicator_template(request):
    """The empty import template (header row and the 说明 sheet)."""
    return _xlsx(services.indicator_template_workbook(), "indicator-template.xlsx")


@login_required
@require_GET
def indicator_export(request):
    """The library rows the user may read, with the list's current filters, as the import's format."""
    user = request.user
    form = IndicatorFilterForm(request.GET or None, show_department=sees_departments(user))
    rows = indicator_filter(_library(user), form.filters())
    return _xlsx(services.indicators_export_workbook(rows), f"indicators-{timezone.localdate():%Y%m%d}.xlsx")
