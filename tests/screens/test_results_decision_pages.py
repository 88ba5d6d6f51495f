"""结果应用 on the screens and the API (decision 0025): the project page's proposal and the
finance officer's accept / override (reason required: a form error and an API 400), the
year's ledger (screen, XLSX, API) with figures computed from the data, the annual report's
§三, visibility per role, and English rendering."""

from decimal import Decimal
from io import BytesIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from processes.models import ResultsDecision
from processes.services.results import results_decide
from processes.states import ProjectStage
from tests.api.support import client_for
from tests.processes.test_results_decision import continuing, open_rectification

pytestmark = pytest.mark.django_db

LEDGER = "/results/ledger/2022/"
API_LEDGER = "/api/results/ledger/2022/"


def text(response) -> str:
    return response.content.decode()


def decide_url(project) -> str:
    return f"/projects/{project.pk}/results-decision/"


def api_url(project) -> str:
    return f"/api/projects/{project.pk}/results-decision/"


@pytest.fixture
def year(district):
    """Four 2022 requests continuing 2021 projects: 中 (A), 差 (A), 优 blocked by an open
    rectification (A), 中 (B); the first accepted, the second overridden."""
    _, fair = continuing(district, "fair", code="Y-1", amount="1000000.00")
    _, poor = continuing(district, "poor", code="Y-2", amount="300000.00")
    past, excellent = continuing(district, "excellent", code="Y-3", amount="200000.00")
    open_rectification(district, past, title="专项资金挪用整改")
    _, other = continuing(district, "fair", code="Y-4", amount="500000.00", dept="b")
    results_decide(project=fair, actor=district.finance, accept=True)
    results_decide(project=poor, actor=district.finance, accept=False, amount="120000", reason="调整用途为社区服务")
    return fair, poor, excellent, other


# -- the project page --------------------------------------------------------------------------


def test_project_page_shows_the_fair_proposal_and_the_form_when_the_finance_officer_opens_it(client, district):
    _, project = continuing(district, "fair", amount="1234567.89")
    client.force_login(district.finance)

    page = text(client.get(f"/projects/{project.pk}/"))

    assert 'data-testid="results-decision"' in page and "压减预算 10%" in page
    assert "1,111,111.10" in page and "123,456.79" in page and 'data-testid="rd-form"' in page


def test_department_sees_the_proposal_without_the_form(client, district):
    _, project = continuing(district, "poor")
    client.force_login(district.staff_a)
    page = text(client.get(f"/projects/{project.pk}/"))
    assert 'data-testid="rd-flagged"' in page and 'data-testid="rd-form"' not in page
    assert client.post(decide_url(project), {"decision": "accept"}).status_code == 403


def test_accept_from_the_page_records_the_decision_when_the_officer_accepts(client, district):
    _, project = continuing(district, "fair", amount="1000000.00")
    client.force_login(district.finance)

    response = client.post(decide_url(project), {"decision": "accept"})

    assert response.status_code == 302
    decision = ResultsDecision.objects.get(project=project)
    assert decision.status == "accepted" and decision.decided_amount == Decimal("900000.00")
    page = text(client.get(f"/projects/{project.pk}/"))
    assert 'data-testid="rd-decided"><strong>900,000.00</strong>' in page and "采纳建议" in page


def test_override_without_a_reason_is_a_form_error_when_posted(client, district):
    _, project = continuing(district, "fair")
    client.force_login(district.finance)

    response = client.post(decide_url(project), {"decision": "override", "amount": "1000"})

    assert response.status_code == 400 and "不采纳建议时必须填写理由。" in text(response)
    assert not ResultsDecision.objects.exists()


def test_accepting_blocked_priority_is_refused_with_the_rectification_named(client, district):
    past, project = continuing(district, "excellent")
    open_rectification(district, past, title="专项资金挪用整改")
    client.force_login(district.finance)

    page = text(client.get(f"/projects/{project.pk}/"))
    assert 'data-testid="rd-block"' in page and "专项资金挪用整改" in page
    response = client.post(decide_url(project), {"decision": "accept"})

    assert response.status_code == 409 and "不能采纳优先保障建议" in text(response)
    assert not ResultsDecision.objects.exists()


def test_project_page_renders_the_proposal_in_english_when_the_language_is_english(client, district):
    _, project = continuing(district, "fair")
    client.force_login(district.finance)
    client.post("/accounts/language/", {"language": "en", "next": "/"})
    page = text(client.get(f"/projects/{project.pk}/"))
    assert "Use of results" in page and "Cut the budget by 10%" in page and "Proposed amount" in page


# -- the API ------------------------------------------------------------------------------------


def test_api_override_without_a_reason_is_400_and_with_one_is_201(district):
    _, project = continuing(district, "fair", amount="1000000.00")
    api = client_for(district.finance)

    proposal = api.get(api_url(project)).json()
    assert (proposal["status"], proposal["proposed_amount"], proposal["recommendation"]) == (
        "proposed",
        "900000.00",
        "cut",
    )
    refused = api.post(api_url(project), {"accept": False, "amount": "950000"}, format="json")
    assert refused.status_code == 400 and "reason" in refused.json()
    assert not ResultsDecision.objects.exists()

    done = api.post(api_url(project), {"accept": False, "amount": "950000", "reason": "刚性支出"}, format="json")
    assert done.status_code == 201
    assert (done.json()["status"], done.json()["decided_amount"], done.json()["reason"]) == (
        "overridden",
        "950000.00",
        "刚性支出",
    )
    again = api.post(api_url(project), {"accept": True}, format="json")
    assert again.status_code == 409


def test_api_refuses_the_decision_to_a_department_user(district):
    _, project = continuing(district, "fair")
    assert client_for(district.staff_a).post(api_url(project), {"accept": True}, format="json").status_code == 403
    assert client_for(district.staff_a).get(api_url(project)).status_code == 200
    assert client_for(district.staff_b).get(api_url(project)).status_code == 404


def test_api_refuses_accepting_blocked_priority_with_409(district):
    past, project = continuing(district, "excellent")
    open_rectification(district, past)
    api = client_for(district.finance)
    assert "尚未验收销号" in api.get(api_url(project)).json()["blocked_by"]
    assert api.post(api_url(project), {"accept": True}, format="json").status_code == 409


# -- the ledger ---------------------------------------------------------------------------------


def test_ledger_screen_shows_rows_and_the_cut_computed_from_the_decisions(client, district, year):
    client.force_login(district.finance)

    page = text(client.get(LEDGER))

    assert page.count('data-testid="ledger-row"') == 4
    # cut: 1,000,000 − 900,000 (accepted) + 300,000 − 120,000 (overridden) = 280,000 元 = 28.00 万元
    assert "因评价结果核减预算 28.00 万元，涉及 2 个项目。" in page
    assert "调整用途为社区服务" in page and "整改未验收" in page
    filtered = text(client.get(LEDGER, {"grade": "fair"}))
    assert filtered.count('data-testid="ledger-row"') == 2
    by_dept = text(client.get(LEDGER, {"department": district.dept_b.pk}))
    assert by_dept.count('data-testid="ledger-row"') == 1


def test_department_sees_only_its_own_rows_whatever_the_filter(client, district, year):
    client.force_login(district.staff_b)
    page = text(client.get(LEDGER, {"department": district.dept_a.pk}))
    assert page.count('data-testid="ledger-row"') == 1 and "Y-4" in page and "Y-1" not in page
    body = client_for(district.staff_b).get(API_LEDGER, {"department": district.dept_a.pk}).json()
    assert [i["code"] for i in body["items"]] == ["Y-4"]
    sheet = load_workbook(BytesIO(client.get(LEDGER + "xlsx/", {"department": district.dept_a.pk}).content)).active
    assert [r[1] for r in list(sheet.iter_rows(values_only=True))[5:] if r[0]] == ["Y-4"]


@pytest.mark.parametrize("who", ["agency_staff", "expert"])
def test_ledger_is_refused_to_reviewers_outside_the_bureau_and_departments(client, district, year, who):
    client.force_login(getattr(district, who))
    assert client.get(LEDGER).status_code == 403
    assert client_for(getattr(district, who)).get(API_LEDGER).status_code == 403


def test_ledger_api_totals_and_items_come_from_the_data(district, year):
    body = client_for(district.supervisor).get(API_LEDGER).json()

    assert (body["projects"], body["decided"], body["overridden"], body["cut"], body["cut_projects"]) == (
        4,
        2,
        1,
        "280000.00",
        2,
    )
    items = {i["code"]: i for i in body["items"]}
    assert items["Y-1"]["proposed"] == "900000.00" and items["Y-1"]["decided"] == "900000.00"
    assert items["Y-2"]["overridden"] and items["Y-2"]["reason"] == "调整用途为社区服务"
    assert items["Y-3"]["decided"] is None and "专项资金挪用整改" in items["Y-3"]["blocked_by"]
    assert body["grades"] == {"excellent": 1, "good": 0, "fair": 2, "poor": 1}


def test_ledger_xlsx_has_the_totals_and_a_row_per_project(client, district, year):
    client.force_login(district.finance)
    response = client.get(LEDGER + "xlsx/")
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.content)).active
    rows = [r for r in sheet.iter_rows(values_only=True)]
    assert rows[2][:3] == (4, 2, 1) and rows[2][6] == 28.0
    data = [r for r in rows[5:] if r[0]]
    assert [r[1] for r in data] == ["Y-1", "Y-2", "Y-3", "Y-4"]
    assert data[1][10] == "是" and data[1][11] == "调整用途为社区服务"


def test_ledger_screen_costs_the_same_queries_when_rows_grow(client, district, year):
    client.force_login(district.finance)
    client.get(LEDGER)
    with CaptureQueriesContext(connection) as few:
        client.get(LEDGER)
    for n in range(5, 12):
        _, p = continuing(district, ("fair", "poor", "excellent", "good")[n % 4], code=f"Y-{n}")
        if n % 2:
            results_decide(project=p, actor=district.finance, accept=False, amount="1", reason="理由")
    with CaptureQueriesContext(connection) as many:
        assert text(client.get(LEDGER)).count('data-testid="ledger-row"') == 11
    assert len(many.captured_queries) == len(few.captured_queries)


def test_ledger_renders_in_english_when_the_language_is_english(client, district, year):
    client.force_login(district.finance)
    client.post("/accounts/language/", {"language": "en", "next": "/"})
    page = text(client.get(LEDGER))
    assert "Results application ledger" in page and "Budget cut because of evaluation results" in page


# -- the annual report --------------------------------------------------------------------------


def test_annual_report_counts_the_grades_applied_to_the_next_budget(client, district, year):
    from reports.figures import annual_report, report_json

    figures = report_json(annual_report(2021))["results_application"]
    assert figures == {
        "budget_year": 2022,
        "projects": 4,
        "decided": 2,
        "overridden": 1,
        "cut": "280000.00",
        "cut_projects": 2,
        "priority": 1,
        "cancel": 1,
    }
    client.force_login(district.finance)
    page = text(client.get("/reports/2021/"))
    assert "因评价结果核减预算 28.00 万元，涉及 2 个项目" in page and 'data-testid="line-results-application"' in page


def test_stage_after_budget_has_no_form(client, district):
    _, project = continuing(district, "fair", stage=ProjectStage.BUDGETED)
    client.force_login(district.finance)
    assert 'data-testid="results-decision"' not in text(client.get(f"/projects/{project.pk}/"))


def test_intake_task_page_shows_the_proposal_to_the_finance_officer(client, district):
    from viewflow.workflow.models import Task

    _, project = continuing(district, "fair", amount="1000000.00")
    task = Task.objects.get(
        process__projectprocess__project=project, status="NEW", owner_permission="processes.intake_project"
    )
    client.force_login(district.finance)

    page = text(client.get(f"/tasks/{task.pk}/"))

    assert 'data-testid="results-decision"' in page and "900,000.00" in page and 'data-testid="rd-form"' in page


def test_annual_report_workbook_has_the_results_application_figures(client, district, year):
    client.force_login(district.finance)
    response = client.get("/reports/2021/xlsx/")
    sheet = load_workbook(BytesIO(response.content))["汇总"]
    figures = {(r[0], r[1]): r[2] for r in sheet.iter_rows(values_only=True) if r[0]}
    assert figures[("评价结果应用（2022 年度预算）", "因评价结果核减预算")] == 28.0
    assert figures[("评价结果应用（2022 年度预算）", "核减项目数")] == 2
