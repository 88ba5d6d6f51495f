"""Project endpoints: list, create, detail and draft edits. Views read through selectors and
write through services; they never touch a model's fields themselves.

The stage transitions drive workflow tasks, so they live one layer up, in workflows.api,
which subclasses ``ProjectViewSet`` (imports point workflows → processes, never back) and
is what /api/projects/ routes to.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from processes.selectors import project_filter, project_get_for, project_list_for
from processes.services.projects import project_create, project_update

from .serializers import (
    ErrorSerializer,
    ProjectCreateSerializer,
    ProjectDetailSerializer,
    ProjectFilterSerializer,
    ProjectListSerializer,
    ProjectUpdateSerializer,
)

# Shared OpenAPI descriptions of the error answers (processes.api.errors.exception_handler).
BAD_REQUEST = OpenApiResponse(OpenApiTypes.OBJECT, description=_("数据不合法：字段名 → 错误信息列表。"))
FORBIDDEN = OpenApiResponse(ErrorSerializer, description=_("未登录，或当前角色无权执行此操作。"))
NOT_FOUND = OpenApiResponse(ErrorSerializer, description=_("项目不存在，或不在您的可见范围内。"))
CONFLICT = OpenApiResponse(ErrorSerializer, description=_("当前阶段不允许此操作，或项目已被他人修改。"))


def project_schema(detail_serializer) -> dict:
    """``extend_schema`` of each project endpoint, for ``extend_schema_view`` on a routed view."""
    return {
        "list": extend_schema(
            summary=_("项目列表"),
            parameters=[ProjectFilterSerializer],
            responses={200: ProjectListSerializer(many=True), 400: BAD_REQUEST, 403: FORBIDDEN},
        ),
        "create": extend_schema(
            summary=_("新建项目（部门经办人）"),
            request=ProjectCreateSerializer,
            responses={201: detail_serializer, 400: BAD_REQUEST, 403: FORBIDDEN},
        ),
        "retrieve": extend_schema(
            summary=_("项目详情"),
            responses={200: detail_serializer, 403: FORBIDDEN, 404: NOT_FOUND},
        ),
        "partial_update": extend_schema(
            summary=_("修改草稿项目"),
            description=_("只有本部门经办人可以修改草稿。带上 version 时，若项目已被他人修改则返回 409。"),
            request=ProjectUpdateSerializer,
            responses={200: detail_serializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT},
        ),
    }


class ProjectViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """预算项目. Lists are scoped by ``project_list_for``; another department's project is
    404, never 403 (which would confirm it exists)."""

    serializer_class = ProjectListSerializer
    detail_serializer_class = ProjectDetailSerializer
    lookup_value_converter = "id"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return project_list_for(self.request.user)

    def get_serializer_class(self):
        # The input serializer of the request's method, so the browsable API offers real forms.
        method = self.request.method if self.request is not None else "GET"
        if method == "POST" and self.action in ("list", "create"):
            return ProjectCreateSerializer
        if method == "PATCH":
            return ProjectUpdateSerializer
        return self.serializer_class

    def get_object(self):
        return project_get_for(self.request.user, self.kwargs[self.lookup_field])

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        filters = ProjectFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return project_filter(queryset, **filters.validated_data)

    def detail_response(self, project, status_code=status.HTTP_200_OK) -> Response:
        data = self.detail_serializer_class(project, context=self.get_serializer_context()).data
        return Response(data, status=status_code)

    def create(self, request, *args, **kwargs):
        body = ProjectCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        project = project_create(actor=request.user, **body.validated_data)
        return self.detail_response(project_get_for(request.user, project.pk), status.HTTP_201_CREATED)

    def retrieve(self, request, *args, **kwargs):
        return self.detail_response(self.get_object())

    def partial_update(self, request, *args, **kwargs):
        project = self.get_object()
        body = ProjectUpdateSerializer(project, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        changes = dict(body.validated_data)
        version = changes.pop("version", None)
        project = project_update(project=project, actor=request.user, version=version, **changes)
        return self.detail_response(project)
