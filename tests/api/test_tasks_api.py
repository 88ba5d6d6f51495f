"""The task inbox API: who sees which task, and what they may do with it."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from viewflow.workflow.models import Task

from processes.states import ProjectStage as S

from .support import ROLES, client_for


def open_task(project) -> Task:
    return Task.objects.get(process__projectprocess__project=project, status="NEW", flow_task_type="HUMAN")


#: stage of department A's project → who has its open task in their inbox
INBOX = {
    S.SUBMITTED: {"leader_a", "leader_a2"},
    S.DEPT_APPROVED: {"finance"},
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("stage", list(INBOX))
def test_inbox_holds_the_task_only_when_the_role_may_do_it_on_a_visible_project(district, stage, role):
    project = district.project(stage, dept="a")
    task = open_task(project)
    client = client_for(getattr(district, role))

    listed = client.get("/api/tasks/")
    detail = client.get(f"/api/tasks/{task.pk}/")

    assert listed.status_code == 200
    if role in INBOX[stage]:
        assert [t["id"] for t in listed.json()["results"]] == [task.pk]
        assert detail.status_code == 200
        assert detail.json()["project"]["id"] == project.pk
    else:
        assert listed.json()["results"] == []
        assert detail.status_code == 404


def test_inbox_of_a_leader_holds_only_their_department_when_both_departments_submitted(district):
    a = district.project(S.SUBMITTED, dept="a")
    b = district.project(S.SUBMITTED, dept="b")

    leader_a = client_for(district.leader_a).get("/api/tasks/").json()["results"]
    leader_b = client_for(district.leader_b).get("/api/tasks/").json()["results"]

    assert [t["project"]["id"] for t in leader_a] == [a.pk]
    assert [t["project"]["id"] for t in leader_b] == [b.pk]
    assert client_for(district.leader_a).get(f"/api/tasks/{open_task(b).pk}/").status_code == 404


def test_task_shows_project_due_date_and_actions_when_the_leader_reads_it(district):
    project = district.project(S.SUBMITTED, name="渠道清淤")

    [task] = client_for(district.leader_a).get("/api/tasks/").json()["results"]

    assert task["title"] == "部门审核"
    assert task["status"] == "NEW"
    assert task["owner"] is None
    assert task["due_at"]
    assert task["project"] == {
        "id": project.pk,
        "code": project.code,
        "name": "渠道清淤",
        "department": district.dept_a.pk,
        "department_name": "区农水局",
    }
    # withdraw is open to the leader too, but it does not complete this task.
    assert task["available_actions"] == [
        {"name": "approve", "label": "审核通过", "needs_reason": False},
        {"name": "send_back", "label": "退回修改", "needs_reason": True},
    ]


@pytest.mark.parametrize(
    "amount,actions",
    [
        (Decimal("1200000.00"), ["route_to_pre_assessment", "route_to_target_review"]),
        (Decimal("5000000.00"), ["route_to_pre_assessment"]),
    ],
)
def test_intake_task_offers_target_review_only_when_below_the_threshold(district, amount, actions):
    district.project(S.DEPT_APPROVED, amount=amount)

    [task] = client_for(district.finance).get("/api/tasks/").json()["results"]

    assert task["title"] == "财政受理"
    assert [a["name"] for a in task["available_actions"]] == actions


def test_task_leaves_the_inbox_when_it_is_done_through_the_project_action(district):
    project = district.project(S.SUBMITTED)
    task = open_task(project)
    leader = client_for(district.leader_a)

    assert leader.post(f"/api/projects/{project.pk}/approve/", {}, format="json").status_code == 200

    assert leader.get("/api/tasks/").json()["results"] == []
    assert leader.get(f"/api/tasks/{task.pk}/").status_code == 404
    assert client_for(district.leader_a2).get("/api/tasks/").json()["results"] == []


def test_second_leader_gets_409_when_the_first_already_decided(district):
    project = district.project(S.SUBMITTED)

    first = client_for(district.leader_a).post(f"/api/projects/{project.pk}/approve/", {}, format="json")
    second = client_for(district.leader_a2).post(
        f"/api/projects/{project.pk}/send_back/", {"comment": "晚了一步"}, format="json"
    )

    assert first.status_code == 200
    assert second.status_code == 409
    project.refresh_from_db()
    assert project.stage == S.DEPT_APPROVED


def test_inbox_query_count_stays_flat_when_tasks_are_added(district):
    finance = client_for(district.finance)
    district.project(S.DEPT_APPROVED, dept="a")
    finance.get("/api/tasks/")  # warm the user's permission cache

    with CaptureQueriesContext(connection) as one:
        assert len(finance.get("/api/tasks/").json()["results"]) == 1
    for dept in "abab":
        district.project(S.DEPT_APPROVED, dept=dept)
    with CaptureQueriesContext(connection) as five:
        assert len(finance.get("/api/tasks/").json()["results"]) == 5

    assert len(five.captured_queries) == len(one.captured_queries)


def test_tasks_are_refused_when_not_authenticated(district):
    project = district.project(S.SUBMITTED)

    assert APIClient().get("/api/tasks/").status_code in (401, 403)
    assert APIClient().get(f"/api/tasks/{open_task(project).pk}/").status_code in (401, 403)
