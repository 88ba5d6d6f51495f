"""Rectification 整改 (DESIGN §3.6) through processes.services.rectification, as real role users."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.roles import Role
from notifications.models import Notification
from processes.errors import ActionNotAllowed, Conflict
from processes.models import AuditEvent, BudgetProject, Evidence, Rectification
from processes.services.audit import audit_verify
from processes.services.findings import finding_add
from processes.services.rectification import (
    evidence_add,
    extension_decide,
    extension_request,
    rectification_acknowledge,
    rectification_issue,
    rectification_report_save,
    rectification_review,
    rectification_submit,
)
from processes.states import ProjectStage, RectificationStatus

from ..factories import make_user
from .test_evaluation import accepted, launch

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def supervisor(district):
    return district.supervisor


@pytest.fixture
def findings(district):
    project = district.project(ProjectStage.EXECUTING)
    launch(district)
    se = accepted(district, project)
    return [
        finding_add(source=se, actor=district.finance, problem="绩效目标不够细化", requirement="细化量化指标"),
        finding_add(
            source=se, actor=district.finance, problem="佐证材料不全", basis="自评办法", requirement="补齐材料"
        ),
    ]


def issue(district, findings, **kw):
    return rectification_issue(actor=district.finance, findings=findings, title="2021 年度自评发现问题整改", **kw)


def report(rectification, *, done=True):
    return [
        {
            "id": item.pk,
            "measure": "修订绩效目标表",
            "responsible": "张三",
            "completed_on": "2022-03-01" if done else "",
            "progress": "done" if done else "partly",
        }
        for item in rectification.items.all()
    ]


def test_rectification_path_with_reject_and_resubmit_as_real_role_users(district, findings):
    rectification = issue(district, findings)
    project = BudgetProject.objects.get(pk=rectification.project_id)
    assert project.stage == ProjectStage.RECTIFYING
    assert rectification.items.count() == 2 and rectification.deadline == rectification.original_deadline
    assert Notification.objects.filter(recipient=district.staff_a, kind="task").exists()

    with pytest.raises(PermissionDenied):
        rectification_acknowledge(rectification=rectification, actor=district.staff_b)
    rectification = rectification_acknowledge(rectification=rectification, actor=district.staff_a)
    with pytest.raises(ValidationError) as exc:
        rectification_submit(rectification=rectification, actor=district.staff_a)
    assert any(key.endswith(".measure") for key in exc.value.message_dict)

    rectification = rectification_report_save(
        rectification=rectification, actor=district.staff_a, items=report(rectification)
    )
    item = rectification.items.first()
    evidence_add(item=item, actor=district.staff_a, file=SimpleUploadedFile("目标表.pdf", PDF))
    rectification = rectification_submit(rectification=rectification, actor=district.staff_a)
    assert rectification.status == RectificationStatus.SUBMITTED

    with pytest.raises(PermissionDenied):
        rectification_review(rectification=rectification, actor=district.staff_a, verify=True)
    with pytest.raises(ValidationError):
        rectification_review(rectification=rectification, actor=district.finance, verify=False)
    rectification = rectification_review(
        rectification=rectification, actor=district.finance, verify=False, comment="佐证材料不足"
    )
    assert rectification.status == RectificationStatus.ACKNOWLEDGED and rectification.rejections == 1
    rectification = rectification_submit(rectification=rectification, actor=district.staff_a)
    rectification = rectification_review(rectification=rectification, actor=district.finance, verify=True)
    assert rectification.status == RectificationStatus.VERIFIED and rectification.verified_by == district.finance
    project.refresh_from_db()
    assert project.stage == ProjectStage.CLOSED
    actions = list(
        AuditEvent.objects.filter(object_type="processes.rectification", object_id=str(rectification.pk))
        .order_by("sequence")
        .values_list("action", flat=True)
    )
    assert actions == [
        "rectification_issue",
        "rectification_acknowledge",
        "rectification_report_edit",
        "evidence_add",
        "rectification_submit",
        "rectification_reject",
        "rectification_submit",
        "rectification_verify",
    ]
    assert audit_verify() is None


def test_issue_refuses_a_past_deadline_a_finding_twice_and_other_roles(district, findings):
    with pytest.raises(ValidationError) as exc:
        issue(district, findings, deadline=timezone.now() - timedelta(days=1))
    assert "deadline" in exc.value.message_dict
    with pytest.raises(PermissionDenied):
        rectification_issue(actor=district.staff_a, findings=findings, title="x")
    assert not Rectification.objects.exists()
    issue(district, findings[:1])
    with pytest.raises(ValidationError) as exc:
        issue(district, findings)
    assert "findings" in exc.value.message_dict
    assert Rectification.objects.count() == 1


def test_bad_uploads_are_refused_and_the_report_stays_as_it_was(district, findings, settings):
    rectification = rectification_acknowledge(rectification=issue(district, findings), actor=district.staff_a)
    item = rectification.items.first()
    with pytest.raises(ValidationError) as exc:
        evidence_add(item=item, actor=district.staff_a, file=SimpleUploadedFile("报告.pdf", b"MZ\x90\x00binary"))
    assert "file" in exc.value.message_dict
    settings.JIXIAO = {**settings.JIXIAO, "UPLOAD_MAX_BYTES": 100}
    with pytest.raises(ValidationError) as exc:
        evidence_add(item=item, actor=district.staff_a, file=SimpleUploadedFile("大.pdf", PDF + b"0" * 200))
    assert "file" in exc.value.message_dict
    assert not Evidence.objects.exists()
    rectification.refresh_from_db()
    assert rectification.status == RectificationStatus.ACKNOWLEDGED and rectification.revision == 2


def test_extension_refused_keeps_the_deadline_and_granted_moves_it_with_the_old_on_record(district, findings):
    rectification = issue(district, findings)
    first = rectification.deadline
    with pytest.raises(ValidationError):
        extension_request(rectification=rectification, actor=district.staff_a, reason="", proposed_deadline=first)
    ask = extension_request(
        rectification=rectification,
        actor=district.staff_a,
        reason="需待年度决算完成",
        proposed_deadline=first + timedelta(days=30),
    )
    with pytest.raises(PermissionDenied):
        extension_decide(extension=ask, actor=district.finance, grant=True)
    with pytest.raises(ValidationError):
        extension_decide(extension=ask, actor=district.supervisor, grant=False)
    refused = extension_decide(extension=ask, actor=district.supervisor, grant=False, comment="理由不充分")
    rectification.refresh_from_db()
    assert refused.status == "refused" and rectification.deadline == first
    with pytest.raises(Conflict):
        extension_decide(extension=ask, actor=district.supervisor, grant=True)

    again = extension_request(
        rectification=rectification,
        actor=district.staff_a,
        reason="决算数据 4 月底才出",
        proposed_deadline=first + timedelta(days=20),
    )
    granted = extension_decide(extension=again, actor=district.supervisor, grant=True)
    rectification.refresh_from_db()
    assert granted.old_deadline == first and granted.new_deadline == first + timedelta(days=20)
    assert rectification.deadline == first + timedelta(days=20) and rectification.original_deadline == first
    assert Notification.objects.filter(recipient=district.staff_a, kind="approved").exists()


def test_a_second_supervisor_cannot_decide_an_extension_already_decided(district, findings):
    other = make_user(Role.SUPERVISOR, username="supervisor_2")
    rectification = issue(district, findings)
    ask = extension_request(
        rectification=rectification,
        actor=district.staff_a,
        reason="理由",
        proposed_deadline=rectification.deadline + timedelta(days=5),
    )
    extension_decide(extension=ask, actor=district.supervisor, grant=True)
    with pytest.raises(Conflict):
        extension_decide(extension=ask, actor=other, grant=False, comment="不同意")
    with pytest.raises(ActionNotAllowed):
        rectification_submit(rectification=rectification, actor=district.staff_a)  # not acknowledged yet


def test_rectification_steps_wait_in_the_inbox_of_whoever_moves_next(district, findings, client):
    from processes.selectors import evaluation_work_for

    rectification = issue(district, findings)
    assert [w.step for w in evaluation_work_for(district.staff_a)] == ["签收整改通知"]
    assert evaluation_work_for(district.staff_b) == [] and evaluation_work_for(district.finance) == []
    extension_request(
        rectification=rectification,
        actor=district.staff_a,
        reason="理由",
        proposed_deadline=rectification.deadline + timedelta(days=5),
    )
    assert [w.step for w in evaluation_work_for(district.supervisor)] == ["审批延期申请"]
    rectification = rectification_acknowledge(rectification=rectification, actor=district.staff_a)
    rectification = rectification_report_save(
        rectification=rectification, actor=district.staff_a, items=report(rectification)
    )
    rectification_submit(rectification=rectification, actor=district.staff_a)
    assert evaluation_work_for(district.staff_a) == []
    assert [w.step for w in evaluation_work_for(district.finance)] == ["验收整改"]
    client.force_login(district.finance)
    assert f"/rectifications/{rectification.pk}/" in client.get("/").content.decode()


# -- issue 17: the transitions through the engine ----------------------------------------------


def _event(rectification, action):
    return AuditEvent.objects.get(object_type="processes.rectification", object_id=str(rectification.pk), action=action)


@pytest.mark.parametrize(("actor_name", "role"), [("leader_a", Role.DEPT_LEADER), ("staff_a", Role.DEPT_STAFF)])
def test_the_department_is_recorded_in_the_role_it_acted_in_when_acknowledging_and_submitting(
    district, findings, actor_name, role
):
    actor = getattr(district, actor_name)
    rectification = rectification_acknowledge(rectification=issue(district, findings), actor=actor)
    rectification = rectification_report_save(rectification=rectification, actor=actor, items=report(rectification))
    evidence_add(item=rectification.items.first(), actor=actor, file=SimpleUploadedFile("目标表.pdf", PDF))
    rectification = rectification_submit(rectification=rectification, actor=actor)

    for action in ("rectification_acknowledge", "rectification_report_edit", "evidence_add", "rectification_submit"):
        event = _event(rectification, action)
        assert (event.actor, event.actor_role) == (actor, role), action
    assert _event(rectification, "rectification_submit").to_state == RectificationStatus.SUBMITTED
    assert audit_verify() is None


def test_the_finance_section_is_told_when_a_rectification_is_acknowledged(district, findings):
    other_finance = make_user(Role.FINANCE_OFFICER, username="finance_2")
    rectification = issue(district, findings)
    Notification.objects.all().delete()

    rectification_acknowledge(rectification=rectification, actor=district.leader_a)

    event = _event(rectification, "rectification_acknowledge")
    told = Notification.objects.filter(event_key=f"audit:{event.sequence}")
    assert {n.recipient for n in told} == {district.finance, other_finance}
    note = told.get(recipient=district.finance)
    assert note.kind == "stage_changed" and note.url == rectification.get_absolute_url()
    assert note.verb == "整改通知已签收：%(title)s（%(department)s），整改期限 %(deadline)s"
    assert note.params["title"] == rectification.title and note.params["department"] == district.dept_a.name


def test_nothing_is_written_or_told_when_the_acknowledgement_is_refused(district, findings):
    rectification = issue(district, findings)
    before = (AuditEvent.objects.count(), Notification.objects.count())
    with pytest.raises(PermissionDenied):
        rectification_acknowledge(rectification=rectification, actor=district.leader_b)
    with pytest.raises(PermissionDenied):
        rectification_acknowledge(rectification=rectification, actor=district.finance)
    rectification_acknowledge(rectification=rectification, actor=district.staff_a)
    after_one = (AuditEvent.objects.count(), Notification.objects.count())
    with pytest.raises(ActionNotAllowed) as exc:
        rectification_acknowledge(rectification=rectification, actor=district.leader_a)
    assert "不能执行「签收整改通知」" in str(exc.value.message)
    assert (AuditEvent.objects.count(), Notification.objects.count()) == after_one
    assert after_one[0] == before[0] + 1


def test_the_department_is_told_when_a_finding_is_added(district):
    project = district.project(ProjectStage.EXECUTING)
    launch(district)
    se = accepted(district, project)
    Notification.objects.all().delete()

    finding = finding_add(source=se, actor=district.finance, problem="资金拨付滞后", requirement="加快拨付")

    event = AuditEvent.objects.get(action="finding_add", object_id=str(finding.pk))
    assert event.actor_role == Role.FINANCE_OFFICER
    told = Notification.objects.filter(event_key=f"audit:{event.sequence}")
    assert {n.recipient for n in told} == {district.staff_a, district.leader_a, district.leader_a2}
    note = told.get(recipient=district.leader_a)
    assert note.params["problem"] == "资金拨付滞后" and note.params["requirement"] == "加快拨付"
    assert project.name in note.params["subject"] and note.url == se.get_absolute_url()


def test_the_deadline_decision_is_audited_on_the_extension_in_the_supervisor_role(district, findings):
    rectification = issue(district, findings)
    ask = extension_request(
        rectification=rectification,
        actor=district.leader_a,
        reason="需待年度决算完成",
        proposed_deadline=rectification.deadline + timedelta(days=10),
    )
    assert _event(rectification, "extension_request").actor_role == Role.DEPT_LEADER
    Notification.objects.all().delete()

    granted = extension_decide(extension=ask, actor=district.supervisor, grant=True, comment="同意")

    event = AuditEvent.objects.get(action="extension_grant")
    assert (event.object_type, event.object_id) == ("processes.deadlineextension", str(granted.pk))
    assert (event.from_state, event.to_state) == ("requested", "granted")
    assert event.actor_role == Role.SUPERVISOR and event.detail["rectification"] == rectification.pk
    assert granted.decided_by == district.supervisor and granted.decision_comment == "同意"
    told = Notification.objects.filter(event_key=f"audit:{event.sequence}")
    assert {n.recipient for n in told} == {district.staff_a, district.leader_a, district.leader_a2}
    assert {n.kind for n in told} == {"approved"}
    rectification.refresh_from_db()
    assert rectification.deadline == granted.new_deadline
    assert audit_verify() is None


def test_nothing_is_saved_or_kept_when_a_report_saved_and_submitted_at_once_is_incomplete(district, findings):
    rectification = rectification_acknowledge(rectification=issue(district, findings), actor=district.staff_a)
    item = rectification.items.first()
    events = AuditEvent.objects.count()

    with pytest.raises(ValidationError) as exc:
        rectification_report_save(
            rectification=rectification,
            actor=district.staff_a,
            items=report(rectification)[:1],  # the second problem left empty
            uploads=[(item, SimpleUploadedFile("目标表.pdf", PDF))],
            submit=True,
        )

    assert any(key.endswith(".measure") for key in exc.value.message_dict)
    assert AuditEvent.objects.count() == events and not Evidence.objects.exists()
    fresh = Rectification.objects.get(pk=rectification.pk)
    assert fresh.status == RectificationStatus.ACKNOWLEDGED and fresh.revision == rectification.revision
    item.refresh_from_db()
    assert item.measure == ""

    done = rectification_report_save(
        rectification=rectification,
        actor=district.staff_a,
        items=report(rectification),
        uploads=[(item, SimpleUploadedFile("目标表.pdf", PDF))],
        submit=True,
    )
    assert done.status == RectificationStatus.SUBMITTED and Evidence.objects.count() == 1
    stored = Evidence.objects.get()
    assert stored.file.storage.exists(stored.file.name)


def test_every_transition_of_rectifications_and_extensions_is_declared():
    from processes.models import DeadlineExtension
    from processes.transitions import transitions_of

    names = {
        (d.model.__name__, d.name): d for d in [*transitions_of(Rectification), *transitions_of(DeadlineExtension)]
    }
    assert set(names) == {
        ("Rectification", "acknowledge"),
        ("Rectification", "submit"),
        ("Rectification", "verify"),
        ("Rectification", "reject"),
        ("DeadlineExtension", "grant"),
        ("DeadlineExtension", "refuse"),
    }
    assert all(d.declared and d.custom["tells"] is not None for d in names.values())
    assert names["Rectification", "acknowledge"].roles == (Role.DEPT_STAFF, Role.DEPT_LEADER)
    assert names["Rectification", "acknowledge"].audit_action == "rectification_acknowledge"
    assert names["Rectification", "reject"].needs_reason and names["DeadlineExtension", "refuse"].needs_reason
