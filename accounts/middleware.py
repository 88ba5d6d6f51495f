import time

from django.conf import settings
from django.utils import translation


class SessionRenewalMiddleware:
    """Renew a signed-in session's idle limit (SESSION_COOKIE_AGE) at most once every
    SESSION_RENEW_SECONDS, instead of writing the session row on every request (Django's
    SESSION_SAVE_EVERY_REQUEST): a write transaction per page or API call, three
    statements, and on SQLite the one write lock every request would queue for. An idle
    session therefore ends between SESSION_IDLE_MINUTES minus SESSION_RENEW_SECONDS and
    SESSION_IDLE_MINUTES after the last request. Placed after SessionMiddleware, so
    that the session it marks modified is saved (with a new expiry) on the way out."""

    KEY = "_renewed_at"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and not session.is_empty():
            now = int(time.time())
            # a session saved anyway (a login, a language switch) is stamped for free
            if session.modified or now - session.get(self.KEY, 0) >= settings.SESSION_RENEW_SECONDS:
                session[self.KEY] = now
        return response


class UserLanguageMiddleware:
    """Use the user's saved language unless the browser chose one with the language switch
    (or, on the API, the client sent Accept-Language)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES
            # an API client that names a language gets it, however it authenticated
            and not (request.path.startswith("/api/") and "HTTP_ACCEPT_LANGUAGE" in request.META)
            and user.language
        ):
            translation.activate(user.language)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)


class PasswordChangeRequiredMiddleware:
    """Two things about the signed-in account, for every request:

    - changes made while serving it (a password set, a role granted) are made by
      ``request.user`` (accounts.passwords.acting_request), for the audit trail;
    - a user whose password was set by someone else (``must_change_password``) gets
      nothing but the password-change page, logout and the language switch: a page
      redirects there, an API call answers 403 with the reason (a token is refused by
      accounts.authentication).

    Placed after AuthenticationMiddleware. Costs no query: the user row is read for
    the request anyway, and the flag is one of its columns."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._allowed: frozenset[str] | None = None

    def __call__(self, request):
        from .passwords import acting_request

        with acting_request(request):
            user = getattr(request, "user", None)
            if (
                user is not None
                and user.is_authenticated
                and user.must_change_password
                and not self.allowed(request.path_info)
            ):
                return self.refuse(request)
            return self.get_response(request)

    def allowed(self, path: str) -> bool:
        if self._allowed is None:
            from django.urls import reverse

            self._allowed = frozenset(
                reverse(name) for name in ("password_change", "logout", "set_language", "admin:logout")
            )
        return path in self._allowed or path.startswith("/" + settings.STATIC_URL.lstrip("/"))

    def refuse(self, request):
        from django.http import JsonResponse
        from django.shortcuts import redirect
        from django.urls import reverse
        from django.utils.http import urlencode

        if request.path_info.startswith("/api/"):
            return JsonResponse({"detail": must_change_password_message()}, status=403)
        target = reverse("password_change")
        if request.method == "GET":
            target += "?" + urlencode({"next": request.get_full_path()})
        return redirect(target)


def must_change_password_message() -> str:
    from django.utils.translation import gettext as _

    return _("您的密码是管理员设置的临时密码，请先在网页上修改密码，之后才能继续使用。")


class CongressReaderScopeMiddleware:
    """人大预算工委 (the congress reader role, decision 0026) reads the annual reports of any
    year, the committee opinions' 落实情况 table and the public pages — nothing else. An
    account whose only role it is gets those paths (accounts.roles.CONGRESS_READER_PATHS),
    its own notifications and its account pages; the site's root takes it to the reports;
    any other page is 403 and any API call a 403 with the reason (and the token endpoint,
    accounts.api, never issues it a token, so it cannot reach the API past this wall). The views check their own
    rights besides (a reader holds no other permission); this is the one place that says
    what the role may open. Reads the user's roles (``role_names``, one query cached on the
    user, which the menu and most checks read anyway)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from .roles import CONGRESS_READER_PATHS, Role

        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.role_names == {Role.CONGRESS_READER}:
            path = request.path_info
            if path == "/":
                from django.shortcuts import redirect

                return redirect("reports:overview")
            static = "/" + settings.STATIC_URL.lstrip("/")
            if not (path.startswith(CONGRESS_READER_PATHS) or path.startswith(static)):
                return self.refuse(request)
        return self.get_response(request)

    def refuse(self, request):
        from django.core.exceptions import PermissionDenied
        from django.http import JsonResponse

        message = congress_reader_message()
        if request.path_info.startswith("/api/"):
            return JsonResponse({"detail": message}, status=403)
        raise PermissionDenied(message)


def congress_reader_message() -> str:
    from django.utils.translation import gettext as _

    return _("人大预算工委只能查看绩效报告、审议意见落实情况和公开信息。")
