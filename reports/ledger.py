"""结果应用台账 (issue 18 item 3, decision 0025): a year's screen, its XLSX and its API.

Who reads it (``processes.results_ledger.ledger_visible_to``): the finance section and the
bureau's leaders (supervisors, auditors) every department's rows, with a department filter;
a department's staff and leaders their own department's rows only; anyone else 403.
Filters: department, grade. The totals are of the filtered rows; the figures come from
``ledger()`` in a fixed number of queries.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Department
from processes.api.responses import BAD_REQUEST, FORBIDDEN
from processes.files import xlsx_response
from processes.results_ledger import Ledger, ledger, ledger_scope, ledger_visible_to
from processes.states import Grade
from processes.units import in_wan, in_yuan

from .api import NOT_FOUND as YEAR_NOT_FOUND
from .exports import results_ledger_xlsx
from .selectors import valid_year

PAGE_SIZE = 100


class LedgerFilterForm(forms.Form):
    department = forms.ModelChoiceField(
        label=gettext_lazy("预算部门"), queryset=Department.objects.order_by("code"), required=False
    )
    grade = forms.ChoiceField(label=gettext_lazy("评价等次"), choices=[("", "—"), *Grade.choices], required=False)


def _check(user) -> None:
    if not ledger_visible_to(user):
        raise PermissionDenied(_("只有财政绩效科、领导和预算部门可以查看结果应用台账。"))


def _year(year: int) -> int:
    if not valid_year(year):
        raise Http404(_("年度无效。"))
    return year


def _ledger_for(user, year: int, data) -> tuple[Ledger, LedgerFilterForm, bool]:
    """The ledger ``user`` may read, filtered by ``data``; a department user's is always
    their own department's, whatever the filter says."""
    scope = ledger_scope(user)
    form = LedgerFilterForm(data or None)
    department = grade = None
    if form.is_valid():
        department = form.cleaned_data["department"]
        grade = form.cleaned_data["grade"]
    department_id = scope if scope is not None else (department.pk if department else None)
    return ledger(year, department=department_id, grade=grade or ""), form, scope is None


@login_required
@require_GET
def results_ledger(request: HttpRequest, year: int):
    """结果应用台账 of ``year``: filters, totals (amount cut because of grades), the rows."""
    _check(request.user)
    book, form, all_departments = _ledger_for(request.user, _year(year), request.GET)
    page = Paginator(book.rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "reports/results_ledger.html",
        {
            "year": year,
            "ledger": book,
            "page": page,
            "form": form,
            "all_departments": all_departments,
            "query": query.urlencode(),
        },
    )


@login_required
@require_GET
def results_ledger_xlsx_view(request: HttpRequest, year: int):
    _check(request.user)
    book, _form, _all = _ledger_for(request.user, _year(year), request.GET)
    return xlsx_response(
        results_ledger_xlsx(book),
        _("%(year)s年度结果应用台账.xlsx") % {"year": year},
        fallback=f"results-ledger-{year}.xlsx",
    )


# -- the API ------------------------------------------------------------------------------------


def ledger_json(book: Ledger) -> dict[str, Any]:
    """Amounts in yuan as strings with two decimals; grades keyed excellent / good / fair / poor."""

    def money(amount):
        return None if amount is None else str(in_yuan(amount))

    return {
        "year": book.year,
        "projects": book.projects,
        "decided": book.decided_count,
        "overridden": book.overridden_count,
        "requested": money(book.requested),
        "proposed": money(book.proposed),
        "decided_amount": money(book.decided),
        "cut": money(book.cut),
        "cut_wan": str(in_wan(book.cut)),
        "cut_projects": book.cut_count,
        "grades": book.grades,
        "items": [
            {
                "project": row.project.pk,
                "department": row.project.department.name,
                "code": row.project.code,
                "name": row.project.name,
                "last_year": row.last_year,
                "grade": row.grade,
                "grade_display": row.grade_label,
                "recommendation": row.recommendation_text,
                "requested": money(row.requested),
                "proposed": money(row.proposed),
                "decided": money(row.decided),
                "status": row.decision.status if row.decision else "proposed",
                "overridden": row.overridden,
                "reason": row.reason,
                "blocked_by": row.block.text if row.block and not row.decision else "",
            }
            for row in book.rows
        ],
    }


class LedgerItemSerializer(serializers.Serializer):
    project = serializers.IntegerField()
    department = serializers.CharField()
    code = serializers.CharField()
    name = serializers.CharField()
    last_year = serializers.IntegerField(help_text=gettext_lazy("评价等次所属年度"))
    grade = serializers.CharField(help_text="excellent | good | fair | poor")
    grade_display = serializers.CharField()
    recommendation = serializers.CharField(help_text=gettext_lazy("应用建议，如 压减预算 10%"))
    requested = serializers.CharField(help_text=gettext_lazy("送审金额（元）"))
    proposed = serializers.CharField(help_text=gettext_lazy("建议安排金额（元）"))
    decided = serializers.CharField(allow_null=True, help_text=gettext_lazy("决定安排金额（元）；未决定为 null"))
    status = serializers.CharField(help_text="proposed | accepted | overridden")
    overridden = serializers.BooleanField()
    reason = serializers.CharField(help_text=gettext_lazy("不采纳建议的理由"))
    blocked_by = serializers.CharField(help_text=gettext_lazy("阻止优先保障的未验收整改（未决定时）"))


class LedgerSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    projects = serializers.IntegerField()
    decided = serializers.IntegerField()
    overridden = serializers.IntegerField()
    requested = serializers.CharField()
    proposed = serializers.CharField()
    decided_amount = serializers.CharField()
    cut = serializers.CharField(help_text=gettext_lazy("因评价结果核减的金额（元）：已决定项目的送审减决定"))
    cut_wan = serializers.CharField(help_text=gettext_lazy("同上，万元"))
    cut_projects = serializers.IntegerField()
    grades = serializers.DictField(child=serializers.IntegerField())
    items = LedgerItemSerializer(many=True)


class ResultsLedgerView(APIView):
    """GET /api/results/ledger/{year}/ — the year's 结果应用台账 (the screen's rows and totals)."""

    @extend_schema(
        operation_id="results_ledger",
        parameters=[
            OpenApiParameter("department", OpenApiTypes.INT, description="预算部门 id（仅财政绩效科和领导）"),
            OpenApiParameter("grade", OpenApiTypes.STR, description="excellent | good | fair | poor"),
        ],
        responses={200: LedgerSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: YEAR_NOT_FOUND},
    )
    def get(self, request: Request, year: int) -> Response:
        _check(request.user)
        book, form, _all = _ledger_for(request.user, _year(year), request.query_params)
        if request.query_params and not form.is_valid():
            return Response({"detail": _("筛选条件无效。"), "errors": form.errors}, status=400)
        return Response(ledger_json(book))
