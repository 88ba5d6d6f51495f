"""400/404, never 500, for malformed ids and out-of-range integers (issue 16): every route
with an id takes it through the ``id`` converter (processes/converters.py), and every
integer query filter of the API through a bounded field (processes/api/fields.py). The
routes and filters are found by introspection, so a new one is covered automatically."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from tests.api.support import client_for

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999999"
# Do not match the converter: 404 before any view runs.
UNMATCHED = ["abc", "-1", "1.5", HUGE, "1e3", "%20"]
# Matches (18 digits), but is no object: the view answers 404 (or 405/403), never 500.
LARGEST = "999999999999999999"
PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")


def routes(resolver: URLResolver | None = None, prefix: str = "") -> list[str]:
    out: list[str] = []
    for entry in (resolver or get_resolver()).url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            out += routes(entry, route)
        elif isinstance(entry, URLPattern):
            out.append(route)
    return out


def own_routes_with_parameters() -> list[str]:
    return sorted({r for r in routes() if PARAM.search(r) and not r.startswith(("admin/", "^"))})


def test_every_own_route_takes_ids_through_the_id_converter_when_routed():
    found = own_routes_with_parameters()
    assert len(found) > 60
    converters = {m.group(1) for r in found for m in PARAM.finditer(r)}
    assert converters <= {"id", "year", "slug"}, converters


def fill(route: str, bad: str, name: str) -> str:
    def one(match: re.Match) -> str:
        converter, param = match.group(1), match.group(2)
        if converter == "slug":
            return "x"
        return bad if param == name else "1"

    return "/" + PARAM.sub(one, route)


CASES = [
    (route, match.group(2))
    for route in own_routes_with_parameters()
    for match in PARAM.finditer(route)
    if match.group(1) in ("id", "year")
]


@pytest.mark.parametrize(("route", "name"), CASES)
def test_malformed_id_is_404_when_it_does_not_match_the_converter(district, route, name):
    client = client_for(district.finance)
    for bad in UNMATCHED:
        response = client.get(fill(route, bad, name))
        assert response.status_code == 404, (route, bad, response.status_code)


@pytest.mark.parametrize(("route", "name"), CASES)
def test_largest_id_is_not_a_server_error_when_no_such_object(district, route, name):
    for user in (district.finance, district.staff_a, district.sysadmin):
        client = client_for(user)
        client.force_login(user)  # the screens use the session
        for method in ("get", "post"):
            response = getattr(client, method)(fill(route, LARGEST, name))
            assert response.status_code < 500, (route, method, response.status_code)


def api_list_filters() -> list[tuple[str, str]]:
    schema = json.loads(APIClient().get("/api/schema/", {"format": "json"}).content)
    out = []
    for path, operations in schema["paths"].items():
        get = operations.get("get")
        if get is None:
            continue
        for parameter in get.get("parameters", []):
            if parameter["in"] == "query" and parameter["schema"].get("type") == "integer":
                out.append((path, parameter["name"]))
    return out


def test_every_integer_query_filter_is_bounded_when_it_is_too_large(district):
    filters = api_list_filters()
    assert ("/api/projects/", "department") in filters and len(filters) > 15
    client = client_for(district.finance)
    for path, name in filters:
        url = path.replace("{id}", "1").replace("{year}", "2021")
        url = re.sub(r"\{\w+\}", "1", url)
        for bad in (HUGE, "-" + HUGE, "abc", "NaN", "1e400"):
            response = client.get(url, {name: bad})
            assert response.status_code in (400, 403, 404), (path, name, bad, response.status_code)
            if response.status_code == 400 and name != "page":
                assert name in response.json(), (path, name, response.json())


@pytest.mark.parametrize(
    "url",
    [
        "/api/rectifications/abc/",
        "/api/evaluations/commissioned/abc/",
        "/api/evaluations/self/abc/",
        f"/api/rectifications/{HUGE}/",
        f"/api/projects/{HUGE}/",
        f"/rectifications/{HUGE}/",
    ],
)
def test_issue_examples_are_404_when_the_id_is_malformed(district, url):
    assert client_for(district.finance).get(url).status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/api/projects/",
        "/api/rectifications/",
        "/api/evaluations/self/",
        "/api/monitoring/reports/",
        "/api/indicators/",
    ],
)
def test_huge_department_filter_is_400_when_listed(district, url):
    response = client_for(district.finance).get(url, {"department": HUGE})
    assert response.status_code == 400
    assert response.json()["department"]
