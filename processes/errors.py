"""Domain errors. Each carries a message for the person who acted, in their language.

Views answer ActionNotAllowed with 409, django's PermissionDenied with 403, and
django's ValidationError with 400 (form errors on screens).
"""

from django.utils.translation import gettext_lazy as _


class ActionNotAllowed(Exception):
    """The action is not possible in the object's current state (409)."""

    default_message = _("当前状态下不能执行此操作。")

    def __init__(self, message=None):
        self.message = message or self.default_message
        super().__init__(str(self.message))


class Conflict(ActionNotAllowed):
    """Someone else changed the object or finished the task first (409)."""

    default_message = _("此事项已被他人处理或修改，请刷新后查看最新状态。")


class Answer:
    """How a domain error is answered over HTTP: status, machine code, the actor's message."""

    __slots__ = ("code", "message", "status")

    def __init__(self, status: int, code: str, message) -> None:
        self.status, self.code, self.message = status, code, message


def answer_for(exc: BaseException) -> Answer | None:
    """The one mapping of the errors a service raises to an HTTP answer, for screens
    (processes.middleware.DomainErrorMiddleware) and the API (processes.api.errors) alike:
    ActionNotAllowed / Conflict → 409, viewflow's FlowLockFailed → 503, ValidationError →
    400. PermissionDenied (403) and Http404 (404) keep Django's and DRF's own handling,
    which already answers them with their pages. None: not a domain error (a 500)."""
    from django.core.exceptions import ValidationError
    from viewflow.workflow.exceptions import FlowLockFailed

    if isinstance(exc, ActionNotAllowed):
        return Answer(409, "conflict", exc.message)
    if isinstance(exc, FlowLockFailed):
        return Answer(503, "busy", _("系统繁忙，请稍后重试。"))
    if isinstance(exc, ValidationError):
        return Answer(400, "invalid", "；".join(str(m) for m in exc.messages))
    return None
