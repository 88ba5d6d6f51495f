"""What the execution data changes: the spending light read against the payment plan, the
prefill of the executed amount (a different amount only with a reason), the flag on the
review screens, the exceptions list and its XLSX, the plan screen, and visibility."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from processes import lights
from processes.execution_selectors import execution_exceptions
from processes.models import AuditEvent, MonitoringReport, PaymentPlan, SelfEvaluation
from processes.services.evaluation import self_evaluation_save
from processes.services.execution import PAYMENTS, PLANS, Batch, import_rows, payment_plan_save
from processes.services.monitoring import report_save, report_submit
from processes.states import Light, ProjectStage
from tests.api.test_monitoring_api import body
from tests.processes.test_evaluation import lines_for
from workflows.services import campaign_launch, monitoring_round_open

pytestmark = pytest.mark.django_db


def pay(district, project, months: dict[int, str], kind=PAYMENTS):
    column = "支付金额(元)" if kind == PAYMENTS else "计划支付金额(元)"
    rows = [{"年度": project.fiscal_year, "项目编码": project.code, "月份": m, column: a} for m, a in months.items()]
    return import_rows(kind=kind, actor=district.finance, batch=Batch(rows))


@pytest.fixture
def project(district):
    return district.project(ProjectStage.EXECUTING, dept="a")


def open_round(district, end_month=6):
    monitoring_round_open(
        actor=district.finance, fiscal_year=2021, end_month=end_month, due_at=timezone.now() + timedelta(days=20)
    )


@pytest.fixture
def report(district, project):
    open_round(district)
    return MonitoringReport.objects.get(project=project)


def save(district, report, **values):
    data = body(report, **values)
    data.pop("budget")
    return report_save(report=report, actor=district.staff_a, **data)


# -- the light ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("executed", "light"),
    [("59.99", Light.RED), ("60", Light.YELLOW), ("79.99", Light.YELLOW), ("80", Light.GREEN), ("150", Light.GREEN)],
)
def test_spending_light_reads_against_the_plan_at_each_threshold_when_a_plan_exists(executed, light):
    reading = lights.spending_light_against_plan(
        executed=Decimal(executed), budget=Decimal("1000"), planned=Decimal("100")
    )
    assert reading.light == light
    assert reading.rate == Decimal(executed)
    assert reading.reason == ("" if light == Light.GREEN else lights.SLOW_AGAINST_PLAN)


def test_spending_against_the_plan_is_red_above_the_budget_and_green_when_nothing_is_planned_yet():
    assert lights.spending_light_against_plan(executed=Decimal(11), budget=Decimal(10), planned=Decimal(5)).light == (
        Light.RED
    )
    nothing = lights.spending_light_against_plan(executed=Decimal(0), budget=Decimal(10), planned=Decimal(0))
    assert (nothing.light, nothing.reason) == (Light.GREEN, lights.NOTHING_PLANNED)


def test_report_light_reads_against_the_plan_when_the_project_has_one(district, project, report):
    # the straight line: 600,000 of 1,200,000 at month 6 is 100 % → green
    assert save(district, report, executed="600000.00").spending_light == Light.GREEN
    # the plan front-loads: 1,000,000 planned to June → 60 % → yellow, said so
    pay(district, project, {1: "500000", 6: "500000", 9: "200000"}, kind=PLANS)
    report.refresh_from_db()
    saved = save(district, report, executed="600000.00")
    assert (saved.spending_light, saved.spending_rate) == (Light.YELLOW, Decimal("60.00"))
    assert saved.spending_reason == lights.SLOW_AGAINST_PLAN


def test_report_light_reads_against_the_straight_line_when_the_project_has_no_plan(district, project, report):
    saved = save(district, report, executed="300000.00")  # 25 % of the budget at half the year → 50 % → red
    assert (saved.spending_light, saved.spending_rate, saved.spending_reason) == (
        Light.RED,
        Decimal("50.00"),
        lights.SLOW,
    )


# -- the prefill rule -------------------------------------------------------------------------------


def test_executed_is_taken_from_the_payments_when_the_department_gives_none(district, project, report):
    pay(district, project, {1: "100000", 5: "200000.50", 7: "999"})  # July is after the round's June
    data = body(report)
    data.pop("budget")
    data.pop("executed")
    saved = report_save(report=report, actor=district.staff_a, **data)
    assert saved.executed == saved.executed_imported == Decimal("300000.50")
    assert saved.executed_reason == ""


def test_a_different_executed_amount_is_refused_without_a_reason_and_kept_with_one(district, project, report):
    pay(district, project, {3: "300000"})
    with pytest.raises(ValidationError) as caught:
        save(district, report, executed="350000")
    assert "300,000.00" in caught.value.message_dict["executed_reason"][0]
    report.refresh_from_db()
    assert report.executed is None  # nothing written
    saved = save(district, report, executed="350000", executed_reason="含已报账未支付的工程款")
    assert (saved.executed, saved.executed_imported) == (Decimal("350000"), Decimal("300000.00"))
    assert saved.executed_reason == "含已报账未支付的工程款"


def test_submit_is_refused_when_payments_imported_after_the_save_differ_without_a_reason(district, project, report):
    save(district, report, executed="600000.00")
    pay(district, project, {6: "500000"})
    report.refresh_from_db()
    with pytest.raises(ValidationError) as caught:
        report_submit(report=report, actor=district.staff_a)
    assert "executed_reason" in caught.value.message_dict


def test_report_behaves_as_before_when_no_payments_were_imported(district, project, report):
    saved = save(district, report, executed="600000.00", executed_reason="无关")
    assert (saved.executed_imported, saved.executed_reason) == (None, "")
    assert report_submit(report=saved, actor=district.staff_a).status == "submitted"


def test_review_screen_flags_the_difference_and_shows_the_reason_when_they_differ(client, district, project, report):
    pay(district, project, {3: "300000"})
    save(district, report, executed="350000", executed_reason="含已报账未支付的工程款")
    client.force_login(district.finance)
    page = client.get(report.get_absolute_url()).content.decode()
    assert 'data-testid="executed-differs"' in page
    assert "含已报账未支付的工程款" in page and "300,000.00" in page


def test_self_evaluation_sheet_starts_from_the_years_payments_and_needs_a_reason_to_differ(district, project):
    pay(district, project, {2: "400000", 11: "600000"})
    campaign_launch(actor=district.finance, fiscal_year=2021, due_at=timezone.now() + timedelta(days=20))
    se = SelfEvaluation.objects.get(project=project)
    saved = self_evaluation_save(evaluation=se, actor=district.staff_a, lines=lines_for(project))
    assert (saved.sheet.executed, saved.sheet.executed_imported) == (Decimal("1000000.00"), Decimal("1000000.00"))
    with pytest.raises(ValidationError) as caught:
        self_evaluation_save(evaluation=saved, actor=district.staff_a, lines=lines_for(project), executed="1080000")
    assert "executed_reason" in caught.value.message_dict
    se = self_evaluation_save(
        evaluation=SelfEvaluation.objects.get(pk=se.pk),
        actor=district.staff_a,
        lines=lines_for(project),
        executed="1080000",
        executed_reason="12 月 31 日支付未入国库数据",
    )
    assert se.sheet.executed_reason == "12 月 31 日支付未入国库数据"
    rows = execution_exceptions(district.finance, year=2021)
    assert [(r.kind, r.declared, r.imported, r.difference) for r in rows] == [
        ("self_evaluation", Decimal("1080000.00"), Decimal("1000000.00"), Decimal("80000.00"))
    ]


# -- exceptions list, visibility ---------------------------------------------------------------------


@pytest.fixture
def differing(district, project):
    other = district.project(ProjectStage.EXECUTING, dept="b")
    pay(district, project, {3: "300000"})
    pay(district, other, {3: "100000"})
    open_round(district)
    for p, staff in ((project, district.staff_a), (other, district.staff_b)):
        r = MonitoringReport.objects.get(project=p)
        data = body(r, executed="350000", executed_reason="差异原因")
        data.pop("budget")
        report_save(report=r, actor=staff, **data)
    return project, other


def test_exceptions_list_holds_every_differing_report_and_a_department_sees_its_own(client, district, differing):
    project, other = differing
    assert [r.project for r in execution_exceptions(district.finance)] == sorted([project, other], key=lambda p: p.code)
    assert [r.project for r in execution_exceptions(district.staff_a)] == [project]
    client.force_login(district.staff_b)
    page = client.get(reverse("workflows:execution_exceptions")).content.decode()
    assert other.code in page and project.code not in page


def test_exceptions_xlsx_lists_the_rows_with_imported_declared_and_difference(client, district, differing):
    client.force_login(district.finance)
    response = client.get(reverse("workflows:execution_exceptions_xlsx"), {"year": 2021})
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert len(rows) == 2
    assert {(r[1], r[6], r[7], r[8], r[9]) for r in rows} == {
        (differing[0].code, 300000, 350000, 50000, "差异原因"),
        (differing[1].code, 100000, 350000, 250000, "差异原因"),
    }


def test_exceptions_page_is_not_found_for_an_expert(client, district):
    client.force_login(district.expert)
    assert client.get(reverse("workflows:execution_exceptions")).status_code == 404


# -- the plan on the project's page -----------------------------------------------------------------


def test_department_staff_saves_the_plan_on_the_project_page_when_executing(client, district, project):
    client.force_login(district.staff_a)
    url = reverse("workflows:payment_plan", args=[project.pk])
    data = {f"month_{m}": "100000" for m in range(1, 13)}
    response = client.post(url, data)
    assert response.status_code == 302
    assert PaymentPlan.objects.filter(project=project).count() == 12
    event = AuditEvent.objects.get(action="payment_plan_save")
    assert event.actor == district.staff_a and event.actor_role == "dept_staff"
    data["month_12"] = ""
    client.post(url, data)
    assert PaymentPlan.objects.filter(project=project).count() == 11


def test_plan_is_refused_when_over_the_budget_or_not_a_number(client, district, project):
    client.force_login(district.staff_a)
    url = reverse("workflows:payment_plan", args=[project.pk])
    response = client.post(url, {"month_1": "1300000", "month_2": "abc"})
    assert response.status_code == 400
    assert "请填写数字金额" in response.content.decode()
    response = client.post(url, {"month_1": "1300000"})
    assert response.status_code == 400 and "超过预算" in response.content.decode()
    assert not PaymentPlan.objects.exists()


def test_plan_is_refused_to_another_department_and_to_a_leader(client, district, project):
    with pytest.raises(PermissionDenied):
        payment_plan_save(project=project, actor=district.leader_a, amounts={1: "1"})
    client.force_login(district.staff_b)
    assert client.get(reverse("workflows:payment_plan", args=[project.pk])).status_code == 404
    client.force_login(district.leader_a)
    response = client.post(reverse("workflows:payment_plan", args=[project.pk]), {"month_1": "1"})
    assert response.status_code == 403


def test_finance_section_saves_the_plan_of_any_department(district, project):
    assert payment_plan_save(project=project, actor=district.finance, amounts={1: "5", 2: ""})["saved"] == 1


def test_project_page_shows_paid_and_planned_when_the_data_exists(client, district, project):
    pay(district, project, {1: "1234.5"})
    pay(district, project, {1: "1000", 2: "2000"}, kind=PLANS)
    client.force_login(district.staff_a)
    page = client.get(project.get_absolute_url()).content.decode()
    assert 'data-testid="execution-summary"' in page and "1,234.50" in page and "3,000.00" in page


def test_acceptance_screen_shows_imported_declared_and_the_reason_when_they_differ(client, district, project):
    pay(district, project, {2: "400000", 11: "600000"})
    campaign_launch(actor=district.finance, fiscal_year=2021, due_at=timezone.now() + timedelta(days=20))
    se = SelfEvaluation.objects.get(project=project)
    self_evaluation_save(
        evaluation=se,
        actor=district.staff_a,
        lines=lines_for(project),
        executed="1080000",
        executed_reason="12 月 31 日支付未入国库数据",
    )
    client.force_login(district.finance)
    page = client.get(se.get_absolute_url()).content.decode()
    assert 'data-testid="executed-differs"' in page
    assert "12 月 31 日支付未入国库数据" in page and "1,000,000.00" in page


def test_exceptions_page_reads_the_same_number_of_queries_whatever_the_number_of_rows(client, district, differing):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(district.finance)
    url = reverse("workflows:execution_exceptions")
    client.get(url)  # the session's first request reads more (the user, the permissions)
    with CaptureQueriesContext(connection) as two:
        client.get(url)
    for _ in range(2):
        extra = district.project(ProjectStage.EXECUTING, dept="a")
        pay(district, extra, {3: "1"})
    open_round(district, end_month=7)
    for r in MonitoringReport.objects.filter(round__end_month=7).select_related("project"):
        data = body(r, executed="5", executed_reason="差异")
        data.pop("budget")
        staff = district.staff_a if r.project.department_id == district.dept_a.pk else district.staff_b
        report_save(report=r, actor=staff, **data)
    assert len(execution_exceptions(district.finance)) == 6
    with CaptureQueriesContext(connection) as six:
        client.get(url)
    assert len(six) == len(two)
