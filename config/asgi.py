"""ASGI entry point: HTTP through Django, WebSockets through Channels."""

import os
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

# Django's handler with a sync middleware chain entered once per request, on a kept thread
from config.asgi_handler import get_asgi_application  # noqa: E402

django_asgi_app: Any = get_asgi_application()

from django.conf import settings  # noqa: E402

if settings.DEBUG:
    # the embedded default serves static files from the app directories, as runserver does
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    django_asgi_app = ASGIStaticFilesHandler(django_asgi_app)

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from notifications.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
