"""Two people decide on the same targets version at the same instant, on PostgreSQL.

Two leaders (one passes, one returns) and two finance officers (one rates 优, one 中) race
on one version, each in a thread with its own connection, released together by a barrier.
Exactly one wins; the other is told (409) and leaves no trace: one decision in the audit
trail, one next task, one notification per recipient.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

import pytest
from django.db import connection, connections
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from accounts.roles import Role
from notifications.models import Notification
from processes.api.errors import exception_handler
from processes.errors import ActionNotAllowed
from processes.models import AuditEvent, TargetSet
from processes.services.audit import audit_verify
from processes.services.targets import target_draft_open, target_set_save
from processes.states import ProjectStage, TargetSetStatus
from tests.conftest import TARGET_ROWS
from workflows.flows import TargetReviewFlow
from workflows.services import targets_dept_review, targets_rate, targets_submit

from ..factories import make_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 10


def race(calls: list[Callable[[TargetSet], object]], target_set_pk: int) -> list[BaseException | None]:
    barrier = threading.Barrier(len(calls))
    results: list[BaseException | None] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            target_set = TargetSet.objects.get(pk=target_set_pk)  # as a page read before anyone acted
            barrier.wait(timeout=30)
            calls[i](target_set)
        except Exception as exc:  # inspected by the test
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a racer never finished (deadlock?)"
    return results


def one_winner(results: list[BaseException | None]) -> int:
    errors = [r for r in results if r is not None]
    assert len(errors) == 1 and len(results) == 2, results
    assert isinstance(errors[0], ActionNotAllowed), results
    response = exception_handler(errors[0], {})
    assert response is not None and response.status_code == 409
    return results.index(None)


def submitted(district) -> TargetSet:
    project = district.project(ProjectStage.TARGET_REVIEW)
    target_set = target_draft_open(project=project, actor=district.staff_a)
    target_set = target_set_save(target_set=target_set, actor=district.staff_a, overall_goal="目标", rows=TARGET_ROWS)
    return targets_submit(target_set=target_set, actor=district.staff_a)


def decisions(target_set: TargetSet, prefix: str) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            object_type="processes.targetset", object_id=str(target_set.pk), action__startswith=prefix
        )
    )


def assert_each_told_once(event: AuditEvent) -> None:
    per_recipient = Counter(
        Notification.objects.filter(event_key=f"audit:{event.sequence}").values_list("recipient", flat=True)
    )
    assert per_recipient and set(per_recipient.values()) == {1}, per_recipient


def test_one_leader_decides_when_two_leaders_act_on_one_version_at_once(district):
    assert connection.vendor == "postgresql"
    leaders = [district.leader_a, district.leader_a2]
    for round_no in range(ROUNDS):
        target_set = submitted(district)
        calls = [
            lambda ts: targets_dept_review(target_set=ts, actor=leaders[0], approve=True),
            lambda ts: targets_dept_review(target_set=ts, actor=leaders[1], approve=False, comment="退回"),
        ]
        winner = one_winner(race(calls, target_set.pk))
        target_set.refresh_from_db()
        expected = TargetSetStatus.DEPT_APPROVED if winner == 0 else TargetSetStatus.DRAFT
        assert target_set.status == expected, round_no
        [decided] = decisions(target_set, "targets_dept_")
        assert decided.actor_id == leaders[winner].pk
        assert_each_told_once(decided)
        reviews = Task.objects.filter(
            flow_task=TargetReviewFlow.instance.leader_review, process__data__target_set=target_set.pk
        )
        assert [t.status for t in reviews] == [STATUS.DONE]
        next_node = TargetReviewFlow.instance.finance_review if winner == 0 else TargetReviewFlow.instance.fill
        open_next = Task.objects.filter(flow_task=next_node, process__data__target_set=target_set.pk, status=STATUS.NEW)
        assert open_next.count() == 1, round_no
    assert audit_verify() is None


def test_one_rating_stands_when_two_finance_officers_rate_one_version_at_once(district):
    assert connection.vendor == "postgresql"
    officers = [district.finance, make_user(Role.FINANCE_OFFICER, username="finance_2")]
    for round_no in range(ROUNDS):
        target_set = targets_dept_review(target_set=submitted(district), actor=district.leader_a, approve=True)
        calls = [
            lambda ts: targets_rate(target_set=ts, actor=officers[0], rating="excellent"),
            lambda ts: targets_rate(target_set=ts, actor=officers[1], rating="fair", comment="修改"),
        ]
        winner = one_winner(race(calls, target_set.pk))
        target_set.refresh_from_db()
        project = target_set.project
        project.refresh_from_db()
        if winner == 0:
            assert (target_set.status, project.stage) == (TargetSetStatus.APPROVED, ProjectStage.BUDGETED), round_no
            assert AuditEvent.objects.filter(object_id=str(project.pk), action="approve_targets").count() == 1
        else:
            assert (target_set.status, project.stage) == (TargetSetStatus.RETURNED, ProjectStage.TARGET_REVIEW)
        [rated] = decisions(target_set, "targets_rate")
        assert rated.actor_id == officers[winner].pk
        assert_each_told_once(rated)
        ratings = Task.objects.filter(
            flow_task=TargetReviewFlow.instance.finance_review, process__data__target_set=target_set.pk
        )
        assert [t.status for t in ratings] == [STATUS.DONE]
    assert audit_verify() is None
