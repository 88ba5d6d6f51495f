"""Screens of 绩效目标 (DESIGN §3.3): a project's targets page — the version in force, the
version being worked on and every earlier version — with the forms the user may use there:
filing (填报), the edit form with its rows, the leader's review, the finance section's
rating, and a change request (变更); one version's page; and the indicator search the
edit form's autocomplete asks.

Targets are visible exactly when their project is (processes.selectors.project_get_for),
otherwise 404. Every change goes through processes.services.targets or workflows.services
(which move the review's tasks). Answers follow workflows.views: success redirects to the
targets page with a message; ActionNotAllowed / Conflict 409 with the message;
ValidationError 400 with the errors on the fields they name and everything typed kept;
PermissionDenied 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, Q
from django.forms import BaseFormSet
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from viewflow.workflow.exceptions import FlowLockFailed

from processes.errors import ActionNotAllowed, Conflict
from processes.models import BudgetProject, TargetRow, TargetSet
from processes.selectors import project_get_for
from processes.services import targets as target_services
from processes.services.targets import (
    CHANGEABLE_STAGES,
    DRAFTABLE_STAGES,
    can_fill,
    can_rate,
    can_review,
    clean_rows,
    pickable_indicators,
    targets_settings,
)
from processes.states import LEVEL2_PARENT, TARGET_SET_OPEN, TargetRating, TargetSetStatus
from processes.transitions import available

from . import services
from .target_forms import (
    RATE_LABELS,
    TargetChangeForm,
    TargetRateForm,
    TargetReviewForm,
    TargetRowFormSet,
    TargetSetForm,
    number_text,
)

#: How many library indicators the autocomplete is given at most.
INDICATOR_MATCHES = 20
ROWS_PREFIX = "rows"
#: The service's row fields the edit form sends (``indicator`` is looked up from the code).
ROW_FIELDS = ("level1", "level2", "name", "direction", "target_value", "target_text", "unit", "weight")


# -- what the pages show -----------------------------------------------------------------


@dataclass
class RowView:
    """A row as the read-only tables show it, with the finance section's 良 edits."""

    row: TargetRow
    changes: list[tuple[str, str, str]]  # (what, before, after)


@dataclass
class EditForms:
    form: TargetSetForm
    rows: BaseFormSet  # a TargetRowFormSet


def _shown(field: str, value: str | None) -> str:
    if value is None or value == "":
        return "—"
    if field in ("target_value", "weight"):
        try:
            return number_text(Decimal(value))
        except ArithmeticError:
            return value
    return value


def row_views(target_set: TargetSet) -> list[RowView]:
    return [
        RowView(
            row=row,
            changes=[
                (str(RATE_LABELS.get(field, field)), _shown(field, before), _shown(field, after))
                for field, (before, after) in (row.edits or {}).items()
            ],
        )
        for row in target_set.rows.all()
    ]


def _versions(project: BudgetProject) -> list[TargetSet]:
    return list(
        project.target_sets.select_related("created_by", "rated_by")
        .prefetch_related(Prefetch("rows", queryset=TargetRow.objects.select_related("indicator")))
        .order_by("-number")
    )


def _edit_forms(target_set: TargetSet) -> EditForms:
    return EditForms(
        form=TargetSetForm(initial=TargetSetForm.initial_from(target_set), is_change=target_set.is_change),
        rows=TargetRowFormSet(
            # an empty version starts with one blank row to fill (a blank row is not saved)
            initial=[TargetRowFormSet.form.initial_from(row) for row in target_set.rows.all()] or [{}],
            prefix=ROWS_PREFIX,
        ),
    )


def _page(request, project: BudgetProject, *, bound=None, error=None, status=200):
    user = request.user
    bound = bound or {}
    versions = _versions(project)
    in_force = next((v for v in versions if v.status == TargetSetStatus.APPROVED), None)
    open_set = next((v for v in versions if v.status in TARGET_SET_OPEN), None)
    fill = can_fill(project, user)
    # what the user may do to the open version now: its declared transitions (the engine's)
    acts = {d.name for d in available(open_set, user)} if open_set is not None else set()
    forms: dict = {}
    if fill and not versions and project.stage in DRAFTABLE_STAGES:
        forms["open"] = True
    if open_set is not None and "submit" in acts:  # drafting and submitting go together
        forms["edit"] = bound.get("edit") or _edit_forms(open_set)
    if open_set is not None and "dept_approve" in acts:
        forms["review"] = bound.get("review") or TargetReviewForm(initial={"number": open_set.number})
    if open_set is not None and "approve" in acts:
        forms["rate"] = bound.get("rate") or TargetRateForm(
            initial={"number": open_set.number}, rows=list(open_set.rows.all())
        )
    if fill and in_force is not None and open_set is None and project.stage in CHANGEABLE_STAGES:
        forms["change"] = bound.get("change") or TargetChangeForm()
    return render(
        request,
        "workflows/targets/page.html",
        {
            "project": project,
            "versions": versions,
            "in_force": in_force,
            "in_force_rows": row_views(in_force) if in_force else [],
            "open_set": open_set,
            "open_rows": row_views(open_set) if open_set else [],
            "forms": forms,
            "level2_parent": LEVEL2_PARENT,
            "weight_rules": targets_settings(),
            "error": error,
        },
        status=status,
    )


@login_required
@require_GET
def targets_page(request, pk):
    """绩效目标: the version in force, the open version, all versions, and the user's forms."""
    return _page(request, project_get_for(request.user, pk))


@login_required
@require_GET
def target_version(request, pk, number):
    """One version of the project's targets, read-only (earlier versions stay readable)."""
    project = project_get_for(request.user, pk)
    target_set = get_object_or_404(
        project.target_sets.select_related("created_by", "rated_by").prefetch_related(
            Prefetch("rows", queryset=TargetRow.objects.select_related("indicator"))
        ),
        number=number,
    )
    return render(
        request,
        "workflows/targets/version.html",
        {"project": project, "target_set": target_set, "rows": row_views(target_set)},
    )


@login_required
@require_GET
def target_indicators(request, pk):
    """The library indicators the project may pick whose code or name matches ``q`` (at
    most 20): general ones and the project's department's own, never another's."""
    project = project_get_for(request.user, pk)
    q = request.GET.get("q", "").strip()[:100]
    found = []
    if q:
        found = list(
            pickable_indicators(project)
            .filter(Q(code__icontains=q) | Q(name__icontains=q))
            .order_by("code")[:INDICATOR_MATCHES]
        )
    return JsonResponse(
        {
            "results": [
                {
                    "id": i.pk,
                    "code": i.code,
                    "name": i.name,
                    "level1": i.level1,
                    "level1_display": i.get_level1_display(),
                    "level2": i.level2,
                    "level2_display": i.get_level2_display(),
                    "direction": i.direction,
                    "direction_display": i.get_direction_display(),
                    "unit": i.unit,
                    "scope": i.scope,
                    "scope_display": i.get_scope_display(),
                }
                for i in found
            ]
        }
    )


# -- actions ------------------------------------------------------------------------------


def _posted_version(project: BudgetProject, data) -> TargetSet | None:
    """The version a form was filled for (its hidden ``number``), so that a stale page never
    acts on a newer version."""
    try:
        number = int(data.get("number", ""))
    except (TypeError, ValueError):
        return None
    return project.target_sets.filter(number=number).first()


def _place_row_errors(error: ValidationError, form: TargetSetForm, row_forms: list, *, skip=frozenset()) -> None:
    """Put a service's errors where they belong: ``rows.<i>.<field>`` on the field of the
    i-th row sent (``row_forms[i]``), the version's fields on theirs, the rest at the top."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for key, msgs in error.message_dict.items():
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "rows" and parts[1].isdigit() and int(parts[1]) < len(row_forms):
            if int(parts[1]) not in skip:
                row_forms[int(parts[1])].add_service_error(parts[2], msgs)
        elif key in form.fields and key not in ("number", "revision"):
            form.add_error(key, msgs)
        else:
            form.add_error(None, msgs)


def _open(request, project: BudgetProject):
    try:
        target_set = target_services.target_draft_open(project=project, actor=request.user)
    except ActionNotAllowed as exc:
        return _page(request, project, error=exc.message, status=409)
    messages.success(request, _("已开始填报绩效目标（第 %(n)s 版）。") % {"n": target_set.number})
    return redirect("workflows:targets", pk=project.pk)


def _edit(request, project: BudgetProject):
    """保存草稿 / 提交审核: the version's fields and rows; submitting saves first, and a
    refused submission saves nothing (the form keeps what was typed)."""
    user = request.user
    if not can_fill(project, user):
        raise PermissionDenied(_("只有本部门经办人可以填报绩效目标。"))
    target_set = _posted_version(project, request.POST)
    form = TargetSetForm(request.POST, is_change=bool(target_set and target_set.is_change))
    rows = TargetRowFormSet(request.POST, prefix=ROWS_PREFIX)
    bound = {"edit": EditForms(form, rows)}
    if target_set is None:
        return _page(request, project, bound=bound, error=Conflict.default_message, status=409)
    if not (form.is_valid() & rows.is_valid()):  # both, so that every error shows
        return _page(request, project, bound=bound, status=400)
    kept = [f for f in rows.forms if not f.cleaned_data.get("DELETE") and not f.is_blank()]
    codes = {f.cleaned_data["indicator_code"].strip() for f in kept} - {""}
    library = {i.code: i for i in pickable_indicators(project).filter(code__in=codes)}
    sent, unknown = [], set()
    for i, row_form in enumerate(kept):
        data = row_form.cleaned_data
        code = data["indicator_code"].strip()
        indicator = library.get(code) if code else None
        if code and indicator is None:
            unknown.add(i)
            row_form.add_error(
                "indicator_code",
                _("本项目可选用的指标中没有编码「%(code)s」（只能选用通用指标和本部门的个性化指标）。")
                % {"code": code},
            )
        sent.append({"indicator": indicator.pk if indicator else None, **{f: data[f] for f in ROW_FIELDS}})
    if unknown:  # say what else is wrong too, but save nothing
        try:
            clean_rows(project, sent)
        except ValidationError as exc:
            _place_row_errors(exc, form, kept, skip=unknown)
        return _page(request, project, bound=bound, status=400)
    submit = "submit" in request.POST
    data = form.cleaned_data
    save = target_services.target_save_and_submit if submit else target_services.target_set_save
    try:
        save(
            target_set=target_set,
            actor=user,
            overall_goal=data["overall_goal"],
            rows=sent,
            change_reason=data.get("change_reason") if target_set.is_change else None,
            revision=data["revision"],
        )
    except ActionNotAllowed as exc:  # Conflict included
        return _page(request, project, bound=bound, error=exc.message, status=409)
    except ValidationError as exc:
        _place_row_errors(exc, form, kept)
        return _page(request, project, bound=bound, status=400)
    except FlowLockFailed:
        return _page(request, project, bound=bound, error=_("系统繁忙，请稍后重试。"), status=503)
    if submit:
        messages.success(request, _("绩效目标已提交，等待部门负责人审核。"))
    else:
        messages.success(request, _("草稿已保存。"))
    return redirect("workflows:targets", pk=project.pk)


def _review(request, project: BudgetProject):
    """审核通过 / 退回修改 (the department leader)."""
    user = request.user
    if not can_review(project, user):
        raise PermissionDenied(_("只有本部门负责人可以审核绩效目标。"))
    form = TargetReviewForm(request.POST)
    bound = {"review": form}
    decision = request.POST.get("decision")
    if not form.is_valid() or decision not in ("approve", "return"):
        if decision not in ("approve", "return"):
            form.add_error(None, _("请选择审核通过或退回修改。"))
        return _page(request, project, bound=bound, status=400)
    target_set = _posted_version(project, request.POST)
    if target_set is None:
        return _page(request, project, error=Conflict.default_message, status=409)
    approve = decision == "approve"
    try:
        services.targets_dept_review(
            target_set=target_set, actor=user, approve=approve, comment=form.cleaned_data["comment"]
        )
    except ActionNotAllowed as exc:
        return _page(request, project, error=exc.message, status=409)
    except ValidationError as exc:
        form.add_service_errors(exc)
        return _page(request, project, bound=bound, status=400)
    except FlowLockFailed:
        return _page(request, project, bound=bound, error=_("系统繁忙，请稍后重试。"), status=503)
    if approve:
        messages.success(request, _("已审核通过，绩效目标已报送财政绩效科审核。"))
    else:
        messages.success(request, _("已退回经办人修改。"))
    return redirect("workflows:targets", pk=project.pk)


def _rate(request, project: BudgetProject):
    """评定审核等次 (the finance section): 优 / 良 (with the agreed edits) / 中 / 差."""
    user = request.user
    if not can_rate(user):
        raise PermissionDenied(_("只有财政绩效科可以审核绩效目标。"))
    target_set = _posted_version(project, request.POST)
    if target_set is None:
        return _page(request, project, error=Conflict.default_message, status=409)
    form = TargetRateForm(request.POST, rows=list(target_set.rows.all()))
    bound = {"rate": form}
    if not form.is_valid():
        return _page(request, project, bound=bound, status=400)
    try:
        rated = services.targets_rate(target_set=target_set, actor=user, **form.service_kwargs())
    except ActionNotAllowed as exc:
        return _page(request, project, error=exc.message, status=409)
    except ValidationError as exc:
        form.add_service_errors(exc)
        return _page(request, project, bound=bound, status=400)
    except FlowLockFailed:
        return _page(request, project, bound=bound, error=_("系统繁忙，请稍后重试。"), status=503)
    project.refresh_from_db()
    messages.success(
        request,
        _("已评定为「%(rating)s」，绩效目标%(status)s；项目当前阶段：%(stage)s。")
        % {
            "rating": TargetRating(rated.rating).label,
            "status": rated.get_status_display(),
            "stage": project.get_stage_display(),
        },
    )
    return redirect("workflows:targets", pk=project.pk)


def _change(request, project: BudgetProject):
    """申请变更: a new version, copied from the one in force, to edit and submit."""
    user = request.user
    if not can_fill(project, user):
        raise PermissionDenied(_("只有本部门经办人可以申请变更绩效目标。"))
    form = TargetChangeForm(request.POST)
    bound = {"change": form}
    if not form.is_valid():
        return _page(request, project, bound=bound, status=400)
    try:
        target_set = services.targets_change_request(project=project, actor=user, reason=form.cleaned_data["reason"])
    except ActionNotAllowed as exc:
        return _page(request, project, error=exc.message, status=409)
    except ValidationError as exc:
        form.add_service_errors(exc)
        return _page(request, project, bound=bound, status=400)
    except FlowLockFailed:
        return _page(request, project, bound=bound, error=_("系统繁忙，请稍后重试。"), status=503)
    messages.success(request, _("已提出变更申请（第 %(n)s 版），请修改后提交审核。") % {"n": target_set.number})
    return redirect("workflows:targets", pk=project.pk)


#: The targets page's actions, by the name in the URL.
HANDLERS = {"open": _open, "edit": _edit, "review": _review, "rate": _rate, "change": _change}


@login_required
@require_POST
def targets_act(request, pk, action):
    """One of the targets page's actions: open, edit (save / submit), review, rate, change."""
    project = project_get_for(request.user, pk)
    if action not in HANDLERS:
        raise Http404(_("未知的操作。"))
    return HANDLERS[action](request, project)
