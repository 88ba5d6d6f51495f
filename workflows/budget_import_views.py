"""导入预算编制项目 (finance section): upload next year's 项目库; every row is checked at once
(the page lists every problem by row and column, nothing written), then a background job
creates or updates the drafts and its page shows the progress and the counts. The rules:
processes.services.budget_import."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from processes.forms import ServiceErrorsMixin
from processes.models import Job
from processes.services import budget_import as services


class BudgetImportForm(ServiceErrorsMixin, forms.Form):
    fiscal_year = forms.IntegerField(label=gettext_lazy("预算年度"), min_value=2000, max_value=2100)
    file = forms.FileField(
        label=gettext_lazy("项目库文件"),
        help_text=gettext_lazy("Excel 工作簿（.xlsx），格式见右侧说明。任何一行有错误时整个文件不导入。"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
    )


@login_required
def budget_import(request):
    user = request.user
    if not services.can_import(user):
        raise PermissionDenied(_("只有财政绩效科可以导入预算编制项目。"))
    status = 200
    errors: list = []
    if request.method == "POST":
        form = BudgetImportForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                job = services.budget_import_start(
                    actor=user, fiscal_year=form.cleaned_data["fiscal_year"], file=form.cleaned_data["file"]
                )
            except services.BudgetImportRejected as rejected:
                errors = rejected.errors
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                return redirect("processes:job_detail", pk=job.pk)
        status = 400
    else:
        form = BudgetImportForm(initial={"fiscal_year": timezone.localdate().year + 1})
    recent = Job.objects.filter(created_by=user, kind=services.JOB_KIND).order_by("-created_at")[:10]
    return render(
        request,
        "workflows/budget_import.html",
        {
            "form": form,
            "errors": errors,
            "recent": recent,
            "columns": [(chinese, english) for chinese, english, _others in services.COLUMNS.values()],
        },
        status=status,
    )
