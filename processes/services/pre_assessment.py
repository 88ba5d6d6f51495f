"""事前绩效评估 (DESIGN §3.2): the one writer of PreAssessment, its panel and opinions.

Each function runs in one transaction and moves the review and its opinions through
processes.transitions.apply: the transitions' declarations (processes.models.pre_assessment)
say who may take them and who is told; the engine locks, checks, saves, audits, notifies
and runs the flow step that ``workflows`` registered (workflows/steps/pre_assessment.py),
so calling these functions completes the flow's tasks too.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from typing import cast

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import Agency, DeputyProfile, ExpertProfile, User
from accounts.roles import Role
from notifications.services import Message

from .. import messages, numbers, transitions
from ..errors import ActionNotAllowed, Conflict
from ..files import check_upload
from ..models import BudgetProject, Opinion, PanelMember, PreAssessment, ReductionItem
from ..notices import department_members
from ..notices.pre_assessment import due as _due
from ..panel import DEPUTY, EXPERT, Candidate, DrawContext, PanelRuleFailed, PanelRules, draw_panel, draw_replacement
from ..permissions import pre_assessment as perms
from ..results_ledger import decided_cap
from ..states import Conclusion, OpinionStatus, PreAssessmentStatus, ProjectStage
from .panel_reminders import panel_remind_hours as panel_remind_hours  # re-exported: views, tests
from .panel_reminders import remind_members
from .projects import project_system_transition

ZERO = Decimal("0.00")
# Amounts a panel or the finance section enters (processes.numbers): ≥ 0, the column's digits.
AMOUNT_BOUNDS = numbers.decimal_bounds(PreAssessment, "approved_amount", min_value=0)
#: Who may replace a panel member: the agency, or the member themself declaring a conflict.
REPLACING_ROLES = (Role.AGENCY_STAFF, Role.EXPERT, Role.DEPUTY)


# -- who -----------------------------------------------------------------------------


def agency_staff(agency: Agency) -> list[User]:
    return list(User.objects.filter(agency=agency, is_active=True, groups__name=Role.AGENCY_STAFF).distinct())


def finance_officers() -> list[User]:
    return list(User.objects.filter(is_active=True, groups__name=Role.FINANCE_OFFICER).distinct())


def _locked(pa: PreAssessment) -> PreAssessment:
    """``pa`` re-read under its lock, after its project's (processes.transitions.lock)."""
    return cast(PreAssessment, transitions.lock(pa))


def _refuse_unless_commissioned(pa: PreAssessment, actor: User) -> None:
    """For the agency's steps that are not transitions (replacing, reminding)."""
    if not perms.is_commissioned(pa, actor):
        raise PermissionDenied(_("只有受托第三方机构的人员可以办理此事项。"))


def _refuse_unless_under_review(pa: PreAssessment) -> None:
    """For the panel's writes that are not transitions (a draft, a replacement, a reminder)."""
    if pa.status != PreAssessmentStatus.UNDER_REVIEW:
        raise ActionNotAllowed(
            _("事前绩效评估当前处于「%(status)s」状态，不能执行此操作。") % {"status": pa.get_status_display()}
        )


def _role_of(actor: User | None, name: str, model: type = PreAssessment) -> str:
    """The role ``actor`` takes ``name`` in: what the system steps it causes inherit."""
    return transitions.acting_role(actor, transitions.declared(model, name).roles)


# -- starting ------------------------------------------------------------------------


@transaction.atomic
def pre_assessment_start(*, project: BudgetProject, actor: User, agency: Agency, due_at: datetime) -> PreAssessment:
    """A finance officer commissions ``agency`` to pre-assess ``project`` (stage pre_assessment)."""
    if not perms.can_start(actor):
        raise PermissionDenied(_("只有财政绩效科可以发起事前绩效评估。"))
    project = BudgetProject.objects.select_for_update().select_related("department").get(pk=project.pk)
    if project.stage != ProjectStage.PRE_ASSESSMENT:
        raise ActionNotAllowed(_("只有处于「事前绩效评估」阶段的项目可以发起评估。"))
    if agency.status != Agency.Status.ACTIVE:
        raise ValidationError({"agency": _("该第三方机构已暂停，不能委托。")})
    if due_at <= timezone.now():
        raise ValidationError({"due_at": _("意见截止时间必须晚于现在。")})
    if (
        PreAssessment.objects.filter(project=project)
        .exclude(status__in=[PreAssessmentStatus.CONFIRMED, PreAssessmentStatus.CANCELLED])
        .exists()
    ):
        raise Conflict(_("该项目已有进行中的事前绩效评估。"))
    pa = PreAssessment.objects.create(project=project, agency=agency, due_at=due_at, initiated_by=actor)
    told: dict[User, Message] = {
        u: messages.plain("stage_changed", messages.PRE_ASSESSMENT_STARTED, project=project.name, agency=agency.name)
        for u in department_members(project.department_id)
    }
    due = _due(pa)
    told.update(
        {u: messages.plain("task", messages.COMMISSIONED, project=project.name, due=due) for u in agency_staff(agency)}
    )
    step = transitions.Step(
        obj=pa,
        name="start",
        actor=actor,
        role=transitions.acting_role(actor, [Role.FINANCE_OFFICER]),
        from_state="",
        to_state=pa.status,
        detail={"agency": agency.name, "due_at": pa.due_at.isoformat()},
    )
    transitions.record(step, action="start", messages=told)
    return pa


# -- the panel -----------------------------------------------------------------------


def library_candidates() -> list[Candidate]:
    """Every expert and deputy of the libraries, as the draw sees them (two queries)."""
    experts = ExpertProfile.objects.select_related("user").prefetch_related("conflicts")
    deputies = DeputyProfile.objects.select_related("user")
    return [
        *(
            Candidate(
                user_id=e.user_id,
                kind=EXPERT,
                specialties=frozenset(e.specialties),
                department_id=e.user.department_id,
                conflict_department_ids=frozenset(d.pk for d in e.conflicts.all()),
                agency_id=e.user.agency_id,
                active=e.active and e.user.is_active,
            )
            for e in experts
        ),
        *(
            Candidate(
                user_id=d.user_id,
                kind=DEPUTY,
                department_id=d.user.department_id,
                agency_id=d.user.agency_id,
                active=d.active and d.user.is_active,
            )
            for d in deputies
        ),
    ]


def _pool_json(pool: list[Candidate]) -> list[dict]:
    rows = []
    for c in sorted(pool, key=lambda c: c.user_id):
        row = asdict(c)
        row["specialties"] = sorted(c.specialties)
        row["conflict_department_ids"] = sorted(c.conflict_department_ids)
        rows.append(row)
    return rows


def stored_pool(pa: PreAssessment) -> list[Candidate]:
    """The candidate pool as recorded at the draw (what a replay uses)."""
    return [
        Candidate(
            **{
                **row,
                "specialties": frozenset(row["specialties"]),
                "conflict_department_ids": frozenset(row["conflict_department_ids"]),
            }
        )
        for row in pa.candidate_pool
    ]


def draw_context(pa: PreAssessment) -> DrawContext:
    return DrawContext(category=pa.project.category, department_id=pa.project.department_id, agency_id=pa.agency_id)


@transaction.atomic
def pre_assessment_form_panel(*, pre_assessment: PreAssessment, actor: User, seed: int | None = None) -> PreAssessment:
    """Agency staff draw the panel; each member gets a draft opinion and the review opens.
    Raises ValidationError naming the rule the library cannot satisfy (nothing is drawn then)."""
    pa = _locked(pre_assessment)
    transitions.check(pa, "form_panel", actor=actor)  # refused before anything is drawn
    rules = PanelRules.from_settings()
    pool = library_candidates()
    seed = secrets.randbits(63) if seed is None else seed
    ctx = draw_context(pa)
    try:
        panel = draw_panel(pool, ctx, rules, seed)
    except PanelRuleFailed as failure:
        raise ValidationError({"panel": failure.message}) from failure

    def seat_panel(pa: PreAssessment) -> None:
        members = PanelMember.objects.bulk_create(
            PanelMember(
                pre_assessment=pa,
                user_id=c.user_id,
                kind=c.kind,
                sector_expert=c.kind == EXPERT and ctx.category in c.specialties,
                seat=seat,
            )
            for seat, c in enumerate(panel, start=1)
        )
        Opinion.objects.bulk_create(Opinion(member=m) for m in members)

    pa = transitions.apply(
        pa,
        "form_panel",
        actor=actor,
        arguments={"seed": seed, "pool": _pool_json(pool)},
        before_save=seat_panel,
        detail={"seed": seed, "panel": [c.user_id for c in panel], "pool_size": len(pool)},
        locked=True,
    )
    return transitions.apply(pa, "open_review", actor=actor, role=_role_of(actor, "form_panel"), locked=True)


def replay_draw(pa: PreAssessment) -> list[int]:
    """Re-run the recorded draw: the user ids it gives must be the panel's first seating."""
    panel = draw_panel(stored_pool(pa), draw_context(pa), PanelRules.from_settings(), pa.draw_seed or 0)
    return [c.user_id for c in panel]


@transaction.atomic
def pre_assessment_replace_member(*, member: PanelMember, actor: User, reason: str) -> PanelMember:
    """The commissioned agency replaces a seated member (reason required, audited) by a
    replacement drawn from the recorded pool so that the panel still keeps every rule."""
    pa = _locked(member.pre_assessment)
    _refuse_unless_commissioned(pa, actor)
    return _replace(pa, member, actor=actor, reason=reason)


def _replace(pa: PreAssessment, member: PanelMember, *, actor: User, reason: str) -> PanelMember:
    """Seat a newcomer in ``member``'s place (``pa`` locked, the actor's right checked):
    the leaving member's draft opinion is withdrawn, and the seat's task follows the seat
    (the flow step of Opinion.withdraw)."""
    _refuse_unless_under_review(pa)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("替换成员必须说明理由。")})
    member = PanelMember.objects.select_related("user", "opinion").get(pk=member.pk)
    if not member.active:
        raise Conflict(_("该成员已被替换。"))
    if member.opinion.status == OpinionStatus.SUBMITTED:
        raise ActionNotAllowed(_("该成员已提交评审意见，不能替换。"))
    seated = list(pa.panel.filter(active=True))
    pool = stored_pool(pa)
    by_id = {c.user_id: c for c in pool}
    earlier = pa.panel.count()  # each replacement draws with its own, recorded seed
    seed = (pa.draw_seed or 0) + earlier
    ctx = draw_context(pa)
    try:
        newcomer = draw_replacement(
            pool, ctx, PanelRules.from_settings(), seed, [by_id[m.user_id] for m in seated], by_id[member.user_id]
        )
    except PanelRuleFailed as failure:
        raise ValidationError({"panel": failure.message}) from failure
    member.active = False
    member.replaced_reason = reason
    member.replaced_at = timezone.now()
    member.save(update_fields=["active", "replaced_reason", "replaced_at"])
    seat = PanelMember.objects.create(
        pre_assessment=pa,
        user_id=newcomer.user_id,
        kind=newcomer.kind,
        sector_expert=newcomer.kind == EXPERT and ctx.category in newcomer.specialties,
        seat=member.seat,
    )
    Opinion.objects.create(member=seat)
    role = transitions.acting_role(actor, REPLACING_ROLES)
    transitions.apply(member.opinion, "withdraw", actor=actor, role=role, comment=reason)
    told: dict[User, Message] = {
        seat.user: messages.plain("task", messages.PANEL_SEAT, project=pa.project.name, due=_due(pa)),
        member.user: messages.plain("task_cancelled", messages.PANEL_SEAT_CANCELLED, project=pa.project.name),
    }
    step = transitions.Step(
        obj=pa,
        name="replace_member",
        actor=actor,
        role=role,
        from_state=pa.status,
        to_state=pa.status,
        comment=reason,
        detail={"leaving": member.user_id, "joining": newcomer.user_id, "seat": member.seat, "seed": seed},
    )
    transitions.record(step, action="replace_member", messages=told)
    return seat


# -- opinions ------------------------------------------------------------------------


def dimensions() -> list[dict]:
    """The score sheet's dimensions (settings): code, label (a message id), points."""
    return cast(list[dict], settings.JIXIAO["OPINION_DIMENSIONS"])


def quorum() -> int:
    """How many opinions let the review move on at the due date (settings)."""
    return cast(int, settings.JIXIAO["OPINION_QUORUM"])


def _money(value, field: str, errors: dict) -> Decimal | None:
    try:
        return numbers.parse_decimal(
            value, AMOUNT_BOUNDS, invalid=_("请输入金额（元）。"), negative=_("金额不能为负数。")
        )
    except ValidationError as exc:
        errors[field] = exc.messages[0]
        return None


def check_amount_for(conclusion: str, approved: Decimal | None, requested: Decimal) -> str | None:
    """The rule of DESIGN §3.2 that ``approved`` breaks for ``conclusion``, as a message; None if it keeps them."""
    if approved is None:
        return _("请填写审定金额。")
    if approved < 0:
        return _("金额不能为负数。")
    if conclusion == Conclusion.SUPPORT and not (ZERO < approved <= requested):
        return _("予以支持时，审定金额应大于 0 且不超过送审金额 %(requested)s 元。") % {"requested": requested}
    if conclusion == Conclusion.PARTIAL and not (ZERO < approved < requested):
        return _("部分予以支持时，审定金额应大于 0 且小于送审金额 %(requested)s 元。") % {"requested": requested}
    if conclusion == Conclusion.REJECT and approved != 0:
        return _("不予支持时，审定金额应为 0。")
    return None


@transaction.atomic
def opinion_save(
    *,
    opinion: Opinion,
    actor: User,
    scores: dict,
    recommendation: str = "",
    recommended_amount=None,
    text: str = "",
    conflict_declared: bool = False,
    conflict_note: str = "",
    reduction_items: list[dict] | None = None,
    submit: bool = False,
) -> Opinion:
    """A panel member saves (draft) or submits their opinion; a submitted one is final.

    Declaring a conflict of interest withdraws the member: the panel is re-completed by
    the draw and this opinion is not counted. Raises ValidationError with field errors.
    """
    pa = _locked(opinion.member.pre_assessment)
    opinion = Opinion.objects.select_for_update(of=("self",)).select_related("member__user").get(pk=opinion.pk)
    member = opinion.member
    member.pre_assessment = pa  # the locked row: the submission's condition reads its status
    if not perms.holds_seat(opinion, actor):
        raise PermissionDenied(_("只有本评审组在任成员本人可以填写此意见。"))
    _refuse_unless_under_review(pa)
    if opinion.status != OpinionStatus.DRAFT:
        raise Conflict(_("意见已提交，不能再修改。"))
    if conflict_declared:
        note = (conflict_note or "").strip()
        if not note:
            raise ValidationError({"conflict_note": _("请说明利益冲突的情况。")})
        opinion.conflict_declared = True
        opinion.conflict_note = note
        opinion.save(update_fields=["conflict_declared", "conflict_note", "updated_at"])
        _replace(pa, member, actor=actor, reason=_("成员申报利益冲突：%(note)s") % {"note": note})
        return Opinion.objects.select_related("member__user").get(pk=opinion.pk)

    errors: dict[str, str] = {}
    clean_scores: dict[str, str] = {}
    for dim in dimensions():
        raw = (scores or {}).get(dim["code"])
        if raw in (None, ""):
            if submit:
                errors[f"scores.{dim['code']}"] = _("请为「%(dim)s」打分。") % {"dim": _(dim["label"])}
            continue
        try:
            value = numbers.to_decimal(raw, invalid=_("评分必须是数字。"))
        except ValidationError as exc:
            errors[f"scores.{dim['code']}"] = exc.messages[0]
            continue
        if value is None or not (0 <= value <= dim["points"]):
            errors[f"scores.{dim['code']}"] = _("「%(dim)s」的评分应在 0 到 %(points)s 分之间。") % {
                "dim": _(dim["label"]),
                "points": dim["points"],
            }
            continue
        if value != value.quantize(Decimal("0.01")):
            errors[f"scores.{dim['code']}"] = _("评分最多保留两位小数。")
            continue
        clean_scores[dim["code"]] = str(value)
    unknown = set(scores or {}) - {d["code"] for d in dimensions()}
    if unknown:
        errors["scores"] = _("未知的评分维度：%(codes)s") % {"codes": ", ".join(sorted(unknown))}
    if recommendation and recommendation not in Conclusion.values:
        errors["recommendation"] = _("请选择评审建议。")
    amount = _money(recommended_amount, "recommended_amount", errors)
    requested = pa.project.requested_amount
    if submit and not recommendation:
        errors["recommendation"] = _("请选择评审建议。")
    if submit and recommendation in Conclusion.values and "recommended_amount" not in errors:
        problem = check_amount_for(recommendation, amount, requested)
        if problem:
            errors["recommended_amount"] = problem
    items = []
    for i, row in enumerate(reduction_items or [], start=1):
        item = (row.get("item") or "").strip()
        req = _money(row.get("requested"), f"reduction_items.{i}.requested", errors)
        appr = _money(row.get("approved"), f"reduction_items.{i}.approved", errors)
        if not item:
            errors[f"reduction_items.{i}.item"] = _("请填写核减事项。")
        if req is not None and appr is not None and appr > req:
            errors[f"reduction_items.{i}.approved"] = _("审定金额不能大于送审金额。")
        items.append(
            ReductionItem(
                opinion=opinion,
                item=item,
                requested=req or ZERO,
                approved=appr or ZERO,
                reason=(row.get("reason") or "").strip(),
            )
        )
    if errors:
        raise ValidationError(errors)

    opinion.scores = clean_scores
    opinion.recommendation = recommendation
    opinion.recommended_amount = amount
    opinion.text = text
    opinion.reduction_items.all().delete()
    ReductionItem.objects.bulk_create(items)
    if not submit:
        opinion.save()
        return opinion

    def stamp(opinion: Opinion) -> None:
        opinion.submitted_at = timezone.now()

    opinion = transitions.apply(
        opinion,
        "submit",
        actor=actor,
        before_save=stamp,
        detail={"recommendation": recommendation, "amount": amount, "total": opinion.total_score},
        locked=True,
    )
    if not pa.panel.filter(active=True).exclude(opinion__status=OpinionStatus.SUBMITTED).exists():
        _collect(pa, actor=actor, role=_role_of(actor, "submit", Opinion))
    return opinion


def _collect(pa: PreAssessment, *, actor: User | None, role: str | None) -> PreAssessment:
    """All opinions in (or the quorum at the due date): the missing ones expire (their tasks
    close), and the agency is asked for its conclusion. ``pa`` is locked; the steps are
    recorded under the causing step's actor and role (the last member's submission, or the
    system's sweep)."""
    expired = list(
        Opinion.objects.filter(member__pre_assessment=pa, member__active=True, status=OpinionStatus.DRAFT)
        .select_related("member")
        .order_by("member__seat")
    )
    for opinion in expired:
        transitions.apply(opinion, "expire", actor=actor, role=role)
    count = Opinion.objects.filter(member__pre_assessment=pa, status=OpinionStatus.SUBMITTED).count()
    return transitions.apply(
        pa,
        "collect",
        actor=actor,
        role=role,
        detail={"submitted": count, "expired": [o.member.user_id for o in expired]},
        locked=True,
    )


@transaction.atomic
def pre_assessment_close_due(*, pre_assessment: PreAssessment, now: datetime | None = None) -> bool:
    """At or after the due date, move the review on if the quorum is in. Returns whether it moved."""
    pa = _locked(pre_assessment)
    now = now or timezone.now()
    if pa.status != PreAssessmentStatus.UNDER_REVIEW or now < pa.due_at:
        return False
    submitted = Opinion.objects.filter(
        member__pre_assessment=pa, member__active=True, status=OpinionStatus.SUBMITTED
    ).count()
    if submitted < quorum():
        return False
    _collect(pa, actor=None, role=None)
    return True


def pre_assessments_due(now: datetime | None = None):
    """Reviews under way whose due date has passed (for the periodic sweep)."""
    return PreAssessment.objects.filter(status=PreAssessmentStatus.UNDER_REVIEW, due_at__lte=now or timezone.now())


# -- conclusion and confirmation -----------------------------------------------------


@transaction.atomic
def pre_assessment_conclude(
    *, pre_assessment: PreAssessment, actor: User, conclusion: str, approved_amount, reasons: str, report=None
) -> PreAssessment:
    """Agency staff propose the conclusion and approved amount (rules of DESIGN §3.2)."""
    pa = _locked(pre_assessment)
    transitions.check(pa, "conclude", actor=actor)  # who and when before what
    errors: dict[str, str] = {}
    if conclusion not in Conclusion.values:
        errors["conclusion"] = _("请选择评估结论。")
    amount = _money(approved_amount, "approved_amount", errors)
    if "conclusion" not in errors and "approved_amount" not in errors:
        problem = check_amount_for(conclusion, amount, pa.project.requested_amount)
        if problem:
            errors["approved_amount"] = problem
    reasons = (reasons or "").strip()
    if not reasons:
        errors["reasons"] = _("请填写结论理由。")
    if report is not None:
        try:
            check_upload(report, field="report")
        except ValidationError as exc:
            errors.update({k: " ".join(v) for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    assert amount is not None

    def attach(pa: PreAssessment) -> None:
        if report is not None:
            pa.report = report

    return transitions.apply(
        pa,
        "conclude",
        actor=actor,
        comment=reasons,
        arguments={"conclusion": conclusion, "approved_amount": amount, "reasons": reasons},
        before_save=attach,
        detail={"conclusion": conclusion, "approved_amount": amount, "reduction": pa.requested_amount - amount},
        locked=True,
    )


@transaction.atomic
def pre_assessment_confirm(*, pre_assessment: PreAssessment, actor: User) -> PreAssessment:
    """The finance officer accepts the conclusion: the project is budgeted with the approved
    amount, or rejected (不予支持). The agency and every panel member are told, each member
    with their own recommended amount beside the confirmed one."""
    pa = _locked(pre_assessment)
    pa = transitions.apply(
        pa,
        "confirm",
        actor=actor,
        detail={"conclusion": pa.conclusion, "approved_amount": pa.approved_amount},
        locked=True,
    )
    role = _role_of(actor, "confirm")
    detail = {"pre_assessment": pa.pk, "conclusion": pa.conclusion, "approved_amount": pa.approved_amount}
    if pa.conclusion == Conclusion.REJECT:
        project_system_transition(project=pa.project, actor=actor, name="reject", role=role, detail=detail)
    else:
        # Budgeted if the targets are already approved; else the targets' review decides.
        project_system_transition(
            project=pa.project,
            actor=actor,
            name="confirm_pre_assessment" if pa.project.has_approved_targets() else "await_targets",
            role=role,
            detail=detail,
            approved_amount=decided_cap(pa.project, pa.approved_amount),
        )
    return pa


@transaction.atomic
def pre_assessment_return(*, pre_assessment: PreAssessment, actor: User, reason: str) -> PreAssessment:
    """The finance officer returns the conclusion to the agency, with a reason."""
    try:
        return transitions.apply(pre_assessment, "send_back", actor=actor, comment=reason)
    except ValidationError as exc:
        if "comment" in exc.message_dict:  # the screens' and the API's field is "reason"
            raise ValidationError({"reason": _("请填写退回理由。")}) from exc
        raise


def pre_assessment_cancel_open(*, project: BudgetProject, actor: User | None, reason: str) -> PreAssessment | None:
    """The project left pre-assessment (withdrawn, cancelled, rejected by its targets): its
    open review ends too, and the panel hears that their seats are cancelled. Runs inside
    the project's transition, recorded under its actor."""
    pa = pre_assessment_open_for(project)
    if pa is None:
        return None
    return transitions.apply(pa, "cancel", actor=actor, comment=reason)


def pre_assessment_open_for(project: BudgetProject) -> PreAssessment | None:
    return (
        PreAssessment.objects.filter(project=project)
        .exclude(status__in=[PreAssessmentStatus.CONFIRMED, PreAssessmentStatus.CANCELLED])
        .first()
    )


# -- reminding the panel (issue 21) -------------------------------------------------------------

PANEL_REMINDER = gettext_noop("请尽快提交「%(project)s」的事前绩效评估评审意见（截止 %(due)s）。")


@transaction.atomic
def pre_assessment_remind_panel(
    *, pre_assessment: PreAssessment, actor: User, now: datetime | None = None
) -> tuple[list[PanelMember], list[PanelMember]]:
    """The commissioned agency reminds the seated members who have not submitted their
    opinion: one notice each (to their opinion page), one audit event naming them. A member
    reminded in the last ``panel_remind_hours()`` is skipped (no spam). Returns (reminded,
    skipped); nobody left to remind is a Conflict (processes.services.panel_reminders)."""
    from django.urls import reverse

    pa = _locked(pre_assessment)
    _refuse_unless_commissioned(pa, actor)
    _refuse_unless_under_review(pa)
    pending = list(
        pa.panel.filter(active=True)
        .exclude(opinion__status=OpinionStatus.SUBMITTED)
        .select_related("user")
        .order_by("seat")
    )
    return remind_members(
        obj=pa,
        state=pa.status,
        pending=pending,
        actor=actor,
        verb=PANEL_REMINDER,
        params={"project": pa.project.name, "due": _due(pa)},
        url=reverse("workflows:pre_assessment_opinion", args=[pa.pk]),
        nobody_pending=_("评审组成员均已提交评审意见，无需提醒。"),
        now=now,
    )
