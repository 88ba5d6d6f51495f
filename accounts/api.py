"""The API's token endpoint (accounts.authentication: how tokens expire)."""

from django.db import transaction
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response

from .authentication import expiry_reason, touch
from .middleware import congress_reader_message, must_change_password_message
from .roles import Role


class ObtainApiToken(ObtainAuthToken):
    """POST username + password → ``{"token": ...}``: the user's token, a new one if they
    had none or theirs had expired (which is then deleted). 403 while the password is a
    temporary one: it must be changed on the site first; 403 for the congress reader, who
    has no API (accounts.middleware.CongressReaderScopeMiddleware)."""

    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        if user.must_change_password:
            raise exceptions.PermissionDenied(must_change_password_message())
        if user.role_names == {Role.CONGRESS_READER}:  # it has no API (decision 0026)
            raise exceptions.PermissionDenied(congress_reader_message())
        now = timezone.now()
        with transaction.atomic():
            token = Token.objects.select_related("activity").select_for_update(of=("self",)).filter(user=user).first()
            if token is not None and expiry_reason(token, now):
                token.delete()
                token = None
            if token is None:
                token = Token.objects.create(user=user)
            else:
                touch(token, now)
        return Response({"token": token.key})


obtain_api_token = ObtainApiToken.as_view()
