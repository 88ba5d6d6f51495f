"""API tokens that expire (docs/decisions/0016-accounts-separation-of-duties.md).

A token (DRF's authtoken.Token, sent as ``Authorization: Token <key>``) is refused with
401 once it has been unused for API_TOKEN_IDLE_MINUTES, or API_TOKEN_MAX_AGE_HOURS after
it was issued, whichever comes first; the client then asks /api/auth/token/ for a new
one. Logout and a password change delete the user's tokens (accounts.signals,
accounts.passwords).

Last use is written at most once every API_TOKEN_RENEW_SECONDS (as sessions are
renewed: accounts.middleware.SessionRenewalMiddleware), so a client's requests in the
same minute write nothing: the token, its user and its last use are read in one query.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from .middleware import must_change_password_message
from .models import ApiTokenActivity


def last_used(token: Token) -> datetime:
    """When the token was last used: its activity row, or when it was issued."""
    try:
        return token.activity.last_used_at
    except ApiTokenActivity.DoesNotExist:
        return token.created


def expiry_reason(token: Token, now: datetime) -> str | None:
    """Why the token no longer authenticates at ``now``, or None if it still does."""
    if now - token.created >= timedelta(hours=settings.API_TOKEN_MAX_AGE_HOURS):
        return _("API 令牌已超过最长有效期（%(hours)s 小时），请重新获取令牌。") % {
            "hours": settings.API_TOKEN_MAX_AGE_HOURS
        }
    if now - last_used(token) >= timedelta(minutes=settings.API_TOKEN_IDLE_MINUTES):
        return _("API 令牌已闲置超过 %(minutes)s 分钟，已失效，请重新获取令牌。") % {
            "minutes": settings.API_TOKEN_IDLE_MINUTES
        }
    return None


def touch(token: Token, now: datetime) -> bool:
    """Record a use of the token if the last recorded one is API_TOKEN_RENEW_SECONDS old
    or more: one statement (an upsert), else none. Returns whether it wrote."""
    if (now - last_used(token)).total_seconds() < settings.API_TOKEN_RENEW_SECONDS:
        return False
    ApiTokenActivity.objects.bulk_create(
        [ApiTokenActivity(token_id=token.pk, last_used_at=now)],
        update_conflicts=True,
        unique_fields=["token"],
        update_fields=["last_used_at"],
    )
    return True


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's token authentication with an idle and an absolute limit (401 when passed),
    and a refusal (403) while the user's password is a temporary one."""

    def authenticate_credentials(self, key):
        try:
            token = Token.objects.select_related("user", "activity").get(key=key)
        except Token.DoesNotExist:
            raise exceptions.AuthenticationFailed(_("API 令牌无效。")) from None
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("账号已停用。"))
        now = timezone.now()
        reason = expiry_reason(token, now)
        if reason:
            raise exceptions.AuthenticationFailed(reason)
        if token.user.must_change_password:
            raise exceptions.PermissionDenied(must_change_password_message())
        touch(token, now)
        return token.user, token
