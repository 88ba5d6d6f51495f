"""/api/tasks/ is the one inbox (issue 17, item 4): flow tasks (kind "task", with the fields
they always had) and state-machine steps (kind "step") in one paginated list, scoped as the
screen, filtered by ?kind=, in a fixed number of queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.pagination import PageNumberPagination

from processes.services.findings import finding_add
from processes.services.rectification import rectification_issue
from processes.states import ProjectStage as S
from tests.processes.test_evaluation import accepted, launch

from .support import client_for

pytestmark = pytest.mark.django_db

COLUMNS = {
    "kind",
    "key",
    "id",
    "title",
    "action",
    "object",
    "project",
    "department_name",
    "status",
    "owner",
    "created_at",
    "due_at",
    "url",
    "available_actions",
}


def listed(user, query=""):
    response = client_for(user).get(f"/api/tasks/{query}")
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def rectification(district):
    project = district.project(S.EXECUTING)
    launch(district)
    se = accepted(district, project)
    finding = finding_add(source=se, actor=district.finance, problem="佐证材料不全", requirement="补齐材料")
    return rectification_issue(actor=district.finance, findings=[finding], title="2021 年度自评发现问题整改")


def test_api_lists_the_task_and_the_step_with_the_same_fields_when_the_leader_has_both(district, rectification):
    project = district.project(S.SUBMITTED, name="渠道清淤")

    body = listed(district.leader_a)

    assert body["count"] == 2
    task, step = body["results"]  # by due date: the task (a few days) before the rectification (30)
    assert set(task) == set(step) == COLUMNS
    assert task["kind"] == "task" and task["key"] == f"task-{task['id']}"
    assert task["title"] == "部门审核" and task["action"] == "审核通过 / 退回修改"
    assert task["object"] == {"type": "project", "id": project.pk, "name": "渠道清淤"}
    assert task["project"]["id"] == project.pk and task["department_name"] == "区农水局"
    assert task["url"] == f"/tasks/{task['id']}/" and task["status"] == "NEW" and task["due_at"]
    assert [a["name"] for a in task["available_actions"]] == ["approve", "send_back"]
    assert step == {
        "kind": "step",
        "key": f"rectification-{rectification.pk}",
        "id": None,
        "title": "整改",
        "action": "签收整改通知",
        "object": {"type": "rectification", "id": rectification.pk, "name": "2021 年度自评发现问题整改"},
        "project": step["project"],
        "department_name": "区农水局",
        "status": "NEW",
        "owner": None,
        "created_at": step["created_at"],
        "due_at": step["due_at"],
        "url": rectification.get_absolute_url(),
        "available_actions": [],
    }
    assert step["due_at"] and step["created_at"]
    # a task's detail is still there; a step is read on its own page
    assert client_for(district.leader_a).get(f"/api/tasks/{task['id']}/").json()["key"] == task["key"]


def test_api_keeps_one_kind_when_filtered_and_pages_both(district, rectification, monkeypatch):
    district.project(S.SUBMITTED)
    monkeypatch.setattr(PageNumberPagination, "page_size", 1)

    assert [t["kind"] for t in listed(district.leader_a, "?kind=task")["results"]] == ["task"]
    assert [t["kind"] for t in listed(district.leader_a, "?kind=step")["results"]] == ["step"]
    first = listed(district.leader_a)
    second = listed(district.leader_a, "?page=2")
    assert first["count"] == 2 and first["next"] and second["previous"]
    assert [first["results"][0]["kind"], second["results"][0]["kind"]] == ["task", "step"]
    assert client_for(district.leader_a).get("/api/tasks/?page=3").status_code == 404


def test_api_never_lists_another_departments_step_when_its_rectification_waits(district, rectification):
    b = district.project(S.SUBMITTED, dept="b")

    for user in (district.staff_b, district.leader_b):
        rows = listed(user)["results"]
        assert [t["kind"] for t in rows if t["kind"] == "step"] == []
        assert all(t["project"]["id"] == b.pk for t in rows)
    for user in (district.expert, district.deputy, district.agency_staff, district.auditor, district.supervisor):
        assert [t for t in listed(user)["results"] if t["kind"] == "step"] == []
    assert [t["action"] for t in listed(district.staff_a)["results"]] == ["签收整改通知"]


def test_api_query_count_stays_flat_when_both_kinds_grow(district):
    def make(n: int) -> None:
        for i in range(n):
            district.project(S.DEPT_APPROVED, dept="ab"[i % 2])  # a task: 财政受理
            district.project(S.BUDGETED, dept="ab"[i % 2])  # a step: 下达预算，开始执行

    finance = client_for(district.finance)
    make(1)
    finance.get("/api/tasks/")  # warm the user's permission cache
    with CaptureQueriesContext(connection) as few:
        rows = finance.get("/api/tasks/").json()["results"]
    assert sorted(t["kind"] for t in rows) == ["step", "task"]
    make(4)
    with CaptureQueriesContext(connection) as many:
        rows = finance.get("/api/tasks/").json()["results"]
    assert sorted(t["kind"] for t in rows) == ["step"] * 5 + ["task"] * 5
    assert len(many) == len(few)


def test_an_expert_sees_only_their_own_panel_seat_when_an_evaluation_is_under_review(district):
    from processes.states import EvaluationStatus
    from tests.processes.test_commissioned import Chain

    chain = Chain(district)
    ev = chain.step(chain.commission_key(), EvaluationStatus.EXPERT_REVIEW)
    seated = {m.user for m in chain.panel(ev)}
    outside = [u for u in chain.experts if u not in seated]

    for user in seated:
        [row] = listed(user)["results"]
        assert (row["kind"], row["action"], row["status"]) == ("step", "提交评审建议", "ASSIGNED")
        assert row["object"] == {"type": "panel_review", "id": ev.pk, "name": ev.title}
        assert row["owner"] == str(user) and row["url"] == ev.get_absolute_url()
    assert outside and all(listed(user)["results"] == [] for user in outside)
    # the agency that runs it waits for the panel; another agency sees nothing
    assert [t["action"] for t in listed(chain.staff)["results"]] == ["汇总专家建议并定稿"]
    assert listed(chain.outsider_staff)["results"] == []
