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
