"""Project screens: the list, drafting a project, editing a draft, and what the form shows
of the department's earlier years (结果应用, processes.results). The project page and its
stage actions are in workflows.views; all of the project lifecycle's screens are in
workflows (decision 0022). Reads go through processes.selectors, writes through
processes.services.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import localize
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from processes.errors import ActionNotAllowed
from processes.models import BudgetProject, Recurrence
from processes.permissions import can_edit
from processes.results import ResultsApplication, results_application, results_for
from processes.selectors import project_filter, project_get_for, project_list_for, stage_counts
from processes.services import projects as project_services
from processes.services.budget_import import can_import as can_import_budget
from processes.services.projects import EDITABLE_FIELDS
from processes.states import ProjectStage
from processes.templatetags.jixiao import cst, stage_badge, wan

from .project_forms import ProjectEditForm, ProjectFilterForm, ProjectForm, ResultsLookupForm
from .text import esc

PAGE_SIZE = 50


def can_create_project(user) -> bool:
    return user.has_perm("processes.add_budgetproject") and user.department_id is not None


def _results_of(data: QueryDict, department_id: int) -> ResultsApplication:
    """The earlier years of the project as written in ``data`` (a POST or the live GET)."""
    return results_application(department=department_id, **ResultsLookupForm(data).lookup_kwargs())


#: an id no project has, reversed once per page: the detail URL of each row is it with the id swapped
_URL_MARK = 987654321987654321


class _Shown:
    """The shown fields of a row's related object: a department's name, a history import's
    id, file name and moment (what ``ProjectRows.html`` and history_mark.html read)."""

    __slots__ = ("file_name", "imported_at", "name", "pk")

    def __init__(self, pk=None, name=None, file_name=None, imported_at=None) -> None:
        self.pk, self.name, self.file_name, self.imported_at = pk, name, file_name, imported_at


class ProjectRow:
    """One project of the list as ``values_list`` reads it, with the attributes
    ``ProjectRows.html`` reads of a ``BudgetProject``: making 50 projects, their departments
    and creators as model instances (with the state machine's set-up per project) was ~15 %
    of the page's CPU (issue 20, third pass). The creator is written as ``User.__str__``
    writes it (the full name, else the user name)."""

    #: what ``values_list`` reads, in ``__init__``'s order
    values = (
        "pk",
        "code",
        "name",
        "fiscal_year",
        "category",
        "requested_amount",
        "approved_amount",
        "stage",
        "updated_at",
        "department__name",
        "created_by__full_name",
        "created_by__username",
        "history_id",
        "history__file_name",
        "history__imported_at",
    )
    __slots__ = (
        "approved_amount",
        "category",
        "category_label",
        "code",
        "created_by",
        "department",
        "fiscal_year",
        "history",
        "history_id",
        "name",
        "pk",
        "requested_amount",
        "row_html",
        "stage",
        "updated_at",
    )
    #: set by the view: the 类别 column's label and the row's HTML
    category_label: str
    row_html: SafeString

    def __init__(
        self,
        pk,
        code,
        name,
        fiscal_year,
        category,
        requested_amount,
        approved_amount,
        stage,
        updated_at,
        department_name,
        full_name,
        username,
        history_id,
        history_file_name,
        history_imported_at,
    ) -> None:
        self.pk, self.code, self.name, self.fiscal_year, self.category = pk, code, name, fiscal_year, category
        self.requested_amount, self.approved_amount, self.stage = requested_amount, approved_amount, stage
        self.updated_at = updated_at
        self.department = _Shown(name=department_name)
        self.created_by = full_name or username
        self.history_id = history_id
        self.history = (
            _Shown(pk=history_id, file_name=history_file_name, imported_at=history_imported_at)
            if history_id is not None
            else None
        )


class ProjectRows:
    """The project list's rows, written in Python: the template's ten cells per row went
    through ~60 node renders, filters and escapes each (two thirds of the page's CPU in
    issue 20's profile). The HTML is exactly what the row template wrote (tested against
    it): the same cells, filters (wan, stage_badge, cst), escaping and whitespace."""

    def __init__(self, *, show_department: bool):
        self.show_department = show_department
        before, _mark, after = reverse("workflows:project_detail", args=[_URL_MARK]).partition(str(_URL_MARK))
        self._url = (before, after)
        self._stages: dict[str, str] = {}

    def _stage(self, stage: str) -> str:
        badge = self._stages.get(stage)
        if badge is None:
            badge = self._stages[stage] = esc(stage_badge(stage))
        return badge

    def html(self, p: BudgetProject | ProjectRow) -> SafeString:
        url = esc(f"{self._url[0]}{p.pk}{self._url[1]}")
        history = ""
        if p.history_id:
            history = " " + get_template("includes/history_mark.html").render({"history": p.history})
        department = f"<td>{esc(p.department.name)}</td>" if self.show_department else ""
        approved = wan(p.approved_amount) or "—"
        category = p.category_label  # type: ignore[union-attr]  # set by project_list (and by tests on instances)
        return mark_safe(  # noqa: S308 -- every value below is escaped
            f"""
      <tr>
        <td class="nowrap"><a href="{url}">{esc(p.code)}</a></td>
        <td><a href="{url}">{esc(p.name)}</a>{history}</td>
        {department}
        <td>{esc(localize(p.fiscal_year))}</td>
        <td>{esc(category)}</td>
        <td class="num">{esc(wan(p.requested_amount))}</td>
        <td class="num">{esc(approved)}</td>
        <td>{self._stage(p.stage)}</td>
        <td>{esc(p.created_by)}</td>
        <td class="nowrap">{esc(cst(p.updated_at))}</td>
      </tr>
"""
        )


@login_required
def project_list(request):
    """项目列表: the projects the user may see, filtered and paginated."""
    user = request.user
    see_all = user.has_perm("processes.view_all_projects")
    form = ProjectFilterForm(request.GET or None, show_department=see_all)
    filters = form.filters()
    # the stages of the projects the other filters select (one query): they add up to them
    stages = stage_counts(project_filter(project_list_for(user), **{**filters, "stage": None}))
    selected = project_filter(project_list_for(user), **filters)
    paginator = Paginator(selected.values_list(*ProjectRow.values), PAGE_SIZE)
    # the count: with no stage chosen, the stages' sum (no statement of its own); else the
    # projects alone — counting the rows' query joined every row's department, author and
    # import on PostgreSQL (1.3 of the page's 4 ms of SQL), which cannot change the count
    # (required keys; a left join)
    paginator.count = sum(n for _stage, _label, n in stages) if not filters.get("stage") else selected.count()
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = [ProjectRow(*values) for values in page.object_list]
    # the 类别 column: get_category_display builds its lookup (and translates every label)
    # on each call; once per page here
    categories = {value: str(label) for value, label in BudgetProject._meta.get_field("category").flatchoices}
    rows = ProjectRows(show_department=see_all)
    for project in page:
        project.category_label = categories.get(project.category, project.category)
        project.row_html = rows.html(project)
    others = request.GET.copy()
    for key in ("stage", "page"):
        others.pop(key, None)
    return render(
        request,
        "processes/project_list.html",
        {
            "form": form,
            "page": page,
            "stages": stages,
            "stages_total": sum(n for _stage, _label, n in stages),
            "stage_query": others.urlencode(),
            "show_department": see_all,
            "can_create": can_create_project(user),
            "can_import": can_import_budget(user),
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
    results = _results_of(request.POST, user.department_id) if request.method == "POST" else ResultsApplication()
    return render(
        request, "processes/project_form.html", {"form": form, "project": None, "results": results}, status=status
    )


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
    results = _results_of(request.POST, project.department_id) if request.method == "POST" else results_for(project)
    return render(
        request,
        "processes/project_form.html",
        {"form": form, "project": project, "error": error, "results": results},
        status=status,
    )


@login_required
@require_GET
def project_results(request):
    """The project form's 上年度评价结果 and 差 warnings, as it is being typed (an HTML fragment
    the form's script swaps in). Only the user's own department's history is ever looked up."""
    user = request.user
    if not user.is_department_user or user.department_id is None:
        raise PermissionDenied(_("只有部门用户可以查看本部门以往年度的评价结果。"))
    return render(
        request, "includes/results_application.html", {"results": _results_of(request.GET, user.department_id)}
    )
