"""Actions from the screens: the task page and the project page's action forms.

Success redirects to the project page; a refused action (wrong stage, someone else was
first) re-renders with 409 and the message; a missing reason 400; a wrong role 403.
"""

from decimal import Decimal

import pytest
from django.urls import reverse

from notifications.models import Notification
from processes.models import AuditEvent
from processes.states import ProjectStage
from workflows.selectors import task_inbox_for

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return response.content.decode()


def stage_of(project) -> str:
    project.refresh_from_db()
    return project.stage


def the_task(user):
    return task_inbox_for(user).get()


def test_approve_redirects_to_project_with_message_when_leader_acts_on_task(client, district):
    project = district.project(ProjectStage.SUBMITTED)
    task = the_task(district.leader_a)
    client.force_login(district.leader_a)
    response = client.post(f"/tasks/{task.pk}/", {"action": "approve", "approve-comment": "同意"})
    assert response.status_code == 302
    assert response["Location"] == reverse("workflows:project_detail", args=[project.pk])
    assert stage_of(project) == ProjectStage.DEPT_APPROVED
    page = client.get(response["Location"])
    assert "「审核通过」已办理" in text(page)
    assert "部门已审核" in text(page)
    assert "同意" in text(page)  # the comment is on the timeline


def test_send_back_returns_project_to_draft_when_reason_given(client, district):
    project = district.project(ProjectStage.SUBMITTED)
    task = the_task(district.leader_a)
    client.force_login(district.leader_a)
    response = client.post(f"/tasks/{task.pk}/", {"action": "send_back", "send_back-comment": "预算依据不足"})
    assert response.status_code == 302
    assert stage_of(project) == ProjectStage.DRAFT


def test_send_back_shows_form_error_and_changes_nothing_when_reason_missing(client, district):
    project = district.project(ProjectStage.SUBMITTED)
    task = the_task(district.leader_a)
    events = AuditEvent.objects.count()
    client.force_login(district.leader_a)
    response = client.post(f"/tasks/{task.pk}/", {"action": "send_back", "send_back-comment": "  "})
    assert response.status_code == 400
    assert "请填写理由" in text(response)
    assert stage_of(project) == ProjectStage.SUBMITTED
    assert AuditEvent.objects.count() == events
    assert task_inbox_for(district.leader_a).filter(pk=task.pk).exists()


def test_task_post_is_409_with_message_when_colleague_already_approved(client, district):
    project = district.project(ProjectStage.SUBMITTED)
    task = the_task(district.leader_a2)  # both leaders see the queued task
    client.force_login(district.leader_a)
    assert client.post(f"/tasks/{task.pk}/", {"action": "approve"}).status_code == 302
    notes = Notification.objects.count()

    client.force_login(district.leader_a2)
    response = client.post(f"/tasks/{task.pk}/", {"action": "approve"})
    assert response.status_code == 409
    assert "此事项已被他人处理或修改" in text(response)
    assert "此任务已办结" in text(response)
    assert stage_of(project) == ProjectStage.DEPT_APPROVED
    assert Notification.objects.count() == notes


def test_project_act_is_409_with_stage_message_when_approving_approved_project(client, district):
    project = district.project(ProjectStage.DEPT_APPROVED)
    client.force_login(district.leader_a2)
    response = client.post(f"/projects/{project.pk}/act/approve/")
    assert response.status_code == 409
    assert "项目当前处于「部门已审核」阶段，不能执行「审核通过」" in text(response)
    assert stage_of(project) == ProjectStage.DEPT_APPROVED


def test_task_page_shows_done_when_task_finished_by_colleague(client, district):
    district.project(ProjectStage.SUBMITTED)
    task = the_task(district.leader_a)
    client.force_login(district.leader_a2)
    client.post(f"/tasks/{task.pk}/", {"action": "approve"})
    client.force_login(district.leader_a)
    response = client.get(f"/tasks/{task.pk}/")
    assert response.status_code == 200
    assert response.context["action_forms"] == []
    assert "此任务已办结" in text(response)


def test_task_post_is_409_when_action_is_not_the_tasks(client, district):
    project = district.project(ProjectStage.SUBMITTED)
    task = the_task(district.leader_a)
    client.force_login(district.leader_a)
    response = client.post(f"/tasks/{task.pk}/", {"action": "cancel", "cancel-comment": "x"})
    assert response.status_code == 409
    assert "此任务不能执行该操作" in text(response)
    assert stage_of(project) == ProjectStage.SUBMITTED


def test_task_post_is_409_with_threshold_message_when_routing_large_project_past_pre_assessment(client, district):
    project = district.project(ProjectStage.DEPT_APPROVED, amount=Decimal("5000000.00"))
    task = the_task(district.finance)
    client.force_login(district.finance)
    page = client.get(f"/tasks/{task.pk}/")
    assert [spec.name for spec, _ in page.context["action_forms"]] == ["route_to_pre_assessment"]
    response = client.post(f"/tasks/{task.pk}/", {"action": "route_to_target_review"})
    assert response.status_code == 409
    assert "必须先进行事前绩效评估" in text(response)
    assert stage_of(project) == ProjectStage.DEPT_APPROVED


def test_task_post_is_403_when_staff_posts_leaders_task(client, district):
    project = district.project(ProjectStage.SUBMITTED)
    task = the_task(district.leader_a)
    client.force_login(district.staff_a)
    response = client.post(f"/tasks/{task.pk}/", {"action": "approve"})
    assert response.status_code == 403
    assert stage_of(project) == ProjectStage.SUBMITTED


@pytest.mark.parametrize(
    ("stage", "who", "action"),
    [
        (ProjectStage.SUBMITTED, "staff_a", "approve"),
        (ProjectStage.DRAFT, "leader_a", "submit"),
        (ProjectStage.DRAFT, "finance", "submit"),
        (ProjectStage.SUBMITTED, "leader_a", "cancel"),
        (ProjectStage.DEPT_APPROVED, "leader_a", "route_to_target_review"),
        (ProjectStage.SUBMITTED, "supervisor", "withdraw"),
    ],
)
def test_project_act_is_403_and_changes_nothing_when_wrong_role(client, district, stage, who, action):
    project = district.project(stage)
    client.force_login(getattr(district, who))
    response = client.post(f"/projects/{project.pk}/act/{action}/", {f"{action}-comment": "理由"})
    assert response.status_code == 403
    assert "无权访问" in text(response)
    assert stage_of(project) == stage


def test_project_act_submits_and_queues_leader_task_when_staff_submits(client, district):
    project = district.project()
    client.force_login(district.staff_a)
    response = client.post(f"/projects/{project.pk}/act/submit/", {"submit-comment": ""})
    assert response.status_code == 302
    assert stage_of(project) == ProjectStage.SUBMITTED
    assert task_inbox_for(district.leader_a).filter(process__projectprocess__project=project).exists()
    assert Notification.objects.filter(recipient=district.leader_a, kind="task").exists()


def test_project_act_shows_form_error_when_cancel_has_no_reason(client, district):
    project = district.project(ProjectStage.SUBMITTED)
    client.force_login(district.finance)
    response = client.post(f"/projects/{project.pk}/act/cancel/", {"cancel-comment": ""})
    assert response.status_code == 400
    assert "请填写理由" in text(response)
    assert stage_of(project) == ProjectStage.SUBMITTED


def test_project_act_shows_error_when_task_action_posted_without_reason(client, district):
    project = district.project(ProjectStage.SUBMITTED)
    client.force_login(district.leader_a)
    response = client.post(f"/projects/{project.pk}/act/send_back/", {"send_back-comment": ""})
    assert response.status_code == 400
    assert "请填写理由" in text(response)
    assert stage_of(project) == ProjectStage.SUBMITTED


def test_project_act_cancels_flow_when_finance_cancels_with_reason(client, district):
    project = district.project(ProjectStage.SUBMITTED)
    client.force_login(district.finance)
    response = client.post(f"/projects/{project.pk}/act/cancel/", {"cancel-comment": "政策调整"})
    assert response.status_code == 302
    assert stage_of(project) == ProjectStage.CANCELLED
    assert not task_inbox_for(district.leader_a).exists()


def test_project_act_is_404_when_action_unknown(client, district):
    project = district.project()
    client.force_login(district.staff_a)
    assert client.post(f"/projects/{project.pk}/act/explode/").status_code == 404


def test_project_act_is_405_when_get(client, district):
    project = district.project()
    client.force_login(district.staff_a)
    assert client.get(f"/projects/{project.pk}/act/submit/").status_code == 405


def test_posts_are_refused_when_csrf_token_missing(district):
    from django.test import Client

    project = district.project()
    client = Client(enforce_csrf_checks=True)
    client.force_login(district.staff_a)
    response = client.post(f"/projects/{project.pk}/act/submit/")
    assert response.status_code == 403
    assert stage_of(project) == ProjectStage.DRAFT
