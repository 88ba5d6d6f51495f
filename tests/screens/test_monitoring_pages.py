"""绩效运行监控 screens (DESIGN §3.4): a round opened through the form and its background
job, the whole report path as real role users (fill, submit, leader, finance clears; a red
report warned and disposed with a budget adjustment), bad input kept and named on its
field, visibility and refusals (other department 404, wrong role 403, acting twice 409),
the overview's counts and pace, the XLSX, and the pages' query counts."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from decimal import Decimal
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from processes.models import BudgetProject, Job, MonitoringReport, MonitoringRound, TargetRow
from processes.services.monitoring import approved_rows, report_save
from processes.states import Light, ProjectStage, ReportStatus
from workflows.flows import MonitoringFlow
from workflows.selectors import task_inbox_for
from workflows.services import monitoring_round_open, project_act

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
ROUNDS = reverse("workflows:monitoring_rounds")


def text(response) -> str:
    return response.content.decode()


def login(client, user):
    client.force_login(user)
    return client


def report_page(report) -> str:
    return reverse("workflows:monitoring_report", args=[report.pk])


def act(report, action) -> str:
    return reverse("workflows:monitoring_report_act", args=[report.pk, action])


def cell(response, name) -> str:
    """The markup of the form cell holding field ``name`` (its input and its errors)."""
    found = re.search(rf'<(td|div)[^>]*data-cell="{re.escape(name)}"[^>]*>(.*?)</\1>', text(response), re.S)
    assert found, f"no cell {name}"
    return html.unescape(found.group(2))


def form_errors(response) -> str:
    found = re.search(r'data-testid="form-errors"[^>]*>(.*?)</div>\s*(?!<div>)', text(response), re.S)
    return html.unescape(found.group(1)) if found else ""


def due_text(days=20) -> str:
    return (timezone.now() + timedelta(days=days)).astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


def executing(district, dept="a", **kw) -> BudgetProject:
    """A budgeted project (approved targets TARGET_ROWS, 1,200,000 yuan) put into execution."""
    project = district.project(ProjectStage.BUDGETED, dept=dept, **kw)
    return project_act(project=project, actor=district.finance, action="start_execution")


@pytest.fixture
def projects(district):
    """Two executing projects of department A and one of B."""
    return [executing(district, "a"), executing(district, "a"), executing(district, "b")]


def open_round(client, district, capture, **fields) -> MonitoringRound:
    """The finance section opens a Jan–Jun 2021 round through the form; the job runs."""
    data = {
        "fiscal_year": 2021,
        "start_month": 1,
        "end_month": 6,
        "due_at": due_text(),
        "title": "",
        "scope": "all",
        "project_codes": "",
        **fields,
    }
    with capture(execute=True):
        response = login(client, district.finance).post(ROUNDS, data)
    assert response.status_code == 302, text(response)
    job = Job.objects.filter(kind="monitoring_round_open").latest("pk")
    assert response["Location"] == reverse("processes:job_detail", args=[job.pk])
    job.refresh_from_db()
    assert job.status == "succeeded", job.errors
    return MonitoringRound.objects.get(pk=job.result["round"])


def fill_data(report, *, executed="600000.00", values=None, submit=False, **extra) -> dict:
    """The fill form as a browser posts it: every approved row on pace (green) by default."""
    rows = approved_rows(report.project)
    values = values or {}
    data: dict = {
        "revision": report.revision,
        "budget": "1200000.00",
        "adjusted_budget": "",
        "executed": executed,
        "expected_full_year": "1200000.00",
        "deviation_causes": "",
        "measures": "",
        "proposed_amount": "",
        "row": [row.pk for row in rows],
    }
    defaults = {"gte": "6.25", "lte": "120", "qualitative": "achieved"}
    for row in rows:
        field = "value" if row.quantitative else "progress"
        data[f"row_{row.pk}_{field}"] = values.get(row.name, defaults.get(row.direction, "1"))
        data[f"row_{row.pk}_likelihood"] = "certain"
    data["submit" if submit else "save"] = "1"
    data.update(extra)
    return data


def reports_of(round_, district, dept="a") -> list[MonitoringReport]:
    department = district.dept_a if dept == "a" else district.dept_b
    return list(MonitoringReport.objects.filter(round=round_, project__department=department).order_by("project__code"))


# -- the whole path ---------------------------------------------------------------------------


def test_round_opens_through_the_form_and_each_department_gets_its_fill_tasks(
    client, district, projects, django_capture_on_commit_callbacks
):
    round_ = open_round(client, district, django_capture_on_commit_callbacks, title="2021年1—6月绩效运行监控")

    assert round_.title == "2021年1—6月绩效运行监控"
    assert (round_.fiscal_year, round_.start_month, round_.end_month) == (2021, 1, 6)
    reports = MonitoringReport.objects.filter(round=round_)
    assert {r.project_id for r in reports} == {p.pk for p in projects}
    assert {r.status for r in reports} == {ReportStatus.ISSUED}
    assert {r.budget for r in reports} == {Decimal("1200000.00")}
    for staff, dept in ((district.staff_a, "a"), (district.staff_b, "b")):
        fill_tasks = [t for t in task_inbox_for(staff) if t.flow_task == MonitoringFlow.fill]
        assert sorted(t.process.data["report"] for t in fill_tasks) == sorted(
            r.pk for r in reports_of(round_, district, dept)
        )
    login(client, district.staff_a)
    fill_tasks = [t for t in task_inbox_for(district.staff_a) if t.flow_task == MonitoringFlow.fill]
    for task in fill_tasks:  # each task page leads to its report's page
        page = text(client.get(reverse("workflows:task", args=[task.pk])))
        assert report_page(MonitoringReport.objects.get(pk=task.process.data["report"])) in page
    assert "填报绩效监控报告" in text(client.get(reverse("workflows:inbox")))


def test_report_is_cleared_when_staff_leader_and_finance_act_through_the_screens(
    client, district, projects, django_capture_on_commit_callbacks
):
    round_ = open_round(client, district, django_capture_on_commit_callbacks)
    report = reports_of(round_, district)[0]

    page = login(client, district.staff_a).get(report_page(report))
    assert page.status_code == 200
    assert 'data-testid="report-fill"' in text(page)
    assert 'value="1200000.00"' in cell(page, "budget")  # prefilled from the project
    saved = client.post(act(report, "fill"), fill_data(report))
    assert saved.status_code == 302
    report.refresh_from_db()
    assert (report.status, report.executed, report.light) == (ReportStatus.ISSUED, Decimal("600000.00"), Light.GREEN)
    submitted = client.post(act(report, "fill"), fill_data(report, submit=True))
    assert submitted.status_code == 302
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED

    leader = login(client, district.leader_a)
    assert 'data-testid="report-dept-review"' in text(leader.get(report_page(report)))
    assert leader.post(act(report, "dept-review"), {"decision": "approve", "comment": "同意"}).status_code == 302
    report.refresh_from_db()
    assert report.status == ReportStatus.DEPT_APPROVED

    finance = login(client, district.finance)
    assert 'data-testid="report-review"' in text(finance.get(report_page(report)))
    cleared = finance.post(act(report, "review"), {"decision": "clear", "comment": ""}, follow=True)
    assert "监控报告已审核通过。" in text(cleared)
    report.refresh_from_db()
    assert report.status == ReportStatus.CLEARED
    assert BudgetProject.objects.get(pk=report.project_id).executed_amount == Decimal("600000.00")
    body = text(finance.get(report_page(report)))
    assert 'data-light="green"' in body
    assert "财政审核通过" in body  # the history


def test_red_report_is_warned_and_disposed_with_a_budget_adjustment(
    client, district, projects, django_capture_on_commit_callbacks
):
    round_ = open_round(client, district, django_capture_on_commit_callbacks)
    report = reports_of(round_, district)[1]
    staff = login(client, district.staff_a)

    # half the time gone, a quarter spent: red; red without causes and measures is refused
    refused = staff.post(act(report, "fill"), fill_data(report, executed="300000.00", submit=True))
    assert refused.status_code == 400
    assert "出现红灯或黄灯时，请说明偏差原因和纠偏措施。" in cell(refused, "deviation_causes")
    assert 'value="300000.00"' in cell(refused, "executed")
    assert MonitoringReport.objects.get(pk=report.pk).executed is None  # nothing saved
    ok = staff.post(
        act(report, "fill"),
        fill_data(
            report,
            executed="300000.00",
            submit=True,
            deviation_causes="征地拆迁滞后",
            measures="加快征地进度",
            adjustment_requested="on",
            proposed_amount="800000.00",
        ),
    )
    assert ok.status_code == 302
    report.refresh_from_db()
    assert (report.status, report.spending_light, report.light) == (ReportStatus.SUBMITTED, Light.RED, Light.RED)
    assert report.proposed_amount == Decimal("800000.00")
    assert "支出进度慢于时序进度" in text(staff.get(report_page(report)))

    assert login(client, district.leader_a).post(act(report, "dept-review"), {"decision": "approve"}).status_code == 302
    finance = login(client, district.finance)
    no_comment = finance.post(act(report, "review"), {"decision": "warn", "comment": ""})
    assert no_comment.status_code == 400
    assert "预警或退回时请填写审核意见。" in cell(no_comment, "comment")
    assert finance.post(act(report, "review"), {"decision": "warn", "comment": "支出进度严重滞后"}).status_code == 302
    report.refresh_from_db()
    assert report.status == ReportStatus.WARNED
    assert 'data-testid="report-dispose"' in text(finance.get(report_page(report)))

    no_reason = finance.post(act(report, "dispose"), {"disposal": "adjust", "new_amount": "800000.00", "reason": ""})
    assert no_reason.status_code == 400
    assert "请填写处置理由。" in cell(no_reason, "reason")
    assert 'value="800000.00"' in cell(no_reason, "new_amount")
    done = finance.post(
        act(report, "dispose"),
        {"disposal": "adjust", "new_amount": "800000.00", "reason": "按实际进度调减预算"},
        follow=True,
    )
    assert "由 120.00 万元调整为 80.00 万元" in text(done)
    report.refresh_from_db()
    project = BudgetProject.objects.get(pk=report.project_id)
    assert report.status == ReportStatus.DISPOSED
    assert (report.amount_before, report.amount_after) == (Decimal("1200000.00"), Decimal("800000.00"))
    assert project.adjusted_amount == Decimal("800000.00")
    shown = html.unescape(re.search(r'data-testid="amount-change">(.*?)</dd>', text(done), re.S).group(1))
    assert "1,200,000.00" in shown and "800,000.00" in shown
    project_page = text(login(client, district.staff_a).get(reverse("workflows:project_detail", args=[project.pk])))
    assert 'data-testid="monitoring-summary"' in project_page
    assert 'data-light="red"' in project_page
    assert report_page(report) in project_page
    assert "80.00" in project_page  # the adjusted budget in 万元


def test_returned_report_can_be_filled_again_when_the_leader_sends_it_back(
    client, district, projects, django_capture_on_commit_callbacks
):
    round_ = open_round(client, district, django_capture_on_commit_callbacks)
    report = reports_of(round_, district)[0]
    login(client, district.staff_a).post(act(report, "fill"), fill_data(report, submit=True))
    leader = login(client, district.leader_a)

    no_reason = leader.post(act(report, "dept-review"), {"decision": "return", "comment": ""})
    assert no_reason.status_code == 400
    assert "请填写退回理由。" in cell(no_reason, "comment")
    assert leader.post(act(report, "dept-review"), {"decision": "return", "comment": "数据有误"}).status_code == 302

    report.refresh_from_db()
    assert (report.status, report.leader_comment) == (ReportStatus.ISSUED, "数据有误")
    assert 'data-testid="report-fill"' in text(login(client, district.staff_a).get(report_page(report)))


# -- the round form ------------------------------------------------------------------------------


def test_round_form_keeps_what_was_typed_when_codes_are_not_executing_projects(
    client, district, projects, django_capture_on_commit_callbacks
):
    draft = district.project(ProjectStage.DRAFT)
    codes = f"{projects[0].code}\n{draft.code}, NOPE-1"
    with django_capture_on_commit_callbacks(execute=True):
        response = login(client, district.finance).post(
            ROUNDS,
            {
                "fiscal_year": 2021,
                "start_month": 1,
                "end_month": 6,
                "due_at": due_text(),
                "scope": "chosen",
                "project_codes": codes,
            },
        )

    assert response.status_code == 400
    errors = cell(response, "project_codes") if 'data-cell="project_codes"' in text(response) else text(response)
    assert "以下 2 个编码不是 2021 年度执行中的项目" in html.unescape(errors)
    assert draft.code in html.unescape(text(response))
    assert codes in html.unescape(text(response))
    assert not Job.objects.exists()
    assert not MonitoringRound.objects.exists()


def test_round_form_refuses_a_past_due_date_and_months_out_of_order(client, district, projects):
    response = login(client, district.finance).post(
        ROUNDS,
        {
            "fiscal_year": 2021,
            "start_month": 7,
            "end_month": 3,
            "due_at": due_text(-1),
            "scope": "all",
        },
    )

    body = html.unescape(text(response))
    assert response.status_code == 400
    assert "截止月份不能早于起始月份。" in body
    assert "填报截止时间必须晚于现在。" in body
    assert not Job.objects.exists()


def test_round_opens_for_the_listed_projects_only_when_codes_are_given(
    client, district, projects, django_capture_on_commit_callbacks
):
    round_ = open_round(
        client, district, django_capture_on_commit_callbacks, scope="chosen", project_codes=projects[2].code
    )

    assert [r.project_id for r in MonitoringReport.objects.filter(round=round_)] == [projects[2].pk]


def test_round_form_is_refused_when_user_is_not_the_finance_section(client, district, projects):
    data = {"fiscal_year": 2021, "start_month": 1, "end_month": 6, "due_at": due_text(), "scope": "all"}
    for user in (district.supervisor, district.staff_a, district.leader_a):
        page = login(client, user).get(ROUNDS)
        assert page.status_code == 200
        assert 'data-testid="round-open"' not in text(page)
        assert client.post(ROUNDS, data).status_code == 403
    assert not Job.objects.exists()


# -- bad input ---------------------------------------------------------------------------------------


@pytest.fixture
def issued(client, district, projects, django_capture_on_commit_callbacks):
    round_ = open_round(client, district, django_capture_on_commit_callbacks)
    return reports_of(round_, district)[0]


def test_fill_keeps_what_was_typed_when_amounts_are_negative_or_text(client, district, issued):
    report = issued
    rows = approved_rows(report.project)
    gte = next(r for r in rows if r.direction == "gte")

    response = login(client, district.staff_a).post(
        act(report, "fill"),
        fill_data(report, executed="六十万", expected_full_year="-5", values={gte.name: "很多"}),
    )

    assert response.status_code == 400
    assert "请填写数字金额（元）。" in cell(response, "executed")
    assert 'value="六十万"' in cell(response, "executed")
    assert "金额不能为负数。" in cell(response, "expected_full_year")
    assert 'value="-5"' in cell(response, "expected_full_year")
    assert "完成值必须是数字。" in cell(response, f"row_{gte.pk}_value")
    assert 'value="很多"' in cell(response, f"row_{gte.pk}_value")
    fresh = MonitoringReport.objects.get(pk=report.pk)
    assert (fresh.executed, fresh.budget, fresh.revision) == (None, Decimal("1200000.00"), report.revision)
    assert not fresh.indicators.exists()


def test_fill_is_refused_and_nothing_changes_when_an_indicator_is_not_the_projects(client, district, issued):
    report = issued
    other = TargetRow.objects.exclude(target_set__project=report.project).first()
    data = fill_data(report)
    data["row"] = [*data["row"], other.pk]
    data[f"row_{other.pk}_value"] = "3"

    response = login(client, district.staff_a).post(act(report, "fill"), data)

    assert response.status_code == 400
    assert f"第 {other.pk} 号指标不是本项目已批复的绩效指标。" in form_errors(response)
    assert 'value="600000.00"' in cell(response, "executed")  # what was typed is kept
    fresh = MonitoringReport.objects.get(pk=report.pk)
    assert (fresh.executed, fresh.revision) == (None, report.revision)
    assert not fresh.indicators.exists()


def test_fill_answers_409_when_the_report_changed_since_the_form_was_opened(client, district, issued):
    report = issued
    stale = fill_data(report)
    report_save(report=report, actor=district.staff_a, executed="100")

    response = login(client, district.staff_a).post(act(report, "fill"), stale)

    assert response.status_code == 409
    assert 'value="600000.00"' in cell(response, "executed")
    assert MonitoringReport.objects.get(pk=report.pk).executed == Decimal("100.00")


# -- refusals ------------------------------------------------------------------------------------------


def test_each_action_is_refused_with_403_when_the_role_is_wrong(client, district, issued):
    report = issued
    cases = [
        (district.leader_a, "fill", fill_data(report)),
        (district.finance, "fill", fill_data(report)),
        (district.staff_a, "dept-review", {"decision": "approve"}),
        (district.finance, "dept-review", {"decision": "approve"}),
        (district.staff_a, "review", {"decision": "clear"}),
        (district.supervisor, "review", {"decision": "clear"}),
        (district.leader_a, "dispose", {"disposal": "no_action", "reason": "x"}),
        (district.auditor, "dispose", {"disposal": "no_action", "reason": "x"}),
    ]
    for user, action, data in cases:
        assert login(client, user).post(act(report, action), data).status_code == 403, (user, action)
    fresh = MonitoringReport.objects.get(pk=report.pk)
    assert (fresh.status, fresh.revision) == (ReportStatus.ISSUED, report.revision)


def test_acting_twice_answers_409_with_the_message(client, district, issued):
    report = issued
    staff = login(client, district.staff_a)
    assert staff.post(act(report, "fill"), fill_data(report, submit=True)).status_code == 302
    again = staff.post(act(report, "fill"), fill_data(MonitoringReport.objects.get(pk=report.pk), submit=True))
    assert again.status_code == 409
    assert "监控报告当前为「已提交」，不能执行此操作。" in text(again)

    leader = login(client, district.leader_a)
    assert leader.post(act(report, "dept-review"), {"decision": "approve"}).status_code == 302
    assert leader.post(act(report, "dept-review"), {"decision": "approve"}).status_code == 409
    finance = login(client, district.finance)
    assert finance.post(act(report, "review"), {"decision": "clear"}).status_code == 302
    twice = finance.post(act(report, "review"), {"decision": "clear"})
    assert twice.status_code == 409
    assert "审核通过" in text(twice)
    assert finance.post(act(report, "dispose"), {"disposal": "no_action", "reason": "x"}).status_code == 409


def test_unknown_action_is_404(client, district, issued):
    assert login(client, district.staff_a).post(act(issued, "explode"), {}).status_code == 404


# -- visibility ------------------------------------------------------------------------------------------


def test_another_department_gets_404_on_reports_and_summary_and_sees_none_of_them_listed(
    client, district, projects, django_capture_on_commit_callbacks
):
    round_ = open_round(client, district, django_capture_on_commit_callbacks)
    a_report = reports_of(round_, district, "a")[0]
    b_report = reports_of(round_, district, "b")[0]
    a_summary = reverse("workflows:monitoring_department", args=[round_.pk, district.dept_a.pk])
    b_summary = reverse("workflows:monitoring_department", args=[round_.pk, district.dept_b.pk])
    staff_b = login(client, district.staff_b)

    assert staff_b.get(report_page(a_report)).status_code == 404
    assert staff_b.post(act(a_report, "fill"), fill_data(a_report)).status_code == 404
    assert staff_b.get(a_summary).status_code == 404
    own = staff_b.get(b_summary)
    assert own.status_code == 200
    assert b_report.project.name in text(own)
    assert a_report.project.name not in text(own)
    overview = staff_b.get(reverse("workflows:monitoring_round", args=[round_.pk]))
    assert overview.status_code == 302 and overview["Location"] == b_summary
    rounds = text(staff_b.get(ROUNDS))
    assert b_summary in rounds
    assert f'href="{reverse("workflows:monitoring_round", args=[round_.pk])}"' not in rounds
    assert re.search(r'data-col="total">1<', rounds)  # B's own report only
    assert login(client, district.leader_b).get(report_page(b_report)).status_code == 200


def test_experts_and_other_outsiders_get_nothing(client, district, projects, django_capture_on_commit_callbacks):
    round_ = open_round(client, district, django_capture_on_commit_callbacks)
    report = reports_of(round_, district)[0]
    urls = [
        report_page(report),
        reverse("workflows:monitoring_round", args=[round_.pk]),
        reverse("workflows:monitoring_round_xlsx", args=[round_.pk]),
        reverse("workflows:monitoring_department", args=[round_.pk, district.dept_a.pk]),
    ]
    for user in (district.expert, district.deputy, district.agency_staff, district.sysadmin):
        client = login(client, user)
        assert client.get(ROUNDS).status_code == 403
        for url in urls:
            assert client.get(url).status_code == 404, (user, url)
        assert "绩效监控" not in text(client.get(reverse("workflows:inbox")))


def test_bureau_readers_see_every_report_and_summary(client, district, projects, django_capture_on_commit_callbacks):
    round_ = open_round(client, district, django_capture_on_commit_callbacks)
    for user in (district.supervisor, district.auditor):
        client = login(client, user)
        assert "绩效监控" in text(client.get(reverse("workflows:inbox")))
        for report in MonitoringReport.objects.filter(round=round_):
            page = client.get(report_page(report))
            assert page.status_code == 200
            assert 'data-testid="report-fill"' not in text(page)
        for dept in (district.dept_a, district.dept_b):
            url = reverse("workflows:monitoring_department", args=[round_.pk, dept.pk])
            assert client.get(url).status_code == 200


# -- the overview and the XLSX --------------------------------------------------------------------------


@pytest.fixture
def reviewed(client, district, projects, django_capture_on_commit_callbacks):
    """A's first report cleared green (600,000 spent), A's second disposed red (300,000
    spent, a red indicator), B's still issued."""
    round_ = open_round(client, district, django_capture_on_commit_callbacks)
    green, red = reports_of(round_, district, "a")
    staff, leader, finance = (login(client, u) for u in (district.staff_a, district.leader_a, district.finance))
    staff = login(client, district.staff_a)
    staff.post(act(green, "fill"), fill_data(green, submit=True))
    gte = next(r for r in approved_rows(red.project) if r.direction == "gte")
    staff.post(
        act(red, "fill"),
        fill_data(
            red,
            executed="300000.00",
            values={gte.name: "1"},
            submit=True,
            deviation_causes="征地拆迁滞后",
            measures="加快征地进度",
        ),
    )
    leader = login(client, district.leader_a)
    for report in (green, red):
        assert leader.post(act(report, "dept-review"), {"decision": "approve"}).status_code == 302
    finance = login(client, district.finance)
    assert finance.post(act(green, "review"), {"decision": "clear"}).status_code == 302
    assert finance.post(act(red, "review"), {"decision": "warn", "comment": "滞后"}).status_code == 302
    assert finance.post(act(red, "dispose"), {"disposal": "suspend", "reason": "暂停拨付，待整改"}).status_code == 302
    return round_, green, red, gte


def count(body: str, key: str) -> int:
    found = re.search(rf'data-count="{key}"><span class="n">(\d+)</span>', body)
    assert found, key
    return int(found.group(1))


def test_overview_counts_lights_by_department_and_lists_red_projects_with_causes(client, district, reviewed):
    round_, green, red, gte = reviewed

    body = text(login(client, district.finance).get(reverse("workflows:monitoring_round", args=[round_.pk])))

    assert (count(body, "total"), count(body, "red"), count(body, "green"), count(body, "none")) == (3, 1, 1, 1)
    red_section = html.unescape(body.split('data-testid="red-projects"')[1].split("</section>")[0])
    assert red.project.name in red_section and green.project.name not in red_section
    assert "征地拆迁滞后" in red_section
    assert gte.name in red_section and "指标完成进度滞后" in red_section
    assert "支出进度慢于时序进度" in red_section
    department_rows = re.findall(r'<tr data-department="(\d+)">(.*?)</tr>', body, re.S)
    assert [int(d) for d, _row in department_rows] == [district.dept_a.pk, district.dept_b.pk]
    # Σ executed 900,000 ÷ Σ budget 2,400,000 = 37.50 %; time pace 50.00 %; ratio 75.00 (yellow)
    pace = body.split('data-testid="district-pace"')[1].split("</section>")[0]
    assert re.search(r'data-value="executed">90.00<', pace)
    assert re.search(r'data-value="budget">240.00<', pace)
    assert 'data-value="execution_rate">37.50%<' in pace
    assert 'data-value="time_pace">50.00%<' in pace
    assert 'data-value="ratio">75.00%' in pace and 'data-light="yellow"' in pace


def test_overview_filters_the_counts_and_the_list(client, district, reviewed):
    round_, green, red, _gte = reviewed
    url = reverse("workflows:monitoring_round", args=[round_.pk])
    client = login(client, district.supervisor)

    red_only = text(client.get(url, {"light": "red"}))
    dept_b = text(client.get(url, {"department": district.dept_b.pk}))
    disposed = text(client.get(url, {"status": "disposed"}))

    assert count(red_only, "total") == 1
    assert re.findall(r'<tr data-report="(\d+)">', red_only.split('data-testid="reports"')[1]) == [str(red.pk)]
    assert (count(dept_b, "total"), count(dept_b, "none")) == (1, 1)
    assert green.project.name not in dept_b.split('data-testid="reports"')[1]
    assert count(disposed, "red") == 1 and count(disposed, "total") == 1


def test_department_summary_shows_its_reports_lights_and_pace(client, district, reviewed):
    round_, green, red, _gte = reviewed

    body = text(
        login(client, district.leader_a).get(
            reverse("workflows:monitoring_department", args=[round_.pk, district.dept_a.pk])
        )
    )

    assert (count(body, "red"), count(body, "green")) == (1, 1)
    assert green.project.name in body and red.project.name in body
    pace = body.split('data-testid="department-pace"')[1].split("</section>")[0]
    assert 'data-value="execution_rate">37.50%<' in pace


def test_xlsx_holds_the_overview_the_red_projects_and_the_report_list(client, district, reviewed):
    from openpyxl import load_workbook

    round_, green, red, gte = reviewed

    response = login(client, district.finance).get(reverse("workflows:monitoring_round_xlsx", args=[round_.pk]))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(BytesIO(response.content))
    assert book.sheetnames == ["总览", "红灯项目", "报告清单"]
    overview = book["总览"]
    assert overview["A1"].value == round_.title
    assert overview["A4"].value == "纳入测算的报告数"
    assert [c.value for c in overview[5]][:9] == [2, 900000, 90, 2400000, 240, "37.50%", "50.00%", "75.00%", "黄灯"]
    assert [c.value for c in overview[7]][:6] == ["报告数", "红灯", "黄灯", "绿灯", "蓝灯", "无法判定"]
    assert [c.value for c in overview[8]][:6] == [3, 1, 0, 1, 0, 1]
    department_header = [c.value for c in overview[13]]
    assert department_header[:3] == ["预算部门编码", "预算部门", "报告数"]
    assert [c.value for c in overview[14]][:8] == ["A01", "区农水局", 2, 1, 0, 1, 0, 0]
    red_sheet = book["红灯项目"]
    assert red_sheet.max_row == 2
    row = [c.value for c in red_sheet[2]]
    assert row[:4] == ["区农水局", red.project.code, red.project.name, "红灯"]
    assert gte.name in row[5] and "征地拆迁滞后" == row[6]
    listing = book["报告清单"]
    assert listing.max_row == 4
    assert listing["A1"].value == "预算部门" and listing["H1"].value == "截至期末执行数（万元）"
    by_code = {r[1].value: [c.value for c in r] for r in listing.iter_rows(min_row=2)}
    assert by_code[green.project.code][6:8] == [600000, 60]
    assert by_code[red.project.code][3] == "已处置"
    assert by_code[red.project.code][16] == "暂停项目"


def test_xlsx_is_the_own_department_only_when_asked_by_department_staff(client, district, reviewed):
    from openpyxl import load_workbook

    round_, _green, _red, _gte = reviewed

    response = login(client, district.staff_b).get(reverse("workflows:monitoring_round_xlsx", args=[round_.pk]))

    listing = load_workbook(BytesIO(response.content))["报告清单"]
    assert [r[0].value for r in listing.iter_rows(min_row=2)] == ["区住房建设局"]


# -- query counts ---------------------------------------------------------------------------------------


def _queries(client, url) -> int:
    client.get(url)  # warm the per-process caches
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_overview_and_summary_take_the_same_queries_when_reports_grow(client, district):
    first = [executing(district, "a"), executing(district, "b")]
    due = timezone.now() + timedelta(days=10)
    opened = monitoring_round_open(actor=district.finance, fiscal_year=2021, end_month=6, due_at=due)
    round_ = opened.round

    def fill(reports):
        for i, report in enumerate(reports):
            rows = approved_rows(report.project)
            report_save(
                report=report,
                actor=district.staff_a if report.project.department_id == district.dept_a.pk else district.staff_b,
                executed="300000" if i % 2 else "700000",
                indicators=[{"target_row": r.pk, "value": "1", "progress": "not_achieved"} for r in rows],
            )

    fill(opened.created)
    client = login(client, district.finance)
    urls = [
        reverse("workflows:monitoring_round", args=[round_.pk]),
        reverse("workflows:monitoring_department", args=[round_.pk, district.dept_a.pk]),
        reverse("workflows:monitoring_rounds"),
    ]
    few = [_queries(client, url) for url in urls]
    assert len(first) == 2

    for dept in ("a", "a", "b", "b", "a"):
        executing(district, dept)
    more = monitoring_round_open(actor=district.finance, fiscal_year=2021, end_month=6, due_at=due)
    assert more.round == round_ and len(more.created) == 5
    fill(more.created)
    many = [_queries(client, url) for url in urls]

    assert many == few
    assert MonitoringReport.objects.filter(round=round_, light=Light.RED).count() == 7
