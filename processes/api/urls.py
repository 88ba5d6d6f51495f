"""API routes that are no lifecycle's: the token, the indicator library, background jobs.
Every lifecycle's API (/api/projects/ and the rest) is routed by workflows.api_urls
(decision 0022)."""

from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers
from rest_framework.routers import SimpleRouter

from accounts.api import ObtainApiToken

from .indicators import IndicatorViewSet, JobViewSet

# /api/indicators/ (绩效指标库) and /api/jobs/ (background jobs): processes/api/indicators.py
router = SimpleRouter(use_regex_path=False)
router.register("indicators", IndicatorViewSet, basename="indicator")
router.register("jobs", JobViewSet, basename="job")


@extend_schema_view(
    post=extend_schema(
        responses={
            200: inline_serializer("AuthTokenResponse", {"token": serializers.CharField()}),
            400: OpenApiResponse(OpenApiTypes.OBJECT, description=_("用户名或密码错误：字段名 → 错误信息列表。")),
            403: OpenApiResponse(OpenApiTypes.OBJECT, description=_("临时密码：须先在网站上修改密码。")),
        }
    )
)
class TokenView(ObtainApiToken):
    """The token view (tokens expire, and end at logout: accounts.authentication) with its
    400 (wrong credentials) in the schema."""


urlpatterns = [
    # POST username + password → {"token": ...}; then send "Authorization: Token <token>".
    path("auth/token/", TokenView.as_view(), name="api-token"),
    *router.urls,
]
