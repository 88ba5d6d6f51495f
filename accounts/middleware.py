from django.conf import settings
from django.utils import translation


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
