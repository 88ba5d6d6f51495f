"""绩效指标库 API (DESIGN §2, §6): the library (scoped list with filters, detail), a
department's proposal, the finance section's decision, edit and (de)activation, the XLSX
import (a background job: 202 with the job's URL), export and template; and the state of
a background job (GET /api/jobs/{id}/, its starter only).

Reads go through processes.selectors (another department's row is 404, never 403);
writes through processes.services.indicators; errors follow processes.api.errors
(400 field errors, 403, 404, 409).
"""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from accounts.models import Department
from processes.api.fields import IdField
from processes.models import Indicator, Job
from processes.selectors import indicator_filter, indicator_get_for, indicator_list_for, job_get_for
from processes.services import indicators as services
from processes.services.jobs import job_kind
from processes.states import (
    Direction,
    IndicatorLevel1,
    IndicatorLevel2,
    IndicatorScope,
    IndicatorStatus,
)

from .responses import BAD_REQUEST, FORBIDDEN
from .serializers import ErrorSerializer

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NOT_FOUND = OpenApiResponse(ErrorSerializer, description=_("指标不存在，或不在您的可见范围内。"))
JOB_NOT_FOUND = OpenApiResponse(ErrorSerializer, description=_("任务不存在，或不是您发起的。"))
CONFLICT = OpenApiResponse(ErrorSerializer, description=_("指标当前状态不允许此操作（如已审核），或已被他人修改。"))
ERRORS = {400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT}
WORKBOOK = OpenApiResponse(OpenApiTypes.BINARY, description=_("Excel 工作簿（.xlsx），格式同导入模板。"))


# -- output ----------------------------------------------------------------------------------


class IndicatorSerializer(serializers.ModelSerializer):
    """A row of the library (or a proposal). Reads only what the list selector joins."""

    level1_display = serializers.CharField(source="get_level1_display", read_only=True)
    level2_display = serializers.CharField(source="get_level2_display", read_only=True)
    direction_display = serializers.CharField(source="get_direction_display", read_only=True)
    scope_display = serializers.CharField(source="get_scope_display", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    department_code = serializers.CharField(source="department.code", read_only=True, allow_null=True, default=None)
    department_name = serializers.CharField(source="department.name", read_only=True, allow_null=True, default=None)

    class Meta:
        model = Indicator
        fields = [
            "id",
            "code",
            "level1",
            "level1_display",
            "level2",
            "level2_display",
            "name",
            "unit",
            "direction",
            "direction_display",
            "scope",
            "scope_display",
            "department",
            "department_code",
            "department_name",
            "description",
            "scoring_standard",
            "active",
            "status",
            "status_display",
            "decision_comment",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class JobSerializer(serializers.ModelSerializer):
    """A background job's progress and, once finished, its result or its errors (each
    {row, column, message}; row is the Excel row number, null for the file as a whole)."""

    status_display = serializers.CharField(source="get_status_display", read_only=True)
    phase_display = serializers.SerializerMethodField()
    kind_display = serializers.SerializerMethodField()
    percent = serializers.IntegerField(read_only=True)
    finished = serializers.BooleanField(read_only=True)
    result = serializers.DictField(read_only=True)
    # The ignore: the stubs see this field shadowing Serializer.errors; DRF's metaclass moves
    # declared fields out of the class, and the API key is "errors".
    errors = serializers.ListField(child=serializers.DictField(), read_only=True)  # type: ignore[assignment]
    page = serializers.SerializerMethodField(help_text=_("显示进度的网页地址"))

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "kind_display",
            "status",
            "status_display",
            "phase",
            "phase_display",
            "done",
            "total",
            "percent",
            "finished",
            "result",
            "errors",
            "created_at",
            "started_at",
            "finished_at",
            "page",
        ]
        read_only_fields = fields

    def get_phase_display(self, job) -> str:
        return gettext(job.phase) if job.phase else ""

    def get_kind_display(self, job) -> str:
        return str(job_kind(job.kind).label)

    def get_page(self, job) -> str:
        return reverse("processes:job_detail", args=[job.pk])


# -- input ----------------------------------------------------------------------------------


class IndicatorFilterSerializer(serializers.Serializer):
    """Query parameters of the list and the export (``processes.selectors.indicator_filter``)."""

    q = serializers.CharField(required=False, allow_blank=True, help_text=_("按编码、名称或指标解释搜索"))
    level1 = serializers.ChoiceField(choices=IndicatorLevel1.choices, required=False)
    level2 = serializers.ChoiceField(choices=IndicatorLevel2.choices, required=False)
    scope = serializers.ChoiceField(choices=IndicatorScope.choices, required=False)
    department = IdField(required=False, help_text=_("部门 id"))
    direction = serializers.ChoiceField(choices=Direction.choices, required=False)
    active = serializers.ChoiceField(choices=["true", "false"], required=False, help_text=_("true 启用；false 停用"))
    status = serializers.ChoiceField(
        choices=IndicatorStatus.choices,
        required=False,
        default=IndicatorStatus.APPROVED,
        help_text=_("默认只列已入库的指标；proposed / declined 为部门提议（本部门或财政绩效科可见）。"),
    )


class IndicatorProposeSerializer(serializers.Serializer):
    """A department's proposal; the rules (level 2 under level 1, unit of a quantitative
    indicator) are the service's, reported on the fields."""

    level1 = serializers.ChoiceField(choices=IndicatorLevel1.choices)
    level2 = serializers.ChoiceField(choices=IndicatorLevel2.choices)
    name = serializers.CharField(max_length=200)
    unit = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    direction = serializers.ChoiceField(choices=Direction.choices)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    scoring_standard = serializers.CharField(required=False, allow_blank=True, default="")


class IndicatorUpdateSerializer(serializers.Serializer):
    """A PATCH of a library row (finance section): the fields given change, the rest stay."""

    code = serializers.CharField(max_length=40, required=False)
    level1 = serializers.ChoiceField(choices=IndicatorLevel1.choices, required=False)
    level2 = serializers.ChoiceField(choices=IndicatorLevel2.choices, required=False)
    name = serializers.CharField(max_length=200, required=False)
    unit = serializers.CharField(max_length=32, required=False, allow_blank=True)
    direction = serializers.ChoiceField(choices=Direction.choices, required=False)
    scope = serializers.ChoiceField(choices=IndicatorScope.choices, required=False)
    department = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(), required=False, allow_null=True, pk_field=IdField()
    )
    description = serializers.CharField(required=False, allow_blank=True)
    scoring_standard = serializers.CharField(required=False, allow_blank=True)

    def validate(self, attrs):
        unknown = set(getattr(self, "initial_data", {})) - set(self.fields) - {"csrfmiddlewaretoken"}
        if unknown:
            raise serializers.ValidationError({name: _("此字段不能通过接口写入。") for name in sorted(unknown)})
        return attrs


class IndicatorDecideSerializer(serializers.Serializer):
    approve = serializers.BooleanField(help_text=_("true 审核入库；false 不予入库（须填 comment）"))
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    code = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=40, help_text=_("入库编码，可不填")
    )


class IndicatorActiveSerializer(serializers.Serializer):
    active = serializers.BooleanField(help_text=_("true 启用；false 停用"))


class IndicatorImportSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=_("Excel 工作簿（.xlsx），格式同导入模板"))


# -- views ----------------------------------------------------------------------------------


def _xlsx(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@extend_schema_view(
    list=extend_schema(
        summary=_("绩效指标库列表"),
        parameters=[IndicatorFilterSerializer],
        responses={200: IndicatorSerializer(many=True), 400: BAD_REQUEST, 403: FORBIDDEN},
    ),
    retrieve=extend_schema(summary=_("指标详情"), responses={200: IndicatorSerializer, 403: FORBIDDEN, 404: NOT_FOUND}),
    partial_update=extend_schema(
        summary=_("修改指标库中的指标（财政绩效科）"),
        request=IndicatorUpdateSerializer,
        responses={200: IndicatorSerializer, **ERRORS},
    ),
)
class IndicatorViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """绩效指标库. Scoped by ``indicator_list_for``."""

    serializer_class = IndicatorSerializer
    lookup_value_converter = "id"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return indicator_list_for(self.request.user)

    def get_object(self):
        return indicator_get_for(self.request.user, self.kwargs["pk"])

    def filter_queryset(self, queryset):
        if self.action not in ("list", "export"):
            return queryset
        filters = IndicatorFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return indicator_filter(queryset, filters.validated_data)

    def _detail(self, indicator: Indicator, code: int = status.HTTP_200_OK) -> Response:
        return Response(IndicatorSerializer(indicator_get_for(self.request.user, indicator.pk)).data, status=code)

    def partial_update(self, request, *args, **kwargs):
        indicator = self.get_object()
        body = IndicatorUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._detail(services.indicator_update(indicator=indicator, actor=request.user, **body.validated_data))

    @extend_schema(
        summary=_("提出部门个性化指标（部门经办人）"),
        request=IndicatorProposeSerializer,
        responses={201: IndicatorSerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
    )
    @action(detail=False, methods=["post"])
    def proposals(self, request):
        body = IndicatorProposeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        indicator = services.indicator_propose(actor=request.user, **body.validated_data)
        return self._detail(indicator, status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("审核部门提出的指标（财政绩效科）"),
        description=_(
            "approve 为 true 时审核入库（可指定入库编码）；为 false 时不予入库，须填写理由。已审核的指标返回 409。"
        ),
        request=IndicatorDecideSerializer,
        responses={200: IndicatorSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        indicator = self.get_object()
        body = IndicatorDecideSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        indicator = services.indicator_decide(
            indicator=indicator,
            actor=request.user,
            approve=data["approve"],
            comment=data["comment"],
            code=data["code"] or None,
        )
        return self._detail(indicator)

    @extend_schema(
        summary=_("启用或停用指标（财政绩效科）"),
        request=IndicatorActiveSerializer,
        responses={200: IndicatorSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def active(self, request, pk=None):
        indicator = self.get_object()
        body = IndicatorActiveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        indicator = services.indicator_set_active(
            indicator=indicator, actor=request.user, active=body.validated_data["active"]
        )
        return self._detail(indicator)

    @extend_schema(
        summary=_("导入指标库（财政绩效科）"),
        description=_(
            "上传 .xlsx 文件，在后台导入；返回 202 和任务，任务地址见 Location 头。"
            "用 GET /api/jobs/{id}/ 查看进度、结果（新增、更新、未变的行数）或按行列出的错误。"
        ),
        request={"multipart/form-data": IndicatorImportSerializer},
        responses={202: JobSerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        url_name="import",
        parser_classes=[MultiPartParser, FormParser],
    )
    def import_(self, request):
        body = IndicatorImportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        job = services.indicator_import_start(actor=request.user, file=body.validated_data["file"])
        response = Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
        response["Location"] = reverse("job-detail", args=[job.pk])
        return response

    @extend_schema(
        summary=_("导出指标库（当前筛选条件）"),
        parameters=[IndicatorFilterSerializer],
        responses={(200, XLSX): WORKBOOK, 400: BAD_REQUEST, 403: FORBIDDEN},
    )
    @action(detail=False, methods=["get"])
    def export(self, request):
        rows = self.filter_queryset(self.get_queryset())
        return _xlsx(services.indicators_export_workbook(rows), f"indicators-{timezone.localdate():%Y%m%d}.xlsx")

    @extend_schema(summary=_("指标库导入模板"), responses={(200, XLSX): WORKBOOK, 403: FORBIDDEN})
    @action(detail=False, methods=["get"])
    def template(self, request):
        return _xlsx(services.indicator_template_workbook(), "indicator-template.xlsx")


@extend_schema_view(
    retrieve=extend_schema(
        summary=_("后台任务的进度与结果"), responses={200: JobSerializer, 403: FORBIDDEN, 404: JOB_NOT_FOUND}
    )
)
class JobViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """后台任务: only the person who started a job sees it."""

    serializer_class = JobSerializer
    lookup_value_converter = "id"

    def get_queryset(self):
        return Job.objects.filter(created_by_id=self.request.user.pk)

    def get_object(self):
        return job_get_for(self.request.user, self.kwargs["pk"])
