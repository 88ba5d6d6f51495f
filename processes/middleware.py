"""Screens answer a domain error the way the API does (processes.errors.answer_for).

Every screen view catches what it can show beside its form (a refused submission keeps the
typed input). What escapes a view — a Conflict raised by a service the view did not expect
to refuse, a flow lock that timed out — is answered here with the same status as the API
(409, 503, 400) and the actor's message on the error page, never a 500. The API's own
handler (processes.api.errors.exception_handler) answers inside DRF before this runs.
"""

from __future__ import annotations

from django.shortcuts import render
from django.utils.translation import gettext_noop

from .errors import answer_for

TITLES = {
    409: gettext_noop("操作未能执行"),
    503: gettext_noop("系统繁忙"),
    400: gettext_noop("数据不合法"),
}


class DomainErrorMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        answer = answer_for(exception)
        if answer is None:
            return None
        return render(
            request,
            "error.html",
            {"status": answer.status, "title": TITLES[answer.status], "message": answer.message},
            status=answer.status,
        )
