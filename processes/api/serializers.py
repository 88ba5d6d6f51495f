"""Serializers every API shares: the error body and a transition a user may take (read
from the declarations, processes.transitions). Each lifecycle's serializers live with its
API in workflows/ (decision 0022)."""

from __future__ import annotations

from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """The body of a 403, 404 or 409 answer."""

    detail = serializers.CharField()
    code = serializers.CharField(required=False)


class AvailableActionSerializer(serializers.Serializer):
    """A transition the requesting user may take now (``processes.services.projects.TransitionSpec``)."""

    name = serializers.CharField()
    # The ignore: the stubs see this class attribute shadowing Field.label (a Serializer is a
    # Field); DRF's metaclass moves declared fields out of the class, and the API key is "label".
    label = serializers.SerializerMethodField()  # type: ignore[assignment]
    needs_reason = serializers.BooleanField()

    def get_label(self, spec) -> str:
        return str(spec.label)
