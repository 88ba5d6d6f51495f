"""Screens of the execution data from the budget system (docs/processes/execution-data.md):
the finance section's import (支付数据 and 资金支付计划 — a background job, its page shows the
progress and the outcome), a project's payment plan (资金支付计划, twelve months), and the
exceptions list (执行数差异清单) with its XLSX."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from processes.execution_selectors import execution_exceptions, project_months
from processes.files import xlsx_response
from processes.models import Job
from processes.permissions import holds
from processes.selectors import project_get_for, reads_all_monitoring
from processes.services import execution as services
from reports import exports

from .execution_forms import ExceptionsFilterForm, ExecutionImportForm, PaymentPlanForm


def _refuse_unless_importer(user) -> None:
    if not holds(user, services.IMPORT_PERMISSION):
        raise PermissionDenied(_("只有财政绩效科可以导入支付数据和资金支付计划。"))


@login_required
def execution_import(request):
    """导入支付数据 / 资金支付计划 (finance section): the upload starts a background job."""
    user = request.user
    _refuse_unless_importer(user)
    status = 200
    if request.method == "POST":
        form = ExecutionImportForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                job = services.import_file_start(
                    kind=form.cleaned_data["kind"], actor=user, file=form.cleaned_data["file"]
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                return redirect("processes:job_detail", pk=job.pk)
        status = 400
    else:
        form = ExecutionImportForm()
    recent = Job.objects.filter(created_by=user, kind__in=services.JOB_OF.values()).order_by("-created_at")[:10]
    return render(
        request,
        "workflows/execution/import.html",
        {"form": form, "recent": recent, "columns": services.COLUMNS, "english": services.ENGLISH},
        status=status,
    )


@login_required
def payment_plan(request, pk):
    """资金支付计划 of a project: the twelve months' plan beside what was paid (imported), and
    — for the department's staff while it executes, and the finance section — the form."""
    user = request.user
    project = project_get_for(user, pk)
    editable = services.can_plan(project, user)
    status = 200
    if request.method == "POST":
        if not editable:
            raise PermissionDenied(_("只有本部门经办人（项目执行中）或财政绩效科可以填报资金支付计划。"))
        form = PaymentPlanForm(request.POST)
        if form.is_valid():
            try:
                services.payment_plan_save(project=project, actor=user, amounts=form.amounts())
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("资金支付计划已保存。"))
                return redirect("workflows:payment_plan", pk=project.pk)
        status = 400
    months = project_months(project)
    if request.method != "POST":
        form = PaymentPlanForm(initial={f"month_{m.month}": m.planned for m in months if m.planned is not None})
    rows = [(m, form[f"month_{m.month}"]) for m in months]
    return render(
        request,
        "workflows/execution/plan.html",
        {
            "project": project,
            "form": form,
            "rows": rows,
            "editable": editable,
            "planned_total": months[-1].planned_to_date,
            "paid_total": months[-1].paid_to_date,
        },
        status=status,
    )


def _exceptions(request):
    user = request.user
    if not reads_all_monitoring(user) and not user.is_department_user:
        raise Http404
    form = ExceptionsFilterForm(request.GET or None)
    year = form.cleaned_data.get("year") if form.is_valid() else None
    return form, year, execution_exceptions(user, year=year)


@login_required
@require_GET
def execution_exceptions_page(request):
    """执行数差异清单: reports and sheets whose declared executed amount differs from the
    imported payments (a department sees its own)."""
    form, year, rows = _exceptions(request)
    return render(request, "workflows/execution/exceptions.html", {"form": form, "year": year, "rows": rows})


@login_required
@require_GET
def execution_exceptions_xlsx(request):
    """The exceptions list as an XLSX workbook (the page's year filter)."""
    _form, year, rows = _exceptions(request)
    filename = f"execution-exceptions-{year or 'all'}.xlsx"
    return xlsx_response(exports.execution_exceptions_xlsx(rows, year=year), filename, fallback=filename)
