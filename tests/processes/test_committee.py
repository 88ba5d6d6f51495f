"""The committee's review opinions 审议意见 (issue 19): recorded whole or not at all, each
item answered by its assignee with evidence (all files or none), accepted or returned with a
reason by the finance section, every step audited and told, reminders and escalation."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from notifications.models import Notification
from processes.errors import ActionNotAllowed
from processes.models import AuditEvent, CommitteeEvidence, CommitteeOpinion, CommitteeOpinionItem
from processes.services.committee import committee_item_respond, committee_item_review, committee_opinion_record
from processes.services.reminders import reminders_send
from processes.states import OpinionItemStatus

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def pdf(name="落实情况.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def record(district, *, year=2022, items=None, **kw):
    deadline = (timezone.localdate() + timedelta(days=30)).isoformat()
    fields = {
        "actor": district.finance,
        "fiscal_year": year,
        "title": "关于2022年度绩效评价报告的审议意见",
        "text": "常委会组成人员认为，应加强绩效目标管理，推动评价结果应用。",
        "session_date": (timezone.localdate() - timedelta(days=3)).isoformat(),
        "items": items
        if items is not None
        else [
            {"requirement": "加强绩效目标审核。", "department": None, "deadline": deadline},
            {"requirement": "整改农业项目资金闲置问题。", "department": district.dept_a.pk, "deadline": deadline},
        ],
        **kw,
    }
    return committee_opinion_record(**fields)


def item_of(opinion, position):
    return CommitteeOpinionItem.objects.get(opinion=opinion, position=position)


def test_opinion_is_recorded_with_its_items_and_each_assignee_told_when_valid(district):
    opinion = record(district)

    bureau, dept = item_of(opinion, 1), item_of(opinion, 2)
    assert bureau.department is None and bureau.assignee_name == "财政局"
    assert dept.department == district.dept_a and dept.status == OpinionItemStatus.ASSIGNED
    assert dept.deadline.astimezone(timezone.get_default_timezone()).hour == 23
    assert Notification.objects.filter(recipient=district.staff_a, kind="task").exists()
    assert Notification.objects.filter(recipient=district.leader_a, kind="task").exists()
    assert not Notification.objects.filter(recipient=district.staff_b).exists()
    assert AuditEvent.objects.filter(action="committee_item_assign").count() == 2


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"title": " "}, "title"),
        ({"text": ""}, "text"),
        ({"session_date": "2099-01-01"}, "session_date"),
        ({"session_date": "not a date"}, "session_date"),
        ({"items": []}, "items"),
        ({"items": [{"requirement": "", "department": None, "deadline": "2099-01-01"}]}, "items.1.requirement"),
        ({"items": [{"requirement": "x", "department": 999999, "deadline": "2099-01-01"}]}, "items.1.department"),
        ({"items": [{"requirement": "x", "department": None, "deadline": "2000-01-01"}]}, "items.1.deadline"),
        ({"items": [{"requirement": "x", "department": None, "deadline": ""}]}, "items.1.deadline"),
        ({"fiscal_year": 1800}, "fiscal_year"),
    ],
)
def test_opinion_is_refused_whole_with_the_field_named_when_input_is_bad(district, change, key):
    with pytest.raises(ValidationError) as caught:
        record(district, **change)

    assert key in caught.value.message_dict
    assert not CommitteeOpinion.objects.exists() and not CommitteeOpinionItem.objects.exists()
    assert not Notification.objects.exists()


@pytest.mark.parametrize("role", ["staff_a", "leader_a", "supervisor", "auditor", "congress", "sysadmin"])
def test_opinion_is_refused_when_the_actor_is_not_the_finance_section(district, role):
    with pytest.raises(PermissionDenied):
        record(district, actor=getattr(district, role))
    assert not CommitteeOpinion.objects.exists()


def test_item_is_answered_accepted_and_finance_told_when_the_department_responds(district):
    item = item_of(record(district), 2)

    item = committee_item_respond(item=item, actor=district.staff_a, response="已完成资金清理。", files=[pdf()])

    assert item.status == OpinionItemStatus.RESPONDED and item.responded_by == district.staff_a
    assert [e.name for e in item.evidence.all()] == ["落实情况.pdf"]
    assert Notification.objects.filter(recipient=district.finance, verb__startswith="审议意见落实情况待验收").exists()
    item = committee_item_review(item=item, actor=district.finance, accept=True, comment="同意。")
    assert item.status == OpinionItemStatus.ACCEPTED and item.accepted_by == district.finance
    assert Notification.objects.filter(recipient=district.staff_a, kind="approved").exists()
    trail = AuditEvent.objects.filter(object_type="processes.committeeopinionitem", object_id=str(item.pk))
    actions = list(trail.order_by("sequence").values_list("action", flat=True))
    assert actions == ["committee_item_assign", "committee_item_respond", "committee_item_accept"]


def test_response_is_returned_with_its_reason_and_answered_again_when_finance_sends_it_back(district):
    item = item_of(record(district), 2)
    item = committee_item_respond(item=item, actor=district.leader_a, response="正在推进。")

    with pytest.raises(ValidationError) as caught:
        committee_item_review(item=item, actor=district.finance, accept=False, comment="  ")
    assert "comment" in caught.value.message_dict
    item = committee_item_review(item=item, actor=district.finance, accept=False, comment="请补充资金清理凭证。")

    assert item.status == OpinionItemStatus.ASSIGNED and item.returns == 1
    assert Notification.objects.filter(recipient=district.staff_a, kind="returned").exists()
    item = committee_item_respond(item=item, actor=district.staff_a, response="已补充凭证。", files=[pdf("凭证.pdf")])
    assert item.status == OpinionItemStatus.RESPONDED


def test_nothing_is_kept_when_one_evidence_file_is_refused(district, settings):
    item = item_of(record(district), 2)
    bad = SimpleUploadedFile("脚本.pdf", b"#!/bin/sh\necho hi\n")

    with pytest.raises(ValidationError) as caught:
        committee_item_respond(item=item, actor=district.staff_a, response="已完成。", files=[pdf(), bad])

    assert "files" in caught.value.message_dict
    item.refresh_from_db()
    assert item.status == OpinionItemStatus.ASSIGNED and item.response == ""
    assert not CommitteeEvidence.objects.exists()
    settings.JIXIAO = {**settings.JIXIAO, "UPLOAD_MAX_BYTES": 10}
    with pytest.raises(ValidationError):
        committee_item_respond(item=item, actor=district.staff_a, response="已完成。", files=[pdf()])
    assert not CommitteeEvidence.objects.exists()


@pytest.mark.parametrize("role", ["staff_b", "leader_b", "supervisor", "auditor", "congress", "expert"])
def test_response_is_refused_when_the_actor_is_not_the_assignee(district, role):
    item = item_of(record(district), 2)

    with pytest.raises(PermissionDenied):
        committee_item_respond(item=item, actor=getattr(district, role), response="越权报送。")
    item.refresh_from_db()
    assert item.status == OpinionItemStatus.ASSIGNED


def test_bureau_item_is_answered_by_the_finance_section_and_supervisors_told_when_accepted(district):
    item = item_of(record(district), 1)
    with pytest.raises(PermissionDenied):
        committee_item_respond(item=item, actor=district.staff_a, response="x")

    item = committee_item_respond(item=item, actor=district.finance, response="已修订目标审核办法。")
    item = committee_item_review(item=item, actor=district.finance, accept=True)

    assert item.status == OpinionItemStatus.ACCEPTED
    assert Notification.objects.filter(recipient=district.supervisor, kind="approved").exists()


def test_review_is_refused_with_409_when_the_item_was_not_responded(district):
    item = item_of(record(district), 2)

    with pytest.raises(ActionNotAllowed):
        committee_item_review(item=item, actor=district.finance, accept=True)
    with pytest.raises(PermissionDenied):
        committee_item_review(item=item, actor=district.staff_a, accept=True)


def test_reminders_fire_once_each_and_escalate_to_supervisors_when_an_item_is_overdue(district):
    start = timezone.now()
    deadline_day = (timezone.localdate() + timedelta(days=20)).isoformat()
    only = [{"requirement": "整改农业项目资金闲置问题。", "department": district.dept_a.pk, "deadline": deadline_day}]
    item = item_of(record(district, items=only), 1)
    deadline = item.deadline

    with time_machine.travel(deadline - timedelta(days=7), tick=False):
        assert reminders_send().sent == 1
        assert reminders_send().sent == 0
    staff = Notification.objects.filter(recipient=district.staff_a, kind="reminder")
    assert staff.count() == 1 and staff[0].params["title"] == item.title
    with time_machine.travel(deadline + timedelta(minutes=5), tick=False):
        reminders_send()
    escalations = Notification.objects.filter(recipient=district.supervisor, kind="escalation")
    assert escalations.filter(params__department=district.dept_a.name).exists()
    assert start < deadline


def test_responded_item_reminds_the_finance_section_and_accepted_one_nobody(district):
    opinion = record(district)
    item = committee_item_respond(item=item_of(opinion, 2), actor=district.staff_a, response="已完成。")
    bureau = item_of(opinion, 1)
    committee_item_respond(item=bureau, actor=district.finance, response="已完成。")
    committee_item_review(item=bureau, actor=district.finance, accept=True)

    with time_machine.travel(item.deadline - timedelta(days=1), tick=False):
        reminders_send()

    assert Notification.objects.filter(recipient=district.finance, kind="reminder").count() == 1
    assert not Notification.objects.filter(recipient=district.staff_a, kind="reminder").exists()
