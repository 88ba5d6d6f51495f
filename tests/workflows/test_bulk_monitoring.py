"""批量审核通过绿灯监控报告 (issue 18 item 1a) as real role users, through the screen, the API
and the service: only reports passed by their leader with every light green; the wrong
role refused; a refused report among the cleared ones; one audit row each with the
actor's role; the executed amount recorded and the finance task completed as a single
clearance does; one notice per department member; statements independent of the count."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS

from notifications.models import Notification
from processes.models import AuditEvent, BudgetProject, Job, MonitoringReport
from processes.services.audit import audit_verify
from processes.services.monitoring import report_save, reports_clear
from processes.states import JobStatus, ReportStatus
from workflows.flows import MonitoringFlow
from workflows.models import ProjectProcess
from workflows.services import monitoring_dept_review, monitoring_review, monitoring_submit

from .test_monitoring_flow import executing, on_pace, open_round

pytestmark = pytest.mark.django_db

URL = reverse("workflows:bulk_action", args=["clear_reports"])
API = reverse("bulk-action", args=["clear_reports"])


def people(district, report):
    if report.project.department_id == district.dept_a.pk:
        return district.staff_a, district.leader_a
    return district.staff_b, district.leader_b


def passed(district, report, **values):
    """The report filled, submitted and passed by its department's leader."""
    staff, leader = people(district, report)
    report = report_save(report=report, actor=staff, **(values or on_pace(report)))
    report = monitoring_submit(report=report, actor=staff)
    return monitoring_dept_review(report=report, actor=leader, approve=True)


def green_reports(district, a=2, b=1, *, start_month=1):
    """``a`` reports of department A and ``b`` of B, green and passed by their leaders."""
    for dept, n in (("a", a), ("b", b)):
        for _ in range(n):
            executing(district, dept=dept)
    opened = open_round(district, start_month=start_month)
    return [passed(district, r) for r in opened.created]


def yellow(district, report):
    """Passed by the leader with a lagging indicator (yellow), causes explained."""
    return passed(district, report, **on_pace(report, values=("4", "100", "achieved"), explained=True))


def test_screen_lists_only_passed_all_green_reports_when_finance_opens_it(client, district):
    executing(district)
    executing(district)
    executing(district)
    first, second, third = open_round(district).created
    green = passed(district, first)
    lagging = yellow(district, second)
    assert lagging.light != "green"
    client.force_login(district.finance)
    response = client.get(URL)
    assert response.status_code == 200
    assert [row[0].pk for row in response.context["rows"]] == [green.pk]
    assert third.status == ReportStatus.ISSUED


@pytest.mark.parametrize("who", ["staff_a", "leader_a", "supervisor", "auditor"])
def test_screen_and_api_refuse_when_the_role_is_not_finance(client, district, who):
    green_reports(district, a=1, b=0)
    client.force_login(getattr(district, who))
    assert client.get(URL).status_code == 403
    assert client.post(API, {"filter": {}}, content_type="application/json").status_code == 403
    assert not Job.objects.exists()
    assert not MonitoringReport.objects.filter(status=ReportStatus.CLEARED).exists()


def test_department_filter_clears_only_that_departments_reports_when_finance_confirms(
    client, district, django_capture_on_commit_callbacks
):
    reports = green_reports(district, a=2, b=1)
    mine = [r for r in reports if r.project.department_id == district.dept_a.pk]
    other = [r for r in reports if r.project.department_id == district.dept_b.pk]
    client.force_login(district.finance)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{URL}?department={district.dept_a.pk}", {"scope": "all", "comment": "进度正常"})
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("processes:job_detail", args=[job.pk])
    assert job.status == JobStatus.SUCCEEDED and job.result["done"] == 2 and job.result["refused"] == []
    for report in mine:
        report.refresh_from_db()
        assert report.status == ReportStatus.CLEARED and report.reviewed_by == district.finance
        assert report.review_comment == "进度正常"
        assert BudgetProject.objects.get(pk=report.project_id).executed_amount == report.executed
    assert MonitoringReport.objects.get(pk=other[0].pk).status == ReportStatus.DEPT_APPROVED
    events = AuditEvent.objects.filter(action="report_clear")
    assert sorted(int(e.object_id) for e in events) == sorted(r.pk for r in mine)
    assert {e.actor_role for e in events} == {"finance_officer"}
    assert all(e.detail["executed"] is not None for e in events)
    assert audit_verify() is None
    assert client.get(reverse("processes:job_detail", args=[job.pk])).status_code == 200


def _flow_rows(report):
    process = ProjectProcess.objects.get(flow_class=MonitoringFlow, data__report=report.pk)
    tasks = Task.objects.filter(process=process).order_by("pk")
    return process.status, [
        (
            t.flow_task.name,
            t.flow_task_type,
            t.status,
            t.owner_id,
            t.started is not None,
            t.finished is not None,
            [p.flow_task.name for p in t.previous.all()],
        )
        for t in tasks
    ]


def test_bulk_clearance_writes_the_flow_rows_a_single_clearance_writes(district):
    one, two = green_reports(district, a=2, b=0)
    monitoring_review(report=one, actor=district.finance, decision="clear")
    outcome = reports_clear(actor=district.finance, reports=[two])
    assert [r.pk for r in outcome.done] == [two.pk] and outcome.refused == []
    single, bulk = _flow_rows(one), _flow_rows(two)
    assert single[0] == bulk[0] == PROCESS.DONE
    assert single[1] == bulk[1]
    assert not Task.objects.filter(process__data__report=two.pk, status__in=["NEW", "ASSIGNED"]).exists()


def test_a_moved_report_and_a_lagging_one_are_refused_while_the_rest_are_cleared(district):
    reports = green_reports(district, a=3, b=0)
    executing(district)
    lagging = yellow(district, open_round(district, start_month=2).created[0])
    # someone warned the second one since the list was read
    monitoring_review(report=reports[1], actor=district.finance, decision="warn", comment="需关注")
    Notification.objects.all().delete()
    outcome = reports_clear(actor=district.finance, reports=[*reports, lagging])
    assert [r.pk for r in outcome.done] == [reports[0].pk, reports[2].pk]
    reasons = {obj.pk: reason for obj, reason in outcome.refused}
    assert "已被他人处理" in reasons[reports[1].pk] and "预警" in reasons[reports[1].pk]
    assert reasons[lagging.pk] == "并非全部绿灯，请逐份审核。"
    assert MonitoringReport.objects.get(pk=reports[1].pk).status == ReportStatus.WARNED
    assert MonitoringReport.objects.get(pk=lagging.pk).status == ReportStatus.DEPT_APPROVED
    assert not AuditEvent.objects.filter(action="report_clear", object_id__in=[reports[1].pk, lagging.pk]).exists()
    assert audit_verify() is None


def test_each_department_member_gets_one_notice_when_its_reports_are_cleared_together(district):
    reports = green_reports(district, a=3, b=1)
    Notification.objects.all().delete()
    reports_clear(actor=district.finance, reports=reports)
    for member in (district.staff_a, district.leader_a, district.leader_a2):
        notes = Notification.objects.filter(recipient=member)
        assert notes.count() == 1 and notes.get().params["count"] == 3
    only = Notification.objects.get(recipient=district.staff_b)  # one report: its own message
    assert only.url == reports[-1].get_absolute_url()
    assert not Notification.objects.filter(recipient=district.finance).exists()


def test_statement_count_is_the_same_when_three_or_thirty_reports_are_cleared(district):
    small = green_reports(district, a=2, b=1, start_month=1)
    large = green_reports(district, a=20, b=10, start_month=2)
    counts = []
    for batch in (small, large):
        with CaptureQueriesContext(connection) as queries:
            outcome = reports_clear(actor=district.finance, reports=batch)
        assert len(outcome.done) == len(batch)
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_api_clears_the_ids_when_finance_posts_them(client, district, django_capture_on_commit_callbacks):
    reports = green_reports(district, a=2, b=0)
    client.force_login(district.finance)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(API, {"ids": [reports[0].pk], "comment": "同意"}, content_type="application/json")
    assert response.status_code == 202
    state = client.get(response["Location"]).json()
    assert state["status"] == "succeeded" and state["result"]["done"] == 1
    assert MonitoringReport.objects.get(pk=reports[1].pk).status == ReportStatus.DEPT_APPROVED


def test_api_refuses_a_lagging_report_when_its_id_is_posted(client, district):
    executing(district)
    lagging = yellow(district, open_round(district).created[0])
    client.force_login(district.finance)
    response = client.post(API, {"ids": [lagging.pk]}, content_type="application/json")
    assert response.status_code == 400 and str(lagging.pk) in str(response.json())
    assert not Job.objects.exists()


def test_green_reports_list_reads_the_same_statements_when_it_shows_one_or_five_reports(client, district):
    client.force_login(district.finance)
    counts = []
    for month, (a, b) in ((1, (1, 0)), (2, (2, 1))):
        green_reports(district, a=a, b=b, start_month=month)
        client.get(URL)
        with CaptureQueriesContext(connection) as queries:
            page = client.get(URL)
        assert len(page.context["rows"]) == {1: 1, 2: 5}[month]
        counts.append(len(queries))
    assert counts[0] == counts[1]
