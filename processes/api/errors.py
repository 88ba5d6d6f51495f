"""API error mapping: domain errors become 409, permission 403, validation 400 — with messages."""

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler
from viewflow.workflow.exceptions import FlowLockFailed

from processes.errors import ActionNotAllowed


def exception_handler(exc, context):
    if isinstance(exc, ActionNotAllowed):
        return Response({"detail": str(exc.message), "code": "conflict"}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, FlowLockFailed):
        return Response(
            {"detail": _("系统繁忙，请稍后重试。"), "code": "busy"}, status=status.HTTP_503_SERVICE_UNAVAILABLE
        )
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
