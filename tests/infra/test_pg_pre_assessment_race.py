"""The last two panel members submit at the same instant, on PostgreSQL: both opinions are
recorded, the join fires once, and exactly one conclusion task is created."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from processes.models import AuditEvent, Opinion, PanelMember
from processes.services.audit import audit_verify
from processes.states import Conclusion, OpinionStatus, PreAssessmentStatus
from tests.processes.test_pre_assessment import FULL_SCORES, Review
from workflows.flows import PreAssessmentFlow
from workflows.services import opinion_submit, pre_assessment_begin, pre_assessment_draw

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 5


def submit(member_pk: int, barrier: threading.Barrier, errors: list) -> None:
    try:
        member = PanelMember.objects.select_related("user", "opinion", "pre_assessment").get(pk=member_pk)
        barrier.wait(timeout=30)
        opinion_submit(
            opinion=member.opinion,
            actor=member.user,
            scores=FULL_SCORES,
            recommendation=Conclusion.PARTIAL,
            recommended_amount="30000000",
            text="并发提交",
        )
    except Exception as exc:  # inspected by the test
        errors.append(exc)
    finally:
        connections.close_all()


def test_conclusion_task_is_created_once_when_last_two_members_submit_together(district):
    review = Review(district)
    for round_ in range(ROUNDS):
        project = review.d.project("pre_assessment", amount=review.project.requested_amount)
        pa = pre_assessment_begin(
            project=project, actor=review.d.finance, agency=review.agency, due_at=timezone.now() + timedelta(days=5)
        )
        pa = pre_assessment_draw(pre_assessment=pa, actor=review.staff, seed=round_)
        members = list(PanelMember.objects.filter(pre_assessment=pa, active=True).select_related("user", "opinion"))
        for m in members[:-2]:
            opinion_submit(
                opinion=m.opinion,
                actor=m.user,
                scores=FULL_SCORES,
                recommendation=Conclusion.PARTIAL,
                recommended_amount="30000000",
            )
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []
        threads = [threading.Thread(target=submit, args=(m.pk, barrier, errors)) for m in members[-2:]]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)

        assert errors == [], errors
        pa.refresh_from_db()
        assert pa.status == PreAssessmentStatus.OPINIONS_COLLECTED
        assert Opinion.objects.filter(member__pre_assessment=pa, status=OpinionStatus.SUBMITTED).count() == 5
        process_tasks = Task.objects.filter(process__projectprocess__project=project)
        assert process_tasks.filter(flow_task=PreAssessmentFlow.join, status=STATUS.DONE).count() == 1
        assert process_tasks.filter(flow_task=PreAssessmentFlow.conclude).count() == 1
        assert (
            AuditEvent.objects.filter(
                object_type="processes.preassessment", object_id=str(pa.pk), action="collect"
            ).count()
            == 1
        )
    assert audit_verify() is None
