"""The finance officer's results-application decision (结果应用, decision 0025): accept the
proposal the grade of record makes, or override it with an amount and a reason — through
the transition engine, so the decision is audited and the department told."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User

from .. import transitions
from ..errors import ActionNotAllowed
from ..models import BudgetProject
from ..models.results import ResultsDecision
from ..permissions import can_intake
from ..results_ledger import DECIDABLE, proposal_for
from ..units import half_up


def _amount(value, requested: Decimal) -> Decimal:
    if value in (None, ""):
        raise ValidationError({"amount": _("请填写决定安排金额。")})
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({"amount": _("请输入有效的金额。")}) from None
    if not amount.is_finite() or amount < 0:
        raise ValidationError({"amount": _("金额不能为负数。")})
    if amount > requested:
        raise ValidationError({"amount": _("决定安排金额不能超过送审金额 %(amount)s 元。") % {"amount": requested}})
    return half_up(amount)


@transaction.atomic
def results_decide(
    *, project: BudgetProject, actor: User, accept: bool, amount=None, reason: str = ""
) -> ResultsDecision:
    """Accept the proposal, or override it with ``amount`` and ``reason``. Refused (nothing
    written) when the project is not taken in yet or already budgeted, has no graded
    predecessor, was decided before, or — accepting — its 优先保障 is blocked by an
    unverified rectification."""
    if not can_intake(project, actor):
        raise PermissionDenied(_("只有财政绩效科可以决定结果应用。"))
    project = BudgetProject.objects.select_for_update().get(pk=project.pk)
    if project.stage not in DECIDABLE:
        raise ActionNotAllowed(
            _("项目当前处于「%(stage)s」阶段，结果应用须在财政受理后、批复预算前决定。")
            % {"stage": project.get_stage_display()}
        )
    if ResultsDecision.objects.filter(project=project).exists():
        raise ActionNotAllowed(_("该项目的结果应用已经决定，不能重复决定。"))
    proposal = proposal_for(project)
    if proposal is None:
        raise ActionNotAllowed(_("该项目没有以前年度的评价等次，无结果应用建议。"))
    if accept and not proposal.acceptable:
        raise ActionNotAllowed(_("不能采纳优先保障建议：%(block)s") % {"block": proposal.block.text})  # type: ignore[union-attr]
    reason = (reason or "").strip()
    arguments: dict = {}
    if not accept:
        errors = {}
        try:
            arguments["amount"] = _amount(amount, project.requested_amount)
        except ValidationError as exc:
            errors.update(exc.message_dict)
        if not reason:
            errors["reason"] = [_("不采纳建议时必须填写理由。")]
        if errors:
            raise ValidationError(errors)
        arguments["comment"] = reason
    rec = proposal.recommendation
    decision = ResultsDecision.objects.create(
        project=project,
        graded_project=proposal.graded_project,
        grade=rec.grade,
        grade_source=rec.source,
        recommendation=rec.action,
        cut_percent=rec.cut_percent,
        requested_amount=project.requested_amount,
        proposed_amount=proposal.proposed_amount,
        proposed_priority=proposal.priority,
        blocked_by_id=proposal.block.rectification_id if proposal.block else None,
    )
    return transitions.apply(
        decision,
        "accept" if accept else "override",
        actor=actor,
        comment=reason,
        arguments=arguments,
        detail={"block": proposal.block.text if proposal.block else ""},
        before_save=lambda d: _stamp(d, actor),
        locked=True,
    )


def _stamp(decision: ResultsDecision, actor: User) -> None:
    decision.decided_by, decision.decided_at = actor, timezone.now()
