"""批量下达预算 (bulk start_execution) as real role users, through the screen and the API:
the wrong role refused, a refused item among the others, one audit row each with the
actor's role, one notice per department member, statements independent of the count."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notifications.models import Notification
from processes.models import AuditEvent, BudgetProject, Job
from processes.services.audit import audit_verify
from processes.services.projects import projects_start_execution_many
from processes.states import JobStatus, ProjectStage

pytestmark = pytest.mark.django_db

URL = reverse("workflows:bulk_action", args=["start_execution"])
API = reverse("bulk-action", args=["start_execution"])


def budgeted(district, n, dept="a"):
    return [district.project(ProjectStage.BUDGETED, dept=dept) for _ in range(n)]


def test_screen_lists_only_budgeted_projects_when_finance_opens_it(client, district):
    mine = budgeted(district, 2)
    district.project(ProjectStage.SUBMITTED)
    client.force_login(district.finance)
    response = client.get(URL)
    assert response.status_code == 200
    assert [row[0].pk for row in response.context["rows"]] == [p.pk for p in mine]


@pytest.mark.parametrize("who", ["staff_a", "leader_a", "supervisor"])
def test_screen_and_api_refuse_when_the_role_is_not_finance(client, district, who):
    budgeted(district, 1)
    client.force_login(getattr(district, who))
    assert client.get(URL).status_code == 403
    assert client.post(API, {"filter": {}}, content_type="application/json").status_code == 403
    assert not Job.objects.exists()


def test_all_matching_projects_start_execution_when_finance_confirms_on_screen(
    client, district, django_capture_on_commit_callbacks
):
    a = budgeted(district, 3)
    b = budgeted(district, 1, dept="b")
    client.force_login(district.finance)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{URL}?department={district.dept_a.pk}", {"scope": "all", "comment": "预算已批复"})
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("processes:job_detail", args=[job.pk])
    assert job.status == JobStatus.SUCCEEDED and job.result["done"] == 3 and job.result["refused"] == []
    assert set(BudgetProject.objects.filter(pk__in=[p.pk for p in a]).values_list("stage", flat=True)) == {
        ProjectStage.EXECUTING
    }
    assert BudgetProject.objects.get(pk=b[0].pk).stage == ProjectStage.BUDGETED
    events = AuditEvent.objects.filter(action="start_execution")
    assert sorted(int(e.object_id) for e in events) == sorted(p.pk for p in a)
    assert {e.actor_role for e in events} == {"finance_officer"} and {e.comment for e in events} == {"预算已批复"}
    assert audit_verify() is None
    page = client.get(reverse("processes:job_detail", args=[job.pk]))
    assert page.status_code == 200


def test_a_refused_project_is_listed_and_untouched_while_the_rest_start(district):
    projects = budgeted(district, 3)
    # someone moved the second one since the list was read
    moved = projects_start_execution_many(projects=[projects[1]], actor=district.finance).done[0]
    outcome = projects_start_execution_many(projects=projects, actor=district.finance)
    assert [p.pk for p in outcome.done] == [projects[0].pk, projects[2].pk]
    ((refused, reason),) = outcome.refused
    assert refused.pk == moved.pk and "已被他人处理" in reason
    assert AuditEvent.objects.filter(action="start_execution", object_id=str(moved.pk)).count() == 1


def test_department_member_gets_one_notice_when_five_of_its_projects_start(district):
    projects = budgeted(district, 5)
    Notification.objects.all().delete()
    projects_start_execution_many(projects=projects, actor=district.finance)
    for member in (district.staff_a, district.leader_a, district.leader_a2):
        notes = Notification.objects.filter(recipient=member)
        assert notes.count() == 1
        assert notes.get().params["count"] == 5
    assert not Notification.objects.filter(recipient=district.staff_b).exists()


def test_statement_count_is_the_same_when_three_or_thirty_projects_start(district):
    small = budgeted(district, 3) + budgeted(district, 1, dept="b")
    large = budgeted(district, 29) + budgeted(district, 1, dept="b")
    counts = []
    for batch in (small, large):
        with CaptureQueriesContext(connection) as queries:
            projects_start_execution_many(projects=batch, actor=district.finance)
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_api_starts_a_job_over_the_ids_when_finance_posts_them(client, district, django_capture_on_commit_callbacks):
    projects = budgeted(district, 2)
    client.force_login(district.finance)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(API, {"ids": [projects[0].pk]}, content_type="application/json")
    assert response.status_code == 202
    job = Job.objects.get()
    assert response["Location"] == reverse("job-detail", args=[job.pk])
    state = client.get(response["Location"]).json()
    assert state["status"] == "succeeded" and state["result"]["done"] == 1
    assert BudgetProject.objects.get(pk=projects[1].pk).stage == ProjectStage.BUDGETED


def test_api_refuses_ids_of_another_department_when_a_leader_could_not_see_them(client, district):
    projects = budgeted(district, 1)
    client.force_login(district.finance)
    response = client.post(API, {"ids": [projects[0].pk, 999999]}, content_type="application/json")
    assert response.status_code == 400 and "999999" in str(response.json())
    assert not Job.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"filter": {"department": 2**70}},
        {"filter": {"department": "x"}},
        {"ids": [2**70]},
        {"filter": {"fiscal_year": 2**70, "amount_min": "1e400"}},
        {"filter": {"amount_min": "500", "amount_max": "100"}},
        {"filter": []},
        {"ids": []},
        {"ids": [1], "filter": {}},
        {},
    ],
)
def test_api_answers_400_and_starts_nothing_when_the_selection_is_bad(client, district, body):
    budgeted(district, 1)
    client.force_login(district.finance)
    response = client.post(API, body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert not Job.objects.exists()


def test_screen_answers_400_with_the_message_when_nothing_is_ticked(client, district):
    budgeted(district, 2)
    client.force_login(district.finance)
    response = client.post(URL, {"scope": "ticked", "comment": "x"})
    assert response.status_code == 400
    assert "请至少选择一项" in response.content.decode()
    assert not Job.objects.exists()
