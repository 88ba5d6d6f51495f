"""Template filters of the screens: money in 万元, times in Beijing time, stage/role/action labels."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django import template
from django.utils import dateformat, timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.roles import Role
from processes.models import BudgetProject
from processes.states import ProjectStage, state_label
from processes.units import wan_text, yuan_text

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

register = template.Library()

#: Screens show times in the bureau's zone whatever the server's TIME_ZONE is.
SHANGHAI = ZoneInfo("Asia/Shanghai")

#: Audit actions that are not person-driven transitions (those carry their own label).
OTHER_ACTION_LABELS = {
    "create": _("新建"),
    "edit": _("修改"),
    "confirm_pre_assessment": _("确认事前评估结论"),
    "approve_targets": _("绩效目标审核通过"),
    "reject": _("不予支持"),
    "start_execution": _("开始执行"),
    "start_evaluation": _("开始评价"),
    "complete_evaluation": _("完成评价"),
    "open_rectification": _("开始整改"),
    "close": _("关闭"),
    "await_targets": _("事前评估结论已确认，待绩效目标审核"),
    "targets_open": _("开始填报绩效目标"),
    "targets_edit": _("保存绩效目标"),
    "targets_submit": _("提交绩效目标"),
    "targets_dept_approve": _("部门审核通过绩效目标"),
    "targets_dept_return": _("部门退回绩效目标"),
    "targets_rate": _("财政审核绩效目标"),
    "targets_change_open": _("申请变更绩效目标"),
    "targets_cancel": _("绩效目标审核终止"),
    "dispose_adjust": _("监控预警处置：调整预算"),
    "dispose_suspend": _("监控预警处置：暂停项目"),
    "dispose_stop_payments": _("监控预警处置：停止拨款"),
    "rectification_issue": _("下达整改"),
    "history_import": _("导入历史年度数据"),
    "disclose_report": _("批准公开年度汇总表"),
    "rectification_acknowledge": _("签收整改通知"),
    "rectification_report_edit": _("保存整改报告"),
    "evidence_add": _("上传佐证材料"),
    "evidence_remove": _("删除佐证材料"),
    "rectification_submit": _("提交整改报告"),
    "rectification_verify": _("验收销号"),
    "rectification_reject": _("退回整改报告"),
    "extension_request": _("申请延期"),
    "extension_grant": _("同意延期"),
    "extension_refuse": _("不同意延期"),
    "demo_backdate": _("演示数据：整改期限前移"),
    # actions of the other audited objects (the auditor's screen names every one)
    "activate": _("启用指标"),
    "deactivate": _("停用指标"),
    "propose": _("提出新指标"),
    "indicator_import": _("导入绩效指标"),
    "budget_import": _("导入预算编制项目"),
    "expert_import": _("导入专家库"),
    "payments_import": _("导入支付数据"),
    "payment_plans_import": _("导入资金支付计划"),
    "payment_plan_save": _("填报资金支付计划"),
    # account events (processes.account_audit): 三员分立, the auditor reads who did what to whom
    "password_set_by_admin": _("管理员设置密码"),
    "password_changed": _("本人修改密码"),
    "role_granted": _("授予角色"),
    "role_removed": _("撤销角色"),
    "start": _("发起事前绩效评估"),
    "draw_panel": _("抽取评审专家"),
    "form_panel": _("组建评审组"),
    "replace_member": _("更换评审专家"),
    "submit_opinion": _("提交专家意见"),
    "collect": _("汇总专家意见"),
    "open_review": _("开始评审"),
    "expire_opinion": _("专家意见逾期"),
    "withdraw_opinion": _("专家意见随成员替换作废"),
    "conclude": _("提出评估结论"),
    "confirm": _("确认评估结论"),
    "return": _("退回评估结论"),
    "round_open": _("开启监控轮次"),
    "report_edit": _("保存监控报告"),
    "report_submit": _("提交监控报告"),
    "report_dept_approve": _("部门审核通过监控报告"),
    "report_clear": _("监控报告审核通过"),
    "report_warn": _("监控报告预警"),
    "report_return": _("退回监控报告"),
    "report_dispose": _("监控预警处置"),
    "report_cancel": _("监控报告终止"),
    "campaign_launch": _("启动年度绩效评价"),
    "self_evaluation_edit": _("保存绩效自评"),
    "self_evaluation_submit": _("提交绩效自评"),
    "self_evaluation_dept_approve": _("部门审核通过绩效自评"),
    "self_evaluation_accept": _("审核通过绩效自评"),
    "self_evaluation_cancel": _("绩效自评终止"),
    "finding_add": _("新增评价问题"),
    "finding_remove": _("删除评价问题"),
    "recheck_sample": _("抽取复核样本"),
    "recheck_edit": _("保存复核"),
    "recheck_rescore": _("复核重新评分"),
    "recheck_feedback": _("复核意见反馈"),
    "recheck_finalize": _("复核定稿"),
    "commission": _("委托第三方评价"),
    "submit_plan": _("提交评价方案"),
    "approve_plan": _("批准评价方案"),
    "return_plan": _("退回评价方案"),
    "start_fieldwork": _("开始现场评价"),
    "submit_draft": _("提交评价报告初稿"),
    "comment": _("提出修改意见"),
    "submit_suggestions": _("提交意见建议"),
    "finalize": _("评价报告定稿"),
    "publish": _("发布评价报告"),
}


def _decimal(value) -> Decimal | None:
    """A Decimal from a Decimal, int or numeric string; None for empty. Floats are refused:
    money is never float (DESIGN §2)."""
    if value is None or value == "":
        return None
    if isinstance(value, float):
        raise TypeError("money must be Decimal, not float")
    try:
        return Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return None


@register.filter
def wan(value) -> str:
    """Decimal yuan → 万元 with two places and thousands separators: 35000000 → "3,500.00".

    Empty (None or "") gives "", so templates can say ``{{ x|wan|default:"—" }}``.
    """
    return wan_text(_decimal(value))


@register.filter
def yuan(value) -> str:
    """Decimal yuan with two places and thousands separators: 1200000 → "1,200,000.00"."""
    return yuan_text(_decimal(value))


@register.filter
def cst(value: datetime | None, fmt: str = "Y-m-d H:i") -> str:
    """An aware datetime shown in Asia/Shanghai with a Django date format."""
    if not value:
        return ""
    if timezone.is_naive(value):
        value = timezone.make_aware(value, timezone.get_default_timezone())
    local = timezone.localtime(value, SHANGHAI)
    if fmt == "Y-m-d H:i":  # the lists' format, written directly (what dateformat writes)
        return f"{local.year:04d}-{local.month:02d}-{local.day:02d} {local.hour:02d}:{local.minute:02d}"
    return dateformat.format(local, fmt)


@register.filter
def is_past(value: datetime | None) -> bool:
    if not value:
        return False
    return value < timezone.now()


@register.filter
def stage_label(value: str) -> str:
    try:
        return str(ProjectStage(value).label)
    except ValueError:
        return value or ""


@register.filter
def from_label(event) -> str:
    """The label of an audit event's former state, in its object's own vocabulary."""
    return state_label(event.object_type, event.from_state)


@register.filter
def to_label(event) -> str:
    return state_label(event.object_type, event.to_state)


@register.filter
def stage_badge(value: str) -> str:
    """A coloured badge for a project stage."""
    if not value:
        return ""
    return format_html('<span class="badge stage-{}">{}</span>', value, stage_label(value))


@register.filter
def role_label(value: str) -> str:
    try:
        return str(Role(value).label)
    except ValueError:
        return value or ""


@cache
def _transition_labels() -> dict[str, StrOrPromise]:
    transitions = BudgetProject._meta.get_field("stage").get_all_transitions(BudgetProject)
    return {t.name: t.custom["label"] for t in transitions if t.custom.get("action")}


@register.filter
def action_label(value: str) -> str:
    """The label of an audited action name (a transition or create/edit)."""
    label = _transition_labels().get(value) or OTHER_ACTION_LABELS.get(value)
    return str(label) if label is not None else value


@register.filter
def minutes(value: timedelta | None) -> int | str:
    """A timedelta as whole minutes (axes' cool-off)."""
    if not isinstance(value, timedelta):
        return ""
    return int(value.total_seconds() // 60)
