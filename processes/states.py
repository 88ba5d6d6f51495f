"""Lifecycle states of the domain objects (DESIGN §3)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.roles import Role


class ProjectStage(models.TextChoices):
    """预算项目阶段 (DESIGN §3.1). Derived from the sub-processes; never set by hand."""

    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已提交")
    DEPT_APPROVED = "dept_approved", _("部门已审核")
    PRE_ASSESSMENT = "pre_assessment", _("事前绩效评估")
    TARGET_REVIEW = "target_review", _("绩效目标审核")
    BUDGETED = "budgeted", _("已批复预算")
    EXECUTING = "executing", _("执行中")
    EVALUATING = "evaluating", _("评价中")
    EVALUATED = "evaluated", _("已评价")
    RECTIFYING = "rectifying", _("整改中")
    CLOSED = "closed", _("已关闭")
    WITHDRAWN = "withdrawn", _("已撤回")
    REJECTED = "rejected", _("未予支持")
    CANCELLED = "cancelled", _("已取消")


#: Stages from which the department may still withdraw (before budgeting).
WITHDRAWABLE = [
    ProjectStage.DRAFT,
    ProjectStage.SUBMITTED,
    ProjectStage.DEPT_APPROVED,
    ProjectStage.PRE_ASSESSMENT,
    ProjectStage.TARGET_REVIEW,
]
#: Stages the finance section may cancel from (anything not yet ended).
CANCELLABLE = [
    s
    for s in ProjectStage
    if s not in (ProjectStage.CLOSED, ProjectStage.WITHDRAWN, ProjectStage.REJECTED, ProjectStage.CANCELLED)
]
TERMINAL = [ProjectStage.CLOSED, ProjectStage.WITHDRAWN, ProjectStage.REJECTED, ProjectStage.CANCELLED]


class PreAssessmentStatus(models.TextChoices):
    """事前绩效评估 (DESIGN §3.2)."""

    INITIATED = "initiated", _("已发起")
    PANEL_FORMED = "panel_formed", _("评审组已组建")
    UNDER_REVIEW = "under_review", _("专家评审中")
    OPINIONS_COLLECTED = "opinions_collected", _("意见已汇总")
    CONCLUDED = "concluded", _("已提出结论")
    CONFIRMED = "confirmed", _("已确认")
    CANCELLED = "cancelled", _("已取消")


class OpinionStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已提交")
    EXPIRED = "expired", _("逾期未提交")
    WITHDRAWN = "withdrawn", _("成员已替换")


class Conclusion(models.TextChoices):
    """评估结论."""

    SUPPORT = "support", _("予以支持")
    PARTIAL = "partial", _("部分予以支持")
    REJECT = "reject", _("不予支持")


class IndicatorLevel1(models.TextChoices):
    """一级指标 (DESIGN §2)."""

    OUTPUT = "output", _("产出指标")
    EFFECT = "effect", _("效益指标")
    SATISFACTION = "satisfaction", _("满意度指标")
    COST = "cost", _("成本指标")


class IndicatorLevel2(models.TextChoices):
    """二级指标, each under one level 1 (LEVEL2_PARENT)."""

    QUANTITY = "quantity", _("数量指标")
    QUALITY = "quality", _("质量指标")
    TIMELINESS = "timeliness", _("时效指标")
    COST = "cost", _("成本指标")
    ECONOMIC = "economic", _("经济效益指标")
    SOCIAL = "social", _("社会效益指标")
    ECOLOGICAL = "ecological", _("生态效益指标")
    SUSTAINABLE = "sustainable", _("可持续影响指标")
    SATISFACTION = "satisfaction", _("服务对象满意度指标")
    ECONOMIC_COST = "economic_cost", _("经济成本指标")
    SOCIAL_COST = "social_cost", _("社会成本指标")
    ECOLOGICAL_COST = "ecological_cost", _("生态环境成本指标")


#: Which level 1 each level 2 belongs to. 成本 sits under 产出 in the 2020 self-evaluation
#: table and is a level 1 of its own in 财预〔2021〕101号; both are accepted (domain-rules §7.7).
LEVEL2_PARENT: dict[str, str] = {
    IndicatorLevel2.QUANTITY: IndicatorLevel1.OUTPUT,
    IndicatorLevel2.QUALITY: IndicatorLevel1.OUTPUT,
    IndicatorLevel2.TIMELINESS: IndicatorLevel1.OUTPUT,
    IndicatorLevel2.COST: IndicatorLevel1.OUTPUT,
    IndicatorLevel2.ECONOMIC: IndicatorLevel1.EFFECT,
    IndicatorLevel2.SOCIAL: IndicatorLevel1.EFFECT,
    IndicatorLevel2.ECOLOGICAL: IndicatorLevel1.EFFECT,
    IndicatorLevel2.SUSTAINABLE: IndicatorLevel1.EFFECT,
    IndicatorLevel2.SATISFACTION: IndicatorLevel1.SATISFACTION,
    IndicatorLevel2.ECONOMIC_COST: IndicatorLevel1.COST,
    IndicatorLevel2.SOCIAL_COST: IndicatorLevel1.COST,
    IndicatorLevel2.ECOLOGICAL_COST: IndicatorLevel1.COST,
}


class Direction(models.TextChoices):
    """指标性质: how the actual value is compared with the target."""

    GTE = "gte", "≥"
    LTE = "lte", "≤"
    EQ = "eq", "="
    QUALITATIVE = "qualitative", _("定性")


#: Directions whose target is a number (and needs a unit).
QUANTITATIVE = (Direction.GTE, Direction.LTE, Direction.EQ)


class IndicatorScope(models.TextChoices):
    GENERAL = "general", _("通用类")
    DEPARTMENT = "department", _("部门个性化")


class IndicatorStatus(models.TextChoices):
    """A department's proposal waits for the finance section; library rows are approved."""

    PROPOSED = "proposed", _("待审核")
    APPROVED = "approved", _("已入库")
    DECLINED = "declined", _("未入库")


class TargetSetStatus(models.TextChoices):
    """绩效目标 (DESIGN §3.3): one version of a project's targets."""

    DRAFT = "draft", _("填报中")
    SUBMITTED = "submitted", _("已提交")
    DEPT_APPROVED = "dept_approved", _("部门已审核")
    APPROVED = "approved", pgettext_lazy("target status", "审核通过")
    RETURNED = "returned", _("退回修改")
    REJECTED = "rejected", _("审核不通过")
    SUPERSEDED = "superseded", _("已被新版本取代")
    CANCELLED = "cancelled", _("已取消")


#: Versions still being worked on (at most one per project).
TARGET_SET_OPEN = [
    TargetSetStatus.DRAFT,
    TargetSetStatus.SUBMITTED,
    TargetSetStatus.DEPT_APPROVED,
    TargetSetStatus.RETURNED,
]


class TargetRating(models.TextChoices):
    """The finance section's rating of submitted targets."""

    EXCELLENT = "excellent", _("优")
    GOOD = "good", _("良")
    FAIR = "fair", _("中")
    POOR = "poor", _("差")


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("进行中")
    SUCCEEDED = "succeeded", _("已完成")
    FAILED = "failed", _("失败")


class RoundStatus(models.TextChoices):
    """绩效运行监控轮次 (DESIGN §3.4)."""

    OPEN = "open", _("监控中")
    CLOSED = "closed", _("已结束")


class ReportStatus(models.TextChoices):
    """绩效监控报告: issued → submitted → dept_approved → cleared, or warned → disposed."""

    ISSUED = "issued", _("待填报")
    SUBMITTED = "submitted", _("已提交")
    DEPT_APPROVED = "dept_approved", _("部门已审核")
    CLEARED = "cleared", _("审核通过")
    WARNED = "warned", _("已预警")
    DISPOSED = "disposed", _("已处置")
    CANCELLED = "cancelled", _("已取消")


REPORT_OPEN = [ReportStatus.ISSUED, ReportStatus.SUBMITTED, ReportStatus.DEPT_APPROVED, ReportStatus.WARNED]


class Light(models.TextChoices):
    """预警灯. Worse first: a project takes the worst of its lights (red > yellow > green > blue)."""

    RED = "red", _("红灯")
    YELLOW = "yellow", _("黄灯")
    GREEN = "green", _("绿灯")
    BLUE = "blue", _("蓝灯")
    NONE = "none", _("无法判定")


#: Severity order of the lights; NONE (not computable) never outranks a real light.
LIGHT_SEVERITY = {Light.RED: 4, Light.YELLOW: 3, Light.GREEN: 2, Light.BLUE: 1, Light.NONE: 0}


class Likelihood(models.TextChoices):
    """完成目标可能性."""

    CERTAIN = "certain", _("确定能")
    POSSIBLE = "possible", _("有可能")
    IMPOSSIBLE = "impossible", _("不可能")


class QualitativeProgress(models.TextChoices):
    """A qualitative indicator's progress (定性指标完成情况)."""

    ACHIEVED = "achieved", _("达成")
    PARTLY = "partly", _("部分达成")
    NOT_ACHIEVED = "not_achieved", _("未达成")


class Disposal(models.TextChoices):
    """处置 of a warned report."""

    ADJUST = "adjust", _("调整预算")
    SUSPEND = "suspend", _("暂停项目")
    STOP_PAYMENTS = "stop_payments", _("停止拨款")
    NO_ACTION = "no_action", _("不作处理")


class ExecutionHold(models.TextChoices):
    """What a disposal put on the project's execution (blank: none)."""

    NONE = "", _("正常执行")
    SUSPENDED = "suspended", _("已暂停")
    PAYMENTS_STOPPED = "payments_stopped", _("已停止拨款")


class SuggestionAspect(models.TextChoices):
    """The aspect an expert suggestion concerns, as the reference report groups them
    (专家对项目实施、财务管理、绩效情况等方面共提出 86 条建议)."""

    IMPLEMENTATION = "implementation", _("项目实施")
    FINANCE = "finance", _("财务管理")
    PERFORMANCE = "performance", _("绩效情况")


class Grade(models.TextChoices):
    """评价等次 (DESIGN §3.5): 90–100 优, 80–<90 良, 60–<80 中, < 60 差."""

    EXCELLENT = "excellent", pgettext_lazy("grade", "优")
    GOOD = "good", pgettext_lazy("grade", "良")
    FAIR = "fair", pgettext_lazy("grade", "中")
    POOR = "poor", pgettext_lazy("grade", "差")


class CampaignStatus(models.TextChoices):
    """自评工作 of a year."""

    OPEN = "open", _("自评中")
    CLOSED = "closed", _("已结束")


class SelfEvaluationStatus(models.TextChoices):
    """绩效自评: issued → submitted → dept_approved → accepted (or returned to issued)."""

    ISSUED = "issued", _("待自评")
    SUBMITTED = "submitted", _("已提交")
    DEPT_APPROVED = "dept_approved", _("部门已审核")
    ACCEPTED = "accepted", _("财政已确认")
    CANCELLED = "cancelled", _("已取消")


SELF_EVALUATION_OPEN = [SelfEvaluationStatus.ISSUED, SelfEvaluationStatus.SUBMITTED, SelfEvaluationStatus.DEPT_APPROVED]


class ScoreSection(models.TextChoices):
    """The parts of the self-evaluation score sheet; indicators fall in the last three."""

    EXECUTION = "execution", _("预算执行率")
    OUTPUT = "output", _("产出指标")
    OUTCOME = "outcome", _("效益指标")
    SATISFACTION = "satisfaction", _("满意度指标")


#: The score-sheet section of each indicator level 1 (成本 counts with 产出, as in the
#: 2020 self-evaluation table).
SECTION_OF_LEVEL1: dict[str, str] = {
    IndicatorLevel1.OUTPUT: ScoreSection.OUTPUT,
    IndicatorLevel1.COST: ScoreSection.OUTPUT,
    IndicatorLevel1.EFFECT: ScoreSection.OUTCOME,
    IndicatorLevel1.SATISFACTION: ScoreSection.SATISFACTION,
}


class SampleMethod(models.TextChoices):
    MANUAL = "manual", _("人工选取")
    RANDOM = "random", _("随机抽取")


class RecheckStatus(models.TextChoices):
    """复核: assigned → rescored → fed_back (the department may comment) → final."""

    ASSIGNED = "assigned", _("待复核")
    RESCORED = "rescored", _("已复核待反馈")
    FED_BACK = "fed_back", _("部门已反馈")
    FINAL = "final", _("复核完成")


class EvaluationKind(models.TextChoices):
    KEY = "key", _("重点评价")
    DEPARTMENT = "department", _("部门整体绩效评价")


class EvaluationStatus(models.TextChoices):
    """重点评价 / 部门整体绩效评价, commissioned to an agency (DESIGN §3.5)."""

    COMMISSIONED = "commissioned", _("已委托")
    PLAN_SUBMITTED = "plan_submitted", _("评价方案待审")
    PLAN_APPROVED = "plan_approved", _("评价方案已批准")
    FIELDWORK = "fieldwork", _("现场评价")
    DRAFT_REPORT = "draft_report", _("报告初稿待反馈")
    DEPT_COMMENTED = "dept_commented", _("部门已反馈")
    EXPERT_REVIEW = "expert_review", _("专家评审中")
    FINAL = "final", _("评价完成")
    PUBLISHED = "published", _("已公开")


class FrameworkDimension(models.TextChoices):
    """评价指标体系的一级指标 of a key or department evaluation."""

    DECISION = "decision", _("决策")
    PROCESS = "process", _("过程")
    OUTPUT = "output", _("产出")
    OUTCOME = "outcome", _("效益")


class RectificationStatus(models.TextChoices):
    """整改 (DESIGN §3.6): issued → acknowledged → submitted → verified, or rejected back to
    acknowledged with reasons. Overdue is a fact of the clock, not a state."""

    ISSUED = "issued", _("已下达")
    ACKNOWLEDGED = "acknowledged", _("整改中")
    SUBMITTED = "submitted", _("整改报告待验收")
    VERIFIED = "verified", _("已验收销号")


RECTIFICATION_OPEN = [RectificationStatus.ISSUED, RectificationStatus.ACKNOWLEDGED, RectificationStatus.SUBMITTED]


class ItemProgress(models.TextChoices):
    """How far one finding was rectified (整改情况)."""

    DONE = "done", _("已完成")
    PARTLY = "partly", _("部分完成")
    NOT_DONE = "not_done", _("未完成")


class ExtensionStatus(models.TextChoices):
    REQUESTED = "requested", _("待审批")
    GRANTED = "granted", _("已同意")
    REFUSED = "refused", _("未同意")


#: The state choices of each audited object type (``AuditEvent.object_type``).
STATE_CHOICES: dict[str, type[models.TextChoices]] = {
    "processes.budgetproject": ProjectStage,
    "processes.preassessment": PreAssessmentStatus,
    "processes.opinion": OpinionStatus,
    "processes.targetset": TargetSetStatus,
    "processes.indicator": IndicatorStatus,
    "processes.monitoringreport": ReportStatus,
    "processes.monitoringround": RoundStatus,
    "processes.evaluationcampaign": CampaignStatus,
    "processes.selfevaluation": SelfEvaluationStatus,
    "processes.recheck": RecheckStatus,
    "processes.commissionedevaluation": EvaluationStatus,
    "processes.rectification": RectificationStatus,
    # a role granted or removed (processes.account_audit): the role is the "state"
    "accounts.user": Role,
    "processes.deadlineextension": ExtensionStatus,
}


def state_label(object_type: str, value: str) -> str:
    """The label of an audited object's state (a project stage, a version's status …)."""
    choices = STATE_CHOICES.get(object_type, ProjectStage)
    try:
        return str(choices(value).label)
    except ValueError:
        return value or ""


class OpinionItemStatus(models.TextChoices):
    """审议意见的一项 (issue 19): assigned → responded → accepted, or returned (with the
    reason) back to assigned. Overdue is a fact of the clock, not a state."""

    ASSIGNED = "assigned", _("落实中")
    RESPONDED = "responded", _("已报送待验收")
    ACCEPTED = "accepted", _("已落实")


OPINION_ITEM_OPEN = [OpinionItemStatus.ASSIGNED, OpinionItemStatus.RESPONDED]
