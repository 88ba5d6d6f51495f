"""Delivery's and the e-mail sender's reads compiled once per number of notices
(config.prepared.PreparedModelsIn, issue 20) give what the ORM gives: the same notices in
the same order, each with its recipient loaded and its recipient's own unread count, in
one query; more notices than the prepared sizes go through the ORM."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from config.prepared import PreparedModelsIn
from notifications import services, tasks
from notifications.models import Notification

pytestmark = pytest.mark.django_db


def _fields(notes: list[Notification]) -> list[tuple]:
    return [
        (n.pk, n.recipient_id, n.verb, n.read_at, n.recipient.username, n.recipient.email, n.recipient.language)
        + ((n.recipient_unread,) if hasattr(n, "recipient_unread") else ())
        for n in notes
    ]


@pytest.fixture
def notes(district) -> list[Notification]:
    people = list(User.objects.filter(is_active=True).order_by("pk")[:3])
    made = []
    for i in range(12):  # three recipients, each with another number of unread notices
        person = people[i % 3]
        made.append(
            Notification.objects.create(
                recipient=person,
                kind="task",
                verb=f"通知{i}",
                event_key=f"k{i}",
                read_at=timezone.now() if i in (1, 2, 5) else None,
            )
        )
    return made


def test_deliverys_read_gives_each_recipient_their_own_unread_count_as_the_orm_does(notes):
    ids = [n.pk for n in notes]
    for chosen in ([ids[0]], [ids[1]], [ids[2], ids[0]], ids[:5], [ids[7], ids[7], ids[3]], ids[:8], ids):
        expected = _fields(list(services._notices_with_unread(sorted(set(chosen)))))
        with CaptureQueriesContext(connection) as run:
            got = services._TO_DELIVER(chosen)
            fields = _fields(got)  # the recipients come with the notices: no query more
        assert fields == expected and len(run) == 1
    unread = {n.recipient_id: n.recipient_unread for n in services._TO_DELIVER(ids[:3])}
    assert unread == {pk: Notification.objects.filter(recipient_id=pk, read_at__isnull=True).count() for pk in unread}
    assert len(set(unread.values())) == 3  # each their own, not the first compiled one's
    assert services._TO_DELIVER([]) == []


def test_the_senders_leased_notices_are_read_as_the_orm_reads_them(notes):
    ids = [n.pk for n in notes]
    orm = PreparedModelsIn(lambda pks: Notification.objects.filter(pk__in=pks), most=0)  # always the ORM
    for chosen in ([ids[4]], [ids[9], ids[2]], ids):
        expected = list(Notification.objects.filter(pk__in=chosen).select_related("recipient").order_by("pk"))
        assert _fields(tasks._LEASED(chosen)) == _fields(expected)
        assert [n.pk for n in orm(chosen)] == [n.pk for n in Notification.objects.filter(pk__in=chosen)]
