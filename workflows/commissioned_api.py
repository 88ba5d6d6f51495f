"""重点评价 and 部门整体绩效评价 API (DESIGN §3.5, §6): /api/evaluations/commissioned/ — the
list (filters year, kind, status) and the finance section's commission, an evaluation's
detail (framework, scores, panel with each member's suggestions, findings, the actions
the caller may take now), and one POST per step of the chain: plan, review-plan,
fieldwork, draft (multipart), comment, draw, suggestions (the caller's own seat),
remind (the agency reminds the members yet to submit: the user ids reminded and skipped),
finalize (multipart), return-final, disclose; findings (POST) and findings/{id} (DELETE).

Reads go through processes.selectors.commissioned_for (an evaluation the caller may not
see is 404); writes through processes.services.commissioned and services.findings; errors
follow processes.api.errors (400 field errors keyed as the service keys them —
``framework.decision``, ``scores.output``, ``suggestions.2`` —, 403 wrong role, 409 wrong
status or acting twice).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from accounts.models import Agency, Department
from processes.api.fields import FiscalYearField, IdField
from processes.api.responses import BAD_REQUEST, FORBIDDEN
from processes.api.serializers import ErrorSerializer
from processes.models import BudgetProject, CommissionedEvaluation, EvaluationPanelMember, ExpertSuggestion, Finding
from processes.selectors import commissioned_for, commissioned_get_for
from processes.services import commissioned as services
from processes.services.findings import finding_add, finding_remove, findings_of
from processes.states import EvaluationKind, EvaluationStatus, FrameworkDimension, SuggestionAspect
from processes.units import percent

NOT_FOUND = OpenApiResponse(ErrorSerializer, description=_("评价不存在，或不在您的可见范围内。"))
CONFLICT = OpenApiResponse(ErrorSerializer, description=_("评价当前状态不允许此操作，或已被他人处理。"))
ACTION_ERRORS = {400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT}
MULTIPART = [MultiPartParser, FormParser]


# -- output ----------------------------------------------------------------------------------

# Kinds, statuses and grades are strings whose values the description lists: as enums they
# would be a "kind" and a "status" in several components with other choice sets, and the
# grades the same choice set as the target ratings, which the schema generator warns about.


@extend_schema_field({"type": "string", "description": " | ".join(EvaluationKind.values)})
class KindField(serializers.CharField):
    """key (重点评价) | department (部门整体绩效评价)."""


@extend_schema_field({"type": "string", "description": " | ".join(EvaluationStatus.values)})
class StatusField(serializers.CharField):
    """The evaluation's status."""


@extend_schema_field({"type": "string", "description": "excellent | good | fair | poor；未评定时为空"})
class GradeField(serializers.CharField):
    """优 / 良 / 中 / 差."""


@extend_schema_field({"type": "string", "description": "expert | deputy"})
class SeatKindField(serializers.CharField):
    """专家 or 人大代表."""


@extend_schema_field({"type": "string", "description": " | ".join(EvaluationKind.values)})
class KindChoiceField(serializers.ChoiceField):
    pass


@extend_schema_field({"type": "string", "description": " | ".join(EvaluationStatus.values)})
class StatusChoiceField(serializers.ChoiceField):
    pass


class CommissionedSuggestionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ExpertSuggestion
        fields = ["id", "position", "text", "aspect", "created_at"]
        read_only_fields = fields


class CommissionedPanelMemberSerializer(serializers.ModelSerializer):
    """A seat of the expert review panel with the member's suggestions, in order."""

    name = serializers.CharField(source="user.__str__", read_only=True)
    kind = SeatKindField(read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    suggestions = CommissionedSuggestionSerializer(many=True, read_only=True)

    class Meta:
        model = EvaluationPanelMember
        fields = ["id", "seat", "user", "name", "kind", "kind_display", "sector_expert", "submitted_at", "suggestions"]
        read_only_fields = fields


class CommissionedFindingSerializer(serializers.ModelSerializer):
    """评价发现的问题: problem, basis, requirement."""

    class Meta:
        model = Finding
        fields = ["id", "category", "problem", "basis", "requirement", "created_by", "created_at"]
        read_only_fields = fields


class CommissionedListSerializer(serializers.ModelSerializer):
    """A row of the list (reads only what the selector joins)."""

    kind = KindField(read_only=True)
    status = StatusField(read_only=True)
    grade = GradeField(read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    grade_display = serializers.CharField(source="get_grade_display", read_only=True)
    department_name = serializers.CharField(source="department.name", read_only=True)
    project_code = serializers.CharField(source="project.code", read_only=True, allow_null=True, default=None)
    project_name = serializers.CharField(source="project.name", read_only=True, allow_null=True, default=None)
    agency_name = serializers.CharField(source="agency.name", read_only=True)
    completion_rate = serializers.SerializerMethodField(help_text=_("完成率（%），两位小数；无预算数时为 null"))

    class Meta:
        model = CommissionedEvaluation
        fields = [
            "id",
            "kind",
            "kind_display",
            "title",
            "fiscal_year",
            "department",
            "department_name",
            "project",
            "project_code",
            "project_name",
            "agency",
            "agency_name",
            "due_at",
            "status",
            "status_display",
            "budget",
            "executed",
            "completion_rate",
            "score",
            "grade",
            "grade_display",
            "published_at",
            "revision",
        ]
        read_only_fields = fields

    def get_completion_rate(self, evaluation) -> str | None:
        rate = evaluation.completion_rate
        return None if rate is None else str(percent(rate))


class CommissionedDetailSerializer(CommissionedListSerializer):
    """An evaluation with every stage's data, its panel and suggestions, its findings and
    the actions the requesting user may take now (slugs of the POST endpoints)."""

    framework = serializers.DictField(child=serializers.CharField(), read_only=True, help_text=_("维度 → 权重"))
    scores = serializers.DictField(child=serializers.CharField(), read_only=True, help_text=_("维度 → 得分"))
    panel = serializers.SerializerMethodField()
    findings = serializers.SerializerMethodField()
    actions = serializers.SerializerMethodField()
    draft_report_url = serializers.SerializerMethodField()
    report_url = serializers.SerializerMethodField()

    class Meta(CommissionedListSerializer.Meta):
        fields = [
            *CommissionedListSerializer.Meta.fields,
            "framework",
            "plan",
            "plan_comment",
            "final_return_comment",
            "fieldwork_note",
            "draft_report_url",
            "department_comment",
            "draw_seed",
            "scores",
            "conclusion",
            "report_url",
            "disclosure_approved_by",
            "finalized_at",
            "commissioned_by",
            "created_at",
            "panel",
            "findings",
            "actions",
        ]
        read_only_fields = fields

    @extend_schema_field(CommissionedPanelMemberSerializer(many=True))
    def get_panel(self, evaluation) -> list[dict[str, Any]]:
        members = (
            EvaluationPanelMember.objects.filter(evaluation=evaluation)
            .select_related("user")
            .prefetch_related(Prefetch("suggestions", queryset=ExpertSuggestion.objects.order_by("position")))
            .order_by("seat")
        )
        return list(CommissionedPanelMemberSerializer(members, many=True).data)

    @extend_schema_field(CommissionedFindingSerializer(many=True))
    def get_findings(self, evaluation) -> list[dict[str, Any]]:
        return list(CommissionedFindingSerializer(findings_of(evaluation), many=True).data)

    def get_actions(self, evaluation) -> list[str]:
        request = self.context.get("request")
        return services.available_actions(evaluation, request.user) if request is not None else []

    def get_draft_report_url(self, evaluation) -> str | None:
        if not evaluation.draft_report:
            return None
        return reverse("workflows:commissioned_file", args=[evaluation.pk, "draft"])

    def get_report_url(self, evaluation) -> str | None:
        if not evaluation.report:
            return None
        return reverse("workflows:commissioned_file", args=[evaluation.pk, "report"])


# -- input -----------------------------------------------------------------------------------


class CommissionedFilterSerializer(serializers.Serializer):
    year = FiscalYearField(required=False, help_text=_("年度"))
    kind = KindChoiceField(choices=EvaluationKind.choices, required=False)
    status = StatusChoiceField(choices=EvaluationStatus.choices, required=False)


class CommissionedCreateSerializer(serializers.Serializer):
    """委托: kind key needs project; kind department needs department and fiscal_year."""

    kind = KindChoiceField(choices=EvaluationKind.choices)
    agency = serializers.PrimaryKeyRelatedField(
        queryset=Agency.objects.all(),
        pk_field=IdField(),
        required=False,
        allow_null=True,
        default=None,
        help_text=_("不填则按评价年度的整体委托机构"),
    )
    due_at = serializers.DateTimeField()
    project = serializers.PrimaryKeyRelatedField(
        queryset=BudgetProject.objects.all(), required=False, allow_null=True, pk_field=IdField()
    )
    department = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(), required=False, allow_null=True, pk_field=IdField()
    )
    fiscal_year = FiscalYearField(required=False, allow_null=True)
    title = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class CommissionedPlanSerializer(serializers.Serializer):
    framework = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        help_text=_("decision / process / output / outcome → 权重，合计 100，最多两位小数"),
    )
    plan = serializers.CharField(allow_blank=True, max_length=20000)


class CommissionedReviewPlanSerializer(serializers.Serializer):
    approve = serializers.BooleanField(help_text=_("true 批准；false 退回（须填 comment）"))
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class CommissionedReturnFinalSerializer(serializers.Serializer):
    comment = serializers.CharField(allow_blank=True, max_length=2000, help_text=_("退回理由（必填）"))


class CommissionedDraftSerializer(serializers.Serializer):
    note = serializers.CharField(allow_blank=True, max_length=20000, help_text=_("现场评价情况"))
    draft_report = serializers.FileField(required=False, allow_null=True, help_text=_("PDF、图片或 Office 文件"))


class CommissionedCommentSerializer(serializers.Serializer):
    comment = serializers.CharField(allow_blank=True, max_length=5000, help_text=_("没有意见请填写“无异议”"))


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string"},
            {
                "type": "object",
                "properties": {
                    "text": {"type": "string"},
                    "aspect": {"type": "string", "enum": ["", *SuggestionAspect.values]},
                },
                "required": ["text"],
            },
        ]
    }
)
class SuggestionItemField(serializers.JSONField):
    """One suggestion: its text, or {"text", "aspect"} (implementation 项目实施 / finance 财务管理 /
    performance 绩效情况); the service checks both."""


class CommissionedSuggestionsSerializer(serializers.Serializer):
    suggestions = serializers.ListField(
        child=SuggestionItemField(),
        allow_empty=True,
        help_text=_("评审建议，每条一项，1 至 20 条，每条不超过 2000 字；可写成 {text, aspect} 注明方面"),
    )


class CommissionedFinalizeSerializer(serializers.Serializer):
    """The result, as multipart form fields: ``scores.<dimension>`` for each dimension,
    conclusion, the report file, and (department evaluations only) budget and executed."""

    conclusion = serializers.CharField(allow_blank=True, max_length=20000)
    report = serializers.FileField(required=False, allow_null=True, help_text=_("PDF、图片或 Office 文件"))
    budget = serializers.CharField(required=False, allow_blank=True, help_text=_("部门整体评价可修正预算数（元）"))
    executed = serializers.CharField(required=False, allow_blank=True, help_text=_("部门整体评价可修正执行数（元）"))

    def get_fields(self):
        fields = super().get_fields()
        for code in services.DIMENSIONS:
            # the dotted name nests the value: validated_data["scores"][code]
            fields[f"scores.{code}"] = serializers.CharField(
                required=False,
                allow_blank=True,
                help_text=_("「%(dim)s」得分，0 至其权重") % {"dim": FrameworkDimension(code).label},
            )
        return fields


class CommissionedRemindedSerializer(serializers.Serializer):
    reminded = serializers.ListField(child=serializers.IntegerField(), help_text=_("本次提醒的成员（用户 id）"))
    skipped = serializers.ListField(
        child=serializers.IntegerField(), help_text=_("时限内已提醒过、本次未再提醒的成员（用户 id）")
    )


class CommissionedFindingInputSerializer(serializers.Serializer):
    category = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=32,
        help_text=_("问题类别，取值见设置 FINDING_CATEGORIES（如 targets 目标设置）"),
    )
    problem = serializers.CharField(allow_blank=True, max_length=5000)
    basis = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    requirement = serializers.CharField(allow_blank=True, max_length=5000)


# -- views -----------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary=_("重点评价与部门整体绩效评价列表"),
        parameters=[CommissionedFilterSerializer],
        responses={200: CommissionedListSerializer(many=True), 400: BAD_REQUEST, 403: FORBIDDEN},
    ),
    retrieve=extend_schema(
        summary=_("委托评价详情"), responses={200: CommissionedDetailSerializer, 403: FORBIDDEN, 404: NOT_FOUND}
    ),
    create=extend_schema(
        summary=_("委托重点评价或部门整体绩效评价（财政绩效科）"),
        request=CommissionedCreateSerializer,
        responses={201: CommissionedDetailSerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
    ),
)
class CommissionedEvaluationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """重点评价与部门整体绩效评价, scoped by ``commissioned_for``."""

    serializer_class = CommissionedDetailSerializer
    lookup_value_converter = "id"

    def get_queryset(self):
        return commissioned_for(self.request.user).order_by("-fiscal_year", "kind", "department__code", "pk")

    def get_serializer_class(self):
        return CommissionedListSerializer if self.action == "list" else CommissionedDetailSerializer

    def get_object(self):
        return commissioned_get_for(self.request.user, self.kwargs["pk"])

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        filters = CommissionedFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        if "year" in data:
            queryset = queryset.filter(fiscal_year=data["year"])
        if data.get("kind"):
            queryset = queryset.filter(kind=data["kind"])
        if data.get("status"):
            queryset = queryset.filter(status=data["status"])
        return queryset

    def _detail(self, evaluation: CommissionedEvaluation, code: int = status.HTTP_200_OK) -> Response:
        fresh = commissioned_get_for(self.request.user, evaluation.pk)
        return Response(CommissionedDetailSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    def _body(self, serializer_class, **kwargs) -> dict[str, Any]:
        body = serializer_class(data=self.request.data, **kwargs)
        body.is_valid(raise_exception=True)
        return dict(body.validated_data)

    def create(self, request, *args, **kwargs):
        data = self._body(CommissionedCreateSerializer)
        evaluation = services.evaluation_commission(actor=request.user, **data)
        return self._detail(evaluation, status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("提交评价方案和指标体系权重（受托机构）"),
        request=CommissionedPlanSerializer,
        responses={200: CommissionedDetailSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def plan(self, request, pk=None):
        evaluation = self.get_object()
        data = self._body(CommissionedPlanSerializer)
        return self._detail(services.evaluation_submit_plan(evaluation=evaluation, actor=request.user, **data))

    @extend_schema(
        summary=_("审核评价方案（财政绩效科）"),
        request=CommissionedReviewPlanSerializer,
        responses={200: CommissionedDetailSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="review-plan", url_name="review-plan")
    def review_plan(self, request, pk=None):
        evaluation = self.get_object()
        data = self._body(CommissionedReviewPlanSerializer)
        return self._detail(services.evaluation_review_plan(evaluation=evaluation, actor=request.user, **data))

    @extend_schema(
        summary=_("开始现场评价（受托机构）"),
        request=None,
        responses={200: CommissionedDetailSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def fieldwork(self, request, pk=None):
        evaluation = self.get_object()
        return self._detail(services.evaluation_start_fieldwork(evaluation=evaluation, actor=request.user))

    @extend_schema(
        summary=_("提交现场评价情况和报告初稿（受托机构）"),
        request={"multipart/form-data": CommissionedDraftSerializer},
        responses={200: CommissionedDetailSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"], parser_classes=MULTIPART)
    def draft(self, request, pk=None):
        evaluation = self.get_object()
        data = self._body(CommissionedDraftSerializer)
        return self._detail(
            services.evaluation_submit_draft(
                evaluation=evaluation, actor=request.user, note=data["note"], draft_report=data.get("draft_report")
            )
        )

    @extend_schema(
        summary=_("反馈报告初稿意见（被评价部门）"),
        request=CommissionedCommentSerializer,
        responses={200: CommissionedDetailSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def comment(self, request, pk=None):
        evaluation = self.get_object()
        data = self._body(CommissionedCommentSerializer)
        return self._detail(services.evaluation_comment(evaluation=evaluation, actor=request.user, **data))

    @extend_schema(
        summary=_("抽取专家评审组（受托机构）"),
        description=_("按规则随机抽取；种子和候选人池被记录，可复现。库中人选不满足规则时返回 400（panel）。"),
        request=None,
        responses={200: CommissionedDetailSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def draw(self, request, pk=None):
        evaluation = self.get_object()
        return self._detail(services.evaluation_draw_panel(evaluation=evaluation, actor=request.user))

    @extend_schema(
        summary=_("提交我的评审建议（评审组成员）"),
        description=_("每条建议单独记录；提交后不能再次提交（409）。"),
        request=CommissionedSuggestionsSerializer,
        responses={200: CommissionedDetailSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def suggestions(self, request, pk=None):
        evaluation = self.get_object()
        member = services.seat_of(evaluation, request.user)
        if member is None:
            raise PermissionDenied(_("只有本评审组成员本人可以提交评审建议。"))
        data = self._body(CommissionedSuggestionsSerializer)
        services.suggestion_submit(member=member, actor=request.user, suggestions=data["suggestions"])
        return self._detail(evaluation)

    @extend_schema(
        summary=_("提醒尚未提交评审建议的评审组成员（受托机构）"),
        description=_(
            "向尚未提交评审建议的成员各发送一条提醒通知；同一成员在设定的小时数内只提醒一次。"
            "无人可提醒（均已提交，或均刚提醒过）时返回 409。"
        ),
        request=None,
        responses={200: CommissionedRemindedSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def remind(self, request, pk=None):
        evaluation = self.get_object()
        reminded, skipped = services.evaluation_remind_panel(evaluation=evaluation, actor=request.user)
        return Response(
            CommissionedRemindedSerializer(
                {"reminded": [m.user_id for m in reminded], "skipped": [m.user_id for m in skipped]}
            ).data
        )

    @extend_schema(
        summary=_("形成评价结果（受托机构）"),
        description=_("各维度得分 scores.<维度>（0 至其权重），评价结论，评价报告文件；总分与等次自动计算。"),
        request={"multipart/form-data": CommissionedFinalizeSerializer},
        responses={200: CommissionedDetailSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"], parser_classes=MULTIPART)
    def finalize(self, request, pk=None):
        evaluation = self.get_object()
        data = self._body(CommissionedFinalizeSerializer)
        kwargs: dict[str, Any] = {
            "scores": data.get("scores", {}),
            "conclusion": data["conclusion"],
            "report": data.get("report"),
            "budget": data.get("budget") or None,
            "executed": data.get("executed") or None,
        }
        return self._detail(services.evaluation_finalize(evaluation=evaluation, actor=request.user, **kwargs))

    @extend_schema(
        summary=_("退回最终报告修改（财政绩效科）"),
        request=CommissionedReturnFinalSerializer,
        responses={200: CommissionedDetailSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="return-final", url_name="return-final")
    def return_final(self, request, pk=None):
        evaluation = self.get_object()
        data = self._body(CommissionedReturnFinalSerializer)
        return self._detail(services.evaluation_return_final(evaluation=evaluation, actor=request.user, **data))

    @extend_schema(
        summary=_("批准评价报告公开（财政绩效科）"),
        request=None,
        responses={200: CommissionedDetailSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def disclose(self, request, pk=None):
        evaluation = self.get_object()
        return self._detail(services.evaluation_approve_disclosure(evaluation=evaluation, actor=request.user))

    @extend_schema(
        summary=_("记录评价发现的问题（财政绩效科或受托机构）"),
        request=CommissionedFindingInputSerializer,
        responses={201: CommissionedFindingSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], parser_classes=[JSONParser, *MULTIPART])
    def findings(self, request, pk=None):
        evaluation = self.get_object()
        data = self._body(CommissionedFindingInputSerializer)
        finding = finding_add(source=evaluation, actor=request.user, **data)
        return Response(CommissionedFindingSerializer(finding).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("删除评价发现的问题（财政绩效科或受托机构）"),
        request=None,
        responses={204: None, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    @action(
        detail=True,
        methods=["delete"],
        url_path="findings/<id:finding_id>",
        url_name="finding",
    )
    def remove_finding(self, request, pk=None, finding_id=None):
        evaluation = self.get_object()
        finding = get_object_or_404(Finding, pk=finding_id, evaluation=evaluation)
        finding_remove(finding=finding, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
