"""执行数据 API (docs/processes/execution-data.md): /api/payments/ and /api/payment-plans/ —
the rows the caller may see (filters ``year``, ``project``), and ``batch`` (POST, the finance
section): a JSON batch ``{"rows": [{"year", "project_code", "month", "amount"}, …]}`` (plans:
``planned_amount``), checked at once — 400 with every error by row and column, nothing
written — then imported as a background job: 202 with the job (GET /api/jobs/{id}/ for its
progress and counts).
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from processes.api.fields import FiscalYearField, IdField
from processes.api.indicators import JobSerializer
from processes.api.responses import BAD_REQUEST, FORBIDDEN
from processes.execution_selectors import payment_plans_for, payments_for
from processes.services import execution as services

ROW_ERRORS = OpenApiResponse(
    inline_serializer(
        "ExecutionImportErrors",
        {
            "detail": serializers.CharField(),
            "errors": inline_serializer(
                "ExecutionImportError",
                {
                    "row": serializers.IntegerField(allow_null=True, help_text=_("行号（rows 中的第几行，从 1 起）")),
                    "column": serializers.CharField(help_text=_("列名（中文）")),
                    "message": serializers.CharField(),
                },
                many=True,
            ),
        },
    ),
    description=_("数据不合法：按行列出全部错误，不写入任何数据。"),
)


class MonthlyAmountSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    project = serializers.IntegerField(source="project_id")
    project_code = serializers.CharField(source="project.code")
    year = serializers.IntegerField(source="project.fiscal_year")
    month = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    updated_at = serializers.DateTimeField()


class MonthlyAmountFilterSerializer(serializers.Serializer):
    year = FiscalYearField(required=False)
    project = IdField(required=False)


class BatchRowSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    project_code = serializers.CharField()
    month = serializers.IntegerField()
    amount = serializers.CharField(required=False, help_text=_("支付数据：支付金额（元），最多两位小数"))
    planned_amount = serializers.CharField(required=False, help_text=_("资金支付计划：计划支付金额（元）"))


class BatchSerializer(serializers.Serializer):
    rows = BatchRowSerializer(many=True)


class _MonthlyAmountViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    kind = services.PAYMENTS
    serializer_class = MonthlyAmountSerializer

    def get_queryset(self):
        selector = payments_for if self.kind == services.PAYMENTS else payment_plans_for
        qs = selector(self.request.user).order_by("project__fiscal_year", "project__code", "month")
        if self.action != "list":
            return qs
        filters = MonthlyAmountFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        if "year" in filters.validated_data:
            qs = qs.filter(project__fiscal_year=filters.validated_data["year"])
        if "project" in filters.validated_data:
            qs = qs.filter(project_id=filters.validated_data["project"])
        return qs

    def _batch(self, request):
        try:
            job = services.import_json_start(kind=self.kind, actor=request.user, body=request.data)
        except services.ExecutionImportRejected as exc:
            return Response(
                {
                    "detail": gettext("数据有误，未导入任何数据。"),
                    "errors": [{"row": e.row, "column": e.column, "message": str(e.message)} for e in exc.errors],
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        response = Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
        response["Location"] = reverse("job-detail", args=[job.pk])
        return response


@extend_schema_view(
    list=extend_schema(
        summary=_("支付数据（按项目、月份）"),
        parameters=[MonthlyAmountFilterSerializer],
        responses={200: MonthlyAmountSerializer(many=True), 400: BAD_REQUEST},
    )
)
class PaymentViewSet(_MonthlyAmountViewSet):
    """支付数据 of the projects the caller sees (a department: its own)."""

    kind = services.PAYMENTS

    @extend_schema(
        summary=_("导入支付数据（财政绩效科，JSON 批量）"),
        description=_(
            "rows 中每行为 year、project_code、month、amount（元）。先整体校验：有错误时返回 400 并按行列出全部错误，"
            "不写入任何数据；否则返回 202 和后台任务。同一项目同一月份再次发送时替换原金额。"
        ),
        request=BatchSerializer,
        responses={202: JobSerializer, 400: ROW_ERRORS, 403: FORBIDDEN},
    )
    @action(detail=False, methods=["post"])
    def batch(self, request):
        return self._batch(request)


@extend_schema_view(
    list=extend_schema(
        summary=_("资金支付计划（按项目、月份）"),
        parameters=[MonthlyAmountFilterSerializer],
        responses={200: MonthlyAmountSerializer(many=True), 400: BAD_REQUEST},
    )
)
class PaymentPlanViewSet(_MonthlyAmountViewSet):
    """资金支付计划 of the projects the caller sees."""

    kind = services.PLANS

    @extend_schema(
        summary=_("导入资金支付计划（财政绩效科，JSON 批量）"),
        description=_("rows 中每行为 year、project_code、month、planned_amount（元）。校验与替换规则同支付数据。"),
        request=BatchSerializer,
        responses={202: JobSerializer, 400: ROW_ERRORS, 403: FORBIDDEN},
    )
    @action(detail=False, methods=["post"])
    def batch(self, request):
        return self._batch(request)
