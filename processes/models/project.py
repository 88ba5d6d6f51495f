"""Budget projects (预算项目) and their stage machine (DESIGN §3.1)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextvars import ContextVar
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict, cast

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from accounts.models import ProjectCategory  # the one definition, shared with the expert library

from .. import permissions as perms
from ..fiscal_years import validate_fiscal_year
from ..notices.project import stage_changed
from ..states import (
    CANCELLABLE,
    WITHDRAWABLE,
    Conclusion,
    ExecutionHold,
    PreAssessmentStatus,
    ProjectStage,
    TargetSetStatus,
)
from ..transitions import declare, system
from .fields import BoundedDecimalField
from .history import history_link

if TYPE_CHECKING:
    from django_fsm import Transition
    from django_stubs_ext import StrOrPromise

    from accounts.models import User


class MoneyOptions(TypedDict):
    max_digits: int
    decimal_places: int


MONEY: MoneyOptions = {"max_digits": 16, "decimal_places": 2}


class Recurrence(models.TextChoices):
    RECURRING = "recurring", _("经常性项目")
    ONE_OFF = "one_off", _("一次性项目")


def action(label: StrOrPromise, *, roles: list[str], needs_reason: bool = False, style: str = "primary") -> dict:
    """A person's stage transition: taken by one of ``roles``, and the department is told."""
    return declare(label, roles=roles, tells=stage_changed, needs_reason=needs_reason, style=style)


def cascade(label: StrOrPromise) -> dict:
    """A stage transition a sub-process causes (the pre-assessment confirmed, the targets
    approved, an evaluation finished): recorded under that step's actor; the department is told."""
    return system(label, tells=stage_changed)


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
#: Set by a bulk close-out (processes.services.closeout.blockers_read_per_chunk): the
#: blockers of a project by its key, read for its whole chunk at once, or None to read them here.
CLOSE_BLOCKERS_READER: ContextVar[Callable[[int], str | None] | None] = ContextVar(
    "close_blockers_reader", default=None
)


def close_blockers_message(open_rectifications: int, unissued_findings: int) -> str:
    """The reason a project cannot be closed yet, or "" (see BudgetProject.close_blockers)."""
    reasons = []
    if open_rectifications:
        reasons.append(gettext("有 %(n)s 份整改尚未验收销号") % {"n": open_rectifications})
    if unissued_findings:
        reasons.append(gettext("有 %(n)s 个评价发现问题尚未下达整改") % {"n": unissued_findings})
    return gettext("不能关账：%(reasons)s。") % {"reasons": "；".join(reasons)} if reasons else ""


class BudgetProject(ConcurrentTransitionMixin, models.Model):  # type: ignore[django-manager-missing]
    """预算项目. Amounts are yuan; the stage is moved only by processes.services."""

    # no index of its own: the (department, fiscal_year, stage) index serves it as its prefix
    department = models.ForeignKey(
        "accounts.Department",
        verbose_name=_("预算部门"),
        on_delete=models.PROTECT,
        related_name="projects",
        db_index=False,
    )
    fiscal_year = models.PositiveSmallIntegerField(_("预算年度"), validators=[validate_fiscal_year])
    code = models.CharField(_("项目编码"), max_length=40)
    name = models.CharField(_("项目名称"), max_length=200)
    category = models.CharField(_("项目类别"), max_length=32, choices=ProjectCategory.choices)
    recurrence = models.CharField(_("项目性质"), max_length=16, choices=Recurrence.choices)
    requested_amount = BoundedDecimalField(_("送审金额"), **MONEY, validators=[MinValueValidator(Decimal("0.01"))])
    approved_amount = BoundedDecimalField(_("审定金额"), **MONEY, null=True, blank=True)
    adjusted_amount = BoundedDecimalField(_("调整后预算"), **MONEY, null=True, blank=True)
    executed_amount = BoundedDecimalField(_("执行数"), **MONEY, default=Decimal("0.00"))
    overall_goal = models.TextField(_("总体目标"), blank=True)
    execution_hold = models.CharField(
        _("执行状态"), max_length=20, choices=ExecutionHold.choices, blank=True, default=ExecutionHold.NONE
    )
    stage = FSMField(
        _("阶段"),
        max_length=24,
        choices=ProjectStage.choices,
        default=ProjectStage.DRAFT,
        protected=True,
    )
    version = models.PositiveIntegerField(_("版本"), default=1)
    #: Set on a project brought in from a past year's workbook (imported history).
    history = history_link(related_name="projects")
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
        indexes = [
            models.Index(fields=["department", "fiscal_year", "stage"]),
            # a plain index only: db_index=True made a second, varchar_pattern_ops one on
            # PostgreSQL that no query uses (no LIKE on the stage), and the campaign's stage
            # UPDATE wrote an entry in it per project (issue 20)
            models.Index(fields=["stage"], name="project_stage"),
            # the project list's order (the finance section's first page reads 50 rows of
            # it, not a sort of every project: issue 20)
            models.Index(fields=["-fiscal_year", "department", "code"], name="project_list_order"),
        ]
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

    #: What processes.transitions.lock reads with the row.
    lock_related = ("department", "created_by")
    #: The counter processes.transitions bumps on every transition (others use ``revision``).
    version_counter = "version"

    def get_absolute_url(self) -> str:
        return reverse("workflows:project_detail", args=[self.pk])

    def audit_detail(self) -> dict:
        """What every audit row of a project's transition carries (processes.transitions)."""
        return {"requested_amount": self.requested_amount, "version": self.version}

    def state_refusal(self, action: StrOrPromise) -> str:
        return gettext("项目当前处于「%(stage)s」阶段，不能执行「%(action)s」。") % {
            "stage": self.get_stage_display(),
            "action": action,
        }

    def refusal_route_to_target_review(self) -> str:
        return gettext("送审金额 %(amount)s 元达到事前绩效评估门槛 %(threshold)s 元，必须先进行事前绩效评估。") % {
            "amount": self.requested_amount,
            "threshold": self.pre_assessment_threshold,
        }

    # -- rules the transitions depend on ---------------------------------------------

    @property
    def pre_assessment_threshold(self) -> Decimal:
        return settings.JIXIAO["PRE_ASSESSMENT_THRESHOLD"][self.recurrence]

    def requires_pre_assessment(self) -> bool:
        """At or above the threshold, pre-assessment is required (DESIGN §3.1)."""
        return self.requested_amount >= self.pre_assessment_threshold

    def below_threshold(self) -> bool:
        return not self.requires_pre_assessment()

    def has_approved_targets(self) -> bool:
        """An approved version of the targets is in force (绩效目标审核通过)."""
        return self.target_sets.filter(status=TargetSetStatus.APPROVED).exists()

    def has_confirmed_pre_assessment(self) -> bool:
        """A pre-assessment was confirmed with support (予以支持 / 部分予以支持)."""
        return (
            self.pre_assessments.filter(status=PreAssessmentStatus.CONFIRMED)
            .exclude(conclusion=Conclusion.REJECT)
            .exists()
        )

    def close_blockers(self) -> str:
        """Why the project cannot be closed at the year's close-out (年度关账): a rectification
        still open, or findings not yet issued for rectification; "" when nothing is left.
        A bulk close-out reads them for a whole chunk of projects in one query
        (``CLOSE_BLOCKERS_READER``, processes.services.closeout)."""
        reader = CLOSE_BLOCKERS_READER.get()
        known = reader(self.pk) if reader is not None else None
        if known is not None:
            return known
        from ..states import RECTIFICATION_OPEN

        open_rectifications = self.rectifications.filter(status__in=RECTIFICATION_OPEN).count()
        unissued = self.findings.filter(rectification_item__isnull=True).count()
        return close_blockers_message(open_rectifications, unissued)

    def nothing_left_open(self) -> bool:
        return not self.close_blockers()

    def refusal_close_out(self) -> str:
        return self.close_blockers()

    def pre_assessment_settled(self) -> bool:
        """No pre-assessment is required, or one was confirmed with support."""
        return not self.requires_pre_assessment() or self.has_confirmed_pre_assessment()

    if TYPE_CHECKING:
        # Added to the class by FSMField when it is prepared (django-fsm-2).
        def get_available_user_stage_transitions(self, user: User) -> Iterator[Transition]: ...

    # -- transitions: fields only, no I/O (STYLE) ---------------------------------------

    @transition(
        field=stage,
        source=ProjectStage.DRAFT,
        target=ProjectStage.SUBMITTED,
        permission=fsm_permission(perms.can_submit),
        custom=action(_("提交"), roles=["dept_staff"]),
    )
    def submit(self) -> None:
        pass

    @transition(
        field=stage,
        source=ProjectStage.SUBMITTED,
        target=ProjectStage.DEPT_APPROVED,
        permission=fsm_permission(perms.can_review),
        custom=action(_("审核通过"), roles=["dept_leader"]),
    )
    def approve(self) -> None:
        pass

    @transition(
        field=stage,
        source=ProjectStage.SUBMITTED,
        target=ProjectStage.DRAFT,
        permission=fsm_permission(perms.can_review),
        custom=action(_("退回修改"), roles=["dept_leader"], needs_reason=True, style="warning"),
    )
    def send_back(self) -> None:
        pass

    @transition(
        field=stage,
        source=ProjectStage.DEPT_APPROVED,
        target=ProjectStage.PRE_ASSESSMENT,
        permission=fsm_permission(perms.can_intake),
        custom=action(_("转事前绩效评估"), roles=["finance_officer"]),
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
        custom=action(_("转绩效目标审核"), roles=["finance_officer"]),
    )
    def route_to_target_review(self) -> None:
        pass

    @transition(
        field=stage,
        source=WITHDRAWABLE,
        target=ProjectStage.WITHDRAWN,
        permission=fsm_permission(perms.can_withdraw),
        custom=action(_("撤回"), roles=["dept_staff", "dept_leader"], needs_reason=True, style="warning"),
    )
    def withdraw(self) -> None:
        pass

    @transition(
        field=stage,
        source=CANCELLABLE,
        target=ProjectStage.CANCELLED,
        permission=fsm_permission(perms.can_cancel),
        custom=action(_("取消项目"), roles=["finance_officer"], needs_reason=True, style="danger"),
    )
    def cancel(self) -> None:
        pass

    # Driven by the sub-process services of later issues (never a person's button).

    # The budget gate (DESIGN §3.1, §3.3): a project is budgeted only with approved targets
    # and, where required, a confirmed pre-assessment — whichever comes last moves it.

    @transition(
        field=stage,
        source=ProjectStage.PRE_ASSESSMENT,
        target=ProjectStage.BUDGETED,
        permission=fsm_permission(perms.system_only),
        conditions=[
            cast("Callable[[models.Model], bool]", has_confirmed_pre_assessment),
            cast("Callable[[models.Model], bool]", has_approved_targets),
        ],
        custom=cascade(_("事前绩效评估确认，纳入预算")),
    )
    def confirm_pre_assessment(self, approved_amount: Decimal) -> None:
        self.approved_amount = approved_amount

    @transition(
        field=stage,
        source=ProjectStage.PRE_ASSESSMENT,
        target=ProjectStage.TARGET_REVIEW,
        permission=fsm_permission(perms.system_only),
        conditions=[cast("Callable[[models.Model], bool]", has_confirmed_pre_assessment)],
        custom=cascade(_("事前绩效评估确认，待目标审核")),
    )
    def await_targets(self, approved_amount: Decimal) -> None:
        """The pre-assessment is confirmed; the targets are not approved yet."""
        self.approved_amount = approved_amount

    @transition(
        field=stage,
        source=ProjectStage.TARGET_REVIEW,
        target=ProjectStage.BUDGETED,
        permission=fsm_permission(perms.system_only),
        conditions=[
            cast("Callable[[models.Model], bool]", has_approved_targets),
            cast("Callable[[models.Model], bool]", pre_assessment_settled),
        ],
        custom=cascade(_("绩效目标审核通过，纳入预算")),
    )
    def approve_targets(self, approved_amount: Decimal | None = None) -> None:
        """The targets are approved: budgeted with the pre-assessment's amount if there was
        one, else with ``approved_amount`` (the results-application decision's cap) or the
        amount requested."""
        if self.approved_amount is None:
            self.approved_amount = approved_amount if approved_amount is not None else self.requested_amount

    @transition(
        field=stage,
        source=[ProjectStage.PRE_ASSESSMENT, ProjectStage.TARGET_REVIEW],
        target=ProjectStage.REJECTED,
        permission=fsm_permission(perms.system_only),
        custom=cascade(_("不予安排")),
    )
    def reject(self) -> None:
        pass

    # A major policy (processes.models.policy, decision 0027) is pre-assessed through a
    # carrier project: it enters pre-assessment when the policy is registered, and is
    # adopted with the approved amount when its pre-assessment is confirmed (no targets).

    def is_policy_carrier(self) -> bool:
        return _has_policy(self)

    @transition(
        field=stage,
        source=ProjectStage.DRAFT,
        target=ProjectStage.PRE_ASSESSMENT,
        permission=fsm_permission(perms.system_only),
        conditions=[cast("Callable[[models.Model], bool]", is_policy_carrier)],
        custom=cascade(_("重大政策登记，进入事前绩效评估")),
    )
    def register_policy(self) -> None:
        pass

    @transition(
        field=stage,
        source=ProjectStage.PRE_ASSESSMENT,
        target=ProjectStage.BUDGETED,
        permission=fsm_permission(perms.system_only),
        conditions=[
            cast("Callable[[models.Model], bool]", is_policy_carrier),
            cast("Callable[[models.Model], bool]", has_confirmed_pre_assessment),
        ],
        custom=cascade(_("重大政策评估确认，按审定金额安排")),
    )
    def adopt_policy(self, approved_amount: Decimal) -> None:
        self.approved_amount = approved_amount

    @transition(
        field=stage,
        source=ProjectStage.BUDGETED,
        target=ProjectStage.EXECUTING,
        permission=fsm_permission(perms.can_intake),
        custom=action(_("下达预算，开始执行"), roles=["finance_officer"]),
    )
    def start_execution(self) -> None:
        pass

    @transition(
        field=stage,
        source=ProjectStage.EXECUTING,
        target=ProjectStage.EVALUATING,
        permission=fsm_permission(perms.system_only),
        custom=cascade(_("开始绩效评价")),
    )
    def start_evaluation(self) -> None:
        pass

    @transition(
        field=stage,
        source=ProjectStage.EVALUATING,
        target=ProjectStage.EVALUATED,
        permission=fsm_permission(perms.system_only),
        custom=cascade(_("绩效评价完成")),
    )
    def complete_evaluation(self) -> None:
        pass

    @transition(
        field=stage,
        source=ProjectStage.EVALUATED,
        target=ProjectStage.RECTIFYING,
        permission=fsm_permission(perms.system_only),
        custom=cascade(_("下达整改")),
    )
    def open_rectification(self) -> None:
        pass

    @transition(
        field=stage,
        source=[ProjectStage.EVALUATED, ProjectStage.RECTIFYING],
        target=ProjectStage.CLOSED,
        permission=fsm_permission(perms.system_only),
        custom=cascade(_("项目关闭")),
    )
    def close(self) -> None:
        pass

    @transition(
        field=stage,
        source=[ProjectStage.EVALUATED, ProjectStage.RECTIFYING],
        target=ProjectStage.CLOSED,
        permission=fsm_permission(perms.can_close_out),
        conditions=[cast("Callable[[models.Model], bool]", nothing_left_open)],
        custom=action(_("年度关账"), roles=["finance_officer"]),
    )
    def close_out(self) -> None:
        """年度关账: the finance section closes an evaluated project with nothing left open
        (no finding, or every finding issued and every rectification verified). The
        cascade ``close`` still closes a project when its last rectification is verified."""


def _has_policy(project: BudgetProject) -> bool:
    """The project carries a major policy (its reverse one-to-one row exists)."""
    try:
        project.policy  # noqa: B018 - the reverse accessor's query is the check
    except ObjectDoesNotExist:
        return False
    return True
