"""/api/projects/{id}/results-decision/ (结果应用, decision 0025): GET the proposal the grade of
record makes for a continuing project's request (or the decision once taken); POST the
finance officer's decision — ``{"accept": true}``, or ``{"accept": false, "amount": …,
"reason": …}`` (the reason required: 400 without it). 403 for anyone but the finance section
(the department reads its own project's), 404 a project not visible or without a proposal,
409 a refusal (already decided, not at intake, 优先保障 blocked by an unverified
rectification)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from processes.api.fields import MoneyField
from processes.api.responses import BAD_REQUEST, CONFLICT, FORBIDDEN, NOT_FOUND
from processes.models import ResultsDecision
from processes.results import results_visible_to
from processes.results_ledger import proposal_for
from processes.selectors import project_get_for
from processes.services.results import results_decide
from processes.units import in_yuan


class ResultsDecisionSerializer(serializers.Serializer):
    project = serializers.IntegerField()
    graded_project = serializers.IntegerField(help_text=gettext_lazy("评价等次所属的以前年度项目"))
    graded_year = serializers.IntegerField()
    grade = serializers.CharField(help_text="excellent | good | fair | poor")
    grade_display = serializers.CharField()
    recommendation = serializers.CharField(help_text="priority | keep | cut | cancel")
    recommendation_display = serializers.CharField()
    requested_amount = serializers.CharField()
    proposed_amount = serializers.CharField(
        help_text=gettext_lazy("建议安排金额（元）：中 按比例压减（四舍五入到分），差 为 0")
    )
    proposed_priority = serializers.BooleanField(help_text=gettext_lazy("建议优先保障（有未验收整改时为 false）"))
    flagged = serializers.BooleanField(help_text=gettext_lazy("差：建议取消或调整用途"))
    blocked_by = serializers.CharField(help_text=gettext_lazy("阻止优先保障的未验收整改（名称与期限）"))
    status = serializers.CharField(help_text="proposed | accepted | overridden")
    decided_amount = serializers.CharField(allow_null=True)
    priority = serializers.BooleanField()
    reason = serializers.CharField()
    decided_by = serializers.CharField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)


class DecideSerializer(serializers.Serializer):
    accept = serializers.BooleanField(help_text=gettext_lazy("true 采纳建议；false 不采纳，须给出金额和理由"))
    amount = MoneyField(required=False, allow_null=True, min_value=0)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)


def decision_data(project, decision: ResultsDecision | None) -> dict[str, Any]:
    from processes.results_ledger import recommendation_text

    if decision is not None:
        return {
            "project": project.pk,
            "graded_project": decision.graded_project_id,
            "graded_year": decision.graded_project.fiscal_year,
            "grade": decision.grade,
            "grade_display": decision.get_grade_display(),
            "recommendation": decision.recommendation,
            "recommendation_display": recommendation_text(decision.recommendation, decision.cut_percent),
            "requested_amount": str(in_yuan(decision.requested_amount)),
            "proposed_amount": str(in_yuan(decision.proposed_amount)),
            "proposed_priority": decision.proposed_priority,
            "flagged": decision.recommendation == "cancel",
            "blocked_by": "",
            "status": decision.status,
            "decided_amount": str(in_yuan(decision.decided_amount)) if decision.decided_amount is not None else None,
            "priority": decision.priority,
            "reason": decision.reason,
            "decided_by": str(decision.decided_by) if decision.decided_by_id else None,
            "decided_at": decision.decided_at,
        }
    proposal = proposal_for(project)
    if proposal is None:
        raise Http404(_("该项目没有以前年度的评价等次，无结果应用建议。"))
    rec = proposal.recommendation
    return {
        "project": project.pk,
        "graded_project": proposal.graded_project.pk,
        "graded_year": proposal.graded_project.fiscal_year,
        "grade": rec.grade,
        "grade_display": rec.grade_label,
        "recommendation": rec.action,
        "recommendation_display": proposal.text,
        "requested_amount": str(in_yuan(project.requested_amount)),
        "proposed_amount": str(in_yuan(proposal.proposed_amount)),
        "proposed_priority": proposal.priority,
        "flagged": proposal.flagged,
        "blocked_by": proposal.block.text if proposal.block else "",
        "status": "proposed",
        "decided_amount": None,
        "priority": False,
        "reason": "",
        "decided_by": None,
        "decided_at": None,
    }


class ProjectResultsDecisionView(APIView):
    def _project(self, request, pk):
        project = project_get_for(request.user, pk)
        if not results_visible_to(request.user, project):
            raise PermissionDenied(_("您不能查看该项目的结果应用。"))
        return project

    @extend_schema(
        operation_id="project_results_decision",
        summary=gettext_lazy("结果应用建议与决定"),
        responses={200: ResultsDecisionSerializer, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def get(self, request, pk: int) -> Response:
        project = self._project(request, pk)
        decision = (
            ResultsDecision.objects.filter(project=project).select_related("graded_project", "decided_by").first()
        )
        return Response(decision_data(project, decision))

    @extend_schema(
        operation_id="project_results_decide",
        summary=gettext_lazy("决定结果应用（财政绩效科：采纳建议，或不采纳并说明理由）"),
        request=DecideSerializer,
        responses={201: ResultsDecisionSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT},
    )
    def post(self, request, pk: int) -> Response:
        project = self._project(request, pk)
        body = DecideSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        decision = results_decide(
            project=project,
            actor=request.user,
            accept=data["accept"],
            amount=data.get("amount"),
            reason=data.get("reason") or "",
        )
        decision = ResultsDecision.objects.select_related("graded_project", "decided_by").get(pk=decision.pk)
        return Response(decision_data(project, decision), status=status.HTTP_201_CREATED)
