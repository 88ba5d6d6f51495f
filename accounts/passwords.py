"""Who set a password, and what follows (docs/decisions/0016-accounts-separation-of-duties.md).

Under 三员分立 the system administrator manages accounts but must not be able to act as
one of them unseen. So a password set by anyone but its owner — the admin's user form
or password form, the operator's ``manage.py reset_password`` — is *temporary*: its owner
must change it at the next login (``User.must_change_password``; enforced by
accounts.middleware.PasswordChangeRequiredMiddleware and accounts.authentication), is
told by e-mail, and the act is an audit event. Whoever sets it, the user's API tokens
are revoked.

Who is setting it comes from the context: a web request names its signed-in user
(``acting_request``, entered by the middleware for every request), a management command
names the operator (``acting_operator``). A password set with neither — a test factory,
a data migration, Django's own ``changepassword`` at the shell — is saved with no flag
and no event (its API tokens are revoked all the same).

accounts does not import processes (the import direction is processes → notifications
→ accounts): the events go out as signals (accounts.signals), and processes writes
them to the audit trail (processes.account_audit).
"""

from __future__ import annotations

import contextvars
import getpass
import logging
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from .models import User

logger = logging.getLogger("jixiao.accounts")


@dataclass(frozen=True)
class _Acting:
    request: Any = None  # the HttpRequest: its ``user`` is read when a password is set
    operator: str = ""  # a management command: the operating-system user who ran it


_acting: contextvars.ContextVar[_Acting | None] = contextvars.ContextVar("accounts_acting", default=None)


@contextmanager
def acting_request(request):
    """Within a web request: passwords and roles changed here are changed by
    ``request.user`` (read when it happens, so a user authenticated later by the API's
    token is seen too)."""
    token = _acting.set(_Acting(request=request))
    try:
        yield
    finally:
        _acting.reset(token)


@contextmanager
def acting_operator(operator: str | None = None):
    """Within a management command: changes are made by the server's operator."""
    token = _acting.set(_Acting(operator=operator or _os_user()))
    try:
        yield
    finally:
        _acting.reset(token)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name (a container without a passwd entry)
        return "?"


@dataclass(frozen=True)
class Actor:
    """Who is changing an account: a signed-in user, or the operator at the shell."""

    user: User | None
    operator: str = ""

    @property
    def via(self) -> str:
        return "command" if self.user is None else "web"


def current_actor() -> Actor | None:
    """Who is acting now, or None when nobody is known (tests, migrations, the shell)."""
    acting = _acting.get()
    if acting is None:
        return None
    if acting.request is not None:
        user = getattr(acting.request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        return Actor(user=user)
    return Actor(user=None, operator=acting.operator)


@dataclass(frozen=True)
class Setter:
    actor: Actor
    is_owner: bool


def password_setter(user: User) -> Setter | None:
    """Who is setting ``user``'s password now; None if nobody is known."""
    actor = current_actor()
    if actor is None:
        return None
    is_owner = actor.user is not None and user.pk is not None and actor.user.pk == user.pk
    return Setter(actor=actor, is_owner=is_owner)


def revoke_api_tokens(user: User) -> int:
    """Delete the user's API tokens (logout, password change). Returns how many."""
    from rest_framework.authtoken.models import Token

    if user.pk is None:
        return 0
    deleted, _rows = Token.objects.filter(user_id=user.pk).delete()
    return deleted


def password_saved(user: User, setter: Setter, *, created: bool) -> None:
    """Called by User.save, in its transaction, after a password set by a known actor
    was saved (and the user's API tokens deleted): emit the event and, when someone else
    set it, e-mail the user after commit."""
    from .signals import password_changed_by_owner, password_set_by_other

    if setter.is_owner:
        password_changed_by_owner.send(sender=type(user), user=user)
        return
    password_set_by_other.send(
        sender=type(user), actor=setter.actor.user, operator=setter.actor.operator, user=user, created=created
    )
    if user.email:
        actor_name = str(setter.actor.user) if setter.actor.user is not None else ""
        transaction.on_commit(lambda: send_temporary_password_notice(user, actor_name=actor_name, created=created))
    else:
        logger.warning("user %s has no e-mail address: not told that their password was set", user.username)


def send_temporary_password_notice(user: User, *, actor_name: str, created: bool) -> None:
    """Tell the user, in their language, that someone else set their password. Sent with
    django.core.mail directly: the notifications app's e-mail path delivers Notification
    rows, and accounts may not import it. A security notice, so it is sent whatever the
    user's e-mail preference. A failure is logged, never raised: the change is committed."""
    with translation.override(user.language or settings.LANGUAGE_CODE):
        who = actor_name or _("系统运维人员")
        login = f"{settings.SITE_URL.rstrip('/')}{reverse('login')}"
        if created:
            subject = _("【绩效管理】您的账号已开通")
            lead = _("%(who)s 为您开通了绩效管理系统账号「%(username)s」，并设置了初始密码。") % {
                "who": who,
                "username": user.username,
            }
        else:
            subject = _("【绩效管理】您的密码已被重置")
            lead = _("%(who)s 重置了您在绩效管理系统的账号「%(username)s」的密码。") % {
                "who": who,
                "username": user.username,
            }
        body = "\n\n".join(
            [
                lead,
                _(
                    "该密码是临时密码：下次登录时系统会要求您先设置新密码，之后才能使用其他功能；"
                    "您的 API 令牌已作废。本邮件不含密码，请向管理员当面或电话索取。"
                ),
                _("如果这不是您本人申请的，请立即联系审计管理员。"),
                login,
                _("此邮件由绩效管理系统自动发送，请勿直接回复。"),
            ]
        )
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
    except Exception:
        logger.exception("could not e-mail %s that their password was set", user.username)
