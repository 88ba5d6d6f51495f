"""The notifications API: each user's own list, read markers, and the text's language."""

import pytest
from rest_framework.test import APIClient

from notifications.models import Notification
from processes.states import ProjectStage as S

from .support import ROLES, client_for


@pytest.fixture
def told(district):
    """Department A's project submitted and approved: its people and the finance section were told."""
    district.project(S.DEPT_APPROVED, dept="a")
    return district


@pytest.mark.parametrize("role", ROLES)
def test_list_holds_only_the_users_own_notifications_when_read_by_each_role(told, role):
    user = getattr(told, role)
    own = list(Notification.objects.filter(recipient=user).order_by("-created_at", "-id").values_list("id", flat=True))

    response = client_for(user).get("/api/notifications/")

    assert response.status_code == 200
    assert [n["id"] for n in response.json()["results"]] == own
    assert response.json()["count"] == len(own)
    # the department was told; the other department and the outsiders were not
    assert bool(own) == (role in {"staff_a", "leader_a", "leader_a2", "finance"})


def test_notification_shows_kind_text_url_and_read_state_when_listed(told):
    note = Notification.objects.filter(recipient=told.staff_a, kind="approved").get()

    [row] = client_for(told.staff_a).get("/api/notifications/").json()["results"]

    assert row["id"] == note.pk
    assert row["kind"] == "approved"
    assert row["text"] == note.text_in("zh-hans")
    assert "已通过部门审核" in row["text"]
    assert row["url"] == note.url
    assert row["created_at"]
    assert row["read"] is False
    assert row["read_at"] is None


def test_text_is_rendered_in_the_request_language_when_accept_language_is_sent(told, monkeypatch):
    # Tag each translated message with the language active when it is rendered, so the
    # test does not depend on the English catalog's content.
    from django.utils import translation

    from notifications import models

    monkeypatch.setattr(models, "gettext", lambda msg: f"[{translation.get_language()}]{msg}")
    client = client_for(told.staff_a)

    default = client.get("/api/notifications/").json()["results"][0]["text"]
    english = client.get("/api/notifications/", HTTP_ACCEPT_LANGUAGE="en").json()["results"][0]["text"]

    assert default.startswith("[zh-hans]")
    assert english.startswith("[en]")


def test_unread_filter_lists_only_unread_when_unread_is_true(told):
    notes = list(Notification.objects.filter(recipient=told.leader_a2))
    assert len(notes) >= 2
    client = client_for(told.leader_a2)
    client.post(f"/api/notifications/{notes[0].pk}/read/")

    unread = client.get("/api/notifications/", {"unread": "true"}).json()["results"]
    read = client.get("/api/notifications/", {"unread": "false"}).json()["results"]

    assert {n["id"] for n in unread} == {n.pk for n in notes[1:]}
    assert [n["id"] for n in read] == [notes[0].pk]


def test_list_is_400_when_unread_is_not_a_boolean(told):
    response = client_for(told.staff_a).get("/api/notifications/", {"unread": "maybe"})

    assert response.status_code == 400
    assert list(response.json()) == ["unread"]


def test_read_marks_the_notification_when_it_is_the_users_own(told):
    note = Notification.objects.filter(recipient=told.staff_a).first()

    response = client_for(told.staff_a).post(f"/api/notifications/{note.pk}/read/")

    assert response.status_code == 200
    assert response.json()["read"] is True
    note.refresh_from_db()
    assert note.read_at is not None


def test_read_is_404_and_changes_nothing_when_the_notification_is_someone_elses(told):
    note = Notification.objects.filter(recipient=told.leader_a).first()

    response = client_for(told.staff_a).post(f"/api/notifications/{note.pk}/read/")
    detail = client_for(told.staff_a).get(f"/api/notifications/{note.pk}/")

    assert response.status_code == 404
    assert detail.status_code == 404
    note.refresh_from_db()
    assert note.read_at is None


def test_read_all_marks_every_own_notification_and_no_one_elses_when_posted(told):
    own = Notification.objects.filter(recipient=told.leader_a)
    others_unread = Notification.objects.exclude(recipient=told.leader_a).filter(read_at__isnull=True).count()
    client = client_for(told.leader_a)

    response = client.post("/api/notifications/read-all/")

    assert response.status_code == 200
    assert response.json() == {"marked": own.count(), "unread": 0}
    assert not own.filter(read_at__isnull=True).exists()
    assert Notification.objects.exclude(recipient=told.leader_a).filter(read_at__isnull=True).count() == others_unread
    assert client.get("/api/notifications/", {"unread": "true"}).json()["results"] == []
    assert client.post("/api/notifications/read-all/").json() == {"marked": 0, "unread": 0}


def test_notifications_are_refused_when_not_authenticated(told):
    note = Notification.objects.first()

    assert APIClient().get("/api/notifications/").status_code in (401, 403)
    assert APIClient().post(f"/api/notifications/{note.pk}/read/").status_code in (401, 403)
    assert APIClient().post("/api/notifications/read-all/").status_code in (401, 403)
    note.refresh_from_db()
    assert note.read_at is None
