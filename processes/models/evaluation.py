"""绩效评价 (DESIGN §3.5): the year's self-evaluation campaign, score sheets, sampled
re-checks, commissioned key and department-overall evaluations, expert suggestions and
findings."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from accounts.roles import Role

from ..files import private_storage
from ..fiscal_years import validate_fiscal_year
from ..notices import commissioned as commissioned_notices
from ..notices import evaluation as ev_notices
from ..permissions import commissioned as commissioned_perms
from ..permissions import evaluation as ev_perms
from ..states import (
    SELF_EVALUATION_OPEN,
    CampaignStatus,
    Direction,
    EvaluationKind,
    EvaluationStatus,
    Grade,
    QualitativeProgress,
    RecheckStatus,
    SampleMethod,
    ScoreSection,
    SelfEvaluationStatus,
    SuggestionAspect,
)
from ..transitions import declare, system
from .fields import BoundedDecimalField
from .history import history_link
from .project import MONEY, BudgetProject, MoneyOptions
from .targets import TargetRow

if TYPE_CHECKING:
    from accounts.models import User

SCORE: MoneyOptions = {"max_digits": 5, "decimal_places": 2}  # points, 0–100.00


def finding_categories() -> list[tuple[str, str]]:
    """The categories of a finding, (code, translated label), from settings
    JIXIAO["FINDING_CATEGORIES"], in their order."""
    return [(c["code"], gettext(c["label"])) for c in settings.JIXIAO["FINDING_CATEGORIES"]]


def finding_category_label(code: str) -> str:
    """The label of a category code; a code no longer in the settings shows as itself."""
    return dict(finding_categories()).get(code, code)


def completion_rate(executed: Decimal | None, budget: Decimal | None) -> Decimal | None:
    """完成率 = executed ÷ budget, exact (round only when shown); None without a budget."""
    if executed is None or not budget:
        return None
    return executed / budget


class EvaluationCampaign(models.Model):
    """自评工作 of one fiscal year: every project that executed in the year evaluates itself."""

    fiscal_year = models.PositiveSmallIntegerField(_("年度"), unique=True, validators=[validate_fiscal_year])
    title = models.CharField(_("名称"), max_length=100)
    due_at = models.DateTimeField(_("自评截止时间"))
    status = models.CharField(_("状态"), max_length=12, choices=CampaignStatus.choices, default=CampaignStatus.OPEN)
    #: Set on rows brought in from a past year's workbook (imported history).
    history = history_link()
    launched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发起人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("绩效自评工作")
        verbose_name_plural = pgettext_lazy("plural", "绩效自评工作")
        ordering = ["-fiscal_year"]
        permissions = [
            ("launch_evaluation", _("发起绩效评价、抽取复核、委托重点评价")),
            ("fill_self_evaluation", _("填报绩效自评")),
            ("review_self_evaluation_dept", _("部门审核绩效自评")),
            ("accept_self_evaluation", _("财政确认绩效自评")),
            ("conduct_evaluation", _("开展复核与重点评价（第三方机构）")),
            ("approve_disclosure", _("批准评价报告公开")),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("workflows:evaluation_campaign", args=[self.pk])


class ScoreSheet(models.Model):
    """绩效自评表: one scoring of one project — by the department (self-evaluation) or by an
    agency (re-check) — on the same sheet: budget execution, outputs, outcomes and
    satisfaction. The scores are computed by processes.scoring and stored on every save."""

    project = models.ForeignKey(
        BudgetProject, verbose_name=_("预算项目"), on_delete=models.PROTECT, related_name="score_sheets"
    )
    budget = BoundedDecimalField(_("调整后预算"), **MONEY, null=True, blank=True)
    executed = BoundedDecimalField(_("执行数"), **MONEY, null=True, blank=True)
    #: The year's paid total from the imported payments when a department's sheet was last
    #: saved (None: no payments imported); a different ``executed`` needs ``executed_reason``.
    executed_imported = BoundedDecimalField(_("支付数据执行数"), **MONEY, null=True, blank=True)
    executed_reason = models.TextField(_("执行数差异说明"), blank=True)
    execution_rate = BoundedDecimalField(_("预算执行率"), max_digits=12, decimal_places=2, null=True, blank=True)
    execution_score = BoundedDecimalField(_("预算执行得分"), **SCORE, default=Decimal("0"))
    output_score = BoundedDecimalField(_("产出得分"), **SCORE, default=Decimal("0"))
    outcome_score = BoundedDecimalField(_("效益得分"), **SCORE, default=Decimal("0"))
    satisfaction_score = BoundedDecimalField(_("满意度得分"), **SCORE, default=Decimal("0"))
    total = BoundedDecimalField(_("总分"), **SCORE, null=True, blank=True)
    grade = models.CharField(_("等次"), max_length=12, choices=Grade.choices, blank=True)
    #: The section weights the sheet was scored with (settings at the time).
    weights = models.JSONField(_("权重"), default=dict, blank=True)
    summary = models.TextField(_("总体评价说明"), blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("绩效评分表")
        verbose_name_plural = pgettext_lazy("plural", "绩效评分表")

    def __str__(self) -> str:
        return f"{self.project} · {self.total if self.total is not None else '—'}"


class ScoreLine(models.Model):
    """One indicator of a score sheet: the approved target (copied when first saved) and
    what the scorer entered — actual value, or for a qualitative indicator the band and
    the percentage chosen within it — with the deviation reason and measure."""

    # no index of its own: one_line_per_target_row starts with it
    sheet = models.ForeignKey(ScoreSheet, on_delete=models.CASCADE, related_name="lines", db_index=False)
    target_row = models.ForeignKey(TargetRow, verbose_name=_("绩效指标"), on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(_("序号"))
    section = models.CharField(_("评分部分"), max_length=16, choices=ScoreSection.choices)
    name = models.CharField(_("三级指标"), max_length=200)
    direction = models.CharField(_("指标性质"), max_length=16, choices=Direction.choices)
    target_value = BoundedDecimalField(_("指标值"), max_digits=18, decimal_places=4, null=True, blank=True)
    target_text = models.CharField(_("定性指标值"), max_length=200, blank=True)
    unit = models.CharField(_("计量单位"), max_length=32, blank=True)
    weight = BoundedDecimalField(_("权重"), max_digits=5, decimal_places=2)
    points = BoundedDecimalField(_("分值"), max_digits=7, decimal_places=4, default=Decimal("0"))
    actual_value = BoundedDecimalField(_("实际完成值"), max_digits=18, decimal_places=4, null=True, blank=True)
    band = models.CharField(_("完成情况"), max_length=16, choices=QualitativeProgress.choices, blank=True)
    band_pct = BoundedDecimalField(_("得分比例（%）"), max_digits=5, decimal_places=2, null=True, blank=True)
    score = BoundedDecimalField(_("得分"), **SCORE, null=True, blank=True)
    deviation_reason = models.TextField(_("偏差原因"), blank=True)
    measure = models.TextField(_("改进措施"), blank=True)

    class Meta:
        verbose_name = _("评分指标")
        verbose_name_plural = pgettext_lazy("plural", "评分指标")
        ordering = ["sheet_id", "position"]
        constraints = [models.UniqueConstraint(fields=["sheet", "target_row"], name="one_line_per_target_row")]

    def __str__(self) -> str:
        return self.name


class SelfEvaluation(ConcurrentTransitionMixin, models.Model):
    """绩效自评 of one project (one per project: a project belongs to one year and one
    campaign). issued → submitted (dept_staff) → dept_approved (dept_leader) → accepted
    (finance_officer), or returned to issued with a reason."""

    campaign = models.ForeignKey(
        EvaluationCampaign, verbose_name=_("绩效自评工作"), on_delete=models.PROTECT, related_name="self_evaluations"
    )
    project = models.OneToOneField(
        BudgetProject, verbose_name=_("预算项目"), on_delete=models.PROTECT, related_name="self_evaluation"
    )
    sheet = models.OneToOneField(
        ScoreSheet, verbose_name=_("自评表"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = FSMField(
        _("状态"),
        max_length=16,
        choices=SelfEvaluationStatus.choices,
        default=SelfEvaluationStatus.ISSUED,
        protected=True,
    )
    score = BoundedDecimalField(_("自评得分"), **SCORE, null=True, blank=True)
    grade = models.CharField(_("自评等次"), max_length=12, choices=Grade.choices, blank=True, db_index=True)
    leader_comment = models.TextField(_("部门审核意见"), blank=True)
    review_comment = models.TextField(_("财政审核意见"), blank=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确认人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    accepted_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    revision = models.PositiveIntegerField(_("修订号"), default=1)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("绩效自评")
        verbose_name_plural = pgettext_lazy("plural", "绩效自评")
        ordering = ["campaign_id", "project__department_id", "project__code"]
        indexes = [models.Index(fields=["campaign", "status", "grade"], name="self_eval_overview")]

    def __str__(self) -> str:
        return f"{self.campaign.fiscal_year} · {self.project}"

    def get_absolute_url(self) -> str:
        return reverse("workflows:self_evaluation", args=[self.pk])

    @property
    def editable(self) -> bool:
        return self.status == SelfEvaluationStatus.ISSUED

    @property
    def is_open(self) -> bool:
        return self.status in SELF_EVALUATION_OPEN

    #: What the engine's lock reads with the row (processes.transitions.lock).
    lock_related = ("campaign", "project__department", "sheet")

    def audit_detail(self) -> dict:
        """What every audit row of a self-evaluation's step carries."""
        return {"project": self.project_id, "score": self.score}

    @transition(
        field=status,
        source=SelfEvaluationStatus.ISSUED,
        target=SelfEvaluationStatus.SUBMITTED,
        permission=ev_perms.fsm(ev_perms.can_fill),
        custom=declare(
            _("提交绩效自评"),
            roles=[Role.DEPT_STAFF],
            tells=ev_notices.leaders_review,
            audit="self_evaluation_submit",
        ),
    )
    def submit(self) -> None:
        pass

    @transition(
        field=status,
        source=SelfEvaluationStatus.SUBMITTED,
        target=SelfEvaluationStatus.DEPT_APPROVED,
        permission=ev_perms.fsm(ev_perms.can_dept_review),
        custom=declare(
            _("审核通过"),
            roles=[Role.DEPT_LEADER],
            tells=ev_notices.finance_accepts,
            audit="self_evaluation_dept_approve",
        ),
    )
    def dept_approve(self, *, comment: str) -> None:
        self.leader_comment = comment

    @transition(
        field=status,
        source=SelfEvaluationStatus.SUBMITTED,
        target=SelfEvaluationStatus.ISSUED,
        permission=ev_perms.fsm(ev_perms.can_dept_review),
        custom=declare(
            _("退回经办人"),
            roles=[Role.DEPT_LEADER],
            tells=ev_notices.department_returned,
            needs_reason=True,
            style="danger",
            audit="self_evaluation_dept_return",
        ),
    )
    def dept_return(self, *, comment: str) -> None:
        self.leader_comment = comment

    @transition(
        field=status,
        source=SelfEvaluationStatus.DEPT_APPROVED,
        target=SelfEvaluationStatus.ACCEPTED,
        permission=ev_perms.fsm(ev_perms.can_accept_evaluation),
        custom=declare(
            _("确认绩效自评"),
            roles=[Role.FINANCE_OFFICER],
            tells=ev_notices.department_accepted,
            audit="self_evaluation_accept",
        ),
    )
    def accept(self, *, comment: str) -> None:
        self.review_comment = comment

    @transition(
        field=status,
        source=SelfEvaluationStatus.DEPT_APPROVED,
        target=SelfEvaluationStatus.ISSUED,
        permission=ev_perms.fsm(ev_perms.can_accept_evaluation),
        custom=declare(
            _("退回部门"),
            roles=[Role.FINANCE_OFFICER],
            tells=ev_notices.department_returned,
            needs_reason=True,
            style="danger",
            audit="self_evaluation_return",
        ),
    )
    def send_back(self, *, comment: str) -> None:
        self.review_comment = comment

    @transition(
        field=status,
        source=SELF_EVALUATION_OPEN,
        target=SelfEvaluationStatus.CANCELLED,
        permission=ev_perms.fsm(ev_perms.nobody),
        custom=system(
            _("随项目撤销关闭"),
            silent=_("项目撤销时部门已收到项目阶段变更通知，待办人已收到任务取消通知"),
            audit="self_evaluation_cancel",
        ),
    )
    def cancel(self) -> None:
        pass


class RecheckSample(models.Model):
    """复核抽样: the self-evaluations the finance section chose (by hand, or at random with
    a recorded seed and filters) and the agency commissioned to rescore them."""

    campaign = models.ForeignKey(
        EvaluationCampaign, verbose_name=_("绩效自评工作"), on_delete=models.PROTECT, related_name="samples"
    )
    agency = models.ForeignKey(
        "accounts.Agency", verbose_name=_("第三方机构"), on_delete=models.PROTECT, related_name="recheck_samples"
    )
    method = models.CharField(_("抽取方式"), max_length=8, choices=SampleMethod.choices)
    seed = models.BigIntegerField(_("随机种子"), null=True, blank=True)
    #: The filters of a random draw ({"department": [...], "grade": [...], "size": n}) and
    #: the ids of the pool it drew from, so the draw can be replayed.
    filters = models.JSONField(_("抽取条件"), default=dict, blank=True)
    pool = models.JSONField(_("候选范围"), default=list, blank=True)
    due_at = models.DateTimeField(_("复核截止时间"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发起人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("复核抽样")
        verbose_name_plural = pgettext_lazy("plural", "复核抽样")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.campaign.fiscal_year} · {self.agency} · {self.get_method_display()}"

    def get_absolute_url(self) -> str:
        return reverse("workflows:evaluation_rechecks", args=[self.campaign_id])


class Recheck(ConcurrentTransitionMixin, models.Model):
    """复核 of one self-evaluation by the commissioned agency: assigned → rescored (the
    agency's own sheet) → fed_back (the department comments, or declines to) → final.
    The self-score and the final score are both kept."""

    sample = models.ForeignKey(
        RecheckSample, verbose_name=_("复核抽样"), on_delete=models.PROTECT, related_name="rechecks"
    )
    self_evaluation = models.OneToOneField(
        SelfEvaluation, verbose_name=_("绩效自评"), on_delete=models.PROTECT, related_name="recheck"
    )
    project = models.ForeignKey(BudgetProject, verbose_name=_("预算项目"), on_delete=models.PROTECT, related_name="+")
    sheet = models.OneToOneField(
        ScoreSheet, verbose_name=_("复核评分表"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = FSMField(
        _("状态"), max_length=12, choices=RecheckStatus.choices, default=RecheckStatus.ASSIGNED, protected=True
    )
    self_score = BoundedDecimalField(_("自评得分"), **SCORE, null=True, blank=True)
    self_grade = models.CharField(_("自评等次"), max_length=12, choices=Grade.choices, blank=True)
    final_score = BoundedDecimalField(_("复核得分"), **SCORE, null=True, blank=True)
    final_grade = models.CharField(_("复核等次"), max_length=12, choices=Grade.choices, blank=True)
    agency_opinion = models.TextField(_("复核意见"), blank=True)
    department_comment = models.TextField(_("部门反馈意见"), blank=True)
    #: 复核报告: uploaded by the agency when it finishes the re-check; private (served to those
    #: who may see the re-check, and to the public once the year's disclosure is approved).
    report = models.FileField(_("复核报告"), storage=private_storage, upload_to="evaluations/rechecks/", blank=True)
    rescored_at = models.DateTimeField(_("复核时间"), null=True, blank=True)
    finalized_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    revision = models.PositiveIntegerField(_("修订号"), default=1)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("复核")
        verbose_name_plural = pgettext_lazy("plural", "复核")
        ordering = ["sample_id", "project__department_id", "project__code"]

    def __str__(self) -> str:
        return f"{self.project} · {self.get_status_display()}"

    def get_absolute_url(self) -> str:
        return reverse("workflows:recheck", args=[self.pk])

    @property
    def difference(self) -> Decimal | None:
        """复核得分 − 自评得分."""
        if self.final_score is None or self.self_score is None:
            return None
        return self.final_score - self.self_score

    #: What the engine's lock reads with the row (processes.transitions.lock).
    lock_related = ("sample__agency", "sample__campaign", "project__department", "sheet")

    def audit_detail(self) -> dict:
        """What every audit row of a re-check's step carries."""
        return {"project": self.project_id, "score": None}

    @transition(
        field=status,
        source=RecheckStatus.ASSIGNED,
        target=RecheckStatus.RESCORED,
        permission=ev_perms.fsm(ev_perms.can_rescore),
        custom=declare(
            _("提交复核结果"),
            roles=[Role.AGENCY_STAFF],
            tells=ev_notices.department_feedback_asked,
            audit="recheck_rescore",
        ),
    )
    def rescore(self, *, opinion: str) -> None:
        self.agency_opinion = opinion

    @transition(
        field=status,
        source=RecheckStatus.RESCORED,
        target=RecheckStatus.FED_BACK,
        permission=ev_perms.fsm(ev_perms.can_feed_back),
        custom=declare(
            _("反馈复核意见"),
            roles=[Role.DEPT_STAFF, Role.DEPT_LEADER],
            tells=ev_notices.agency_finalizes,
            audit="recheck_feedback",
        ),
    )
    def feed_back(self, *, comment: str) -> None:
        self.department_comment = comment

    @transition(
        field=status,
        source=RecheckStatus.FED_BACK,
        target=RecheckStatus.FINAL,
        permission=ev_perms.fsm(ev_perms.can_rescore),
        custom=declare(
            _("完成复核"),
            roles=[Role.AGENCY_STAFF],
            tells=ev_notices.recheck_final,
            audit="recheck_finalize",
        ),
    )
    def finalize(self, *, score: Decimal, grade: str) -> None:
        self.final_score = score
        self.final_grade = grade


def _evaluation_permission(
    check: Callable[[CommissionedEvaluation, User], bool],
) -> Callable[[models.Model, Any], bool]:
    """``check`` typed as django-fsm-2's ``permission=`` wants it (it is only ever called
    with a CommissionedEvaluation and a User: the cast widens the static type only)."""
    return cast("Callable[[models.Model, Any], bool]", check)


class CommissionedEvaluation(ConcurrentTransitionMixin, models.Model):
    """重点评价 of a project, or 部门整体绩效评价 of a department and year, commissioned to an
    agency: commissioned → plan_submitted → plan_approved (indicator framework 决策 / 过程 /
    产出 / 效益 and weights) → fieldwork → draft_report → dept_commented → expert_review
    (a panel drawn as in pre-assessment; every suggestion its own item) → final (score,
    grade, findings, report file) → published (after a finance_officer approves disclosure)."""

    kind = models.CharField(_("评价类型"), max_length=12, choices=EvaluationKind.choices)
    fiscal_year = models.PositiveSmallIntegerField(_("年度"), validators=[validate_fiscal_year])
    department = models.ForeignKey(
        "accounts.Department", verbose_name=_("预算部门"), on_delete=models.PROTECT, related_name="evaluations"
    )
    project = models.ForeignKey(
        BudgetProject,
        verbose_name=_("预算项目"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="commissioned_evaluations",
    )
    agency = models.ForeignKey(
        "accounts.Agency", verbose_name=_("第三方机构"), on_delete=models.PROTECT, related_name="evaluations"
    )
    title = models.CharField(_("评价名称"), max_length=200)
    due_at = models.DateTimeField(_("完成期限"))
    status = FSMField(
        _("状态"),
        max_length=16,
        choices=EvaluationStatus.choices,
        default=EvaluationStatus.COMMISSIONED,
        protected=True,
    )
    #: {dimension: weight} of 决策 / 过程 / 产出 / 效益, summing to 100.
    framework = models.JSONField(_("评价指标体系"), default=dict, blank=True)
    plan = models.TextField(_("评价方案"), blank=True)
    plan_comment = models.TextField(_("方案审核意见"), blank=True)
    fieldwork_note = models.TextField(_("现场评价情况"), blank=True)
    draft_report = models.FileField(_("报告初稿"), storage=private_storage, upload_to="evaluations/drafts/", blank=True)
    department_comment = models.TextField(_("部门反馈意见"), blank=True)
    draw_seed = models.BigIntegerField(_("抽取种子"), null=True, blank=True)
    candidate_pool = models.JSONField(_("候选人池"), default=list, blank=True)
    #: {dimension: score}, each at most its weight.
    scores = models.JSONField(_("分项得分"), default=dict, blank=True)
    score = BoundedDecimalField(_("评价得分"), **SCORE, null=True, blank=True)
    grade = models.CharField(_("评价等次"), max_length=12, choices=Grade.choices, blank=True)
    budget = BoundedDecimalField(_("预算数"), **MONEY, null=True, blank=True)
    executed = BoundedDecimalField(_("执行数"), **MONEY, null=True, blank=True)
    conclusion = models.TextField(_("评价结论"), blank=True)
    report = models.FileField(_("评价报告"), storage=private_storage, upload_to="evaluations/reports/", blank=True)
    final_return_comment = models.TextField(_("最终报告退回理由"), blank=True)
    disclosure_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("批准公开人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    published_at = models.DateTimeField(_("公开时间"), null=True, blank=True)
    #: Set on rows brought in from a past year's workbook (imported history).
    history = history_link()
    commissioned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("委托人"), on_delete=models.PROTECT, related_name="+"
    )
    finalized_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    revision = models.PositiveIntegerField(_("修订号"), default=1)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    #: What the transition engine's lock reads with the row (processes.transitions.lock).
    lock_related = ("department", "project", "agency")

    class Meta:
        verbose_name = _("委托评价")
        verbose_name_plural = pgettext_lazy("plural", "委托评价")
        ordering = ["-fiscal_year", "kind", "department_id", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="key", project__isnull=False) | models.Q(kind="department", project__isnull=True)
                ),
                name="evaluation_kind_matches_subject",
            ),
            models.UniqueConstraint(fields=["project"], name="one_key_evaluation_per_project"),
            models.UniqueConstraint(
                fields=["department", "fiscal_year"],
                condition=models.Q(kind="department"),
                name="one_department_evaluation_per_year",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("workflows:commissioned_detail", args=[self.pk])

    @property
    def completion_rate(self) -> Decimal | None:
        return completion_rate(self.executed, self.budget)

    # -- transitions: fields only; who may, who is told: the declarations -------------------

    @transition(
        field=status,
        source=EvaluationStatus.COMMISSIONED,
        target=EvaluationStatus.PLAN_SUBMITTED,
        permission=_evaluation_permission(commissioned_perms.is_agency_of),
        custom=declare(
            _("提交评价方案"), roles=[Role.AGENCY_STAFF], tells=commissioned_notices.plan_submitted, audit="submit_plan"
        ),
    )
    def submit_plan(self, *, framework: dict, plan: str) -> None:
        self.framework = framework
        self.plan = plan

    @transition(
        field=status,
        source=EvaluationStatus.PLAN_SUBMITTED,
        target=EvaluationStatus.PLAN_APPROVED,
        permission=_evaluation_permission(commissioned_perms.can_review_plan),
        custom=declare(
            _("批准评价方案"),
            roles=[Role.FINANCE_OFFICER],
            tells=commissioned_notices.plan_approved,
            audit="approve_plan",
        ),
    )
    def approve_plan(self, *, comment: str) -> None:
        self.plan_comment = comment

    @transition(
        field=status,
        source=EvaluationStatus.PLAN_SUBMITTED,
        target=EvaluationStatus.COMMISSIONED,
        permission=_evaluation_permission(commissioned_perms.can_review_plan),
        custom=declare(
            _("退回评价方案"),
            roles=[Role.FINANCE_OFFICER],
            tells=commissioned_notices.plan_returned,
            needs_reason=True,
            style="warning",
            audit="return_plan",
        ),
    )
    def return_plan(self, *, comment: str) -> None:
        self.plan_comment = comment

    @transition(
        field=status,
        source=EvaluationStatus.PLAN_APPROVED,
        target=EvaluationStatus.FIELDWORK,
        permission=_evaluation_permission(commissioned_perms.is_agency_of),
        custom=declare(
            _("开始现场评价"),
            roles=[Role.AGENCY_STAFF],
            tells=commissioned_notices.fieldwork_started,
            audit="start_fieldwork",
        ),
    )
    def start_fieldwork(self) -> None:
        pass

    @transition(
        field=status,
        source=EvaluationStatus.FIELDWORK,
        target=EvaluationStatus.DRAFT_REPORT,
        permission=_evaluation_permission(commissioned_perms.is_agency_of),
        custom=declare(
            _("提交报告初稿"),
            roles=[Role.AGENCY_STAFF],
            tells=commissioned_notices.draft_submitted,
            audit="submit_draft",
        ),
    )
    def submit_draft(self, *, note: str) -> None:
        self.fieldwork_note = note

    @transition(
        field=status,
        source=EvaluationStatus.DRAFT_REPORT,
        target=EvaluationStatus.DEPT_COMMENTED,
        permission=_evaluation_permission(commissioned_perms.is_department_of),
        # a leader who also holds the staff role answers as the leader
        custom=declare(
            _("反馈意见"),
            roles=[Role.DEPT_LEADER, Role.DEPT_STAFF],
            tells=commissioned_notices.department_commented,
            audit="comment",
        ),
    )
    def comment(self, *, comment: str) -> None:
        self.department_comment = comment

    @transition(
        field=status,
        source=EvaluationStatus.DEPT_COMMENTED,
        target=EvaluationStatus.EXPERT_REVIEW,
        permission=_evaluation_permission(commissioned_perms.is_agency_of),
        custom=declare(
            _("抽取专家评审组"), roles=[Role.AGENCY_STAFF], tells=commissioned_notices.panel_drawn, audit="draw_panel"
        ),
    )
    def open_review(self, *, seed: int, pool: list) -> None:
        self.draw_seed = seed
        self.candidate_pool = pool

    @transition(
        field=status,
        source=EvaluationStatus.EXPERT_REVIEW,
        target=EvaluationStatus.FINAL,
        permission=_evaluation_permission(commissioned_perms.is_agency_of),
        custom=declare(
            _("形成评价结果"), roles=[Role.AGENCY_STAFF], tells=commissioned_notices.finalized, audit="finalize"
        ),
    )
    def finalize(self, *, scores: dict, score: Decimal, grade: str, conclusion: str) -> None:
        self.scores = scores
        self.score = score
        self.grade = grade
        self.conclusion = conclusion

    @transition(
        field=status,
        source=EvaluationStatus.FINAL,
        target=EvaluationStatus.EXPERT_REVIEW,
        permission=_evaluation_permission(commissioned_perms.can_review_plan),
        custom=declare(
            _("退回最终报告"),
            roles=[Role.FINANCE_OFFICER],
            tells=commissioned_notices.final_returned,
            needs_reason=True,
            style="warning",
            audit="return_final",
        ),
    )
    def return_final(self, *, comment: str) -> None:
        """The finance section sends the final report back to the agency for rework: the
        result stands as it was until the agency finalizes again (it is no longer final)."""
        self.final_return_comment = comment
        self.finalized_at = None

    @transition(
        field=status,
        source=EvaluationStatus.FINAL,
        target=EvaluationStatus.PUBLISHED,
        permission=_evaluation_permission(commissioned_perms.can_disclose),
        custom=declare(
            _("批准公开"), roles=[Role.FINANCE_OFFICER], tells=commissioned_notices.published, audit="publish"
        ),
    )
    def publish(self) -> None:
        pass


class EvaluationPanelMember(models.Model):
    """A seat on a commissioned evaluation's expert review panel: an expert or a deputy."""

    evaluation = models.ForeignKey(CommissionedEvaluation, on_delete=models.CASCADE, related_name="panel")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("成员"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("身份"), max_length=8, choices=[("expert", _("专家")), ("deputy", _("人大代表"))])
    sector_expert = models.BooleanField(_("专业对口"), default=False)
    seat = models.PositiveSmallIntegerField(_("席位"))
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("评价评审组成员")
        verbose_name_plural = pgettext_lazy("plural", "评价评审组成员")
        ordering = ["evaluation_id", "seat"]
        constraints = [
            models.UniqueConstraint(fields=["evaluation", "user"], name="evaluation_member_once"),
            models.UniqueConstraint(fields=["evaluation", "seat"], name="evaluation_seat_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_kind_display()})"


class ExpertSuggestion(models.Model):
    """专家建议: one suggestion, recorded as its own item, on a commissioned evaluation (by a
    panel member) or on a re-check. Imported history keeps suggestions without a member."""

    evaluation = models.ForeignKey(
        CommissionedEvaluation, null=True, blank=True, on_delete=models.CASCADE, related_name="suggestions"
    )
    recheck = models.ForeignKey(Recheck, null=True, blank=True, on_delete=models.CASCADE, related_name="suggestions")
    member = models.ForeignKey(
        EvaluationPanelMember, null=True, blank=True, on_delete=models.CASCADE, related_name="suggestions"
    )
    position = models.PositiveSmallIntegerField(_("序号"))
    text = models.TextField(_("建议"))
    #: 项目实施 / 财务管理 / 绩效情况 (blank: not stated, e.g. imported history).
    aspect = models.CharField(_("建议方面"), max_length=16, choices=SuggestionAspect.choices, blank=True)
    created_at = models.DateTimeField(_("提出时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("专家建议")
        verbose_name_plural = pgettext_lazy("plural", "专家建议")
        ordering = ["evaluation_id", "recheck_id", "member__seat", "position"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(evaluation__isnull=False, recheck__isnull=True)
                    | models.Q(evaluation__isnull=True, recheck__isnull=False, member__isnull=True)
                ),
                name="suggestion_has_one_subject",
            ),
        ]

    def __str__(self) -> str:
        return self.text[:60]


class Finding(models.Model):
    """发现的问题: problem, basis, requirement — of a self-evaluation, a re-check, a
    commissioned evaluation or a monitoring report; issued as a rectification (DESIGN §3.6)."""

    department = models.ForeignKey(
        "accounts.Department", verbose_name=_("预算部门"), on_delete=models.PROTECT, related_name="findings"
    )
    project = models.ForeignKey(
        BudgetProject,
        verbose_name=_("预算项目"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="findings",
    )
    self_evaluation = models.ForeignKey(
        SelfEvaluation, null=True, blank=True, on_delete=models.CASCADE, related_name="findings"
    )
    recheck = models.ForeignKey(Recheck, null=True, blank=True, on_delete=models.CASCADE, related_name="findings")
    evaluation = models.ForeignKey(
        CommissionedEvaluation, null=True, blank=True, on_delete=models.CASCADE, related_name="findings"
    )
    monitoring_report = models.ForeignKey(
        "processes.MonitoringReport", null=True, blank=True, on_delete=models.CASCADE, related_name="findings"
    )
    problem = models.TextField(_("存在问题"))
    #: A code of settings JIXIAO["FINDING_CATEGORIES"] (目标设置, 资金管理, …); blank for
    #: findings recorded before categories were asked for.
    category = models.CharField(_("问题类别"), max_length=32, blank=True, db_index=True)
    basis = models.TextField(_("依据"), blank=True)
    requirement = models.TextField(_("整改要求"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("记录人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("评价发现问题")
        verbose_name_plural = pgettext_lazy("plural", "评价发现问题")
        ordering = ["department_id", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(
                        self_evaluation__isnull=False,
                        recheck__isnull=True,
                        evaluation__isnull=True,
                        monitoring_report__isnull=True,
                    )
                    | models.Q(
                        self_evaluation__isnull=True,
                        recheck__isnull=False,
                        evaluation__isnull=True,
                        monitoring_report__isnull=True,
                    )
                    | models.Q(
                        self_evaluation__isnull=True,
                        recheck__isnull=True,
                        evaluation__isnull=False,
                        monitoring_report__isnull=True,
                    )
                    | models.Q(
                        self_evaluation__isnull=True,
                        recheck__isnull=True,
                        evaluation__isnull=True,
                        monitoring_report__isnull=False,
                    )
                ),
                name="finding_has_one_source",
            ),
        ]

    def __str__(self) -> str:
        return self.problem[:60]

    def get_absolute_url(self) -> str:
        return self.source.get_absolute_url()  # type: ignore[attr-defined]

    def get_category_display(self) -> str:
        return finding_category_label(self.category)

    @property
    def source(self) -> models.Model:
        """The self-evaluation, re-check, commissioned evaluation or monitoring report."""
        source = self.self_evaluation or self.recheck or self.evaluation or self.monitoring_report
        assert source is not None  # the check constraint: exactly one source
        return source
