"""绩效运行监控 API (DESIGN §3.4, §6): the rounds (list; open one — a background job, 202
with its URL), a round's overview, the reports (scoped list with filters; detail with its
indicators) and every action on a report — save, submit, the leader's review, the finance
section's review, the disposal of a warned report.

Reads go through processes.selectors: the bureau-wide readers see everything; department
roles their own department's reports (a round's overview is scoped to their department);
anyone else nothing (empty lists, 404 for an object). Writes go through
workflows.services (which move the report's tasks) and processes.services.monitoring.
Errors follow processes.api.errors (400 field errors, 403, 404, 409). A refused indicator
names its field as the service does: ``indicators.<target row id>.<field>``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import Prefetch
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from processes.api.fields import DecimalText, FiscalYearField, IdField, MoneyField, flat_errors
from processes.api.indicators import JobSerializer
from processes.api.responses import BAD_REQUEST, FORBIDDEN
from processes.api.serializers import AvailableActionSerializer, ErrorSerializer
from processes.models import IndicatorProgress, MonitoringReport
from processes.numbers import MAX_INT
from processes.selectors import (
    RoundOverview,
    SpendingPace,
    monitoring_department_of,
    monitoring_filter,
    monitoring_report_get_for,
    monitoring_reports_for,
    monitoring_round_get_for,
    monitoring_rounds_counted_for,
    round_overview,
)
from processes.services.monitoring import REVIEW_DECISIONS, approved_rows, can_open, report_save
from processes.states import Direction, Disposal, Light, ReportStatus, RoundStatus
from processes.transitions import available
from processes.units import half_up

from .monitoring_forms import round_job_start
from .services import monitoring_dept_review, monitoring_dispose, monitoring_review, monitoring_submit

NOT_FOUND = OpenApiResponse(ErrorSerializer, description=gettext_lazy("不存在，或不在您的可见范围内。"))
CONFLICT = OpenApiResponse(
    ErrorSerializer, description=gettext_lazy("报告当前状态不允许此操作（如已被他人办理），或已被他人修改。")
)
ACTION_ERRORS = {400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT}
READ_ERRORS = {403: FORBIDDEN, 404: NOT_FOUND}


def _reason(reason: str) -> str:
    """A light's reason (a message id) as read; "" for none."""
    return _(reason) if reason else ""


def _pct(value: Decimal | None) -> Decimal | None:
    return None if value is None else half_up(value)


def money(**options) -> serializers.DecimalField:
    """An amount in yuan, as the models keep it (processes.models.MONEY: 16 digits, 2 places)."""
    return MoneyField(**options)


def rate(**options) -> serializers.DecimalField:
    """A percent to two places."""
    return serializers.DecimalField(max_digits=30, decimal_places=2, **options)


def amount_text(model: type[models.Model] = MonitoringReport, name: str = "executed", **options) -> DecimalText:
    """An amount as sent (string or number, yuan): the service reads it against
    ``model.name``'s column and says what is wrong."""
    options.setdefault("help_text", gettext_lazy('金额（元），如 "1200000.00"；空或 null 表示未填'))
    return DecimalText(model, name, min_value=0, **options)


# -- output ---------------------------------------------------------------------------------

# Lights and report statuses are strings whose values the description lists: as enums
# they would be one choice set under several names ("light", "spending_light") and a
# "status" in two components, which the schema generator warns about.


@extend_schema_field({"type": "string", "description": "red | yellow | green | blue | none"})
class LightField(serializers.CharField):
    """预警灯: red | yellow | green | blue | none (无法判定)."""


@extend_schema_field({"type": "string", "description": " | ".join(ReportStatus.values)})
class ReportStatusField(serializers.CharField):
    """A report's status."""


class RoundSerializer(serializers.Serializer):
    """A monitoring round. ``reports`` and ``red`` count the reports the caller may see
    (cancelled ones left out)."""

    id = serializers.IntegerField()
    fiscal_year = serializers.IntegerField()
    start_month = serializers.IntegerField()
    end_month = serializers.IntegerField()
    months = serializers.IntegerField(help_text=gettext_lazy("时序进度的月数（截止月份）"))
    title = serializers.CharField()
    due_at = serializers.DateTimeField()
    status = serializers.ChoiceField(choices=RoundStatus.choices)
    status_display = serializers.CharField(source="get_status_display")
    reports = serializers.IntegerField(source="reports_total")
    red = serializers.IntegerField(source="reports_red")
    opened_by = serializers.CharField()
    created_at = serializers.DateTimeField()


class PaceSerializer(serializers.Serializer):
    """支出进度: Σ executed ÷ Σ budget in force of the reports with an executed amount."""

    reports = serializers.IntegerField(help_text=gettext_lazy("纳入测算的报告数"))
    executed = money()
    budget = money()
    execution_rate = rate(allow_null=True, help_text=gettext_lazy("支出进度（%）"))
    time_pace = rate(help_text=gettext_lazy("时序进度（%）"))
    ratio = rate(allow_null=True, help_text=gettext_lazy("支出进度 ÷ 时序进度 × 100"))
    light = LightField()
    light_display = serializers.CharField()
    reason = serializers.CharField()


def pace_data(pace: SpendingPace) -> dict[str, Any]:
    reading = pace.reading
    return {
        "reports": pace.reports,
        "executed": pace.executed,
        "budget": pace.budget,
        "execution_rate": _pct(pace.execution_rate * 100) if pace.execution_rate is not None else None,
        "time_pace": _pct(pace.time_pace * 100),
        "ratio": _pct(pace.ratio),
        "light": reading.light,
        "light_display": str(Light(reading.light).label),
        "reason": _reason(reading.reason),
    }


class DepartmentRowSerializer(serializers.Serializer):
    department = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    total = serializers.IntegerField()
    by_light = serializers.DictField(child=serializers.IntegerField(), help_text=gettext_lazy("预警灯 → 报告数"))
    by_status = serializers.DictField(child=serializers.IntegerField(), help_text=gettext_lazy("状态 → 报告数"))
    pace = PaceSerializer()


class RedIndicatorSerializer(serializers.Serializer):
    target_row = serializers.IntegerField()
    name = serializers.CharField()
    reason = serializers.CharField()


class RedProjectSerializer(serializers.Serializer):
    report = serializers.IntegerField()
    project = serializers.IntegerField()
    project_code = serializers.CharField()
    project_name = serializers.CharField()
    department = serializers.IntegerField()
    department_name = serializers.CharField()
    spending_light = LightField()
    spending_reason = serializers.CharField()
    red_indicators = RedIndicatorSerializer(many=True)
    deviation_causes = serializers.CharField()
    measures = serializers.CharField()


class OverviewSerializer(serializers.Serializer):
    """A round at a glance: reports by light and status, by department, the red projects
    with their causes, and the spending pace of the reports selected by the filters."""

    round = RoundSerializer()
    total = serializers.IntegerField()
    by_light = serializers.DictField(child=serializers.IntegerField(), help_text=gettext_lazy("预警灯 → 报告数"))
    by_status = serializers.DictField(child=serializers.IntegerField(), help_text=gettext_lazy("状态 → 报告数"))
    pace = PaceSerializer()
    departments = DepartmentRowSerializer(many=True)
    red = RedProjectSerializer(many=True)


def overview_data(overview: RoundOverview, round_row) -> dict[str, Any]:
    return {
        "round": round_row,
        "total": overview.total,
        "by_light": overview.by_light,
        "by_status": overview.by_status,
        "pace": pace_data(overview.pace),
        "departments": [
            {
                "department": d.department_id,
                "code": d.code,
                "name": d.name,
                "total": d.total,
                "by_light": d.by_light,
                "by_status": d.by_status,
                "pace": pace_data(d.pace),
            }
            for d in overview.departments
        ],
        "red": [
            {
                "report": r.pk,
                "project": r.project_id,
                "project_code": r.project.code,
                "project_name": r.project.name,
                "department": r.project.department_id,
                "department_name": r.project.department.name,
                "spending_light": r.spending_light,
                "spending_reason": _reason(r.spending_reason),
                "red_indicators": [
                    {"target_row": i.target_row_id, "name": i.target_row.name, "reason": _reason(i.reason)}
                    for i in getattr(r, "red_indicators", [])
                ],
                "deviation_causes": r.deviation_causes,
                "measures": r.measures,
            }
            for r in overview.red
        ],
    }


class ReportSerializer(serializers.Serializer):
    """A monitoring report as lists show it."""

    id = serializers.IntegerField()
    round = serializers.IntegerField(source="round_id")
    round_title = serializers.CharField(source="round.title")
    project = serializers.IntegerField(source="project_id")
    project_code = serializers.CharField(source="project.code")
    project_name = serializers.CharField(source="project.name")
    department = serializers.IntegerField(source="project.department_id")
    department_name = serializers.CharField(source="project.department.name")
    status = ReportStatusField()
    status_display = serializers.CharField(source="get_status_display")
    light = LightField(help_text=gettext_lazy("项目预警灯（各灯中最差者）"))
    light_display = serializers.CharField(source="get_light_display")
    spending_light = LightField()
    spending_light_display = serializers.CharField(source="get_spending_light_display")
    spending_rate = rate(allow_null=True, help_text=gettext_lazy("支出进度 ÷ 时序进度 × 100"))
    budget = money(allow_null=True)
    adjusted_budget = money(allow_null=True)
    executed = money(allow_null=True)
    revision = serializers.IntegerField(help_text=gettext_lazy("修订号：保存时带上，他人已修改则返回 409"))
    updated_at = serializers.DateTimeField()


class IndicatorProgressSerializer(serializers.Serializer):
    """One target indicator's progress in the report, with its light and why."""

    target_row = serializers.IntegerField(source="target_row_id")
    name = serializers.CharField(source="target_row.name")
    direction = serializers.ChoiceField(source="target_row.direction", choices=Direction.choices)
    target_value = serializers.DecimalField(
        source="target_row.target_value", max_digits=18, decimal_places=4, allow_null=True
    )
    target_text = serializers.CharField(source="target_row.target_text")
    unit = serializers.CharField(source="target_row.unit")
    value = serializers.DecimalField(max_digits=18, decimal_places=4, allow_null=True)
    progress = serializers.CharField(
        help_text=gettext_lazy("定性指标完成情况：achieved（达成）| partly（部分达成）| not_achieved（未达成）")
    )
    progress_display = serializers.CharField(source="get_progress_display")
    likelihood = serializers.CharField(
        help_text=gettext_lazy("完成目标可能性：certain（确定能）| possible（有可能）| impossible（不可能）")
    )
    likelihood_display = serializers.CharField(source="get_likelihood_display")
    light = LightField()
    light_display = serializers.CharField(source="get_light_display")
    rate = rate(allow_null=True, help_text=gettext_lazy("完成进度比（%）"))
    reason = serializers.SerializerMethodField()

    def get_reason(self, item: IndicatorProgress) -> str:
        return _reason(item.reason)


class TargetRowBriefSerializer(serializers.Serializer):
    """A target row the report covers (send its id as ``target_row``)."""

    id = serializers.IntegerField()
    position = serializers.IntegerField()
    name = serializers.CharField()
    direction = serializers.ChoiceField(choices=Direction.choices)
    direction_display = serializers.CharField(source="get_direction_display")
    target_value = serializers.DecimalField(max_digits=18, decimal_places=4, allow_null=True)
    target_text = serializers.CharField()
    unit = serializers.CharField()
    quantitative = serializers.BooleanField(help_text=gettext_lazy("定量指标填 value；定性指标填 progress"))


class ReportDetailSerializer(ReportSerializer):
    """A report with everything it says: amounts, causes, the adjustment request, the
    review and disposal, the target rows it covers and each indicator's progress."""

    editable = serializers.BooleanField(help_text=gettext_lazy("待填报时可由本部门经办人保存"))
    expected_full_year = money(allow_null=True)
    budget_in_force = money(allow_null=True, help_text=gettext_lazy("测算支出进度所用预算：有调整后预算时用调整后预算"))
    spending_reason = serializers.SerializerMethodField()
    deviation_causes = serializers.CharField()
    measures = serializers.CharField()
    executed_imported = money(
        allow_null=True, help_text=gettext_lazy("国库支付数据截至期末的累计支付数；未导入时为 null")
    )
    executed_reason = serializers.CharField(help_text=gettext_lazy("执行数与支付数据不一致时的说明"))
    adjustment_requested = serializers.BooleanField()
    proposed_amount = money(allow_null=True)
    leader_comment = serializers.CharField()
    review_comment = serializers.CharField()
    disposal = serializers.CharField(help_text=gettext_lazy("adjust | suspend | stop_payments | no_action；未处置为空"))
    disposal_display = serializers.CharField(source="get_disposal_display")
    disposal_reason = serializers.CharField()
    amount_before = money(allow_null=True, help_text=gettext_lazy("调整预算时：调整前预算"))
    amount_after = money(allow_null=True, help_text=gettext_lazy("调整预算时：调整后预算"))
    submitted_at = serializers.DateTimeField(allow_null=True)
    reviewed_at = serializers.DateTimeField(allow_null=True)
    target_rows = serializers.SerializerMethodField()
    indicators = IndicatorProgressSerializer(many=True, source="indicators.all")
    available_actions = serializers.SerializerMethodField(
        help_text=gettext_lazy("当前用户现在可对此报告执行的操作（由状态机的声明得出）")
    )

    @extend_schema_field(AvailableActionSerializer(many=True))
    def get_available_actions(self, report: MonitoringReport) -> list[dict[str, Any]]:
        request = self.context.get("request")
        if request is None:
            return []
        return AvailableActionSerializer(available(report, request.user), many=True).data  # type: ignore[return-value]

    def get_spending_reason(self, report: MonitoringReport) -> str:
        return _reason(report.spending_reason)

    @extend_schema_field(TargetRowBriefSerializer(many=True))
    def get_target_rows(self, report: MonitoringReport) -> list[dict[str, Any]]:
        return TargetRowBriefSerializer(approved_rows(report.project), many=True).data  # type: ignore[return-value]


# -- input ----------------------------------------------------------------------------------


class RoundOpenSerializer(serializers.Serializer):
    """Open (or extend) a round: every executing project of the year, or ``project_ids``."""

    fiscal_year = FiscalYearField()
    start_month = serializers.IntegerField(min_value=1, max_value=12, default=1)
    end_month = serializers.IntegerField(min_value=1, max_value=12)
    due_at = serializers.DateTimeField(help_text=gettext_lazy("填报截止时间，须晚于现在"))
    title = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    project_ids = serializers.ListField(
        child=IdField(),
        required=False,
        allow_null=True,
        default=None,
        help_text=gettext_lazy("指定项目（该年度执行中的项目）；不填则为该年度全部执行中的项目"),
    )


class OverviewFilterSerializer(serializers.Serializer):
    department = IdField(required=False, help_text=gettext_lazy("预算部门 id"))
    light = serializers.ChoiceField(choices=Light.choices, required=False)
    status = serializers.ChoiceField(
        choices=ReportStatus.choices, required=False, help_text=gettext_lazy("不填时不含已取消的报告")
    )


class ReportFilterSerializer(OverviewFilterSerializer):
    round = IdField(required=False, help_text=gettext_lazy("监控轮次 id"))


class IndicatorWriteSerializer(serializers.Serializer):
    """One indicator's progress: ``value`` for ≥ ≤ = rows, ``progress`` for qualitative ones."""

    target_row = IdField(help_text=gettext_lazy("本项目审核通过的指标行 id（见 target_rows）"))
    value = DecimalText(IndicatorProgress, "value", min_value=0, help_text=gettext_lazy("截至期末完成值"))
    progress = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=16,
        help_text=gettext_lazy("定性指标完成情况：achieved（达成）| partly（部分达成）| not_achieved（未达成）"),
    )
    likelihood = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=12,
        help_text=gettext_lazy("完成目标可能性：certain（确定能）| possible（有可能）| impossible（不可能）"),
    )


class ReportWriteSerializer(serializers.Serializer):
    """What the department reports. Fields left out keep their saved value; ``indicators``
    sets the rows it names. The budgets are the project's (read-only: ``budget`` or
    ``adjusted_budget`` sent here are ignored)."""

    executed = amount_text()
    expected_full_year = amount_text()
    deviation_causes = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    measures = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    executed_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text=gettext_lazy("执行数与国库支付数据不一致时必填；未填执行数时取支付数据"),
    )
    adjustment_requested = serializers.BooleanField(required=False)
    proposed_amount = amount_text()
    indicators = IndicatorWriteSerializer(many=True, required=False)
    revision = IdField(required=False, allow_null=True, max_value=MAX_INT, help_text=gettext_lazy("填报开始时的修订号"))


class DeptReviewSerializer(serializers.Serializer):
    approve = serializers.BooleanField(help_text=gettext_lazy("true 通过；false 退回经办人（须填写理由）"))
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class ReviewSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(
        choices=[(d, d) for d in REVIEW_DECISIONS], help_text=gettext_lazy("clear 审核通过 | warn 预警 | return 退回")
    )
    comment = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=5000, help_text=gettext_lazy("预警或退回时必填")
    )


class DisposeSerializer(serializers.Serializer):
    disposal = serializers.ChoiceField(choices=Disposal.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    new_amount = amount_text(default=None)


def _valid(serializer_class, data, **kwargs) -> dict:
    """The body, validated; DRF's nested errors keyed like the service's (``a.0.b``)."""
    body = serializer_class(data=data, **kwargs)
    if not body.is_valid():
        raise exceptions.ValidationError(flat_errors(body.errors))
    return dict(body.validated_data)


# -- views ----------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary=gettext_lazy("监控轮次列表"),
        responses={200: RoundSerializer(many=True), 403: FORBIDDEN},
    ),
    retrieve=extend_schema(summary=gettext_lazy("监控轮次"), responses={200: RoundSerializer, **READ_ERRORS}),
)
class MonitoringRoundViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """绩效运行监控轮次. Department roles see the rounds holding their department's reports."""

    serializer_class = RoundSerializer
    lookup_value_converter = "id"

    def get_queryset(self):
        return monitoring_rounds_counted_for(self.request.user)

    def get_object(self):
        round_ = monitoring_round_get_for(self.request.user, self.kwargs["pk"])
        return self.get_queryset().get(pk=round_.pk)

    @extend_schema(
        summary=gettext_lazy("发起绩效运行监控（财政绩效科）"),
        description=gettext_lazy(
            "为该年度全部执行中的项目（或 project_ids 所列项目）各生成一份监控报告，并向各部门下达填报任务；"
            "在后台执行，返回 202 和任务，任务地址见 Location 头，完成后结果中的 round 为轮次 id。"
            "同一期间再次发起时，只为尚未纳入的项目补发报告。"
        ),
        request=RoundOpenSerializer,
        responses={202: JobSerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
    )
    def create(self, request, *args, **kwargs):
        if not can_open(request.user):
            raise exceptions.PermissionDenied(_("只有财政绩效科可以发起绩效运行监控。"))
        data = _valid(RoundOpenSerializer, request.data)
        job = round_job_start(actor=request.user, **data)
        response = Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
        response["Location"] = reverse("job-detail", args=[job.pk])
        return response

    @extend_schema(
        summary=gettext_lazy("监控轮次总览"),
        description=gettext_lazy(
            "按预警灯、状态和部门计数，红灯项目及其原因，支出进度（Σ执行数 ÷ Σ预算数，及与时序进度之比）。"
            "部门用户只看到本部门。"
        ),
        parameters=[OverviewFilterSerializer],
        responses={200: OverviewSerializer, 400: BAD_REQUEST, **READ_ERRORS},
    )
    @action(detail=True, methods=["get"])
    def overview(self, request, pk=None):
        round_row = self.get_object()
        filters = _valid(OverviewFilterSerializer, request.query_params)
        department = monitoring_department_of(request.user)
        if department is not None:
            filters["department"] = department
        overview = round_overview(round_row, filters)
        return Response(OverviewSerializer(overview_data(overview, round_row)).data)


def _report_queryset(user):
    return monitoring_reports_for(user).order_by("round_id", "project__department__code", "project__code")


def _detail(user, pk) -> MonitoringReport:
    return (
        _report_queryset(user)
        .prefetch_related(
            Prefetch(
                "indicators",
                queryset=IndicatorProgress.objects.select_related("target_row").order_by("target_row__position"),
            )
        )
        .get(pk=monitoring_report_get_for(user, pk).pk)
    )


@extend_schema_view(
    list=extend_schema(
        summary=gettext_lazy("监控报告列表"),
        parameters=[ReportFilterSerializer],
        responses={200: ReportSerializer(many=True), 400: BAD_REQUEST, 403: FORBIDDEN},
    ),
    retrieve=extend_schema(
        summary=gettext_lazy("监控报告详情（含各指标完成情况和预警灯）"),
        responses={200: ReportDetailSerializer, **READ_ERRORS},
    ),
    update=extend_schema(
        summary=gettext_lazy("保存监控报告（本部门经办人，待填报时）"),
        description=gettext_lazy(
            "金额以元为单位；未提交的字段保持原值。指标错误以 indicators.<指标行 id>.<字段> 为键返回。"
            "完整性（金额、每个指标的完成情况和可能性、红黄灯时的原因和措施）在提交时检查。"
            "带上 revision 时，若报告已被他人修改则返回 409。"
        ),
        request=ReportWriteSerializer,
        responses={200: ReportDetailSerializer, **ACTION_ERRORS},
    ),
)
class MonitoringReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """绩效监控报告. A report outside the user's visibility is 404, never 403."""

    serializer_class = ReportSerializer
    lookup_value_converter = "id"
    http_method_names = ["get", "put", "post", "head", "options"]

    def get_queryset(self):
        return _report_queryset(self.request.user)

    def get_serializer_class(self):
        if self.action == "retrieve":
            return ReportDetailSerializer
        return self.serializer_class

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        return monitoring_filter(queryset, _valid(ReportFilterSerializer, self.request.query_params))

    def get_object(self):
        return _detail(self.request.user, self.kwargs["pk"])

    def _answer(self, report: MonitoringReport) -> Response:
        detail = _detail(self.request.user, report.pk)
        return Response(ReportDetailSerializer(detail, context={"request": self.request}).data)

    def update(self, request, pk=None):
        report = self.get_object()
        data = _valid(ReportWriteSerializer, request.data)
        if "indicators" in data:
            data["indicators"] = [dict(item) for item in data["indicators"]]
        return self._answer(report_save(report=report, actor=request.user, **data))

    @extend_schema(
        summary=gettext_lazy("提交监控报告（本部门经办人）"),
        description=gettext_lazy("检查完整性后报部门负责人审核；不完整时返回 400 和各项问题。"),
        request=None,
        responses={200: ReportDetailSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._answer(monitoring_submit(report=self.get_object(), actor=request.user))

    @extend_schema(
        summary=gettext_lazy("部门审核监控报告（部门负责人）"),
        request=DeptReviewSerializer,
        responses={200: ReportDetailSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="dept-review", url_name="dept-review")
    def dept_review(self, request, pk=None):
        report = self.get_object()
        data = _valid(DeptReviewSerializer, request.data)
        return self._answer(monitoring_dept_review(report=report, actor=request.user, **data))

    @extend_schema(
        summary=gettext_lazy("财政审核监控报告（财政绩效科）"),
        description=gettext_lazy(
            "clear 审核通过；warn 预警（待处置）；return 退回部门重新填报。预警或退回须填写意见。"
        ),
        request=ReviewSerializer,
        responses={200: ReportDetailSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        report = self.get_object()
        data = _valid(ReviewSerializer, request.data)
        return self._answer(monitoring_review(report=report, actor=request.user, **data))

    @extend_schema(
        summary=gettext_lazy("处置预警项目（财政绩效科）"),
        description=gettext_lazy(
            "adjust 调整预算（须填 new_amount，项目调整后预算随之改变，调整前后金额记录在报告中）；"
            "suspend 暂停项目；stop_payments 停止拨款；no_action 不作处理。均须填写理由。"
        ),
        request=DisposeSerializer,
        responses={200: ReportDetailSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def dispose(self, request, pk=None):
        report = self.get_object()
        data = _valid(DisposeSerializer, request.data)
        return self._answer(monitoring_dispose(report=report, actor=request.user, **data))
