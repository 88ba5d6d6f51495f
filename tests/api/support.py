"""Shared by the API tests: the district's people, and a client logged in as one of them."""

from rest_framework.test import APIClient

from tests.conftest import District

#: Every role with an API. The congress reader has none: it is refused on every path
#: (tests/screens/test_committee_pages.py).
ROLES = [p for p in District.PEOPLE if p != "congress"]


def client_for(user=None) -> APIClient:
    """An API client authenticated as ``user`` (anonymous when None)."""
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client
