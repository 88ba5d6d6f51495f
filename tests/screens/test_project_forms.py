"""Drafting and editing projects, and the project list's filters and query count."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from processes.models import BudgetProject
from processes.services.projects import project_update
from processes.states import ProjectStage
from tests.factories import BudgetProjectFactory, DepartmentFactory

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return response.content.decode()


def project_data(**overrides) -> dict:
    data = {
        "fiscal_year": "2022",
        "code": "2022-NS-001",
        "name": "农田水利设施维护",
        "category": "infrastructure",
        "recurrence": "recurring",
        "requested_amount": "35000000.00",
        "overall_goal": "完成 120 公里渠道清淤。",
    }
    data.update(overrides)
    return data


def test_project_new_creates_draft_of_own_department_when_input_valid(client, district):
    client.force_login(district.staff_a)
    response = client.post("/projects/new/", project_data(requested_amount="12345678.91"))
    project = BudgetProject.objects.get(code="2022-NS-001")
    assert response.status_code == 302
    assert response["Location"] == f"/projects/{project.pk}/"
    assert project.department == district.dept_a
    assert project.created_by == district.staff_a
    assert project.stage == ProjectStage.DRAFT
    assert project.requested_amount == Decimal("12345678.91")
    page = client.get(response["Location"])
    assert "1,234.57" in text(page)  # 万元, rounded half up
    assert "已保存为草稿" in text(page)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("requested_amount", "0", "不能小于 0.01"),
        ("requested_amount", "100.123", "最多 14 位整数、2 位小数"),
        ("requested_amount", "abc", "输入一个数字"),
        ("name", "", "该字段是必填项"),
        ("category", "space", "选择一个有效的选项"),
        ("fiscal_year", "1899", "预算年度应在 2000 到 2100 之间"),
        ("fiscal_year", "99999", "预算年度应在 2000 到 2100 之间"),
        ("requested_amount", "NaN", "输入一个数字"),
        ("requested_amount", "1e20", "最多 14 位整数"),
    ],
)
def test_project_new_shows_form_errors_when_input_bad(client, district, field, value, message):
    client.force_login(district.staff_a)
    response = client.post("/projects/new/", project_data(**{field: value}))
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert message in text(response)
    assert not BudgetProject.objects.exists()


def test_project_new_shows_error_on_the_code_field_when_code_already_used_that_year(client, district):
    BudgetProjectFactory(department=district.dept_a, created_by=district.staff_a, fiscal_year=2022, code="2022-NS-001")
    client.force_login(district.staff_a)
    response = client.post("/projects/new/", project_data())
    assert response.status_code == 400
    form = response.context["form"]
    assert not form.non_field_errors()
    assert form.errors["code"] == ["2022 年度已有编码为 2022-NS-001 的项目。"]
    assert "已经存在" not in text(response)
    assert BudgetProject.objects.filter(code="2022-NS-001").count() == 1


def test_project_new_is_403_when_leader_posts(client, district):
    client.force_login(district.leader_a)
    assert client.post("/projects/new/", project_data()).status_code == 403
    assert not BudgetProject.objects.exists()


def test_project_edit_saves_and_bumps_version_when_version_current(client, district):
    project = district.project()
    client.force_login(district.staff_a)
    response = client.post(
        f"/projects/{project.pk}/edit/",
        project_data(
            fiscal_year=str(project.fiscal_year),
            code=project.code,
            name="改名后的项目",
            requested_amount="800000.50",
            version=str(project.version),
        ),
    )
    assert response.status_code == 302
    before = project.version
    project.refresh_from_db()
    assert project.name == "改名后的项目"
    assert project.requested_amount == Decimal("800000.50")
    assert project.version == before + 1


def test_project_edit_shows_conflict_and_changes_nothing_when_version_stale(client, district):
    project = district.project()
    stale = project.version
    project_update(project=project, actor=district.staff_a, name="他人先改的名字")  # a colleague saved first
    client.force_login(district.staff_a)
    response = client.post(
        f"/projects/{project.pk}/edit/",
        project_data(
            fiscal_year=str(project.fiscal_year),
            code=project.code,
            name="我的修改",
            version=str(stale),
        ),
    )
    assert response.status_code == 409
    assert "项目已被他人修改" in text(response)
    assert "重新打开最新版本进行编辑" in text(response)
    project.refresh_from_db()
    assert project.name == "他人先改的名字"


def test_project_edit_is_409_when_project_submitted_meanwhile(client, district):
    project = district.project(ProjectStage.SUBMITTED)
    client.force_login(district.staff_a)
    response = client.post(f"/projects/{project.pk}/edit/", project_data(version=str(project.version)))
    assert response.status_code == 409
    assert "项目已提交，不能再修改" in text(response)


def test_project_edit_shows_form_errors_when_amount_negative(client, district):
    project = district.project()
    client.force_login(district.staff_a)
    response = client.post(
        f"/projects/{project.pk}/edit/", project_data(requested_amount="-5", version=str(project.version))
    )
    assert response.status_code == 400
    assert "requested_amount" in response.context["form"].errors


def test_project_list_filters_by_stage_year_and_search_when_given(client, district):
    draft = district.project(name="城乡供水保障", fiscal_year=2022)
    submitted = district.project(ProjectStage.SUBMITTED, name="河道整治", fiscal_year=2021)
    client.force_login(district.staff_a)

    def codes(query):
        response = client.get("/projects/", query)
        assert response.status_code == 200
        return {p.code for p in response.context["page"]}

    assert codes({}) == {draft.code, submitted.code}
    assert codes({"stage": "submitted"}) == {submitted.code}
    assert codes({"fiscal_year": "2022"}) == {draft.code}
    assert codes({"q": "供水"}) == {draft.code}
    assert codes({"q": submitted.code}) == {submitted.code}


def test_project_list_filters_by_department_when_user_sees_all(client, district):
    a = district.project()
    b = district.project(dept="b")
    client.force_login(district.finance)
    response = client.get("/projects/", {"department": district.dept_b.pk})
    assert {p.code for p in response.context["page"]} == {b.code}
    assert a.code not in text(response)
    assert "区住房建设局" in text(response)


def test_project_list_has_no_department_filter_when_department_user(client, district):
    district.project(dept="b")
    client.force_login(district.staff_a)
    response = client.get("/projects/", {"department": district.dept_b.pk})
    assert "department" not in response.context["form"].fields
    assert list(response.context["page"]) == []


def test_project_list_paginates_by_50_when_many(client, district):
    for _ in range(51):
        BudgetProjectFactory(department=district.dept_a, created_by=district.staff_a)
    client.force_login(district.staff_a)
    first = client.get("/projects/")
    assert len(first.context["page"].object_list) == 50
    assert "下一页" in text(first)
    assert len(client.get("/projects/", {"page": 2}).context["page"].object_list) == 1


def test_project_list_query_count_stays_flat_when_rows_grow(client, district, django_assert_max_num_queries):
    def add_projects(n):
        for _ in range(n):  # each with its own department and creator, to catch N+1 on either
            department = DepartmentFactory()
            BudgetProjectFactory(department=department, fiscal_year=2023)

    add_projects(2)
    client.force_login(district.finance)
    client.get("/projects/")  # warm caches (content types, permissions)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/projects/").status_code == 200

    add_projects(40)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/projects/")
    assert len(response.context["page"].object_list) == 42


def test_amount_inputs_say_the_unit_and_ask_for_the_wan_preview_when_the_form_is_shown(client, district):
    client.force_login(district.staff_a)
    body = text(client.get("/projects/new/"))
    assert "送审金额（元）" in body
    assert 'name="requested_amount"' in body and 'data-wan-preview="万元"' in body
    assert "js/wan_preview.js" in body


def test_every_yuan_input_of_the_screens_forms_asks_for_the_wan_preview_when_built():
    from workflows.commissioned_forms import _number_input
    from workflows.evaluation_forms import _amount_input as evaluation_amount
    from workflows.monitoring_forms import _amount_input as monitoring_amount
    from workflows.pre_assessment_forms import ConclusionForm, OpinionForm
    from workflows.project_forms import ProjectForm

    opinion = OpinionForm(dimensions=[{"code": "necessity", "label": "立项必要性", "points": 20}])
    widgets = [
        ProjectForm().fields["requested_amount"].widget,
        ConclusionForm().fields["approved_amount"].widget,
        opinion.fields["recommended_amount"].widget,
        opinion.fields["requested_1"].widget,
        opinion.fields["approved_1"].widget,
        evaluation_amount("全年执行数（元）").widget,
        monitoring_amount("年初预算数（元）").widget,
        _number_input("预算数（元）", yuan=True).widget,
    ]
    for widget in widgets:
        assert str(widget.attrs["data-wan-preview"]) == "万元"


@pytest.mark.parametrize("who", ["finance", "staff_a"])
def test_project_list_total_is_the_projects_of_the_filters_when_a_stage_is_chosen_or_not(client, district, who):
    """The total (共 N 个项目, and the pages) is the stages' sum when no stage is chosen,
    counted alone when one is: both are the projects the user sees under the filters."""
    user = getattr(district, who)
    for i in range(3):
        BudgetProjectFactory(department=district.dept_a, fiscal_year=2023, stage=ProjectStage.DRAFT, code=f"T-{i}")
    BudgetProjectFactory(department=district.dept_b, fiscal_year=2023, stage=ProjectStage.SUBMITTED, code="T-9")
    client.force_login(user)
    from processes.selectors import project_filter, project_list_for

    for params in ({}, {"stage": "draft"}, {"stage": "submitted"}, {"fiscal_year": "2023"}, {"q": "T-"}):
        filters = {"stage": None, "fiscal_year": None, "department": None, "q": None}
        filters.update({k: int(v) if k == "fiscal_year" else v for k, v in params.items()})
        expected = project_filter(project_list_for(user), **filters).count()
        response = client.get("/projects/", params)
        assert response.context["page"].paginator.count == expected, params
        assert f"共 {expected} 个项目" in text(response), params
        if not params.get("stage"):
            assert response.context["stages_total"] == expected, params


def test_project_list_counts_its_total_without_a_statement_when_no_stage_is_chosen(client, district):
    client.force_login(district.finance)
    client.get("/projects/")
    with CaptureQueriesContext(connection) as plain:
        client.get("/projects/")
    with CaptureQueriesContext(connection) as staged:
        client.get("/projects/", {"stage": "draft"})
    assert len(plain.captured_queries) == len(staged.captured_queries) - 1
    counts = [
        q["sql"]
        for q in staged.captured_queries
        if q["sql"].startswith('SELECT COUNT(*) AS "__count" FROM "processes_budgetproject"')
    ]
    assert counts and all("JOIN" not in sql for sql in counts)  # the rows' joins cannot change the count
