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


# -- converters built once per connection (issue 20, third pass) ----------------------------


def _converters_by_connection(prepared, vendor: str) -> dict:
    return dict(prepared._ready[vendor][5]._by_connection)


def test_prepared_models_convert_values_as_the_orm_once_per_connection(district, monkeypatch):
    """Aware datetimes in the current time zone, decimals, JSON and booleans (integers in
    SQLite) come out as the ORM gives them, from converters built on the first run only."""
    import datetime
    from decimal import Decimal

    from django.db import connection, connections
    from django.db.models.sql.compiler import SQLCompiler
    from django.utils import timezone

    from accounts.models import User
    from config.prepared import PreparedModels
    from notifications.models import Notification
    from processes.models import SelfEvaluation
    from workflows.services import campaign_launch

    for dept in ("a", "b"):
        district.project(ProjectStage.EXECUTING, dept=dept)
    launched = campaign_launch(
        actor=district.finance, fiscal_year=2021, due_at=timezone.now() + datetime.timedelta(days=20)
    ).created
    one = PreparedModels(lambda pk: SelfEvaluation.objects.filter(pk=pk).select_related("campaign", "project"), pk=int)
    notices = PreparedModels(
        lambda pk: Notification.objects.filter(recipient_id=pk).select_related("recipient").order_by("pk"), pk=int
    )
    user = PreparedModels(lambda pk: User.objects.filter(pk=pk), pk=int)
    built: list = []
    real = SQLCompiler.get_converters
    counting: list = []
    monkeypatch.setattr(
        SQLCompiler, "get_converters", lambda self, e: (built.append(1) if counting else None) or real(self, e)
    )
    recipients = sorted(set(Notification.objects.values_list("recipient_id", flat=True)))
    assert recipients  # the launch told the departments
    for round_ in range(2):
        for se in launched:
            expected = SelfEvaluation.objects.select_related("campaign", "project").get(pk=se.pk)
            counting.append(1)
            [got] = one(pk=se.pk)
            counting.clear()
            for a, b in ((got, expected), (got.campaign, expected.campaign), (got.project, expected.project)):
                assert _fields(a) == _fields(b)
                assert {k: type(v) for k, v in _fields(a).items()} == {k: type(v) for k, v in _fields(b).items()}
            assert isinstance(got.project.requested_amount, Decimal)
            assert timezone.is_aware(got.campaign.due_at) and got.campaign.due_at == expected.campaign.due_at
            assert got.campaign.due_at.utcoffset() == expected.campaign.due_at.utcoffset()
        for pk in recipients:
            wanted = list(Notification.objects.filter(recipient_id=pk).select_related("recipient").order_by("pk"))
            counting.append(1)
            got_notices = notices(pk=pk)
            counting.clear()
            assert [_fields(n) for n in got_notices] == [_fields(n) for n in wanted]
            assert [_fields(n.recipient) for n in got_notices] == [_fields(n.recipient) for n in wanted]
            assert all(isinstance(n.params, dict) and timezone.is_aware(n.created_at) for n in got_notices)
            assert all(type(n.recipient.email_notifications) is bool for n in got_notices)
        for person in (district.staff_a, district.leader_b):
            counting.append(1)
            [got_user] = user(pk=person.pk)
            counting.clear()
            assert _fields(got_user) == _fields(User.objects.get(pk=person.pk))
            assert type(got_user.email_notifications) is bool and type(got_user.must_change_password) is bool
        assert (built == []) is bool(round_)  # built on the first round, kept for the second
        built.clear()
    assert list(_converters_by_connection(one, connection.vendor)) == [connections["default"]]


def test_each_thread_runs_prepared_models_with_its_own_connections_converters(transactional_db):
    """daphne runs sync views in threads, each on its own connection: a thread never gets
    the converters (bound to ``connection.ops``) of another thread's connection."""
    import threading

    from django.db import connection, connections
    from django.db.backends.base.operations import BaseDatabaseOperations

    from accounts.models import User
    from config.prepared import PreparedModels

    alice = User.objects.create(username="alice_conv", email="alice@example.org")
    by_pk = PreparedModels(lambda pk: User.objects.filter(pk=pk), pk=int)
    [mine] = by_pk(pk=alice.pk)
    outcome: list = []
    theirs: list = []

    def other_thread() -> None:
        try:
            outcome.extend(by_pk(pk=alice.pk))
            outcome.extend(by_pk(pk=alice.pk))
            theirs.append(connections["default"])
            kept = _converters_by_connection(by_pk, connection.vendor)
            theirs.append(kept.get(connections["default"]))
        except Exception as e:  # noqa: BLE001 (reported below)
            outcome.append(e)
        finally:
            connections["default"].close()

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert [_fields(u) for u in outcome] == [_fields(mine)] * 2
    their_connection, their_converters = theirs
    assert their_connection is not connections["default"] and their_converters is not None
    mine_connection = connections["default"]
    kept = _converters_by_connection(by_pk, connection.vendor)
    for owner_connection, converters in (
        (mine_connection, kept[mine_connection]),
        (their_connection, their_converters),
    ):
        for functions, _expression in converters.values():
            for function in functions:
                owner = getattr(function, "__self__", None)
                if isinstance(owner, BaseDatabaseOperations):  # a backend converter: this connection's
                    assert owner is owner_connection.ops
    if connection.vendor == "sqlite":  # booleans, datetimes: backend converters exist to check
        assert any(
            isinstance(getattr(f, "__self__", None), BaseDatabaseOperations)
            for functions, _ in their_converters.values()
            for f in functions
        )
