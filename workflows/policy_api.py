"""重大政策 API (decision 0027): list, read and register major policies, and start a
policy's pre-assessment — which is then the one pre-assessment (/api/pre-assessments/),
the policy's carrier project in the project's place."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import Department
from processes.api.fields import FiscalYearField, MoneyField
from processes.api.responses import BAD_REQUEST, CONFLICT, FORBIDDEN, NOT_FOUND
from processes.models import PreAssessment, ProjectCategory
from processes.selectors import policy_list_for
from processes.services import policy as policy_services

from .pre_assessment_api import BeginSerializer, PreAssessmentSerializer, pre_assessment_list_for
from .services import pre_assessment_begin

ERRORS = {400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT}


class PolicyReviewSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    agency = serializers.CharField(source="agency.name")
    status = serializers.CharField()
    conclusion = serializers.CharField()
    approved_amount = MoneyField(allow_null=True)


class PolicySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=200)
    department = serializers.PrimaryKeyRelatedField(queryset=Department.objects.filter(active=True))
    department_name = serializers.CharField(source="department.name", read_only=True)
    co_departments = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.filter(active=True), many=True, required=False
    )
    start_year = FiscalYearField()
    end_year = FiscalYearField()
    funding = MoneyField()
    goals = serializers.CharField(max_length=5000)
    category = serializers.ChoiceField(choices=ProjectCategory.choices, write_only=True)
    project = serializers.IntegerField(source="project_id", read_only=True, help_text="评估载体项目")
    stage = serializers.CharField(source="project.stage", read_only=True)
    approved_amount = MoneyField(source="project.approved_amount", read_only=True, allow_null=True)
    pre_assessments = PolicyReviewSerializer(source="project.reviews", many=True, read_only=True)


@extend_schema_view(
    list=extend_schema(summary=gettext_lazy("重大政策列表"), responses={200: PolicySerializer(many=True)}),
    retrieve=extend_schema(summary=gettext_lazy("重大政策详情"), responses={200: PolicySerializer, **ERRORS}),
    create=extend_schema(
        summary=gettext_lazy("登记重大政策（财政绩效科）"), responses={201: PolicySerializer, **ERRORS}
    ),
)
class PolicyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """重大政策. A policy outside the user's visibility is 404, never 403."""

    serializer_class = PolicySerializer
    lookup_value_converter = "id"

    def get_queryset(self):
        return (
            policy_list_for(self.request.user)
            .prefetch_related(
                "co_departments",
                Prefetch(
                    "project__pre_assessments",
                    queryset=PreAssessment.objects.select_related("agency").order_by("-pk"),
                    to_attr="reviews",
                ),
            )
            .order_by("-start_year", "name")
        )

    def get_object(self):
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    def create(self, request, *args, **kwargs):
        if not policy_services.can_register(request.user):
            raise PermissionDenied(gettext_lazy("只有财政绩效科可以登记重大政策。"))
        body = PolicySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        policy = policy_services.policy_register(actor=request.user, **body.validated_data)
        policy = self.get_object_for(policy.pk)
        return Response(PolicySerializer(policy).data, status=status.HTTP_201_CREATED)

    def get_object_for(self, pk: int):
        return get_object_or_404(self.get_queryset(), pk=pk)

    @extend_schema(
        summary=gettext_lazy("发起重大政策事前绩效评估（财政绩效科）"),
        request=BeginSerializer,
        responses={201: PreAssessmentSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="pre-assessment", url_name="pre-assessment")
    def pre_assessment(self, request, pk=None):
        """POST /api/policies/{id}/pre-assessment/: finance commissions an agency."""
        policy = self.get_object()
        body = BeginSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        pa = pre_assessment_begin(project=policy.project, actor=request.user, **body.validated_data)
        pa = get_object_or_404(pre_assessment_list_for(request.user), pk=pa.pk)
        return Response(PreAssessmentSerializer(pa, context={"request": request}).data, status=status.HTTP_201_CREATED)
