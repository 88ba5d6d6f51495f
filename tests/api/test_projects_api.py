"""The project API: list/create/detail/edit and the stage actions, as real role users."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from processes.models import AuditEvent, BudgetProject
from processes.states import ProjectStage as S
from tests.factories import PASSWORD

from .support import ROLES, client_for

#: Who sees department A's projects (its own staff and leaders, and the bureau-wide readers).
SEES_A = {"staff_a", "leader_a", "leader_a2", "finance", "supervisor", "auditor"}
SEES_B = {"staff_b", "leader_b", "finance", "supervisor", "auditor"}

NEW_PROJECT = {
    "fiscal_year": 2022,
    "code": "2022-API-001",
    "name": "农田水利设施维护",
    "category": "infrastructure",
    "recurrence": "recurring",
    "requested_amount": "3500000.00",
    "overall_goal": "完成 12 公里渠道清淤",
}


def url(project=None, action=None) -> str:
    if project is None:
        return "/api/projects/"
    return f"/api/projects/{project.pk}/" + (f"{action}/" if action else "")


def audit_count(project) -> int:
    return AuditEvent.objects.filter(object_type="processes.budgetproject", object_id=str(project.pk)).count()


# -- the whole path --------------------------------------------------------------------


def test_project_goes_from_draft_to_target_review_when_each_role_acts_through_the_api(district):
    staff, leader, finance = APIClient(), APIClient(), APIClient()
    staff.force_login(district.staff_a)
    leader.force_login(district.leader_a)
    finance.force_login(district.finance)

    created = staff.post(url(), NEW_PROJECT, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["stage"] == "draft"
    assert body["stage_display"] == "草稿"
    assert body["department_name"] == "区农水局"
    assert body["requested_amount"] == "3500000.00"
    assert {a["name"] for a in body["available_actions"]} == {"submit", "withdraw"}
    project = BudgetProject.objects.get(pk=body["id"])

    submitted = staff.post(url(project, "submit"), {}, format="json")
    assert submitted.status_code == 200, submitted.json()
    assert submitted.json()["stage"] == "submitted"
    assert [t["title"] for t in submitted.json()["current_tasks"]] == ["部门审核"]

    inbox = leader.get("/api/tasks/").json()["results"]
    assert [(t["project"]["id"], t["title"]) for t in inbox] == [(project.pk, "部门审核")]
    assert [a["name"] for a in inbox[0]["available_actions"]] == ["approve", "send_back"]

    approved = leader.post(url(project, "approve"), {"comment": "同意"}, format="json")
    assert approved.status_code == 200, approved.json()
    assert approved.json()["stage"] == "dept_approved"
    assert leader.get("/api/tasks/").json()["results"] == []

    inbox = finance.get("/api/tasks/").json()["results"]
    assert [(t["project"]["id"], t["title"]) for t in inbox] == [(project.pk, "财政受理")]
    routed = finance.post(url(project, "route_to_target_review"), {}, format="json")
    assert routed.status_code == 200, routed.json()

    detail = staff.get(url(project)).json()
    assert detail["stage"] == "target_review"
    # the department is now asked for its targets
    assert [t["title"] for t in detail["current_tasks"]] == ["填报绩效目标"]
    assert [(e["object_type"], e["action"], e["to_state"]) for e in detail["timeline"]] == [
        ("processes.budgetproject", "create", "draft"),
        ("processes.budgetproject", "submit", "submitted"),
        ("processes.budgetproject", "approve", "dept_approved"),
        ("processes.targetset", "targets_open", "draft"),  # the department is asked for its targets
        ("processes.budgetproject", "route_to_target_review", "target_review"),
    ]
    assert detail["timeline"][3]["to_state_display"] == "填报中"
    assert detail["timeline"][2]["comment"] == "同意"
    assert detail["timeline"][2]["actor"] == str(district.leader_a)
    assert detail["available_actions"] == [{"name": "withdraw", "label": "撤回", "needs_reason": True}]


def test_project_goes_to_pre_assessment_when_amount_reaches_the_threshold(district):
    project = district.project(S.DEPT_APPROVED, amount=Decimal("5000000.00"))
    finance = client_for(district.finance)

    refused = finance.post(url(project, "route_to_target_review"), {}, format="json")
    assert refused.status_code == 409
    assert "事前绩效评估门槛" in refused.json()["detail"]

    routed = finance.post(url(project, "route_to_pre_assessment"), {}, format="json")
    assert routed.status_code == 200
    assert routed.json()["stage"] == "pre_assessment"


def test_draft_comes_back_to_staff_when_leader_returns_it_with_a_reason(district):
    project = district.project(S.SUBMITTED)
    leader = client_for(district.leader_a)

    no_reason = leader.post(url(project, "return"), {"comment": "  "}, format="json")
    assert no_reason.status_code == 400
    assert list(no_reason.json()) == ["comment"]

    returned = leader.post(url(project, "return"), {"comment": "测算依据不足"}, format="json")
    assert returned.status_code == 200
    assert returned.json()["stage"] == "draft"
    assert returned.json()["timeline"][-1]["comment"] == "测算依据不足"

    staff = client_for(district.staff_a)
    edited = staff.patch(url(project), {"requested_amount": "1000000.00"}, format="json")
    assert edited.status_code == 200
    resubmitted = staff.post(url(project, "submit"), {}, format="json")
    assert resubmitted.status_code == 200
    assert resubmitted.json()["stage"] == "submitted"


# -- visibility matrix -----------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_list_holds_only_visible_projects_when_listed_by_each_role(district, role):
    a = district.project(S.SUBMITTED, dept="a")
    b = district.project(S.SUBMITTED, dept="b")
    expected = {p.pk for p, seers in ((a, SEES_A), (b, SEES_B)) if role in seers}

    response = client_for(getattr(district, role)).get(url())

    assert response.status_code == 200
    assert {row["id"] for row in response.json()["results"]} == expected
    assert response.json()["count"] == len(expected)


@pytest.mark.parametrize("dept", ["a", "b"])
@pytest.mark.parametrize("role", ROLES)
def test_detail_is_200_or_404_when_read_by_each_role(district, role, dept):
    project = district.project(S.SUBMITTED, dept=dept)
    sees = role in (SEES_A if dept == "a" else SEES_B)

    response = client_for(getattr(district, role)).get(url(project))

    assert response.status_code == (200 if sees else 404)
    if sees:
        assert response.json()["id"] == project.pk


#: action → (the stage it is taken from, the roles allowed to take it on department A's project)
ACTIONS = {
    "submit": (S.DRAFT, {"staff_a"}),
    "approve": (S.SUBMITTED, {"leader_a", "leader_a2"}),
    "send_back": (S.SUBMITTED, {"leader_a", "leader_a2"}),
    "return": (S.SUBMITTED, {"leader_a", "leader_a2"}),
    "route_to_pre_assessment": (S.DEPT_APPROVED, {"finance"}),
    "route_to_target_review": (S.DEPT_APPROVED, {"finance"}),
    "withdraw": (S.SUBMITTED, {"staff_a", "leader_a", "leader_a2"}),
    "cancel": (S.SUBMITTED, {"finance"}),
}
TARGET = {
    "submit": S.SUBMITTED,
    "approve": S.DEPT_APPROVED,
    "send_back": S.DRAFT,
    "return": S.DRAFT,
    "route_to_pre_assessment": S.PRE_ASSESSMENT,
    "route_to_target_review": S.TARGET_REVIEW,
    "withdraw": S.WITHDRAWN,
    "cancel": S.CANCELLED,
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(ACTIONS))
def test_action_is_200_403_or_404_when_taken_by_each_role(district, action, role):
    stage, allowed = ACTIONS[action]
    project = district.project(stage, dept="a")
    events = audit_count(project)
    expected = 200 if role in allowed else 403 if role in SEES_A else 404

    response = client_for(getattr(district, role)).post(url(project, action), {"comment": "理由"}, format="json")

    assert response.status_code == expected, response.json()
    project.refresh_from_db()
    if expected == 200:
        assert response.json()["stage"] == TARGET[action] == project.stage
        assert audit_count(project) == events + 1
    else:
        assert project.stage == stage
        assert audit_count(project) == events
        assert response.json()["detail"]


#: action → (a stage it may not be taken from, a role otherwise allowed to take it)
NOT_NOW = {
    "submit": (S.SUBMITTED, "staff_a"),
    "approve": (S.DRAFT, "leader_a"),
    "send_back": (S.DRAFT, "leader_a"),
    "return": (S.DEPT_APPROVED, "leader_a"),
    "route_to_pre_assessment": (S.SUBMITTED, "finance"),
    "route_to_target_review": (S.DRAFT, "finance"),
    "withdraw": (S.CANCELLED, "staff_a"),
    "cancel": (S.WITHDRAWN, "finance"),
}


@pytest.mark.parametrize("action", list(NOT_NOW))
def test_action_is_409_with_a_message_when_not_allowed_in_the_current_stage(district, action):
    stage, role = NOT_NOW[action]
    project = district.project(stage, dept="a")
    events = audit_count(project)

    response = client_for(getattr(district, role)).post(url(project, action), {"comment": "理由"}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert str(S(stage).label) in response.json()["detail"]
    project.refresh_from_db()
    assert project.stage == stage
    assert audit_count(project) == events


@pytest.mark.parametrize(
    "action,stage,role",
    [
        ("send_back", S.SUBMITTED, "leader_a"),
        ("withdraw", S.SUBMITTED, "staff_a"),
        ("cancel", S.DEPT_APPROVED, "finance"),
    ],
)
def test_action_is_400_on_comment_when_the_reason_is_missing(district, action, stage, role):
    project = district.project(stage)

    response = client_for(getattr(district, role)).post(url(project, action), {}, format="json")

    assert response.status_code == 400
    assert response.json()["comment"] == ["请填写理由。"]
    project.refresh_from_db()
    assert project.stage == stage


def test_unknown_action_is_404_when_posted(district):
    project = district.project(S.SUBMITTED)

    response = client_for(district.leader_a).post(url(project, "approve_targets"), {}, format="json")

    assert response.status_code == 404


# -- create and edit -------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_create_is_201_only_when_the_user_is_department_staff(district, role):
    response = client_for(getattr(district, role)).post(url(), NEW_PROJECT, format="json")

    if role in ("staff_a", "staff_b"):
        assert response.status_code == 201
        project = BudgetProject.objects.get()
        assert project.department == getattr(district, role).department
        assert project.created_by == getattr(district, role)
        assert project.requested_amount == Decimal("3500000.00")
    else:
        assert response.status_code == 403
        assert response.json()["detail"] == "只有部门经办人可以新建项目。"
        assert not BudgetProject.objects.exists()


@pytest.mark.parametrize(
    "change,field",
    [
        ({"requested_amount": "-100.00"}, "requested_amount"),
        ({"requested_amount": "0"}, "requested_amount"),
        ({"requested_amount": "0.00"}, "requested_amount"),
        ({"requested_amount": "12.345"}, "requested_amount"),
        ({"requested_amount": "abc"}, "requested_amount"),
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"category": "weapons"}, "category"),
        ({"fiscal_year": "next"}, "fiscal_year"),
        ({"stage": "budgeted"}, "stage"),
        ({"approved_amount": "1.00"}, "approved_amount"),
    ],
)
def test_create_is_400_with_the_field_error_when_data_is_bad(district, change, field):
    response = client_for(district.staff_a).post(url(), {**NEW_PROJECT, **change}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert not BudgetProject.objects.exists()


@pytest.mark.parametrize("missing", ["name", "code", "fiscal_year", "category", "recurrence", "requested_amount"])
def test_create_is_400_with_the_field_error_when_a_required_field_is_missing(district, missing):
    data = {k: v for k, v in NEW_PROJECT.items() if k != missing}

    response = client_for(district.staff_a).post(url(), data, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [missing]


def test_create_is_400_on_code_when_the_code_is_taken_in_that_year(district):
    district.project(S.SUBMITTED, dept="b", fiscal_year=2022, code="2022-API-001")

    taken = client_for(district.staff_a).post(url(), {**NEW_PROJECT, "code": " 2022-API-001 "}, format="json")
    other_year = client_for(district.staff_a).post(url(), {**NEW_PROJECT, "fiscal_year": 2023}, format="json")

    assert taken.status_code == 400
    assert list(taken.json()) == ["code"]
    assert other_year.status_code == 201


@pytest.mark.parametrize("role", ROLES)
def test_patch_is_200_403_or_404_when_made_by_each_role(district, role):
    project = district.project(S.DRAFT, dept="a")
    expected = 200 if role == "staff_a" else 403 if role in SEES_A else 404

    response = client_for(getattr(district, role)).patch(url(project), {"name": "新名称"}, format="json")

    assert response.status_code == expected
    project.refresh_from_db()
    assert (project.name == "新名称") == (expected == 200)


def test_patch_changes_the_draft_and_its_version_when_the_version_is_current(district):
    project = district.project(S.DRAFT)
    staff = client_for(district.staff_a)

    response = staff.patch(
        url(project),
        {"name": "渠道清淤（二期）", "requested_amount": "880000.50", "version": project.version},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["name"] == "渠道清淤（二期）"
    assert response.json()["requested_amount"] == "880000.50"
    assert response.json()["version"] == project.version + 1
    assert response.json()["timeline"][-1]["action"] == "edit"


def test_patch_is_409_and_changes_nothing_when_the_version_is_stale(district):
    project = district.project(S.DRAFT)
    staff = client_for(district.staff_a)
    started_from = project.version
    assert staff.patch(url(project), {"name": "甲", "version": started_from}, format="json").status_code == 200

    stale = staff.patch(url(project), {"name": "乙", "version": started_from}, format="json")

    assert stale.status_code == 409
    assert "请刷新后重新编辑" in stale.json()["detail"]
    project.refresh_from_db()
    assert project.name == "甲"
    assert project.version == started_from + 1


def test_patch_is_409_when_the_project_is_no_longer_a_draft(district):
    project = district.project(S.SUBMITTED)

    response = client_for(district.staff_a).patch(url(project), {"name": "改名"}, format="json")

    assert response.status_code == 409
    project.refresh_from_db()
    assert project.name != "改名"


@pytest.mark.parametrize(
    "change,field",
    [
        ({"requested_amount": "0"}, "requested_amount"),
        ({"name": ""}, "name"),
        ({"stage": "budgeted"}, "stage"),
        ({"version": 0}, "version"),
    ],
)
def test_patch_is_400_and_changes_nothing_when_data_is_bad(district, change, field):
    project = district.project(S.DRAFT)

    response = client_for(district.staff_a).patch(url(project), change, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    before = project.requested_amount, project.name, project.stage, project.version
    project.refresh_from_db()
    assert (project.requested_amount, project.name, project.stage, project.version) == before


def test_patch_is_400_on_code_when_the_code_is_taken_in_that_year(district):
    other = district.project(S.DRAFT, dept="b")
    project = district.project(S.DRAFT)

    response = client_for(district.staff_a).patch(url(project), {"code": other.code}, format="json")
    unchanged = client_for(district.staff_a).patch(url(project), {"code": project.code}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["code"]
    assert unchanged.status_code == 200


def test_put_and_delete_are_not_offered_when_called(district):
    project = district.project(S.DRAFT)
    staff = client_for(district.staff_a)

    assert staff.put(url(project), NEW_PROJECT, format="json").status_code == 405
    assert staff.delete(url(project)).status_code == 405
    assert BudgetProject.objects.filter(pk=project.pk).exists()


# -- detail content, filters, queries --------------------------------------------------


def test_detail_shows_actions_tasks_and_timeline_when_the_leader_reads_a_submitted_project(district):
    project = district.project(S.SUBMITTED, amount=Decimal("4321.05"))

    body = client_for(district.leader_a).get(url(project)).json()

    assert body["stage"] == "submitted"
    assert body["stage_display"] == "已提交"
    assert body["requested_amount"] == "4321.05"
    assert body["approved_amount"] is None
    assert body["executed_amount"] == "0.00"
    assert body["department"] == district.dept_a.pk
    assert body["department_name"] == "区农水局"
    assert body["available_actions"] == [
        {"name": "approve", "label": "审核通过", "needs_reason": False},
        {"name": "send_back", "label": "退回修改", "needs_reason": True},
        {"name": "withdraw", "label": "撤回", "needs_reason": True},
    ]
    [task] = body["current_tasks"]
    assert task["title"] == "部门审核"
    assert task["owner"] is None
    assert task["due_at"]
    assert [(e["action"], e["from_state"], e["to_state"], e["to_state_display"]) for e in body["timeline"]] == [
        ("create", "", "draft", "草稿"),
        ("submit", "draft", "submitted", "已提交"),
    ]


def test_detail_offers_no_action_when_the_reader_only_supervises(district):
    project = district.project(S.SUBMITTED)

    body = client_for(district.supervisor).get(url(project)).json()

    assert body["available_actions"] == []


@pytest.mark.parametrize(
    "params,expected",
    [
        ({}, {"a1", "a2", "b1"}),
        ({"stage": "draft"}, {"a2"}),
        ({"fiscal_year": 2020}, {"b1"}),
        ({"q": "渠道"}, {"a1"}),
        ({"q": "2021-A"}, {"a1", "a2"}),
        ({"stage": "submitted", "fiscal_year": 2021}, {"a1"}),
    ],
)
def test_list_is_narrowed_when_filters_are_given(district, params, expected):
    projects = {
        "a1": district.project(S.SUBMITTED, code="2021-A1", name="渠道清淤"),
        "a2": district.project(S.DRAFT, code="2021-A2", name="泵站维修"),
        "b1": district.project(S.SUBMITTED, dept="b", fiscal_year=2020, code="2020-B1", name="危房改造"),
    }
    ids = {p.pk: key for key, p in projects.items()}

    response = client_for(district.finance).get(url(), params)

    assert response.status_code == 200
    assert {ids[row["id"]] for row in response.json()["results"]} == expected


def test_list_is_narrowed_to_a_department_when_department_is_given(district):
    a = district.project(S.SUBMITTED, dept="a")
    district.project(S.SUBMITTED, dept="b")

    response = client_for(district.finance).get(url(), {"department": district.dept_a.pk})

    assert [row["id"] for row in response.json()["results"]] == [a.pk]


@pytest.mark.parametrize("params", [{"fiscal_year": "abc"}, {"stage": "nonsense"}, {"department": "x"}])
def test_list_is_400_when_a_filter_is_malformed(district, params):
    response = client_for(district.finance).get(url(), params)

    assert response.status_code == 400
    assert list(response.json()) == list(params)


def test_list_query_count_stays_flat_when_projects_are_added(district):
    finance = client_for(district.finance)
    district.project(S.SUBMITTED, dept="a")
    finance.get(url())  # warm the user's permission cache

    with CaptureQueriesContext(connection) as one:
        assert len(finance.get(url()).json()["results"]) == 1
    for dept in "abab":
        district.project(S.SUBMITTED, dept=dept)
    district.project(S.DRAFT, dept="b")
    with CaptureQueriesContext(connection) as six:
        assert len(finance.get(url()).json()["results"]) == 6

    assert len(six.captured_queries) == len(one.captured_queries)


# -- authentication --------------------------------------------------------------------


def test_requests_are_refused_when_not_authenticated(district):
    project = district.project(S.SUBMITTED)
    anonymous = APIClient()

    assert anonymous.get(url()).status_code in (401, 403)
    assert anonymous.get(url(project)).status_code in (401, 403)
    assert anonymous.post(url(), NEW_PROJECT, format="json").status_code in (401, 403)
    assert anonymous.post(url(project, "approve"), {}, format="json").status_code in (401, 403)
    project.refresh_from_db()
    assert project.stage == S.SUBMITTED
    assert BudgetProject.objects.count() == 1


def test_token_authenticates_the_user_when_sent_in_the_authorization_header(district):
    project = district.project(S.SUBMITTED)
    token = Token.objects.create(user=district.leader_a)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    listed = client.get(url())
    approved = client.post(url(project, "approve"), {}, format="json")

    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["results"]] == [project.pk]
    assert approved.status_code == 200
    assert AuditEvent.objects.filter(object_id=str(project.pk), action="approve").get().actor == district.leader_a


def test_token_is_refused_when_it_is_unknown(district):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    response = client.get(url())

    # 403, not 401: SessionAuthentication comes first in settings and sends no WWW-Authenticate.
    assert response.status_code in (401, 403)
    assert "令牌" in response.json()["detail"]  # DRF's "Invalid token." (认证令牌无效。)


def test_token_endpoint_issues_a_token_when_the_password_is_right(district):
    response = APIClient().post("/api/auth/token/", {"username": "staff_a", "password": PASSWORD}, format="json")

    assert response.status_code == 200
    assert response.json()["token"] == Token.objects.get(user=district.staff_a).key


def test_token_endpoint_is_400_when_the_password_is_wrong(district):
    response = APIClient().post(
        "/api/auth/token/", {"username": "staff_a", "password": "wrong-password"}, format="json"
    )

    assert response.status_code == 400
    assert not Token.objects.exists()


def test_error_is_translated_in_the_request_language_when_the_client_sends_accept_language(district, monkeypatch):
    # Tag every message the service translates with the language active at that moment,
    # so the test does not depend on the English catalog's content.
    from django.utils import translation

    from processes.models import project as project_model

    monkeypatch.setattr(project_model, "gettext", lambda msg: f"[{translation.get_language()}]{msg}")
    project = district.project(S.DRAFT)
    client = client_for(district.leader_a)

    default = client.post(url(project, "approve"), {}, format="json")
    english = client.post(url(project, "approve"), {}, format="json", HTTP_ACCEPT_LANGUAGE="en")

    assert default.status_code == english.status_code == 409
    assert default.json()["detail"].startswith("[zh-hans]")
    assert english.json()["detail"].startswith("[en]")


def test_finance_issues_a_budgeted_project_into_execution_through_the_api(district):
    project = district.project(S.BUDGETED)
    refused = client_for(district.staff_a).post(url(project, "start_execution"), {}, format="json")
    assert refused.status_code == 403
    issued = client_for(district.finance).post(url(project, "start_execution"), {}, format="json")
    assert issued.status_code == 200, issued.json()
    assert issued.json()["stage"] == "executing"
    again = client_for(district.finance).post(url(project, "start_execution"), {}, format="json")
    assert again.status_code == 409
