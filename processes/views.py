"""Project screens that need no workflow: the list, drafting a project, editing a draft.

The screens that show or move a project's flow (inbox, project page, actions) live in
workflows.views, because processes never imports workflows (STYLE).
Reads go through processes.selectors, writes through processes.services.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from .errors import ActionNotAllowed
from .forms import ProjectEditForm, ProjectFilterForm, ProjectForm
from .models import Recurrence
from .permissions import can_edit
from .selectors import project_filter, project_get_for, project_list_for
from .services import projects as project_services
from .services.projects import EDITABLE_FIELDS
from .states import ProjectStage

PAGE_SIZE = 50


def can_create_project(user) -> bool:
    return user.has_perm("processes.add_budgetproject") and user.department_id is not None


@login_required
def project_list(request):
    """项目列表: the projects the user may see, filtered and paginated."""
    user = request.user
    see_all = user.has_perm("processes.view_all_projects")
    form = ProjectFilterForm(request.GET or None, show_department=see_all)
    projects = project_filter(project_list_for(user), **form.filters())
    page = Paginator(projects, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "processes/project_list.html",
        {
            "form": form,
            "page": page,
            "show_department": see_all,
            "can_create": can_create_project(user),
        },
    )


@login_required
def project_new(request):
    """新建项目 (dept_staff): a draft of the user's own department."""
    user = request.user
    if not can_create_project(user):
        raise PermissionDenied(_("只有部门经办人可以新建项目。"))
    status = 200
    if request.method == "POST":
        form = ProjectForm(request.POST)
        if form.is_valid():
            try:
                project = project_services.project_create(actor=user, **form.service_kwargs())
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("项目「%(name)s」已保存为草稿。") % {"name": project.name})
                return redirect("workflows:project_detail", pk=project.pk)
        status = 400
    else:
        form = ProjectForm(initial={"fiscal_year": timezone.localdate().year + 1, "recurrence": Recurrence.RECURRING})
    return render(request, "processes/project_form.html", {"form": form, "project": None}, status=status)


@login_required
def project_edit(request, pk):
    """修改项目: a draft only; the hidden ``version`` turns a concurrent edit into a conflict."""
    user = request.user
    project = project_get_for(user, pk)
    if not can_edit(project, user):
        raise PermissionDenied(_("只有本部门经办人可以修改项目。"))
    if request.method != "POST" and project.stage != ProjectStage.DRAFT:
        messages.warning(request, _("项目已提交，不能再修改；如需修改请先由部门负责人退回。"))
        return redirect("workflows:project_detail", pk=project.pk)

    status, error = 200, None
    if request.method == "POST":
        form = ProjectEditForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                project_services.project_update(
                    project=project, actor=user, version=form.cleaned_data["version"], **form.service_kwargs()
                )
            except ActionNotAllowed as exc:  # not a draft any more, or a stale version (Conflict)
                status, error = 409, exc.message
                project = project_get_for(user, pk)
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("项目已保存。"))
                return redirect("workflows:project_detail", pk=project.pk)
    else:
        form = ProjectEditForm(
            initial={
                **{f: getattr(project, f) for f in EDITABLE_FIELDS},
                "version": project.version,
            }
        )
    return render(
        request, "processes/project_form.html", {"form": form, "project": project, "error": error}, status=status
    )
