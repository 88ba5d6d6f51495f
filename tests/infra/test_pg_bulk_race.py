"""Bulk actions on PostgreSQL, with two connections at once: while a bulk job runs, a
single action moves one of its items. The bulk reports that item as refused (taken by
someone else), never overwrites it, and nobody is told of it twice — for each bulk action
(下达预算, 确认绩效自评, the leader's approval). And the other order: the bulk holds its
locks, the single action waits, then is refused (409)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from accounts.roles import Role
from notifications.models import Notification
from processes import transitions
from processes.api.errors import exception_handler
from processes.models import AuditEvent, BudgetProject, Job, SelfEvaluation
from processes.services import evaluation
from processes.services.audit import audit_verify
from processes.states import JobStatus, ProjectStage, SelfEvaluationStatus
from tests.workflows.test_evaluation_flow import entries, launch
from workflows.bulk_actions import bulk_action, bulk_action_start
from workflows.services import (
    project_act,
    self_evaluation_dept_review,
    self_evaluation_review,
    self_evaluation_submit,
)

from ..factories import make_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def bulk_while(monkeypatch, *, key: str, actor, ids: list[int], single) -> tuple[Job, BaseException | None]:
    """Run the bulk job of ``key`` over ``ids`` in a thread of its own; once it has read
    its items (before it locks them), run ``single`` here and let the bulk go on.
    Returns the finished job and what ``single`` raised."""
    read, moved = threading.Event(), threading.Event()
    lock_many = transitions._lock_many

    def paused(model, pks):
        read.set()
        assert moved.wait(timeout=60), "the single action never finished"
        return lock_many(model, pks)

    monkeypatch.setattr(transitions, "_lock_many", paused)
    outcome: dict = {}

    def run_bulk() -> None:
        try:
            # the job runs when its start commits (eagerly, in this thread)
            outcome["job"] = bulk_action_start(action=bulk_action(key), actor=actor, ids=ids)
        except BaseException as exc:  # inspected below
            outcome["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run_bulk)
    thread.start()
    assert read.wait(timeout=60), "the bulk job never read its items"
    error = None
    monkeypatch.setattr(transitions, "_lock_many", lock_many)  # the single action locks as usual
    try:
        single()
    except Exception as exc:
        error = exc
    finally:
        moved.set()
    thread.join(timeout=120)
    assert not thread.is_alive(), "the bulk job never finished (deadlock?)"
    assert "error" not in outcome, outcome.get("error")
    job = Job.objects.get(pk=outcome["job"].pk)
    return job, error


def assert_refused_as_taken(job: Job, pk: int, done: int) -> None:
    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert job.result["done"] == done
    ((refused,),) = [[r for r in job.result["refused"]]]
    assert refused["id"] == pk and "已被他人处理" in refused["reason"]


def test_bulk_start_reports_the_project_another_officer_started_meanwhile(district, monkeypatch):
    assert connection.vendor == "postgresql"
    other = make_user(Role.FINANCE_OFFICER, username="finance_2")
    projects = [district.project(ProjectStage.BUDGETED) for _ in range(4)]
    raced = projects[2]
    Notification.objects.all().delete()
    job, error = bulk_while(
        monkeypatch,
        key="start_execution",
        actor=district.finance,
        ids=[p.pk for p in projects],
        single=lambda: project_act(project=raced, actor=other, action="start_execution", comment="单独下达"),
    )
    assert error is None
    assert_refused_as_taken(job, raced.pk, done=3)
    rows = AuditEvent.objects.filter(action="start_execution", object_id=str(raced.pk))
    assert rows.count() == 1 and rows.get().actor_id == other.pk  # never overwritten
    assert set(BudgetProject.objects.values_list("stage", flat=True)) == {ProjectStage.EXECUTING}
    # the department: the single action's notice, and one grouped notice naming the other three
    notes = list(Notification.objects.filter(recipient=district.staff_a).order_by("pk"))
    assert len(notes) == 2
    grouped = next(n for n in notes if n.params.get("count"))
    assert grouped.params["count"] == 3 and raced.name not in grouped.params["items"]
    assert audit_verify() is None


def passed_evaluations(district, n: int) -> list[SelfEvaluation]:
    for _ in range(n):
        district.project(ProjectStage.EXECUTING)
    out = []
    for se in launch(district).created:
        se = evaluation.self_evaluation_save(evaluation=se, actor=district.staff_a, **entries(se))
        se = self_evaluation_submit(evaluation=se, actor=district.staff_a)
        out.append(self_evaluation_dept_review(evaluation=se, actor=district.leader_a, approve=True))
    return sorted(out, key=lambda e: e.pk)


def test_bulk_acceptance_reports_the_self_evaluation_another_officer_returned_meanwhile(district, monkeypatch):
    assert connection.vendor == "postgresql"
    other = make_user(Role.FINANCE_OFFICER, username="finance_2")
    evaluations = passed_evaluations(district, 4)
    raced = evaluations[1]
    Notification.objects.all().delete()
    job, error = bulk_while(
        monkeypatch,
        key="accept_self_evaluations",
        actor=district.finance,
        ids=[e.pk for e in evaluations],
        single=lambda: self_evaluation_review(evaluation=raced, actor=other, accept=False, comment="补充佐证材料"),
    )
    assert error is None
    assert_refused_as_taken(job, raced.pk, done=3)
    raced.refresh_from_db()
    assert raced.status == SelfEvaluationStatus.ISSUED and raced.review_comment == "补充佐证材料"
    assert not AuditEvent.objects.filter(action="self_evaluation_accept", object_id=str(raced.pk)).exists()
    assert BudgetProject.objects.get(pk=raced.project_id).stage == ProjectStage.EVALUATING
    # the department: the return (once), the grouped acceptance and the grouped stage change
    notes = list(Notification.objects.filter(recipient=district.staff_a))
    assert len(notes) == 3
    assert sorted(n.params.get("count", 0) for n in notes) == [0, 3, 3]
    assert audit_verify() is None


def test_leader_bulk_approval_reports_the_self_evaluation_the_other_leader_returned_meanwhile(district, monkeypatch):
    assert connection.vendor == "postgresql"
    for _ in range(3):
        district.project(ProjectStage.EXECUTING)
    evaluations = []
    for se in launch(district).created:
        se = evaluation.self_evaluation_save(evaluation=se, actor=district.staff_a, **entries(se))
        evaluations.append(self_evaluation_submit(evaluation=se, actor=district.staff_a))
    raced = evaluations[0]
    Notification.objects.all().delete()
    job, error = bulk_while(
        monkeypatch,
        key="leader_self_evaluations",
        actor=district.leader_a,
        ids=[e.pk for e in evaluations],
        single=lambda: self_evaluation_dept_review(
            evaluation=raced, actor=district.leader_a2, approve=False, comment="数据有误"
        ),
    )
    assert error is None
    assert_refused_as_taken(job, raced.pk, done=2)
    raced.refresh_from_db()
    assert raced.status == SelfEvaluationStatus.ISSUED and raced.leader_comment == "数据有误"
    assert not AuditEvent.objects.filter(action="self_evaluation_dept_approve", object_id=str(raced.pk)).exists()
    # finance told once, of the two that passed
    (note,) = Notification.objects.filter(recipient=district.finance)
    assert note.params["count"] == 2
    assert audit_verify() is None


def test_single_acceptance_waits_and_is_refused_when_the_bulk_holds_the_locks(district, monkeypatch):
    """The other order: the bulk has locked its chunk; the single action waits on the
    project's row lock, then finds the self-evaluation accepted and answers 409."""
    assert connection.vendor == "postgresql"
    other = make_user(Role.FINANCE_OFFICER, username="finance_2")
    evaluations = passed_evaluations(district, 3)
    locked, release = threading.Event(), threading.Event()
    lock_many = transitions._lock_many

    def holding(model, pks):
        found = lock_many(model, pks)
        if model is SelfEvaluation:
            locked.set()
            assert release.wait(timeout=60)
        return found

    monkeypatch.setattr(transitions, "_lock_many", holding)
    results: dict = {}

    def run_bulk() -> None:
        try:
            results["outcome"] = evaluation.self_evaluations_accept_many(
                evaluations=evaluations, actor=district.finance
            )
        finally:
            connections.close_all()

    def run_single() -> None:
        try:
            self_evaluation_review(evaluation=evaluations[0], actor=other, accept=True)
        except Exception as exc:
            results["single"] = exc
        finally:
            connections.close_all()

    bulk = threading.Thread(target=run_bulk)
    bulk.start()
    assert locked.wait(timeout=60)
    single = threading.Thread(target=run_single)
    single.start()
    single.join(timeout=1)
    assert single.is_alive(), "the single action did not wait for the bulk's locks"
    release.set()
    bulk.join(timeout=120)
    single.join(timeout=120)
    assert len(results["outcome"].done) == 3
    assert exception_handler(results["single"], {}).status_code == 409
    accepted = AuditEvent.objects.filter(action="self_evaluation_accept", object_id=str(evaluations[0].pk))
    assert accepted.count() == 1 and accepted.get().actor_id == district.finance.pk
    assert audit_verify() is None
