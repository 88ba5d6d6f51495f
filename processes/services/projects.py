"""The one writer of BudgetProject: create, edit while draft, and every stage transition.

Each function runs in one transaction, checks the actor's right, changes the project
through its FSM transition, writes the audit event and the notifications.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Role
from notifications.services import Message

from .. import notices as audiences
from .. import permissions as perms
from .. import transitions
from ..errors import ActionNotAllowed, Conflict
from ..models import BudgetProject
from ..permissions import holds
from ..states import ProjectStage
from ..transitions import msgid
from .audit import audit_record

__all__ = ["msgid"]  # re-exported: the sub-process services still import it from here

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

EDITABLE_FIELDS = ("fiscal_year", "code", "name", "category", "recurrence", "requested_amount", "overall_goal")

#: A hook a caller (a flow) runs inside the transition, after the project is saved and
#: audited: it moves the workflow on and returns what the next actors must be told.
AfterTransition = Callable[[BudgetProject], dict[User, Message]]


def acting_role(actor: User, usual: str) -> str:
    """The role the actor acted in (kept for callers of the old name; see processes.transitions)."""
    return transitions.acting_role(actor, [usual])


def project_url(project: BudgetProject) -> str:
    return project.get_absolute_url()


def department_members(project: BudgetProject) -> list[User]:
    """The department's staff and leaders, who hear of every stage change of its projects."""
    return audiences.department_members(project.department_id)


def department_told(project: BudgetProject, message) -> dict[User, Message]:
    """The same ``message`` for every member of the project's department."""
    return dict.fromkeys(department_members(project), message)


def _lock(project: BudgetProject) -> BudgetProject:
    """Re-read the project under a row lock (the first lock any transition takes)."""
    return BudgetProject.objects.select_for_update().select_related("department", "created_by").get(pk=project.pk)


def _code_taken_message(project: BudgetProject) -> str:
    return _("%(year)s 年度已有编码为 %(code)s 的项目。") % {
        "year": project.fiscal_year,
        "code": project.code,
    }


def _clean(project: BudgetProject) -> None:
    """full_clean(), with a code already used that year said on the code field (Django's own
    unique-together sentence is generic and sits at the top of the form)."""
    try:
        project.full_clean(exclude=["stage"])
    except ValidationError as exc:
        errors = exc.update_error_dict({})
        taken = (
            BudgetProject.objects.filter(fiscal_year=project.fiscal_year, code=project.code)
            .exclude(pk=project.pk)
            .exists()
        )
        if taken:
            rest = [
                e
                for e in errors.pop(NON_FIELD_ERRORS, [])
                if getattr(e, "code", None) not in ("unique", "unique_together")
            ]
            if rest:
                errors[NON_FIELD_ERRORS] = rest
            errors.setdefault("code", []).append(ValidationError(_code_taken_message(project), code="unique"))
        raise ValidationError(errors) from exc


def _save_unique(project: BudgetProject) -> None:
    """Save; a code taken by a concurrent save since full_clean() is a field error, not a 500."""
    try:
        with transaction.atomic():
            project.save()
    except IntegrityError as exc:
        raise ValidationError({"code": _code_taken_message(project)}) from exc


@transaction.atomic
def project_create(
    *,
    actor: User,
    fiscal_year: int,
    code: str,
    name: str,
    category: str,
    recurrence: str,
    requested_amount: Decimal,
    overall_goal: str = "",
) -> BudgetProject:
    """Draft a project for the actor's own department (dept_staff)."""
    if not holds(actor, "processes.add_budgetproject") or actor.department_id is None:
        raise PermissionDenied(_("只有部门经办人可以新建项目。"))
    project = BudgetProject(
        department_id=actor.department_id,
        fiscal_year=fiscal_year,
        code=code.strip(),
        name=name.strip(),
        category=category,
        recurrence=recurrence,
        requested_amount=requested_amount,
        overall_goal=overall_goal,
        created_by=actor,
    )
    _clean(project)
    _save_unique(project)
    audit_record(
        obj=project,
        action="create",
        actor=actor,
        role=Role.DEPT_STAFF,
        to_state=project.stage,
        detail={f: getattr(project, f) for f in EDITABLE_FIELDS},
    )
    return project


@transaction.atomic
def project_update(*, project: BudgetProject, actor: User, version: int | None = None, **changes) -> BudgetProject:
    """Edit a draft. ``version`` (if given) must be the version the editor started from."""
    project = _lock(project)
    if not perms.can_edit(project, actor):
        raise PermissionDenied(_("只有本部门经办人可以修改项目。"))
    if project.stage != ProjectStage.DRAFT:
        raise ActionNotAllowed(_("项目已提交，不能再修改；如需修改请先由部门负责人退回。"))
    if version is not None and version != project.version:
        raise Conflict(_("项目已被他人修改（当前版本 %(v)s），请刷新后重新编辑。") % {"v": project.version})
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({f: _("此字段不能修改。") for f in unknown})
    before = {f: getattr(project, f) for f in changes}
    for field, value in changes.items():
        setattr(project, field, value.strip() if isinstance(value, str) and field in ("code", "name") else value)
    _clean(project)
    changed = {f: [before[f], getattr(project, f)] for f in changes if before[f] != getattr(project, f)}
    if not changed:
        return project
    project.version += 1
    _save_unique(project)
    audit_record(
        obj=project,
        action="edit",
        actor=actor,
        role=Role.DEPT_STAFF,
        from_state=project.stage,
        to_state=project.stage,
        detail={"changed": changed},
    )
    return project


@dataclass(frozen=True)
class TransitionSpec:
    """A person's stage transition as screens and the API show it (from its declaration)."""

    name: str
    label: StrOrPromise
    role: str
    needs_reason: bool
    style: str
    declared: transitions.Declared

    def permitted(self, project: BudgetProject, user: User) -> bool:
        """Whether the user's role and department allow this transition at all (any stage)."""
        return self.declared.permitted(project, user)


def _spec(d: transitions.Declared) -> TransitionSpec:
    return TransitionSpec(d.name, d.label, d.custom["role"], d.needs_reason, d.style, d)


def transition_spec(name: str) -> TransitionSpec:
    """The screen/API description of a person's transition, from its declaration."""
    d = transitions.declared(BudgetProject, name)
    if not d.is_action:
        raise ActionNotAllowed(_("未知的操作：%(name)s") % {"name": name})
    return _spec(d)


def available_transitions(project: BudgetProject, user: User) -> list[TransitionSpec]:
    """The person-driven transitions ``user`` may take on ``project`` now."""
    return [_spec(d) for d in transitions.available(project, user)]


def project_transition(
    *,
    project: BudgetProject,
    actor: User,
    name: str,
    comment: str = "",
) -> BudgetProject:
    """Move the project by its transition ``name`` on behalf of ``actor`` — with the flow
    step ``workflows`` registered for it (processes.transitions.apply).

    Raises PermissionDenied (wrong role or department), ActionNotAllowed (not possible
    in the current stage, or a condition such as the threshold fails), Conflict (changed
    concurrently) or ValidationError (a reason is required). Nothing is changed then.
    """
    transition_spec(name)  # an unknown or system transition is refused by name
    return transitions.apply(project, name, actor=actor, comment=comment)


def project_system_transition(
    *,
    project: BudgetProject,
    actor: User,
    name: str,
    role: str | None = None,
    comment: str = "",
    detail: dict | None = None,
    **arguments,
) -> BudgetProject:
    """Move the project by a transition that a sub-process decides (not a person's button),
    e.g. the confirmed pre-assessment budgeting or rejecting it. The calling service has
    checked the actor's right; this checks the stage, audits and notifies the department.
    ``role`` is the role of the step that caused it (derived from the actor if omitted)."""
    if transitions.declared(BudgetProject, name).is_action:
        raise ActionNotAllowed(_("未知的操作：%(name)s") % {"name": name})
    try:
        return transitions.apply(
            project,
            name,
            actor=actor,
            comment=comment,
            arguments=arguments,
            detail=detail,
            role=role if role is not None else transitions.acting_role(actor, ()),
        )
    except ActionNotAllowed as exc:
        if isinstance(exc, Conflict):
            raise
        raise ActionNotAllowed(
            _("项目当前处于「%(stage)s」阶段，不能进入下一阶段。")
            % {"stage": BudgetProject.objects.get(pk=project.pk).get_stage_display()}
        ) from exc


def projects_start_execution_many(
    *, projects: list[BudgetProject], actor: User, comment: str = "", progress=None
) -> transitions.BulkOutcome:
    """下达预算 for many budgeted projects at once (批量下达): the same declared transition
    ``start_execution`` as :func:`project_transition`, applied in bulk
    (processes.transitions.apply_many): each project refused with its reason stays as it
    is, the others go to 执行中; one audit row each; each department told once."""
    return transitions.apply_many(projects, "start_execution", actor=actor, comment=comment, progress=progress)
