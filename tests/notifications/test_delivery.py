"""Notifications: written with the transition, delivered after commit, never twice."""

import pytest
from django.core import mail
from django.db import IntegrityError, transaction

from notifications.models import Notification
from notifications.services import Message, notification_mark_read, notify
from processes.states import ProjectStage
from workflows.services import project_act


def test_next_actors_and_department_are_told_when_project_submitted(district, django_capture_on_commit_callbacks):
    project = district.project(ProjectStage.DRAFT)
    with django_capture_on_commit_callbacks(execute=True):
        project_act(project=project, actor=district.staff_a, action="submit")
    told = {n.recipient.username: n for n in Notification.objects.select_related("recipient")}
    # both leaders of department A get the task; nobody outside A hears of it; the actor is not told
    assert set(told) == {"leader_a", "leader_a2"}
    assert told["leader_a"].kind == "task"
    assert "部门审核" in told["leader_a"].text and project.name in told["leader_a"].text
    assert {m.to[0] for m in mail.outbox} == {"leader_a@example.cn", "leader_a2@example.cn"}


def test_submitter_hears_reason_when_project_returned(district, django_capture_on_commit_callbacks):
    project = district.project(ProjectStage.SUBMITTED)
    with django_capture_on_commit_callbacks(execute=True):
        project_act(project=project, actor=district.leader_a, action="send_back", comment="测算依据不足")
    note = Notification.objects.get(recipient=district.staff_a, kind="returned")
    assert "测算依据不足" in note.text
    assert not Notification.objects.filter(recipient=district.leader_a, kind="returned").exists()


def test_finance_section_gets_task_when_department_approves(district):
    project = district.project(ProjectStage.SUBMITTED)
    project_act(project=project, actor=district.leader_a, action="approve")
    assert Notification.objects.get(recipient=district.finance, kind="task")
    assert Notification.objects.get(recipient=district.staff_a, kind="approved")
    assert not Notification.objects.filter(recipient__in=[district.staff_b, district.leader_b]).exists()


def test_queue_holders_hear_task_cancelled_when_project_withdrawn(district):
    project = district.project(ProjectStage.DEPT_APPROVED)
    project_act(project=project, actor=district.staff_a, action="withdraw", comment="项目取消实施")
    assert Notification.objects.get(recipient=district.finance, kind="task_cancelled")


def test_nothing_is_written_or_sent_when_transition_rolls_back(district, django_capture_on_commit_callbacks):
    project = district.project(ProjectStage.DRAFT)
    before = Notification.objects.count()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            project_act(project=project, actor=district.staff_a, action="submit")
            raise RuntimeError("later step fails")
    assert callbacks == []
    assert Notification.objects.count() == before
    assert mail.outbox == []


def test_second_delivery_is_refused_when_same_event_repeats(district):
    with transaction.atomic():
        notify(messages={district.staff_a: Message("stage_changed", "x")}, event_key="audit:999")
    with pytest.raises(IntegrityError), transaction.atomic():
        notify(messages={district.staff_a: Message("stage_changed", "x")}, event_key="audit:999")
    assert Notification.objects.filter(event_key="audit:999").count() == 1


def test_email_is_sent_once_when_delivery_runs_twice(district):
    from notifications.tasks import send_notification_email

    with transaction.atomic():
        [note] = notify(messages={district.staff_a: Message("stage_changed", "x")}, event_key="k1")
    assert send_notification_email(note.pk) is True
    assert send_notification_email(note.pk) is False
    assert len(mail.outbox) == 1


def test_no_email_when_user_opted_out(district, django_capture_on_commit_callbacks):
    district.leader_a.email_notifications = False
    district.leader_a.save()
    project = district.project(ProjectStage.DRAFT)
    with django_capture_on_commit_callbacks(execute=True):
        project_act(project=project, actor=district.staff_a, action="submit")
    assert Notification.objects.filter(recipient=district.leader_a).exists()
    assert "leader_a@example.cn" not in {m.to[0] for m in mail.outbox}


def test_text_follows_reader_language_when_rendered(district):
    project = district.project(ProjectStage.SUBMITTED)
    note = Notification.objects.get(recipient=district.leader_a)
    assert note.text_in("zh-hans").startswith("新任务")
    english = note.text_in("en")
    assert project.name in english
    assert english.startswith("New task")


def test_mark_read_only_touches_own_notifications(district):
    district.project(ProjectStage.SUBMITTED)
    mine = Notification.objects.get(recipient=district.leader_a)
    theirs = Notification.objects.get(recipient=district.leader_a2)
    assert notification_mark_read(user=district.leader_a, notification_id=theirs.pk) == 0
    assert notification_mark_read(user=district.leader_a, notification_id=mine.pk) == 1
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_one_delivery_emails_everyone_once_when_its_task_runs_twice(district):
    from notifications.tasks import send_notification_emails

    people = [district.staff_a, district.leader_a, district.staff_b]
    with transaction.atomic():
        notes = notify(messages={u: Message("stage_changed", "x") for u in people}, event_key="k-batch")
    ids = [n.pk for n in notes]
    assert send_notification_emails(ids) == 3
    assert send_notification_emails(ids) == 0
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in people)


def test_unsent_emails_are_released_for_the_retry_when_the_mail_server_fails(district, monkeypatch):
    from notifications import tasks

    people = [district.staff_a, district.leader_a, district.staff_b]
    with transaction.atomic():
        notes = notify(messages={u: Message("stage_changed", "x") for u in people}, event_key="k-fail")
    ids = [n.pk for n in notes]
    real_send, calls = tasks._send, []

    def flaky(note, mailer):
        calls.append(note.pk)
        if len(calls) == 2:
            raise OSError("connection refused")
        real_send(note, mailer)

    monkeypatch.setattr(tasks, "_send", flaky)
    with pytest.raises(OSError):
        tasks.send_notification_emails(ids)
    assert len(mail.outbox) == 1
    # the first is sent; the failed one and the rest are unsent and their leases released
    sent = set(Notification.objects.filter(pk__in=ids, emailed_at__isnull=False).values_list("pk", flat=True))
    assert sent == {calls[0]}
    assert not Notification.objects.filter(pk__in=ids, email_lease_until__isnull=False).exists()
    monkeypatch.setattr(tasks, "_send", real_send)
    assert tasks.send_notification_emails(ids) == 2
    assert len(mail.outbox) == 3


def test_a_delivery_queues_one_email_task_for_all_its_notices(district, monkeypatch):
    from notifications import services, tasks

    queued = []
    monkeypatch.setattr(tasks.send_notification_emails, "delay", lambda ids: queued.append(list(ids)))
    people = [district.staff_a, district.leader_a, district.staff_b]
    with transaction.atomic():
        notes = notify(messages={u: Message("stage_changed", "x") for u in people}, event_key="k-one")
    services.deliver([n.pk for n in notes])
    assert len(queued) == 1 and sorted(queued[0]) == sorted(n.pk for n in notes)
