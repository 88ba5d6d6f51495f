"""Shared by the API tests: the district's people, and a client logged in as one of them."""

from rest_framework.test import APIClient

from tests.conftest import District

ROLES = list(District.PEOPLE)


def client_for(user=None) -> APIClient:
    """An API client authenticated as ``user`` (anonymous when None)."""
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client
