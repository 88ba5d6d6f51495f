"""The Content-Security-Policy (django-csp; settings.CONTENT_SECURITY_POLICY, decision 0015).

The policy allows scripts and styles from this site's files only. Two things need the
request: the WebSocket of live notifications (``connect-src``: browsers do not all let
'self' cover ws:/wss:, so the page's own host is named with the scheme the page was served
over), and the Swagger UI, whose init script is served as a file by
drf-spectacular's split view instead of inline."""

from __future__ import annotations

from csp.middleware import CSPMiddleware, PolicyParts
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from drf_spectacular.views import SpectacularSwaggerSplitView


class JixiaoCSPMiddleware(CSPMiddleware):
    """django-csp's middleware, with ``connect-src`` naming this host's WebSocket origin."""

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        try:
            host = request.get_host()
        except DisallowedHost:  # a 400 for a host not in ALLOWED_HOSTS: the settings' policy
            return parts
        socket = f"{'wss' if request.is_secure() else 'ws'}://{host}"
        update = dict(parts.update or {})
        connect = update.get("connect-src") or []
        update["connect-src"] = [*([connect] if isinstance(connect, str) else connect), socket]
        parts.update = update
        return parts


class SwaggerView(SpectacularSwaggerSplitView):
    """The API's Swagger UI with its init script served as a file (``?script``), under the
    site's CSP. The script carries the user's CSRF token, so no other origin may load it
    (Cross-Origin-Resource-Policy) and no cache may keep it."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.GET.get("script") is not None:
            response["Cross-Origin-Resource-Policy"] = "same-origin"
            response["Cache-Control"] = "no-store, private"
        return response
