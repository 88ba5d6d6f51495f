"""POST /api/projects/import/ — the budget-preparation import (预算编制导入, finance section):
an .xlsx upload (multipart: ``file``, ``fiscal_year``) or a JSON batch (``fiscal_year``,
``rows``). Every row is checked at once: 400 with every problem by row and column,
nothing written; else 202 with the background job that writes (GET /api/jobs/{id}/ for
its progress and counts). 403 for any other role. The rules:
processes.services.budget_import."""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from processes.api.indicators import JobSerializer
from processes.api.responses import FORBIDDEN
from processes.services import budget_import as services


class BudgetImportSerializer(serializers.Serializer):
    fiscal_year = serializers.IntegerField(help_text=_("导入项目的预算年度，如 2022"))
    file = serializers.FileField(required=False, help_text=_("项目库 .xlsx 文件（与 rows 二选一）"))
    rows = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        help_text=_(
            "数据行（与 file 二选一）：每行一个对象，键为 department、code、name、category、recurrence、"
            "requested_amount、overall_goal（或对应的中文表头）"
        ),
    )


class ImportErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True, help_text=_("文件的 Excel 行号，或数据行的序号（从 1 起）"))
    column = serializers.CharField()
    message = serializers.CharField()


class ImportRejectedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    # The ignore: the stubs see this field shadowing Serializer.errors; the API key is "errors".
    errors = ImportErrorSerializer(many=True)  # type: ignore[assignment]


class BudgetImportViewSet(viewsets.ViewSet):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        summary=_("导入预算编制项目（财政绩效科）"),
        description=_(
            "按预算年度和项目编码导入下一年度项目库，为各部门建立项目草稿：同一行再次导入不变；草稿项目的行有变化则更新；"
            "已离开草稿的项目有变化则拒绝并说明原因。全部校验通过才写入，否则返回 400 和按行列出的全部错误。"
            "通过后返回 202 和后台任务，用 GET /api/jobs/{id}/ 查看进度和结果（新建、更新、未变的行数）。"
        ),
        request={"application/json": BudgetImportSerializer, "multipart/form-data": BudgetImportSerializer},
        responses={
            202: JobSerializer,
            400: OpenApiResponse(
                ImportRejectedSerializer,
                description=_("数据不合法：按行列出的全部错误（字段错误的 row 为 null，column 为字段名）。"),
            ),
            403: FORBIDDEN,
        },
    )
    def create(self, request):
        if not services.can_import(request.user):
            raise PermissionDenied(gettext("只有财政绩效科可以导入预算编制项目。"))
        body = BudgetImportSerializer(data=request.data)
        if not body.is_valid():
            return _rejected([{"row": None, "column": name, "message": str(m)} for name, m in _flat(body.errors)])
        data = body.validated_data
        try:
            job = services.budget_import_start(
                actor=request.user, fiscal_year=data["fiscal_year"], file=data.get("file"), rows=data.get("rows")
            )
        except services.BudgetImportRejected as rejected:
            return _rejected(rejected.as_json())
        except ValidationError as invalid:  # the year, the file's type or size, the batch's shape
            return _rejected(
                [
                    {"row": None, "column": "" if name == NON_FIELD_ERRORS else name, "message": message}
                    for name, messages in invalid.message_dict.items()
                    for message in messages
                ]
            )
        response = Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
        response["Location"] = reverse("job-detail", args=[job.pk])
        return response


def _rejected(errors: list[dict]) -> Response:
    """The one 400 body of the import: a sentence and every problem as {row, column, message}."""
    return Response(
        {"detail": gettext("数据有误，没有导入任何项目。"), "errors": errors}, status=status.HTTP_400_BAD_REQUEST
    )


def _flat(errors, prefix: str = ""):
    """DRF's nested field errors as (field path, message) pairs."""
    if isinstance(errors, dict):
        for key, value in errors.items():
            yield from _flat(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(errors, list):
        for value in errors:
            yield from _flat(value, prefix)
    else:
        yield prefix, errors
