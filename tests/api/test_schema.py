"""The published OpenAPI schema and its documentation page."""

import json

import pytest
import yaml
from django.core.management import call_command
from rest_framework.test import APIClient

ACTIONS = [
    "submit",
    "approve",
    "send_back",
    "return",
    "route_to_pre_assessment",
    "route_to_target_review",
    "withdraw",
    "cancel",
    "close_out",
]


@pytest.fixture
def schema(db):
    response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def test_schema_is_yaml_openapi_when_fetched_without_a_format(db):
    response = APIClient().get("/api/schema/")

    assert response.status_code == 200
    document = yaml.safe_load(response.content)
    assert document["openapi"].startswith("3.")
    assert "/api/projects/{id}/approve/" in document["paths"]


@pytest.mark.parametrize("action", ACTIONS)
def test_schema_documents_the_action_when_fetched_as_json(schema, action):
    operation = schema["paths"][f"/api/projects/{{id}}/{action}/"]["post"]

    assert operation["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Transition"
    }
    assert set(operation["responses"]) == {"200", "400", "403", "404", "409"}
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ProjectFlowDetail"
    }
    assert operation["parameters"][0]["schema"]["type"] == "integer"


def test_schema_lists_every_endpoint_when_fetched(schema):
    assert {
        "/api/auth/token/",
        "/api/projects/",
        "/api/projects/{id}/",
        "/api/tasks/",
        "/api/tasks/{id}/",
        "/api/notifications/",
        "/api/notifications/{id}/",
        "/api/notifications/{id}/read/",
        "/api/notifications/read-all/",
    } <= set(schema["paths"])
    assert set(schema["paths"]["/api/projects/{id}/"]) == {"get", "patch"}
    assert set(schema["paths"]["/api/projects/{id}/"]["patch"]["responses"]) == {"200", "400", "403", "404", "409"}
    detail = schema["components"]["schemas"]["ProjectFlowDetail"]["properties"]
    assert {"stage", "stage_display", "available_actions", "current_tasks", "timeline"} <= set(detail)
    assert detail["stage"]["readOnly"] is True
    assert "stage" not in schema["components"]["schemas"]["PatchedProjectUpdate"]["properties"]


def test_docs_page_is_html_when_opened(db):
    response = APIClient().get("/api/docs/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"swagger" in response.content.lower()


def test_schema_generates_without_warnings_when_validated(db, tmp_path):
    out = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))

    assert "/api/projects/{id}/submit/" in out.read_text()
