"""Domain models: budget projects, their pre-assessment (panel, opinions), and the audit trail."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict, cast

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from . import permissions as perms
from .states import CANCELLABLE, WITHDRAWABLE, Conclusion, OpinionStatus, PreAssessmentStatus, ProjectStage

if TYPE_CHECKING:
    from django_fsm import Transition
    from django_stubs_ext import StrOrPromise

    from accounts.models import User


class MoneyOptions(TypedDict):
    max_digits: int
    decimal_places: int


MONEY: MoneyOptions = {"max_digits": 16, "decimal_places": 2}


class ProjectCategory(models.TextChoices):
    INFRASTRUCTURE = "infrastructure", _("基建工程")
    CIVIL_AFFAIRS = "civil_affairs", _("民政")
    POVERTY = "poverty", _("产业扶贫")
    URBAN = "urban", _("城市管理")
    EDUCATION = "education", _("教育")
    HEALTH = "health", _("医疗卫生")
    SOCIAL_SECURITY = "social_security", _("人力社保")
    OTHER = "other", _("其他")


class Recurrence(models.TextChoices):
    RECURRING = "recurring", _("经常性项目")
    ONE_OFF = "one_off", _("一次性项目")


def action(label: StrOrPromise, *, role: str, needs_reason: bool = False, style: str = "primary") -> dict:
    """The `custom` of a transition a person may take from a screen or the API."""
    return {"action": True, "label": label, "role": role, "needs_reason": needs_reason, "style": style}


SYSTEM = {"action": False}


def fsm_permission(check: Callable[[BudgetProject, User], bool]) -> Callable[[models.Model, Any], bool]:
    """``check`` itself, typed as django-fsm-2's ``transition(permission=...)`` wants it.

    The stub asks for a function of any model and any kind of user; django-fsm calls ours
    only with a BudgetProject and the User handed to ``has_transition_perm`` or
    ``get_available_user_stage_transitions``, so the cast widens the static type only.
    """
    return cast("Callable[[models.Model, Any], bool]", check)


# The ignore: workflows.ProjectProcess (related_name="workflow_processes") takes its manager from
# viewflow, which ships no type information, so django-stubs cannot build that reverse manager's
# type; `project.workflow_processes` is typed as a plain RelatedManager instead.
class BudgetProject(ConcurrentTransitionMixin, models.Model):  # type: ignore[django-manager-missing]
    """预算项目. Amounts are yuan; the stage is moved only by processes.services."""

    department = models.ForeignKey(
        "accounts.Department", verbose_name=_("预算部门"), on_delete=models.PROTECT, related_name="projects"
    )
    fiscal_year = models.PositiveSmallIntegerField(_("预算年度"))
    code = models.CharField(_("项目编码"), max_length=40)
    name = models.CharField(_("项目名称"), max_length=200)
    category = models.CharField(_("项目类别"), max_length=32, choices=ProjectCategory.choices)
    recurrence = models.CharField(_("项目性质"), max_length=16, choices=Recurrence.choices)
    requested_amount = models.DecimalField(_("送审金额"), **MONEY, validators=[MinValueValidator(Decimal("0.01"))])
    approved_amount = models.DecimalField(_("审定金额"), **MONEY, null=True, blank=True)
    adjusted_amount = models.DecimalField(_("调整后预算"), **MONEY, null=True, blank=True)
    executed_amount = models.DecimalField(_("执行数"), **MONEY, default=Decimal("0.00"))
    overall_goal = models.TextField(_("总体目标"), blank=True)
    stage = FSMField(
        _("阶段"),
        max_length=24,
        choices=ProjectStage.choices,
        default=ProjectStage.DRAFT,
        protected=True,
        db_index=True,
    )
    version = models.PositiveIntegerField(_("版本"), default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("经办人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("预算项目")
        verbose_name_plural = pgettext_lazy("plural", "预算项目")
        ordering = ["-fiscal_year", "department_id", "code"]
        constraints = [
            models.UniqueConstraint(fields=["fiscal_year", "code"], name="project_code_unique_per_year"),
            models.CheckConstraint(condition=models.Q(requested_amount__gt=0), name="project_requested_positive"),
        ]
        indexes = [models.Index(fields=["department", "fiscal_year", "stage"])]
        permissions = [
            ("submit_project", _("提交项目")),
            ("review_project", _("部门审核项目")),
            ("intake_project", _("财政受理项目")),
            ("withdraw_project", _("撤回项目")),
            ("cancel_project", _("取消项目")),
            ("view_all_projects", _("查看全部部门项目")),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    # -- rules the transitions depend on ---------------------------------------------

    @property
    def pre_assessment_threshold(self) -> Decimal:
        return settings.JIXIAO["PRE_ASSESSMENT_THRESHOLD"][self.recurrence]

    def requires_pre_assessment(self) -> bool:
        """At or above the threshold, pre-assessment is required (DESIGN §3.1)."""
        return self.requested_amount >= self.pre_assessment_threshold

    def below_threshold(self) -> bool:
        return not self.requires_pre_assessment()

    if TYPE_CHECKING:
        # Added to the class by FSMField when it is prepared (django-fsm-2).
        def get_available_user_stage_transitions(self, user: User) -> Iterator[Transition]: ...

    # -- transitions: fields only, no I/O (STYLE) ---------------------------------------

    @transition(
        field=stage,
        source=ProjectStage.DRAFT,
        target=ProjectStage.SUBMITTED,
        permission=fsm_permission(perms.can_submit),
        custom=action(_("提交"), role="dept_staff"),
    )
    def submit(self) -> None:
        pass

    @transition(
        field=stage,
        source=ProjectStage.SUBMITTED,
        target=ProjectStage.DEPT_APPROVED,
        permission=fsm_permission(perms.can_review),
        custom=action(_("审核通过"), role="dept_leader"),
    )
    def approve(self) -> None:
        pass

    @transition(
        field=stage,
        source=ProjectStage.SUBMITTED,
        target=ProjectStage.DRAFT,
        permission=fsm_permission(perms.can_review),
        custom=action(_("退回修改"), role="dept_leader", needs_reason=True, style="warning"),
    )
    def send_back(self) -> None:
        pass

    @transition(
        field=stage,
        source=ProjectStage.DEPT_APPROVED,
        target=ProjectStage.PRE_ASSESSMENT,
        permission=fsm_permission(perms.can_intake),
        custom=action(_("转事前绩效评估"), role="finance_officer"),
    )
    def route_to_pre_assessment(self) -> None:
        pass

    @transition(
        field=stage,
        source=ProjectStage.DEPT_APPROVED,
        target=ProjectStage.TARGET_REVIEW,
        permission=fsm_permission(perms.can_intake),
        # The stub wants a condition of any model; fsm calls it with this project only.
        conditions=[cast("Callable[[models.Model], bool]", below_threshold)],
        custom=action(_("转绩效目标审核"), role="finance_officer"),
    )
    def route_to_target_review(self) -> None:
        pass

    @transition(
        field=stage,
        source=WITHDRAWABLE,
        target=ProjectStage.WITHDRAWN,
        permission=fsm_permission(perms.can_withdraw),
        custom=action(_("撤回"), role="dept_staff", needs_reason=True, style="warning"),
    )
    def withdraw(self) -> None:
        pass

    @transition(
        field=stage,
        source=CANCELLABLE,
        target=ProjectStage.CANCELLED,
        permission=fsm_permission(perms.can_cancel),
        custom=action(_("取消项目"), role="finance_officer", needs_reason=True, style="danger"),
    )
    def cancel(self) -> None:
        pass

    # Driven by the sub-process services of later issues (never a person's button).

    @transition(
        field=stage,
        source=ProjectStage.PRE_ASSESSMENT,
        target=ProjectStage.BUDGETED,
        permission=fsm_permission(perms.system_only),
        custom=SYSTEM,
    )
    def confirm_pre_assessment(self, approved_amount: Decimal) -> None:
        self.approved_amount = approved_amount

    @transition(
        field=stage,
        source=ProjectStage.TARGET_REVIEW,
        target=ProjectStage.BUDGETED,
        permission=fsm_permission(perms.system_only),
        custom=SYSTEM,
    )
    def approve_targets(self, approved_amount: Decimal) -> None:
        self.approved_amount = approved_amount

    @transition(
        field=stage,
        source=[ProjectStage.PRE_ASSESSMENT, ProjectStage.TARGET_REVIEW],
        target=ProjectStage.REJECTED,
        permission=fsm_permission(perms.system_only),
        custom=SYSTEM,
    )
    def reject(self) -> None:
        pass

    @transition(
        field=stage,
        source=ProjectStage.BUDGETED,
        target=ProjectStage.EXECUTING,
        permission=fsm_permission(perms.system_only),
        custom=SYSTEM,
    )
    def start_execution(self) -> None:
        pass

    @transition(
        field=stage,
        source=ProjectStage.EXECUTING,
        target=ProjectStage.EVALUATING,
        permission=fsm_permission(perms.system_only),
        custom=SYSTEM,
    )
    def start_evaluation(self) -> None:
        pass

    @transition(
        field=stage,
        source=ProjectStage.EVALUATING,
        target=ProjectStage.EVALUATED,
        permission=fsm_permission(perms.system_only),
        custom=SYSTEM,
    )
    def complete_evaluation(self) -> None:
        pass

    @transition(
        field=stage,
        source=ProjectStage.EVALUATED,
        target=ProjectStage.RECTIFYING,
        permission=fsm_permission(perms.system_only),
        custom=SYSTEM,
    )
    def open_rectification(self) -> None:
        pass

    @transition(
        field=stage,
        source=[ProjectStage.EVALUATED, ProjectStage.RECTIFYING],
        target=ProjectStage.CLOSED,
        permission=fsm_permission(perms.system_only),
        custom=SYSTEM,
    )
    def close(self) -> None:
        pass


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("Audit events cannot be updated.")

    def delete(self):
        raise PermissionError("Audit events cannot be deleted.")


class AuditEvent(models.Model):
    """One row of the hash-chained audit trail (审计日志). Append-only.

    ``hash`` = SHA-256 over the row's canonical content and ``prev_hash``; see
    processes.services.audit for how rows are written and verified.
    """

    sequence = models.PositiveBigIntegerField(_("序号"), unique=True)
    occurred_at = models.DateTimeField(_("时间 (UTC)"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_username = models.CharField(_("操作人账号"), max_length=150, blank=True)
    actor_role = models.CharField(_("角色"), max_length=32, blank=True)
    ip = models.GenericIPAddressField(_("IP"), null=True, blank=True)
    object_type = models.CharField(_("对象类型"), max_length=64)
    object_id = models.CharField(_("对象"), max_length=64)
    object_repr = models.CharField(_("对象名称"), max_length=255, blank=True)
    action = models.CharField(_("操作"), max_length=64)
    from_state = models.CharField(_("原状态"), max_length=32, blank=True)
    to_state = models.CharField(_("新状态"), max_length=32, blank=True)
    comment = models.TextField(_("意见"), blank=True)
    detail = models.JSONField(_("详情"), default=dict, blank=True)
    prev_hash = models.CharField(_("前一行哈希"), max_length=64)
    hash = models.CharField(_("哈希"), max_length=64)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("审计日志")
        verbose_name_plural = pgettext_lazy("plural", "审计日志")
        ordering = ["sequence"]
        indexes = [models.Index(fields=["object_type", "object_id", "sequence"])]
        permissions = [("verify_audit", _("校验审计日志"))]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.object_type}:{self.object_id} {self.action}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("Audit events cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit events cannot be deleted.")


class AuditChainHead(models.Model):
    """The single row every audit write locks: the last sequence and hash of the chain."""

    last_sequence = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    class Meta:
        verbose_name = _("审计链头")

    def __str__(self) -> str:
        return f"#{self.last_sequence} {self.last_hash[:12]}"


class PreAssessment(ConcurrentTransitionMixin, models.Model):
    """事前绩效评估 of one project by a commissioned third-party agency (DESIGN §3.2).

    The panel draw's seed and candidate pool are stored, so the draw can be replayed.
    Moved only by processes.services.pre_assessment.
    """

    project = models.ForeignKey(
        BudgetProject, verbose_name=_("预算项目"), on_delete=models.PROTECT, related_name="pre_assessments"
    )
    agency = models.ForeignKey(
        "accounts.Agency", verbose_name=_("第三方机构"), on_delete=models.PROTECT, related_name="pre_assessments"
    )
    due_at = models.DateTimeField(_("意见截止时间"))
    initiated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发起人"), on_delete=models.PROTECT, related_name="+"
    )
    status = FSMField(
        _("状态"),
        max_length=24,
        choices=PreAssessmentStatus.choices,
        default=PreAssessmentStatus.INITIATED,
        protected=True,
    )
    draw_seed = models.BigIntegerField(_("抽取种子"), null=True, blank=True)
    candidate_pool = models.JSONField(_("候选人池"), default=list, blank=True)
    conclusion = models.CharField(_("评估结论"), max_length=16, choices=Conclusion.choices, blank=True)
    approved_amount = models.DecimalField(_("审定金额"), **MONEY, null=True, blank=True)
    conclusion_reasons = models.TextField(_("结论理由"), blank=True)
    report = models.FileField(_("评估报告"), upload_to="pre_assessment/%Y/", blank=True)
    version = models.PositiveIntegerField(_("版本"), default=1)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("事前绩效评估")
        verbose_name_plural = pgettext_lazy("plural", "事前绩效评估")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["project"],
                condition=~models.Q(status__in=["confirmed", "cancelled"]),
                name="one_open_pre_assessment_per_project",
            ),
        ]
        permissions = [
            ("start_pre_assessment", _("发起事前绩效评估")),
            ("organise_review", _("组织评审（第三方机构）")),
            ("confirm_pre_assessment", _("确认评估结论")),
        ]

    def __str__(self) -> str:
        return f"{self.project} · {self.get_status_display()}"

    @property
    def requested_amount(self) -> Decimal:
        return self.project.requested_amount

    @property
    def reduction(self) -> Decimal | None:
        """核减金额 = requested − approved."""
        if self.approved_amount is None:
            return None
        return self.requested_amount - self.approved_amount

    @property
    def reduction_rate(self) -> Decimal | None:
        """核减率 = reduction ÷ requested, exact (round only when shown)."""
        reduction = self.reduction
        return None if reduction is None else reduction / self.requested_amount

    # -- transitions: fields only ------------------------------------------------------

    @transition(field=status, source=PreAssessmentStatus.INITIATED, target=PreAssessmentStatus.PANEL_FORMED)
    def form_panel(self, *, seed: int, pool: list) -> None:
        self.draw_seed = seed
        self.candidate_pool = pool

    @transition(field=status, source=PreAssessmentStatus.PANEL_FORMED, target=PreAssessmentStatus.UNDER_REVIEW)
    def open_review(self) -> None:
        pass

    @transition(field=status, source=PreAssessmentStatus.UNDER_REVIEW, target=PreAssessmentStatus.OPINIONS_COLLECTED)
    def collect(self) -> None:
        pass

    @transition(field=status, source=PreAssessmentStatus.OPINIONS_COLLECTED, target=PreAssessmentStatus.CONCLUDED)
    def conclude(self, *, conclusion: str, approved_amount: Decimal, reasons: str) -> None:
        self.conclusion = conclusion
        self.approved_amount = approved_amount
        self.conclusion_reasons = reasons

    @transition(field=status, source=PreAssessmentStatus.CONCLUDED, target=PreAssessmentStatus.CONFIRMED)
    def confirm(self) -> None:
        pass

    @transition(field=status, source=PreAssessmentStatus.CONCLUDED, target=PreAssessmentStatus.OPINIONS_COLLECTED)
    def send_back(self) -> None:
        pass

    @transition(
        field=status,
        source=[
            s for s in PreAssessmentStatus if s not in (PreAssessmentStatus.CONFIRMED, PreAssessmentStatus.CANCELLED)
        ],
        target=PreAssessmentStatus.CANCELLED,
    )
    def cancel(self) -> None:
        pass


class PanelMember(models.Model):
    """A seat on a pre-assessment's review panel (评审组成员): an expert or a deputy."""

    class Kind(models.TextChoices):
        EXPERT = "expert", _("专家")
        DEPUTY = "deputy", _("人大代表")

    pre_assessment = models.ForeignKey(PreAssessment, on_delete=models.CASCADE, related_name="panel")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("成员"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("身份"), max_length=8, choices=Kind.choices)
    sector_expert = models.BooleanField(_("专业对口"), default=False)
    seat = models.PositiveSmallIntegerField(_("席位"))
    active = models.BooleanField(_("在任"), default=True)
    replaced_reason = models.TextField(_("替换理由"), blank=True)
    replaced_at = models.DateTimeField(_("替换时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("评审组成员")
        verbose_name_plural = pgettext_lazy("plural", "评审组成员")
        ordering = ["pre_assessment_id", "seat", "-active"]
        constraints = [
            models.UniqueConstraint(fields=["pre_assessment", "user"], name="panel_member_once"),
            models.UniqueConstraint(
                fields=["pre_assessment", "seat"], condition=models.Q(active=True), name="one_active_member_per_seat"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_kind_display()})"


class Opinion(models.Model):
    """专家意见: one per panel member, editable until submitted; expired if not in at the due date."""

    member = models.OneToOneField(PanelMember, on_delete=models.CASCADE, related_name="opinion")
    status = models.CharField(_("状态"), max_length=12, choices=OpinionStatus.choices, default=OpinionStatus.DRAFT)
    scores = models.JSONField(_("评分"), default=dict, blank=True)
    recommendation = models.CharField(_("评审建议"), max_length=16, choices=Conclusion.choices, blank=True)
    recommended_amount = models.DecimalField(_("建议审定金额"), **MONEY, null=True, blank=True)
    text = models.TextField(_("评审意见"), blank=True)
    conflict_declared = models.BooleanField(_("存在利益冲突"), default=False)
    conflict_note = models.TextField(_("利益冲突说明"), blank=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("专家意见")
        verbose_name_plural = pgettext_lazy("plural", "专家意见")

    def __str__(self) -> str:
        return f"{self.member} · {self.get_status_display()}"

    @property
    def total_score(self) -> Decimal:
        return sum((Decimal(v) for v in self.scores.values()), Decimal("0"))


class ReductionItem(models.Model):
    """核减事项 of an opinion: what, requested, approved, why."""

    opinion = models.ForeignKey(Opinion, on_delete=models.CASCADE, related_name="reduction_items")
    item = models.CharField(_("事项"), max_length=200)
    requested = models.DecimalField(_("送审金额"), **MONEY)
    approved = models.DecimalField(_("审定金额"), **MONEY)
    reason = models.TextField(_("核减理由"), blank=True)

    class Meta:
        verbose_name = _("核减事项")
        verbose_name_plural = pgettext_lazy("plural", "核减事项")
        ordering = ["opinion_id", "id"]

    def __str__(self) -> str:
        return self.item
