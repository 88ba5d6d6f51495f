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
