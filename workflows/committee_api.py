"""人大审议意见 API (issue 19): /api/committee-opinions/ — a year's opinions with their items
(the readers of the whole table) and the finance section's recording of one; and
/api/committee-items/ — the items the caller answers for or reads, one item, and one
endpoint per step: respond (multipart: response, files), accept, send-back.

Reads go through processes.committee_selectors (an item the caller may not see is 404);
writes through processes.services.committee; errors follow processes.api.errors (400 field
errors keyed as the service keys them — ``items.<n>.deadline``, ``files`` —, 403 wrong
role, 409 wrong state). The congress reader has no API (accounts.middleware)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from processes.api.fields import FiscalYearField, IdField
from processes.api.responses import BAD_REQUEST, FORBIDDEN
from processes.api.serializers import ErrorSerializer
from processes.committee_selectors import item_get_for, items_visible_to
from processes.models import CommitteeEvidence, CommitteeOpinion, CommitteeOpinionItem
from processes.permissions.committee import can_read_all
from processes.services import committee as services
from processes.states import OpinionItemStatus
from processes.transitions import available

NOT_FOUND = OpenApiResponse(ErrorSerializer, description=_("审议意见事项不存在，或不在您的可见范围内。"))
CONFLICT = OpenApiResponse(ErrorSerializer, description=_("审议意见事项当前状态不允许此操作。"))
ACTION_ERRORS = {400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT}


@extend_schema_field({"type": "string", "description": " | ".join(OpinionItemStatus.values)})
class CommitteeItemStatusField(serializers.CharField):
    pass


class CommitteeEvidenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = CommitteeEvidence
        fields = ["id", "name", "kind", "size", "uploaded_at"]


class CommitteeItemSerializer(serializers.ModelSerializer):
    status = CommitteeItemStatusField(read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    assignee = serializers.CharField(source="assignee_name", read_only=True)
    fiscal_year = serializers.IntegerField(source="opinion.fiscal_year", read_only=True)
    opinion_title = serializers.CharField(source="opinion.title", read_only=True)
    evidence_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = CommitteeOpinionItem
        fields = [
            "id",
            "opinion",
            "opinion_title",
            "fiscal_year",
            "position",
            "requirement",
            "department",
            "assignee",
            "deadline",
            "status",
            "status_label",
            "response",
            "responded_at",
            "review_comment",
            "returns",
            "accepted_at",
            "evidence_count",
        ]


class CommitteeItemDetailSerializer(CommitteeItemSerializer):
    evidence = CommitteeEvidenceSerializer(many=True, read_only=True)
    actions = serializers.SerializerMethodField()

    class Meta(CommitteeItemSerializer.Meta):
        fields = [*CommitteeItemSerializer.Meta.fields, "evidence", "actions"]

    def get_actions(self, item) -> list[str]:
        request = self.context.get("request")
        if request is None:
            return []
        return [d.name.replace("_", "-") for d in available(item, request.user)]


class CommitteeOpinionSerializer(serializers.ModelSerializer):
    items = CommitteeItemSerializer(many=True, read_only=True)

    class Meta:
        model = CommitteeOpinion
        fields = ["id", "fiscal_year", "title", "text", "session_date", "recorded_at", "items"]


class CommitteeItemInputSerializer(serializers.Serializer):
    requirement = serializers.CharField(max_length=services.MAX_TEXT)
    department = IdField(required=False, allow_null=True, help_text=_("承办部门 id；不填或 null 为财政局承办"))
    deadline = serializers.DateField(help_text=_("办理期限（当日 23:59 到期）"))


class CommitteeOpinionInputSerializer(serializers.Serializer):
    fiscal_year = FiscalYearField()
    title = serializers.CharField(max_length=services.MAX_TITLE)
    text = serializers.CharField(max_length=services.MAX_TEXT)
    session_date = serializers.DateField()
    items = serializers.ListField(child=CommitteeItemInputSerializer(), min_length=1, max_length=services.MAX_ITEMS)


class CommitteeYearFilterSerializer(serializers.Serializer):
    year = FiscalYearField(required=False)


class CommitteeRespondSerializer(serializers.Serializer):
    response = serializers.CharField(max_length=services.MAX_TEXT)
    files = serializers.ListField(
        child=serializers.FileField(), required=False, max_length=services.MAX_FILES, allow_empty=True
    )


class CommitteeReviewSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=services.MAX_TEXT, required=False, allow_blank=True, default="")


@extend_schema_view(
    list=extend_schema(
        summary=_("某年度的人大审议意见及其事项（财政绩效科、督办、审计）"),
        parameters=[CommitteeYearFilterSerializer],
        responses={200: CommitteeOpinionSerializer(many=True), 400: BAD_REQUEST, 403: FORBIDDEN},
    ),
    create=extend_schema(
        summary=_("录入人大审议意见并分解交办（财政绩效科）"),
        request=CommitteeOpinionInputSerializer,
        responses={201: CommitteeOpinionSerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
    ),
)
class CommitteeOpinionViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    serializer_class = CommitteeOpinionSerializer

    def get_queryset(self):
        if not can_read_all(self.request.user):  # type: ignore[arg-type]
            raise PermissionDenied(_("您没有查看人大审议意见的权限。"))
        filters = CommitteeYearFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        opinions = CommitteeOpinion.objects.prefetch_related("items__department", "items__opinion").order_by(
            "-fiscal_year", "session_date", "pk"
        )
        year = filters.validated_data.get("year")
        return opinions.filter(fiscal_year=year) if year else opinions

    def create(self, request, *args, **kwargs):
        body = CommitteeOpinionInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        opinion = services.committee_opinion_record(
            actor=request.user,
            fiscal_year=data["fiscal_year"],
            title=data["title"],
            text=data["text"],
            session_date=data["session_date"],
            items=[dict(i) for i in data["items"]],
        )
        fresh = CommitteeOpinion.objects.prefetch_related("items__department", "items__opinion").get(pk=opinion.pk)
        return Response(CommitteeOpinionSerializer(fresh).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary=_("我可以查看的审议意见事项"), responses={200: CommitteeItemSerializer(many=True)}),
    retrieve=extend_schema(
        summary=_("审议意见事项详情"), responses={200: CommitteeItemDetailSerializer, 404: NOT_FOUND}
    ),
)
class CommitteeItemViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    lookup_value_converter = "id"

    def get_queryset(self):
        return items_visible_to(self.request.user).order_by("deadline", "pk")  # type: ignore[arg-type]

    def get_serializer_class(self):
        return CommitteeItemSerializer if self.action == "list" else CommitteeItemDetailSerializer

    def get_object(self):
        return item_get_for(self.request.user, self.kwargs["pk"])  # type: ignore[arg-type]

    def _detail(self, item: CommitteeOpinionItem) -> Response:
        fresh = item_get_for(self.request.user, item.pk)  # type: ignore[arg-type]
        return Response(CommitteeItemDetailSerializer(fresh, context=self.get_serializer_context()).data)

    def _body(self, serializer_class) -> dict[str, Any]:
        body = serializer_class(data=self.request.data)
        body.is_valid(raise_exception=True)
        return dict(body.validated_data)

    @extend_schema(
        summary=_("报送落实情况（承办单位，可附佐证材料）"),
        request={"multipart/form-data": CommitteeRespondSerializer, "application/json": CommitteeRespondSerializer},
        responses={200: CommitteeItemDetailSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser, JSONParser])
    def respond(self, request, pk=None):
        item = self.get_object()
        data = self._body(CommitteeRespondSerializer)
        files = request.FILES.getlist("files") if hasattr(request, "FILES") else []
        return self._detail(
            services.committee_item_respond(item=item, actor=request.user, response=data["response"], files=files)
        )

    @extend_schema(
        summary=_("验收落实情况（财政绩效科）"),
        request=CommitteeReviewSerializer,
        responses={200: CommitteeItemDetailSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        item = self.get_object()
        data = self._body(CommitteeReviewSerializer)
        return self._detail(
            services.committee_item_review(item=item, actor=request.user, accept=True, comment=data["comment"])
        )

    @extend_schema(
        summary=_("退回落实情况（财政绩效科，须说明理由）"),
        request=CommitteeReviewSerializer,
        responses={200: CommitteeItemDetailSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="send-back")
    def send_back(self, request, pk=None):
        item = self.get_object()
        data = self._body(CommitteeReviewSerializer)
        return self._detail(
            services.committee_item_review(item=item, actor=request.user, accept=False, comment=data["comment"])
        )
