"""base.html's unread count runs unread_count's own statement, compiled once
(notifications.context_processors.count_unread, issue 20), and follows every write."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.context_processors import _compiled, count_unread
from notifications.models import Notification
from notifications.services import notification_mark_read, unread_count
from processes.states import ProjectStage

pytestmark = pytest.mark.django_db


def test_the_count_is_unread_counts_statement_with_the_users_id(district):
    _compiled.clear()
    user = district.leader_a
    count_unread(user)  # compiles
    with CaptureQueriesContext(connection) as django:
        expected = unread_count(user)
    with CaptureQueriesContext(connection) as kept:
        assert count_unread(user) == expected
    assert [q["sql"] for q in kept.captured_queries] == [q["sql"] for q in django.captured_queries]


def test_the_count_follows_new_and_read_notifications_for_each_user(district):
    _compiled.clear()
    leader, other = district.leader_a, district.leader_b
    assert count_unread(leader) == 0 == unread_count(leader)
    district.project(ProjectStage.SUBMITTED)  # notifies department A's leaders
    assert count_unread(leader) == unread_count(leader) >= 1
    assert count_unread(other) == unread_count(other) == 0
    first = Notification.objects.filter(recipient=leader).first()
    notification_mark_read(user=leader, notification_id=first.pk)
    assert count_unread(leader) == unread_count(leader)
    notification_mark_read(user=leader)
    assert count_unread(leader) == 0


def test_the_badge_shows_the_count_on_the_page(client, district):
    district.project(ProjectStage.SUBMITTED)
    client.force_login(district.leader_a)
    response = client.get("/")
    n = unread_count(district.leader_a)
    assert n >= 1
    assert response.context["unread_notifications"] == n
    assert '<span class="count" data-testid="unread-count"' in response.content.decode()
