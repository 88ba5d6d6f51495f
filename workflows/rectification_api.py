"""整改 API (DESIGN §3.6, §6): /api/rectifications/ — the list (filters status, department,
due, year) and the finance section's issue, a rectification's detail (items with their
evidence, extensions, the actions the caller may take now — ``actions`` as slugs and
``transitions`` as their declarations name them), and one endpoint per step:
acknowledge, report (PUT), items/{item_id}/evidence (multipart POST), evidence/{id}
(DELETE), submit, review, extensions, extensions/{id}/decide.

Reads go through processes.rectification_selectors (a rectification the caller may not
see is 404); writes through processes.services.rectification; errors follow
processes.api.errors (400 field errors keyed as the service keys them —
``items.<id>.measure``, ``deadline``, ``file`` —, 403 wrong role, 409 wrong status,
stale revision or acting twice).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from processes.api.fields import FiscalYearField, IdField
from processes.api.responses import BAD_REQUEST, FORBIDDEN
from processes.api.serializers import ErrorSerializer
from processes.models import DeadlineExtension, Evidence, Finding, Rectification, RectificationItem
from processes.numbers import MAX_INT
from processes.rectification_selectors import (
    pending_extension,
    rectification_actions,
    rectification_get_for,
    rectifications_filtered,
    rectifications_for,
)
from processes.services import rectification as services
from processes.states import RECTIFICATION_OPEN, ExtensionStatus, ItemProgress, RectificationStatus
from processes.transitions import Declared, available

NOT_FOUND = OpenApiResponse(ErrorSerializer, description=_("整改不存在，或不在您的可见范围内。"))
CONFLICT = OpenApiResponse(ErrorSerializer, description=_("整改当前状态不允许此操作，或已被他人处理。"))
ACTION_ERRORS = {400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT}
MULTIPART = [MultiPartParser, FormParser]

# Statuses and progress are strings whose values the description lists: as enums they would
# be a "status" in several components with other choice sets.


@extend_schema_field({"type": "string", "description": " | ".join(RectificationStatus.values)})
class RectificationStatusField(serializers.CharField):
    pass


@extend_schema_field({"type": "string", "description": " | ".join(ExtensionStatus.values)})
class RectificationExtensionStatusField(serializers.CharField):
    pass


@extend_schema_field({"type": "string", "description": " | ".join(ItemProgress.values) + "；未填为空"})
class RectificationProgressField(serializers.CharField):
    pass


# -- output ----------------------------------------------------------------------------------


class RectificationEvidenceSerializer(serializers.ModelSerializer):
    """佐证材料; ``url`` downloads it (only for those who may see the rectification)."""

    url = serializers.SerializerMethodField()

    class Meta:
        model = Evidence
        fields = ["id", "item", "name", "kind", "size", "uploaded_by", "uploaded_at", "url"]
        read_only_fields = fields

    def get_url(self, evidence) -> str:
        return reverse("workflows:rectification_evidence", args=[evidence.pk])


class RectificationItemSerializer(serializers.ModelSerializer):
    """One finding of the notice and the department's report on it."""

    progress = RectificationProgressField(read_only=True)
    progress_display = serializers.CharField(source="get_progress_display", read_only=True)
    evidence = RectificationEvidenceSerializer(many=True, read_only=True)

    class Meta:
        model = RectificationItem
        fields = [
            "id",
            "finding",
            "position",
            "problem",
            "basis",
            "requirement",
            "measure",
            "responsible",
            "completed_on",
            "progress",
            "progress_display",
            "evidence",
        ]
        read_only_fields = fields


class RectificationExtensionSerializer(serializers.ModelSerializer):
    """延期申请: old, proposed and (if granted) new deadline, status, reason, decision."""

    status = RectificationExtensionStatusField(read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = DeadlineExtension
        fields = [
            "id",
            "status",
            "status_display",
            "reason",
            "old_deadline",
            "proposed_deadline",
            "new_deadline",
            "requested_by",
            "requested_at",
            "decided_by",
            "decided_at",
            "decision_comment",
        ]
        read_only_fields = fields


class RectificationListSerializer(serializers.ModelSerializer):
    """A row of the list (reads only what the selector joins)."""

    status = RectificationStatusField(read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    department_name = serializers.CharField(source="department.name", read_only=True)
    project_code = serializers.CharField(source="project.code", read_only=True, allow_null=True, default=None)
    project_name = serializers.CharField(source="project.name", read_only=True, allow_null=True, default=None)
    overdue = serializers.SerializerMethodField(help_text=_("未销号且已过整改期限"))

    class Meta:
        model = Rectification
        fields = [
            "id",
            "title",
            "department",
            "department_name",
            "project",
            "project_code",
            "project_name",
            "status",
            "status_display",
            "deadline",
            "original_deadline",
            "overdue",
            "issued_by",
            "issued_at",
            "revision",
        ]
        read_only_fields = fields

    def get_overdue(self, rectification) -> bool:
        return rectification.status in RECTIFICATION_OPEN and rectification.deadline < timezone.now()


#: A transition the caller may take now, as its declaration names it (a dict: a serializer
#: class with a field called ``label`` would shadow Field.label).
RECTIFICATION_TRANSITION = inline_serializer(
    "RectificationTransition",
    {
        "name": serializers.CharField(help_text="acknowledge | submit | verify | reject | grant | refuse"),
        "label": serializers.CharField(),
        "needs_reason": serializers.BooleanField(help_text=_("须填写理由（comment）")),
        "extension": serializers.IntegerField(allow_null=True, help_text=_("延期申请 id（grant / refuse）")),
    },
    many=True,
)


class RectificationDetailSerializer(RectificationListSerializer):
    """A rectification with its items (and their evidence), its extensions and the actions
    the requesting user may take now."""

    items = serializers.SerializerMethodField()
    extensions = serializers.SerializerMethodField()
    actions = serializers.SerializerMethodField()
    transitions = serializers.SerializerMethodField()

    class Meta(RectificationListSerializer.Meta):
        fields = [
            *RectificationListSerializer.Meta.fields,
            "acknowledged_at",
            "submitted_at",
            "verified_by",
            "verified_at",
            "review_comment",
            "rejections",
            "items",
            "extensions",
            "actions",
            "transitions",
        ]
        read_only_fields = fields

    @extend_schema_field(RectificationItemSerializer(many=True))
    def get_items(self, rectification) -> list[dict[str, Any]]:
        items = rectification.items.prefetch_related(Prefetch("evidence", queryset=Evidence.objects.order_by("pk")))
        return list(RectificationItemSerializer(items, many=True).data)

    @extend_schema_field(RectificationExtensionSerializer(many=True))
    def get_extensions(self, rectification) -> list[dict[str, Any]]:
        return list(RectificationExtensionSerializer(rectification.extensions.order_by("pk"), many=True).data)

    def get_actions(self, rectification) -> list[str]:
        request = self.context.get("request")
        if request is None:
            return []
        return rectification_actions(rectification, request.user, pending_extension(rectification))

    @extend_schema_field(RECTIFICATION_TRANSITION)
    def get_transitions(self, rectification) -> list[dict[str, Any]]:
        """The declared transitions (processes.transitions.available) of the rectification
        and of its pending extension request that the caller may take now."""
        request = self.context.get("request")
        if request is None:
            return []
        out: list[tuple[Declared, int | None]] = [(d, None) for d in available(rectification, request.user)]
        pending = pending_extension(rectification)
        if pending is not None and rectification.status in RECTIFICATION_OPEN:
            out += [(d, pending.pk) for d in available(pending, request.user)]
        return [
            {"name": d.name, "label": str(d.label), "needs_reason": d.needs_reason, "extension": extension}
            for d, extension in out
        ]


# -- input -----------------------------------------------------------------------------------


class RectificationFilterSerializer(serializers.Serializer):
    status = serializers.CharField(required=False, help_text=" | ".join(RectificationStatus.values))
    department = IdField(required=False, help_text=_("预算部门 id"))
    due = serializers.CharField(
        required=False, help_text=_("overdue（已逾期）| soon（即将到期：设置中 REMINDERS.SOON_DAYS 日内）")
    )
    year = FiscalYearField(required=False, help_text=_("年度"))


class RectificationIssueSerializer(serializers.Serializer):
    """下达整改: findings of one evaluation (or monitoring report); deadline default: settings."""

    findings = serializers.ListField(child=IdField(), allow_empty=True, help_text=_("问题 id"))
    title = serializers.CharField(allow_blank=True, max_length=200)
    deadline = serializers.DateTimeField(required=False, allow_null=True)
    requirements = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=5000),
        required=False,
        default=dict,
        help_text=_("问题 id → 整改要求（不填则用问题原有的要求）"),
    )


class RectificationReportItemSerializer(serializers.Serializer):
    id = IdField()
    measure = serializers.CharField(required=False, allow_blank=True)
    responsible = serializers.CharField(required=False, allow_blank=True)
    completed_on = serializers.CharField(required=False, allow_blank=True, allow_null=True, help_text="YYYY-MM-DD")
    progress = serializers.CharField(required=False, allow_blank=True, help_text=" | ".join(ItemProgress.values))


class RectificationReportSerializer(serializers.Serializer):
    items = RectificationReportItemSerializer(many=True)
    revision = IdField(required=False, allow_null=True, max_value=MAX_INT, help_text=_("开始编辑时的修订号"))


class RectificationEvidenceUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=_("PDF、图片或 Office 文件"))


class RectificationReviewSerializer(serializers.Serializer):
    verify = serializers.BooleanField(help_text=_("true 验收销号；false 退回（须填 comment）"))
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class RectificationExtensionRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, max_length=2000)
    proposed_deadline = serializers.DateTimeField()


class RectificationExtensionDecideSerializer(serializers.Serializer):
    grant = serializers.BooleanField(help_text=_("true 同意；false 不同意（须填 comment）"))
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    new_deadline = serializers.DateTimeField(required=False, allow_null=True, help_text=_("不填则按申请的期限"))


# -- views -----------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary=_("整改列表"),
        parameters=[RectificationFilterSerializer],
        responses={200: RectificationListSerializer(many=True), 400: BAD_REQUEST, 403: FORBIDDEN},
    ),
    retrieve=extend_schema(
        summary=_("整改详情"), responses={200: RectificationDetailSerializer, 403: FORBIDDEN, 404: NOT_FOUND}
    ),
    create=extend_schema(
        summary=_("下达整改（财政绩效科）"),
        request=RectificationIssueSerializer,
        responses={201: RectificationDetailSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 409: CONFLICT},
    ),
)
class RectificationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """整改, scoped by ``rectifications_for``."""

    serializer_class = RectificationDetailSerializer
    lookup_value_converter = "id"

    def get_queryset(self):
        return rectifications_for(self.request.user).order_by("deadline", "pk")

    def get_serializer_class(self):
        return RectificationListSerializer if self.action == "list" else RectificationDetailSerializer

    def get_object(self):
        return rectification_get_for(self.request.user, self.kwargs["pk"])

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        filters = RectificationFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return rectifications_filtered(queryset, dict(filters.validated_data))

    def _detail(self, rectification: Rectification, code: int = status.HTTP_200_OK) -> Response:
        fresh = rectification_get_for(self.request.user, rectification.pk)
        return Response(RectificationDetailSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    def _body(self, serializer_class) -> dict[str, Any]:
        body = serializer_class(data=self.request.data)
        body.is_valid(raise_exception=True)
        return dict(body.validated_data)

    def create(self, request, *args, **kwargs):
        data = self._body(RectificationIssueSerializer)
        ids = list(dict.fromkeys(data["findings"]))
        found = {f.pk: f for f in Finding.objects.filter(pk__in=ids)}
        missing = [i for i in ids if i not in found]
        if missing:
            raise serializers.ValidationError(
                {"findings": [gettext("问题不存在：%(ids)s") % {"ids": ", ".join(map(str, missing))}]}
            )
        requirements: dict[int, str] = {}
        for key, value in data.get("requirements", {}).items():
            try:
                requirements[int(key)] = value
            except (TypeError, ValueError) as exc:
                raise serializers.ValidationError({"requirements": [gettext("问题 id 无效。")]}) from exc
        rectification = services.rectification_issue(
            actor=request.user,
            findings=[found[i] for i in ids],
            title=data["title"],
            deadline=data.get("deadline"),
            requirements=requirements,
        )
        return self._detail(rectification, status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("签收整改通知（被整改部门）"),
        request=None,
        responses={200: RectificationDetailSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        rectification = self.get_object()
        return self._detail(services.rectification_acknowledge(rectification=rectification, actor=request.user))

    @extend_schema(
        summary=_("保存整改报告（被整改部门）"),
        description=_("逐项填报整改措施、责任人、完成时间、整改情况；revision 与当前不一致时返回 409。"),
        request=RectificationReportSerializer,
        responses={200: RectificationDetailSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["put"])
    def report(self, request, pk=None):
        rectification = self.get_object()
        data = self._body(RectificationReportSerializer)
        return self._detail(
            services.rectification_report_save(
                rectification=rectification,
                actor=request.user,
                items=[dict(entry) for entry in data["items"]],
                revision=data.get("revision"),
            )
        )

    @extend_schema(
        summary=_("上传佐证材料（被整改部门）"),
        description=_("只接受 PDF、图片和 Office 文件（按内容检查），大小上限见设置；被拒绝时不作任何改动。"),
        request={"multipart/form-data": RectificationEvidenceUploadSerializer},
        responses={201: RectificationEvidenceSerializer, **ACTION_ERRORS},
    )
    @action(
        detail=True,
        methods=["post"],
        parser_classes=MULTIPART,
        url_path="items/<id:item_id>/evidence",
        url_name="item-evidence",
    )
    def evidence(self, request, pk=None, item_id=None):
        rectification = self.get_object()
        item = get_object_or_404(RectificationItem, pk=item_id, rectification=rectification)
        data = self._body(RectificationEvidenceUploadSerializer)
        evidence = services.evidence_add(item=item, actor=request.user, file=data["file"])
        return Response(RectificationEvidenceSerializer(evidence).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("删除佐证材料（被整改部门）"),
        request=None,
        responses={204: None, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT},
    )
    @action(
        detail=True,
        methods=["delete"],
        url_path="evidence/<id:evidence_id>",
        url_name="evidence",
    )
    def remove_evidence(self, request, pk=None, evidence_id=None):
        rectification = self.get_object()
        evidence = get_object_or_404(
            Evidence.objects.select_related("item__rectification"), pk=evidence_id, item__rectification=rectification
        )
        services.evidence_remove(evidence=evidence, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary=_("提交整改报告（被整改部门）"),
        request=None,
        responses={200: RectificationDetailSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        rectification = self.get_object()
        return self._detail(services.rectification_submit(rectification=rectification, actor=request.user))

    @extend_schema(
        summary=_("验收整改（财政绩效科）"),
        request=RectificationReviewSerializer,
        responses={200: RectificationDetailSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        rectification = self.get_object()
        data = self._body(RectificationReviewSerializer)
        return self._detail(services.rectification_review(rectification=rectification, actor=request.user, **data))

    @extend_schema(
        summary=_("申请延期（被整改部门）"),
        request=RectificationExtensionRequestSerializer,
        responses={201: RectificationExtensionSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def extensions(self, request, pk=None):
        rectification = self.get_object()
        data = self._body(RectificationExtensionRequestSerializer)
        extension = services.extension_request(rectification=rectification, actor=request.user, **data)
        return Response(RectificationExtensionSerializer(extension).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("审批延期申请（分管领导）"),
        request=RectificationExtensionDecideSerializer,
        responses={200: RectificationExtensionSerializer, **ACTION_ERRORS},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="extensions/<id:extension_id>/decide",
        url_name="extension-decide",
    )
    def decide(self, request, pk=None, extension_id=None):
        rectification = self.get_object()
        extension = get_object_or_404(DeadlineExtension, pk=extension_id, rectification=rectification)
        data = self._body(RectificationExtensionDecideSerializer)
        extension = services.extension_decide(extension=extension, actor=request.user, **data)
        return Response(RectificationExtensionSerializer(extension).data)
