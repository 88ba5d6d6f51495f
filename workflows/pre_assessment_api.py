"""事前绩效评估 API (DESIGN §3.2, §6): the review, its panel and opinions, and every action
of the flow. Reads go through processes.selectors (a review is visible iff its project is);
writes go through workflows.services, which complete the flow's tasks.

Opinions are shown to those who weigh them — the commissioned agency's staff and the
bureau-wide readers (finance, supervisors, auditors) see every submitted opinion; anyone
else, panel members above all, sees only their own.
"""

from __future__ import annotations

from decimal import Decimal
from typing import cast

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import Agency, User
from accounts.roles import Role
from processes import transitions, units
from processes.api.fields import FiscalYearField, MoneyField
from processes.api.responses import BAD_REQUEST, CONFLICT, FORBIDDEN, NOT_FOUND
from processes.api.serializers import AvailableActionSerializer
from processes.models import Opinion, PanelMember, PreAssessment
from processes.permissions import holds
from processes.selectors import project_get_for, project_list_for
from processes.states import Conclusion, OpinionStatus, PreAssessmentStatus
from reports.figures import pre_assessment_summary

from .services import (
    opinion_submit,
    panel_member_replace,
    pre_assessment_begin,
    pre_assessment_decide,
    pre_assessment_draw,
    pre_assessment_propose,
)


def money(**options) -> serializers.DecimalField:
    """An amount in yuan, as the models keep it (processes.models.MONEY: 16 digits, 2 places)."""
    return MoneyField(**options)


def percent(rate: Decimal | None) -> str | None:
    """A rate (0.151515…) as the percent shown with two decimals ("15.15")."""
    return None if rate is None else str(units.percent(rate))  # half-up, as every screen


def sees_all_opinions(user, pa: PreAssessment) -> bool:
    """The commissioned agency's staff and the bureau-wide readers weigh every opinion."""
    if holds(user, "processes.view_all_projects"):
        return True
    return user.has_role(Role.AGENCY_STAFF) and user.agency_id is not None and user.agency_id == pa.agency_id


def pre_assessment_list_for(user) -> QuerySet[PreAssessment]:
    """Reviews of the projects ``user`` may see (``project_list_for``)."""
    return (
        PreAssessment.objects.filter(project_id__in=project_list_for(user).values("pk"))
        .select_related("project__department", "agency")
        .prefetch_related(
            Prefetch(
                "panel",
                queryset=PanelMember.objects.select_related("user", "opinion").prefetch_related(
                    "opinion__reduction_items"
                ),
            ),
        )
        .order_by("-created_at", "-pk")
    )


# -- output ----------------------------------------------------------------------------


class ReviewedProjectSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    fiscal_year = serializers.IntegerField()
    department = serializers.IntegerField(source="department_id")
    department_name = serializers.CharField(source="department.name")
    requested_amount = money()


class PanelMemberSerializer(serializers.Serializer):
    """A seat of the panel; ``kind`` tells an expert from a people's-congress deputy (人大代表)."""

    id = serializers.IntegerField()
    seat = serializers.IntegerField()
    name = serializers.SerializerMethodField()
    kind = serializers.ChoiceField(choices=PanelMember.Kind.choices)
    kind_display = serializers.CharField(source="get_kind_display")
    sector_expert = serializers.BooleanField()
    active = serializers.BooleanField()
    replaced_reason = serializers.CharField()
    replaced_at = serializers.DateTimeField(allow_null=True)

    def get_name(self, member) -> str:
        return str(member.user)


class ReductionItemSerializer(serializers.Serializer):
    item = serializers.CharField(max_length=200, allow_blank=True)
    requested = money()
    approved = money()
    reason = serializers.CharField(allow_blank=True, required=False, default="")


class OpinionSerializer(serializers.Serializer):
    """专家意见, marked with the member's kind (a deputy's opinion says so)."""

    id = serializers.IntegerField()
    seat = serializers.IntegerField(source="member.seat")
    member = serializers.SerializerMethodField()
    kind = serializers.ChoiceField(source="member.kind", choices=PanelMember.Kind.choices)
    kind_display = serializers.CharField(source="member.get_kind_display")
    status = serializers.ChoiceField(choices=OpinionStatus.choices)
    status_display = serializers.CharField(source="get_status_display")
    scores = serializers.DictField(child=serializers.CharField())
    total_score = serializers.DecimalField(max_digits=6, decimal_places=2)
    recommendation = serializers.CharField()
    recommendation_display = serializers.CharField(source="get_recommendation_display")
    recommended_amount = money(allow_null=True)
    text = serializers.CharField()
    conflict_declared = serializers.BooleanField()
    conflict_note = serializers.CharField()
    reduction_items = serializers.SerializerMethodField()
    submitted_at = serializers.DateTimeField(allow_null=True)

    def get_member(self, opinion) -> str:
        return str(opinion.member.user)

    @extend_schema_field(ReductionItemSerializer(many=True))
    def get_reduction_items(self, opinion):
        return ReductionItemSerializer(opinion.reduction_items.all(), many=True).data


class PreAssessmentSerializer(serializers.Serializer):
    """A review as its screen shows it. Needs ``request`` in the context (which opinions show)."""

    id = serializers.IntegerField()
    project = ReviewedProjectSerializer()
    agency = serializers.IntegerField(source="agency_id")
    agency_name = serializers.CharField(source="agency.name")
    due_at = serializers.DateTimeField()
    status = serializers.ChoiceField(choices=PreAssessmentStatus.choices)
    status_display = serializers.CharField(source="get_status_display")
    conclusion = serializers.CharField()
    conclusion_display = serializers.CharField(source="get_conclusion_display")
    approved_amount = money(allow_null=True)
    conclusion_reasons = serializers.CharField()
    reduction = money(allow_null=True)
    reduction_rate = serializers.SerializerMethodField(help_text=gettext_lazy("核减率（百分数，两位小数）"))
    panel = PanelMemberSerializer(many=True)
    opinions = serializers.SerializerMethodField()
    available_actions = serializers.SerializerMethodField(
        help_text=gettext_lazy("请求者当前可执行的操作（状态迁移名、名称、是否需要理由）")
    )

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_reduction_rate(self, pa):
        return percent(pa.reduction_rate)

    @extend_schema_field(AvailableActionSerializer(many=True))
    def get_available_actions(self, pa):
        """The review's transitions the requesting user may take now, from their declarations."""
        return AvailableActionSerializer(transitions.available(pa, self.context["request"].user), many=True).data

    @extend_schema_field(OpinionSerializer(many=True))
    def get_opinions(self, pa):
        user = self.context["request"].user
        members = list(pa.panel.all())
        if sees_all_opinions(user, pa):
            shown = [m.opinion for m in members if m.opinion.status == OpinionStatus.SUBMITTED]
        else:
            shown = [m.opinion for m in members if m.user_id == user.pk]
        return OpinionSerializer(shown, many=True).data


class SummarySerializer(serializers.Serializer):
    """事前绩效评估 of a fiscal year (``reports.figures.pre_assessment_summary``, the annual
    report's figures)."""

    fiscal_year = serializers.IntegerField()
    projects = serializers.IntegerField()
    requested = money()
    approved = money()
    reduction = money()
    reduction_rate = serializers.SerializerMethodField()
    by_conclusion = serializers.DictField(child=serializers.IntegerField())

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_reduction_rate(self, summary):
        rate = summary.reduction_rate  # already in percent, two places half-up
        return None if rate is None else str(rate)


# -- input -----------------------------------------------------------------------------


class BeginSerializer(serializers.Serializer):
    agency = serializers.PrimaryKeyRelatedField(queryset=Agency.objects.all())
    due_at = serializers.DateTimeField()


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class OpinionWriteSerializer(serializers.Serializer):
    """A panel member's opinion; ``submit`` false saves a draft, true submits it (final)."""

    scores = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False, default=dict)
    # A CharField, not a second enum of the conclusions: the service names a bad value on the field.
    recommendation = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="support | partial | reject"
    )
    recommended_amount = money(required=False, allow_null=True, default=None)
    text = serializers.CharField(required=False, allow_blank=True, default="")
    conflict_declared = serializers.BooleanField(required=False, default=False)
    conflict_note = serializers.CharField(required=False, allow_blank=True, default="")
    reduction_items = ReductionItemSerializer(many=True, required=False, default=list)
    submit = serializers.BooleanField(required=False, default=False)


class ConcludeSerializer(serializers.Serializer):
    conclusion = serializers.ChoiceField(choices=Conclusion.choices)
    approved_amount = money()
    reasons = serializers.CharField(required=False, allow_blank=True, default="")


class ListFilterSerializer(serializers.Serializer):
    fiscal_year = FiscalYearField(required=False)
    status = serializers.ChoiceField(choices=PreAssessmentStatus.choices, required=False)


class SummaryFilterSerializer(serializers.Serializer):
    fiscal_year = FiscalYearField()


# -- views -----------------------------------------------------------------------------

ACTION_ERRORS = {400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT}


@extend_schema_view(
    list=extend_schema(
        summary=gettext_lazy("事前绩效评估列表"),
        parameters=[ListFilterSerializer],
        responses={200: PreAssessmentSerializer(many=True), 400: BAD_REQUEST, 403: FORBIDDEN},
    ),
    retrieve=extend_schema(
        summary=gettext_lazy("事前绩效评估详情"),
        responses={200: PreAssessmentSerializer, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
)
class PreAssessmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """事前绩效评估. A review outside the user's visibility is 404, never 403."""

    serializer_class = PreAssessmentSerializer
    lookup_value_converter = "id"

    def get_queryset(self):
        return pre_assessment_list_for(self.request.user)

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        filters = ListFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        if "fiscal_year" in filters.validated_data:
            queryset = queryset.filter(project__fiscal_year=filters.validated_data["fiscal_year"])
        if "status" in filters.validated_data:
            queryset = queryset.filter(status=filters.validated_data["status"])
        return queryset

    def get_object(self):
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    def detail_response(self, pa: PreAssessment) -> Response:
        pa = get_object_or_404(self.get_queryset(), pk=pa.pk)
        return Response(PreAssessmentSerializer(pa, context=self.get_serializer_context()).data)

    @extend_schema(
        summary=gettext_lazy("发起事前绩效评估（财政绩效科）"),
        request=BeginSerializer,
        responses={201: PreAssessmentSerializer, **ACTION_ERRORS},
    )
    def begin(self, request, pk: int):  # mapped in workflows/api_urls.py; pk is the project's
        """POST /api/projects/{id}/pre-assessment/: finance commissions an agency."""
        project = project_get_for(request.user, pk)
        body = BeginSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        pa = pre_assessment_begin(project=project, actor=request.user, **body.validated_data)
        pa = get_object_or_404(self.get_queryset(), pk=pa.pk)
        return Response(PreAssessmentSerializer(pa, context={"request": request}).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=gettext_lazy("抽取评审组（受托机构）"),
        request=None,
        responses={200: PreAssessmentSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def draw(self, request, pk=None):
        pa = pre_assessment_draw(pre_assessment=self.get_object(), actor=request.user)
        return self.detail_response(pa)

    @extend_schema(
        summary=gettext_lazy("替换评审组成员（受托机构，需理由）"),
        request=ReasonSerializer,
        responses={200: PreAssessmentSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="members/<id:member_id>/replace", url_name="replace-member")
    def replace_member(self, request, pk=None, member_id=None):
        pa = self.get_object()
        member = get_object_or_404(PanelMember.objects.filter(pre_assessment=pa), pk=member_id)
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        panel_member_replace(member=member, actor=request.user, reason=body.validated_data["reason"])
        return self.detail_response(pa)

    def _my_opinion(self, pa: PreAssessment) -> Opinion:
        member = (
            PanelMember.objects.filter(pre_assessment=pa, user=cast(User, self.request.user), active=True)
            .select_related("opinion")
            .first()
        )
        if member is None:
            raise PermissionDenied(_("只有本评审组在任成员本人可以填写此意见。"))
        return member.opinion

    @extend_schema(
        methods=["GET"],
        summary=gettext_lazy("我的评审意见"),
        responses={200: OpinionSerializer, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    @extend_schema(
        methods=["PUT"],
        summary=gettext_lazy("保存或提交我的评审意见（评审组成员）"),
        description=gettext_lazy("submit 为 false 时保存草稿；为 true 时提交，提交后不能再修改。"),
        request=OpinionWriteSerializer,
        responses={200: OpinionSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["get", "put"], url_path="my-opinion", url_name="my-opinion")
    def my_opinion(self, request, pk=None):
        opinion = self._my_opinion(self.get_object())
        if request.method == "PUT":
            body = OpinionWriteSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            fields = dict(body.validated_data)
            fields["reduction_items"] = [dict(row) for row in fields["reduction_items"]]
            opinion = opinion_submit(opinion=opinion, actor=request.user, **fields)
        opinion = Opinion.objects.select_related("member__user").get(pk=opinion.pk)
        return Response(OpinionSerializer(opinion).data)

    @extend_schema(
        summary=gettext_lazy("提出评估结论（受托机构）"),
        request=ConcludeSerializer,
        responses={200: PreAssessmentSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def conclude(self, request, pk=None):
        pa = self.get_object()
        body = ConcludeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        pa = pre_assessment_propose(pre_assessment=pa, actor=request.user, **body.validated_data)
        return self.detail_response(pa)

    @extend_schema(
        summary=gettext_lazy("确认评估结论（财政绩效科）"),
        request=None,
        responses={200: PreAssessmentSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        pa = pre_assessment_decide(pre_assessment=self.get_object(), actor=request.user, confirm=True)
        return self.detail_response(pa)

    @extend_schema(
        summary=gettext_lazy("退回评估结论（财政绩效科，需理由）"),
        request=ReasonSerializer,
        responses={200: PreAssessmentSerializer, **ACTION_ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_(self, request, pk=None):
        pa = self.get_object()
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        pa = pre_assessment_decide(
            pre_assessment=pa, actor=request.user, confirm=False, reason=body.validated_data["reason"]
        )
        return self.detail_response(pa)

    @extend_schema(
        summary=gettext_lazy("年度事前绩效评估汇总"),
        parameters=[SummaryFilterSerializer],
        responses={200: SummarySerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
    )
    @action(detail=False, methods=["get"])
    def summary(self, request):
        if not holds(request.user, "processes.view_all_projects"):  # the whole year, every department
            raise exceptions.PermissionDenied()
        filters = SummaryFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        return Response(SummarySerializer(pre_assessment_summary(filters.validated_data["fiscal_year"])).data)
