"""Counts each request's SQL statements (as Django's query log counts them, BEGIN/COMMIT
and SAVEPOINTs included) into the ``X-Bench-Statements`` response header. Installed by
config/settings/bench.py only, as the outermost middleware, so the session and
authentication statements count too."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

HEADER = "X-Bench-Statements"


class StatementCountMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with CaptureQueriesContext(connection) as queries:
            response = self.get_response(request)
        response[HEADER] = str(len(queries.captured_queries))
        return response
