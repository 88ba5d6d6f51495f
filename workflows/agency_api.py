"""/api/evaluations/frameworks/ — the year's framework commission (整体委托, issue 19 §4):
GET lists them (the finance section: all; an agency's staff: its own years; everyone else
403); POST sets or changes a year's (the finance section), through
processes.services.agencies.framework_set."""

from __future__ import annotations

from typing import cast

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import Agency, User
from accounts.roles import Role
from processes.api.fields import FiscalYearField, IdField
from processes.api.responses import BAD_REQUEST, FORBIDDEN
from processes.models import CommissionedEvaluation, Deliverable, DeliverableScore, FrameworkCommission, Recheck
from processes.services import agencies as svc


class FrameworkCommissionSerializer(serializers.ModelSerializer):
    agency_name = serializers.CharField(source="agency.name", read_only=True)

    class Meta:
        model = FrameworkCommission
        fields = ["id", "fiscal_year", "agency", "agency_name", "contract_no", "scope", "revision", "updated_at"]


class FrameworkCommissionInputSerializer(serializers.Serializer):
    fiscal_year = FiscalYearField()
    agency = serializers.PrimaryKeyRelatedField(queryset=Agency.objects.all(), pk_field=IdField())
    contract_no = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)
    scope = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


@extend_schema_view(
    list=extend_schema(
        summary=_("整体委托列表（财政绩效科；受托机构只见本机构的年度）"),
        responses={200: FrameworkCommissionSerializer(many=True), 403: FORBIDDEN},
    ),
    create=extend_schema(
        summary=_("设置年度整体委托（财政绩效科）"),
        request=FrameworkCommissionInputSerializer,
        responses={201: FrameworkCommissionSerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
    ),
)
class FrameworkCommissionViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    serializer_class = FrameworkCommissionSerializer
    pagination_class = None

    def get_queryset(self):
        user = cast(User, self.request.user)  # IsAuthenticated is the default permission
        rows = FrameworkCommission.objects.select_related("agency").order_by("-fiscal_year")
        if svc.can_manage(user):
            return rows
        if user.has_role(Role.AGENCY_STAFF) and user.agency_id is not None:
            return rows.filter(agency_id=user.agency_id)
        raise PermissionDenied(_("只有财政绩效科和受托机构可以查看整体委托。"))

    def create(self, request, *args, **kwargs):
        body = FrameworkCommissionInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        found = svc.framework_set(actor=request.user, **body.validated_data)
        return Response(FrameworkCommissionSerializer(found).data, status=status.HTTP_201_CREATED)


@extend_schema_field({"type": "string", "description": " | ".join(Deliverable.values)})
class DeliverableChoiceField(serializers.ChoiceField):
    """评价方案 / 报告初稿 / 最终报告 / 复核报告."""


@extend_schema_field({"type": "string", "description": " | ".join(Deliverable.values)})
class DeliverableField(serializers.CharField):
    pass


class QualityScoreInputSerializer(serializers.Serializer):
    kind = DeliverableChoiceField(choices=Deliverable.choices)
    score = serializers.CharField(max_length=12, help_text=_("0–100，最多两位小数"))
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    evaluation = serializers.PrimaryKeyRelatedField(
        queryset=CommissionedEvaluation.objects.all(), pk_field=IdField(), required=False, allow_null=True
    )
    recheck = serializers.PrimaryKeyRelatedField(
        queryset=Recheck.objects.all(), pk_field=IdField(), required=False, allow_null=True
    )


class QualityScoreSerializer(serializers.ModelSerializer):
    kind = DeliverableField(read_only=True)

    class Meta:
        model = DeliverableScore
        fields = ["id", "agency", "fiscal_year", "kind", "evaluation", "recheck", "score", "comment", "revision"]


class RatingsQuerySerializer(serializers.Serializer):
    fiscal_year = FiscalYearField()


class AgencyRatingSerializer(serializers.Serializer):
    agency = serializers.IntegerField(source="agency.pk")
    agency_name = serializers.CharField(source="agency.name")
    fiscal_year = serializers.IntegerField()
    means = serializers.DictField(child=serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True))
    count = serializers.IntegerField()
    rating = serializers.DecimalField(max_digits=5, decimal_places=2)
    grade = serializers.CharField()


def _ratings_scope(user) -> int | None:
    """None: every agency (the finance section); an agency's id (its staff); else 403."""
    if svc.can_manage(user):
        return None
    if user.has_role(Role.AGENCY_STAFF) and user.agency_id is not None:
        return int(user.agency_id)
    raise PermissionDenied(_("只有财政绩效科和受托机构可以查看机构质量评级。"))


class QualityScoreViewSet(viewsets.GenericViewSet):
    """POST /api/evaluations/quality-scores/ (the finance section scores a deliverable);
    GET /api/evaluations/quality-scores/ratings/?fiscal_year= (the yearly agency ratings)."""

    serializer_class = QualityScoreSerializer
    queryset = DeliverableScore.objects.none()

    @extend_schema(
        summary=_("第三方机构成果质量评分（财政绩效科）"),
        request=QualityScoreInputSerializer,
        responses={201: QualityScoreSerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
    )
    def create(self, request):
        body = QualityScoreInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        found = svc.quality_score(actor=request.user, **body.validated_data)
        return Response(QualityScoreSerializer(found).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("第三方机构年度质量评级（财政绩效科；受托机构只见本机构）"),
        parameters=[OpenApiParameter("fiscal_year", int, required=True)],
        responses={200: AgencyRatingSerializer(many=True), 400: BAD_REQUEST, 403: FORBIDDEN},
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def ratings(self, request):
        scope = _ratings_scope(cast(User, request.user))
        query = RatingsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        year = query.validated_data["fiscal_year"]
        rows = svc.agency_ratings(year, agency_id=scope)
        return Response(AgencyRatingSerializer(rows, many=True).data)
