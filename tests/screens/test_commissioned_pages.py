"""重点评价 and 部门整体绩效评价 screens: the finance section commissions through the form,
the whole key chain through the page's forms as real role users (agency, finance,
department, the drawn members), bad input shown on its field, wrong role 403, wrong
status 409, other departments' and agencies' evaluations 404, files only to those who see
the evaluation, the public page (no login) only with published ones, and the list's
query count flat."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from processes.models import CommissionedEvaluation, ExpertSuggestion, Finding
from processes.services import commissioned as svc
from processes.states import EvaluationKind, EvaluationStatus
from tests.processes.test_commissioned import EXE, PDF, Chain, executing

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
LIST = reverse("workflows:commissioned_list")
NEW = reverse("workflows:commissioned_new")
PUBLIC = reverse("reports:public")


def text(response) -> str:
    return html.unescape(response.content.decode())


def detail(ev) -> str:
    return reverse("workflows:commissioned_detail", args=[ev.pk])


def act(ev, action) -> str:
    return reverse("workflows:commissioned_act", args=[ev.pk, action])


def as_user(client, user):
    client.force_login(user)
    return client


def fresh(ev) -> CommissionedEvaluation:
    return CommissionedEvaluation.objects.get(pk=ev.pk)


def action_forms(response) -> set[str]:
    return set(re.findall(r'class="action-card" data-action="([a-z-]+)"', response.content.decode()))


@pytest.fixture
def chain(district):
    return Chain(district)


def test_finance_commissions_a_key_evaluation_through_the_form(client, chain):
    as_user(client, chain.d.finance)
    page = client.get(NEW)
    assert page.status_code == 200 and chain.project.code in text(page)
    due = (timezone.now() + timedelta(days=30)).astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        NEW, {"kind": "key", "project": chain.project.pk, "agency": chain.agency.pk, "due_at": due, "title": ""}
    )
    ev = CommissionedEvaluation.objects.get()
    assert response.status_code == 302 and response["Location"] == detail(ev)
    assert ev.kind == EvaluationKind.KEY and ev.project == chain.project and ev.commissioned_by == chain.d.finance


def test_commission_form_shows_errors_on_their_fields_when_input_is_wrong(client, chain):
    as_user(client, chain.d.finance)
    past = (timezone.now() - timedelta(days=1)).astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")
    response = client.post(NEW, {"kind": "department", "agency": chain.agency.pk, "due_at": past})
    assert response.status_code == 400
    body = text(response)
    assert "完成期限必须晚于现在" in body and "请选择预算部门" in body and "请填写评价年度" in body
    assert not CommissionedEvaluation.objects.exists()


@pytest.mark.parametrize("name", ["staff_a", "leader_a", "supervisor", "auditor"])
def test_commission_form_is_refused_when_not_the_finance_section(client, chain, name):
    as_user(client, getattr(chain.d, name))
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, {"kind": "key"}).status_code == 403


def test_key_chain_runs_through_the_page_forms_as_real_role_users(client, chain):
    d = chain.d
    ev = chain.commission_key()

    page = as_user(client, chain.staff).get(detail(ev))
    assert action_forms(page) == {"plan"}
    bad = client.post(
        act(ev, "plan"),
        {
            "plan": "方案",
            "weight_decision": "30",
            "weight_process": "20",
            "weight_output": "30",
            "weight_outcome": "30",
        },
    )
    assert bad.status_code == 400 and "合计应为 100" in text(bad) and 'value="30"' in text(bad)
    assert fresh(ev).status == EvaluationStatus.COMMISSIONED
    ok = client.post(
        act(ev, "plan"),
        {
            "plan": "方案",
            "weight_decision": "15",
            "weight_process": "25",
            "weight_output": "30",
            "weight_outcome": "30",
        },
    )
    assert ok.status_code == 302 and fresh(ev).status == EvaluationStatus.PLAN_SUBMITTED

    as_user(client, d.finance)
    assert action_forms(client.get(detail(ev))) == {"review-plan"}
    refused = client.post(act(ev, "review-plan"), {"decision": "return", "comment": ""})
    assert refused.status_code == 400 and "请填写理由" in text(refused)  # the engine's one message for needs_reason
    assert client.post(act(ev, "review-plan"), {"decision": "approve", "comment": "同意"}).status_code == 302

    as_user(client, chain.staff)
    assert client.post(act(ev, "fieldwork")).status_code == 302
    exe = SimpleUploadedFile("初稿.pdf", EXE)
    bad_file = client.post(act(ev, "draft"), {"note": "现场", "draft_report": exe})
    assert bad_file.status_code == 400 and "只接受 PDF" in text(bad_file)
    assert fresh(ev).status == EvaluationStatus.FIELDWORK and not fresh(ev).draft_report
    draft = client.post(act(ev, "draft"), {"note": "现场", "draft_report": SimpleUploadedFile("初稿.pdf", PDF)})
    assert draft.status_code == 302

    as_user(client, d.leader_a)
    assert action_forms(client.get(detail(ev))) == {"comment"}
    download = client.get(reverse("workflows:commissioned_file", args=[ev.pk, "draft"]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert "attachment" in download["Content-Disposition"]
    assert client.post(act(ev, "comment"), {"comment": "无异议"}).status_code == 302

    as_user(client, chain.staff)
    assert client.post(act(ev, "draw")).status_code == 302
    members = chain.panel(fresh(ev))
    assert len(members) == 5

    for i, m in enumerate(members):
        as_user(client, m.user)
        assert action_forms(client.get(detail(ev))) == {"suggestions"}
        r = client.post(act(ev, "suggestions"), {"suggestions": f"建议{i}甲\n\n建议{i}乙\n"})
        assert r.status_code == 302
    assert ExpertSuggestion.objects.filter(evaluation=ev).count() == 10
    again = client.post(act(ev, "suggestions"), {"suggestions": "再提一条"})
    assert again.status_code == 409 and "不能再次提交" in text(again)

    as_user(client, chain.staff)
    r = client.post(
        act(ev, "finding-add"), {"category": "targets", "problem": "指标不细", "basis": "", "requirement": "细化指标"}
    )
    assert r.status_code == 302 and Finding.objects.filter(evaluation=ev).count() == 1
    scores = {"score_decision": "14", "score_process": "22", "score_output": "27", "score_outcome": "26"}
    over = client.post(
        act(ev, "finalize"),
        {**scores, "score_decision": "16", "conclusion": "较好", "report": SimpleUploadedFile("r.pdf", PDF)},
    )
    assert over.status_code == 400 and "0 到 15.00 分" in text(over)
    done = client.post(
        act(ev, "finalize"), {**scores, "conclusion": "较好", "report": SimpleUploadedFile("r.pdf", PDF)}
    )
    assert done.status_code == 302
    assert (fresh(ev).score, fresh(ev).grade) == (89, "good")

    public = client.get(PUBLIC)
    assert ev.title not in text(public)
    assert client.get(reverse("workflows:public_evaluation_report", args=[ev.pk])).status_code == 404

    as_user(client, d.finance)
    assert client.post(act(ev, "disclose")).status_code == 302
    assert fresh(ev).status == EvaluationStatus.PUBLISHED

    page = client.get(detail(ev))
    body = text(page)
    assert "建议0甲" in body and "建议4乙" in body and "指标不细" in body and "89.00" in body
    assert re.search(r'data-testid="suggestions-1">\s*<li>', page.content.decode())
    assert "120.00" in body and "100.00" in body  # 1,200,000 budget, 1,000,000 executed, in 万元
    assert "83.33%" in body


def test_public_page_lists_only_published_evaluations_without_login(client, chain):
    published = chain.step(chain.commission_key(), EvaluationStatus.PUBLISHED)
    final = chain.step(chain.commission_key(executing(chain.d)), EvaluationStatus.FINAL)
    client.logout()
    response = client.get(PUBLIC)
    assert response.status_code == 200
    body = text(response)
    assert published.title in body and final.title not in body and "良" in body
    report = client.get(reverse("workflows:public_evaluation_report", args=[published.pk]))
    assert report.status_code == 200 and b"".join(report.streaming_content) == PDF
    assert client.get(reverse("workflows:public_evaluation_report", args=[final.pk])).status_code == 404
    # the private file view needs a login and visibility
    assert client.get(reverse("workflows:commissioned_file", args=[final.pk, "report"])).status_code == 302


def test_others_get_404_when_the_evaluation_is_not_theirs(client, chain):
    ev = chain.step(chain.commission_key(), EvaluationStatus.EXPERT_REVIEW)
    seated = {m.user_id for m in chain.panel(ev)}
    outsider_expert = next(u for u in chain.experts if u.pk not in seated)
    for user in [chain.d.staff_b, chain.d.leader_b, chain.outsider_staff, outsider_expert]:
        as_user(client, user)
        assert client.get(detail(ev)).status_code == 404, user
        assert client.get(reverse("workflows:commissioned_file", args=[ev.pk, "draft"])).status_code == 404
        assert client.post(act(ev, "draw")).status_code == 404
        assert ev.title not in text(client.get(LIST))


def test_wrong_role_gets_403_and_wrong_status_409_when_acting(client, chain):
    ev = chain.step(chain.commission_key(), EvaluationStatus.PLAN_SUBMITTED)
    as_user(client, chain.d.staff_a)
    assert action_forms(client.get(detail(ev))) == set()
    assert client.post(act(ev, "review-plan"), {"decision": "approve"}).status_code == 403
    assert client.post(act(ev, "disclose")).status_code == 403
    as_user(client, chain.staff)
    assert client.post(act(ev, "review-plan"), {"decision": "approve"}).status_code == 403
    conflict = client.post(act(ev, "fieldwork"))
    assert conflict.status_code == 409 and "评价方案待审" in text(conflict)
    assert client.post(act(ev, "nonsense")).status_code == 404
    assert fresh(ev).status == EvaluationStatus.PLAN_SUBMITTED


def test_list_filters_and_keeps_a_flat_query_count_when_rows_grow(client, chain):
    chain.commission_key()
    chain.commission_department()
    as_user(client, chain.d.finance)
    filtered = client.get(LIST, {"kind": "department"})
    assert filtered.status_code == 200
    assert "部门整体绩效评价" in text(filtered) and "测试项目1重点评价" not in text(filtered)
    with CaptureQueriesContext(connection) as few:
        assert client.get(LIST).status_code == 200
    for _i in range(4):
        chain.commission_key(executing(chain.d, dept="b"))
    chain.commission_department(department=chain.d.dept_b)
    with CaptureQueriesContext(connection) as many:
        response = client.get(LIST)
    assert text(response).count("data-evaluation=") == 7
    assert len(many.captured_queries) == len(few.captured_queries)


def test_department_sees_only_its_own_in_the_list_when_logged_in(client, chain):
    mine = chain.commission_key()
    theirs = chain.commission_key(executing(chain.d, dept="b"))
    body = text(as_user(client, chain.d.staff_a).get(LIST))
    assert mine.title in body and theirs.title not in body
    assert svc.available_actions(mine, chain.d.staff_a) == []


# -- reminding the panel (issue 21) -------------------------------------------------------------


def reminders(ev):
    from notifications.models import Notification

    return Notification.objects.filter(
        kind="reminder", object_type="processes.commissionedevaluation", object_id=str(ev.pk)
    )


def test_agency_reminds_the_members_without_suggestions_when_it_presses_the_button(client, chain):
    from processes.models import AuditEvent

    ev = chain.step(chain.commission_key(), EvaluationStatus.EXPERT_REVIEW)
    done, *waiting = chain.panel(ev)
    svc.suggestion_submit(member=done, actor=done.user, suggestions=["加强绩效目标管理"])
    as_user(client, chain.staff)
    page = client.get(detail(ev))
    body = text(page)
    assert action_forms(page) == {"remind", "finalize"}
    assert (
        "提醒未提交的成员" in body and 'data-confirm="' in re.search(r'<form[^>]*data-action="remind"[^>]*>', body)[0]
    )
    assert str(waiting[0].user) in body.split('data-action="remind"')[1].split("</form>")[0]
    assert str(done.user) not in body.split('data-action="remind"')[1].split("</form>")[0]
    response = client.post(act(ev, "remind"))
    assert response.status_code == 302
    assert "已提醒" in text(client.get(response.url))
    assert sorted(n.recipient_id for n in reminders(ev)) == sorted(m.user_id for m in waiting)
    assert all(n.url == detail(ev) for n in reminders(ev))
    event = AuditEvent.objects.get(object_id=str(ev.pk), action="remind_panel")
    assert event.actor_id == chain.staff.pk
    assert event.detail["reminded"] == [m.user_id for m in waiting] and event.detail["skipped"] == []
    assert "提醒评审组成员" in text(client.get(detail(ev)))  # the history names the step
    # at most once in PANEL_REMIND_HOURS: a second press at once is a 409, nobody told twice
    again = client.post(act(ev, "remind"))
    assert again.status_code == 409 and "小时内已提醒过" in text(again)
    assert reminders(ev).count() == len(waiting)


def test_remind_is_409_when_every_member_has_submitted(client, chain):
    ev = chain.step(chain.commission_key(), EvaluationStatus.EXPERT_REVIEW)
    for m in chain.panel(ev):
        svc.suggestion_submit(member=m, actor=m.user, suggestions=["建议"])
    as_user(client, chain.staff)
    assert "remind" not in action_forms(client.get(detail(ev)))
    response = client.post(act(ev, "remind"))
    assert response.status_code == 409 and "均已提交评审建议" in text(response)
    assert not reminders(ev).exists()


@pytest.mark.parametrize("person", ["finance", "staff_a", "member", "outsider"])
def test_remind_is_refused_when_not_the_commissioned_agency(client, chain, person):
    ev = chain.step(chain.commission_key(), EvaluationStatus.EXPERT_REVIEW)
    user = {
        "finance": chain.d.finance,
        "staff_a": chain.d.staff_a,
        "member": chain.panel(ev)[0].user,
        "outsider": chain.outsider_staff,
    }[person]
    as_user(client, user)
    assert client.post(act(ev, "remind")).status_code == (404 if person == "outsider" else 403)
    assert not reminders(ev).exists()


def test_suggestion_lines_record_the_aspect_they_begin_with_when_a_member_names_one(client, chain):
    ev = chain.step(chain.commission_key(), EvaluationStatus.EXPERT_REVIEW)
    member = chain.panel(ev)[0]
    as_user(client, member.user)
    lines = "财务管理：加强资金拨付审核\n绩效情况:细化产出指标\n其他：无方面的一条\n项目实施：\n"
    assert client.post(act(ev, "suggestions"), {"suggestions": lines}).status_code == 302
    given = ExpertSuggestion.objects.filter(member=member).order_by("position")
    assert [(s.text, s.aspect) for s in given] == [
        ("加强资金拨付审核", "finance"),
        ("细化产出指标", "performance"),
        ("其他：无方面的一条", ""),
        ("项目实施：", ""),
    ]
    assert '<span class="badge">财务管理</span>' in text(as_user(client, chain.d.finance).get(detail(ev)))
