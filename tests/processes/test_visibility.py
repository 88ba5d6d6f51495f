"""Visibility at its source: the selectors every list, detail, inbox and API goes through."""

import pytest
from django.http import Http404

from processes.selectors import project_get_for, project_list_for, project_visible_to, users_who_see
from processes.states import ProjectStage
from workflows.selectors import task_get_for, task_inbox_for

#: role -> which department's projects it sees ("a" = its own, for department roles)
SEES = {
    "staff_a": {"a"},
    "leader_a": {"a"},
    "staff_b": {"b"},
    "leader_b": {"b"},
    "finance": {"a", "b"},
    "supervisor": {"a", "b"},
    "auditor": {"a", "b"},
    "sysadmin": set(),
    "expert": set(),
    "deputy": set(),
    "agency_staff": set(),
}


@pytest.mark.parametrize(("person", "sees"), SEES.items())
def test_visible_to_answers_as_the_list_does_when_role_differs(district, person, sees, django_assert_max_num_queries):
    """project_visible_to (a task's claim check) is project_list_for's answer for one
    project; its own department's people get it with no query beyond their roles."""
    from accounts.models import User

    projects = {
        "a": district.project(ProjectStage.SUBMITTED, dept="a"),
        "b": district.project(ProjectStage.DRAFT, dept="b"),
    }
    user = User.objects.get(pk=getattr(district, person).pk)
    for dept, project in projects.items():
        assert (
            project_visible_to(user, project) == (dept in sees) == project_list_for(user).filter(pk=project.pk).exists()
        )
    if person in ("staff_a", "leader_a"):
        user = User.objects.get(pk=user.pk)
        with django_assert_max_num_queries(1):  # the user's roles
            assert project_visible_to(user, projects["a"])


@pytest.mark.parametrize(("person", "sees"), SEES.items())
def test_project_lists_and_details_are_scoped_when_role_differs(district, person, sees):
    projects = {
        "a": district.project(ProjectStage.SUBMITTED, dept="a"),
        "b": district.project(ProjectStage.DRAFT, dept="b"),
    }
    user = getattr(district, person)
    assert {p.pk for p in project_list_for(user)} == {projects[d].pk for d in sees}
    for dept, project in projects.items():
        if dept in sees:
            assert project_get_for(user, project.pk) == project
        else:
            with pytest.raises(Http404):
                project_get_for(user, project.pk)
    assert ({u.pk for u in users_who_see(projects["a"])} >= {user.pk}) == ("a" in sees)


def test_leader_inbox_holds_only_own_department_tasks_when_both_departments_submit(district):
    mine = district.project(ProjectStage.SUBMITTED, dept="a")
    theirs = district.project(ProjectStage.SUBMITTED, dept="b")
    inbox_a = list(task_inbox_for(district.leader_a))
    assert [t.process.projectprocess.project_id for t in inbox_a] == [mine.pk]
    assert [t.process.projectprocess.project_id for t in task_inbox_for(district.leader_b)] == [theirs.pk]
    with pytest.raises(Http404):
        task_get_for(district.leader_a, next(iter(task_inbox_for(district.leader_b))).pk)


@pytest.mark.parametrize(
    "person", ["staff_a", "staff_b", "supervisor", "auditor", "sysadmin", "expert", "deputy", "agency_staff", "finance"]
)
def test_review_task_is_in_no_other_inbox_when_submitted(district, person):
    district.project(ProjectStage.SUBMITTED, dept="a")
    assert list(task_inbox_for(getattr(district, person))) == []


def test_finance_inbox_holds_intake_tasks_of_every_department_when_approved(district):
    a = district.project(ProjectStage.DEPT_APPROVED, dept="a")
    b = district.project(ProjectStage.DEPT_APPROVED, dept="b")
    inbox = task_inbox_for(district.finance)
    assert {t.process.projectprocess.project_id for t in inbox} == {a.pk, b.pk}
    assert {t.flow_task.name for t in inbox} == {"finance_intake"}
    assert list(task_inbox_for(district.leader_a)) == []


def test_inbox_is_one_query_when_many_tasks(district, django_assert_num_queries):
    for _ in range(5):
        district.project(ProjectStage.DEPT_APPROVED, dept="a")
    user = district.finance
    user.get_all_permissions()  # permission cache, loaded once per request in real use
    with django_assert_num_queries(1):
        rows = [(t.process.projectprocess.project.department.name, t.data.get("due_at")) for t in task_inbox_for(user)]
    assert len(rows) == 5


def test_superuser_sees_and_does_nothing_when_acting_as_business_role(district):
    from django.core.exceptions import PermissionDenied

    from accounts.models import User
    from workflows.services import project_act

    root = User.objects.create_superuser("root", "root@example.cn", "x")
    project = district.project(ProjectStage.DEPT_APPROVED)
    assert list(project_list_for(root)) == []
    assert list(task_inbox_for(root)) == []
    assert root.pk not in {u.pk for u in users_who_see(project)}
    with pytest.raises((PermissionDenied, Http404)):
        project_act(project=project, actor=root, action="route_to_target_review")
