"""The notification screen's read actions, logging in, and the lockout page."""

import pytest
from django.urls import reverse

from notifications.models import Notification
from processes.states import ProjectStage
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return response.content.decode()


def unread(user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def test_mark_read_marks_one_when_own_notification(client, district):
    district.project(ProjectStage.SUBMITTED)
    district.project(ProjectStage.SUBMITTED)
    note = Notification.objects.filter(recipient=district.leader_a).first()
    client.force_login(district.leader_a)
    response = client.post(reverse("notifications:read", args=[note.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("notifications:list")
    note.refresh_from_db()
    assert note.is_read
    assert unread(district.leader_a) == 1


def test_mark_read_opens_target_when_open_requested(client, district):
    project = district.project(ProjectStage.SUBMITTED)
    note = Notification.objects.filter(recipient=district.leader_a).first()
    client.force_login(district.leader_a)
    response = client.post(reverse("notifications:read", args=[note.pk]), {"open": "1"})
    assert response.status_code == 302
    assert response["Location"] == f"/projects/{project.pk}/"


def test_mark_read_is_404_when_someone_elses_notification(client, district):
    district.project(ProjectStage.SUBMITTED)
    note = Notification.objects.filter(recipient=district.leader_a).first()
    client.force_login(district.staff_b)
    assert client.post(reverse("notifications:read", args=[note.pk])).status_code == 404
    note.refresh_from_db()
    assert not note.is_read


def test_mark_all_read_clears_badge_when_posted(client, district):
    district.project(ProjectStage.SUBMITTED)
    district.project(ProjectStage.SUBMITTED)
    client.force_login(district.leader_a)
    assert unread(district.leader_a) == 2
    response = client.post(reverse("notifications:read_all"), follow=True)
    assert unread(district.leader_a) == 0
    assert "已将 2 条通知标为已读" in text(response)
    assert response.context["unread_notifications"] == 0


def test_mark_read_is_405_when_get(client, district):
    client.force_login(district.leader_a)
    assert client.get(reverse("notifications:read_all")).status_code == 405


def test_login_redirects_to_inbox_when_password_right(client, district):
    response = client.post(reverse("login"), {"username": "staff_a", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("workflows:inbox")


def test_login_shows_error_when_password_wrong(client, district):
    response = client.post(reverse("login"), {"username": "staff_a", "password": "wrong"})
    assert response.status_code == 200
    assert "请输入一个正确的" in text(response)


def test_lockout_page_says_fifteen_minutes_when_too_many_failures(client, district, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "staff_a", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "staff_a", "password": PASSWORD})
    assert response.status_code == 429
    assert "登录失败次数过多，账号已锁定 15 分钟" in text(response)
    assert '<html lang="zh-hans">' in text(response)
