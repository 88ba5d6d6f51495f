"""The annual report API (DESIGN §4, §6): /api/reports/ (the years with data),
/api/reports/{year}/ (``report_json`` — the keys of ``manage.py annual_report`` — with the
year's import and disclosure), /api/reports/{year}/xlsx/ (the workbook of the screen) and
POST /api/reports/{year}/disclose/ (a finance officer approves the year's summary tables
for the public page).

Readers are the bureau-wide roles (finance section, supervisors, auditors); anyone else is
403. Errors follow processes.api.errors: 400 field errors (``year`` without data, ``note``
too long), 403 wrong role, 404 a year out of range, 409 a year already disclosed.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from processes.api.responses import BAD_REQUEST, FORBIDDEN
from processes.api.serializers import ErrorSerializer
from processes.files import XLSX

from .exports import annual_report_response
from .figures import AnnualReport, annual_report, report_json
from .models import ReportDisclosure
from .selectors import disclosure_of, reads_reports, report_years, valid_year
from .services import NOTE_MAX_LENGTH, report_disclose

NOT_FOUND = OpenApiResponse(ErrorSerializer, description=_("年度无效（须在 1990–2100 之间）。"))
CONFLICT = OpenApiResponse(ErrorSerializer, description=_("该年度汇总表已批准公开。"))
WORKBOOK = OpenApiResponse(
    OpenApiTypes.BINARY,
    description=_("Excel 工作簿（.xlsx）：汇总、事前评估、附件1 复核、附件2 重点评价、附件3 部门整体；金额单位万元。"),
)

JSON = "application/json"
YUAN = _("金额（元），两位小数的字符串")
PERCENT = _("百分数，两位小数（四舍五入）的字符串；无分母时为 0.00")


# -- the report's shape (report_json) ---------------------------------------------------------


def _yuan() -> serializers.CharField:
    return serializers.CharField(help_text=YUAN)


def _percent() -> serializers.CharField:
    return serializers.CharField(help_text=PERCENT)


class ReportIndicatorLibrarySerializer(serializers.Serializer):
    total = serializers.IntegerField()
    general = serializers.IntegerField(help_text=_("通用类指标"))
    department_specific = serializers.IntegerField(help_text=_("部门个性化指标"))


class ReportConclusionsSerializer(serializers.Serializer):
    support = serializers.IntegerField(help_text=_("予以支持"))
    # The ignore: the stubs see this shadowing BaseSerializer.partial; DRF's metaclass moves
    # declared fields out of the class, and the JSON key is "partial".
    partial = serializers.IntegerField(help_text=_("部分予以支持"))  # type: ignore[assignment]
    reject = serializers.IntegerField(help_text=_("不予支持"))


class ReportGradesSerializer(serializers.Serializer):
    excellent = serializers.IntegerField(help_text=_("优"))
    good = serializers.IntegerField(help_text=_("良"))
    fair = serializers.IntegerField(help_text=_("中"))
    poor = serializers.IntegerField(help_text=_("差"))


class ReportCompletionSerializer(serializers.Serializer):
    full = serializers.IntegerField(help_text=_("预算完成率 ≥ 100% 的项目"))
    at_least_90 = serializers.IntegerField(help_text=_("预算完成率 90%–100% 的项目"))
    below_90 = serializers.IntegerField(help_text=_("预算完成率 < 90% 的项目"))


class ReportPreAssessmentSerializer(serializers.Serializer):
    projects = serializers.IntegerField()
    requested = _yuan()
    approved = _yuan()
    reduction = _yuan()
    reduction_rate = _percent()
    conclusions = ReportConclusionsSerializer()


class ReportSelfEvaluationSerializer(serializers.Serializer):
    departments = serializers.IntegerField()
    projects = serializers.IntegerField()
    grades = ReportGradesSerializer()
    excellent_or_good = serializers.IntegerField()
    excellent_or_good_rate = _percent()


class ReportProjectTableSerializer(serializers.Serializer):
    """附件1 (re-check) or 附件2 (key evaluation)."""

    departments = serializers.IntegerField()
    projects = serializers.IntegerField()
    budget = _yuan()
    executed = _yuan()
    completion_rate = _percent()
    grades = ReportGradesSerializer()
    excellent_or_good_rate = _percent()
    completion = ReportCompletionSerializer()


class ReportDepartmentItemSerializer(serializers.Serializer):
    department = serializers.CharField()
    budget = _yuan()
    executed = _yuan()
    completion_rate = _percent()
    score = serializers.CharField(allow_null=True)
    grade = serializers.CharField(help_text="excellent | good | fair | poor")


class ReportDepartmentEvaluationSerializer(serializers.Serializer):
    """附件3."""

    departments = serializers.IntegerField()
    budget = _yuan()
    items = ReportDepartmentItemSerializer(many=True)


class ReportEvaluatedSerializer(serializers.Serializer):
    projects = serializers.IntegerField(help_text=_("复核与重点评价的项目（同一项目只计一次）"))
    departments = serializers.IntegerField(help_text=_("部门整体绩效评价的部门"))
    amount = _yuan()


class ReportResultsApplicationSerializer(serializers.Serializer):
    budget_year = serializers.IntegerField(help_text=_("评价结果应用于的预算年度（报告年度 + 1）"))
    projects = serializers.IntegerField(help_text=_("延续以前年度已评价项目的预算申请数"))
    decided = serializers.IntegerField()
    overridden = serializers.IntegerField(help_text=_("未采纳建议的项目数"))
    cut = _yuan()
    cut_projects = serializers.IntegerField(help_text=_("因评价结果核减预算的项目数"))
    priority = serializers.IntegerField(help_text=_("建议优先保障的项目数"))
    cancel = serializers.IntegerField(help_text=_("建议取消或调整用途的项目数"))


class ReportHistorySerializer(serializers.Serializer):
    file_name = serializers.CharField()
    imported_at = serializers.DateTimeField()


class ReportDisclosureSerializer(serializers.Serializer):
    fiscal_year = serializers.IntegerField()
    approved_by = serializers.CharField(source="approved_by.__str__")
    approved_at = serializers.DateTimeField()
    note = serializers.CharField()


class AnnualReportSerializer(serializers.Serializer):
    """The year's report: the keys of ``manage.py annual_report --format json``, whether the
    year was imported history (and from which workbook), and its disclosure."""

    year = serializers.IntegerField()
    imported = serializers.BooleanField(help_text=_("该年度为历史导入数据"))
    history = ReportHistorySerializer(allow_null=True)
    disclosure = ReportDisclosureSerializer(allow_null=True)
    indicator_library = ReportIndicatorLibrarySerializer()
    pre_assessment = ReportPreAssessmentSerializer()
    self_evaluation = ReportSelfEvaluationSerializer()
    recheck = ReportProjectTableSerializer()
    key_evaluation = ReportProjectTableSerializer()
    department_evaluation = ReportDepartmentEvaluationSerializer()
    expert_suggestions = serializers.IntegerField()
    evaluated = ReportEvaluatedSerializer()
    results_application = ReportResultsApplicationSerializer()


class ReportYearSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    imported = serializers.BooleanField()
    disclosed = serializers.BooleanField()


class ReportDiscloseSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=NOTE_MAX_LENGTH, default="")


def report_body(report: AnnualReport, disclosure: ReportDisclosure | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        **report_json(report),
        "imported": report.imported,
        "history": report.history,
        "disclosure": disclosure,
    }
    return dict(AnnualReportSerializer(body).data)


# -- views -----------------------------------------------------------------------------------


class XlsxRenderer(BaseRenderer):
    """Lets a client ask for the workbook by its media type (Accept); errors stay JSON."""

    media_type = XLSX
    format = "xlsx"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


def _check(request: Request) -> None:
    if not reads_reports(request.user):
        raise PermissionDenied(_("只有财政绩效科、督办和审计人员可以查看年度绩效报告。"))


def _year(year: int) -> int:
    if not valid_year(year):
        raise Http404(_("年度无效（须在 1990–2100 之间）。"))
    return year


class ReportYearListView(APIView):
    @extend_schema(
        summary=_("有数据的年度"),
        description=_("有项目、自评工作、委托评价或历史导入的年度，新的在前。"),
        responses={200: ReportYearSerializer(many=True), 403: FORBIDDEN},
    )
    def get(self, request: Request) -> Response:
        _check(request)
        rows = [{"year": y.year, "imported": y.imported, "disclosed": y.disclosure is not None} for y in report_years()]
        return Response(ReportYearSerializer(rows, many=True).data)


class ReportView(APIView):
    @extend_schema(
        summary=_("年度绩效报告"),
        description=_("与 manage.py annual_report --format json 相同的数据，另有 imported、history 和 disclosure。"),
        responses={200: AnnualReportSerializer, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def get(self, request: Request, year: int) -> Response:
        _check(request)
        year = _year(year)
        return Response(report_body(annual_report(year), disclosure_of(year)))


class ReportXlsxView(APIView):
    renderer_classes = [JSONRenderer, XlsxRenderer]

    @extend_schema(
        summary=_("年度绩效报告 Excel"),
        responses={(200, XLSX): WORKBOOK, (403, JSON): FORBIDDEN, (404, JSON): NOT_FOUND},
    )
    def get(self, request: Request, year: int) -> HttpResponse:
        _check(request)
        return annual_report_response(annual_report(_year(year)))

    def finalize_response(self, request, response, *args, **kwargs):
        if isinstance(response, Response):  # an error: JSON whatever the client accepted
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSON
        return super().finalize_response(request, response, *args, **kwargs)


class ReportDiscloseView(APIView):
    @extend_schema(
        summary=_("批准公开年度汇总表（财政绩效科）"),
        description=_("批准后，该年度汇总表（附件1–3）在公开页面发布，无需登录即可查看和下载。已批准的年度返回 409。"),
        request=ReportDiscloseSerializer,
        responses={201: ReportDisclosureSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT},
    )
    def post(self, request: Request, year: int) -> Response:
        _check(request)
        year = _year(year)
        body = ReportDiscloseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        disclosure = report_disclose(year=year, actor=request.user, note=body.validated_data["note"])  # type: ignore[arg-type]
        return Response(ReportDisclosureSerializer(disclosure).data, status=status.HTTP_201_CREATED)
