"""/api/payments/ and /api/payment-plans/: the JSON batch (400 with every error by row and
column, 403 for a wrong role, 202 with the job whose result has the counts), the lists
scoped to what the caller sees, and the self-evaluation's sheet with the reason."""

from __future__ import annotations

from decimal import Decimal

import pytest

from processes.models import Job, Payment, PaymentPlan
from processes.states import ProjectStage

from .support import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def projects(district):
    return district.project(ProjectStage.EXECUTING, dept="a"), district.project(ProjectStage.EXECUTING, dept="b")


def rows(a, b, amount="1000.00"):
    return [
        {"year": 2021, "project_code": a.code, "month": 1, "amount": amount},
        {"year": 2021, "project_code": b.code, "month": 1, "amount": "20"},
    ]


def test_batch_answers_202_with_the_job_whose_result_has_the_counts(
    district, projects, django_capture_on_commit_callbacks
):
    a, b = projects
    finance = client_for(district.finance)
    with django_capture_on_commit_callbacks(execute=True):
        response = finance.post("/api/payments/batch/", {"rows": rows(a, b)}, format="json")
    assert response.status_code == 202, response.json()
    job = finance.get(response["Location"]).json()
    assert job["status"] == "succeeded"
    assert job["result"] == {"total": 2, "created": 2, "replaced": 0, "unchanged": 0, "projects": 2}
    with django_capture_on_commit_callbacks(execute=True):
        again = finance.post("/api/payments/batch/", {"rows": rows(a, b, amount="900")}, format="json")
    assert finance.get(again["Location"]).json()["result"]["replaced"] == 1
    assert Payment.objects.get(project=a).amount == Decimal("900.00")
    assert Payment.objects.count() == 2


def test_batch_answers_400_with_every_error_by_row_and_column_and_writes_nothing(district, projects):
    a, b = projects
    bad = [
        {"year": 2021, "project_code": a.code, "month": 13, "amount": "1"},
        {"year": 2021, "project_code": "NOPE", "month": 1, "amount": "-1"},
    ]
    response = client_for(district.finance).post("/api/payments/batch/", {"rows": bad}, format="json")
    assert response.status_code == 400
    assert {(e["row"], e["column"]) for e in response.json()["errors"]} == {
        (1, "月份"),
        (2, "项目编码"),
        (2, "支付金额(元)"),
    }
    shape = client_for(district.finance).post("/api/payments/batch/", {"rows": "x"}, format="json")
    assert shape.status_code == 400 and shape.json()["errors"][0]["column"] == "rows"
    assert not Payment.objects.exists() and not Job.objects.exists()


def test_batch_is_403_when_the_caller_is_not_the_finance_section(district, projects):
    a, b = projects
    for user in (district.staff_a, district.leader_a, district.supervisor, district.auditor):
        response = client_for(user).post("/api/payments/batch/", {"rows": rows(a, b)}, format="json")
        assert response.status_code == 403
    assert client_for().post("/api/payments/batch/", {"rows": rows(a, b)}, format="json").status_code == 401


def test_plans_batch_takes_planned_amounts_when_sent(district, projects, django_capture_on_commit_callbacks):
    a, _b = projects
    plan = [{"year": 2021, "project_code": a.code, "month": m, "planned_amount": "100"} for m in range(1, 13)]
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(district.finance).post("/api/payment-plans/batch/", {"rows": plan}, format="json")
    assert response.status_code == 202
    assert PaymentPlan.objects.filter(project=a).count() == 12


def test_a_department_lists_only_its_projects_payments(district, projects, django_capture_on_commit_callbacks):
    a, b = projects
    with django_capture_on_commit_callbacks(execute=True):
        client_for(district.finance).post("/api/payments/batch/", {"rows": rows(a, b)}, format="json")
    mine = client_for(district.staff_a).get("/api/payments/").json()["results"]
    assert [r["project_code"] for r in mine] == [a.code]
    assert len(client_for(district.finance).get("/api/payments/", {"year": 2021}).json()["results"]) == 2
    assert client_for(district.expert).get("/api/payments/").json()["results"] == []
    assert client_for(district.staff_b).get("/api/payment-plans/").json()["results"] == []


def test_monitoring_report_api_takes_the_reason_and_shows_the_imported_amount(
    district, projects, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from processes.models import MonitoringReport
    from tests.api.test_monitoring_api import body
    from workflows.services import monitoring_round_open

    a, b = projects
    with django_capture_on_commit_callbacks(execute=True):
        client_for(district.finance).post("/api/payments/batch/", {"rows": rows(a, b)}, format="json")
    monitoring_round_open(
        actor=district.finance, fiscal_year=2021, end_month=6, due_at=timezone.now() + timedelta(days=20)
    )
    report = MonitoringReport.objects.get(project=a)
    staff = client_for(district.staff_a)
    url = f"/api/monitoring/reports/{report.pk}/"
    refused = staff.put(url, body(report, executed="1500.00"), format="json")
    assert refused.status_code == 400 and "executed_reason" in refused.json()
    saved = staff.put(url, body(report, executed="1500.00", executed_reason="含在途支付"), format="json").json()
    assert (saved["executed"], saved["executed_imported"], saved["executed_reason"]) == (
        "1500.00",
        "1000.00",
        "含在途支付",
    )
