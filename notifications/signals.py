from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver

from .services import end_session_sockets


@receiver(user_logged_out)
def close_sockets_on_logout(sender, request, user, **kwargs):
    if user is not None and request is not None:
        end_session_sockets(user_id=user.pk, session_key=request.session.session_key)
