"""The finance section's bulk actions on PostgreSQL, racing a single action (issue 18 item
1): while a colleague's single action holds an item (slowed inside its transaction), the
bulk job waits for its lock, then reports that item as refused — it is not overwritten,
nobody is told of it twice — and does the rest.

- 批量审核通过: a report warned meanwhile stays warned;
- 批量下达整改: a finding issued meanwhile stays in its own notice (the bulk one's insert
  waits on the item's unique key, then retries without it);
- 年度关账: a project closed meanwhile is closed once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from django.db import connection, connections

from notifications.models import Notification
from processes.models import AuditEvent, BudgetProject, MonitoringReport, Rectification, RectificationItem
from processes.models import project as project_model
from processes.services import monitoring as monitoring_services
from processes.services import rectification as rectification_services
from processes.services.audit import audit_verify
from processes.services.closeout import project_close_out, projects_close_out
from processes.services.monitoring import reports_clear
from processes.services.rectification import rectification_issue, rectifications_issue
from processes.states import ProjectStage, ReportStatus
from tests.workflows.test_bulk_monitoring import green_reports
from tests.workflows.test_bulk_rectification import evaluated, findings_of

from ..factories import BudgetProjectFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

#: How long the single action holds its locks once the bulk one may start.
SLOW_SECONDS = 1.5


def single_meanwhile(single: Callable[[], object], entered: threading.Event, bulk: Callable[[], object]):
    """Run ``single`` in a thread; once it is inside its slowed step (``entered``), run
    ``bulk`` here. Returns (bulk's result, single's error or None)."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            single()
        except BaseException as exc:  # inspected by the test
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert entered.wait(timeout=60), errors
        outcome = bulk()
    finally:
        thread.join(timeout=120)
    assert not thread.is_alive(), "the single action never finished (deadlock?)"
    return outcome, (errors[0] if errors else None)


def slowed(original: Callable, entered: threading.Event, when: Callable[..., bool] = lambda *a, **k: True):
    def wrapper(*args, **kwargs):
        if when(*args, **kwargs) and not entered.is_set():
            entered.set()
            time.sleep(SLOW_SECONDS)
        return original(*args, **kwargs)

    return wrapper


def test_a_report_warned_while_the_bulk_clearance_runs_is_refused_and_stays_warned(district, monkeypatch):
    assert connection.vendor == "postgresql"
    reports = green_reports(district, a=3, b=0)
    target = reports[1]
    entered = threading.Event()
    monkeypatch.setattr(
        monitoring_services,
        "_reviewed",
        slowed(monitoring_services._reviewed, entered, when=lambda report, actor: report.pk == target.pk),
    )
    Notification.objects.all().delete()

    outcome, error = single_meanwhile(
        lambda: monitoring_services.report_review(
            report=target, actor=district.finance, decision="warn", comment="支出偏慢"
        ),
        entered,
        lambda: reports_clear(actor=district.finance, reports=reports),
    )

    assert error is None
    assert [r.pk for r in outcome.done] == [reports[0].pk, reports[2].pk]
    ((refused, reason),) = outcome.refused
    assert refused.pk == target.pk and "已被他人处理" in reason
    assert MonitoringReport.objects.get(pk=target.pk).status == ReportStatus.WARNED
    decided = AuditEvent.objects.filter(object_type="processes.monitoringreport", object_id=str(target.pk))
    assert list(decided.filter(action__in=["report_clear", "report_warn"]).values_list("action", flat=True)) == [
        "report_warn"
    ]
    for member in (district.staff_a, district.leader_a):
        notes = list(Notification.objects.filter(recipient=member))
        # the warning, once; the clearance of the two others, once, without the warned report
        assert len(notes) == 2
        grouped = next(n for n in notes if "count" in n.params)
        assert grouped.params["count"] == 2 and target.project.name not in grouped.params["items"]
    assert audit_verify() is None


def test_a_finding_issued_while_the_bulk_issue_runs_is_refused_and_stays_in_its_notice(district, monkeypatch):
    assert connection.vendor == "postgresql"
    first, second = evaluated(district, {"a": 2})
    f1, f2 = findings_of(district, [first], each=2)
    (f3,) = findings_of(district, [second])
    entered = threading.Event()
    monkeypatch.setattr(
        rectification_services,
        "project_system_transition",
        slowed(rectification_services.project_system_transition, entered),
    )
    Notification.objects.all().delete()

    outcome, error = single_meanwhile(
        lambda: rectification_issue(actor=district.finance, findings=[f2], title="单独下达"),
        entered,
        lambda: rectifications_issue(actor=district.finance, findings=[f1, f2, f3], title="批量下达"),
    )

    assert error is None
    assert sorted(f.pk for f in outcome.done) == sorted([f1.pk, f3.pk])
    ((refused, reason),) = outcome.refused
    assert refused.pk == f2.pk and reason == "该问题已下达过整改（单独下达）。"
    assert RectificationItem.objects.get(finding=f2).rectification.title == "单独下达"
    assert Rectification.objects.count() == 3
    assert RectificationItem.objects.get(finding=f1).rectification.items.count() == 1
    moved = AuditEvent.objects.filter(action="open_rectification")
    assert sorted(int(e.object_id) for e in moved) == sorted([first.pk, second.pk])  # each project once
    assert set(BudgetProject.objects.filter(pk__in=[first.pk, second.pk]).values_list("stage", flat=True)) == {
        ProjectStage.RECTIFYING
    }
    issued = AuditEvent.objects.filter(action="rectification_issue")
    assert issued.count() == 3
    assert audit_verify() is None


def test_a_project_closed_while_the_year_close_out_runs_is_refused_and_closed_once(district, monkeypatch):
    assert connection.vendor == "postgresql"
    made = [BudgetProjectFactory(department=district.dept_a, created_by=district.staff_a) for _ in range(3)]
    BudgetProject.objects.filter(pk__in=[p.pk for p in made]).update(stage=ProjectStage.EVALUATED)
    projects = list(BudgetProject.objects.filter(pk__in=[p.pk for p in made]).order_by("pk"))
    target = projects[1]
    entered = threading.Event()
    # the single close-out reads its blockers under its lock through the model; the bulk one
    # reads them per chunk (processes.services.closeout)
    monkeypatch.setattr(project_model, "close_blockers_message", slowed(project_model.close_blockers_message, entered))
    Notification.objects.all().delete()

    outcome, error = single_meanwhile(
        lambda: project_close_out(project=target, actor=district.finance),
        entered,
        lambda: projects_close_out(actor=district.finance, projects=projects),
    )

    assert error is None
    assert [p.pk for p in outcome.done] == [projects[0].pk, projects[2].pk]
    ((refused, reason),) = outcome.refused
    assert refused.pk == target.pk and "已被他人处理" in reason and "已关闭" in reason
    assert set(BudgetProject.objects.filter(pk__in=[p.pk for p in made]).values_list("stage", flat=True)) == {
        ProjectStage.CLOSED
    }
    assert AuditEvent.objects.filter(action="close_out", object_id=str(target.pk)).count() == 1
    for member in (district.staff_a, district.leader_a):
        notes = list(Notification.objects.filter(recipient=member))
        assert len(notes) == 2  # the single close-out, and the bulk one of the two others
        grouped = next(n for n in notes if "count" in n.params)
        assert grouped.params["count"] == 2 and target.name not in grouped.params["items"]
    assert audit_verify() is None
