"""Evaluation on PostgreSQL, with two connections at once: two finance officers launch the
same campaign together (one self-evaluation and one task per project — nothing twice),
and two officers accept the same self-evaluation together (one wins, the other gets 409;
the project is evaluated once, its department told once)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from viewflow.workflow.models import Task

from accounts.roles import Role
from notifications.models import Notification
from processes.api.errors import exception_handler
from processes.errors import ActionNotAllowed
from processes.models import AuditEvent, SelfEvaluation
from processes.services.audit import audit_verify
from processes.services.evaluation import self_evaluation_save
from processes.states import ProjectStage, SelfEvaluationStatus
from tests.processes.test_evaluation import lines_for
from workflows.flows import SelfEvaluationFlow
from workflows.services import (
    campaign_launch,
    self_evaluation_dept_review,
    self_evaluation_review,
    self_evaluation_submit,
)

from ..factories import make_user
from .test_pg_monitoring_race import together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_campaign_launched_by_two_officers_at_once_creates_each_self_evaluation_once(district):
    assert connection.vendor == "postgresql"
    officers = [district.finance, make_user(Role.FINANCE_OFFICER, username="finance_2")]
    projects = [district.project(ProjectStage.EXECUTING, dept=d) for d in ("a", "b", "a")]
    due = timezone.now() + timedelta(days=30)
    results = together([lambda o=o: campaign_launch(actor=o, fiscal_year=2021, due_at=due) for o in officers])
    assert results == [None, None], results
    assert sorted(SelfEvaluation.objects.values_list("project_id", flat=True)) == sorted(p.pk for p in projects)
    assert Task.objects.filter(flow_task=SelfEvaluationFlow.instance.fill).count() == len(projects)
    assert AuditEvent.objects.filter(action="start_evaluation").count() == len(projects)
    assert audit_verify() is None


def test_one_acceptance_stands_when_two_officers_accept_one_self_evaluation_at_once(district):
    assert connection.vendor == "postgresql"
    officers = [district.finance, make_user(Role.FINANCE_OFFICER, username="finance_2")]
    projects = [district.project(ProjectStage.EXECUTING) for _ in range(4)]
    campaign_launch(actor=district.finance, fiscal_year=2021, due_at=timezone.now() + timedelta(days=30))
    for project in projects:
        se = SelfEvaluation.objects.get(project=project)
        se = self_evaluation_save(evaluation=se, actor=district.staff_a, lines=lines_for(project), executed="1100000")
        se = self_evaluation_submit(evaluation=se, actor=district.staff_a)
        se = self_evaluation_dept_review(evaluation=se, actor=district.leader_a, approve=True)
        told_before = Notification.objects.filter(recipient=district.staff_a).count()
        results = together(
            [lambda o=o, se=se: self_evaluation_review(evaluation=se, actor=o, accept=True) for o in officers]
        )
        errors = [r for r in results if r is not None]
        assert len(errors) == 1 and isinstance(errors[0], ActionNotAllowed), results
        assert exception_handler(errors[0], {}).status_code == 409
        winner = officers[results.index(None)]
        se.refresh_from_db()
        project.refresh_from_db()
        assert se.status == SelfEvaluationStatus.ACCEPTED and se.accepted_by_id == winner.pk
        assert project.stage == ProjectStage.EVALUATED
        accepted = AuditEvent.objects.filter(object_id=str(se.pk), action="self_evaluation_accept")
        assert accepted.count() == 1 and accepted.get().actor_id == winner.pk
        assert AuditEvent.objects.filter(object_id=str(project.pk), action="complete_evaluation").count() == 1
        open_tasks = Task.objects.filter(process__data__self_evaluation=se.pk, status__in=["NEW", "ASSIGNED"])
        assert not open_tasks.exists()
        # the department hears of the stage change and of the result once each, not twice
        told = Notification.objects.filter(recipient=district.staff_a).order_by("-pk")[:3]
        assert Notification.objects.filter(recipient=district.staff_a).count() - told_before == 2
        assert len({n.verb for n in told[:2]}) == 2
    assert audit_verify() is None
