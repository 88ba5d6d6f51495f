"""重点评价 and 部门整体绩效评价 (DESIGN §3.5): the one writer of CommissionedEvaluation,
its expert panel and the panel's suggestions.

The chain, for a project (key) or a department and year (department):
commissioned → plan_submitted → plan_approved (or back to commissioned) → fieldwork →
draft_report → dept_commented → expert_review → final (or back to expert_review, the final
report returned for rework) → published.

Every change of status goes through processes.transitions.apply: the transitions are
declared on the model (who may: processes.permissions.commissioned; who is told:
processes.notices.commissioned), and the engine locks the row, checks the actor's
permission (PermissionDenied) and the status (ActionNotAllowed), saves (revision + 1; a
concurrent change is a Conflict) and writes the audit row, under the role the actor acted
in, with the notices. Each function here validates every field at once under that lock
(ValidationError keyed by field: ``framework.<dimension>``, ``scores.<dimension>``,
``suggestions.<n>``, ``report`` …). A refused call changes nothing: files are stored only
once every check has passed. The steps that are not transitions (the commission, a
member's suggestions, a reminder) lock with transitions.lock and audit the same way.

Findings (problem, basis, requirement) are recorded separately through
processes.services.findings.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import DecimalField, F, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Agency, Department, User
from accounts.roles import Role

from .. import numbers, transitions
from ..errors import ActionNotAllowed, Conflict
from ..files import check_upload
from ..models import (
    MONEY,
    AuditEvent,
    BudgetProject,
    CommissionedEvaluation,
    EvaluationPanelMember,
    ExpertSuggestion,
)
from ..notices import commissioned as notices
from ..panel import EXPERT, DrawContext, PanelRuleFailed, PanelRules, draw_panel
from ..permissions import commissioned as perms
from ..permissions.commissioned import can_commission as can_commission  # views and the API ask here
from ..permissions.commissioned import is_agency_of as is_agency_of
from ..permissions.commissioned import is_department_of as is_department_of
from ..scoring import grade_of
from ..states import EvaluationKind, EvaluationStatus, FrameworkDimension, ProjectStage, SuggestionAspect
from .agencies import framework_agency
from .audit import audit_and_notify
from .panel_reminders import remind_members
from .pre_assessment import _pool_json, library_candidates, stored_pool

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
MAX_AMOUNT = Decimal(10) ** (MONEY["max_digits"] - MONEY["decimal_places"])
AMOUNT_BOUNDS = numbers.Bounds(MONEY["max_digits"], MONEY["decimal_places"], min_value=Decimal(0))
MAX_SUGGESTIONS = 20
MAX_SUGGESTION_CHARS = 2000

#: A key evaluation looks back on a project that has spent its budget.
KEY_STAGES = (ProjectStage.EXECUTING, ProjectStage.EVALUATING, ProjectStage.EVALUATED)
#: The projects that make up a department's budget of a year: those with a budget.
BUDGET_STAGES = (
    ProjectStage.BUDGETED,
    ProjectStage.EXECUTING,
    ProjectStage.EVALUATING,
    ProjectStage.EVALUATED,
    ProjectStage.RECTIFYING,
    ProjectStage.CLOSED,
)
DIMENSIONS: tuple[str, ...] = tuple(FrameworkDimension.values)

# -- who (the predicates are processes.permissions.commissioned) ----------------------------


def can_review_plan(user: User) -> bool:
    return perms.can_review_plan(None, user)


def can_disclose(user: User) -> bool:
    return perms.can_disclose(None, user)


def seat_of(evaluation: CommissionedEvaluation, user: User) -> EvaluationPanelMember | None:
    if not user.is_authenticated:
        return None
    return EvaluationPanelMember.objects.filter(evaluation=evaluation, user_id=user.pk).first()


#: The slug (screens and API) of each transition; both outcomes of a plan review share one.
TRANSITION_SLUGS: dict[str, str] = {
    "submit_plan": "plan",
    "approve_plan": "review-plan",
    "return_plan": "review-plan",
    "start_fieldwork": "fieldwork",
    "submit_draft": "draft",
    "comment": "comment",
    "open_review": "draw",
    "finalize": "finalize",
    "return_final": "return-final",
    "publish": "disclose",
}


def available_actions(evaluation: CommissionedEvaluation, user: User) -> list[str]:
    """The action slugs ``user`` may take on ``evaluation`` now (what screens and the API
    offer): the declared transitions ``processes.transitions.available`` allows, plus the
    panel's steps that are not transitions — a seated member's own suggestions, and the
    agency's reminder while someone has not submitted."""
    if not user.is_authenticated:
        return []
    actions: list[str] = []
    for d in transitions.available(evaluation, user):
        slug = TRANSITION_SLUGS[d.name]
        if slug not in actions:
            actions.append(slug)
    if evaluation.status == EvaluationStatus.EXPERT_REVIEW:
        if is_agency_of(evaluation, user) and evaluation.panel.filter(submitted_at__isnull=True).exists():
            actions.insert(actions.index("finalize") if "finalize" in actions else len(actions), "remind")
        member = seat_of(evaluation, user)
        if member is not None and member.submitted_at is None:
            actions.insert(0, "suggestions")
    return actions


# -- steps ----------------------------------------------------------------------------------


def _lock(evaluation: CommissionedEvaluation) -> CommissionedEvaluation:
    """The evaluation under its row lock (after its project's), for the steps that are not
    transitions (the engine locks the same way for those that are)."""
    return cast(CommissionedEvaluation, transitions.lock(evaluation))


def _require(evaluation: CommissionedEvaluation, status: str) -> None:
    """For the panel's steps that are not transitions: the evaluation is at ``status``."""
    if evaluation.status != status:
        raise ActionNotAllowed(
            _("委托评价当前处于「%(status)s」状态，不能执行此操作。") % {"status": evaluation.get_status_display()}
        )


def _require_agency(evaluation: CommissionedEvaluation, actor: User) -> None:
    if not is_agency_of(evaluation, actor):
        raise PermissionDenied(_("只有受托第三方机构的人员可以办理此事项。"))


def _money(value: Any, field: str, errors: dict[str, str]) -> Decimal | None:
    try:
        return numbers.parse_decimal(
            value, AMOUNT_BOUNDS, invalid=_("请输入金额（元）。"), negative=_("金额不能为负数。")
        )
    except ValidationError as exc:
        errors[field] = exc.messages[0]
        return None


def _points(value: Any) -> Decimal | None:
    """A weight or score with at most two decimals; None if it is not such a number."""
    if value is None or isinstance(value, bool | float):
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or number != number.quantize(CENT):
        return None
    return number.quantize(CENT)


def _dimension_label(code: str) -> str:
    return str(FrameworkDimension(code).label)


def default_framework() -> dict[str, str]:
    """The framework's default weights (settings), as stored: {dimension: "20.00"}."""
    weights = settings.JIXIAO["EVALUATION"]["FRAMEWORK"]
    return {code: str(Decimal(weights[code]).quantize(CENT)) for code in DIMENSIONS}


# -- commissioning --------------------------------------------------------------------------


def department_budget(department: Department, fiscal_year: int) -> tuple[Decimal, Decimal]:
    """Σ budget (adjusted, else approved) and Σ executed of the department's budgeted
    projects of ``fiscal_year`` (stages budgeted and later; withdrawn, rejected and
    cancelled projects have no budget)."""
    money = DecimalField(**MONEY)
    totals = BudgetProject.objects.filter(
        department=department, fiscal_year=fiscal_year, stage__in=BUDGET_STAGES
    ).aggregate(
        budget=Coalesce(Sum(Coalesce(F("adjusted_amount"), F("approved_amount"), output_field=money)), Decimal(0)),
        executed=Coalesce(Sum("executed_amount"), Decimal(0), output_field=money),
    )
    return Decimal(totals["budget"]).quantize(CENT), Decimal(totals["executed"]).quantize(CENT)


@transaction.atomic
def evaluation_commission(
    *,
    actor: User,
    kind: str,
    agency: Agency | None,
    due_at: datetime | None,
    project: BudgetProject | None = None,
    department: Department | None = None,
    fiscal_year: int | None = None,
    title: str = "",
) -> CommissionedEvaluation:
    """The finance section commissions ``agency`` (None: the year's framework commission's,
    processes.services.agencies) to evaluate a project (kind key: the
    project must be executing, evaluating or evaluated; one key evaluation per project) or
    a department's year (kind department: one per department and year). Budget and
    executed are prefilled (the project's adjusted or approved amount and executed
    amount; for a department the sums over its budgeted projects of the year), the
    framework from settings. The agency's staff get the commission as a task; the
    department's staff and leaders are told."""
    if not can_commission(actor):
        raise PermissionDenied(_("只有财政绩效科可以委托重点评价或部门整体绩效评价。"))
    errors: dict[str, str] = {}
    title = (title or "").strip()
    if len(title) > 200:
        errors["title"] = _("评价名称不能超过 200 个字。")
    if due_at is None:
        errors["due_at"] = _("请填写完成期限。")
    elif due_at <= timezone.now():
        errors["due_at"] = _("完成期限必须晚于现在。")
    budget = executed = None
    if kind == EvaluationKind.KEY:
        if project is None:
            errors["project"] = _("请选择重点评价的项目。")
        else:
            project = BudgetProject.objects.select_for_update().select_related("department").get(pk=project.pk)
            if project.stage not in KEY_STAGES:
                errors["project"] = _("只有执行中、评价中或已评价的项目可以开展重点评价（当前：%(stage)s）。") % {
                    "stage": project.get_stage_display()
                }
            elif CommissionedEvaluation.objects.filter(project=project).exists():
                errors["project"] = _("该项目已委托过重点评价。")
            else:
                department, fiscal_year = project.department, project.fiscal_year
                budget = project.adjusted_amount if project.adjusted_amount is not None else project.approved_amount
                executed = project.executed_amount
    elif kind == EvaluationKind.DEPARTMENT:
        project = None
        if department is None:
            errors["department"] = _("请选择预算部门。")
        if fiscal_year is None:
            errors["fiscal_year"] = _("请填写评价年度。")
        elif not 2000 <= int(fiscal_year) <= 2100:
            errors["fiscal_year"] = _("年度应在 2000 至 2100 之间。")
        if department is not None and fiscal_year is not None and "fiscal_year" not in errors:
            if CommissionedEvaluation.objects.filter(
                kind=EvaluationKind.DEPARTMENT, department=department, fiscal_year=fiscal_year
            ).exists():
                errors["department"] = _("该部门该年度已委托过部门整体绩效评价。")
            else:
                budget, executed = department_budget(department, int(fiscal_year))
    else:
        errors["kind"] = _("请选择评价类型。")
    if agency is None and fiscal_year is not None and "fiscal_year" not in errors:
        agency = framework_agency(int(fiscal_year))  # the year's 整体委托, when none is named
    if agency is None:
        errors["agency"] = _("请选择第三方机构（该年度尚未整体委托）。")
    elif agency.status != Agency.Status.ACTIVE:
        errors["agency"] = _("该第三方机构已暂停，不能委托。")
    if errors:
        raise ValidationError(errors)
    assert department is not None and fiscal_year is not None and agency is not None and due_at is not None
    if not title:
        # A stored name, so in the bureau's language whatever the commissioner reads in.
        with translation.override(settings.LANGUAGE_CODE):
            if project is not None:
                title = _("%(project)s重点评价") % {"project": project.name}
            else:
                title = _("%(department)s%(year)s年度部门整体绩效评价") % {
                    "department": department.name,
                    "year": fiscal_year,
                }
        title = title[:200]
    try:
        with transaction.atomic():
            evaluation = CommissionedEvaluation.objects.create(
                kind=kind,
                fiscal_year=fiscal_year,
                department=department,
                project=project,
                agency=agency,
                title=title,
                due_at=due_at,
                framework=default_framework(),
                budget=budget,
                executed=executed,
                commissioned_by=actor,
            )
    except IntegrityError as exc:  # a concurrent commission of the same subject won
        field = "project" if kind == EvaluationKind.KEY else "department"
        raise ValidationError({field: _("该评价对象已被委托，不能重复委托。")}) from exc
    # Not a transition: the row is born in its first status, so it is audited here.
    audit_and_notify(
        obj=evaluation,
        action="commission",
        actor=actor,
        role=transitions.acting_role(actor, [Role.FINANCE_OFFICER]),
        from_state="",
        to_state=evaluation.status,
        url=evaluation.get_absolute_url(),
        detail={
            "kind": kind,
            "project": evaluation.project_id,
            "department": evaluation.department_id,
            "fiscal_year": fiscal_year,
            "agency": agency.name,
            "due_at": evaluation.due_at.isoformat(),
            "budget": budget,
            "executed": executed,
        },
        told=notices.commissioned(evaluation),
    )
    return evaluation


# -- the plan -------------------------------------------------------------------------------


def clean_framework(framework: Mapping[str, Any] | None, errors: dict[str, str]) -> dict[str, str]:
    """Weights for exactly the four dimensions (决策 / 过程 / 产出 / 效益), each ≥ 0 with
    at most two decimals, summing to 100; problems go to ``errors`` by field."""
    framework = framework or {}
    clean: dict[str, str] = {}
    unknown = sorted(set(framework) - set(DIMENSIONS))
    if unknown:
        errors["framework"] = _("未知的评价维度：%(codes)s") % {"codes": ", ".join(map(str, unknown))}
    total = Decimal(0)
    complete = True
    for code in DIMENSIONS:
        raw = framework.get(code)
        field = f"framework.{code}"
        if raw in (None, ""):
            errors[field] = _("请填写「%(dim)s」的权重。") % {"dim": _dimension_label(code)}
            complete = False
            continue
        weight = _points(raw)
        if weight is None:
            errors[field] = _("「%(dim)s」的权重必须是数字，最多两位小数。") % {"dim": _dimension_label(code)}
            complete = False
            continue
        if not 0 <= weight <= HUNDRED:
            errors[field] = _("「%(dim)s」的权重应在 0 到 100 之间。") % {"dim": _dimension_label(code)}
            complete = False
            continue
        clean[code] = str(weight)
        total += weight
    if complete and total != HUNDRED and "framework" not in errors:
        errors["framework"] = _("各维度权重合计应为 100（现为 %(total)s）。") % {"total": total}
    return clean


def _checked(evaluation: CommissionedEvaluation, name: str, actor: User) -> CommissionedEvaluation:
    """The evaluation locked, with ``actor`` allowed to take transition ``name`` now (the
    engine's own checks), for a step that reads the locked row before it can say what the
    transition writes; the caller then applies it with ``locked=True``, in its transaction."""
    evaluation = _lock(evaluation)
    transitions.check(evaluation, name, actor=actor)
    return evaluation


@transaction.atomic
def evaluation_submit_plan(
    *, evaluation: CommissionedEvaluation, actor: User, framework: Mapping[str, Any], plan: str
) -> CommissionedEvaluation:
    """The agency submits its evaluation plan and the indicator framework's weights; the
    finance section is asked to review it."""
    evaluation = _checked(evaluation, "submit_plan", actor)
    errors: dict[str, str] = {}
    clean = clean_framework(framework, errors)
    plan = (plan or "").strip()
    if not plan:
        errors["plan"] = _("请填写评价方案。")
    if errors:
        raise ValidationError(errors)
    return transitions.apply(
        evaluation,
        "submit_plan",
        actor=actor,
        arguments={"framework": clean, "plan": plan},
        detail={"framework": clean},
        locked=True,
    )


def evaluation_review_plan(
    *, evaluation: CommissionedEvaluation, actor: User, approve: bool, comment: str = ""
) -> CommissionedEvaluation:
    """The finance section approves the plan, or returns it to the agency with a reason."""
    comment = (comment or "").strip()
    return transitions.apply(
        evaluation,
        "approve_plan" if approve else "return_plan",
        actor=actor,
        comment=comment,
        arguments={"comment": comment},
    )


# -- fieldwork, draft, the department's comments ----------------------------------------------


def evaluation_start_fieldwork(*, evaluation: CommissionedEvaluation, actor: User) -> CommissionedEvaluation:
    """The agency starts the fieldwork of an approved plan; the department is told."""
    return transitions.apply(evaluation, "start_fieldwork", actor=actor)


def _stored_name(file: UploadedFile) -> str:
    return os.path.basename(file.name or "report")[-100:] or "report"


@transaction.atomic
def evaluation_submit_draft(
    *, evaluation: CommissionedEvaluation, actor: User, note: str, draft_report: UploadedFile | None
) -> CommissionedEvaluation:
    """The agency files the fieldwork note and the draft report (PDF, image or Office file,
    checked by content); the department's staff and leaders are asked for comments."""
    evaluation = _checked(evaluation, "submit_draft", actor)
    errors: dict[str, Any] = {}
    note = (note or "").strip()
    if not note:
        errors["note"] = _("请填写现场评价情况。")
    if draft_report is None:
        errors["draft_report"] = _("请上传报告初稿。")
    else:
        try:
            check_upload(draft_report, field="draft_report")
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    assert draft_report is not None
    name = _stored_name(draft_report)
    stored: dict[str, Any] = {}

    def store(evaluation: CommissionedEvaluation) -> None:  # every check has passed
        evaluation.draft_report.save(name, draft_report, save=False)
        stored["draft_report"] = evaluation.draft_report.name

    return transitions.apply(
        evaluation,
        "submit_draft",
        actor=actor,
        comment=note[:2000],
        arguments={"note": note},
        before_save=store,
        detail=stored,  # read after before_save, so with the stored name
        locked=True,
    )


def evaluation_comment(*, evaluation: CommissionedEvaluation, actor: User, comment: str) -> CommissionedEvaluation:
    """The evaluated department (its staff or leader; for a key evaluation, the project's
    department) answers the draft report: its comments, or "无异议", never empty. The
    agency is told to draw the expert panel. A leader is recorded as the leader."""
    comment = (comment or "").strip()

    def validate(evaluation: CommissionedEvaluation) -> None:
        if not comment:
            raise ValidationError({"comment": _("请填写反馈意见；没有意见请填写“无异议”。")})

    return transitions.apply(
        evaluation, "comment", actor=actor, comment=comment, arguments={"comment": comment}, validate=validate
    )


# -- the expert panel -------------------------------------------------------------------------


def draw_category(evaluation: CommissionedEvaluation) -> str:
    """The project category the panel's sector experts must fit: a key evaluation's
    project's; for a department, the category of its largest budgeted project of the year
    (by adjusted, else approved, else requested amount; ties by code), or "" when it has
    none — then no expert counts as a sector expert, and the draw fails with the sector
    rule's message unless the rules ask for none."""
    if evaluation.project_id is not None:
        assert evaluation.project is not None
        return evaluation.project.category
    money = DecimalField(**MONEY)
    largest = (
        BudgetProject.objects.filter(
            department_id=evaluation.department_id, fiscal_year=evaluation.fiscal_year, stage__in=BUDGET_STAGES
        )
        .annotate(size=Coalesce(F("adjusted_amount"), F("approved_amount"), F("requested_amount"), output_field=money))
        .order_by("-size", "code")
        .values_list("category", flat=True)
        .first()
    )
    return largest or ""


def draw_context(evaluation: CommissionedEvaluation, category: str) -> DrawContext:
    return DrawContext(category=category, department_id=evaluation.department_id, agency_id=evaluation.agency_id)


@transaction.atomic
def evaluation_draw_panel(
    *, evaluation: CommissionedEvaluation, actor: User, seed: int | None = None
) -> CommissionedEvaluation:
    """The agency draws the expert review panel as in pre-assessment (settings' size and
    make-up; no one from the department, with a declared conflict, or on the agency's
    staff). The seed, the pool and the category are recorded, so the draw can be
    replayed (``evaluation_replay_draw``). Each member is given the review with the
    evaluation's due date. ValidationError on ``panel`` when the library cannot satisfy a
    rule (nothing is drawn then)."""
    evaluation = _checked(evaluation, "open_review", actor)
    rules = PanelRules.from_settings()
    pool = library_candidates()
    seed = secrets.randbits(63) if seed is None else seed
    category = draw_category(evaluation)
    ctx = draw_context(evaluation, category)
    try:
        panel = draw_panel(pool, ctx, rules, seed)
    except PanelRuleFailed as failure:
        raise ValidationError({"panel": failure.message}) from failure

    def seat(evaluation: CommissionedEvaluation) -> None:  # the members the declared notice tells
        EvaluationPanelMember.objects.bulk_create(
            EvaluationPanelMember(
                evaluation=evaluation,
                user_id=c.user_id,
                kind=c.kind,
                sector_expert=c.kind == EXPERT and category in c.specialties,
                seat=number,
            )
            for number, c in enumerate(panel, start=1)
        )

    return transitions.apply(
        evaluation,
        "open_review",
        actor=actor,
        arguments={"seed": seed, "pool": _pool_json(pool)},
        before_save=seat,
        detail={"seed": seed, "category": category, "panel": [c.user_id for c in panel], "pool_size": len(pool)},
        locked=True,
    )


def evaluation_replay_draw(evaluation: CommissionedEvaluation) -> list[int]:
    """Re-run the recorded draw (recorded seed, pool and category): the user ids it gives,
    in seat order, must be the panel's."""
    event = (
        AuditEvent.objects.filter(
            object_type=CommissionedEvaluation._meta.label_lower, object_id=str(evaluation.pk), action="draw_panel"
        )
        .order_by("sequence")
        .first()
    )
    category = event.detail.get("category", "") if event is not None else draw_category(evaluation)
    pool = stored_pool(evaluation)  # type: ignore[arg-type]  # reads only .candidate_pool
    panel = draw_panel(pool, draw_context(evaluation, category), PanelRules.from_settings(), evaluation.draw_seed or 0)
    return [c.user_id for c in panel]


def _suggestion_item(item: Any) -> tuple[str, str | None]:
    """(text, aspect) of one submitted suggestion: a text, or {"text", "aspect"}; the aspect
    None when it is not one of SuggestionAspect (blank is allowed: not stated)."""
    if isinstance(item, dict):
        aspect = item.get("aspect") or ""
        text = item.get("text")
        return (text if isinstance(text, str) else "").strip(), (
            aspect if aspect in ("", *SuggestionAspect.values) else None
        )
    return (item if isinstance(item, str) else "").strip(), ""


def clean_aspected_suggestions(suggestions: Any, errors: dict[str, str]) -> list[tuple[str, str]]:
    """1–20 suggestions as (text, aspect): each a text or {"text", "aspect"} (aspect 项目实施 /
    财务管理 / 绩效情况, blank when not stated); each text non-empty and at most 2,000
    characters (``suggestions.<n>`` counts from 1)."""
    if isinstance(suggestions, str) or not isinstance(suggestions, list | tuple):
        errors["suggestions"] = _("请逐条填写评审建议。")
        return []
    items = [_suggestion_item(s) for s in suggestions]
    texts = [text for text, _aspect in items]
    for i, (_text, aspect) in enumerate(items, start=1):
        if aspect is None:
            errors[f"suggestions.{i}"] = _("第 %(n)s 条建议的方面应为项目实施、财务管理或绩效情况。") % {"n": i}
    for i, text in enumerate(texts, start=1):
        if not text:
            errors[f"suggestions.{i}"] = _("第 %(n)s 条建议为空。") % {"n": i}
        elif len(text) > MAX_SUGGESTION_CHARS:
            errors[f"suggestions.{i}"] = _("第 %(n)s 条建议超过 %(max)s 个字。") % {
                "n": i,
                "max": MAX_SUGGESTION_CHARS,
            }
    if not texts:
        errors["suggestions"] = _("请至少填写一条评审建议。")
    elif len(texts) > MAX_SUGGESTIONS:
        errors["suggestions"] = _("评审建议最多 %(max)s 条。") % {"max": MAX_SUGGESTIONS}
    return [(text, aspect or "") for text, aspect in items]


@transaction.atomic
def suggestion_submit(
    *, member: EvaluationPanelMember, actor: User, suggestions: list[str] | list[dict]
) -> EvaluationPanelMember:
    """A seated panel member (expert or deputy) submits their suggestions, each recorded as
    its own item (a text, or {"text", "aspect"} naming the aspect it concerns: 项目实施 /
    财务管理 / 绩效情况); once submitted they are final (Conflict). When every member has
    submitted, the agency is told to finalize."""
    evaluation = _lock(member.evaluation)
    member = EvaluationPanelMember.objects.select_for_update().select_related("user").get(pk=member.pk)
    if member.user_id != actor.pk or not actor.is_active:
        raise PermissionDenied(_("只有本评审组成员本人可以提交评审建议。"))
    _require(evaluation, EvaluationStatus.EXPERT_REVIEW)
    if member.submitted_at is not None:
        raise Conflict(_("您已提交评审建议，不能再次提交。"))
    errors: dict[str, str] = {}
    texts = clean_aspected_suggestions(suggestions, errors)
    if errors:
        raise ValidationError(errors)
    ExpertSuggestion.objects.bulk_create(
        ExpertSuggestion(evaluation=evaluation, member=member, position=i, text=text, aspect=aspect)
        for i, (text, aspect) in enumerate(texts, start=1)
    )
    member.submitted_at = timezone.now()
    member.save(update_fields=["submitted_at"])
    told = {}
    if not evaluation.panel.filter(submitted_at__isnull=True).exists():
        told = notices.suggestions_in(evaluation, ExpertSuggestion.objects.filter(evaluation=evaluation).count())
    # Not a transition (the status waits for every member): audited here, under the seat's kind.
    audit_and_notify(
        obj=evaluation,
        action="submit_suggestions",
        actor=actor,
        role=member.kind,
        from_state=evaluation.status,
        to_state=evaluation.status,
        url=evaluation.get_absolute_url(),
        detail={"member": member.user_id, "seat": member.seat, "count": len(texts)},
        told=told,
    )
    return member


@transaction.atomic
def evaluation_remind_panel(
    *, evaluation: CommissionedEvaluation, actor: User, now: datetime | None = None
) -> tuple[list[EvaluationPanelMember], list[EvaluationPanelMember]]:
    """The commissioned agency reminds the panel members who have not submitted their
    suggestions (``submitted_at`` empty) while the panel reviews: one notice each (to the
    evaluation's page, where their form is), one ``remind_panel`` audit event naming who
    was reminded and who was skipped. As for the pre-assessment panel
    (processes.services.panel_reminders): at most once per member in
    ``panel_remind_hours()``; nobody left, or everyone reminded recently, is a Conflict."""
    evaluation = _lock(evaluation)
    _require_agency(evaluation, actor)
    _require(evaluation, EvaluationStatus.EXPERT_REVIEW)
    pending = list(evaluation.panel.filter(submitted_at__isnull=True).select_related("user").order_by("seat"))
    return remind_members(
        obj=evaluation,
        state=evaluation.status,
        pending=pending,
        actor=actor,
        verb=notices.PANEL_REMINDER,
        params={"title": evaluation.title, "due": notices.due(evaluation)},
        url=evaluation.get_absolute_url(),
        nobody_pending=_("评审组成员均已提交评审建议，无需提醒。"),
        now=now,
    )


# -- the result -------------------------------------------------------------------------------


def clean_scores(framework: Mapping[str, Any], scores: Mapping[str, Any] | None, errors: dict[str, str]):
    """A score for each framework dimension, 0 ≤ score ≤ its weight (two decimals at most);
    returns ({dimension: "12.50"}, total) — the total only when every score is good."""
    scores = scores or {}
    clean: dict[str, str] = {}
    unknown = sorted(set(scores) - set(framework))
    if unknown:
        errors["scores"] = _("未知的评价维度：%(codes)s") % {"codes": ", ".join(map(str, unknown))}
    total = Decimal(0)
    for code in DIMENSIONS:
        if code not in framework:
            continue
        weight = Decimal(str(framework[code]))
        field = f"scores.{code}"
        raw = scores.get(code)
        if raw in (None, ""):
            errors[field] = _("请为「%(dim)s」打分。") % {"dim": _dimension_label(code)}
            continue
        score = _points(raw)
        if score is None:
            errors[field] = _("「%(dim)s」的得分必须是数字，最多两位小数。") % {"dim": _dimension_label(code)}
            continue
        if not 0 <= score <= weight:
            errors[field] = _("「%(dim)s」的得分应在 0 到 %(weight)s 分之间。") % {
                "dim": _dimension_label(code),
                "weight": weight,
            }
            continue
        clean[code] = str(score)
        total += score
    return clean, total.quantize(CENT)


@transaction.atomic
def evaluation_finalize(
    *,
    evaluation: CommissionedEvaluation,
    actor: User,
    scores: Mapping[str, Any],
    conclusion: str,
    report: UploadedFile | None,
    budget: Any = None,
    executed: Any = None,
) -> CommissionedEvaluation:
    """The agency records the result once every panel member has submitted: a score per
    framework dimension (total = their sum, grade by processes.scoring.grade_of), the
    conclusion and the final report file; a department evaluation may correct its budget
    and executed amounts. The finance section is asked to approve disclosure; the
    department is told the result."""
    evaluation = _checked(evaluation, "finalize", actor)
    waiting = evaluation.panel.filter(submitted_at__isnull=True).count()
    if waiting:
        raise ActionNotAllowed(_("还有 %(n)s 名评审组成员未提交评审建议。") % {"n": waiting})
    errors: dict[str, Any] = {}
    clean, total = clean_scores(evaluation.framework, scores, errors)
    conclusion = (conclusion or "").strip()
    if not conclusion:
        errors["conclusion"] = _("请填写评价结论。")
    new_budget = new_executed = None
    if evaluation.kind == EvaluationKind.DEPARTMENT:
        new_budget = _money(budget, "budget", errors)
        new_executed = _money(executed, "executed", errors)
    else:
        for name, value in (("budget", budget), ("executed", executed)):
            if value not in (None, ""):
                errors[name] = _("重点评价的预算数和执行数取自项目，不能修改。")
    if report is None:
        errors["report"] = _("请上传评价报告。")
    else:
        try:
            check_upload(report, field="report")
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    assert report is not None
    grade = grade_of(total)
    name = _stored_name(report)
    stored: dict[str, Any] = {}

    def record(evaluation: CommissionedEvaluation) -> None:  # every check has passed
        if new_budget is not None:
            evaluation.budget = new_budget
        if new_executed is not None:
            evaluation.executed = new_executed
        evaluation.finalized_at = timezone.now()
        evaluation.report.save(name, report, save=False)
        stored.update(
            scores=clean,
            score=total,
            grade=grade,
            budget=evaluation.budget,
            executed=evaluation.executed,
            report=evaluation.report.name,
        )

    return transitions.apply(
        evaluation,
        "finalize",
        actor=actor,
        comment=conclusion[:2000],
        arguments={"scores": clean, "score": total, "grade": grade, "conclusion": conclusion},
        before_save=record,
        detail=stored,  # read after before_save
        locked=True,
    )


def evaluation_return_final(*, evaluation: CommissionedEvaluation, actor: User, comment: str) -> CommissionedEvaluation:
    """The finance section returns a final report to the agency for rework, with a reason:
    the evaluation goes back to expert_review (the panel's suggestions stand), the agency
    is told and finalizes it again (new scores, conclusion and report file). Until then it
    is not final: nothing reads it as a result, nothing is disclosed."""
    comment = (comment or "").strip()
    return transitions.apply(
        evaluation,
        "return_final",
        actor=actor,
        comment=comment,
        arguments={"comment": comment},
        detail={"score": str(evaluation.score) if evaluation.score is not None else None},
    )


def evaluation_approve_disclosure(*, evaluation: CommissionedEvaluation, actor: User) -> CommissionedEvaluation:
    """A finance officer approves disclosure: the final evaluation is published (its
    report downloadable on the public page). The department and the agency are told."""
    stamp: dict[str, Any] = {}

    def publish(evaluation: CommissionedEvaluation) -> None:
        evaluation.disclosure_approved_by = actor
        evaluation.published_at = timezone.now()
        stamp["published_at"] = evaluation.published_at.isoformat()

    return transitions.apply(evaluation, "publish", actor=actor, before_save=publish, detail=stamp)
