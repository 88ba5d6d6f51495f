"""Prepared queries: compiled once, run with new values, the same answer as the ORM's."""

import pytest

from accounts.models import User
from accounts.roles import ROLE_PERMISSIONS
from config.prepared import Prepared
from processes.states import ProjectStage
from workflows.nodes import _QUEUE_HOLDERS, _queue_holders

PERMISSIONS = sorted({p for perms in ROLE_PERMISSIONS.values() for p in perms})


def test_queue_holders_match_the_orm_for_every_permission_and_project(district, django_assert_num_queries):
    projects = [district.project(ProjectStage.SUBMITTED, dept="a"), district.project(ProjectStage.DRAFT, dept="b")]
    seen_someone = 0
    for project in projects:
        for perm in PERMISSIONS:
            app_label, codename = perm.split(".", 1)
            args = {"app_label": app_label, "codename": codename, "project_id": project.pk}
            args["department_id"] = project.department_id
            expected = {u.pk for u in _queue_holders(**args)}
            with django_assert_num_queries(1):
                got = {u.pk for u in _QUEUE_HOLDERS(**args)}
            assert got == expected, perm
            seen_someone += bool(got)
    assert seen_someone > 10  # the comparison is not between empty sets
    assert {u.pk for u in _QUEUE_HOLDERS(**{**args, "codename": "review_project"})} == {
        district.leader_b.pk
    }  # dept b's leader reviews dept b's project; dept a's leaders do not


def test_prepared_yields_model_instances_with_their_fields(district):
    by_name = Prepared(lambda *, name: User.objects.filter(username=name), name=str)
    [user] = by_name(name="leader_a")
    assert isinstance(user, User) and user.pk == district.leader_a.pk and user.department_id == district.dept_a.pk
    assert list(by_name(name="nobody")) == []


def test_a_value_that_does_not_reach_the_sql_as_a_parameter_is_refused(db):
    ignored = Prepared(lambda *, name: User.objects.all(), name=str)
    with pytest.raises(ValueError, match="name"):
        list(ignored(name="x"))
    with pytest.raises(TypeError):
        Prepared(lambda *, when: User.objects.all(), when=float)


# -- PreparedModels: the ORM's own instances, compiled once --------------------------------


def _fields(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def test_prepared_models_give_the_orms_instances_with_their_related_rows(district, django_assert_num_queries):
    from config.prepared import PreparedModels
    from processes.models import BudgetProject

    by_department = PreparedModels(
        lambda department_id: (
            BudgetProject.objects.filter(department_id=department_id).select_related("department").order_by("pk")
        ),
        department_id=int,
    )
    district.project(ProjectStage.DRAFT, dept="a")
    district.project(ProjectStage.SUBMITTED, dept="a")
    for department in (district.dept_a, district.dept_b):
        expected = list(
            BudgetProject.objects.filter(department_id=department.pk).select_related("department").order_by("pk")
        )
        with django_assert_num_queries(1):  # the department comes with its project
            got = by_department(department_id=department.pk)
            departments = [p.department for p in got]
        assert [_fields(p) for p in got] == [_fields(p) for p in expected]
        assert [_fields(d) for d in departments] == [_fields(p.department) for p in expected]
    assert by_department(department_id=-1) == []


def test_prepared_models_serve_every_thread_on_its_own_connection(transactional_db):
    import threading

    from django.db import connection

    from config.prepared import PreparedModels
    from processes.models import BudgetProject

    one = PreparedModels(lambda pk: BudgetProject.objects.filter(pk=pk), pk=int)
    assert one(pk=1) == []  # compiled on this thread
    outcome: list = []

    def other_thread() -> None:
        # Django refuses a connection used from a thread other than its own ("… can only
        # be used in that same thread"): the compiled query must take this thread's
        try:
            outcome.append(one(pk=1))
        except Exception as e:  # noqa: BLE001 (reported below)
            outcome.append(e)
        finally:
            connection.close()

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert outcome == [[]]


def test_prepared_models_keep_the_row_lock_rule(transactional_db):
    from django.db import connection, transaction
    from django.db.transaction import TransactionManagementError

    from config.prepared import PreparedModels
    from processes.models import BudgetProject

    locked = PreparedModels(lambda pk: BudgetProject.objects.select_for_update().filter(pk=pk), pk=int)
    with transaction.atomic():
        assert locked(pk=1) == []
    if connection.features.has_select_for_update:  # PostgreSQL: refused outside a transaction, as the ORM does
        with pytest.raises(TransactionManagementError):
            locked(pk=1)
        with pytest.raises(TransactionManagementError):
            list(BudgetProject.objects.select_for_update().filter(pk=1))
    else:
        assert locked(pk=1) == list(BudgetProject.objects.select_for_update().filter(pk=1)) == []


def test_prepared_models_refuse_prefetch_and_values(db):
    from config.prepared import PreparedModels
    from processes.models import BudgetProject

    with pytest.raises(ValueError):
        PreparedModels(lambda pk: BudgetProject.objects.filter(pk=pk).values("pk"), pk=int)(pk=1)
    with pytest.raises(ValueError):
        PreparedModels(lambda pk: BudgetProject.objects.filter(pk=pk).prefetch_related("payments"), pk=int)(pk=1)


def test_lock_rereads_under_the_prepared_query_and_refuses_a_missing_row(district):
    from django.db import transaction

    from processes import transitions
    from processes.models import BudgetProject

    project = district.project(ProjectStage.DRAFT, dept="a")
    with transaction.atomic():
        again = transitions.lock(project)
        assert again is not project and _fields(again) == _fields(BudgetProject.objects.get(pk=project.pk))
        with pytest.raises(BudgetProject.DoesNotExist):
            transitions.lock(BudgetProject(pk=-5))


def test_open_tasks_of_a_process_match_the_orm(district):
    from decimal import Decimal

    from workflows.flows import ProjectIntakeFlow
    from workflows.models import ProjectProcess
    from workflows.services import (
        _OPEN_TASKS_OF_PROCESS,
        _open_task_of_node,
        _running_process,
        open_project_tasks,
        project_act,
    )

    project = project_act(
        project=district.project(ProjectStage.DRAFT, amount=Decimal("6000000")), actor=district.staff_a, action="submit"
    )
    process = ProjectProcess.objects.get(project=project)
    expected = list(open_project_tasks(project).filter(process_id=process.pk))
    got = _OPEN_TASKS_OF_PROCESS(project_id=project.pk, process_id=process.pk)
    assert len(got) == 1 and [_fields(t) for t in got] == [_fields(t) for t in expected]
    assert type(got[0]) is type(expected[0])  # viewflow's coerced task class, as the ORM gives
    assert got[0].process.projectprocess.project.pk == project.pk
    assert _running_process(project.pk, ProjectIntakeFlow).pk == process.pk
    assert _running_process(-1, ProjectIntakeFlow) is None
    node = expected[0].flow_task
    [task] = _open_task_of_node(node)(process_id=process.pk)
    assert task.pk == expected[0].pk and task.process.projectprocess.project.pk == project.pk
    assert _open_task_of_node(node)(process_id=-1) == []
