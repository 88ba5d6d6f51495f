"""The campaign launch's PostgreSQL statements (processes.services.evaluation,
processes.services.audit and workflows.bulk), each of data-modifying WITHs: the
campaign, its self-evaluations, the projects' move, the audit head's lock and the
departments' members in one; the audit rows and the head's move in one; the flows in
one. They must write, column for column, what the one-INSERT-per-table path writes;
this compares the two on the same database, one fiscal year launched each way."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from viewflow.workflow.models import Process, Task

from notifications.models import Notification
from processes.models import AuditEvent, BudgetProject, EvaluationCampaign, SelfEvaluation
from processes.services import evaluation as evaluation_services
from processes.services.audit import audit_verify
from processes.states import ProjectStage
from workflows import bulk
from workflows.flows import SelfEvaluationFlow
from workflows.models import TaskDue
from workflows.services import campaign_launch

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

DUE = timezone.now().replace(microsecond=0) + timedelta(days=30)


def _projects(district, year: int) -> list[BudgetProject]:
    return [
        district.project(ProjectStage.EXECUTING, dept=dept, fiscal_year=year, code=f"{year}-{i:05d}")
        for i, dept in enumerate("aaab")
    ]


def _rows(year: int) -> dict[str, list]:
    """What a year's launch wrote, without keys, links and creation times (compared apart)."""
    evaluations = SelfEvaluation.objects.filter(campaign__fiscal_year=year).order_by("pk")
    processes = Process.objects.filter(
        flow_class=SelfEvaluationFlow, projectprocess__project__fiscal_year=year
    ).order_by("pk")
    tasks = Task.objects.filter(process__in=processes).order_by("pk")
    volatile = {"id", "campaign_id", "project_id", "created_at", "updated_at", "process_id", "created", "data"}

    def kept(row: dict) -> dict:
        return {k: v for k, v in row.items() if k not in volatile}

    return {
        "evaluations": [kept(r) for r in evaluations.values()],
        "projects": list(
            BudgetProject.objects.filter(fiscal_year=year).order_by("code").values_list("stage", "version")
        ),
        "processes": [kept(r) for r in processes.values()],
        "tasks": [kept(r) | {"data": r["data"]} for r in tasks.values()],
        "dues": list(TaskDue.objects.filter(task__in=tasks).order_by("task_id").values_list("due_at", flat=True)),
        "audit": [
            (e.object_repr.split()[0][5:], e.action, e.from_state, e.to_state, sorted(e.detail))
            for e in AuditEvent.objects.filter(detail__campaign__isnull=False, object_repr__startswith=f"{year}-")
        ],
    }


def test_one_statement_launch_writes_the_rows_of_the_per_table_path_when_on_postgresql(district, monkeypatch):
    assert connection.vendor == "postgresql"
    _projects(district, 2021)
    with CaptureQueriesContext(connection) as statements:
        launched = campaign_launch(actor=district.finance, fiscal_year=2021, due_at=DUE)
    sql = [q["sql"] for q in statements]
    # the service's own transaction (a savepoint inside the test's) and no other
    assert sum(s.startswith("SAVEPOINT") for s in sql) == 1
    assert sum('INSERT INTO "viewflow_task"' in s for s in sql) == 1  # with its processes and dues
    assert sum('INSERT INTO "processes_selfevaluation"' in s for s in sql) == 1
    # the campaign's row, the chain head's lock and the departments' members in those
    # statements too: three statements of WITHs, no SELECT but the actor's permissions
    assert sum(s.startswith("WITH") for s in sql) == 3
    assert [s for s in sql if s.startswith("SELECT") and "auth_permission" not in s] == []
    assert not any(s.startswith('INSERT INTO "processes_evaluationcampaign"') for s in sql)

    def per_table(campaign, progress, *, insert_campaign=False):
        if insert_campaign:
            campaign, _created = evaluation_services._campaign_locked(campaign)
        return evaluation_services._issue(campaign, progress)

    _projects(district, 2022)
    with monkeypatch.context() as m:  # the same launch through the one-INSERT-per-table path
        m.setattr(evaluation_services, "_issue_in_one_statement", per_table)
        m.setattr(bulk, "connection", SimpleNamespace(vendor="per-table"))
        campaign_launch(actor=district.finance, fiscal_year=2022, due_at=DUE)

    fast, reference = _rows(2021), _rows(2022)
    assert fast == reference
    assert len(fast["evaluations"]) == 4 and fast["dues"] == [DUE] * 4
    assert {p[0] for p in fast["projects"]} == {ProjectStage.EVALUATING}
    # keys in department and code order, each flow naming its self-evaluation and project
    evaluations = list(SelfEvaluation.objects.filter(campaign=launched.campaign).order_by("pk"))
    assert [e.pk for e in launched.created] == [e.pk for e in evaluations]
    assert [(e.project.department_id, e.project.code) for e in evaluations] == sorted(
        (e.project.department_id, e.project.code) for e in evaluations
    )
    assert all(abs(e.updated_at - e.created_at) < timedelta(seconds=1) for e in evaluations)
    # the returned instances (copies of one template) hold what the rows hold, field by
    # field, are saved instances of their campaign, and take their first transition
    fields = [f.attname for f in SelfEvaluation._meta.concrete_fields]
    assert [[getattr(e, a) for a in fields] for e in launched.created] == [
        [getattr(e, a) for a in fields] for e in evaluations
    ]
    assert all(not e._state.adding and e._state.db == "default" for e in launched.created)
    assert {e.campaign.pk for e in launched.created} == {launched.campaign.pk}
    assert len({id(e.__dict__) for e in launched.created}) == len(launched.created)
    assert [t.name for t in launched.created[0].get_available_status_transitions()] == [
        t.name for t in evaluations[0].get_available_status_transitions()
    ]
    fill = Task.objects.filter(flow_task=SelfEvaluationFlow.fill, process__projectprocess__project__fiscal_year=2021)
    by_evaluation = {t.process.data["self_evaluation"]: t for t in fill.select_related("process__projectprocess")}
    assert {pk: t.process.projectprocess.project_id for pk, t in by_evaluation.items()} == {
        e.pk: e.project_id for e in evaluations
    }
    created = [t.created for t in fill.order_by("pk")]
    assert created == sorted(set(created))  # distinct, in key order
    # the departments' members told once each, with the count of their projects, as the
    # per-table path tells them
    campaigns = {c.fiscal_year: c.pk for c in EvaluationCampaign.objects.all()}

    def told(year: int) -> list[tuple]:
        notices = Notification.objects.filter(object_type="processes.evaluationcampaign", object_id=campaigns[year])
        return sorted((n.recipient_id, n.params["count"], n.kind, n.verb) for n in notices)

    assert told(2021) == told(2022)
    assert {district.staff_a.pk, district.leader_b.pk} <= {r[0] for r in told(2021)}
    assert {r[1] for r in told(2021)} == {3, 1}  # department a has three projects, b one
    assert audit_verify() is None


def test_launch_again_on_postgresql_creates_nothing_and_keeps_the_chain(district):
    assert connection.vendor == "postgresql"
    _projects(district, 2021)
    first = campaign_launch(actor=district.finance, fiscal_year=2021, due_at=DUE)
    counts = (SelfEvaluation.objects.count(), Process.objects.count(), Task.objects.count())
    again = campaign_launch(actor=district.finance, fiscal_year=2021, due_at=DUE)
    assert again.campaign.pk == first.campaign.pk and again.created == [] and again.already == 4
    assert (SelfEvaluation.objects.count(), Process.objects.count(), Task.objects.count()) == counts
    assert AuditEvent.objects.filter(action="campaign_extend").count() == 1
    assert audit_verify() is None
