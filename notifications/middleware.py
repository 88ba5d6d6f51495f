"""A request's WebSocket pushes, sent together when it ends (notifications.services.pushes_together)."""

from __future__ import annotations

from .services import pushes_together


class PushesTogetherMiddleware:
    """Sends the pushes the request published (after their transactions committed) in one
    hop to the event loop when the view and the inner middleware are done, in the order
    they were published, each once, also when the view raised."""

    sync_capable = True
    async_capable = False

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with pushes_together():
            return self.get_response(request)
