"""The inbox's queries are compiled once per process for the user's shape
(config/prepared.py CompiledQueries, issue 20): what is cached is SQL, keyed by every value the query is
built from, never rows — so a write that changes who sees what (a user's department, roles,
permissions) or what there is to see (a new task, a done task) shows on the next visit."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from config.prepared import CompiledQueries, compiled_queries
from processes.models import BudgetProject
from processes.selectors import evaluation_work_for, user_shape
from processes.services.findings import finding_add
from processes.services.rectification import rectification_issue
from processes.states import ProjectStage
from tests.processes.test_evaluation import accepted, launch
from workflows.selectors import TASK, inbox_for, task_inbox_for

pytestmark = pytest.mark.django_db


def fresh(user: User) -> User:
    """The user as the next request loads them (no role or permission cache)."""
    return User.objects.get(pk=user.pk)


def subjects(user: User, **kwargs) -> list[str]:
    return [row.subject for row in inbox_for(fresh(user), **kwargs)]


def test_a_second_visit_compiles_nothing_and_reads_the_same_rows_in_the_same_statements(district):
    district.project(ProjectStage.SUBMITTED, name="渠道清淤")
    district.project(ProjectStage.SUBMITTED, name="农田水利")
    compiled_queries.clear()
    leader = fresh(district.leader_a)
    leader.get_all_permissions(), leader.role_names  # noqa: B018 -- loaded as the request's middleware loads them
    with CaptureQueriesContext(connection) as first_visit:
        first = inbox_for(leader)
        first.count()
        first = first[0:50]
    compiled = compiled_queries.compiled
    assert compiled > 0
    leader = fresh(district.leader_a)
    leader.get_all_permissions(), leader.role_names  # noqa: B018
    with CaptureQueriesContext(connection) as queries:
        again = inbox_for(leader)
        count = again.count()
        rows = again[0:50]
    assert compiled_queries.compiled == compiled
    assert [q["sql"] for q in queries] == [q["sql"] for q in first_visit]
    assert [r.key for r in rows] == [r.key for r in first] and count == 2
    assert {r.subject for r in rows} == {"渠道清淤", "农田水利"}
    # the same rows as the queryset itself gives, built and compiled as before
    assert [r.task.pk for r in rows] == list(task_inbox_for(leader, sort="due").values_list("pk", flat=True))


def test_a_new_task_and_a_done_task_show_on_the_next_visit(district):
    from workflows.services import project_act

    first = district.project(ProjectStage.SUBMITTED, name="渠道清淤")
    assert subjects(district.leader_a) == ["渠道清淤"]
    district.project(ProjectStage.SUBMITTED, name="农田水利")
    assert sorted(subjects(district.leader_a)) == ["农田水利", "渠道清淤"]
    project_act(project=first, actor=district.leader_a, action="approve", comment="同意")
    assert subjects(district.leader_a) == ["农田水利"]
    assert inbox_for(fresh(district.leader_a)).count() == 1


def test_moving_a_user_to_another_department_changes_their_inbox_at_once(district):
    district.project(ProjectStage.SUBMITTED, name="渠道清淤")  # department A's leaders review it
    assert subjects(district.leader_b) == []
    assert subjects(district.leader_a) == ["渠道清淤"]  # the query for department A is compiled now

    district.leader_b.department = district.dept_a
    district.leader_b.save()
    district.leader_a.department = district.dept_b
    district.leader_a.save()

    assert subjects(district.leader_b) == ["渠道清淤"]
    assert subjects(district.leader_a) == []


def test_a_role_taken_away_or_given_changes_the_inbox_at_once(district):
    district.project(ProjectStage.SUBMITTED, name="渠道清淤")
    leader = district.leader_a
    assert subjects(leader) == ["渠道清淤"]

    leader.groups.remove(Group.objects.get(name="dept_leader"))
    assert subjects(leader) == []

    leader.groups.add(Group.objects.get(name="dept_leader"))
    assert subjects(leader) == ["渠道清淤"]
    # a deactivated account holds no permission: nothing queued for it
    leader.is_active = False
    leader.save()
    assert subjects(leader) == []


def test_state_machine_steps_follow_the_department_and_new_records(district):
    project = district.project(ProjectStage.EXECUTING)
    assert [w.kind for w in evaluation_work_for(fresh(district.staff_a), limit=None)] == []
    launch(district)
    se = accepted(district, project)
    finding = finding_add(source=se, actor=district.finance, problem="绩效目标不够细化", requirement="细化量化指标")
    rectification_issue(actor=district.finance, findings=[finding], title="整改")

    assert [w.kind for w in evaluation_work_for(fresh(district.staff_a), limit=None)] == ["rectification"]
    assert [w.kind for w in evaluation_work_for(fresh(district.staff_b), limit=None)] == []
    district.staff_b.department = district.dept_a
    district.staff_b.save()
    assert [w.kind for w in evaluation_work_for(fresh(district.staff_b), limit=None)] == ["rectification"]
    assert [(row.kind, row.action) for row in inbox_for(fresh(district.staff_b), kind="step")] == [
        ("step", "签收整改通知")
    ]


def test_the_users_shape_names_everything_the_rules_read(district):
    leader = fresh(district.leader_a)
    shape = user_shape(leader)
    assert shape[0] == leader.pk and shape[3] == district.dept_a.pk
    assert "dept_leader" in shape[5] and shape[6]
    other = fresh(district.leader_a2)  # same department and role, another person
    assert user_shape(other) != shape
    district.sysadmin.is_superuser = True
    assert user_shape(district.sysadmin)[6] == frozenset()  # a superuser holds no business permission


def test_a_query_that_can_match_nothing_is_answered_without_a_statement(district):
    store = CompiledQueries()
    with CaptureQueriesContext(connection) as queries:
        assert store.rows(("none",), lambda: BudgetProject.objects.filter(pk__in=[])) == []
        assert store.rows(("none",), lambda: BudgetProject.objects.filter(pk__in=[])) == []
    assert len(queries) == 0 and store.compiled == 1


def test_the_store_keeps_at_most_its_size_and_counts_as_django_does(district):
    district.project(ProjectStage.SUBMITTED)
    district.project(ProjectStage.DRAFT, dept="b")
    store = CompiledQueries(size=2)
    for dept in (district.dept_a, district.dept_b, district.dept_a):
        build = lambda dept=dept: BudgetProject.objects.filter(department=dept).order_by("pk")  # noqa: E731
        assert [p.pk for p in store.rows(("dept", dept.pk), build)] == [p.pk for p in build()]
        assert store.count(("count", dept.pk), build) == build().count() == 1
    assert len(store._rows) == 2 and len(store._counts) == 2
    with pytest.raises(ValueError):
        store.rows(("values",), lambda: BudgetProject.objects.values("pk"))


def test_inbox_tasks_are_rows_of_the_task_kind(district):
    district.project(ProjectStage.SUBMITTED, name="渠道清淤")
    rows = inbox_for(fresh(district.leader_a), kind=TASK)[0:10]
    assert [(r.kind, r.subject) for r in rows] == [(TASK, "渠道清淤")]


def test_the_task_query_joins_no_users_and_an_assigned_task_carries_its_owner_without_a_query(district):
    """The open tasks' query does not join accounts_user (issue 20, city scale: with a
    million finished tasks PostgreSQL nested-looped every user per open task); a task in
    the inbox is queued or the user's own, and its row names the user as owner."""
    from viewflow.workflow.models import Task

    from workflows.selectors import task_get_for

    district.project(ProjectStage.SUBMITTED, name="渠道清淤")
    leader = fresh(district.leader_a)
    assert "accounts_user" not in str(task_inbox_for(leader).query)
    task = task_inbox_for(leader).get()
    Task.objects.filter(pk=task.pk).update(owner=leader, status="ASSIGNED")
    leader = fresh(district.leader_a)
    leader.get_all_permissions(), leader.role_names  # noqa: B018 -- loaded as the request's middleware loads them
    with CaptureQueriesContext(connection) as queries:
        rows = inbox_for(leader)[0:50]
        own = task_get_for(leader, task.pk)
        fetched = len(queries)
        assert [r.owner for r in rows] == [leader] and rows[0].state == "assigned"
        assert own.owner == leader
    assert len(queries) == fetched  # the owner came without a query
    assert inbox_for(fresh(district.leader_b)).count() == 0
