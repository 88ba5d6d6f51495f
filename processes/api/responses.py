"""The OpenAPI descriptions of the error answers every API shares
(processes.api.errors.exception_handler)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse

from .serializers import ErrorSerializer

BAD_REQUEST = OpenApiResponse(OpenApiTypes.OBJECT, description=_("数据不合法：字段名 → 错误信息列表。"))
FORBIDDEN = OpenApiResponse(ErrorSerializer, description=_("未登录，或当前角色无权执行此操作。"))
NOT_FOUND = OpenApiResponse(ErrorSerializer, description=_("项目不存在，或不在您的可见范围内。"))
CONFLICT = OpenApiResponse(ErrorSerializer, description=_("当前阶段不允许此操作，或项目已被他人修改。"))
