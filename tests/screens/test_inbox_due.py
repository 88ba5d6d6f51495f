"""Due dates in the inbox (issue 7 item 4): shown from TaskDue, sortable (tasks without one
last), coloured when near or past; the same order on /api/tasks/; query counts flat."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from processes.states import ProjectStage
from tests.api.support import client_for
from workflows.models import TaskDue
from workflows.selectors import task_inbox_for

pytestmark = pytest.mark.django_db


def inbox(client, user, query=""):
    client.force_login(user)
    response = client.get(f"/{query}")
    assert response.status_code == 200
    return response


@pytest.fixture
def three(district):
    """Three 部门审核 tasks for department A's leaders: due in 10 days, overdue by 2, none."""
    projects = [district.project(ProjectStage.SUBMITTED) for _ in range(3)]
    tasks = list(task_inbox_for(district.leader_a))  # created order
    now = timezone.now()
    TaskDue.objects.filter(task=tasks[0]).update(due_at=now + timedelta(days=10))
    TaskDue.objects.filter(task=tasks[1]).update(due_at=now - timedelta(days=2))
    TaskDue.objects.filter(task=tasks[2]).delete()
    return projects, tasks


def ids(response) -> list[int]:
    return [row.task.pk for row in response.context["rows"]]


def test_inbox_sorts_by_due_when_asked_with_tasks_without_one_last(client, district, three):
    _projects, tasks = three
    first, overdue, undated = (t.pk for t in tasks)

    # by due date unless asked otherwise (issue 17: one inbox, sorted by due date)
    assert ids(inbox(client, district.leader_a)) == [overdue, first, undated]
    assert ids(inbox(client, district.leader_a, "?sort=due")) == [overdue, first, undated]
    assert ids(inbox(client, district.leader_a, "?sort=-due")) == [first, overdue, undated]
    assert ids(inbox(client, district.leader_a, "?sort=created")) == [first, overdue, undated]
    assert ids(inbox(client, district.leader_a, "?sort=nonsense")) == [overdue, first, undated]


def test_inbox_header_links_the_other_order_when_sorted(client, district, three):
    default = inbox(client, district.leader_a).content.decode()  # by due date
    ascending = inbox(client, district.leader_a, "?sort=due").content.decode()
    descending = inbox(client, district.leader_a, "?sort=-due").content.decode()
    created = inbox(client, district.leader_a, "?sort=created").content.decode()

    assert 'href="?sort=-due"' in default and 'href="?sort=created"' in default
    assert 'href="?sort=-due"' in ascending and "按创建时间" in ascending
    assert 'href="?sort=due"' in descending
    assert 'href="?sort=due"' in created and "按创建时间" not in created


def test_inbox_shows_the_due_time_from_taskdue_and_colours_overdue_and_due_soon_rows(client, district):
    for _ in range(3):
        district.project(ProjectStage.SUBMITTED)
    later, soon, past = task_inbox_for(district.leader_a)
    now = timezone.now()
    TaskDue.objects.filter(task=later).update(due_at=now + timedelta(days=10))
    TaskDue.objects.filter(task=soon).update(due_at=now + timedelta(days=2))
    TaskDue.objects.filter(task=past).update(due_at=now.replace(year=2020, month=1, day=1, hour=0, minute=0))

    response = inbox(client, district.leader_a)
    body = response.content.decode()
    states = {row.task.pk: row.due_state for row in response.context["rows"]}

    assert states == {later.pk: "", soon.pk: "due-soon", past.pk: "overdue"}
    assert body.count('<tr class="overdue"') == 1 and body.count('<tr class="due-soon"') == 1
    assert body.count("已逾期") == 1 and body.count("即将到期") == 1
    assert "2020-01-01 08:00" in body  # the TaskDue time, in Beijing time
    # its colour: in the site's stylesheet (the CSP allows no <style> block; decision 0015)
    assert "css/jixiao.css" in body
    assert "tr.due-soon td" in (Path(settings.BASE_DIR) / "static" / "css" / "jixiao.css").read_text()


def test_inbox_queries_stay_flat_when_there_are_more_tasks(client, district):
    district.project(ProjectStage.SUBMITTED)
    client.force_login(district.leader_a)
    client.get("/?sort=due")  # warm caches (content types, permissions)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/?sort=due").status_code == 200
    for _ in range(4):
        district.project(ProjectStage.SUBMITTED)
    with CaptureQueriesContext(connection) as many:
        response = client.get("/?sort=due")
    assert len(response.context["rows"]) == 5
    assert len(many) == len(few)


def test_task_api_orders_by_due_at_and_reports_the_taskdue_time(district, three):
    _projects, tasks = three
    first, overdue, undated = (t.pk for t in tasks)
    api = client_for(district.leader_a)

    def listed(query=""):
        response = api.get(f"/api/tasks/{query}")
        assert response.status_code == 200
        return response.json()["results"]

    assert [t["id"] for t in listed()] == [overdue, first, undated]  # by due date by default (issue 17)
    assert [t["id"] for t in listed("?ordering=due_at")] == [overdue, first, undated]
    assert [t["id"] for t in listed("?ordering=-due_at")] == [first, overdue, undated]
    assert [t["id"] for t in listed("?ordering=created")] == [first, overdue, undated]
    by_id = {t["id"]: t for t in listed()}
    assert by_id[undated]["due_at"] is None
    due = TaskDue.objects.get(task_id=overdue).due_at
    assert by_id[overdue]["due_at"] == timezone.localtime(due).isoformat()


def test_task_api_queries_stay_flat_when_there_are_more_tasks(district):
    district.project(ProjectStage.SUBMITTED)
    api = client_for(district.leader_a)
    api.get("/api/tasks/?ordering=due_at")
    with CaptureQueriesContext(connection) as few:
        api.get("/api/tasks/?ordering=due_at")
    for _ in range(4):
        district.project(ProjectStage.SUBMITTED)
    with CaptureQueriesContext(connection) as many:
        assert len(api.get("/api/tasks/?ordering=due_at").json()["results"]) == 5
    assert len(many) == len(few)
