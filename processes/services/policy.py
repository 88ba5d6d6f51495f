"""重大政策 (decision 0027): the one writer of Policy. Registering a policy creates its
carrier project in the lead department and moves it, by the declared system transition
``register_policy``, into 事前绩效评估 — from there the policy goes through the one
pre-assessment (processes.services.pre_assessment) like any project."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Department, User
from accounts.roles import Role

from .. import transitions
from ..models import BudgetProject, Policy, Recurrence
from ..permissions import holds
from .audit import audit_record
from .projects import project_system_transition

#: The carrier project's code: ZC (政策) + start year + a serial within the year.
CODE_PREFIX = "ZC"


def can_register(user: User) -> bool:
    return holds(user, "processes.register_policy")


def _next_code(year: int) -> str:
    taken = BudgetProject.objects.select_for_update().filter(fiscal_year=year, code__startswith=f"{CODE_PREFIX}{year}-")
    serial = taken.count() + 1
    while BudgetProject.objects.filter(fiscal_year=year, code=f"{CODE_PREFIX}{year}-{serial:03d}").exists():
        serial += 1
    return f"{CODE_PREFIX}{year}-{serial:03d}"


@transaction.atomic
def policy_register(
    *,
    actor: User,
    name: str,
    department: Department,
    start_year: int,
    end_year: int,
    funding: Decimal,
    goals: str,
    category: str,
    co_departments: list[Department] | None = None,
) -> Policy:
    """The finance section registers a major policy for pre-assessment (nothing is written
    if any field is wrong). The lead department's people are told its review is coming."""
    if not can_register(actor):
        raise PermissionDenied(_("只有财政绩效科可以登记重大政策。"))
    name, goals = (name or "").strip(), (goals or "").strip()
    co = [d for d in (co_departments or []) if d.pk != department.pk]
    project = BudgetProject(
        department=department,
        fiscal_year=start_year,
        code=_next_code(start_year) if start_year else "",
        name=name,
        category=category,
        recurrence=Recurrence.RECURRING if end_year and start_year and end_year > start_year else Recurrence.ONE_OFF,
        requested_amount=funding,
        overall_goal=goals,
        created_by=actor,
    )
    policy = Policy(
        name=name,
        department=department,
        start_year=start_year,
        end_year=end_year,
        funding=funding,
        goals=goals,
        created_by=actor,
    )
    errors: dict[str, list] = {}
    try:
        project.full_clean(exclude=["stage", "code"])
    except ValidationError as exc:
        for field, msgs in exc.message_dict.items():
            target = {"fiscal_year": "start_year", "requested_amount": "funding", "overall_goal": "goals"}.get(
                field, field
            )
            errors.setdefault(target, []).extend(msgs)
    try:
        policy.full_clean(exclude=["project"])
    except ValidationError as exc:
        for field, msgs in exc.message_dict.items():
            if msgs[0] not in errors.get(field, []):
                errors.setdefault(field, []).extend(msgs)
    if errors:
        raise ValidationError(errors)
    project.save()
    policy.project = project
    policy.save()
    policy.co_departments.set(co)
    audit_record(
        obj=policy,
        action="create",
        actor=actor,
        role=transitions.acting_role(actor, [Role.FINANCE_OFFICER]),
        detail={
            "project": project.pk,
            "department": department.pk,
            "co_departments": [d.pk for d in co],
            "period": policy.period,
            "funding": funding,
        },
    )
    project_system_transition(project=project, actor=actor, name="register_policy", detail={"policy": policy.pk})
    return policy
