"""Every screen renders for the roles that use it, and hides what they may not see."""

from datetime import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from processes.states import ProjectStage
from workflows.models import TaskDue
from workflows.selectors import task_inbox_for

pytestmark = pytest.mark.django_db


def get(client, user, url):
    client.force_login(user)
    return client.get(url)


def text(response) -> str:
    return response.content.decode()


def test_login_page_renders_in_chinese_when_anonymous(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert "绩效管理系统" in text(response)
    assert "用户名" in text(response)


def test_screens_redirect_to_login_when_anonymous(client):
    for url in ["/", "/projects/", "/projects/new/", "/notifications/"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url


def test_header_shows_user_roles_and_unread_badge_when_logged_in(client, district):
    district.project(ProjectStage.SUBMITTED)  # notifies leader_a of the new task
    response = get(client, district.leader_a, "/")
    body = text(response)
    assert response.status_code == 200
    assert "部门负责人" in body
    assert 'data-testid="unread-count"' in body
    assert response.context["unread_notifications"] == 1
    assert "/accounts/language/" in body
    assert reverse("logout") in body
    assert reverse("api-docs") in body
    assert reverse("admin:index") not in body


def test_header_links_admin_when_sysadmin(client, district):
    assert reverse("admin:index") in text(get(client, district.sysadmin, "/"))


def test_inbox_lists_task_with_project_and_due_when_project_submitted(client, district):
    project = district.project(ProjectStage.SUBMITTED)
    task = task_inbox_for(district.leader_a).get()
    response = get(client, district.leader_a, "/")
    body = text(response)
    assert response.status_code == 200
    assert "部门审核" in body
    assert project.code in body and project.name in body
    assert "区农水局" in body
    assert "审核通过 / 退回修改" in body
    assert reverse("workflows:task", args=[task.pk]) in body
    row = response.context["rows"][0]
    assert row.due is not None and not row.overdue


def test_inbox_highlights_task_when_overdue(client, district):
    district.project(ProjectStage.SUBMITTED)
    task = task_inbox_for(district.leader_a).get()
    task.data = {**task.data, "due_at": "2020-01-01T00:00:00+00:00"}
    task.save(update_fields=["data"])
    TaskDue.objects.filter(task=task).update(due_at=datetime.fromisoformat("2020-01-01T00:00:00+00:00"))
    response = get(client, district.leader_a, "/")
    assert response.context["rows"][0].overdue
    assert "已逾期" in text(response)
    assert "2020-01-01 08:00" in text(response)  # Beijing time


def test_inbox_is_empty_when_other_department_submitted(client, district):
    district.project(ProjectStage.SUBMITTED, dept="b")
    response = get(client, district.leader_a, "/")
    assert response.context["rows"] == []
    assert "暂无待办事项" in text(response)


@pytest.mark.parametrize("who", ["staff_a", "leader_a", "finance", "supervisor", "auditor"])
def test_project_list_and_detail_render_when_role_may_see(client, district, who):
    project = district.project(ProjectStage.SUBMITTED, amount=Decimal("35000000.00"))
    user = getattr(district, who)
    listing = get(client, user, "/projects/")
    assert listing.status_code == 200
    assert project.code in text(listing)
    detail = client.get(f"/projects/{project.pk}/")
    assert detail.status_code == 200
    assert "3,500.00" in text(detail)
    assert "已提交" in text(detail)


@pytest.mark.parametrize("who", ["expert", "deputy", "agency_staff", "sysadmin"])
def test_project_list_is_empty_when_role_sees_no_projects(client, district, who):
    project = district.project()
    response = get(client, getattr(district, who), "/projects/")
    assert response.status_code == 200
    assert project.code not in text(response)
    assert client.get(f"/projects/{project.pk}/").status_code == 404


def test_project_detail_is_404_when_other_department(client, district):
    project = district.project(dept="b")
    assert get(client, district.staff_a, f"/projects/{project.pk}/").status_code == 404
    assert client.get(f"/projects/{project.pk}/edit/").status_code == 404
    assert client.post(f"/projects/{project.pk}/act/submit/").status_code == 404


def test_task_page_is_404_when_other_department(client, district):
    district.project(ProjectStage.SUBMITTED, dept="b")
    task = task_inbox_for(district.leader_b).get()
    assert get(client, district.leader_a, f"/tasks/{task.pk}/").status_code == 404
    assert client.post(f"/tasks/{task.pk}/", {"action": "approve"}).status_code == 404


def test_task_page_shows_one_form_per_action_when_leader_opens_it(client, district):
    project = district.project(ProjectStage.SUBMITTED)
    task = task_inbox_for(district.leader_a).get()
    response = get(client, district.leader_a, f"/tasks/{task.pk}/")
    body = text(response)
    assert response.status_code == 200
    assert [spec.name for spec, _ in response.context["action_forms"]] == ["approve", "send_back"]
    assert 'value="approve"' in body and 'value="send_back"' in body
    assert "理由（必填）" in body  # send_back needs a reason
    assert project.name in body
    assert "120.00" in body  # 1,200,000 yuan in 万元


def test_task_page_is_403_when_role_cannot_take_it(client, district):
    district.project(ProjectStage.SUBMITTED)
    task = task_inbox_for(district.leader_a).get()
    assert get(client, district.staff_a, f"/tasks/{task.pk}/").status_code == 403
    assert get(client, district.finance, f"/tasks/{task.pk}/").status_code == 403


def test_project_detail_shows_tasks_amounts_actions_and_timeline_when_submitted(client, district):
    project = district.project(ProjectStage.SUBMITTED)
    response = get(client, district.staff_a, f"/projects/{project.pk}/")
    body = text(response)
    assert response.status_code == 200
    assert "部门审核" in body and "待办理" in body and "待认领" not in body
    assert [spec.name for spec, _ in response.context["action_forms"]] == ["withdraw"]
    assert f"/projects/{project.pk}/act/withdraw/" in body
    assert "草稿 → 已提交" in body
    assert "经办人" in body
    assert "测试理由" in body


def test_project_detail_links_task_when_user_may_take_it(client, district):
    project = district.project(ProjectStage.SUBMITTED)
    task = task_inbox_for(district.leader_a).get()
    response = get(client, district.leader_a, f"/projects/{project.pk}/")
    assert reverse("workflows:task", args=[task.pk]) in text(response)
    # approve/send_back are taken on the task page, not as forms here
    assert [spec.name for spec, _ in response.context["action_forms"]] == ["withdraw"]


def test_project_detail_offers_submit_and_edit_when_draft(client, district):
    project = district.project()
    response = get(client, district.staff_a, f"/projects/{project.pk}/")
    assert {spec.name for spec, _ in response.context["action_forms"]} == {"submit", "withdraw"}
    assert response.context["can_edit"]
    assert reverse("workflows:project_edit", args=[project.pk]) in text(response)


def test_project_detail_offers_cancel_when_finance(client, district):
    project = district.project(ProjectStage.DEPT_APPROVED)
    response = get(client, district.finance, f"/projects/{project.pk}/")
    assert [spec.name for spec, _ in response.context["action_forms"]] == ["cancel"]
    assert not response.context["can_edit"]


def test_project_new_renders_when_dept_staff(client, district):
    response = get(client, district.staff_a, "/projects/new/")
    assert response.status_code == 200
    assert "送审金额（元）" in text(response)


@pytest.mark.parametrize("who", ["leader_a", "finance", "supervisor", "sysadmin"])
def test_project_new_is_403_when_not_dept_staff(client, district, who):
    assert get(client, getattr(district, who), "/projects/new/").status_code == 403


def test_project_edit_renders_current_values_when_draft(client, district):
    project = district.project(amount=Decimal("1234567.89"))
    response = get(client, district.staff_a, f"/projects/{project.pk}/edit/")
    assert response.status_code == 200
    assert response.context["form"].initial["version"] == project.version
    assert "1234567.89" in text(response)


def test_project_edit_redirects_with_message_when_not_draft(client, district):
    project = district.project(ProjectStage.SUBMITTED)
    response = get(client, district.staff_a, f"/projects/{project.pk}/edit/")
    assert response.status_code == 302
    follow = client.get(response["Location"])
    assert "不能再修改" in text(follow)


def test_project_edit_is_403_when_leader(client, district):
    project = district.project()
    assert get(client, district.leader_a, f"/projects/{project.pk}/edit/").status_code == 403


def test_notifications_render_newest_first_with_unread_highlighted_when_told(client, district):
    project = district.project(ProjectStage.DEPT_APPROVED)  # staff_a is told of the leader's approval
    response = get(client, district.staff_a, "/notifications/")
    assert response.status_code == 200
    notes = list(response.context["page"])
    assert notes, "staff_a is told of the approval"
    assert notes == sorted(notes, key=lambda n: (n.created_at, n.pk), reverse=True)
    assert project.name in text(response)
    assert 'class="unread"' in text(response)


def test_password_change_page_renders_when_logged_in(client, district):
    response = get(client, district.staff_a, reverse("password_change"))
    assert response.status_code == 200
    assert "修改密码" in text(response)


def test_pages_render_in_english_when_language_switched(client, district):
    client.force_login(district.staff_a)
    response = client.post("/accounts/language/", {"language": "en", "next": "/projects/"})
    assert response.status_code == 302
    response = client.get("/projects/")
    assert response.status_code == 200
    assert '<html lang="en">' in text(response)


def test_header_links_the_expert_library_when_finance_officer_is_staff(client, district):
    from django.urls import reverse

    finance = district.finance
    finance.is_staff = True
    finance.save()
    client.force_login(finance)
    library = reverse("admin:accounts_expertprofile_changelist")
    assert library in client.get("/").content.decode()
    assert client.get(library).status_code == 200
    client.force_login(district.staff_a)
    assert library not in client.get("/").content.decode()


def test_inbox_rows_fragment_holds_only_the_rows_when_asked_for_live_update(client, district):
    district.project(ProjectStage.SUBMITTED)
    response = get(client, district.leader_a, "/?rows=1")
    body = text(response)
    assert response.status_code == 200
    assert body.lstrip().startswith("<tr") and "<html" not in body
    assert 'data-testid="task-row"' in body and "部门审核" in body and "待办理" in body


def test_inbox_and_task_page_say_the_same_status_when_the_task_is_queued(client, district):
    district.project(ProjectStage.SUBMITTED)
    task = task_inbox_for(district.leader_a).get()
    inbox = text(get(client, district.leader_a, "/"))
    page = text(get(client, district.leader_a, f"/tasks/{task.pk}/"))
    for body in (inbox, page):
        assert 'data-task-state="queued">待办理</span>' in body
        assert "待认领" not in body
    assert "/static/js/inbox_live.js" in inbox and "data-rows-url=" in inbox


def test_finance_inbox_lists_the_project_steps_no_task_stands_for_when_projects_wait(client, district):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from processes.selectors import evaluation_work_for

    waiting = district.project(ProjectStage.PRE_ASSESSMENT)
    budgeted = district.project(ProjectStage.BUDGETED)
    body = text(get(client, district.finance, "/"))
    assert "发起事前绩效评估" in body and f"/projects/{waiting.pk}/pre-assessment/new/" in body
    assert "下达预算，开始执行" in body and f'href="/projects/{budgeted.pk}/"' in body
    # not for the department's staff
    assert "下达预算，开始执行" not in text(get(client, district.staff_a, "/"))

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            steps = [w.step for w in evaluation_work_for(district.finance)]
        assert steps.count("发起事前绩效评估") >= 1
        return len(ctx.captured_queries)

    before = count()
    district.project(ProjectStage.PRE_ASSESSMENT)
    district.project(ProjectStage.BUDGETED)
    assert count() == before
