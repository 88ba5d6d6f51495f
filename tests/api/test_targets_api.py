"""The targets API (DESIGN §3.3): the whole review as real role users, row errors keyed
``rows.<i>.<field>``, change requests, and every refusal — out of sight 404, wrong role 403,
not now / twice 409, bad data 400."""

from decimal import Decimal

import pytest
from django.urls import resolve, reverse

from processes.models import AuditEvent, Indicator, TargetSet
from processes.states import ProjectStage, TargetRating, TargetSetStatus
from tests.conftest import TARGET_ROWS

from .support import client_for

pytestmark = pytest.mark.django_db

GOAL = "按期完成灌溉渠道建设，改善农田灌溉条件"


def url(project, number=None, action=None) -> str:
    base = f"/api/projects/{project.pk}/targets/"
    if number is not None:
        base += f"{number}/"
    return base + (f"{action}/" if action else "")


def draft(project) -> TargetSet:
    return TargetSet.objects.get(project=project, number=1)


def saved(district, project, rows=None):
    """Staff save ``rows`` (TARGET_ROWS) into version 1 through the API."""
    response = client_for(district.staff_a).put(
        url(project, 1), {"overall_goal": GOAL, "rows": rows or TARGET_ROWS}, format="json"
    )
    assert response.status_code == 200, response.json()
    return response


def submitted(district, project):
    saved(district, project)
    response = client_for(district.staff_a).post(url(project, 1, "submit"), format="json")
    assert response.status_code == 200, response.json()
    return response


def passed(district, project):
    submitted(district, project)
    response = client_for(district.leader_a).post(
        url(project, 1, "dept-review"), {"approve": True, "comment": "同意"}, format="json"
    )
    assert response.status_code == 200, response.json()
    return response


@pytest.fixture
def project(district):
    """A project in target review, its first version open as an empty draft."""
    return district.project(ProjectStage.TARGET_REVIEW)


# -- the whole path --------------------------------------------------------------------


def test_project_is_budgeted_when_each_role_acts_through_the_api(district, project):
    staff, leader, finance = (client_for(getattr(district, p)) for p in ("staff_a", "leader_a", "finance"))

    put = staff.put(url(project, 1), {"overall_goal": GOAL, "rows": TARGET_ROWS, "revision": 1}, format="json")
    assert put.status_code == 200, put.json()
    body = put.json()
    assert (body["number"], body["status"], body["editable"], body["overall_goal"]) == (1, "draft", True, GOAL)
    assert body["revision"] == 2
    assert body["rows"][0] == {
        "position": 1,
        "indicator": None,
        "indicator_code": None,
        "level1": "output",
        "level1_display": "产出指标",
        "level2": "quantity",
        "level2_display": "数量指标",
        "name": "新建灌溉渠道长度",
        "direction": "gte",
        "direction_display": "≥",
        "target_value": "12.5000",
        "target_text": "",
        "unit": "公里",
        "weight": "40.00",
        "display_value": "≥12.5公里",
        "review_comment": "",
        "edits": {},
    }
    assert body["rows"][2]["target_text"] == "明显改善"

    sent = staff.post(url(project, 1, "submit"), format="json")
    assert sent.status_code == 200, sent.json()
    assert (sent.json()["status"], sent.json()["editable"]) == ("submitted", False)

    reviewed = leader.post(url(project, 1, "dept-review"), {"approve": True, "comment": "同意报送"}, format="json")
    assert reviewed.status_code == 200, reviewed.json()
    assert (reviewed.json()["status"], reviewed.json()["leader_comment"]) == ("dept_approved", "同意报送")

    rated = finance.post(url(project, 1, "rate"), {"rating": "excellent"}, format="json")
    assert rated.status_code == 200, rated.json()
    assert (rated.json()["status"], rated.json()["rating"], rated.json()["rating_display"]) == (
        "approved",
        "excellent",
        "优",
    )
    assert rated.json()["rated_by"] == str(district.finance)
    project.refresh_from_db()
    assert project.stage == ProjectStage.BUDGETED

    overview = staff.get(url(project))
    assert overview.status_code == 200
    assert (overview.json()["project"], overview.json()["in_force"], overview.json()["open"]) == (project.pk, 1, None)
    assert [v["number"] for v in overview.json()["versions"]] == [1]
    assert staff.get(url(project, 1)).json() == rated.json()


def test_agreed_edits_are_applied_and_recorded_when_finance_rates_good(district, project):
    passed(district, project)
    rated = client_for(district.finance).post(
        url(project, 1, "rate"),
        {
            "rating": "good",
            "comment": "按可研报告调整",
            "row_comments": {"1": "与可研报告一致"},
            "edits": {"1": {"target_value": "15"}, "3": {"target_text": "显著改善"}},
        },
        format="json",
    )
    assert rated.status_code == 200, rated.json()
    rows = rated.json()["rows"]
    assert (rated.json()["status"], rated.json()["rating"]) == ("approved", "good")
    assert (rows[0]["target_value"], rows[0]["edits"], rows[0]["review_comment"]) == (
        "15.0000",
        {"target_value": ["12.5000", "15"]},
        "与可研报告一致",
    )
    assert rows[1]["edits"] == {}
    assert rows[2]["edits"] == {"target_text": ["明显改善", "显著改善"]}


def test_edits_are_refused_when_the_rating_is_not_good(district, project):
    passed(district, project)
    rated = client_for(district.finance).post(
        url(project, 1, "rate"), {"rating": "excellent", "edits": {"1": {"target_value": "15"}}}, format="json"
    )
    assert rated.status_code == 400
    assert "rating" in rated.json()
    target_set = draft(project)
    assert target_set.status == TargetSetStatus.DEPT_APPROVED
    assert target_set.rows.get(position=1).target_value == Decimal("12.5")


def test_a_bad_edit_is_keyed_by_its_row_when_finance_rates_good(district, project):
    passed(district, project)
    rated = client_for(district.finance).post(
        url(project, 1, "rate"), {"rating": "good", "comment": "调整", "edits": {"2": {"weight": "abc"}}}, format="json"
    )
    assert rated.status_code == 400
    assert rated.json() == {"rows.1.weight": ["权重必须是数字。"]}
    assert draft(project).status == TargetSetStatus.DEPT_APPROVED


@pytest.mark.parametrize("key", ["x", "0", "-1"])
def test_a_row_comment_keyed_by_anything_but_a_position_is_refused(district, project, key):
    passed(district, project)
    rated = client_for(district.finance).post(
        url(project, 1, "rate"), {"rating": "excellent", "row_comments": {key: "意见"}}, format="json"
    )
    assert rated.status_code == 400
    assert "row_comments" in rated.json()


def test_version_is_returned_and_resubmitted_when_finance_rates_fair(district, project):
    passed(district, project)
    rated = client_for(district.finance).post(
        url(project, 1, "rate"), {"rating": "fair", "comment": "时效指标偏宽松"}, format="json"
    )
    assert rated.status_code == 200, rated.json()
    assert (rated.json()["status"], rated.json()["rating"], rated.json()["editable"]) == ("returned", "fair", True)

    staff = client_for(district.staff_a)
    revised = [TARGET_ROWS[0], {**TARGET_ROWS[1], "target_value": "240"}, TARGET_ROWS[2]]
    assert staff.put(url(project, 1), {"overall_goal": GOAL, "rows": revised}, format="json").status_code == 200
    again = staff.post(url(project, 1, "submit"), format="json")
    assert again.status_code == 200, again.json()
    assert again.json()["status"] == "submitted"
    assert again.json()["rows"][1]["target_value"] == "240.0000"


def test_project_is_rejected_when_finance_rates_poor(district, project):
    passed(district, project)
    rated = client_for(district.finance).post(
        url(project, 1, "rate"), {"rating": "poor", "comment": "目标与项目内容不符"}, format="json"
    )
    assert rated.status_code == 200, rated.json()
    assert (rated.json()["status"], rated.json()["rating"]) == ("rejected", "poor")
    project.refresh_from_db()
    assert project.stage == ProjectStage.REJECTED


def test_leader_return_needs_a_reason(district, project):
    submitted(district, project)
    leader = client_for(district.leader_a)
    refused = leader.post(url(project, 1, "dept-review"), {"approve": False}, format="json")
    assert refused.status_code == 400
    assert refused.json() == {"comment": ["请填写退回理由。"]}
    returned = leader.post(url(project, 1, "dept-review"), {"approve": False, "comment": "缺满意度指标"}, format="json")
    assert returned.status_code == 200
    assert (returned.json()["status"], returned.json()["leader_comment"]) == ("draft", "缺满意度指标")


# -- drafting ----------------------------------------------------------------------------


def test_draft_is_created_once_and_then_returned_when_staff_opens_it(district):
    project = district.project(ProjectStage.DRAFT)
    staff = client_for(district.staff_a)
    created = staff.post(url(project, action="draft"), format="json")
    assert created.status_code == 201, created.json()
    assert (created.json()["number"], created.json()["status"], created.json()["rows"]) == (1, "draft", [])
    again = staff.post(url(project, action="draft"), format="json")
    assert again.status_code == 200
    assert again.json()["id"] == created.json()["id"]
    assert TargetSet.objects.filter(project=project).count() == 1


def test_draft_is_refused_with_409_when_targets_are_already_approved(district):
    project = district.project(ProjectStage.BUDGETED)
    refused = client_for(district.staff_a).post(url(project, action="draft"), format="json")
    assert refused.status_code == 409
    assert "变更申请" in refused.json()["detail"]


def test_row_errors_are_keyed_by_row_and_field_and_nothing_is_saved(district, project):
    rows = [
        {**TARGET_ROWS[0], "target_value": None, "unit": ""},  # ≥ without value or unit
        TARGET_ROWS[1],
        {**TARGET_ROWS[2], "target_value": "8"},  # qualitative with a number
    ]
    refused = client_for(district.staff_a).put(url(project, 1), {"overall_goal": GOAL, "rows": rows}, format="json")
    assert refused.status_code == 400
    assert refused.json() == {
        "rows.0.target_value": ["定量指标必须填写数值型指标值。"],
        "rows.0.unit": ["定量指标必须填写计量单位。"],
        "rows.2.target_value": ["定性指标不填数值，请在「定性指标值」中描述目标。"],
    }
    assert not draft(project).rows.exists()


def test_malformed_row_values_are_keyed_by_row_and_field(district, project):
    rows = [TARGET_ROWS[0], {**TARGET_ROWS[1], "weight": "30.125", "level1": "nonsense"}]
    refused = client_for(district.staff_a).put(url(project, 1), {"overall_goal": GOAL, "rows": rows}, format="json")
    assert refused.status_code == 400
    assert set(refused.json()) == {"rows.1.weight", "rows.1.level1"}


def test_weights_not_summing_to_100_are_refused_when_submitting(district, project):
    saved(district, project, [TARGET_ROWS[0], TARGET_ROWS[1], {**TARGET_ROWS[2], "weight": "20"}])
    refused = client_for(district.staff_a).post(url(project, 1, "submit"), format="json")
    assert refused.status_code == 400
    assert refused.json() == {"rows": ["各指标权重之和应为 100，现为 90。"]}
    assert draft(project).status == TargetSetStatus.DRAFT


def test_library_indicators_are_picked_by_id_but_never_another_departments(district, project):
    common = {"level1": "output", "level2": "quantity", "direction": "gte", "unit": "亩"}
    own = Indicator.objects.create(
        code="A01-007", name="灌区新增面积", scope="department", department=district.dept_a, **common
    )
    other = Indicator.objects.create(
        code="B01-003", name="保障性住房套数", scope="department", department=district.dept_b, **common
    )
    staff = client_for(district.staff_a)
    picked = [{"indicator": own.pk, "target_value": "800", "weight": "40"}, TARGET_ROWS[1], TARGET_ROWS[2]]
    ok = staff.put(url(project, 1), {"overall_goal": GOAL, "rows": picked}, format="json")
    assert ok.status_code == 200, ok.json()
    assert {k: ok.json()["rows"][0][k] for k in ("indicator", "indicator_code", "name", "unit")} == {
        "indicator": own.pk,
        "indicator_code": "A01-007",
        "name": "灌区新增面积",
        "unit": "亩",
    }

    foreign = [{"indicator": other.pk, "target_value": "50", "weight": "40"}, TARGET_ROWS[1], TARGET_ROWS[2]]
    refused = staff.put(url(project, 1), {"overall_goal": GOAL, "rows": foreign}, format="json")
    assert refused.status_code == 400
    assert refused.json()["rows.0.indicator"][0].startswith("不能选用其他部门的个性化指标")
    assert draft(project).rows.get(position=1).indicator == own  # the saved draft is untouched


def test_a_stale_revision_is_refused_with_409(district, project):
    saved(district, project)
    refused = client_for(district.staff_a).put(
        url(project, 1), {"overall_goal": GOAL, "rows": TARGET_ROWS[:1], "revision": 1}, format="json"
    )
    assert refused.status_code == 409
    assert draft(project).rows.count() == 3


# -- change requests ---------------------------------------------------------------------


def test_change_request_creates_version_2_while_version_1_stays_in_force(district):
    project = district.project(ProjectStage.BUDGETED)
    staff = client_for(district.staff_a)
    created = staff.post(url(project, action="change"), {"reason": "年中追加建设任务"}, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["number"], body["status"], body["is_change"], body["change_reason"]) == (
        2,
        "draft",
        True,
        "年中追加建设任务",
    )
    assert [r["name"] for r in body["rows"]] == [r["name"] for r in TARGET_ROWS]
    overview = staff.get(url(project)).json()
    assert (overview["in_force"], overview["open"]) == (1, 2)
    assert [(v["number"], v["status"]) for v in overview["versions"]] == [(2, "draft"), (1, "approved")]
    assert staff.get(url(project, 1)).json()["status"] == "approved"

    refused = staff.post(url(project, action="change"), {"reason": "再次变更"}, format="json")
    assert refused.status_code == 409
    assert TargetSet.objects.filter(project=project).count() == 2


def test_change_needs_a_reason(district):
    project = district.project(ProjectStage.BUDGETED)
    refused = client_for(district.staff_a).post(url(project, action="change"), {"reason": ""}, format="json")
    assert refused.status_code == 400
    assert refused.json() == {"change_reason": ["请填写变更理由。"]}


def test_approved_change_supersedes_version_1(district):
    project = district.project(ProjectStage.BUDGETED)
    staff = client_for(district.staff_a)
    staff.post(url(project, action="change"), {"reason": "年中追加建设任务"}, format="json")
    rows = [{**TARGET_ROWS[0], "target_value": "20"}, TARGET_ROWS[1], TARGET_ROWS[2]]
    assert staff.put(url(project, 2), {"overall_goal": GOAL, "rows": rows}, format="json").status_code == 200
    assert staff.post(url(project, 2, "submit"), format="json").status_code == 200
    client_for(district.leader_a).post(url(project, 2, "dept-review"), {"approve": True}, format="json")
    rated = client_for(district.finance).post(url(project, 2, "rate"), {"rating": "excellent"}, format="json")
    assert rated.status_code == 200, rated.json()
    overview = staff.get(url(project)).json()
    assert overview["in_force"] == 2
    assert [(v["number"], v["status"]) for v in overview["versions"]] == [(2, "approved"), (1, "superseded")]


# -- refusals ----------------------------------------------------------------------------


def test_another_department_gets_404_everywhere(district, project):
    submitted(district, project)
    for person in ("staff_b", "leader_b"):
        other = client_for(getattr(district, person))
        assert other.get(url(project)).status_code == 404
        assert other.get(url(project, 1)).status_code == 404
        assert other.put(url(project, 1), {"overall_goal": GOAL, "rows": []}, format="json").status_code == 404
        assert other.post(url(project, action="draft"), format="json").status_code == 404
        assert other.post(url(project, action="change"), {"reason": "x"}, format="json").status_code == 404
        for action, body in (("submit", {}), ("dept-review", {"approve": True}), ("rate", {"rating": "excellent"})):
            assert other.post(url(project, 1, action), body, format="json").status_code == 404
    assert draft(project).status == TargetSetStatus.SUBMITTED


def test_a_version_that_does_not_exist_is_404(district, project):
    assert client_for(district.staff_a).get(url(project, 2)).status_code == 404


def test_anonymous_requests_are_refused(district, project):
    assert client_for().get(url(project)).status_code == 401


@pytest.mark.parametrize(
    ("step", "person", "action", "body"),
    [
        ("draft", "leader_a", None, {"overall_goal": GOAL, "rows": TARGET_ROWS}),
        ("draft", "finance", None, {"overall_goal": GOAL, "rows": TARGET_ROWS}),
        ("draft", "finance", "submit", {}),
        ("submitted", "staff_a", "dept-review", {"approve": True}),
        ("submitted", "finance", "dept-review", {"approve": True}),
        ("dept_approved", "staff_a", "rate", {"rating": "excellent"}),
        ("dept_approved", "leader_a", "rate", {"rating": "excellent"}),
        ("dept_approved", "supervisor", "rate", {"rating": "excellent"}),
    ],
)
def test_wrong_role_gets_403_and_nothing_changes(district, project, step, person, action, body):
    if step == "draft":
        saved(district, project)
    elif step == "submitted":
        submitted(district, project)
    else:
        passed(district, project)
    events = AuditEvent.objects.count()
    api = client_for(getattr(district, person))
    response = (
        api.post(url(project, 1, action), body, format="json")
        if action
        else api.put(url(project, 1), body, format="json")
    )
    assert response.status_code == 403
    assert response.json()["detail"]
    assert draft(project).status == step
    assert AuditEvent.objects.count() == events


def test_acting_twice_gets_409(district, project):
    staff, leader, finance = (client_for(getattr(district, p)) for p in ("staff_a", "leader_a", "finance"))
    saved(district, project)
    assert staff.post(url(project, 1, "submit"), format="json").status_code == 200
    assert staff.post(url(project, 1, "submit"), format="json").status_code == 409
    assert staff.put(url(project, 1), {"overall_goal": GOAL, "rows": TARGET_ROWS}, format="json").status_code == 409
    assert leader.post(url(project, 1, "dept-review"), {"approve": True}, format="json").status_code == 200
    again = leader.post(url(project, 1, "dept-review"), {"approve": True}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "conflict"
    assert finance.post(url(project, 1, "rate"), {"rating": "excellent"}, format="json").status_code == 200
    again = finance.post(url(project, 1, "rate"), {"rating": "poor", "comment": "不通过"}, format="json")
    assert again.status_code == 409
    assert draft(project).rating == TargetRating.EXCELLENT


def test_schema_documents_the_targets_endpoints(db):
    from rest_framework.test import APIClient

    paths = APIClient().get("/api/schema/", {"format": "json"}).json()["paths"]
    assert set(paths["/api/projects/{id}/targets/{number}/"]) == {"get", "put"}
    for action in ("submit", "dept-review", "rate"):
        assert set(paths[f"/api/projects/{{id}}/targets/{{number}}/{action}/"]["post"]["responses"]) == {
            "200",
            "400",
            "403",
            "404",
            "409",
        }
    assert set(paths["/api/projects/{id}/targets/draft/"]["post"]["responses"]) == {
        "200",
        "201",
        "400",
        "403",
        "404",
        "409",
    }


# -- the actions the API offers (issue 17: read from the declared transitions) ----------------


def test_version_lists_the_ratings_only_the_finance_section_may_give_when_the_leader_passed_it(district, project):
    passed(district, project)
    finance = client_for(district.finance).get(url(project, 1)).json()["available_actions"]
    assert sorted((a["name"], a["needs_reason"]) for a in finance) == [
        ("approve", False),
        ("reject", True),
        ("send_back", True),
    ]
    assert {a["label"] for a in finance} == {"审核通过（优、良）", "退回修改（中）", "不予通过（差）"}
    for user in (district.staff_a, district.leader_a):
        assert client_for(user).get(url(project, 1)).json()["available_actions"] == []
    listed = client_for(district.finance).get(url(project)).json()["versions"][0]["available_actions"]
    assert sorted(a["name"] for a in listed) == ["approve", "reject", "send_back"]


@pytest.mark.parametrize(
    ("name", "kwargs", "path"),
    [
        ("project-targets", {"pk": 7}, "/api/projects/7/targets/"),
        ("project-targets-draft", {"pk": 7}, "/api/projects/7/targets/draft/"),
        ("project-targets-change", {"pk": 7}, "/api/projects/7/targets/change/"),
        ("project-target", {"pk": 7, "number": 2}, "/api/projects/7/targets/2/"),
        ("project-target-submit", {"pk": 7, "number": 2}, "/api/projects/7/targets/2/submit/"),
        ("project-target-dept-review", {"pk": 7, "number": 2}, "/api/projects/7/targets/2/dept-review/"),
        ("project-target-rate", {"pk": 7, "number": 2}, "/api/projects/7/targets/2/rate/"),
        ("project-pre-assessment", {"pk": 7}, "/api/projects/7/pre-assessment/"),
    ],
)
def test_project_action_urls_keep_their_names_and_paths(name, kwargs, path):
    """The targets' and the review's start are ViewSet methods mapped on the project's paths:
    the names clients reverse still give the same paths, and those paths resolve back."""
    assert reverse(name, kwargs=kwargs) == path
    match = resolve(path)
    assert match.url_name == name
    assert match.kwargs == kwargs
