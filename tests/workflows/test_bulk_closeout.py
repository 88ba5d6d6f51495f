"""年度关账 (issue 18 item 1c and item 4 "Evaluated projects never close"): a project
evaluated with no findings, or with all its rectifications verified, reaches 已关闭 by the
declared transition ``close_out`` — one at a time, or a year at once as a bulk job — and
one with an open rectification or unissued findings is refused with the reason."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notifications.models import Notification
from processes.errors import ActionNotAllowed
from processes.models import AuditEvent, BudgetProject, Job, SelfEvaluation
from processes.services.audit import audit_verify
from processes.services.closeout import project_close_out, projects_close_out
from processes.services.findings import finding_add
from processes.services.rectification import (
    rectification_acknowledge,
    rectification_issue,
    rectification_report_save,
    rectification_review,
)
from processes.states import JobStatus, ProjectStage
from tests.factories import BudgetProjectFactory
from tests.processes.test_evaluation import accepted, launch

pytestmark = pytest.mark.django_db


def evaluated(district, n=1, dept="a"):
    """``n`` projects of ``dept`` taken through the year to 已评价 by the real services."""
    projects = [district.project(ProjectStage.EXECUTING, dept=dept) for _ in range(n)]
    return projects


def through_evaluation(district, projects):
    launch(district)
    for project in projects:
        accepted(district, project)
    return [BudgetProject.objects.get(pk=p.pk) for p in projects]


def test_evaluated_project_reaches_closed_when_it_has_no_findings(district):
    [project] = through_evaluation(district, evaluated(district))
    assert project.stage == ProjectStage.EVALUATED
    closed = project_close_out(project=project, actor=district.finance)
    assert closed.stage == ProjectStage.CLOSED
    row = AuditEvent.objects.get(object_type="processes.budgetproject", object_id=str(project.pk), action="close_out")
    assert (row.from_state, row.to_state, row.actor_role) == ("evaluated", "closed", "finance_officer")


def test_close_out_is_refused_with_the_reason_when_a_finding_is_not_yet_issued(district):
    [project] = through_evaluation(district, evaluated(district))
    se = SelfEvaluation.objects.get(project=project)
    finding_add(source=se, actor=district.finance, problem="绩效目标不够细化", requirement="细化量化指标")
    with pytest.raises(ActionNotAllowed, match="有 1 个评价发现问题尚未下达整改"):
        project_close_out(project=project, actor=district.finance)
    assert BudgetProject.objects.get(pk=project.pk).stage == ProjectStage.EVALUATED
    assert not AuditEvent.objects.filter(action="close_out").exists()


def test_close_out_is_refused_when_the_actor_is_not_the_finance_section(district):
    [project] = through_evaluation(district, evaluated(district))
    for person in (district.staff_a, district.leader_a, district.supervisor):
        with pytest.raises(PermissionDenied):
            project_close_out(project=project, actor=person)
    assert BudgetProject.objects.get(pk=project.pk).stage == ProjectStage.EVALUATED


# -- the year's close-out as a bulk job ------------------------------------------------------

URL = reverse("workflows:bulk_action", args=["close_out"])
API = reverse("bulk-action", args=["close_out"])


@pytest.fixture
def year(district):
    """The year 2021 after evaluation: two projects with no findings (A, B), one with a
    finding not issued (A), one rectifying (A), one rectified and closed by the cascade (B),
    and one still being evaluated (B, its self-evaluation not accepted)."""
    projects = evaluated(district, 3) + evaluated(district, 3, dept="b")
    evaluating = projects.pop()
    clean_a, unissued, rectifying, clean_b, rectified = through_evaluation(district, projects)
    finding = lambda p, text: finding_add(  # noqa: E731
        source=SelfEvaluation.objects.get(project=p), actor=district.finance, problem=text, requirement="整改"
    )
    finding(unissued, "佐证材料不全")
    rectification_issue(actor=district.finance, findings=[finding(rectifying, "目标不细化")], title="整改一")
    notice = rectification_issue(actor=district.finance, findings=[finding(rectified, "资金拨付滞后")], title="整改二")
    staff = district.staff_b
    rectification_acknowledge(rectification=notice, actor=staff)
    report = [
        {"id": i.pk, "measure": "已整改", "responsible": "张三", "completed_on": "2022-03-01", "progress": "done"}
        for i in notice.items.all()
    ]
    rectification_report_save(rectification=notice, actor=staff, items=report, submit=True)
    rectification_review(rectification=notice, actor=district.finance, verify=True)
    return {
        "clean": [clean_a, clean_b],
        "unissued": unissued,
        "rectifying": rectifying,
        "rectified": rectified,
        "evaluating": evaluating,
    }


def stage_of(project):
    return BudgetProject.objects.get(pk=project.pk).stage


@pytest.mark.parametrize("who", ["staff_a", "leader_a", "supervisor", "auditor"])
def test_screen_and_api_refuse_when_the_role_is_not_finance(client, district, who):
    [project] = through_evaluation(district, evaluated(district))
    client.force_login(getattr(district, who))
    assert client.get(URL).status_code == 403
    assert client.post(API, {"filter": {}}, content_type="application/json").status_code == 403
    assert not Job.objects.exists() and stage_of(project) == ProjectStage.EVALUATED


def test_year_close_out_closes_the_clean_projects_and_lists_the_others_with_reasons(
    client, district, year, django_capture_on_commit_callbacks
):
    assert stage_of(year["rectified"]) == ProjectStage.CLOSED  # the cascade, as before
    client.force_login(district.finance)
    page = client.get(URL, {"fiscal_year": 2021})
    listed = {row[0].pk: row[1][-1] for row in page.context["rows"]}
    assert set(listed) == {p.pk for p in [*year["clean"], year["unissued"], year["rectifying"]]}
    assert listed[year["unissued"].pk] == "不能关账：有 1 个评价发现问题尚未下达整改。"
    assert listed[year["clean"][0].pk] == "—"
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{URL}?fiscal_year=2021", {"scope": "all", "comment": "2021 年度关账"})
    job = Job.objects.get()
    assert response.status_code == 302 and job.status == JobStatus.SUCCEEDED
    assert job.result["done"] == 2 and job.result["refused_count"] == 2
    reasons = {item["id"]: item["reason"] for item in job.result["refused"]}
    assert reasons == {
        year["unissued"].pk: "不能关账：有 1 个评价发现问题尚未下达整改。",
        year["rectifying"].pk: "不能关账：有 1 份整改尚未验收销号。",
    }
    assert [stage_of(p) for p in year["clean"]] == [ProjectStage.CLOSED, ProjectStage.CLOSED]
    assert stage_of(year["unissued"]) == ProjectStage.EVALUATED
    assert stage_of(year["rectifying"]) == ProjectStage.RECTIFYING
    events = AuditEvent.objects.filter(action="close_out")
    assert sorted(int(e.object_id) for e in events) == sorted(p.pk for p in year["clean"])
    assert {(e.actor_role, e.comment) for e in events} == {("finance_officer", "2021 年度关账")}
    # each department told once, of its own project
    assert Notification.objects.filter(recipient=district.staff_a).count() == 1
    assert Notification.objects.filter(recipient=district.staff_b).count() == 1
    assert audit_verify() is None


def test_the_years_stages_add_up_and_none_stays_evaluated_without_a_reason_after_close_out(
    client, district, year, django_capture_on_commit_callbacks
):
    client.force_login(district.finance)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{URL}?fiscal_year=2021", {"scope": "all"})
    refused = {item["id"] for item in Job.objects.get().result["refused"]}
    page = client.get(reverse("workflows:project_list"), {"fiscal_year": 2021})
    stages = {stage: n for stage, _label, n in page.context["stages"]}
    assert sum(stages.values()) == BudgetProject.objects.filter(fiscal_year=2021).count() == 6
    assert stages == {"evaluating": 1, "evaluated": 1, "rectifying": 1, "closed": 3}
    still_evaluated = BudgetProject.objects.filter(fiscal_year=2021, stage=ProjectStage.EVALUATED)
    assert set(still_evaluated.values_list("pk", flat=True)) <= refused
    assert 'data-stage="closed"' in page.content.decode()


def test_a_department_sees_only_its_own_stage_counts_on_the_project_list(client, district, year):
    client.force_login(district.staff_b)
    page = client.get(reverse("workflows:project_list"), {"fiscal_year": 2021})
    stages = {stage: n for stage, _label, n in page.context["stages"]}
    assert stages == {"evaluating": 1, "evaluated": 1, "closed": 1}


def test_statement_count_is_the_same_when_three_or_thirty_projects_are_closed(district):
    def evaluated_rows(n, dept):
        # the rows of evaluated projects (their evaluation is not what this measures)
        made = [BudgetProjectFactory(department=dept, created_by=district.staff_a) for _ in range(n)]
        BudgetProject.objects.filter(pk__in=[p.pk for p in made]).update(stage=ProjectStage.EVALUATED)
        return list(BudgetProject.objects.filter(pk__in=[p.pk for p in made]))

    small = evaluated_rows(2, district.dept_a) + evaluated_rows(1, district.dept_b)
    large = evaluated_rows(20, district.dept_a) + evaluated_rows(10, district.dept_b)
    projects_close_out(actor=district.finance, projects=evaluated_rows(1, district.dept_a))  # the actor's rights read
    counts = []
    for batch in (small, large):
        with CaptureQueriesContext(connection) as queries:
            outcome = projects_close_out(actor=district.finance, projects=batch)
        assert len(outcome.done) == len(batch) and outcome.refused == []
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_api_closes_the_ids_when_finance_posts_them(client, district, django_capture_on_commit_callbacks):
    one, two = through_evaluation(district, evaluated(district, 2))
    client.force_login(district.finance)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(API, {"ids": [one.pk]}, content_type="application/json")
    assert response.status_code == 202
    state = client.get(response["Location"]).json()
    assert state["status"] == "succeeded" and state["result"]["done"] == 1
    assert (stage_of(one), stage_of(two)) == (ProjectStage.CLOSED, ProjectStage.EVALUATED)


# -- the single close-out on the project's page and through the API ---------------------------


def test_project_page_offers_the_close_out_and_closes_it_when_finance_confirms(client, district):
    [project] = through_evaluation(district, evaluated(district))
    client.force_login(district.finance)
    page = client.get(reverse("workflows:project_detail", args=[project.pk]))
    assert "close_out" in {spec.name for spec, _form in page.context["action_forms"]}
    response = client.post(reverse("workflows:project_act", args=[project.pk, "close_out"]), {})
    assert response.status_code == 302 and stage_of(project) == ProjectStage.CLOSED


def test_project_page_refuses_the_close_out_with_the_reason_when_a_finding_is_open(client, district):
    [project] = through_evaluation(district, evaluated(district))
    finding_add(
        source=SelfEvaluation.objects.get(project=project), actor=district.finance, problem="问题", requirement="要求"
    )
    client.force_login(district.finance)
    page = client.get(reverse("workflows:project_detail", args=[project.pk]))
    assert "close_out" not in {spec.name for spec, _form in page.context["action_forms"]}
    response = client.post(reverse("workflows:project_act", args=[project.pk, "close_out"]), {})
    assert response.status_code == 409 and "有 1 个评价发现问题尚未下达整改" in response.content.decode()
    assert stage_of(project) == ProjectStage.EVALUATED


def test_api_closes_one_project_and_refuses_the_department_when_they_post_close_out(client, district):
    one, two = through_evaluation(district, evaluated(district, 2))
    client.force_login(district.leader_a)
    assert client.post(f"/api/projects/{one.pk}/close_out/", {}, content_type="application/json").status_code == 403
    client.force_login(district.finance)
    response = client.post(f"/api/projects/{one.pk}/close_out/", {}, content_type="application/json")
    assert response.status_code == 200 and response.json()["stage"] == "closed"
    assert (stage_of(one), stage_of(two)) == (ProjectStage.CLOSED, ProjectStage.EVALUATED)


def test_close_out_list_reads_the_same_statements_when_it_shows_two_or_twelve_projects(client, district):
    def evaluated_rows(n):
        made = [BudgetProjectFactory(department=district.dept_a, created_by=district.staff_a) for _ in range(n)]
        BudgetProject.objects.filter(pk__in=[p.pk for p in made]).update(stage=ProjectStage.EVALUATED)

    client.force_login(district.finance)
    counts = []
    for n in (2, 10):
        evaluated_rows(n)
        client.get(URL)  # the session and the rights read once
        with CaptureQueriesContext(connection) as queries:
            page = client.get(URL)
        assert len(page.context["rows"]) == {2: 2, 10: 12}[n]
        counts.append(len(queries))
    assert counts[0] == counts[1]
