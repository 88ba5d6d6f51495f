"""绩效评价 API (DESIGN §3.5, §3.7, §6): the campaigns (list with counts; launch — a
background job, 202 with its URL), the self-evaluations (scoped list with filters; the
sheet with its lines; save with optimistic concurrency; submit, the leader's review, the
finance section's review; a preview that scores without saving; findings) and the
re-checks (list; sample by hand or at random with a seed; the agency's sheet; submit,
department feedback, finalize; findings).

Reads go through processes.selectors (and the screens' narrowing in
workflows.evaluation_views): the bureau-wide readers see everything; department roles
their own department's; agency staff their agency's re-checks; anyone else nothing (lists
403, objects 404). Writes go through processes.services.evaluation / findings (a
transition moves its flow task by the step workflows registered); a detail answer lists
its ``available_actions`` from the transitions' declarations. Errors follow
processes.api.errors (400 field errors keyed as the service keys them —
``lines.<target row id>.<field>`` —, 403, 404, 409).
"""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any, cast

from django.core.exceptions import EmptyResultSet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from accounts.models import Agency, User
from config.prepared import PreparedModels, compiled_queries
from processes import transitions
from processes.api.fields import DecimalText, FiscalYearField, IdField
from processes.api.indicators import JobSerializer
from processes.api.responses import BAD_REQUEST, FORBIDDEN
from processes.api.serializers import AvailableActionSerializer, ErrorSerializer
from processes.models import EvaluationCampaign, Finding, Recheck, RecheckSample, ScoreLine, ScoreSheet, SelfEvaluation
from processes.numbers import MAX_INT
from processes.scoring import rate_pct
from processes.selectors import campaigns_for, rechecks_for, self_evaluations_for, user_shape
from processes.services import evaluation, findings
from processes.states import (
    Direction,
    Grade,
    QualitativeProgress,
    RecheckStatus,
    SampleMethod,
    ScoreSection,
    SelfEvaluationStatus,
)

from .evaluation_forms import RowView, campaign_job_start, rows_of, sheet_preview
from .evaluation_views import (
    agency_of,
    campaign_overview,
    campaign_rows,
    department_of,
    excellent_good_rate,
    reads_all,
    require_evaluation_reader,
)
from .monitoring_api import _valid, amount_text, money

NOT_FOUND = OpenApiResponse(ErrorSerializer, description=gettext_lazy("不存在，或不在您的可见范围内。"))
CONFLICT = OpenApiResponse(
    ErrorSerializer, description=gettext_lazy("当前状态不允许此操作（如已被他人办理），或已被他人修改。")
)
ACTION_ERRORS = {400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT}
READ_ERRORS = {403: FORBIDDEN, 404: NOT_FOUND}
GRADES = list(Grade)


def score(**options) -> serializers.DecimalField:
    """Points to two places (0–100)."""
    return serializers.DecimalField(max_digits=7, decimal_places=2, **options)


def rate(**options) -> serializers.DecimalField:
    """A percent to two places."""
    return serializers.DecimalField(max_digits=30, decimal_places=2, **options)


# Statuses and grades are strings whose values the description lists: as enums they would
# be one choice set under several names, which the schema generator warns about.


@extend_schema_field({"type": "string", "description": "excellent 优 | good 良 | fair 中 | poor 差 | 空"})
class GradeField(serializers.CharField):
    """评价等次."""


@extend_schema_field({"type": "string", "description": " | ".join(SelfEvaluationStatus.values)})
class SelfEvaluationStatusField(serializers.CharField):
    """A self-evaluation's status."""


@extend_schema_field({"type": "string", "description": " | ".join(RecheckStatus.values)})
class RecheckStatusField(serializers.CharField):
    """A re-check's status."""


@extend_schema_field({"type": "string", "description": "excellent 优 | good 良 | fair 中 | poor 差"})
class GradeChoiceField(serializers.ChoiceField):
    """A grade to filter or sample by."""

    def __init__(self, **kwargs):
        super().__init__(choices=Grade.choices, **kwargs)


@extend_schema_field({"type": "string", "description": " | ".join(SelfEvaluationStatus.values)})
class SelfEvaluationStatusChoice(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=SelfEvaluationStatus.choices, **kwargs)


@extend_schema_field({"type": "string", "description": " | ".join(RecheckStatus.values)})
class RecheckStatusChoice(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=RecheckStatus.choices, **kwargs)


# -- output ---------------------------------------------------------------------------------


class CampaignSerializer(serializers.Serializer):
    """A year's self-evaluation campaign with its self-evaluations (those the caller may
    see) counted by status and, of the accepted ones, by grade; 优良率 = (优 + 良) ÷ graded."""

    id = serializers.IntegerField()
    fiscal_year = serializers.IntegerField()
    title = serializers.CharField()
    due_at = serializers.DateTimeField()
    status = serializers.CharField(help_text=gettext_lazy("open 自评中 | closed 已结束"))
    status_display = serializers.CharField()
    total = serializers.IntegerField(help_text=gettext_lazy("自评项目数（不含已取消）"))
    by_status = serializers.DictField(child=serializers.IntegerField(), help_text=gettext_lazy("状态 → 自评数"))
    by_grade = serializers.DictField(
        child=serializers.IntegerField(), help_text=gettext_lazy("等次 → 财政已确认的自评数")
    )
    excellent_good_rate = rate(allow_null=True, help_text=gettext_lazy("优良率（%）"))
    created_at = serializers.DateTimeField()


def campaign_data(c) -> dict[str, Any]:
    by_status = {s.value: getattr(c, f"s_{s.value}", 0) for s in SelfEvaluationStatus}
    by_grade = {g.value: getattr(c, f"g_{g.value}", 0) for g in GRADES}
    return {
        "id": c.pk,
        "fiscal_year": c.fiscal_year,
        "title": c.title,
        "due_at": c.due_at,
        "status": c.status,
        "status_display": c.get_status_display(),
        "total": c.total,
        "by_status": by_status,
        "by_grade": by_grade,
        "excellent_good_rate": excellent_good_rate(by_grade),
        "created_at": c.created_at,
    }


class CampaignDepartmentSerializer(serializers.Serializer):
    department = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    projects = serializers.IntegerField()
    accepted = serializers.IntegerField()
    by_grade = serializers.DictField(child=serializers.IntegerField())
    excellent_good_rate = rate(allow_null=True)


class CampaignDetailSerializer(CampaignSerializer):
    """A campaign with its figures by department."""

    departments = CampaignDepartmentSerializer(many=True)


class ScoreLineSerializer(serializers.Serializer):
    """One indicator of a sheet: the approved target and what was entered. ``points`` and
    ``score`` are null until the sheet is first saved."""

    target_row = serializers.IntegerField(help_text=gettext_lazy("写入时以此 id 指明指标"))
    section = serializers.ChoiceField(choices=ScoreSection.choices)
    name = serializers.CharField()
    direction = serializers.ChoiceField(choices=Direction.choices)
    target_value = serializers.DecimalField(max_digits=18, decimal_places=4, allow_null=True)
    target_text = serializers.CharField()
    unit = serializers.CharField()
    weight = serializers.DecimalField(max_digits=5, decimal_places=2)
    points = serializers.DecimalField(max_digits=7, decimal_places=4, allow_null=True)
    score = score(allow_null=True)
    actual = serializers.DecimalField(max_digits=18, decimal_places=4, allow_null=True)
    band = serializers.CharField(
        help_text=gettext_lazy("定性指标：achieved 达成 | partly 部分达成 | not_achieved 未达成")
    )
    band_pct = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    deviation_reason = serializers.CharField()
    measure = serializers.CharField()


def line_data(row: RowView) -> dict[str, Any]:
    line = row.line
    return {
        "target_row": row.row_id,
        "section": row.section,
        "name": row.name,
        "direction": row.direction,
        "target_value": row.target_value,
        "target_text": row.target_text,
        "unit": row.unit,
        "weight": row.weight,
        "points": line.points if line is not None else None,
        "score": line.score if line is not None else None,
        "actual": line.actual_value if line is not None else None,
        "band": line.band if line is not None else "",
        "band_pct": line.band_pct if line is not None else None,
        "deviation_reason": line.deviation_reason if line is not None else "",
        "measure": line.measure if line is not None else "",
    }


class ScoreSheetSerializer(serializers.Serializer):
    """A score sheet: budget execution, the section scores, total and grade, and its lines."""

    budget = money(allow_null=True, help_text=gettext_lazy("调整后预算（元）"))
    executed = money(allow_null=True)
    execution_rate = rate(allow_null=True, help_text=gettext_lazy("预算执行率（%）"))
    execution_score = score()
    output_score = score()
    outcome_score = score()
    satisfaction_score = score()
    total = score(allow_null=True)
    grade = GradeField()
    summary = serializers.CharField()
    executed_imported = money(allow_null=True, help_text=gettext_lazy("国库支付数据的全年累计支付数；未导入时为 null"))
    executed_reason = serializers.CharField(help_text=gettext_lazy("执行数与支付数据不一致时的说明"))
    lines = ScoreLineSerializer(many=True)


def sheet_data(sheet: ScoreSheet | None, rows: list[RowView], *, budget, executed=None) -> dict[str, Any]:
    zero = Decimal("0.00")
    return {
        "budget": sheet.budget if sheet is not None else budget,
        "executed": sheet.executed if sheet is not None else executed,
        "execution_rate": sheet.execution_rate if sheet is not None else None,
        "execution_score": sheet.execution_score if sheet is not None else zero,
        "output_score": sheet.output_score if sheet is not None else zero,
        "outcome_score": sheet.outcome_score if sheet is not None else zero,
        "satisfaction_score": sheet.satisfaction_score if sheet is not None else zero,
        "total": sheet.total if sheet is not None else None,
        "grade": sheet.grade if sheet is not None else "",
        "summary": sheet.summary if sheet is not None else "",
        "executed_imported": sheet.executed_imported if sheet is not None else None,
        "executed_reason": sheet.executed_reason if sheet is not None else "",
        "lines": [line_data(row) for row in rows],
    }


class EvaluationFindingSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    category = serializers.CharField()
    problem = serializers.CharField()
    basis = serializers.CharField()
    requirement = serializers.CharField()
    created_by = serializers.CharField()
    created_at = serializers.DateTimeField()


class BudgetRecommendationSerializer(serializers.Serializer):
    """结果应用: the grade of record and next year's budget recommendation."""

    grade = GradeField()
    # The ignore: the stubs see this field shadowing Field.source; DRF's metaclass moves
    # declared fields out of the class, and the API key is "source".
    source = serializers.CharField(  # type: ignore[assignment]
        help_text=gettext_lazy("self 绩效自评 | recheck 复核 | key 重点评价")
    )
    score = score(allow_null=True)
    action = serializers.CharField(help_text=gettext_lazy("priority | keep | cut | cancel"))
    cut_percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    text = serializers.CharField()


def recommendation_data(rec) -> dict[str, Any] | None:
    if rec is None:
        return None
    return {
        "grade": rec.grade,
        "source": rec.source,
        "score": rec.score,
        "action": rec.action,
        "cut_percent": rec.cut_percent,
        "text": rec.text,
    }


class SelfEvaluationSerializer(serializers.Serializer):
    """A self-evaluation as lists show it."""

    id = serializers.IntegerField()
    campaign = serializers.IntegerField(source="campaign_id")
    fiscal_year = serializers.IntegerField(source="campaign.fiscal_year")
    project = serializers.IntegerField(source="project_id")
    project_code = serializers.CharField(source="project.code")
    project_name = serializers.CharField(source="project.name")
    department = serializers.IntegerField(source="project.department_id")
    department_name = serializers.CharField(source="project.department.name")
    status = SelfEvaluationStatusField()
    status_display = serializers.CharField(source="get_status_display")
    score = score(allow_null=True)
    grade = GradeField()
    grade_display = serializers.CharField(source="get_grade_display")
    revision = serializers.IntegerField(help_text=gettext_lazy("修订号：保存时带上，他人已修改则返回 409"))
    submitted_at = serializers.DateTimeField(allow_null=True)
    accepted_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField()


class RecheckBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = RecheckStatusField()
    final_score = score(allow_null=True)
    final_grade = GradeField()
    difference = serializers.DecimalField(max_digits=7, decimal_places=2, allow_null=True)


class SelfEvaluationExtraSerializer(serializers.Serializer):
    """A self-evaluation with its sheet (lines: the saved ones, else the approved targets to
    fill), the reviews, the re-check (final score and difference) and the recommendation."""

    editable = serializers.BooleanField(help_text=gettext_lazy("待自评时可由本部门经办人保存"))
    available_actions = AvailableActionSerializer(
        many=True, help_text=gettext_lazy("请求者现在可执行的操作（来自各操作的声明）")
    )
    sheet = ScoreSheetSerializer()
    leader_comment = serializers.CharField()
    review_comment = serializers.CharField()
    findings = EvaluationFindingSerializer(many=True)
    recheck = RecheckBriefSerializer(allow_null=True)
    recommendation = BudgetRecommendationSerializer(allow_null=True)


class SelfEvaluationDetailSerializer(SelfEvaluationSerializer, SelfEvaluationExtraSerializer):
    """A self-evaluation with its sheet (lines: the saved ones, else the approved targets to
    fill), the reviews, the re-check (final score and difference) and the recommendation."""


class ScorePreviewLineSerializer(serializers.Serializer):
    points = score()
    score = score(allow_null=True)


class ScorePreviewSerializer(serializers.Serializer):
    """The scores of the entries sent, nothing saved; what cannot be scored yet is in ``issues``."""

    execution_rate = rate(allow_null=True)
    execution = score()
    output = score()
    outcome = score()
    satisfaction = score()
    total = score()
    grade = GradeField()
    grade_display = serializers.CharField()
    complete = serializers.BooleanField(help_text=gettext_lazy("已可提交（没有问题）"))
    lines = serializers.DictField(child=ScorePreviewLineSerializer(), help_text=gettext_lazy("指标行 id → 分值与得分"))
    issues = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), help_text=gettext_lazy("字段 → 问题")
    )


class RecheckSerializer(serializers.Serializer):
    """A re-check as the summary lists it (附件1's columns)."""

    id = serializers.IntegerField()
    sample = serializers.IntegerField(source="sample_id")
    campaign = serializers.IntegerField(source="sample.campaign_id")
    self_evaluation = serializers.IntegerField(source="self_evaluation_id")
    project = serializers.IntegerField(source="project_id")
    project_code = serializers.CharField(source="project.code")
    project_name = serializers.CharField(source="project.name")
    department = serializers.IntegerField(source="project.department_id")
    department_name = serializers.CharField(source="project.department.name")
    agency = serializers.IntegerField(source="sample.agency_id")
    agency_name = serializers.CharField(source="sample.agency.name")
    status = RecheckStatusField()
    status_display = serializers.CharField(source="get_status_display")
    budget = serializers.SerializerMethodField()
    executed = serializers.SerializerMethodField()
    completion_rate = serializers.SerializerMethodField()
    self_score = score(allow_null=True)
    self_grade = GradeField()
    final_score = score(allow_null=True)
    final_grade = GradeField()
    difference = serializers.DecimalField(
        max_digits=7, decimal_places=2, allow_null=True, help_text=gettext_lazy("复核得分 − 自评得分")
    )
    revision = serializers.IntegerField()

    def _sheet(self, r: Recheck):
        return r.sheet or r.self_evaluation.sheet

    @extend_schema_field(money(allow_null=True))
    def get_budget(self, r: Recheck) -> Decimal | None:
        sheet = self._sheet(r)
        return sheet.budget if sheet is not None else evaluation.budget_of(r.project)

    @extend_schema_field(money(allow_null=True))
    def get_executed(self, r: Recheck) -> Decimal | None:
        sheet = self._sheet(r)
        return sheet.executed if sheet is not None else r.project.executed_amount

    @extend_schema_field(rate(allow_null=True, help_text=gettext_lazy("完成率（%）")))
    def get_completion_rate(self, r: Recheck) -> Decimal | None:
        return rate_pct(self.get_executed(r), self.get_budget(r))


class RecheckExtraSerializer(serializers.Serializer):
    """A re-check with the agency's sheet (before its first save: the department's entries
    it starts from), the department's sheet beside it, the opinions and the findings."""

    editable = serializers.BooleanField(help_text=gettext_lazy("待复核或部门已反馈时可由受托机构保存"))
    available_actions = AvailableActionSerializer(
        many=True, help_text=gettext_lazy("请求者现在可执行的操作（来自各操作的声明）")
    )
    sheet = ScoreSheetSerializer()
    self_sheet = ScoreSheetSerializer(allow_null=True)
    agency_opinion = serializers.CharField()
    department_comment = serializers.CharField()
    sample_method = serializers.CharField()
    sample_seed = serializers.IntegerField(allow_null=True)
    due_at = serializers.DateTimeField()
    findings = EvaluationFindingSerializer(many=True)
    report_url = serializers.CharField(
        allow_null=True, help_text=gettext_lazy("复核报告的下载地址（须登录，可查看该复核者可下载）；未上传为 null")
    )


class RecheckDetailSerializer(RecheckSerializer, RecheckExtraSerializer):
    """A re-check with the agency's sheet (before its first save: the department's entries
    it starts from), the department's sheet beside it, the opinions and the findings."""


class RecheckSampleSerializer(serializers.Serializer):
    """复核抽样: method, seed and filters (so a random draw can be replayed) and the re-checks made."""

    id = serializers.IntegerField()
    campaign = serializers.IntegerField(source="campaign_id")
    agency = serializers.IntegerField(source="agency_id")
    method = serializers.ChoiceField(choices=SampleMethod.choices)
    seed = serializers.IntegerField(allow_null=True)
    filters = serializers.DictField()
    pool = serializers.ListField(child=serializers.IntegerField(), help_text=gettext_lazy("随机抽取的候选自评 id"))
    due_at = serializers.DateTimeField()
    rechecks = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_rechecks(self, sample: RecheckSample) -> list[int]:
        return list(sample.rechecks.order_by("pk").values_list("pk", flat=True))


# -- input ----------------------------------------------------------------------------------


class CampaignLaunchSerializer(serializers.Serializer):
    fiscal_year = FiscalYearField()
    due_at = serializers.DateTimeField(help_text=gettext_lazy("自评截止时间，须晚于现在"))
    title = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)


class SelfEvaluationFilterSerializer(serializers.Serializer):
    campaign = IdField(required=False, help_text=gettext_lazy("绩效自评工作 id"))
    department = IdField(required=False, help_text=gettext_lazy("预算部门 id"))
    status = SelfEvaluationStatusChoice(required=False)
    grade = GradeChoiceField(required=False)


class RecheckFilterSerializer(serializers.Serializer):
    campaign = IdField(required=False)
    department = IdField(required=False)
    status = RecheckStatusChoice(required=False)


class ScoreLineWriteSerializer(serializers.Serializer):
    """One indicator's entry: ``actual`` for ≥ ≤ = rows, ``band`` and ``band_pct`` for
    qualitative ones. Left out, the value is cleared; reason and measure are kept."""

    target_row = IdField(help_text=gettext_lazy("指标行 id（见 sheet.lines）"))
    actual = DecimalText(ScoreLine, "actual_value")
    band = serializers.ChoiceField(choices=[("", ""), *QualitativeProgress.choices], required=False, allow_blank=True)
    band_pct = DecimalText(
        ScoreLine,
        "band_pct",
        min_value=0,
        max_value=100,
        help_text=gettext_lazy("档内得分比例（%）：达成 100–80，部分达成 80–60，未达成 60–0；不填取档内最高"),
    )
    deviation_reason = serializers.CharField(required=False, allow_blank=True, max_length=evaluation.MAX_TEXT)
    measure = serializers.CharField(required=False, allow_blank=True, max_length=evaluation.MAX_TEXT)


class ScoreSheetWriteSerializer(serializers.Serializer):
    """The sheet's entries (a draft: may be incomplete). ``executed`` left out keeps its value."""

    executed = amount_text(ScoreSheet, "executed")
    summary = serializers.CharField(required=False, allow_blank=True, max_length=4 * evaluation.MAX_TEXT)
    lines = ScoreLineWriteSerializer(many=True, required=False)
    revision = IdField(required=False, allow_null=True, max_value=MAX_INT, help_text=gettext_lazy("填报开始时的修订号"))


class SelfEvaluationSheetWriteSerializer(ScoreSheetWriteSerializer):
    """The department's sheet: also the reason when ``executed`` differs from the imported payments."""

    executed_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text=gettext_lazy("执行数与国库支付数据不一致时必填；新表的执行数取支付数据"),
    )


class ScorePreviewWriteSerializer(serializers.Serializer):
    executed = amount_text(ScoreSheet, "executed")
    lines = ScoreLineWriteSerializer(many=True, required=False)


class SelfEvaluationDeptReviewSerializer(serializers.Serializer):
    approve = serializers.BooleanField(help_text=gettext_lazy("true 通过；false 退回经办人（须填写理由）"))
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=evaluation.MAX_TEXT)


class SelfEvaluationReviewSerializer(serializers.Serializer):
    accept = serializers.BooleanField(help_text=gettext_lazy("true 确认；false 退回部门（须填写理由）"))
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=evaluation.MAX_TEXT)


class EvaluationFindingWriteSerializer(serializers.Serializer):
    category = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=32,
        help_text=gettext_lazy("问题类别，取值见设置 FINDING_CATEGORIES（如 targets 目标设置）"),
    )
    problem = serializers.CharField(required=False, allow_blank=True, default="", max_length=evaluation.MAX_TEXT)
    basis = serializers.CharField(required=False, allow_blank=True, default="", max_length=evaluation.MAX_TEXT)
    requirement = serializers.CharField(required=False, allow_blank=True, default="", max_length=evaluation.MAX_TEXT)


class RecheckSampleWriteSerializer(serializers.Serializer):
    """Sample a campaign's accepted self-evaluations: ``self_evaluation_ids`` (by hand) or
    ``size`` at random (optional ``seed``, ``departments`` and ``grades`` filters)."""

    campaign = IdField()
    agency = IdField(help_text=gettext_lazy("受托第三方机构 id"))
    due_at = serializers.DateTimeField(help_text=gettext_lazy("复核截止时间，须晚于现在"))
    self_evaluation_ids = serializers.ListField(child=IdField(), required=False, allow_null=True, default=None)
    size = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=100000)
    seed = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=0,
        max_value=2**62,
        help_text=gettext_lazy("不填由系统生成并记录"),
    )
    departments = serializers.ListField(child=IdField(), required=False, default=list)
    grades = serializers.ListField(child=GradeChoiceField(), required=False, default=list)


class RecheckOpinionSerializer(serializers.Serializer):
    opinion = serializers.CharField(required=False, allow_blank=True, default="", max_length=4 * evaluation.MAX_TEXT)


class RecheckFinalizeSerializer(serializers.Serializer):
    """完成复核, as multipart form fields: the optional 复核报告 file."""

    report = serializers.FileField(
        required=False, allow_null=True, help_text=gettext_lazy("复核报告：PDF、图片或 Office 文件（可选）")
    )


class RecheckFeedbackSerializer(serializers.Serializer):
    comment = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=4 * evaluation.MAX_TEXT,
        help_text=gettext_lazy("不填即为无异议"),
    )


def _sheet_kwargs(data: dict) -> dict:
    if "lines" in data:
        data["lines"] = [dict(item) for item in data["lines"]]
    return data


#: a source's findings with their authors, compiled once per kind of source (every answer)
_FINDINGS: dict[type, PreparedModels] = {}


def _findings_of(source) -> list[Finding]:
    model = type(source)
    prepared = _FINDINGS.get(model)
    if prepared is None:
        prepared = _FINDINGS[model] = PreparedModels(
            lambda pk: findings.findings_of(model(pk=pk)).select_related("created_by"), pk=int
        )
    return prepared(pk=source.pk)


def _recheck_query(pk: int):
    """``Recheck.objects.filter(self_evaluation=…).first()`` as a queryset to compile once."""
    rechecks = Recheck.objects.filter(self_evaluation_id=pk)
    return (rechecks if rechecks.ordered else rechecks.order_by("pk"))[:1]


_RECHECK_OF = PreparedModels(_recheck_query, pk=int)


def _findings(source) -> list[dict[str, Any]]:
    return [
        {
            "id": f.pk,
            "category": f.category,
            "problem": f.problem,
            "basis": f.basis,
            "requirement": f.requirement,
            "created_by": str(f.created_by),
            "created_at": f.created_at,
        }
        for f in _findings_of(source)
    ]


# -- campaigns ------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary=gettext_lazy("绩效自评工作列表"),
        responses={200: CampaignSerializer(many=True), 403: FORBIDDEN},
    ),
    retrieve=extend_schema(
        summary=gettext_lazy("绩效自评工作（含分部门情况）"),
        responses={200: CampaignDetailSerializer, **READ_ERRORS},
    ),
)
class CampaignViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """绩效自评工作. Department roles see their own department's figures."""

    serializer_class = CampaignSerializer
    lookup_value_converter = "id"

    def get_queryset(self):
        user = self.request.user
        require_evaluation_reader(user, agency_ok=True)
        if agency_of(user) is not None and not reads_all(user):
            return EvaluationCampaign.objects.none()
        return campaign_rows(user)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        rows = page if page is not None else self.get_queryset()
        data = CampaignSerializer([campaign_data(c) for c in rows], many=True).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    def retrieve(self, request, *args, **kwargs):
        user = request.user
        # A role that reads no evaluation sees no campaign: 404 as for a missing one, so
        # the answer does not tell whether it exists (issue 16).
        readable = campaigns_for(user) if reads_all(user) or department_of(user) is not None else None
        campaign = get_object_or_404(readable if readable is not None else campaigns_for(user).none(), pk=kwargs["pk"])
        row = campaign_rows(user).get(pk=campaign.pk)
        qs = self_evaluations_for(user).filter(campaign=campaign)
        department = department_of(user)
        if department is not None:
            qs = qs.filter(project__department_id=department)
        overview = campaign_overview(qs)
        data = {
            **campaign_data(row),
            "departments": [
                {
                    "department": d["id"],
                    "code": d["code"],
                    "name": d["name"],
                    "projects": d["projects"],
                    "accepted": d["accepted"],
                    "by_grade": dict(zip([g.value for g in GRADES], d["grades"], strict=True)),
                    "excellent_good_rate": d["rate"],
                }
                for d in overview["departments"]
            ],
        }
        return Response(CampaignDetailSerializer(data).data)

    @extend_schema(
        summary=gettext_lazy("发起绩效自评（财政绩效科）"),
        description=gettext_lazy(
            "为该年度全部执行中的项目各生成一份绩效自评，并向各部门下达填报任务；在后台执行，返回 202 和任务，"
            "任务地址见 Location 头，完成后结果中的 campaign 为绩效自评工作 id。再次发起时只为尚未纳入的项目补发。"
        ),
        request=CampaignLaunchSerializer,
        responses={202: JobSerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
    )
    def create(self, request, *args, **kwargs):
        if not evaluation.can_launch(request.user):
            raise exceptions.PermissionDenied(_("只有财政绩效科可以发起绩效自评。"))
        data = _valid(CampaignLaunchSerializer, request.data)
        job = campaign_job_start(actor=request.user, **data)
        response = Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
        response["Location"] = reverse("job-detail", args=[job.pk])
        return response


# -- self-evaluations ------------------------------------------------------------------------


def _se_queryset(user):
    qs = self_evaluations_for(user)
    department = department_of(user)
    if department is not None:
        qs = qs.filter(project__department_id=department)
    elif not reads_all(user):
        qs = qs.none()
    return qs.order_by("campaign_id", "project__department__code", "project__code")


_SERIALIZERS = threading.local()


def _represent(serializer_class: type[serializers.Serializer], instance: Any) -> dict:
    """``serializer_class(instance).data`` (as a plain dict), from one instance of the
    serializer per thread and class: DRF deep-copies and binds a serializer's fields — the
    nested sheet's, lines' and findings' too — each time one is made, ~9 % of a completion
    over HTTP (issue 20's profiles), for the same fields every time. The answer's
    serializers read nothing but the instance (no context, no request); values, their
    time zone and language are taken when they are represented, not when fields are built."""
    kept = getattr(_SERIALIZERS, "by_class", None)
    if kept is None:
        kept = _SERIALIZERS.by_class = {}
    serializer = kept.get(serializer_class)
    if serializer is None:
        serializer = kept[serializer_class] = serializer_class()
    return serializer.to_representation(instance)


def _self_evaluation_for(user, pk) -> SelfEvaluation:
    """``get_object_or_404(_se_queryset(user).select_related("sheet"), pk=pk)`` — every action
    on one self-evaluation reads it first — compiled once per user shape
    (config.prepared.CompiledQueries.prepared, processes.selectors.user_shape: the query is
    built from nothing else) and run with the id. An id that is not a number in range, or a
    user who may see none, goes through the ORM as before (its 404 and messages)."""
    number = _int_or_none(pk)
    if number is not None and user.is_authenticated:
        prepared = compiled_queries.prepared(
            ("self_evaluation_get", user_shape(user)),
            lambda pk: _se_queryset(user).select_related("sheet").filter(pk=pk).order_by()[:1],
            pk=int,
        )
        try:
            found = prepared(pk=number)
        except EmptyResultSet:  # the user sees none: Django answers it without a statement
            pass
        else:
            if not found:
                raise Http404(f"No {SelfEvaluation._meta.object_name} matches the given query.")
            return found[0]
    return get_object_or_404(_se_queryset(user).select_related("sheet"), pk=pk)


def _int_or_none(value) -> int | None:
    """``value`` as the id field takes it (``int(value)``), when it is within range."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= MAX_INT else None


@extend_schema_view(
    list=extend_schema(
        summary=gettext_lazy("绩效自评列表"),
        parameters=[SelfEvaluationFilterSerializer],
        responses={200: SelfEvaluationSerializer(many=True), 400: BAD_REQUEST, 403: FORBIDDEN},
    ),
    retrieve=extend_schema(
        summary=gettext_lazy("绩效自评（含评分表）"), responses={200: SelfEvaluationDetailSerializer, **READ_ERRORS}
    ),
    update=extend_schema(
        summary=gettext_lazy("保存绩效自评（本部门经办人，待自评时）"),
        description=gettext_lazy(
            "金额以元为单位。指标错误以 lines.<指标行 id>.<字段> 为键返回；完整性和未满分指标的偏差原因、"
            "改进措施在提交时检查。带上 revision 时，若已被他人修改则返回 409。"
        ),
        request=SelfEvaluationSheetWriteSerializer,
        responses={200: SelfEvaluationDetailSerializer, **ACTION_ERRORS},
    ),
)
class SelfEvaluationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """绩效自评. One outside the user's visibility is 404, never 403."""

    serializer_class = SelfEvaluationSerializer
    lookup_value_converter = "id"
    http_method_names = ["get", "put", "post", "delete", "head", "options"]

    def get_queryset(self):
        if self.action == "list":
            require_evaluation_reader(self.request.user)
        return _se_queryset(self.request.user)

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        filters = _valid(SelfEvaluationFilterSerializer, self.request.query_params)
        for name, lookup in (("campaign", "campaign_id"), ("department", "project__department_id")):
            if filters.get(name):
                queryset = queryset.filter(**{lookup: filters[name]})
        for name in ("status", "grade"):
            if filters.get(name):
                queryset = queryset.filter(**{name: filters[name]})
        return queryset

    def get_object(self):
        return _self_evaluation_for(self.request.user, self.kwargs["pk"])

    def _answer(self, se: SelfEvaluation) -> Response:
        """The self-evaluation in full. ``se`` is fresh — read by get_object, or returned by
        the service that just changed it (re-read under its lock, with the campaign, the
        project and its department, the sheet) — and visible: it is not read again."""
        rows = rows_of(se.project, se.sheet)
        recheck = next(iter(_RECHECK_OF(pk=se.pk)), None)
        actions = transitions.available(se, cast(User, self.request.user))
        extra = {
            "editable": any(d.name == "submit" for d in actions),
            "available_actions": actions,
            "sheet": sheet_data(
                se.sheet, rows, budget=evaluation.budget_of(se.project), executed=se.project.executed_amount
            ),
            "leader_comment": se.leader_comment,
            "review_comment": se.review_comment,
            "findings": _findings(se),
            "recheck": (
                {
                    "id": recheck.pk,
                    "status": recheck.status,
                    "final_score": recheck.final_score,
                    "final_grade": recheck.final_grade,
                    "difference": recheck.difference,
                }
                if recheck is not None
                else None
            ),
            "recommendation": recommendation_data(
                evaluation.recommendation_for(se.project) if se.status == SelfEvaluationStatus.ACCEPTED else None
            ),
        }
        return Response(
            {**_represent(SelfEvaluationSerializer, se), **_represent(SelfEvaluationExtraSerializer, extra)}
        )

    def retrieve(self, request, *args, **kwargs):
        return self._answer(self.get_object())

    def update(self, request, pk=None):
        se = self.get_object()
        data = _sheet_kwargs(_valid(SelfEvaluationSheetWriteSerializer, request.data))
        return self._answer(evaluation.self_evaluation_save(evaluation=se, actor=request.user, **data))

    @extend_schema(
        summary=gettext_lazy("提交绩效自评（本部门经办人）"),
        description=gettext_lazy("检查完整性及未满分指标的偏差原因和改进措施后报部门负责人审核。"),
        request=None,
        responses={200: SelfEvaluationDetailSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._answer(evaluation.self_evaluation_submit(evaluation=self.get_object(), actor=request.user))

    @extend_schema(
        summary=gettext_lazy("部门审核绩效自评（部门负责人）"),
        request=SelfEvaluationDeptReviewSerializer,
        responses={200: SelfEvaluationDetailSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="dept-review", url_name="dept-review")
    def dept_review(self, request, pk=None):
        se = self.get_object()
        data = _valid(SelfEvaluationDeptReviewSerializer, request.data)
        return self._answer(evaluation.self_evaluation_dept_review(evaluation=se, actor=request.user, **data))

    @extend_schema(
        summary=gettext_lazy("财政确认绩效自评（财政绩效科）"),
        description=gettext_lazy("确认后得分和等次生效，项目转为已评价；退回须填写理由。"),
        request=SelfEvaluationReviewSerializer,
        responses={200: SelfEvaluationDetailSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        se = self.get_object()
        data = _valid(SelfEvaluationReviewSerializer, request.data)
        return self._answer(evaluation.self_evaluation_review(evaluation=se, actor=request.user, **data))

    @extend_schema(
        summary=gettext_lazy("试算得分（不保存）"),
        description=gettext_lazy("按所填内容计算各指标、各部分得分、总分和等次；尚不能评分的内容列在 issues 中。"),
        request=ScorePreviewWriteSerializer,
        responses={200: ScorePreviewSerializer, 400: BAD_REQUEST, **READ_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def preview(self, request, pk=None):
        se = self.get_object()
        data = _sheet_kwargs(_valid(ScorePreviewWriteSerializer, request.data))
        rows = rows_of(se.project, se.sheet)
        budget = se.sheet.budget if se.sheet is not None else evaluation.budget_of(se.project)
        executed = data.get("executed")
        if executed is None and "executed" not in data:
            executed = se.sheet.executed if se.sheet is not None else se.project.executed_amount
        result = sheet_preview(rows=rows, budget=budget, executed=executed, lines=data.get("lines", []))
        return Response(ScorePreviewSerializer(result).data)

    @extend_schema(
        summary=gettext_lazy("记录评价发现的问题（财政绩效科）"),
        request=EvaluationFindingWriteSerializer,
        responses={201: EvaluationFindingSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def findings(self, request, pk=None):
        return _finding_add(request, self.get_object())

    @extend_schema(
        summary=gettext_lazy("删除评价发现的问题"),
        request=None,
        responses={204: None, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["delete"], url_path="findings/<id:finding_pk>", url_name="finding")
    def finding(self, request, pk=None, finding_pk=None):
        source = self.get_object()
        found = get_object_or_404(Finding, pk=finding_pk, self_evaluation=source)
        findings.finding_remove(finding=found, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _finding_add(request, source) -> Response:
    data = _valid(EvaluationFindingWriteSerializer, request.data)
    found = findings.finding_add(source=source, actor=request.user, **data)
    return Response(
        EvaluationFindingSerializer(
            {
                "id": found.pk,
                "category": found.category,
                "problem": found.problem,
                "basis": found.basis,
                "requirement": found.requirement,
                "created_by": str(found.created_by),
                "created_at": found.created_at,
            }
        ).data,
        status=status.HTTP_201_CREATED,
    )


# -- re-checks -------------------------------------------------------------------------------


def _recheck_queryset(user):
    return (
        rechecks_for(user)
        .select_related("sample__campaign", "self_evaluation__sheet")
        .order_by("sample_id", "project__department__code", "project__code")
    )


@extend_schema_view(
    list=extend_schema(
        summary=gettext_lazy("复核列表"),
        parameters=[RecheckFilterSerializer],
        responses={200: RecheckSerializer(many=True), 400: BAD_REQUEST, 403: FORBIDDEN},
    ),
    retrieve=extend_schema(
        summary=gettext_lazy("复核（含评分表）"), responses={200: RecheckDetailSerializer, **READ_ERRORS}
    ),
    update=extend_schema(
        summary=gettext_lazy("保存复核评分（受托第三方机构）"),
        description=gettext_lazy(
            "首次保存时以部门自评表为底稿；部门反馈后仍可修正。带上 revision 时，若已被他人修改则返回 409。"
        ),
        request=ScoreSheetWriteSerializer,
        responses={200: RecheckDetailSerializer, **ACTION_ERRORS},
    ),
)
class RecheckViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """复核. One outside the user's visibility is 404, never 403."""

    serializer_class = RecheckSerializer
    lookup_value_converter = "id"
    http_method_names = ["get", "put", "post", "delete", "head", "options"]

    def get_queryset(self):
        if self.action == "list":
            require_evaluation_reader(self.request.user, agency_ok=True)
        return _recheck_queryset(self.request.user)

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        filters = _valid(RecheckFilterSerializer, self.request.query_params)
        for name, lookup in (
            ("campaign", "sample__campaign_id"),
            ("department", "project__department_id"),
            ("status", "status"),
        ):
            if filters.get(name):
                queryset = queryset.filter(**{lookup: filters[name]})
        return queryset

    def get_object(self):
        return get_object_or_404(_recheck_queryset(self.request.user), pk=self.kwargs["pk"])

    def _answer(self, recheck: Recheck) -> Response:
        user = self.request.user
        recheck = get_object_or_404(_recheck_queryset(user), pk=recheck.pk)
        self_sheet = recheck.self_evaluation.sheet
        shown = recheck.sheet or self_sheet
        budget = evaluation.budget_of(recheck.project)
        actions = transitions.available(recheck, cast(User, user))
        extra = {
            # the agency's sheet is open while it may submit it, and again before it finalizes
            "editable": any(d.name in ("rescore", "finalize") for d in actions),
            "available_actions": actions,
            "sheet": sheet_data(recheck.sheet, rows_of(recheck.project, shown), budget=budget)
            if recheck.sheet is not None or self_sheet is None
            else {**sheet_data(self_sheet, rows_of(recheck.project, self_sheet), budget=budget), "summary": ""},
            "self_sheet": sheet_data(self_sheet, rows_of(recheck.project, self_sheet), budget=budget)
            if self_sheet is not None
            else None,
            "agency_opinion": recheck.agency_opinion,
            "department_comment": recheck.department_comment,
            "sample_method": recheck.sample.method,
            "sample_seed": recheck.sample.seed,
            "due_at": recheck.sample.due_at,
            "findings": _findings(recheck),
            "report_url": reverse("workflows:recheck_report", args=[recheck.pk]) if recheck.report else None,
        }
        return Response({**RecheckSerializer(recheck).data, **RecheckExtraSerializer(extra).data})

    def retrieve(self, request, *args, **kwargs):
        return self._answer(self.get_object())

    @extend_schema(
        summary=gettext_lazy("抽取复核项目（财政绩效科）"),
        description=gettext_lazy(
            "self_evaluation_ids 为人工选取；否则按 size 随机抽取（可指定 seed、departments、grades），"
            "候选范围为该年度财政已确认且未被复核的自评。返回抽样记录（含种子与候选范围，可重现）。"
        ),
        request=RecheckSampleWriteSerializer,
        responses={201: RecheckSampleSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def create(self, request, *args, **kwargs):
        user = request.user
        if not evaluation.can_launch(user):
            raise exceptions.PermissionDenied(_("只有财政绩效科可以抽取复核项目。"))
        data = _valid(RecheckSampleWriteSerializer, request.data)
        campaign = get_object_or_404(campaigns_for(user), pk=data.pop("campaign"))
        agency = Agency.objects.filter(pk=data.pop("agency")).first()
        if agency is None:
            raise exceptions.ValidationError({"agency": [_("第三方机构不存在。")]})
        if data["self_evaluation_ids"] is None:
            data.pop("self_evaluation_ids")
        else:
            for name in ("size", "seed", "departments", "grades"):
                data.pop(name)
        sample = evaluation.recheck_sample(actor=user, campaign=campaign, agency=agency, **data)
        return Response(RecheckSampleSerializer(sample).data, status=status.HTTP_201_CREATED)

    def update(self, request, pk=None):
        recheck = self.get_object()
        data = _sheet_kwargs(_valid(ScoreSheetWriteSerializer, request.data))
        return self._answer(evaluation.recheck_save(recheck=recheck, actor=request.user, **data))

    @extend_schema(
        summary=gettext_lazy("提交复核结果（受托第三方机构）"),
        description=gettext_lazy("须填写复核意见；评分表须完整。提交后请部门反馈意见。"),
        request=RecheckOpinionSerializer,
        responses={200: RecheckDetailSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        recheck = self.get_object()
        data = _valid(RecheckOpinionSerializer, request.data)
        return self._answer(evaluation.recheck_submit(recheck=recheck, actor=request.user, **data))

    @extend_schema(
        summary=gettext_lazy("部门反馈复核意见（项目所属部门）"),
        request=RecheckFeedbackSerializer,
        responses={200: RecheckDetailSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def feedback(self, request, pk=None):
        recheck = self.get_object()
        data = _valid(RecheckFeedbackSerializer, request.data)
        return self._answer(evaluation.recheck_feedback(recheck=recheck, actor=request.user, **data))

    @extend_schema(
        summary=gettext_lazy("完成复核（受托第三方机构）"),
        description=gettext_lazy(
            "以复核评分表的得分为复核得分，与自评得分并列保存。可同时上传复核报告（multipart 的 report 字段），"
            "财政批准公开该年度汇总表后向社会公开。"
        ),
        request={"multipart/form-data": RecheckFinalizeSerializer, "application/json": RecheckFinalizeSerializer},
        responses={200: RecheckDetailSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser, JSONParser])
    def finalize(self, request, pk=None):
        recheck = self.get_object()
        data = _valid(RecheckFinalizeSerializer, request.data)
        return self._answer(evaluation.recheck_finalize(recheck=recheck, actor=request.user, report=data.get("report")))

    @extend_schema(
        summary=gettext_lazy("记录复核发现的问题（财政绩效科或受托机构）"),
        request=EvaluationFindingWriteSerializer,
        responses={201: EvaluationFindingSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def findings(self, request, pk=None):
        return _finding_add(request, self.get_object())

    @extend_schema(summary=gettext_lazy("删除复核发现的问题"), request=None, responses={204: None, **ACTION_ERRORS})
    @action(detail=True, methods=["delete"], url_path="findings/<id:finding_pk>", url_name="finding")
    def finding(self, request, pk=None, finding_pk=None):
        source = self.get_object()
        found = get_object_or_404(Finding, pk=finding_pk, recheck=source)
        findings.finding_remove(finding=found, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
