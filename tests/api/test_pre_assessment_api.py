"""The pre-assessment API (DESIGN §3.2): the whole review as real role users, who sees what,
and every refusal — wrong role 403, out of sight 404, not now 409, bad data 400."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from processes.models import AuditEvent, BudgetProject, Opinion, PanelMember, PreAssessment
from processes.states import Conclusion, OpinionStatus, PreAssessmentStatus, ProjectStage
from tests.processes.test_pre_assessment import FULL_SCORES, REQUESTED, Review
from workflows.services import (
    opinion_submit,
    pre_assessment_begin,
    pre_assessment_decide,
    pre_assessment_draw,
    pre_assessment_propose,
)

from .support import client_for

OPINION = {
    "scores": FULL_SCORES,
    "recommendation": "partial",
    "recommended_amount": "27000000.00",
    "text": "绿化工程单价偏高，建议核减",
    "reduction_items": [
        {"item": "绿化工程", "requested": "9000000.00", "approved": "4200000.00", "reason": "单价偏高"},
    ],
}


@pytest.fixture
def review(district):
    return Review(district)


def url(pa=None, action=None) -> str:
    if pa is None:
        return "/api/pre-assessments/"
    return f"/api/pre-assessments/{pa.pk}/" + (f"{action}/" if action else "")


def seated(pa) -> list[PanelMember]:
    return list(
        PanelMember.objects.filter(pre_assessment=pa, active=True).select_related("user", "opinion").order_by("seat")
    )


def begun(review, project=None) -> PreAssessment:
    return pre_assessment_begin(
        project=project or review.project,
        actor=review.d.finance,
        agency=review.agency,
        due_at=timezone.now() + timedelta(days=7),
    )


def drawn(review, project=None) -> PreAssessment:
    return pre_assessment_draw(pre_assessment=begun(review, project), actor=review.staff)


def submit(member, recommendation=Conclusion.PARTIAL, amount="27000000"):
    opinion_submit(
        opinion=member.opinion,
        actor=member.user,
        scores=FULL_SCORES,
        recommendation=recommendation,
        recommended_amount=amount,
        text="意见",
    )


def collected(review, project=None, recommendation=Conclusion.PARTIAL, amount="27000000") -> PreAssessment:
    pa = drawn(review, project)
    for member in seated(pa):
        submit(member, recommendation, amount)
    pa.refresh_from_db()
    return pa


def audit_count(pa) -> int:
    return AuditEvent.objects.filter(object_type="processes.preassessment", object_id=str(pa.pk)).count()


# -- the whole path --------------------------------------------------------------------


def test_review_ends_with_the_project_budgeted_when_each_role_acts_through_the_api(review):
    finance, agency = client_for(review.d.finance), client_for(review.staff)
    review.d.approve_targets(review.project)  # targets first: the confirmation budgets it

    begun_ = finance.post(
        f"/api/projects/{review.project.pk}/pre-assessment/",
        {"agency": review.agency.pk, "due_at": (timezone.now() + timedelta(days=7)).isoformat()},
        format="json",
    )
    assert begun_.status_code == 201, begun_.json()
    body = begun_.json()
    assert body["status"] == "initiated"
    assert body["status_display"] == "已发起"
    assert body["project"]["requested_amount"] == "31800000.00"
    assert body["project"]["department_name"] == "区农水局"
    assert body["agency"] == review.agency.pk
    assert body["panel"] == [] and body["opinions"] == []
    pa = PreAssessment.objects.get(pk=body["id"])
    assert [row["id"] for row in agency.get(url()).json()["results"]] == [pa.pk]

    drawn_ = agency.post(url(pa, "draw"), {}, format="json")
    assert drawn_.status_code == 200, drawn_.json()
    assert drawn_.json()["status"] == "under_review"
    panel = drawn_.json()["panel"]
    assert [m["seat"] for m in panel] == [1, 2, 3, 4, 5]
    assert {m["kind"] for m in panel} == {"expert", "deputy"}

    for done, member in enumerate(seated(pa)):
        member_client = client_for(member.user)
        draft = member_client.put(url(pa, "my-opinion"), {**OPINION, "submit": False}, format="json")
        assert draft.status_code == 200, draft.json()
        assert draft.json()["status"] == "draft"
        # A draft is the member's own business: the agency sees only the submitted ones.
        assert len(agency.get(url(pa)).json()["opinions"]) == done
        sent = member_client.put(url(pa, "my-opinion"), {**OPINION, "submit": True}, format="json")
        assert sent.status_code == 200, sent.json()
        assert sent.json()["status"] == "submitted"
        assert sent.json()["total_score"] == "88.00"
        assert sent.json()["reduction_items"] == [
            {"item": "绿化工程", "requested": "9000000.00", "approved": "4200000.00", "reason": "单价偏高"}
        ]

    seen = agency.get(url(pa)).json()
    assert seen["status"] == "opinions_collected"
    assert len(seen["opinions"]) == 5
    assert {o["recommended_amount"] for o in seen["opinions"]} == {"27000000.00"}

    proposed = agency.post(
        url(pa, "conclude"),
        {"conclusion": "partial", "approved_amount": "28000000.00", "reasons": "绿化单价偏高"},
        format="json",
    )
    assert proposed.status_code == 200, proposed.json()
    returned = finance.post(url(pa, "return"), {"reason": "请复核核减依据"}, format="json")
    assert returned.status_code == 200, returned.json()
    assert returned.json()["status"] == "opinions_collected"

    proposed = agency.post(
        url(pa, "conclude"),
        {"conclusion": "partial", "approved_amount": "27000000.00", "reasons": "复核后核减 480 万"},
        format="json",
    )
    assert proposed.status_code == 200, proposed.json()
    assert proposed.json()["status"] == "concluded"
    assert proposed.json()["reduction"] == "4800000.00"
    assert proposed.json()["reduction_rate"] == "15.09"

    confirmed = finance.post(url(pa, "confirm"), {}, format="json")
    assert confirmed.status_code == 200, confirmed.json()
    assert confirmed.json()["status"] == "confirmed"
    assert confirmed.json()["conclusion"] == "partial"
    assert confirmed.json()["conclusion_display"] == "部分予以支持"
    project = BudgetProject.objects.get(pk=review.project.pk)
    assert project.stage == ProjectStage.BUDGETED
    assert project.approved_amount == Decimal("27000000.00")


# -- refusals ----------------------------------------------------------------------------


def test_action_is_forbidden_when_the_role_is_wrong(review):
    start = {"agency": review.agency.pk, "due_at": (timezone.now() + timedelta(days=7)).isoformat()}
    refused = client_for(review.d.staff_a).post(
        f"/api/projects/{review.project.pk}/pre-assessment/", start, format="json"
    )
    assert refused.status_code == 403
    assert not PreAssessment.objects.exists()

    pa = begun(review)
    assert client_for(review.d.finance).post(url(pa, "draw"), {}, format="json").status_code == 403
    pa = pre_assessment_draw(pre_assessment=pa, actor=review.staff)
    for member in seated(pa):
        submit(member)
    answer = client_for(review.d.finance).post(
        url(pa, "conclude"), {"conclusion": "support", "approved_amount": "31800000", "reasons": "好"}, format="json"
    )
    assert answer.status_code == 403
    pre_assessment_propose(
        pre_assessment=pa, actor=review.staff, conclusion=Conclusion.SUPPORT, approved_amount=REQUESTED, reasons="好"
    )
    assert client_for(review.staff).post(url(pa, "confirm"), {}, format="json").status_code == 403
    assert client_for(review.d.staff_a).post(url(pa, "return"), {"reason": "不同意"}, format="json").status_code == 403
    pa.refresh_from_db()
    assert pa.status == PreAssessmentStatus.CONCLUDED


def test_review_is_not_found_when_the_user_is_of_another_agency_or_department(review):
    pa = drawn(review)
    for person in (review.outsider_staff, review.d.staff_b, review.d.expert):
        client = client_for(person)
        assert client.get(url(pa)).status_code == 404
        assert client.get(url()).json()["results"] == []
        assert client.post(url(pa, "draw"), {}, format="json").status_code == 404
        assert client.get(url(pa, "my-opinion")).status_code == 404
    refused = client_for(review.d.staff_b).post(
        f"/api/projects/{review.project.pk}/pre-assessment/",
        {"agency": review.agency.pk, "due_at": (timezone.now() + timedelta(days=7)).isoformat()},
        format="json",
    )
    assert refused.status_code == 404


def test_action_conflicts_when_the_review_is_not_at_that_step(review):
    pa = drawn(review)
    agency, finance = client_for(review.staff), client_for(review.d.finance)
    again = agency.post(url(pa, "draw"), {}, format="json")
    assert again.status_code == 409
    assert "专家评审中" in again.json()["detail"]
    early = agency.post(
        url(pa, "conclude"), {"conclusion": "support", "approved_amount": "31800000", "reasons": "好"}, format="json"
    )
    assert early.status_code == 409
    assert finance.post(url(pa, "confirm"), {}, format="json").status_code == 409
    second = finance.post(
        f"/api/projects/{review.project.pk}/pre-assessment/",
        {"agency": review.agency.pk, "due_at": (timezone.now() + timedelta(days=7)).isoformat()},
        format="json",
    )
    assert second.status_code == 409
    pa.refresh_from_db()
    assert pa.status == PreAssessmentStatus.UNDER_REVIEW


@pytest.mark.parametrize(
    ("conclusion", "amount", "field"),
    [
        ("support", "31800000.01", "approved_amount"),  # approved > requested
        ("partial", "31800000.00", "approved_amount"),  # 部分予以支持 must cut something
        ("partial", "-1.00", "approved_amount"),
        ("reject", "100.00", "approved_amount"),
        ("maybe", "100.00", "conclusion"),
    ],
)
def test_conclusion_is_refused_with_the_field_when_data_is_bad(review, conclusion, amount, field):
    pa = collected(review)
    before = audit_count(pa)
    answer = client_for(review.staff).post(
        url(pa, "conclude"), {"conclusion": conclusion, "approved_amount": amount, "reasons": "理由"}, format="json"
    )
    assert answer.status_code == 400
    assert list(answer.json()) == [field]
    pa.refresh_from_db()
    assert pa.status == PreAssessmentStatus.OPINIONS_COLLECTED
    assert pa.approved_amount is None
    assert audit_count(pa) == before


def test_return_is_refused_when_no_reason_is_given(review):
    pa = collected(review)
    pre_assessment_propose(
        pre_assessment=pa, actor=review.staff, conclusion=Conclusion.SUPPORT, approved_amount=REQUESTED, reasons="好"
    )
    answer = client_for(review.d.finance).post(url(pa, "return"), {"reason": " "}, format="json")
    assert answer.status_code == 400
    assert list(answer.json()) == ["reason"]
    pa.refresh_from_db()
    assert pa.status == PreAssessmentStatus.CONCLUDED


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"scores": {**FULL_SCORES, "necessity": "21"}}, "scores.necessity"),
        ({"scores": {**FULL_SCORES, "economy": "-1"}}, "scores.economy"),
        ({"recommended_amount": "-5.00"}, "recommended_amount"),
        ({"recommendation": "support", "recommended_amount": "31800000.01"}, "recommended_amount"),
        ({"recommendation": "partial", "recommended_amount": "31800000.00"}, "recommended_amount"),
        ({"recommendation": "maybe"}, "recommendation"),
    ],
)
def test_opinion_is_refused_with_the_field_when_data_is_bad(review, change, field):
    pa = drawn(review)
    member = seated(pa)[0]
    before = audit_count(pa)
    answer = client_for(member.user).put(url(pa, "my-opinion"), {**OPINION, **change, "submit": True}, format="json")
    assert answer.status_code == 400
    assert field in answer.json()
    opinion = Opinion.objects.get(pk=member.opinion.pk)
    assert opinion.status == OpinionStatus.DRAFT
    assert opinion.scores == {}
    assert audit_count(pa) == before


@pytest.mark.parametrize("person", ["finance", "agency_staff", "staff_a", "supervisor"])
def test_opinion_is_forbidden_when_a_non_member_posts_it(review, person):
    pa = drawn(review)
    answer = client_for(getattr(review.d, person)).put(
        url(pa, "my-opinion"), {**OPINION, "submit": True}, format="json"
    )
    assert answer.status_code == 403
    assert "评审组在任成员" in answer.json()["detail"]
    assert not Opinion.objects.filter(member__pre_assessment=pa, status=OpinionStatus.SUBMITTED).exists()


def test_member_leaves_the_panel_when_agency_replaces_them_with_a_reason(review):
    pa = drawn(review)
    leaving = seated(pa)[0]
    agency = client_for(review.staff)
    no_reason = agency.post(url(pa, f"members/{leaving.pk}/replace"), {"reason": ""}, format="json")
    assert no_reason.status_code == 400
    assert list(no_reason.json()) == ["reason"]
    assert client_for(review.d.finance).post(
        url(pa, f"members/{leaving.pk}/replace"), {"reason": "出差"}, format="json"
    ).status_code in (403, 404)

    replaced = agency.post(url(pa, f"members/{leaving.pk}/replace"), {"reason": "出差无法参加"}, format="json")
    assert replaced.status_code == 200, replaced.json()
    seat_one = [m for m in replaced.json()["panel"] if m["seat"] == 1]
    assert [(m["active"], m["replaced_reason"]) for m in seat_one] == [(True, ""), (False, "出差无法参加")]
    assert client_for(leaving.user).get(url(pa)).status_code == 404
    newcomer = seated(pa)[0]
    assert client_for(newcomer.user).get(url(pa, "my-opinion")).status_code == 200


# -- who sees what -----------------------------------------------------------------------


def test_expert_sees_only_their_own_review_and_opinion_when_others_have_submitted(review):
    pa = drawn(review)
    other_project = review.d.project(ProjectStage.PRE_ASSESSMENT, amount=Decimal("6000000.00"))
    other = begun(review, other_project)
    members = seated(pa)
    me, others = members[0], members[1:]
    for member in others:
        submit(member)
    client = client_for(me.user)

    listed = client.get(url()).json()["results"]
    assert [row["id"] for row in listed] == [pa.pk]
    assert client.get(url(other)).status_code == 404

    shown = client.get(url(pa)).json()
    assert [o["member"] for o in shown["opinions"]] == [str(me.user)]
    assert shown["opinions"][0]["status"] == "draft"
    mine = client.get(url(pa, "my-opinion")).json()
    assert mine["id"] == me.opinion.pk
    # The agency, by contrast, sees every submitted opinion but not the draft.
    agency_view = client_for(review.staff).get(url(pa)).json()
    assert sorted(o["seat"] for o in agency_view["opinions"]) == sorted(m.seat for m in others)


def test_deputys_opinion_is_marked_as_a_deputys_when_shown(review):
    pa = drawn(review)
    deputy = next(m for m in seated(pa) if m.kind == PanelMember.Kind.DEPUTY)
    answer = client_for(deputy.user).put(url(pa, "my-opinion"), {**OPINION, "submit": True}, format="json")
    assert answer.status_code == 200, answer.json()
    assert (answer.json()["kind"], answer.json()["kind_display"]) == ("deputy", "人大代表")

    for reader in (review.staff, review.d.finance, review.d.auditor):
        [shown] = client_for(reader).get(url(pa)).json()["opinions"]
        assert (shown["kind"], shown["kind_display"], shown["member"]) == ("deputy", "人大代表", str(deputy.user))


def test_list_is_filtered_when_status_or_year_is_given(review):
    pa = drawn(review)
    finance = client_for(review.d.finance)
    assert [r["id"] for r in finance.get(url(), {"status": "under_review"}).json()["results"]] == [pa.pk]
    assert finance.get(url(), {"status": "confirmed"}).json()["results"] == []
    assert finance.get(url(), {"fiscal_year": 2020}).json()["results"] == []
    assert finance.get(url(), {"status": "nonsense"}).status_code == 400


# -- the year summary ----------------------------------------------------------------------


def test_summary_gives_the_reports_figures_when_three_projects_are_confirmed(review):
    """Liwan: 3 projects, 7,920万 requested, 2 予以支持 + 1 部分予以支持, 1,200万 cut, 15.15%."""
    cases = [
        (review.project, Conclusion.SUPPORT, Decimal("31800000.00")),
        (
            review.d.project(ProjectStage.PRE_ASSESSMENT, amount=Decimal("22400000.00")),
            Conclusion.SUPPORT,
            Decimal("22400000.00"),
        ),
        (
            review.d.project(ProjectStage.PRE_ASSESSMENT, dept="b", amount=Decimal("25000000.00")),
            Conclusion.PARTIAL,
            Decimal("13000000.00"),
        ),
    ]
    for project, conclusion, approved in cases:
        pa = collected(review, project, conclusion, str(approved))
        pa = pre_assessment_propose(
            pre_assessment=pa, actor=review.staff, conclusion=conclusion, approved_amount=approved, reasons="评审"
        )
        pre_assessment_decide(pre_assessment=pa, actor=review.d.finance, confirm=True)

    answer = client_for(review.d.finance).get(url() + "summary/", {"fiscal_year": 2021})
    assert answer.status_code == 200, answer.json()
    assert answer.json() == {
        "fiscal_year": 2021,
        "projects": 3,
        "requested": "79200000.00",
        "approved": "67200000.00",
        "reduction": "12000000.00",
        "reduction_rate": "15.15",
        "by_conclusion": {"support": 2, "partial": 1},
    }
    empty = client_for(review.d.auditor).get(url() + "summary/", {"fiscal_year": 2020}).json()
    assert (empty["projects"], empty["reduction_rate"]) == (0, None)
    assert client_for(review.d.finance).get(url() + "summary/").status_code == 400
    assert client_for(review.staff).get(url() + "summary/", {"fiscal_year": 2021}).status_code == 403


def test_available_actions_follow_the_declarations_when_each_role_reads_the_review(review):
    pa = collected(review)
    agency, finance = client_for(review.staff), client_for(review.d.finance)
    assert [a["name"] for a in agency.get(url(pa)).json()["available_actions"]] == ["conclude"]
    assert finance.get(url(pa)).json()["available_actions"] == []
    pre_assessment_propose(
        pre_assessment=pa, actor=review.staff, conclusion=Conclusion.SUPPORT, approved_amount=REQUESTED, reasons="r"
    )
    assert agency.get(url(pa)).json()["available_actions"] == []
    actions = {a["name"]: a for a in finance.get(url(pa)).json()["available_actions"]}
    assert set(actions) == {"confirm", "send_back"}
    assert actions["send_back"]["needs_reason"] is True and actions["confirm"]["needs_reason"] is False
    assert actions["confirm"]["label"] == "确认结论"
