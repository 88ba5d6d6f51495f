"""Screens that show or move a project's flow: the inbox, the task page, the project page
and its actions.

Reads go through the selectors (processes.selectors, workflows.selectors,
open_project_tasks); every action goes through workflows.services.project_act.
Answers (the same on the task page and the project page):

- success: redirect to the project page with a success message;
- ActionNotAllowed / Conflict (someone acted first, wrong stage): 409, the page
  re-rendered with the message;
- ValidationError (e.g. a reason is required): 400, the page re-rendered with form errors;
- PermissionDenied (wrong role or department): 403;
- an object the user may not see: 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from viewflow.workflow.exceptions import FlowLockFailed
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS, STATUS

from processes.errors import ActionNotAllowed, Conflict
from processes.execution_selectors import project_paid_to, project_planned_to
from processes.lifecycle import lifecycle_context
from processes.models import BudgetProject
from processes.permissions import can_edit
from processes.results import results_for, results_visible_to
from processes.selectors import project_get_for, project_timeline
from processes.services import execution
from processes.services.projects import TransitionSpec, available_transitions, transition_spec
from processes.states import ProjectStage

from . import services
from .evaluation_views import project_evaluation_panel
from .inbox_html import set_rows_html
from .nodes import task_due, task_title_of
from .project_forms import ActionForm
from .selectors import DEFAULT_SORT, INBOX_SORTS, KINDS, inbox_for, queue_label, task_get_visible_to, task_inbox_for
from .task_status import task_state, task_state_label

PAGE_SIZE = 50
OPEN = (STATUS.NEW, STATUS.ASSIGNED)


@dataclass
class TaskRow:
    """A task as the screens show it."""

    task: Task
    project: BudgetProject
    title: str
    asked: list[str]  # labels of the actions that complete it
    due: datetime | None
    owner: object | None
    queue: str  # who may claim it, when nobody owns it
    mine: bool = False
    work_url: str | None = None  # the page where it is done, if not the task page
    due_state: str = ""  # "overdue" / "due-soon" / "" (the inbox's row class)

    @property
    def overdue(self) -> bool:
        return self.due is not None and self.due < timezone.now()

    @property
    def state(self) -> str:
        """workflows.task_status: queued / assigned / done / cancelled."""
        return task_state(self.task.status, self.task.owner_id)

    @property
    def state_label(self) -> str:
        return task_state_label(self.state)


def _row(task: Task, project: BudgetProject, *, mine: bool = False) -> TaskRow:
    node = task.flow_task
    return TaskRow(
        task=task,
        project=project,
        title=str(task_title_of(task)),
        asked=[node.action_label(a) for a in getattr(node, "actions", ())],
        due=task_due(task),
        owner=task.owner if task.owner_id else None,
        queue=queue_label(task.owner_permission or ""),
        mine=mine,
        work_url=node.work_url(project, task) if task.status in OPEN else None,
    )


def _action_forms(specs: list[TransitionSpec], bound: dict[str, ActionForm] | None) -> list[tuple]:
    bound = bound or {}
    return [
        (spec, bound.get(spec.name) or ActionForm(prefix=spec.name, needs_reason=spec.needs_reason)) for spec in specs
    ]


def _refuse_busy() -> str:
    return _("系统繁忙，请稍后重试。")


# -- inbox ----------------------------------------------------------------------------


@login_required
def inbox(request):
    """待办: everything waiting for the user in one list (workflows.selectors.inbox_for): the
    flow tasks assigned to them or queued for them, and the state-machine steps that are
    theirs (re-checks, commissioned evaluations, rectifications, committee opinion items,
    project steps); by due date unless ``?sort=`` says otherwise, ``?kind=task|step`` keeps
    one kind."""
    sort = request.GET.get("sort", "")
    sort = sort if sort in INBOX_SORTS else DEFAULT_SORT
    kind = request.GET.get("kind", "")
    kind = kind if kind in KINDS else ""
    page = Paginator(inbox_for(request.user, sort=sort, kind=kind), PAGE_SIZE).get_page(request.GET.get("page"))
    set_rows_html(page.object_list)
    context = {"page": page, "rows": page.object_list, "sort": sort, "kind": kind}
    if request.GET.get("rows"):  # the rows alone, fetched by static/js/inbox_live.js when a notice arrives
        return render(request, "workflows/inbox_rows.html", context)
    return render(request, "workflows/inbox.html", context)


# -- task page ------------------------------------------------------------------------


def _task_page(request, pk, *, bound=None, error=None, status=200):
    from processes.permissions import can_intake

    from .results_views import results_decision_context

    user = request.user
    task = task_get_visible_to(user, pk)
    project = task.process.projectprocess.project
    is_open = task.status in OPEN and task.process.status == PROCESS.NEW
    mine = is_open and task_inbox_for(user).filter(pk=task.pk).exists()
    if is_open and not mine:
        raise PermissionDenied(_("此任务不在您的待办中。"))
    node = task.flow_task
    specs = [s for s in available_transitions(project, user) if s.name in node.actions] if mine else []
    if is_open and node.work_url(project, task):  # done on its own page (a review, the targets)
        specs = []
    return render(
        request,
        "workflows/task.html",
        {
            "row": _row(task, project, mine=mine),
            "project": project,
            "is_open": is_open,
            "action_forms": _action_forms(specs, bound),
            "error": error,
            "timeline": project_timeline(project),
            # 结果应用 at the finance section's intake (workflows/results_views.py)
            "results_decision": results_decision_context(project, user) if mine and can_intake(project, user) else {},
        },
        status=status,
    )


@login_required
def task_detail(request, pk):
    """任务办理: the task, its project, and one form per action the user may take."""
    if request.method != "POST":
        return _task_page(request, pk)

    user = request.user
    task = task_get_visible_to(user, pk)
    is_open = task.status in OPEN and task.process.status == PROCESS.NEW
    if not is_open:
        return _task_page(request, pk, error=Conflict.default_message, status=409)
    if not task_inbox_for(user).filter(pk=task.pk).exists():
        raise PermissionDenied(_("此任务不在您的待办中。"))
    action = request.POST.get("action", "")
    if action not in getattr(task.flow_task, "actions", ()):
        return _task_page(request, pk, error=_("此任务不能执行该操作。"), status=409)

    spec = transition_spec(action)
    form = ActionForm(request.POST, prefix=action, needs_reason=spec.needs_reason)
    if not form.is_valid():
        return _task_page(request, pk, bound={action: form}, status=400)
    project = task.process.projectprocess.project
    try:
        project = services.project_act(project=project, actor=user, action=action, comment=form.cleaned_data["comment"])
    except ActionNotAllowed as exc:
        return _task_page(request, pk, error=exc.message, status=409)
    except ValidationError as exc:
        form.add_service_errors(exc)
        return _task_page(request, pk, bound={action: form}, status=400)
    except FlowLockFailed:
        return _task_page(request, pk, error=_refuse_busy(), status=503)
    _done(request, spec, project)
    return redirect("workflows:project_detail", pk=project.pk)


def _done(request, spec: TransitionSpec, project: BudgetProject) -> None:
    messages.success(
        request,
        _("「%(action)s」已办理，项目当前阶段：%(stage)s。")
        % {"action": spec.label, "stage": project.get_stage_display()},
    )


# -- project page and its actions -----------------------------------------------------


def execution_summary(project: BudgetProject, user) -> dict | None:
    """The project page's 资金支付 panel (paid and planned for the year), for a project with a
    budget; None before (two queries)."""
    if project.stage not in execution.PAYABLE_STAGES:
        return None
    return {
        "paid": project_paid_to(project, 12),
        "planned": project_planned_to(project, 12),
        "can_plan": execution.can_plan(project, user),
    }


def _project_page(request, project: BudgetProject, *, bound=None, error=None, status=200, results_form=None):
    from .results_views import results_decision_context

    user = request.user
    tasks = list(services.open_project_tasks(project))
    mine = set(task_inbox_for(user).filter(pk__in=[t.pk for t in tasks]).values_list("pk", flat=True))
    task_actions = {a for t in tasks for a in getattr(t.flow_task, "actions", ())}
    available = available_transitions(project, user)
    # Actions that complete a task are taken on the task page; the rest (submit, withdraw,
    # cancel) are forms here.
    direct = [s for s in available if s.name not in task_actions]
    shown = {s.name for s in direct}
    for name, form in (bound or {}).items():
        if name not in shown and form.errors:  # a task's action posted here: say why it failed
            error = " ".join(str(m) for errors in form.errors.values() for m in errors)
    return render(
        request,
        "processes/project_detail.html",
        {
            "project": project,
            "task_rows": [_row(t, project, mine=t.pk in mine) for t in tasks],
            "action_forms": _action_forms(direct, bound),
            "can_edit": project.stage == ProjectStage.DRAFT and can_edit(project, user),
            "timeline": project_timeline(project),
            "lifecycle": lifecycle_context(project),
            "evaluation_panel": project_evaluation_panel(project, user),
            "results_application": results_for(project) if results_visible_to(user, project) else None,
            "execution": execution_summary(project, user),
            "results_decision": (
                results_decision_context(project, user, form=results_form) if results_visible_to(user, project) else {}
            ),
            "error": error,
        },
        status=status,
    )


@login_required
def project_detail(request, pk):
    """项目详情: amounts, current tasks, the user's actions, and the audit timeline."""
    return _project_page(request, project_get_for(request.user, pk))


@login_required
@require_POST
def project_act(request, pk, action):
    """Take the transition ``action`` on the project (the project page's action forms)."""
    user = request.user
    project = project_get_for(user, pk)
    try:
        spec = transition_spec(action)
    except ActionNotAllowed:
        raise Http404(_("未知的操作。")) from None
    form = ActionForm(request.POST, prefix=action, needs_reason=spec.needs_reason)
    if not form.is_valid():
        return _project_page(request, project, bound={action: form}, status=400)
    try:
        project = services.project_act(project=project, actor=user, action=action, comment=form.cleaned_data["comment"])
    except ActionNotAllowed as exc:
        return _project_page(request, project_get_for(user, pk), error=exc.message, status=409)
    except ValidationError as exc:
        form.add_service_errors(exc)
        return _project_page(request, project_get_for(user, pk), bound={action: form}, status=400)
    except FlowLockFailed:
        return _project_page(request, project_get_for(user, pk), error=_refuse_busy(), status=503)
    _done(request, spec, project)
    return redirect("workflows:project_detail", pk=project.pk)
