"""API error mapping: domain errors become 409, permission 403, validation 400 — with messages."""

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from processes.errors import answer_for


def exception_handler(exc, context):
    answer = answer_for(exc)
    if answer is not None and answer.status in (409, 503):  # 400s keep DRF's field-by-field body
        return Response({"detail": str(answer.message), "code": answer.code}, status=answer.status)
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            detail = dict(exc.message_dict)
            if NON_FIELD_ERRORS in detail:  # Django's "__all__" is DRF's "non_field_errors"
                detail[api_settings.NON_FIELD_ERRORS_KEY] = detail.pop(NON_FIELD_ERRORS)
        else:
            detail = {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    return drf_exception_handler(exc, context)
