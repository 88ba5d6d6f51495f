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
