"""Rectifications on PostgreSQL, with two connections at once (issue 17: every transition
through processes.transitions.apply, under the one lock order): two supervisors deciding
one extension request together give one decision, one audit row and one set of notices;
the other is told it was already decided (409) and wrote nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection

from accounts.roles import Role
from notifications.models import Notification
from processes.errors import ActionNotAllowed
from processes.models import AuditEvent, DeadlineExtension, Rectification
from processes.services.audit import audit_verify
from processes.services.findings import finding_add
from processes.services.rectification import extension_decide, extension_request, rectification_issue
from processes.states import ProjectStage
from tests.processes.test_evaluation import accepted, launch

from ..factories import make_user
from .test_pg_monitoring_race import together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_one_decision_stands_when_two_supervisors_decide_one_extension_at_once(district):
    assert connection.vendor == "postgresql"
    project = district.project(ProjectStage.EXECUTING)
    launch(district)
    se = accepted(district, project)
    finding = finding_add(source=se, actor=district.finance, problem="目标不细", requirement="细化")
    rectification = rectification_issue(actor=district.finance, findings=[finding], title="整改")
    ask = extension_request(
        rectification=rectification,
        actor=district.leader_a,
        reason="需招标",
        proposed_deadline=rectification.deadline + timedelta(days=10),
    )
    supervisors = [district.supervisor, make_user(Role.SUPERVISOR, username="supervisor_2")]

    results = together(
        [
            lambda: extension_decide(extension=ask, actor=supervisors[0], grant=True),
            lambda: extension_decide(extension=ask, actor=supervisors[1], grant=False, comment="不同意"),
        ]
    )

    assert sorted(r is None for r in results) == [False, True], results
    refused = next(r for r in results if r is not None)
    assert isinstance(refused, ActionNotAllowed) and "已审批" in str(refused)
    decided = DeadlineExtension.objects.get(pk=ask.pk)
    events = AuditEvent.objects.filter(action__in=["extension_grant", "extension_refuse"])
    assert events.count() == 1 and events.get().to_state == decided.status
    told = Notification.objects.filter(event_key=f"audit:{events.get().sequence}")
    assert {n.recipient for n in told} == {district.staff_a, district.leader_a, district.leader_a2}
    deadline = Rectification.objects.get(pk=rectification.pk).deadline
    assert deadline == (decided.new_deadline if decided.status == "granted" else rectification.deadline)
    assert audit_verify() is None
