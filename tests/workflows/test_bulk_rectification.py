"""批量下达整改 (issue 18 item 1b) as real role users, through the screen, the API and the
service: ONE notice per department and source with its findings as items — the rows a
single issue writes (items, the project to 整改中, one audit row per notice) — a finding
already in a notice refused with that notice named, the wrong role refused, one notice
per department member, statements independent of the count."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notifications.models import Notification
from processes.models import AuditEvent, BudgetProject, Finding, Job, Rectification, SelfEvaluation
from processes.services.audit import audit_verify
from processes.services.findings import finding_add
from processes.services.rectification import rectification_issue, rectifications_issue
from processes.states import JobStatus, ProjectStage, RectificationStatus
from tests.processes.test_evaluation import accepted, launch

pytestmark = pytest.mark.django_db

URL = reverse("workflows:bulk_action", args=["issue_rectifications"])
API = reverse("bulk-action", args=["issue_rectifications"])
TITLE = "2021 年度自评发现问题整改"


def evaluated(district, per_dept: dict[str, int]):
    """Projects of each department taken to 已评价 (their self-evaluations accepted)."""
    projects = [district.project(ProjectStage.EXECUTING, dept=d) for d, n in per_dept.items() for _ in range(n)]
    launch(district)
    return [BudgetProject.objects.get(pk=accepted(district, p).project_id) for p in projects]


def findings_of(district, projects, each=1):
    """``each`` findings on each project's self-evaluation."""
    out = []
    for project in projects:
        se = SelfEvaluation.objects.get(project=project)
        for i in range(each):
            out.append(
                finding_add(
                    source=se,
                    actor=district.finance,
                    problem=f"问题{i + 1}",
                    basis="自评办法",
                    requirement=f"要求{i + 1}",
                )
            )
    return out


def test_one_notice_per_department_and_source_holds_its_findings_when_issued_at_once(district):
    projects = evaluated(district, {"a": 2, "b": 1})
    findings = findings_of(district, projects, each=2)
    outcome = rectifications_issue(actor=district.finance, findings=findings, title=TITLE)
    assert sorted(f.pk for f in outcome.done) == sorted(f.pk for f in findings) and outcome.refused == []
    notices = list(Rectification.objects.order_by("pk"))
    assert len(notices) == 3
    for notice, project in zip(notices, projects, strict=True):
        assert (notice.project_id, notice.department_id) == (project.pk, project.department_id)
        assert notice.title == f"{TITLE}：{project.name}" and notice.status == RectificationStatus.ISSUED
        assert notice.deadline == notice.original_deadline and notice.issued_by == district.finance
        items = list(notice.items.order_by("position").values_list("position", "problem", "basis", "requirement"))
        assert items == [(1, "问题1", "自评办法", "要求1"), (2, "问题2", "自评办法", "要求2")]
        assert BudgetProject.objects.get(pk=project.pk).stage == ProjectStage.RECTIFYING
        rows = AuditEvent.objects.filter(object_type="processes.rectification", object_id=str(notice.pk))
        assert [(r.action, r.actor_role) for r in rows] == [("rectification_issue", "finance_officer")]
        assert sorted(rows.get().detail["findings"]) == sorted(i.finding_id for i in notice.items.all())
    moved = AuditEvent.objects.filter(action="open_rectification")
    assert sorted(int(e.object_id) for e in moved) == sorted(p.pk for p in projects)
    assert {e.actor_role for e in moved} == {"finance_officer"}
    assert audit_verify() is None


def test_bulk_notice_is_the_single_issues_notice_when_it_holds_the_same_findings(district):
    one, two = evaluated(district, {"a": 2})
    single = rectification_issue(actor=district.finance, findings=findings_of(district, [one], each=2), title=TITLE)
    rectifications_issue(actor=district.finance, findings=findings_of(district, [two], each=2), title=TITLE)
    bulk = Rectification.objects.exclude(pk=single.pk).get()

    def rows(notice):
        return (
            notice.status,
            notice.department_id,
            list(notice.items.order_by("position").values_list("position", "problem", "basis", "requirement")),
            list(
                AuditEvent.objects.filter(object_type="processes.rectification", object_id=str(notice.pk)).values_list(
                    "action", "from_state", "to_state", "actor_role"
                )
            ),
            BudgetProject.objects.get(pk=notice.project_id).stage,
        )

    assert rows(single) == rows(bulk)


def test_a_finding_already_in_a_notice_is_refused_with_it_while_the_rest_are_issued(district):
    projects = evaluated(district, {"a": 2})
    findings = findings_of(district, projects, each=2)
    earlier = rectification_issue(actor=district.finance, findings=findings[:1], title="先行下达")
    outcome = rectifications_issue(actor=district.finance, findings=findings, title=TITLE)
    assert [f.pk for f in outcome.done] == [f.pk for f in findings[1:]]
    ((refused, reason),) = outcome.refused
    assert refused.pk == findings[0].pk and reason == "该问题已下达过整改（先行下达）。"
    assert earlier.items.count() == 1 and Rectification.objects.count() == 3
    assert Rectification.objects.exclude(pk=earlier.pk).filter(project=projects[0]).get().items.count() == 1


@pytest.mark.parametrize("who", ["staff_a", "leader_a", "supervisor", "auditor"])
def test_screen_and_api_refuse_when_the_role_is_not_finance(client, district, who):
    findings = findings_of(district, evaluated(district, {"a": 1}))
    client.force_login(getattr(district, who))
    assert client.get(URL).status_code == 403
    response = client.post(API, {"ids": [f.pk for f in findings]}, content_type="application/json")
    assert response.status_code == 403
    assert not Job.objects.exists() and not Rectification.objects.exists()


def test_each_department_member_gets_one_notice_when_its_notices_are_issued_together(district):
    projects = evaluated(district, {"a": 3, "b": 1})
    findings = findings_of(district, projects)
    Notification.objects.all().delete()
    rectifications_issue(actor=district.finance, findings=findings, title=TITLE)
    # as for a single issue, the notice and the project's move to 整改中 — each once for all
    for member in (district.staff_a, district.leader_a, district.leader_a2):
        notes = Notification.objects.filter(recipient=member)
        assert sorted((n.params["action"], n.params["count"]) for n in notes) == [("下达整改", 3), ("下达整改通知", 3)]
    only = Notification.objects.get(recipient=district.staff_b, kind="task")  # one notice: its own message
    assert only.url == Rectification.objects.get(department=district.dept_b).get_absolute_url()
    assert only.params["count"] == 1 and only.params["title"].startswith(TITLE)
    assert Notification.objects.filter(recipient=district.staff_b).count() == 2


def test_statement_count_is_the_same_when_three_or_thirty_findings_are_issued(district):
    projects = evaluated(district, {"a": 4, "b": 2})
    small = findings_of(district, [projects[0], projects[1], projects[4]])
    large = findings_of(district, [projects[2], projects[3], projects[5]], each=10)
    counts = []
    for batch in (small, large):
        with CaptureQueriesContext(connection) as queries:
            outcome = rectifications_issue(actor=district.finance, findings=batch, title=TITLE)
        assert len(outcome.done) == len(batch)
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_screen_issues_the_filtered_findings_when_finance_confirms(
    client, district, django_capture_on_commit_callbacks
):
    projects = evaluated(district, {"a": 1, "b": 1})
    findings = findings_of(district, projects)
    client.force_login(district.finance)
    page = client.get(URL, {"department": district.dept_b.pk})
    assert page.status_code == 200 and [row[0].pk for row in page.context["rows"]] == [findings[1].pk]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{URL}?department={district.dept_b.pk}", {"scope": "all", "comment": "专项整改"})
    job = Job.objects.get()
    assert response.status_code == 302 and job.status == JobStatus.SUCCEEDED and job.result["done"] == 1
    notice = Rectification.objects.get()
    assert notice.department_id == district.dept_b.pk and notice.title.startswith("专项整改：")
    assert not Finding.objects.filter(pk=findings[0].pk, rectification_item__isnull=False).exists()


def test_api_lists_an_issued_finding_as_refused_when_its_id_is_posted(
    client, district, django_capture_on_commit_callbacks
):
    projects = evaluated(district, {"a": 2})
    findings = findings_of(district, projects)
    rectification_issue(actor=district.finance, findings=findings[:1], title="先行下达")
    client.force_login(district.finance)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(API, {"ids": [f.pk for f in findings]}, content_type="application/json")
    assert response.status_code == 202
    result = client.get(response["Location"]).json()["result"]
    assert result["done"] == 1 and result["refused_count"] == 1
    assert result["refused"][0]["id"] == findings[0].pk and "先行下达" in result["refused"][0]["reason"]
    assert Rectification.objects.count() == 2


def test_findings_list_reads_the_same_statements_when_it_shows_two_or_twelve_findings(client, district):
    projects = evaluated(district, {"a": 1, "b": 1})
    client.force_login(district.finance)
    counts = []
    for each in (1, 5):
        findings = findings_of(district, projects, each=each)
        rectification_issue(actor=district.finance, findings=findings[:1], title="先行下达")
        client.get(URL)
        with CaptureQueriesContext(connection) as queries:
            page = client.get(URL)
        assert len(page.context["rows"]) == {1: 2, 5: 12}[each]
        counts.append(len(queries))
    assert counts[0] == counts[1]
