"""One mapping of domain errors to HTTP answers for screens and the API (issue 17, item 5):
a refusal a screen did not catch is a 409/503/400 page with the actor's message, as the
API answers it — never a 500."""

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient
from viewflow.workflow.exceptions import FlowLockFailed

from processes.errors import Conflict, answer_for

pytestmark = pytest.mark.django_db


def _raising(exc):
    def raise_it(*args, **kwargs):
        raise exc

    return raise_it


@pytest.mark.parametrize(
    ("exc", "status", "shown"),
    [
        (Conflict("此事项已被他人处理"), 409, "此事项已被他人处理"),
        (FlowLockFailed("locked"), 503, "系统繁忙，请稍后重试。"),
        (ValidationError("年度不合法"), 400, "年度不合法"),
    ],
)
def test_screen_answers_as_the_api_when_a_service_error_escapes_the_view(
    client, district, monkeypatch, exc, status, shown
):
    monkeypatch.setattr("workflows.project_views.project_list_for", _raising(exc))
    client.force_login(district.staff_a)

    response = client.get("/projects/")

    assert response.status_code == status
    assert shown in response.content.decode()
    assert answer_for(exc).status == status  # the same mapping the API's handler reads


@pytest.mark.parametrize(("exc", "status"), [(Conflict("已被他人处理"), 409), (FlowLockFailed("locked"), 503)])
def test_api_answers_with_the_same_status_when_the_service_refuses(district, monkeypatch, exc, status):
    monkeypatch.setattr("workflows.project_api.project_list_for", _raising(exc))
    api = APIClient()
    api.force_authenticate(district.staff_a)

    response = api.get("/api/projects/")

    assert response.status_code == status
    assert response.json()["code"] == answer_for(exc).code


def test_other_errors_are_not_domain_answers_when_they_escape():
    assert answer_for(RuntimeError("bug")) is None
