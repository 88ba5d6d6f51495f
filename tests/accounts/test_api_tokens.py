"""API tokens expire: unused for API_TOKEN_IDLE_MINUTES, or API_TOKEN_MAX_AGE_HOURS after
they were issued; logout and a password change end them; last use is written at most
once a minute. The clock travels (time-machine)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import ApiTokenActivity
from tests.factories import PASSWORD, make_user

START = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
LIST = "/api/projects/"


@pytest.fixture
def staff(db):
    from accounts.roles import sync_role_groups

    sync_role_groups()
    return make_user("dept_staff", username="staff")


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def obtain(username="staff", password=PASSWORD) -> str:
    response = APIClient().post("/api/auth/token/", {"username": username, "password": password}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["token"]


def api(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def activity_writes(queries) -> list[str]:
    table = ApiTokenActivity._meta.db_table
    return [q["sql"] for q in queries if table in q["sql"] and not q["sql"].lstrip().upper().startswith("SELECT")]


def test_token_is_refused_with_401_when_idle_for_the_limit(staff, clock):
    key = obtain()
    assert api(key).get(LIST).status_code == 200

    clock.shift(timedelta(minutes=settings.API_TOKEN_IDLE_MINUTES, seconds=1))
    response = api(key).get(LIST)

    assert response.status_code == 401
    assert "闲置" in response.json()["detail"]
    assert response.headers["WWW-Authenticate"] == "Token"
    english = api(key).get(LIST, HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 401 and "unused" in english.json()["detail"]


def test_token_stays_valid_when_used_within_the_idle_limit(staff, clock):
    key = obtain()
    step = timedelta(minutes=settings.API_TOKEN_IDLE_MINUTES - 5)
    for _ in range(5):  # well past one idle limit in all, never idle for one
        clock.shift(step)
        assert api(key).get(LIST).status_code == 200

    clock.shift(timedelta(minutes=settings.API_TOKEN_IDLE_MINUTES))
    assert api(key).get(LIST).status_code == 401


def test_token_is_refused_when_older_than_its_maximum_age_however_busy(staff, clock):
    key = obtain()
    step = timedelta(minutes=20)
    lifetime = timedelta(hours=settings.API_TOKEN_MAX_AGE_HOURS)
    elapsed = timedelta(0)
    while elapsed + step < lifetime:
        clock.shift(step)
        elapsed += step
        assert api(key).get(LIST).status_code == 200, elapsed

    clock.shift(lifetime - elapsed)
    response = api(key).get(LIST)

    assert response.status_code == 401
    assert "最长有效期" in response.json()["detail"]


def test_token_endpoint_issues_a_new_token_when_the_old_one_expired(staff, clock):
    old = obtain()
    assert obtain() == old  # still valid: the same token

    clock.shift(timedelta(minutes=settings.API_TOKEN_IDLE_MINUTES + 1))
    new = obtain()

    assert new != old
    assert not Token.objects.filter(key=old).exists()
    assert api(new).get(LIST).status_code == 200


def test_limits_follow_settings_when_configured(staff, clock, settings):
    settings.API_TOKEN_IDLE_MINUTES = 5
    settings.API_TOKEN_MAX_AGE_HOURS = 1
    key = obtain()

    clock.shift(timedelta(minutes=4))
    assert api(key).get(LIST).status_code == 200
    clock.shift(timedelta(minutes=6))
    assert api(key).get(LIST).status_code == 401


def test_last_use_is_written_at_most_once_a_minute_when_requests_follow_each_other(staff, clock):
    key = obtain()
    client = api(key)

    with CaptureQueriesContext(connection) as first:
        assert client.get(LIST).status_code == 200  # issued this instant: nothing to write
    clock.shift(timedelta(seconds=30))
    with CaptureQueriesContext(connection) as within:
        assert client.get(LIST).status_code == 200
    clock.shift(timedelta(seconds=31))
    with CaptureQueriesContext(connection) as after:
        assert client.get(LIST).status_code == 200
    clock.shift(timedelta(seconds=10))
    with CaptureQueriesContext(connection) as again:
        assert client.get(LIST).status_code == 200

    assert activity_writes(first.captured_queries) == []
    assert activity_writes(within.captured_queries) == []
    assert len(activity_writes(after.captured_queries)) == 1
    assert activity_writes(again.captured_queries) == []
    token = Token.objects.get(key=key)
    assert token.activity.last_used_at == START + timedelta(seconds=61)
    # the token, its user and its last use are read in one statement
    reads = [q["sql"] for q in again.captured_queries if '"authtoken_token"' in q["sql"]]
    assert len(reads) == 1


def test_token_is_revoked_when_the_user_logs_out_of_the_site(client, staff, clock):
    key = obtain()
    client.post(reverse("login"), {"username": "staff", "password": PASSWORD})

    assert client.post(reverse("logout")).status_code == 302

    assert not Token.objects.filter(key=key).exists()
    assert api(key).get(LIST).status_code == 401


def test_token_is_revoked_when_the_user_changes_their_password(client, staff, clock):
    key = obtain()
    client.force_login(staff)

    new_password = "Xin-de-mima-2026!"
    client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": new_password, "new_password2": new_password},
    )

    assert api(key).get(LIST).status_code == 401
    assert obtain(password=new_password) != key


def test_token_is_revoked_when_the_sysadmin_sets_the_password(client, staff, clock):
    key = obtain()
    sysadmin = make_user("sysadmin", is_staff=True)
    client.force_login(sysadmin)
    temporary = "Linshi-mima-2026!"

    client.post(
        reverse("admin:auth_user_password_change", args=[staff.pk]),
        {"password1": temporary, "password2": temporary, "usable_password": "true"},
    )

    assert not Token.objects.filter(key=key).exists()
    assert api(key).get(LIST).status_code == 401


def test_unknown_token_is_refused_with_401_when_sent(db):
    response = api("not-a-real-token").get(LIST)

    assert response.status_code == 401
    assert response.json()["detail"] == "API 令牌无效。"
