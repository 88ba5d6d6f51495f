"""The one writer of BudgetProject: create, edit while draft, and every stage transition.

Each function runs in one transaction, checks the actor's right, changes the project
through its FSM transition, writes the audit event and the notifications.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, can_proceed

from accounts.models import User
from accounts.roles import Role
from notifications.services import Message, notify

from .. import messages
from .. import permissions as perms
from ..errors import ActionNotAllowed, Conflict
from ..models import BudgetProject
from ..permissions import holds
from ..states import ProjectStage
from .audit import audit_record

EDITABLE_FIELDS = ("fiscal_year", "code", "name", "category", "recurrence", "requested_amount", "overall_goal")

#: A hook a caller (a flow) runs inside the transition, after the project is saved and
#: audited: it moves the workflow on and returns what the next actors must be told.
AfterTransition = Callable[[BudgetProject], dict[User, Message]]


def msgid(label) -> str:
    """The untranslated message id of a lazy label, for notifications translated when read."""
    with translation.override(None):
        return str(label)


def acting_role(actor: User, usual: str) -> str:
    """The role the actor acted in: the transition's usual role if they hold it, else their first."""
    if usual in actor.role_names:
        return usual
    return next((r for r in Role.values if r in actor.role_names), "")


def project_url(project: BudgetProject) -> str:
    return f"/projects/{project.pk}/"


def department_members(project: BudgetProject) -> list[User]:
    """The department's staff and leaders, who hear of every stage change of its projects."""
    return list(
        User.objects.filter(
            department_id=project.department_id,
            is_active=True,
            groups__name__in=[Role.DEPT_STAFF, Role.DEPT_LEADER],
        ).distinct()
    )


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
    name: str
    label: str
    role: str
    needs_reason: bool
    style: str
    permission: Callable

    def permitted(self, project: BudgetProject, user: User) -> bool:
        """Whether the user's role and department allow this transition at all (any stage)."""
        return bool(self.permission(project, user))


def transition_spec(name: str) -> TransitionSpec:
    """The screen/API description of a person's transition, from the FSM declaration."""
    for t in BudgetProject._meta.get_field("stage").get_all_transitions(BudgetProject):
        if t.name == name and t.custom.get("action"):
            c = t.custom
            return TransitionSpec(name, c["label"], c["role"], c["needs_reason"], c["style"], t.permission)
    raise ActionNotAllowed(_("未知的操作：%(name)s") % {"name": name})


def available_transitions(project: BudgetProject, user: User) -> list[TransitionSpec]:
    """The person-driven transitions ``user`` may take on ``project`` now."""
    return [
        transition_spec(t.name) for t in project.get_available_user_stage_transitions(user) if t.custom.get("action")
    ]


@transaction.atomic
def project_transition(
    *,
    project: BudgetProject,
    actor: User,
    name: str,
    comment: str = "",
    after: AfterTransition | None = None,
) -> BudgetProject:
    """Move the project by its transition ``name`` on behalf of ``actor``.

    Raises PermissionDenied (wrong role or department), ActionNotAllowed (not possible
    in the current stage, or a condition such as the threshold fails), Conflict (changed
    concurrently) or ValidationError (a reason is required). Nothing is changed then.
    """
    spec = transition_spec(name)
    comment = (comment or "").strip()
    project = _lock(project)
    method = getattr(project, name)
    if not spec.permitted(project, actor):
        raise PermissionDenied(_("您没有权限对此项目执行「%(action)s」。") % {"action": spec.label})
    if not can_proceed(method, check_conditions=False):
        raise ActionNotAllowed(
            _("项目当前处于「%(stage)s」阶段，不能执行「%(action)s」。")
            % {"stage": project.get_stage_display(), "action": spec.label}
        )
    if not can_proceed(method):
        raise ActionNotAllowed(_condition_message(project, name, spec))
    if spec.needs_reason and not comment:
        raise ValidationError({"comment": _("请填写理由。")})

    return _apply(project, actor=actor, name=name, role=acting_role(actor, spec.role), comment=comment, after=after)


@transaction.atomic
def project_system_transition(
    *,
    project: BudgetProject,
    actor: User,
    name: str,
    role: str,
    comment: str = "",
    detail: dict | None = None,
    **arguments,
) -> BudgetProject:
    """Move the project by a transition that a sub-process decides (not a person's button),
    e.g. the confirmed pre-assessment budgeting or rejecting it. The calling service has
    checked the actor's right; this checks the stage, audits and notifies the department."""
    project = _lock(project)
    if not can_proceed(getattr(project, name)):
        raise ActionNotAllowed(
            _("项目当前处于「%(stage)s」阶段，不能进入下一阶段。") % {"stage": project.get_stage_display()}
        )
    return _apply(project, actor=actor, name=name, role=role, comment=comment, detail=detail, arguments=arguments)


def _apply(
    project: BudgetProject,
    *,
    actor: User,
    name: str,
    role: str,
    comment: str,
    after: AfterTransition | None = None,
    detail: dict | None = None,
    arguments: dict | None = None,
) -> BudgetProject:
    """Take the (already checked) transition: save, run the flow step, audit, notify."""
    from_stage = project.stage
    getattr(project, name)(**(arguments or {}))
    project.version += 1
    try:
        project.save()
    except ConcurrentTransition as exc:
        raise Conflict() from exc

    # The flow step runs before the audit row: locks are taken project → flow process →
    # audit chain head, so nobody waits on the shared head while it waits on a flow.
    told = _project_messages(project, actor, name, from_stage, comment)
    if after is not None:
        told.update(after(project))
    event = audit_record(
        obj=project,
        action=name,
        actor=actor,
        role=role,
        from_state=from_stage,
        to_state=project.stage,
        comment=comment,
        detail={"requested_amount": project.requested_amount, "version": project.version, **(detail or {})},
    )
    told.pop(actor, None)
    notify(
        messages=told,
        event_key=f"audit:{event.sequence}",
        url=project_url(project),
        object_type="processes.budgetproject",
        object_id=str(project.pk),
    )
    return project


def _condition_message(project: BudgetProject, name: str, spec: TransitionSpec) -> str:
    if name == "route_to_target_review":
        return _("送审金额 %(amount)s 元达到事前绩效评估门槛 %(threshold)s 元，必须先进行事前绩效评估。") % {
            "amount": project.requested_amount,
            "threshold": project.pre_assessment_threshold,
        }
    return _("当前条件下不能执行「%(action)s」。") % {"action": spec.label}


def _project_messages(project, actor, name, from_stage, comment) -> dict[User, Message]:
    """Who hears of this stage change, and what (DESIGN §5). Next actors are added by `after`."""
    from_label = msgid(ProjectStage(from_stage).label)
    to_label = msgid(ProjectStage(project.stage).label)
    told: dict[User, Message] = {
        member: messages.stage_changed(project.name, from_label, to_label, comment)
        for member in department_members(project)
    }
    submitter = project.created_by
    if name == "approve":
        told[submitter] = messages.submitter_approved(project.name)
    elif name == "send_back":
        told[submitter] = messages.submitter_returned(project.name, comment)
    return told
