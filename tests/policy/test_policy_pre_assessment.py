"""重大政策事前评估 (issue 19 item 3, decision 0027): a policy registered on the screen goes
through the one pre-assessment — agency, panel (deputies included), opinions, conclusion,
reduction, confirmation — as real role users; who sees it, and every refusal."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification
from processes.models import AuditEvent, BudgetProject, PanelMember, Policy, PreAssessment
from processes.services import policy as policy_services
from processes.states import PreAssessmentStatus, ProjectStage
from tests.api.support import client_for
from tests.processes.test_pre_assessment import FULL_SCORES, Review

FUNDING = "50000000.00"


@pytest.fixture
def review(district):
    return Review(district)


def form_data(review, **changes):
    data = {
        "name": "区农村供水保障政策",
        "department": review.d.dept_a.pk,
        "co_departments": [review.d.dept_b.pk],
        "start_year": 2026,
        "end_year": 2028,
        "funding": FUNDING,
        "category": "infrastructure",
        "goals": "三年内农村集中供水覆盖率达到 98%。",
    }
    data.update(changes)
    return data


def register(review, **changes) -> Policy:
    data = form_data(review, **changes)
    return policy_services.policy_register(
        actor=review.d.finance,
        name=data["name"],
        department=review.d.dept_a,
        co_departments=[review.d.dept_b],
        start_year=data["start_year"],
        end_year=data["end_year"],
        funding=Decimal(data["funding"]),
        goals=data["goals"],
        category=data["category"],
    )


def seated(pa) -> list[PanelMember]:
    return list(
        PanelMember.objects.filter(pre_assessment=pa, active=True).select_related("user", "opinion").order_by("seat")
    )


def test_policy_is_decided_when_each_role_acts_on_the_screens_and_the_api(review, client):
    finance_web = client
    finance_web.force_login(review.d.finance)
    created = finance_web.post(reverse("workflows:policy_new"), form_data(review))
    assert created.status_code == 302, created.content.decode()
    policy = Policy.objects.get()
    assert created.url == reverse("workflows:policy_detail", args=[policy.pk])
    carrier = policy.project
    assert carrier.stage == ProjectStage.PRE_ASSESSMENT
    assert carrier.department == review.d.dept_a
    assert carrier.requested_amount == Decimal(FUNDING)
    assert carrier.code == "ZC2026-001"
    assert list(policy.co_departments.all()) == [review.d.dept_b]
    assert AuditEvent.objects.filter(object_type="processes.policy", object_id=str(policy.pk), action="create").exists()
    assert AuditEvent.objects.filter(
        object_type="processes.budgetproject", object_id=str(carrier.pk), action="register_policy"
    ).exists()

    page = finance_web.get(reverse("workflows:policy_detail", args=[policy.pk]))
    assert "发起事前绩效评估" in page.content.decode()
    begun = finance_web.post(
        reverse("workflows:pre_assessment_begin", args=[carrier.pk]),
        {"agency": review.agency.pk, "due_at": (timezone.localtime() + timedelta(days=7)).strftime("%Y-%m-%d %H:%M")},
    )
    assert begun.status_code == 302, begun.content.decode()
    pa = PreAssessment.objects.get(project=carrier)
    assert pa.status == PreAssessmentStatus.INITIATED

    shown = finance_web.get(reverse("workflows:pre_assessment", args=[pa.pk])).content.decode()
    assert "重大政策事前绩效评估" in shown
    assert reverse("workflows:policy_detail", args=[policy.pk]) in shown
    assert "三年内农村集中供水覆盖率达到 98%。" in shown

    agency = client_for(review.staff)
    drawn = agency.post(f"/api/pre-assessments/{pa.pk}/draw/", {}, format="json")
    assert drawn.status_code == 200, drawn.json()
    panel = drawn.json()["panel"]
    assert [m["seat"] for m in panel] == [1, 2, 3, 4, 5]
    assert {m["kind"] for m in panel} == {"expert", "deputy"}  # the same rules: deputies sit too
    assert review.same_dept.pk not in {m.user_id for m in seated(pa)}  # the lead department's own never

    for member in seated(pa):
        sent = client_for(member.user).put(
            f"/api/pre-assessments/{pa.pk}/my-opinion/",
            {
                "scores": FULL_SCORES,
                "recommendation": "partial",
                "recommended_amount": "42000000.00",
                "text": "第三年资金测算偏高",
                "reduction_items": [
                    {"item": "管网改造", "requested": "20000000.00", "approved": "12000000.00", "reason": "单价偏高"}
                ],
                "submit": True,
            },
            format="json",
        )
        assert sent.status_code == 200, sent.json()
    assert agency.get(f"/api/pre-assessments/{pa.pk}/").json()["status"] == "opinions_collected"

    proposed = agency.post(
        f"/api/pre-assessments/{pa.pk}/conclude/",
        {"conclusion": "partial", "approved_amount": "42000000.00", "reasons": "管网改造核减 800 万"},
        format="json",
    )
    assert proposed.status_code == 200, proposed.json()
    assert proposed.json()["reduction"] == "8000000.00"
    assert proposed.json()["reduction_rate"] == "16.00"

    confirmed = client_for(review.d.finance).post(f"/api/pre-assessments/{pa.pk}/confirm/", {}, format="json")
    assert confirmed.status_code == 200, confirmed.json()
    carrier = BudgetProject.objects.get(pk=carrier.pk)
    # No targets to wait for: the policy is adopted with the approved amount.
    assert carrier.stage == ProjectStage.BUDGETED
    assert carrier.approved_amount == Decimal("42000000.00")
    assert AuditEvent.objects.filter(
        object_type="processes.budgetproject", object_id=str(carrier.pk), action="adopt_policy"
    ).exists()
    # every member is told the outcome, as for a project
    for member in seated(pa):
        assert Notification.objects.filter(recipient=member.user).exists()
    # and a panel member sees the policy's review page and the policy itself
    member_web = client.__class__()
    member_web.force_login(seated(pa)[0].user)
    assert member_web.get(reverse("workflows:pre_assessment", args=[pa.pk])).status_code == 200
    assert member_web.get(reverse("workflows:policy_detail", args=[policy.pk])).status_code == 200

    listed = client_for(review.d.finance).get(f"/api/policies/{policy.pk}/").json()
    assert listed["stage"] == "budgeted"
    assert listed["approved_amount"] == "42000000.00"
    assert [r["status"] for r in listed["pre_assessments"]] == ["confirmed"]


def test_policy_is_rejected_when_the_conclusion_is_reject(review):
    from workflows.services import (
        opinion_submit,
        pre_assessment_begin,
        pre_assessment_decide,
        pre_assessment_draw,
        pre_assessment_propose,
    )

    policy = register(review)
    pa = pre_assessment_begin(
        project=policy.project, actor=review.d.finance, agency=review.agency, due_at=timezone.now() + timedelta(days=7)
    )
    pa = pre_assessment_draw(pre_assessment=pa, actor=review.staff)
    for member in seated(pa):
        opinion_submit(
            opinion=member.opinion,
            actor=member.user,
            scores=FULL_SCORES,
            recommendation="reject",
            recommended_amount="0",
            text="目标不明确",
        )
    pa = pre_assessment_propose(
        pre_assessment=pa, actor=review.staff, conclusion="reject", approved_amount=Decimal("0"), reasons="不予支持"
    )
    pre_assessment_decide(pre_assessment=pa, actor=review.d.finance, confirm=True)
    policy.project.refresh_from_db()
    assert policy.project.stage == ProjectStage.REJECTED


# -- the API ---------------------------------------------------------------------------------


def test_policy_is_registered_and_its_review_begun_when_finance_uses_the_api(review):
    finance = client_for(review.d.finance)
    body = form_data(review)
    created = finance.post("/api/policies/", body, format="json")
    assert created.status_code == 201, created.json()
    data = created.json()
    assert data["stage"] == "pre_assessment"
    assert data["department_name"] == "区农水局"
    assert data["co_departments"] == [review.d.dept_b.pk]
    assert data["pre_assessments"] == []
    begun = finance.post(
        f"/api/policies/{data['id']}/pre-assessment/",
        {"agency": review.agency.pk, "due_at": (timezone.now() + timedelta(days=7)).isoformat()},
        format="json",
    )
    assert begun.status_code == 201, begun.json()
    assert begun.json()["status"] == "initiated"
    again = finance.post(
        f"/api/policies/{data['id']}/pre-assessment/",
        {"agency": review.agency.pk, "due_at": (timezone.now() + timedelta(days=7)).isoformat()},
        format="json",
    )
    assert again.status_code == 409


def test_policy_is_refused_with_nothing_written_when_the_period_is_reversed(review):
    finance = client_for(review.d.finance)
    answer = finance.post("/api/policies/", form_data(review, start_year=2028, end_year=2026), format="json")
    assert answer.status_code == 400
    assert "end_year" in answer.json()
    assert not Policy.objects.exists()
    assert not BudgetProject.objects.filter(code__startswith="ZC").exists()


def test_policy_form_shows_errors_when_the_funding_is_missing(review, client):
    client.force_login(review.d.finance)
    answer = client.post(reverse("workflows:policy_new"), form_data(review, funding=""))
    assert answer.status_code == 400
    assert "policy-form" in answer.content.decode()
    assert not Policy.objects.exists()


@pytest.mark.parametrize("who", ["staff_a", "leader_a", "supervisor", "auditor", "sysadmin"])
def test_registering_is_forbidden_when_the_user_is_not_finance(review, client, who):
    user = getattr(review.d, who)
    assert client_for(user).post("/api/policies/", form_data(review), format="json").status_code == 403
    client.force_login(user)
    assert client.get(reverse("workflows:policy_new")).status_code == 403
    assert not Policy.objects.exists()


def test_begin_is_forbidden_when_the_user_is_the_department(review):
    policy = register(review)
    answer = client_for(review.d.staff_a).post(
        f"/api/policies/{policy.pk}/pre-assessment/",
        {"agency": review.agency.pk, "due_at": (timezone.now() + timedelta(days=7)).isoformat()},
        format="json",
    )
    assert answer.status_code == 403
    assert not PreAssessment.objects.filter(project=policy.project).exists()


# -- who sees it -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("finance", True),
        ("supervisor", True),
        ("auditor", True),
        ("staff_a", True),  # lead department
        ("leader_b", True),  # co-department
        ("expert", False),  # not on the panel
        ("deputy", False),
    ],
)
def test_policy_is_visible_only_when_the_user_may_see_it(review, client, who, sees):
    policy = register(review)
    user = getattr(review.d, who)
    client.force_login(user)
    listed = client.get(reverse("workflows:policy_list"))
    assert listed.status_code == 200
    assert (policy.name in listed.content.decode()) is sees
    assert client.get(reverse("workflows:policy_detail", args=[policy.pk])).status_code == (200 if sees else 404)
    if who in ("expert", "deputy"):
        return  # no API for panel members
    api = client_for(user)
    assert api.get(f"/api/policies/{policy.pk}/").status_code == (200 if sees else 404)
    assert [p["id"] for p in api.get("/api/policies/").json()["results"]] == ([policy.pk] if sees else [])


def test_policy_is_hidden_when_the_department_is_neither_lead_nor_co(review, client):
    policy = register(review)
    policy.co_departments.clear()
    client.force_login(review.d.staff_b)
    assert client.get(reverse("workflows:policy_detail", args=[policy.pk])).status_code == 404
    assert client_for(review.d.staff_b).get(f"/api/policies/{policy.pk}/").status_code == 404


def test_policy_list_runs_a_fixed_number_of_queries_when_policies_grow(review, client):
    client.force_login(review.d.finance)
    register(review, name="政策一")
    client.get(reverse("workflows:policy_list"))  # warm the session and the caches
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("workflows:policy_list"))
    for i in range(4):
        register(review, name=f"政策{i + 2}")
    with CaptureQueriesContext(connection) as five:
        answer = client.get(reverse("workflows:policy_list"))
    assert answer.content.decode().count("/policies/") >= 5
    assert len(five) == len(one)
