"""The request facts the audit trail records (client IP), carried without threading `request`
through every service signature."""

from __future__ import annotations

import contextvars
from contextlib import contextmanager

_client_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("audit_client_ip", default=None)


def client_ip() -> str | None:
    return _client_ip.get()


@contextmanager
def audit_ip(ip: str | None):
    token = _client_ip.set(ip)
    try:
        yield
    finally:
        _client_ip.reset(token)


def request_ip(request) -> str | None:
    # REMOTE_ADDR only: behind a proxy, the proxy must set it (see docs/deployment.md);
    # X-Forwarded-For from a client is never trusted here.
    return request.META.get("REMOTE_ADDR") or None


class AuditContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with audit_ip(request_ip(request)):
            return self.get_response(request)
