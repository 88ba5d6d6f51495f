"""Prepared queries: compiled once, run with new values, the same answer as the ORM's."""

import pytest

from accounts.models import User
from accounts.roles import ROLE_PERMISSIONS
from processes.prepared import Prepared
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
