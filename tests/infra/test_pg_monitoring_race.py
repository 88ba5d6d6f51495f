"""Monitoring on PostgreSQL, with two connections at once: two finance officers open the
same round together (one round, one report and one task per project — nothing twice), and
two officers review one report together (one decision stands, the other gets 409)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone
from viewflow.workflow.models import Task

from accounts.roles import Role
from processes.api.errors import exception_handler
from processes.errors import ActionNotAllowed
from processes.models import AuditEvent, MonitoringReport, MonitoringRound
from processes.services.audit import audit_verify
from processes.states import ReportStatus
from tests.workflows.test_monitoring_flow import executing, on_pace, passed
from workflows.flows import MonitoringFlow
from workflows.services import monitoring_review, monitoring_round_open

from ..factories import make_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def together(calls: list[Callable[[], object]]) -> list[BaseException | None]:
    barrier = threading.Barrier(len(calls))
    results: list[BaseException | None] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            connection.ensure_connection()
            barrier.wait(timeout=30)
            calls[i]()
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


def test_round_opened_by_two_officers_at_once_creates_each_report_once(district):
    assert connection.vendor == "postgresql"
    officers = [district.finance, make_user(Role.FINANCE_OFFICER, username="finance_2")]
    projects = [executing(district, dept=d) for d in ("a", "b", "a", "b")]
    due = timezone.now() + timedelta(days=7)
    results = together(
        [lambda o=o: monitoring_round_open(actor=o, fiscal_year=2021, end_month=7, due_at=due) for o in officers]
    )
    assert results == [None, None], results
    assert MonitoringRound.objects.count() == 1
    assert sorted(MonitoringReport.objects.values_list("project_id", flat=True)) == sorted(p.pk for p in projects)
    assert Task.objects.filter(flow_task=MonitoringFlow.instance.fill).count() == len(projects)
    assert AuditEvent.objects.filter(action__in=["round_open", "round_extend"]).count() == 2
    assert audit_verify() is None


def test_one_review_stands_when_two_officers_review_one_report_at_once(district):
    assert connection.vendor == "postgresql"
    officers = [district.finance, make_user(Role.FINANCE_OFFICER, username="finance_2")]
    for round_no in range(5):
        executing(district)
        opened = monitoring_round_open(
            actor=district.finance,
            fiscal_year=2021,
            start_month=round_no + 1,
            end_month=7,
            due_at=timezone.now() + timedelta(days=7),
        )
        report = opened.created[-1]
        report = passed(district, report, **on_pace(report, explained=True))
        results = together(
            [
                lambda r=report: monitoring_review(report=r, actor=officers[0], decision="clear"),
                lambda r=report: monitoring_review(report=r, actor=officers[1], decision="warn", comment="预警"),
            ]
        )
        errors = [r for r in results if r is not None]
        assert len(errors) == 1 and isinstance(errors[0], ActionNotAllowed), results
        assert exception_handler(errors[0], {}).status_code == 409
        winner = results.index(None)
        report.refresh_from_db()
        assert report.status == (ReportStatus.CLEARED if winner == 0 else ReportStatus.WARNED)
        decided = AuditEvent.objects.filter(
            object_type="processes.monitoringreport",
            object_id=str(report.pk),
            action__in=["report_clear", "report_warn"],
        )
        assert decided.count() == 1 and decided.get().actor_id == officers[winner].pk
        open_dispose = Task.objects.filter(
            flow_task=MonitoringFlow.instance.dispose, process__data__report=report.pk, status="NEW"
        ).count()
        assert open_dispose == (0 if winner == 0 else 1), round_no
    assert audit_verify() is None
