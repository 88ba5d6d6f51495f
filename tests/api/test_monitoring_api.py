"""The monitoring API (DESIGN §3.4, §6): a round opened as a background job (202), the
whole report path as real role users (save, submit, leader, finance clears; a red report
warned and disposed with a budget adjustment), errors keyed as the service keys them, the
overview's figures, visibility (another department 404 and absent from lists, experts
nothing), wrong role 403, acting twice 409, and list query counts."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from processes.models import BudgetProject, Job, MonitoringReport, TargetRow
from processes.services.monitoring import approved_rows, report_save
from processes.states import ProjectStage, ReportStatus
from workflows.flows import MonitoringFlow
from workflows.selectors import task_inbox_for
from workflows.services import monitoring_round_open, project_act

from .support import client_for

pytestmark = pytest.mark.django_db

ROUNDS = "/api/monitoring/rounds/"
REPORTS = "/api/monitoring/reports/"


def url(report, action=None) -> str:
    return f"{REPORTS}{report.pk}/" + (f"{action}/" if action else "")


def executing(district, dept="a") -> BudgetProject:
    project = district.project(ProjectStage.BUDGETED, dept=dept)
    return project_act(project=project, actor=district.finance, action="start_execution")


@pytest.fixture
def projects(district):
    """Two executing projects of department A and one of B."""
    return [executing(district, "a"), executing(district, "a"), executing(district, "b")]


def due(days=20) -> str:
    return (timezone.now() + timedelta(days=days)).isoformat()


def opened(district, capture, **body):
    """The finance section opens a Jan–Jun 2021 round through the API; the job runs."""
    with capture(execute=True):
        response = client_for(district.finance).post(
            ROUNDS, {"fiscal_year": 2021, "end_month": 6, "due_at": due(), **body}, format="json"
        )
    assert response.status_code == 202, response.json()
    return response


@pytest.fixture
def round_id(district, projects, django_capture_on_commit_callbacks):
    response = opened(district, django_capture_on_commit_callbacks)
    job = client_for(district.finance).get(response["Location"]).json()
    assert job["status"] == "succeeded", job
    return job["result"]["round"]


def reports(round_id, district, dept="a") -> list[MonitoringReport]:
    department = district.dept_a if dept == "a" else district.dept_b
    return list(
        MonitoringReport.objects.filter(round_id=round_id, project__department=department).order_by("project__code")
    )


def body(report, *, executed="600000.00", values=None, **extra) -> dict:
    """A complete report: every approved row on pace (green) unless ``values`` says otherwise."""
    values = values or {}
    defaults = {"gte": "6.25", "lte": "120"}
    indicators = []
    for row in approved_rows(report.project):
        item = {"target_row": row.pk, "likelihood": "certain"}
        if row.quantitative:
            item["value"] = values.get(row.name, defaults.get(row.direction, "1"))
        else:
            item["progress"] = values.get(row.name, "achieved")
        indicators.append(item)
    return {
        "budget": "1200000.00",
        "executed": executed,
        "expected_full_year": "1200000.00",
        "indicators": indicators,
        **extra,
    }


def ok(response, code=200) -> dict:
    assert response.status_code == code, response.json()
    return response.json()


# -- opening a round ----------------------------------------------------------------------------


def test_round_opens_as_a_job_and_each_department_gets_its_fill_tasks(
    district, projects, django_capture_on_commit_callbacks
):
    response = opened(district, django_capture_on_commit_callbacks, title="上半年监控")

    job = Job.objects.get(kind="monitoring_round_open")
    assert response["Location"] == f"/api/jobs/{job.pk}/"
    assert response.json()["page"] == f"/jobs/{job.pk}/"
    done = ok(client_for(district.finance).get(response["Location"]))
    assert done["status"] == "succeeded" and done["result"]["created"] == 3
    round_id = done["result"]["round"]
    listed = ok(client_for(district.finance).get(ROUNDS))["results"]
    assert [(r["id"], r["title"], r["reports"], r["months"]) for r in listed] == [(round_id, "上半年监控", 3, 6)]
    for staff, dept in ((district.staff_a, "a"), (district.staff_b, "b")):
        tasks = [t for t in task_inbox_for(staff) if t.flow_task == MonitoringFlow.fill]
        assert sorted(t.process.data["report"] for t in tasks) == [r.pk for r in reports(round_id, district, dept)]
    mine = ok(client_for(district.staff_b).get(ROUNDS))["results"]
    assert [(r["id"], r["reports"]) for r in mine] == [(round_id, 1)]


def test_round_open_is_refused_at_once_when_input_is_wrong(district, projects):
    finance = client_for(district.finance)

    past = finance.post(ROUNDS, {"fiscal_year": 2021, "end_month": 6, "due_at": due(-1)}, format="json")
    order = finance.post(
        ROUNDS, {"fiscal_year": 2021, "start_month": 7, "end_month": 3, "due_at": due()}, format="json"
    )
    draft = district.project(ProjectStage.DRAFT)
    chosen = finance.post(
        ROUNDS,
        {"fiscal_year": 2021, "end_month": 6, "due_at": due(), "project_ids": [projects[0].pk, draft.pk]},
        format="json",
    )
    empty_year = finance.post(ROUNDS, {"fiscal_year": 2030, "end_month": 6, "due_at": due()}, format="json")

    assert past.status_code == 400 and past.json()["due_at"] == ["填报截止时间必须晚于现在。"]
    assert order.status_code == 400 and order.json()["end_month"] == ["截止月份不能早于起始月份。"]
    assert chosen.status_code == 400 and chosen.json()["projects"] == ["所选项目中有 1 个不是 2021 年度执行中的项目。"]
    assert empty_year.status_code == 400 and "fiscal_year" in empty_year.json()
    assert not Job.objects.exists()


def test_round_open_is_403_when_user_is_not_the_finance_section(district, projects):
    for user in (district.supervisor, district.staff_a, district.leader_a, district.expert):
        response = client_for(user).post(ROUNDS, {"fiscal_year": 2021, "end_month": 6, "due_at": due()}, format="json")
        assert response.status_code == 403, user
    assert not Job.objects.exists()


# -- the whole path -----------------------------------------------------------------------------------


def test_report_is_cleared_when_staff_leader_and_finance_act_through_the_api(district, round_id):
    report = reports(round_id, district)[0]
    staff, leader, finance = (client_for(u) for u in (district.staff_a, district.leader_a, district.finance))

    detail = ok(staff.get(url(report)))
    assert (detail["status"], detail["editable"], detail["budget"]) == ("issued", True, "1200000.00")
    assert [r["name"] for r in detail["target_rows"]] == ["新建灌溉渠道长度", "工程完工时间", "农田灌溉条件改善"]
    saved = ok(staff.put(url(report), {**body(report), "revision": detail["revision"]}, format="json"))
    assert (saved["light"], saved["spending_light"], saved["spending_rate"]) == ("green", "green", "100.00")
    assert saved["revision"] == detail["revision"] + 1
    gte = saved["indicators"][0]
    assert (gte["name"], gte["value"], gte["rate"], gte["light"], gte["reason"]) == (
        "新建灌溉渠道长度",
        "6.2500",
        "100.00",
        "green",
        "",
    )
    assert ok(staff.post(url(report, "submit")))["status"] == "submitted"
    passed = ok(leader.post(url(report, "dept-review"), {"approve": True, "comment": "同意"}, format="json"))
    assert (passed["status"], passed["leader_comment"]) == ("dept_approved", "同意")
    cleared = ok(finance.post(url(report, "review"), {"decision": "clear"}, format="json"))
    assert cleared["status"] == "cleared"
    assert BudgetProject.objects.get(pk=report.project_id).executed_amount == Decimal("600000.00")


def test_red_report_is_warned_and_disposed_with_a_budget_adjustment(district, round_id):
    report = reports(round_id, district)[1]
    staff, leader, finance = (client_for(u) for u in (district.staff_a, district.leader_a, district.finance))

    ok(staff.put(url(report), body(report, executed="300000.00", values={"新建灌溉渠道长度": "1"}), format="json"))
    incomplete = staff.post(url(report, "submit"))
    assert incomplete.status_code == 400
    assert incomplete.json()["deviation_causes"] == ["出现红灯或黄灯时，请说明偏差原因和纠偏措施。"]
    saved = ok(
        staff.put(
            url(report),
            {
                "deviation_causes": "征地拆迁滞后",
                "measures": "加快征地进度",
                "adjustment_requested": True,
                "proposed_amount": "800000",
            },
            format="json",
        )
    )
    assert (saved["light"], saved["spending_reason"]) == ("red", "支出进度慢于时序进度")
    assert saved["indicators"][0]["reason"] == "指标完成进度滞后"
    assert saved["executed"] == "300000.00"  # left out: kept
    ok(staff.post(url(report, "submit")))
    ok(leader.post(url(report, "dept-review"), {"approve": True}, format="json"))
    no_comment = finance.post(url(report, "review"), {"decision": "warn"}, format="json")
    assert no_comment.status_code == 400 and no_comment.json()["comment"] == ["预警或退回时请填写审核意见。"]
    warned = ok(finance.post(url(report, "review"), {"decision": "warn", "comment": "滞后"}, format="json"))
    assert warned["status"] == "warned"

    missing = finance.post(url(report, "dispose"), {"disposal": "adjust", "reason": "调减"}, format="json")
    assert missing.status_code == 400 and missing.json()["new_amount"] == ["调整预算时请填写调整后金额。"]
    disposed = ok(
        finance.post(
            url(report, "dispose"), {"disposal": "adjust", "new_amount": "800000.00", "reason": "调减"}, format="json"
        )
    )
    assert (disposed["status"], disposed["disposal"], disposed["disposal_display"]) == (
        "disposed",
        "adjust",
        "调整预算",
    )
    assert (disposed["amount_before"], disposed["amount_after"]) == ("1200000.00", "800000.00")
    assert BudgetProject.objects.get(pk=report.project_id).adjusted_amount == Decimal("800000.00")


def test_leader_returns_the_report_with_a_reason(district, round_id):
    report = reports(round_id, district)[0]
    ok(client_for(district.staff_a).put(url(report), body(report), format="json"))
    ok(client_for(district.staff_a).post(url(report, "submit")))
    leader = client_for(district.leader_a)

    no_reason = leader.post(url(report, "dept-review"), {"approve": False}, format="json")
    returned = ok(leader.post(url(report, "dept-review"), {"approve": False, "comment": "数据有误"}, format="json"))

    assert no_reason.status_code == 400 and no_reason.json()["comment"] == ["请填写退回理由。"]
    assert (returned["status"], returned["editable"]) == ("issued", True)


# -- bad input ---------------------------------------------------------------------------------------


def test_save_names_every_problem_and_changes_nothing_when_input_is_bad(district, round_id):
    report = reports(round_id, district)[0]
    rows = approved_rows(report.project)
    gte, qualitative = rows[0], rows[2]
    foreign = TargetRow.objects.exclude(target_set__project=report.project).first()

    response = client_for(district.staff_a).put(
        url(report),
        {
            "expected_full_year": "-5",
            "executed": "六十万",
            "indicators": [
                {"target_row": gte.pk, "value": "很多"},
                {"target_row": qualitative.pk, "progress": "done", "likelihood": "maybe"},
                {"target_row": foreign.pk, "value": "1"},
            ],
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "expected_full_year": ["金额不能为负数。"],
        "executed": ["请填写数字金额（元）。"],
        f"indicators.{gte.pk}.value": ["完成值必须是数字。"],
        f"indicators.{qualitative.pk}.progress": ["请选择达成、部分达成或未达成。"],
        f"indicators.{qualitative.pk}.likelihood": ["请选择确定能、有可能或不可能。"],
        "indicators": [f"第 {foreign.pk} 号指标不是本项目已批复的绩效指标。"],
    }
    fresh = MonitoringReport.objects.get(pk=report.pk)
    assert (fresh.budget, fresh.executed, fresh.revision) == (Decimal("1200000.00"), None, report.revision)
    assert not fresh.indicators.exists()


def test_submit_names_what_is_missing(district, round_id):
    report = reports(round_id, district)[0]

    response = client_for(district.staff_a).post(url(report, "submit"))

    assert response.status_code == 400
    errors = response.json()
    assert errors["executed"] == ["提交前请填写此项。"]
    assert {k for k in errors if k.startswith("indicators.")} == {
        f"indicators.{row.pk}.{field}"
        for row in approved_rows(report.project)
        for field in ("value" if row.quantitative else "progress", "likelihood")
    }
    assert MonitoringReport.objects.get(pk=report.pk).status == ReportStatus.ISSUED


def test_save_answers_409_when_the_revision_is_stale(district, round_id):
    report = reports(round_id, district)[0]
    staff = client_for(district.staff_a)
    ok(staff.put(url(report), {"executed": "100", "revision": report.revision}, format="json"))

    stale = staff.put(url(report), {"executed": "200", "revision": report.revision}, format="json")

    assert stale.status_code == 409
    assert "已被他人修改" in stale.json()["detail"]
    assert MonitoringReport.objects.get(pk=report.pk).executed == Decimal("100.00")


# -- refusals ---------------------------------------------------------------------------------------


def test_each_action_is_403_when_the_role_is_wrong(district, round_id):
    report = reports(round_id, district)[0]
    cases = [
        (district.leader_a, "put", None, body(report)),
        (district.finance, "put", None, body(report)),
        (district.leader_a, "post", "submit", {}),
        (district.staff_a, "post", "dept-review", {"approve": True}),
        (district.staff_a, "post", "review", {"decision": "clear"}),
        (district.supervisor, "post", "review", {"decision": "clear"}),
        (district.auditor, "post", "dispose", {"disposal": "no_action", "reason": "x"}),
    ]
    for user, method, action, data in cases:
        response = getattr(client_for(user), method)(url(report, action), data, format="json")
        assert response.status_code == 403, (user, action, response.json())
    fresh = MonitoringReport.objects.get(pk=report.pk)
    assert (fresh.status, fresh.revision) == (ReportStatus.ISSUED, report.revision)


def test_acting_twice_is_409(district, round_id):
    report = reports(round_id, district)[0]
    staff, leader, finance = (client_for(u) for u in (district.staff_a, district.leader_a, district.finance))
    ok(staff.put(url(report), body(report), format="json"))
    ok(staff.post(url(report, "submit")))

    assert staff.post(url(report, "submit")).status_code == 409
    assert staff.put(url(report), body(report), format="json").status_code == 409
    ok(leader.post(url(report, "dept-review"), {"approve": True}, format="json"))
    assert leader.post(url(report, "dept-review"), {"approve": True}, format="json").status_code == 409
    ok(finance.post(url(report, "review"), {"decision": "clear"}, format="json"))
    again = finance.post(url(report, "review"), {"decision": "clear"}, format="json")
    assert again.status_code == 409
    # the engine's one refusal names the record and the action (issue 17)
    assert again.json()["detail"] == "绩效监控报告当前为「审核通过」，不能执行「审核通过」。"
    assert (
        finance.post(url(report, "dispose"), {"disposal": "no_action", "reason": "x"}, format="json").status_code == 409
    )


# -- visibility -------------------------------------------------------------------------------------------


def test_another_department_gets_404_and_sees_none_of_its_reports_listed(district, round_id):
    a_report = reports(round_id, district, "a")[0]
    b_report = reports(round_id, district, "b")[0]
    staff_b = client_for(district.staff_b)

    assert staff_b.get(url(a_report)).status_code == 404
    assert staff_b.put(url(a_report), body(a_report), format="json").status_code == 404
    assert staff_b.post(url(a_report, "submit")).status_code == 404
    assert client_for(district.leader_b).post(url(a_report, "dept-review"), {"approve": True}).status_code == 404
    listed = ok(staff_b.get(REPORTS))
    assert [r["id"] for r in listed["results"]] == [b_report.pk]
    assert ok(staff_b.get(REPORTS, {"department": district.dept_a.pk}))["results"] == []
    overview = ok(staff_b.get(f"{ROUNDS}{round_id}/overview/"))
    assert overview["total"] == 1
    assert [d["department"] for d in overview["departments"]] == [district.dept_b.pk]


def test_experts_and_other_outsiders_get_nothing(district, round_id):
    report = reports(round_id, district)[0]
    for user in (district.expert, district.deputy, district.agency_staff, district.sysadmin):
        client = client_for(user)
        assert ok(client.get(REPORTS))["results"] == []
        assert ok(client.get(ROUNDS))["results"] == []
        assert client.get(url(report)).status_code == 404
        assert client.get(f"{ROUNDS}{round_id}/").status_code == 404
        assert client.get(f"{ROUNDS}{round_id}/overview/").status_code == 404


def test_anonymous_is_refused(district, round_id):
    assert client_for().get(REPORTS).status_code in (401, 403)


def test_list_filters_by_round_light_status_and_department(district, round_id):
    green, red = reports(round_id, district, "a")
    staff = client_for(district.staff_a)
    ok(staff.put(url(green), body(green), format="json"))
    ok(staff.put(url(red), body(red, executed="100000"), format="json"))
    finance = client_for(district.finance)

    def ids(**params):
        return [r["id"] for r in ok(finance.get(REPORTS, params))["results"]]

    assert ids(round=round_id, light="red") == [red.pk]
    assert ids(light="green") == [green.pk]
    assert ids(department=district.dept_b.pk) == [reports(round_id, district, "b")[0].pk]
    assert ids(status="submitted") == []
    assert len(ids(status="issued")) == 3
    assert finance.get(REPORTS, {"light": "purple"}).status_code == 400


# -- the overview ----------------------------------------------------------------------------------------


def test_overview_counts_lights_by_department_red_causes_and_the_pace(district, round_id):
    green, red = reports(round_id, district, "a")
    staff = client_for(district.staff_a)
    ok(staff.put(url(green), body(green), format="json"))
    ok(
        staff.put(
            url(red),
            body(red, executed="300000.00", values={"新建灌溉渠道长度": "1"}, deviation_causes="征地拆迁滞后"),
            format="json",
        )
    )

    overview = ok(client_for(district.supervisor).get(f"{ROUNDS}{round_id}/overview/"))

    assert overview["round"]["id"] == round_id
    assert overview["total"] == 3
    assert overview["by_light"] == {"red": 1, "yellow": 0, "green": 1, "blue": 0, "none": 1}
    assert overview["by_status"]["issued"] == 3
    assert overview["pace"] == {
        "reports": 2,
        "executed": "900000.00",
        "budget": "2400000.00",
        "execution_rate": "37.50",
        "time_pace": "50.00",
        "ratio": "75.00",
        "light": "yellow",
        "light_display": "黄灯",
        "reason": "支出进度慢于时序进度",
    }
    a_row, b_row = overview["departments"]
    assert (a_row["code"], a_row["total"], a_row["by_light"]["red"], a_row["pace"]["ratio"]) == ("A01", 2, 1, "75.00")
    assert (b_row["code"], b_row["total"], b_row["by_light"]["none"], b_row["pace"]["reports"]) == ("B01", 1, 1, 0)
    [listed] = overview["red"]
    assert (listed["report"], listed["spending_reason"], listed["deviation_causes"]) == (
        red.pk,
        "支出进度慢于时序进度",
        "征地拆迁滞后",
    )
    assert listed["red_indicators"] == [
        {"target_row": approved_rows(red.project)[0].pk, "name": "新建灌溉渠道长度", "reason": "指标完成进度滞后"}
    ]
    filtered = ok(client_for(district.finance).get(f"{ROUNDS}{round_id}/overview/", {"light": "green"}))
    assert (filtered["total"], filtered["red"], filtered["pace"]["executed"]) == (1, [], "600000.00")


# -- query counts ------------------------------------------------------------------------------------------


def test_list_and_overview_take_the_same_queries_when_reports_grow(district):
    executing(district, "a")
    executing(district, "b")
    due_at = timezone.now() + timedelta(days=10)
    first = monitoring_round_open(actor=district.finance, fiscal_year=2021, end_month=6, due_at=due_at)
    round_ = first.round
    finance = client_for(district.finance)

    def fill(created):  # every report red, with red indicators
        for report in created:
            staff = district.staff_a if report.project.department_id == district.dept_a.pk else district.staff_b
            rows = approved_rows(report.project)
            report_save(
                report=report,
                actor=staff,
                executed="100000",
                indicators=[{"target_row": r.pk, "value": "1", "progress": "not_achieved"} for r in rows],
            )

    fill(first.created)
    urls = [REPORTS, f"{ROUNDS}{round_.pk}/overview/", ROUNDS]

    def queries() -> list[int]:
        counts = []
        for address in urls:
            finance.get(address)
            with CaptureQueriesContext(connection) as captured:
                ok(finance.get(address))
            counts.append(len(captured))
        return counts

    few = queries()
    for dept in ("a", "b", "a", "b"):
        executing(district, dept)
    more = monitoring_round_open(actor=district.finance, fiscal_year=2021, end_month=6, due_at=due_at)
    assert len(more.created) == 4
    fill(more.created)
    many = queries()

    assert ok(finance.get(REPORTS))["count"] == 6
    assert len(ok(finance.get(f"{ROUNDS}{round_.pk}/overview/"))["red"]) == 6
    assert many == few


# -- the actions the API offers (issue 17: read from the declared transitions) -----------------------------


def test_report_lists_the_leaders_two_decisions_only_to_its_leader_when_submitted(district, round_id):
    report = reports(round_id, district)[0]
    staff, leader = client_for(district.staff_a), client_for(district.leader_a)
    assert [a["name"] for a in ok(staff.get(url(report)))["available_actions"]] == ["submit"]
    ok(staff.put(url(report), body(report), format="json"))
    after = ok(staff.post(url(report, "submit")))
    assert after["available_actions"] == []  # the staff's answer: nothing more for them
    offered = ok(leader.get(url(report)))["available_actions"]
    assert [(a["name"], a["needs_reason"]) for a in offered] == [("dept_approve", False), ("dept_return", True)]
    assert ok(client_for(district.finance).get(url(report)))["available_actions"] == []
