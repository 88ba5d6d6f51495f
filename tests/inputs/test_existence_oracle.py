"""No existence oracle (issue 16: the sysadmin got 403 for an existing campaign and 404
for a missing one). For every API detail route and every role: an object the user may not
see answers exactly as a missing one does (404); 403 is kept for a forbidden action on an
object the user can see. The routes come from the schema, so a new one is covered."""

from __future__ import annotations

import json
import re

import pytest
from rest_framework.test import APIClient

from tests.api.support import ROLES, client_for
from tests.api.test_fuzz import world  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

MISSING = "999999999"


def fill(path: str, value: str, year: str) -> str:
    return re.sub(r"\{\w+\}", value, path.replace("{year}", year))


def detail_paths() -> list[str]:
    schema = json.loads(APIClient().get("/api/schema/", {"format": "json"}).content)
    return sorted(path for path, ops in schema["paths"].items() if "get" in ops and re.search(r"\{\w+\}", path))


def test_missing_and_hidden_objects_answer_alike_for_every_role_when_read(world):  # noqa: F811
    paths = detail_paths()
    assert len(paths) > 15
    oracles = []
    for role in ROLES:
        client = client_for(getattr(world, role))
        for path in paths:
            present = client.get(fill(path, "1", "2021"))
            missing = client.get(fill(path, MISSING, "9998"))
            if present.status_code == 403 and missing.status_code == 404:
                oracles.append(f"{role} {path}: existing 403, missing 404")
    assert not oracles, "\n".join(oracles)


def test_sysadmin_gets_404_for_a_campaign_whether_it_exists_or_not(world):  # noqa: F811
    client = client_for(world.sysadmin)
    assert client.get("/api/evaluations/campaigns/1/").status_code == 404
    assert client.get(f"/api/evaluations/campaigns/{MISSING}/").status_code == 404
