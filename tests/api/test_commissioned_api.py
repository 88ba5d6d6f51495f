"""The key and department-overall evaluation API (DESIGN §3.5, §6): the whole key chain as
real role users with status codes and JSON bodies, the department chain's commission and
corrected amounts, errors keyed as the service keys them (400), wrong role 403, wrong
status and acting twice 409, another department's evaluation 404, findings added and
deleted, filters, and a flat query count on the list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from processes.models import CommissionedEvaluation, Finding
from processes.states import EvaluationStatus
from tests.processes.test_commissioned import EXE, FRAMEWORK, PDF, Chain, executing

from .support import client_for

pytestmark = pytest.mark.django_db

BASE = "/api/evaluations/commissioned/"


def url(ev, action=None) -> str:
    return f"{BASE}{ev.pk}/" + (f"{action}/" if action else "")


def due(days=30) -> str:
    return (timezone.now() + timedelta(days=days)).isoformat()


@pytest.fixture
def chain(district):
    return Chain(district)


def scores_form(**overrides) -> dict:
    scores = {"decision": "14", "process": "22.5", "output": "27", "outcome": "25", **overrides}
    return {f"scores.{k}": v for k, v in scores.items()}


def test_key_chain_runs_through_the_api_as_real_role_users(chain):
    d = chain.d
    finance, agency = client_for(d.finance), client_for(chain.staff)
    created = finance.post(
        BASE, {"kind": "key", "project": chain.project.pk, "agency": chain.agency.pk, "due_at": due()}, format="json"
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    ev = CommissionedEvaluation.objects.get(pk=body["id"])
    assert body["status"] == "commissioned" and body["kind"] == "key" and body["project"] == chain.project.pk
    assert body["budget"] == "1200000.00" and body["executed"] == "1000000.00" and body["completion_rate"] == "83.33"
    assert body["framework"] == {"decision": "20.00", "process": "20.00", "output": "30.00", "outcome": "30.00"}
    assert body["actions"] == []  # the finance section has nothing to do now
    assert agency.get(url(ev)).json()["actions"] == ["plan"]

    r = agency.post(url(ev, "plan"), {"framework": FRAMEWORK, "plan": "评价方案"}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "plan_submitted"
    r = finance.post(url(ev, "review-plan"), {"approve": True, "comment": "同意"}, format="json")
    assert r.status_code == 200 and r.json()["plan_comment"] == "同意"
    assert agency.post(url(ev, "fieldwork")).status_code == 200
    r = agency.post(url(ev, "draft"), {"note": "现场", "draft_report": SimpleUploadedFile("d.pdf", PDF)})
    assert r.status_code == 200 and r.json()["draft_report_url"] == f"/evaluations/commissioned/{ev.pk}/files/draft/"
    r = client_for(d.staff_a).post(url(ev, "comment"), {"comment": "无异议"}, format="json")
    assert r.status_code == 200 and r.json()["department_comment"] == "无异议"
    r = agency.post(url(ev, "draw"))
    assert r.status_code == 200 and r.json()["status"] == "expert_review"
    panel = r.json()["panel"]
    assert [m["seat"] for m in panel] == [1, 2, 3, 4, 5] and all(m["suggestions"] == [] for m in panel)

    members = chain.panel(ev)
    for i, m in enumerate(members):
        client = client_for(m.user)
        assert client.get(url(ev)).json()["actions"] == ["suggestions"]
        r = client.post(url(ev, "suggestions"), {"suggestions": [f"建议{i}-1", f"建议{i}-2"]}, format="json")
        assert r.status_code == 200
    again = client_for(members[0].user).post(url(ev, "suggestions"), {"suggestions": ["再来"]}, format="json")
    assert again.status_code == 409 and "不能再次提交" in again.json()["detail"]

    r = agency.post(
        url(ev, "findings"), {"category": "targets", "problem": "指标不细", "requirement": "细化"}, format="json"
    )
    assert r.status_code == 201 and r.json()["problem"] == "指标不细" and r.json()["category"] == "targets"
    r = agency.post(
        url(ev, "finalize"), {**scores_form(), "conclusion": "较好", "report": SimpleUploadedFile("r.pdf", PDF)}
    )
    assert r.status_code == 200, r.json()
    body = r.json()
    assert (body["status"], body["score"], body["grade"], body["grade_display"]) == ("final", "88.50", "good", "良")
    assert body["scores"] == {"decision": "14.00", "process": "22.50", "output": "27.00", "outcome": "25.00"}
    assert body["report_url"].endswith("/files/report/") and body["findings"][0]["requirement"] == "细化"
    assert finance.get(url(ev)).json()["actions"] == ["disclose", "return-final"]

    r = finance.post(url(ev, "disclose"))
    assert r.status_code == 200 and r.json()["status"] == "published" and r.json()["published_at"]
    detail = finance.get(url(ev)).json()
    assert [s["text"] for s in detail["panel"][0]["suggestions"]] == ["建议0-1", "建议0-2"]
    assert [s["position"] for s in detail["panel"][0]["suggestions"]] == [1, 2]
    assert detail["disclosure_approved_by"] == d.finance.pk


def test_department_evaluation_is_commissioned_and_corrected_through_the_api(chain):
    finance, agency = client_for(chain.d.finance), client_for(chain.staff)
    r = finance.post(
        BASE,
        {
            "kind": "department",
            "department": chain.d.dept_a.pk,
            "fiscal_year": 2021,
            "agency": chain.agency.pk,
            "due_at": due(),
        },
        format="json",
    )
    assert r.status_code == 201 and r.json()["project"] is None and r.json()["budget"] == "1200000.00"
    ev = CommissionedEvaluation.objects.get(pk=r.json()["id"])
    again = finance.post(
        BASE,
        {
            "kind": "department",
            "department": chain.d.dept_a.pk,
            "fiscal_year": 2021,
            "agency": chain.agency.pk,
            "due_at": due(),
        },
        format="json",
    )
    assert again.status_code == 400 and "department" in again.json()
    ev = chain.step(ev, EvaluationStatus.EXPERT_REVIEW)
    for m in chain.panel(ev):
        client_for(m.user).post(url(ev, "suggestions"), {"suggestions": ["建议"]}, format="json")
    bad = agency.post(
        url(ev, "finalize"),
        {**scores_form(), "conclusion": "c", "budget": "-1", "report": SimpleUploadedFile("r.pdf", PDF)},
    )
    assert bad.status_code == 400 and set(bad.json()) == {"budget"}
    r = agency.post(
        url(ev, "finalize"),
        {
            **scores_form(),
            "conclusion": "c",
            "budget": "1500000",
            "executed": "1200000",
            "report": SimpleUploadedFile("r.pdf", PDF),
        },
    )
    assert r.status_code == 200
    assert (r.json()["budget"], r.json()["executed"], r.json()["completion_rate"]) == (
        "1500000.00",
        "1200000.00",
        "80.00",
    )


def test_bad_input_answers_400_keyed_by_field_when_the_service_refuses(chain):
    ev = chain.commission_key()
    agency = client_for(chain.staff)
    r = agency.post(url(ev, "plan"), {"framework": {"decision": "-1", "process": "x"}, "plan": ""}, format="json")
    assert r.status_code == 400
    assert set(r.json()) == {"framework.decision", "framework.process", "framework.output", "framework.outcome", "plan"}
    r = agency.post(url(ev, "plan"), {"framework": {**FRAMEWORK, "outcome": "31"}, "plan": "p"}, format="json")
    assert r.status_code == 400 and "合计应为 100" in r.json()["framework"][0]
    ev = chain.step(ev, EvaluationStatus.FIELDWORK)
    r = agency.post(url(ev, "draft"), {"note": "现场", "draft_report": SimpleUploadedFile("d.pdf", EXE)})
    assert r.status_code == 400 and set(r.json()) == {"draft_report"}
    r = agency.post(url(ev, "draft"), {"note": ""})
    assert r.status_code == 400 and set(r.json()) == {"note", "draft_report"}
    ev = chain.step(ev, EvaluationStatus.EXPERT_REVIEW)
    m = chain.panel(ev)[0]
    r = client_for(m.user).post(url(ev, "suggestions"), {"suggestions": ["好", " "]}, format="json")
    assert r.status_code == 400 and set(r.json()) == {"suggestions.2"}
    for m in chain.panel(ev):
        client_for(m.user).post(url(ev, "suggestions"), {"suggestions": ["建议"]}, format="json")
    r = agency.post(url(ev, "finalize"), {**scores_form(decision="99", output=""), "conclusion": ""})
    assert r.status_code == 400
    assert set(r.json()) == {"scores.decision", "scores.output", "conclusion", "report"}
    assert CommissionedEvaluation.objects.get(pk=ev.pk).status == EvaluationStatus.EXPERT_REVIEW


def test_wrong_role_gets_403_and_wrong_status_409(chain):
    ev = chain.commission_key()
    r = client_for(chain.d.staff_a).post(
        BASE, {"kind": "key", "project": chain.project.pk, "agency": chain.agency.pk, "due_at": due()}, format="json"
    )
    assert r.status_code == 403
    assert (
        client_for(chain.d.finance)
        .post(url(ev, "plan"), {"framework": FRAMEWORK, "plan": "p"}, format="json")
        .status_code
        == 403
    )
    assert (
        client_for(chain.d.staff_a)
        .post(url(ev, "plan"), {"framework": FRAMEWORK, "plan": "p"}, format="json")
        .status_code
        == 403
    )
    assert client_for(chain.staff).post(url(ev, "disclose")).status_code == 403
    assert (
        client_for(chain.d.supervisor).post(url(ev, "review-plan"), {"approve": True}, format="json").status_code == 403
    )
    r = client_for(chain.d.finance).post(url(ev, "review-plan"), {"approve": True}, format="json")
    assert r.status_code == 409 and r.json()["code"] == "conflict" and "已委托" in r.json()["detail"]
    assert client_for(chain.staff).post(url(ev, "fieldwork")).status_code == 409
    r = client_for(chain.d.staff_a).post(url(ev, "suggestions"), {"suggestions": ["x"]}, format="json")
    assert r.status_code == 403
    assert CommissionedEvaluation.objects.get(pk=ev.pk).status == EvaluationStatus.COMMISSIONED
    assert client_for().get(BASE).status_code in (401, 403)


def test_others_get_404_and_an_empty_list_when_the_evaluation_is_not_theirs(chain):
    ev = chain.commission_key()
    for user in [chain.d.staff_b, chain.outsider_staff, chain.d.expert]:
        client = client_for(user)
        assert client.get(url(ev)).status_code == 404
        assert client.post(url(ev, "comment"), {"comment": "x"}, format="json").status_code == 404
        assert client.get(BASE).json()["results"] == []
    assert client_for(chain.d.staff_a).get(BASE).json()["count"] == 1


def test_findings_are_added_and_deleted_when_the_finance_section_or_agency_records_them(chain):
    ev = chain.commission_key()
    finance = client_for(chain.d.finance)
    bad = finance.post(url(ev, "findings"), {"problem": "", "requirement": ""}, format="json")
    assert bad.status_code == 400 and set(bad.json()) == {"category", "problem", "requirement"}
    r = finance.post(
        url(ev, "findings"),
        {"category": "funds", "problem": "问题", "basis": "依据", "requirement": "要求"},
        format="json",
    )
    assert r.status_code == 201 and r.json()["basis"] == "依据"
    finding_id = r.json()["id"]
    assert client_for(chain.d.staff_a).delete(f"{url(ev)}findings/{finding_id}/").status_code == 403
    assert (
        client_for(chain.d.staff_a)
        .post(url(ev, "findings"), {"problem": "p", "requirement": "r"}, format="json")
        .status_code
        == 403
    )
    assert finance.delete(f"{url(ev)}findings/{finding_id}/").status_code == 204
    assert not Finding.objects.exists()
    assert finance.delete(f"{url(ev)}findings/{finding_id}/").status_code == 404


def test_list_filters_by_year_kind_and_status_with_a_flat_query_count(chain):
    chain.commission_key()
    chain.commission_department()
    finance = client_for(chain.d.finance)
    assert finance.get(BASE, {"kind": "department"}).json()["count"] == 1
    assert finance.get(BASE, {"year": 2022}).json()["count"] == 0
    assert finance.get(BASE, {"status": "commissioned", "year": 2021}).json()["count"] == 2
    assert finance.get(BASE, {"kind": "nonsense"}).status_code == 400
    with CaptureQueriesContext(connection) as few:
        assert finance.get(BASE).status_code == 200
    for _i in range(3):
        chain.commission_key(executing(chain.d, dept="b"))
    with CaptureQueriesContext(connection) as many:
        assert finance.get(BASE).json()["count"] == 5
    assert len(many.captured_queries) == len(few.captured_queries)


# -- reminding the panel (issue 21) -------------------------------------------------------------


def test_agency_reminds_the_panel_through_the_api_and_a_repeat_is_409(chain):
    from notifications.models import Notification
    from processes.services import commissioned as svc

    ev = chain.step(chain.commission_key(), EvaluationStatus.EXPERT_REVIEW)
    done, *waiting = chain.panel(ev)
    svc.suggestion_submit(member=done, actor=done.user, suggestions=["建议"])
    agency = client_for(chain.staff)
    assert agency.get(url(ev)).json()["actions"] == ["remind", "finalize"]
    response = agency.post(url(ev, "remind"))
    assert response.status_code == 200, response.content
    assert response.json() == {"reminded": [m.user_id for m in waiting], "skipped": []}
    notes = Notification.objects.filter(kind="reminder", object_id=str(ev.pk))
    assert sorted(notes.values_list("recipient_id", flat=True)) == sorted(m.user_id for m in waiting)
    assert agency.post(url(ev, "remind")).status_code == 409
    assert client_for(done.user).post(url(ev, "remind")).status_code == 403
    assert client_for(chain.outsider_staff).post(url(ev, "remind")).status_code == 404
    assert notes.count() == len(waiting)


def test_finding_with_an_unknown_category_is_refused_and_nothing_written_when_posted(chain):
    ev = chain.commission_key()
    finance = client_for(chain.d.finance)
    r = finance.post(url(ev, "findings"), {"category": "weather", "problem": "p", "requirement": "r"}, format="json")
    assert r.status_code == 400 and r.json() == {"category": ["请选择问题类别。"]}
    assert not Finding.objects.exists()


def test_suggestions_keep_their_aspects_when_members_name_them(chain):
    ev = chain.step(chain.commission_key(), EvaluationStatus.EXPERT_REVIEW)
    member = chain.panel(ev)[0]
    client = client_for(member.user)
    wrong = client.post(url(ev, "suggestions"), {"suggestions": [{"text": "建议", "aspect": "weather"}]}, format="json")
    assert wrong.status_code == 400 and set(wrong.json()) == {"suggestions.1"}
    given = [{"text": "加快支付", "aspect": "finance"}, {"text": "细化指标", "aspect": "performance"}, "其他"]
    assert client.post(url(ev, "suggestions"), {"suggestions": given}, format="json").status_code == 200
    seat = client_for(chain.d.finance).get(url(ev)).json()["panel"][0]["suggestions"]
    assert [(s["text"], s["aspect"]) for s in seat] == [
        ("加快支付", "finance"),
        ("细化指标", "performance"),
        ("其他", ""),
    ]
