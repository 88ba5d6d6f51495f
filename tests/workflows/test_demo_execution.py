"""The demo district's execution data: the treasury's payments of the demo year imported
through the importer (its job and audit row), plans on some projects read by the light, and
one report in the exceptions list with its reason."""

from __future__ import annotations

from decimal import Decimal

from processes.execution_selectors import execution_exceptions
from processes.models import AuditEvent, Job, MonitoringReport, Payment, PaymentPlan
from processes.states import JobStatus, Light
from tests.workflows.test_demo import _savepoint, demo_loaded, load  # noqa: F401  (the demo, loaded once)
from workflows import demo


def test_demo_imports_the_payments_and_plans_through_jobs_with_audit_rows_when_loaded(demo_loaded):  # noqa: F811
    assert "Execution data 2021: 35 monthly payments of 5 projects, 36 plan months of 3" in demo_loaded
    jobs = Job.objects.filter(kind__in=["payments_import", "payment_plans_import"])
    assert sorted(jobs.values_list("kind", "status")) == [
        ("payment_plans_import", JobStatus.SUCCEEDED),
        ("payments_import", JobStatus.SUCCEEDED),
    ]
    events = AuditEvent.objects.filter(action__in=["payments_import", "payment_plans_import"])
    assert sorted(e.detail["file"] for e in events) == ["payment-plans-2021.csv", "payments-2021.csv"]
    assert Payment.objects.filter(project__fiscal_year=demo.FISCAL_YEAR).count() == 35
    assert PaymentPlan.objects.values("project").distinct().count() == 3


def test_demo_lights_read_the_plan_and_the_exceptions_list_holds_the_declared_difference():
    plan_read = MonitoringReport.objects.get(project__code="2021-LW101-001")
    assert (plan_read.spending_light, plan_read.spending_rate) == (Light.GREEN, Decimal("97.17"))
    rows = execution_exceptions(demo_user("finance1"), year=demo.FISCAL_YEAR)
    assert [(r.project.code, r.imported, r.declared) for r in rows] == [
        ("2021-LW103-001", Decimal("705000.00"), Decimal("745000.00"))
    ]
    assert "国库于 8 月初支付" in rows[0].reason


def test_loading_again_imports_nothing_twice():
    out = load("-v", "1")
    assert "this load: nothing imported" in out
    assert Job.objects.filter(kind="payments_import").count() == 1


def demo_user(username):
    from accounts.models import User

    return User.objects.get(username=username)
