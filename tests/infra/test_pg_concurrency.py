"""Two people act on the same project at the same instant, on PostgreSQL.

Each racer is a thread with its own database connection; a barrier releases them
together. The first to lock the project row wins; the other must get a 409
(ActionNotAllowed / Conflict) and leave no trace: one audit event, one next task, one
notification per recipient, and an intact audit chain. SQLite ignores SELECT … FOR
UPDATE, so these tests only mean something on PostgreSQL (docs/architecture.md, "Locks").
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from accounts.models import User
from accounts.roles import Role
from notifications.models import Notification
from processes.api.errors import exception_handler
from processes.errors import ActionNotAllowed
from processes.models import AuditEvent, BudgetProject
from processes.services import audit as audit_services
from processes.services.audit import audit_verify
from processes.services.projects import department_members
from processes.states import ProjectStage
from workflows import services as workflow_services
from workflows.flows import ProjectIntakeFlow
from workflows.models import ProjectProcess
from workflows.services import project_act

from ..factories import make_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 20
#: How long the winner keeps its transaction (and its locks) open in the "lingering"
#: variant, so the loser surely arrives while the lock is held.
LINGER_SECONDS = 0.15
#: How long one project's flow step is held up in the lock-order test.
SLOW_STEP_SECONDS = 2.0


@dataclass
class Outcome:
    actor: User
    project: BudgetProject | None = None
    error: BaseException | None = None
    seconds: float = 0.0


def race(project_pk: int, actors: list[User], action: str) -> list[Outcome]:
    """Let every actor do ``action`` on the project at once, each in its own thread and
    connection, each holding the project as read before anyone acted (as a stale page does)."""
    barrier = threading.Barrier(len(actors))
    outcomes = [Outcome(actor=a) for a in actors]

    def run(outcome: Outcome) -> None:
        try:
            project = BudgetProject.objects.get(pk=project_pk)  # also opens this thread's connection
            barrier.wait(timeout=30)
            started = time.monotonic()
            try:
                outcome.project = project_act(project=project, actor=outcome.actor, action=action, comment="并发测试")
            except Exception as exc:  # the test inspects whatever was raised
                outcome.error = exc
            outcome.seconds = time.monotonic() - started
        except Exception as exc:  # barrier or setup failure, reported by split()
            outcome.error = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(o,), name=f"racer-{o.actor.username}") for o in outcomes]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a racer never finished (deadlock?)"
    return outcomes


def split(outcomes: list[Outcome]) -> tuple[Outcome, Outcome]:
    """The one winner and the one loser; fail with every error's repr otherwise."""
    winners = [o for o in outcomes if o.error is None]
    losers = [o for o in outcomes if o.error is not None]
    described = [(o.actor.username, repr(o.error)) for o in outcomes]
    assert len(winners) == 1 and len(losers) == 1, described
    loser = losers[0]
    assert isinstance(loser.error, ActionNotAllowed), described
    response = exception_handler(loser.error, {})
    assert response is not None and response.status_code == 409, described
    return winners[0], loser


def flow_tasks(project: BudgetProject, node) -> list[Task]:
    return list(Task.objects.filter(process__projectprocess__project=project, flow_task=node).order_by("pk"))


def audit_events(project: BudgetProject, action: str) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(object_type="processes.budgetproject", object_id=str(project.pk), action=action)
    )


def assert_notified_once_each(event: AuditEvent, expected_recipients: set[User]) -> list[Notification]:
    notes = list(Notification.objects.filter(event_key=f"audit:{event.sequence}"))
    per_recipient = Counter(n.recipient_id for n in notes)
    assert all(count == 1 for count in per_recipient.values()), per_recipient
    assert set(per_recipient) == {u.pk for u in expected_recipients}
    return notes


class Linger:
    """While ``active``, every transition holds its locks a little longer: the audit write
    (done after the project row lock is taken) waits first, so the second racer surely
    arrives while the first still holds the lock."""

    def __init__(self, monkeypatch):
        self.active = False
        original = audit_services.audit_record

        def slow_audit_record(**kwargs):
            if self.active:
                time.sleep(LINGER_SECONDS)
            return original(**kwargs)

        # every transition's audit row is written by processes.transitions.record, which
        # reads audit_record from its module at call time
        monkeypatch.setattr(audit_services, "audit_record", slow_audit_record)

    def race(self, project_pk: int, actors: list[User], action: str) -> list[Outcome]:
        self.active = True
        try:
            return race(project_pk, actors, action)
        finally:
            self.active = False


def finance_users() -> set[User]:
    return set(User.objects.filter(groups__name=Role.FINANCE_OFFICER, is_active=True))


@pytest.mark.parametrize("linger", [False, True], ids=["instant", "winner-lingers"])
def test_one_leader_approves_when_two_leaders_approve_at_once(district, monkeypatch, linger):
    assert connection.vendor == "postgresql"
    make_user(Role.FINANCE_OFFICER, username="finance_2")  # the intake queue has two people
    run_race = Linger(monkeypatch).race if linger else race
    leaders = [district.leader_a, district.leader_a2]

    for round_no in range(ROUNDS // 2 if linger else ROUNDS):
        project = district.project(ProjectStage.SUBMITTED)
        winner, loser = split(run_race(project.pk, leaders, "approve"))
        context = f"round {round_no}: {winner.actor.username} won, {loser.actor.username} got {loser.error!r}"

        project.refresh_from_db()
        assert project.stage == ProjectStage.DEPT_APPROVED, context
        assert ProjectProcess.objects.filter(project=project).count() == 1, context

        reviews = flow_tasks(project, ProjectIntakeFlow.instance.dept_review)
        assert [(t.status, t.owner_id) for t in reviews] == [(STATUS.DONE, winner.actor.pk)], context
        intake = flow_tasks(project, ProjectIntakeFlow.instance.finance_intake)
        assert len(intake) == 1, context
        assert intake[0].flow_task_type == "HUMAN" and intake[0].status == STATUS.NEW, context

        approvals = audit_events(project, "approve")
        assert len(approvals) == 1, context
        assert approvals[0].actor_id == winner.actor.pk, context

        finance = finance_users()
        expected = (set(department_members(project)) | {project.created_by} | finance) - {winner.actor}
        notes = assert_notified_once_each(approvals[0], expected)
        told_finance = [n for n in notes if n.recipient in finance]
        assert len(told_finance) == len(finance) == 2, context
        assert {n.kind for n in told_finance} == {"task"}, context
        # The loser's attempt wrote nothing: this project has exactly two notified events.
        keys = set(Notification.objects.filter(object_id=str(project.pk)).values_list("event_key", flat=True))
        assert len(keys) == 2, (context, keys)

        if linger:
            # The loser was held at the project row lock until the winner committed,
            # rather than arriving after it: the lock, not luck, decided.
            assert loser.seconds >= LINGER_SECONDS * 0.6, (context, loser.seconds)

    assert audit_verify() is None


@pytest.mark.parametrize("linger", [False, True], ids=["instant", "winner-lingers"])
def test_one_intake_starts_when_two_staff_submit_at_once(district, monkeypatch, linger):
    assert connection.vendor == "postgresql"
    staff_2 = make_user(Role.DEPT_STAFF, district.dept_a, username="staff_a2")
    run_race = Linger(monkeypatch).race if linger else race
    submitters = [district.staff_a, staff_2]

    for round_no in range(ROUNDS // 2 if linger else ROUNDS):
        project = district.project(ProjectStage.DRAFT)
        winner, loser = split(run_race(project.pk, submitters, "submit"))
        context = f"round {round_no}: {winner.actor.username} won, {loser.actor.username} got {loser.error!r}"

        project.refresh_from_db()
        assert project.stage == ProjectStage.SUBMITTED, context
        assert project.version == 2, context  # created at 1, one transition
        assert ProjectProcess.objects.filter(project=project).count() == 1, context
        reviews = flow_tasks(project, ProjectIntakeFlow.instance.dept_review)
        assert len(reviews) == 1 and reviews[0].status == STATUS.NEW, context

        submits = audit_events(project, "submit")
        assert len(submits) == 1 and submits[0].actor_id == winner.actor.pk, context
        expected = set(department_members(project)) - {winner.actor}
        assert_notified_once_each(submits[0], expected)
        if linger:
            assert loser.seconds >= LINGER_SECONDS * 0.6, (context, loser.seconds)

    assert audit_verify() is None


def test_race_helper_sees_both_succeed_when_nothing_conflicts(district):
    """Guards the helper itself: two unrelated approvals in the same instant both succeed,
    so a single winner above is the lock's doing, not the harness's."""
    first = district.project(ProjectStage.SUBMITTED)
    second = district.project(ProjectStage.SUBMITTED)
    barrier = threading.Barrier(2)
    errors: list[Exception] = []

    def approve(pk: int, leader: User) -> Callable[[], None]:
        def run() -> None:
            try:
                project = BudgetProject.objects.get(pk=pk)
                barrier.wait(timeout=30)
                project_act(project=project, actor=leader, action="approve")
            except Exception as exc:
                errors.append(exc)
            finally:
                connections.close_all()

        return run

    threads = [
        threading.Thread(target=approve(first.pk, district.leader_a)),
        threading.Thread(target=approve(second.pk, district.leader_a2)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert set(BudgetProject.objects.filter(pk__in=[first.pk, second.pk]).values_list("stage", flat=True)) == {
        ProjectStage.DEPT_APPROVED
    }
    assert audit_verify() is None


def test_unrelated_approval_does_not_wait_when_another_projects_flow_step_is_slow(district, monkeypatch):
    """Lock order (docs/architecture.md, "Locks"): project row → flow process row → audit
    chain head. The head is shared by every transition, so it must be taken last: a slow
    flow step on one project may not hold up another department's approval."""
    slow = district.project(ProjectStage.SUBMITTED, dept="a")
    other = district.project(ProjectStage.SUBMITTED, dept="b")
    in_slow_step = threading.Event()
    slow_step_ended_at: list[float] = []
    errors: list[Exception] = []
    original = workflow_services._next_actor_messages

    def next_actor_messages(project, process_id):
        if project.pk == slow.pk:
            in_slow_step.set()
            time.sleep(SLOW_STEP_SECONDS)
            slow_step_ended_at.append(time.monotonic())
        return original(project, process_id)

    monkeypatch.setattr(workflow_services, "_next_actor_messages", next_actor_messages)

    def approve_slow() -> None:
        try:
            project_act(project=BudgetProject.objects.get(pk=slow.pk), actor=district.leader_a, action="approve")
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=approve_slow)
    thread.start()
    try:
        assert in_slow_step.wait(timeout=30), errors
        project_act(project=BudgetProject.objects.get(pk=other.pk), actor=district.leader_b, action="approve")
        other_done_at = time.monotonic()
    finally:
        thread.join(timeout=120)

    assert errors == []
    assert other_done_at < slow_step_ended_at[0], "the approval waited for another project's flow step"
    assert set(BudgetProject.objects.filter(pk__in=[slow.pk, other.pk]).values_list("stage", flat=True)) == {
        ProjectStage.DEPT_APPROVED
    }
    assert audit_verify() is None


def test_each_email_is_sent_once_when_two_workers_claim_one_delivery_at_once(district):
    """Two workers run the e-mail task of the same delivery at once (a retried Celery task
    beside the first): the claim (UPDATE … RETURNING) lets each notice go out once."""
    from django.core import mail

    from notifications.tasks import send_notification_emails

    people = [make_user("dept_staff", email=f"racer{i}@example.org") for i in range(30)]
    with transaction.atomic():
        notes = Notification.objects.bulk_create(
            Notification(
                recipient=u, kind="stage_changed", verb="x", event_key="email-race", email_due_at=timezone.now()
            )
            for u in people
        )
    ids = [n.pk for n in notes]
    mail.outbox = []
    barrier = threading.Barrier(2)
    sent: list[int] = []

    def worker() -> None:
        try:
            Notification.objects.exists()  # this thread's connection, opened before the start
            barrier.wait(timeout=30)
            sent.append(send_notification_emails(ids))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(sent) == len(people)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in people)
    assert Notification.objects.filter(pk__in=ids, emailed_at__isnull=True).count() == 0
