"""Results application 结果应用 on the screens and the API: the project form (new, edit, and its
live lookup) and the project page show the last grade of the project a submission continues
and its budget recommendation, and warn of a similar one-off project graded 差 — only ever
from the project's own department."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from processes.states import ProjectStage
from tests.api.support import client_for
from tests.processes.test_evaluation import accepted, launch
from tests.processes.test_results_application import earlier, self_graded

pytestmark = pytest.mark.django_db

RESULTS_URL = "/projects/results/"


def text(response) -> str:
    return response.content.decode()


def project_data(**overrides) -> dict:
    return {
        "fiscal_year": "2022",
        "code": "2022-NS-001",
        "name": "农田水利设施维护",
        "category": "civil_affairs",
        "recurrence": "recurring",
        "requested_amount": "3500000.00",
        "overall_goal": "",
        **overrides,
    }


@pytest.fixture
def graded_fair(district):
    """Department A's 2021 project NS-100, executed and self-evaluated 中 through the real
    services; and its 2022 continuation, a draft."""
    last_year = district.project(ProjectStage.EXECUTING, code="NS-100", name="农田水利设施维护")
    launch(district, year=2021)
    se = accepted(district, last_year, km="7", band="partly", pct="60")
    assert se.grade == "fair"
    draft = district.project(fiscal_year=2022, code="NS-100", name="农田水利设施维护", recurrence="recurring")
    return last_year, draft


def test_edit_form_and_project_page_show_last_grade_when_the_code_was_graded_fair(client, district, graded_fair):
    last_year, draft = graded_fair
    client.force_login(district.staff_a)

    for url in (f"/projects/{draft.pk}/edit/", f"/projects/{draft.pk}/"):
        page = text(client.get(url))
        assert 'data-testid="last-result"' in page and "上年度评价结果" in page
        assert 'data-testid="last-grade"><strong>中</strong>' in page
        assert "压减预算 10%" in page and "2021" in page and "绩效自评" in page
        assert str(last_year.self_evaluation.score) in page
        assert 'data-testid="similar-failed"' not in page


def test_project_page_shows_last_grade_to_the_finance_officer_taking_it_in(client, district, graded_fair):
    _, draft = graded_fair
    client.force_login(district.finance)
    assert "压减预算 10%" in text(client.get(f"/projects/{draft.pk}/"))


def test_project_page_shows_nothing_when_there_is_no_earlier_project(client, district):
    project = district.project(fiscal_year=2022, code="NEW-001")
    client.force_login(district.staff_a)

    page = text(client.get(f"/projects/{project.pk}/"))
    form = text(client.get(f"/projects/{project.pk}/edit/"))

    for shown in (page, form):
        assert "上年度评价结果" not in shown and 'data-testid="similar-failed"' not in shown


def test_new_form_shows_last_grade_after_a_validation_round_trip(client, district):
    self_graded(district, earlier(district, year=2021, code="NS-200", recurrence="recurring"), "excellent")
    client.force_login(district.staff_a)

    assert "上年度评价结果" not in text(client.get("/projects/new/"))
    response = client.post("/projects/new/", project_data(code="NS-200", requested_amount=""))

    assert response.status_code == 400
    assert "上年度评价结果" in text(response) and "优先保障" in text(response)


def test_forms_warn_of_a_similar_one_off_graded_poor_and_still_save(client, district):
    failed = earlier(district, year=2020, code="YC-2020-07", name="2020年社区养老服务补贴")
    self_graded(district, failed, "poor")
    client.force_login(district.staff_a)

    response = client.post("/projects/new/", project_data(code="YC-2022-01", name="2022年社区养老服务补贴"))

    assert response.status_code == 302  # a warning, not a refusal
    page = text(client.get(response["Location"]))
    assert 'data-testid="similar-failed"' in page
    assert "2020 年度 · YC-2020-07 2020年社区养老服务补贴 · 绩效自评等次：差" in page
    edit = text(client.get(response["Location"] + "edit/"))
    assert "YC-2020-07" in edit and "警示" in edit


@pytest.mark.parametrize(("recurrence", "name"), [("recurring", "社区养老服务补贴"), ("one_off", "道路桥梁维修工程")])
def test_no_warning_when_the_poor_project_was_recurring_or_the_name_differs(client, district, recurrence, name):
    self_graded(district, earlier(district, year=2020, name=name, recurrence=recurrence), "poor")
    client.force_login(district.staff_a)

    response = client.get(RESULTS_URL, {"fiscal_year": 2022, "name": "社区养老服务补贴", "category": "civil_affairs"})

    assert response.status_code == 200 and "similar-failed" not in text(response)


def test_live_lookup_shows_last_grade_and_warning_as_the_form_is_typed(client, district):
    self_graded(district, earlier(district, year=2021, code="NS-300", recurrence="recurring"), "good")
    self_graded(district, earlier(district, year=2020, name="社区养老服务补贴"), "poor")
    client.force_login(district.staff_a)

    response = client.get(
        RESULTS_URL, {"fiscal_year": "2022", "code": "NS-300", "name": "社区养老服务补助", "category": "civil_affairs"}
    )

    assert response.status_code == 200
    assert "保持预算规模" in text(response) and "similar-failed-item" in text(response)
    assert "<html" not in text(response)  # a fragment for the form's script
    nothing = client.get(RESULTS_URL, {"fiscal_year": "x", "code": "NS-300"})
    assert nothing.status_code == 200 and text(nothing).strip() == ""


def test_form_page_loads_the_live_lookup_script(client, district):
    client.force_login(district.staff_a)
    page = text(client.get("/projects/new/"))
    assert f'data-url="{RESULTS_URL}"' in page and "js/results_application.js" in page


def test_another_departments_history_is_never_shown(client, district):
    self_graded(district, earlier(district, year=2021, code="NS-400", dept="b", recurrence="recurring"), "fair")
    self_graded(district, earlier(district, year=2020, name="社区养老服务补贴", dept="b"), "poor")
    project = district.project(fiscal_year=2022, code="NS-400", name="社区养老服务补贴", category="civil_affairs")
    client.force_login(district.staff_a)

    for response in (
        client.get(f"/projects/{project.pk}/"),
        client.get(f"/projects/{project.pk}/edit/"),
        client.get(
            RESULTS_URL,
            {"fiscal_year": 2022, "code": "NS-400", "name": "社区养老服务补贴", "category": "civil_affairs"},
        ),
    ):
        assert response.status_code == 200
        assert "上年度评价结果" not in text(response) and "similar-failed" not in text(response)
    body = client_for(district.staff_a).get(f"/api/projects/{project.pk}/").json()
    assert body["last_result"] is None and body["similar_failed"] == []


def test_live_lookup_is_for_department_users_only(client, district):
    assert client.get(RESULTS_URL).status_code == 302  # to the login page
    client.force_login(district.finance)
    assert client.get(RESULTS_URL, {"fiscal_year": 2022, "code": "X"}).status_code == 403


def test_project_page_statements_stay_flat_when_earlier_years_grow(client, district):
    project = district.project(fiscal_year=2022, code="NS-500", name="社区养老服务补贴", category="civil_affairs")
    self_graded(district, earlier(district, year=2021, code="NS-500", recurrence="recurring"), "fair")
    self_graded(district, earlier(district, year=2020, name="社区养老服务补贴"), "poor")
    client.force_login(district.finance)
    client.get(f"/projects/{project.pk}/")  # warm the permission cache
    with CaptureQueriesContext(connection) as few:
        assert text(client.get(f"/projects/{project.pk}/")).count("similar-failed-item") == 1

    for year in (2015, 2016, 2017, 2018, 2019):
        self_graded(district, earlier(district, year=year, code="NS-500", recurrence="recurring"), "good")
        self_graded(district, earlier(district, year=year, name=f"{year}年社区养老服务补贴"), "poor")
    with CaptureQueriesContext(connection) as many:
        assert text(client.get(f"/projects/{project.pk}/")).count("similar-failed-item") == 6

    assert len(many.captured_queries) == len(few.captured_queries)


# -- the API ------------------------------------------------------------------------------------


def test_api_detail_has_last_result_and_similar_failed_when_graded(district, graded_fair):
    last_year, draft = graded_fair
    self_graded(district, earlier(district, year=2020, name="农田水利设施维护工程", category="infrastructure"), "poor")

    body = client_for(district.staff_a).get(f"/api/projects/{draft.pk}/").json()

    assert body["last_result"] == {
        "project": last_year.pk,
        "fiscal_year": 2021,
        "code": "NS-100",
        "name": "农田水利设施维护",
        "grade": "fair",
        "grade_display": "中",
        "score": str(last_year.self_evaluation.score),
        "grade_source": "self",
        "grade_source_display": "绩效自评",
        "recommendation": "压减预算 10%",
        "recommendation_action": "cut",
        "cut_percent": "10.00",
    }
    [failed] = body["similar_failed"]
    assert (failed["fiscal_year"], failed["grade"], failed["recommendation_action"]) == (2020, "poor", "cancel")
    assert 0.6 <= failed["similarity"] < 1


def test_api_detail_has_no_history_for_an_agency_reviewing_the_project(district):
    from processes.results import results_visible_to

    project = district.project(fiscal_year=2022, code="NS-600")
    assert not results_visible_to(district.agency_staff, project)
    body = client_for(district.finance).get(f"/api/projects/{project.pk}/").json()
    assert body["last_result"] is None and body["similar_failed"] == []


def test_schema_documents_last_result_and_similar_failed(db):
    schema = client_for().get("/api/schema/", {"format": "json"}).json()
    components = schema["components"]["schemas"]
    detail = next(c for name, c in components.items() if "last_result" in c.get("properties", {}))

    assert detail["properties"]["similar_failed"]["type"] == "array"
    assert "similarity" in components["SimilarFailed"]["properties"]
    assert {"grade", "grade_source", "recommendation", "cut_percent"} <= set(components["PastResult"]["properties"])
    assert detail["properties"]["last_result"]["nullable"] is True
    assert detail["properties"]["last_result"]["allOf"] == [{"$ref": "#/components/schemas/PastResult"}]
