"""People and organisations: role groups, separation of duties, login lockout, idle sessions."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.admin import JixiaoUserChangeForm
from accounts.roles import ROLE_PERMISSIONS, Role
from tests.factories import PASSWORD, make_user


def test_migration_creates_every_role_with_its_permissions_when_database_is_new(db):
    for role, perms in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role)
        held = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
        assert held == set(perms), role
    assert set(ROLE_PERMISSIONS) == set(Role.values)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("sysadmin", "auditor"),
        ("auditor", "finance_officer"),
        ("finance_officer", "sysadmin"),
        # the congress reader (人大预算工委, issue 19) oversees the bureau: never also its
        # finance section, auditor or administrator
        ("congress_reader", "finance_officer"),
        ("finance_officer", "congress_reader"),
        ("congress_reader", "auditor"),
        ("auditor", "congress_reader"),
        ("congress_reader", "sysadmin"),
    ],
)
def test_second_separated_role_is_refused_when_added(db, first, second):
    user = make_user(first)
    with pytest.raises(ValidationError, match="三员分立"), transaction.atomic():
        user.groups.add(Group.objects.get(name=second))
    assert set(user.groups.values_list("name", flat=True)) == {first}


def test_separated_role_is_refused_when_added_from_the_group_side(db):
    user = make_user("auditor")
    with pytest.raises(ValidationError), transaction.atomic():
        Group.objects.get(name="sysadmin").user_set.add(user)
    assert not user.groups.filter(name="sysadmin").exists()


def test_other_role_combinations_are_allowed_when_not_separated(db):
    user = make_user("finance_officer")
    user.groups.add(Group.objects.get(name="supervisor"))
    assert user.groups.count() == 2


def test_congress_reader_may_be_a_deputy_when_given_both(db):
    user = make_user("deputy")
    user.groups.add(Group.objects.get(name="congress_reader"))
    assert set(user.groups.values_list("name", flat=True)) == {"deputy", "congress_reader"}


def test_admin_form_shows_error_when_two_separated_roles_chosen(db):
    user = make_user("dept_staff")
    form = JixiaoUserChangeForm(
        instance=user,
        data={
            "username": user.username,
            "groups": [Group.objects.get(name="sysadmin").pk, Group.objects.get(name="auditor").pk],
            "date_joined": "2026-01-01 00:00:00",
            "language": "zh-hans",
            "is_active": "on",
        },
    )
    assert not form.is_valid()
    assert "三员分立" in str(form.errors["groups"])


def test_sysadmin_manages_users_in_admin_when_logged_in(client, db):
    admin_user = make_user("sysadmin", is_staff=True)
    client.force_login(admin_user)
    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 200
    assert client.get(reverse("admin:accounts_department_add")).status_code == 200


def test_account_locks_when_five_logins_fail(client, db):
    user = make_user("dept_staff")
    url = reverse("login")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(url, {"username": user.username, "password": "wrong-password"}, REMOTE_ADDR="10.0.0.1")
    # even the right password is refused now, from any address, for the cool-off
    response = client.post(url, {"username": user.username, "password": PASSWORD}, REMOTE_ADDR="10.0.0.2")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_login_succeeds_when_failures_stay_under_the_limit(client, db):
    user = make_user("dept_staff")
    url = reverse("login")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post(url, {"username": user.username, "password": "wrong-password"})
    response = client.post(url, {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_session_expires_after_idle_minutes_when_settings_default(client, db):
    assert settings.SESSION_COOKIE_AGE == settings.SESSION_IDLE_MINUTES * 60 == 30 * 60
    user = make_user("dept_staff")
    client.force_login(user)
    assert 29 * 60 < client.session.get_expiry_age() <= 30 * 60


def _expiry(client):
    return Session.objects.get(session_key=client.session.session_key).expire_date


def test_session_is_renewed_at_most_once_a_minute_when_requests_follow_each_other(client, db):
    user = make_user("dept_staff")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.force_login(user)
        assert client.get(reverse("workflows:inbox")).status_code == 200
        first = _expiry(client)
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("workflows:inbox")).status_code == 200
        assert not [q for q in queries.captured_queries if "django_session" in q["sql"] and "UPDATE" in q["sql"]]
        assert _expiry(client) == first  # within the minute: no write
    with time_machine.travel(start + timedelta(seconds=90), tick=False):
        assert client.get(reverse("workflows:inbox")).status_code == 200
        assert _expiry(client) == start + timedelta(seconds=90) + timedelta(minutes=30)


def test_session_ends_when_idle_for_the_limit(client, db):
    user = make_user("dept_staff")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.force_login(user)
        assert client.get(reverse("workflows:inbox")).status_code == 200
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        assert client.get(reverse("workflows:inbox")).status_code == 200  # active: renewed
    with time_machine.travel(start + timedelta(minutes=39), tick=False):
        assert client.get(reverse("workflows:inbox")).status_code == 200  # 29 minutes idle
    with time_machine.travel(start + timedelta(minutes=39 + 31), tick=False):
        response = client.get(reverse("workflows:inbox"))
        assert response.status_code == 302 and reverse("login") in response["Location"]


def test_anonymous_request_creates_no_session_when_renewal_runs(client, db):
    client.get(reverse("login"))
    assert not Session.objects.exists()


def test_weak_password_is_rejected_when_validators_apply(db):
    from django.contrib.auth.password_validation import validate_password

    with pytest.raises(ValidationError):
        validate_password("12345678")
    validate_password("Liwan-Finance-2021")


def test_language_choice_is_saved_on_account_when_switched(client, db):
    user = make_user("dept_staff")
    client.force_login(user)
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.language == "en"
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"


def test_unknown_language_changes_nothing_when_posted(client, db):
    user = make_user("dept_staff")
    client.force_login(user)
    client.post(reverse("set_language"), {"language": "xx", "next": "/"})
    user.refresh_from_db()
    assert user.language == "zh-hans"


@pytest.mark.parametrize("role", ["dept_staff", "finance_officer", "expert", "sysadmin"])
def test_permissions_are_read_in_one_query_when_backend_answers(db, django_assert_num_queries, role):
    from django.contrib.auth.backends import ModelBackend
    from django.contrib.auth.models import Permission

    from accounts.backends import PermissionBackend
    from accounts.models import User

    user = make_user(role)
    user.user_permissions.add(Permission.objects.get(codename="view_session"))  # one of the user's own
    expected = ModelBackend().get_all_permissions(User.objects.get(pk=user.pk))
    fresh = User.objects.get(pk=user.pk)
    with django_assert_num_queries(1):
        assert PermissionBackend().get_all_permissions(fresh) == expected
        assert fresh.has_perm("sessions.view_session")
    assert "sessions.view_session" in expected
    assert expected - {"sessions.view_session"} == {p for p in ROLE_PERMISSIONS[role]}


def test_a_login_stamps_the_session_so_the_next_request_writes_nothing(client, db):
    user = make_user("dept_staff")
    assert client.post(reverse("login"), {"username": user.username, "password": PASSWORD}).status_code == 302
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("workflows:inbox")).status_code == 200
    assert not [q for q in queries.captured_queries if "django_session" in q["sql"] and "UPDATE" in q["sql"]]


def test_the_compiled_permission_query_answers_each_user_as_the_orm_does(db, django_assert_num_queries):
    """The permission query is compiled once and run with each user's id: every user gets
    their own permissions, not those of the user it was compiled for."""
    from django.contrib.auth.backends import ModelBackend

    from accounts.backends import PermissionBackend
    from accounts.models import User

    users = [make_user(role) for role in ("dept_staff", "finance_officer", "dept_leader")]
    users.append(User.objects.create_user(username="nobody-in-particular", password=PASSWORD))
    for user in users + users[::-1]:
        expected = ModelBackend().get_all_permissions(User.objects.get(pk=user.pk))
        fresh = User.objects.get(pk=user.pk)
        with django_assert_num_queries(1):
            assert PermissionBackend().get_all_permissions(fresh) == expected
    assert PermissionBackend().get_all_permissions(User.objects.get(pk=users[-1].pk)) == set()


def test_the_signed_in_users_row_is_read_as_django_reads_it(db, django_assert_num_queries):
    """PermissionBackend.get_user (every request's user) runs its SELECT compiled once: the
    same user, with every field as the ORM gives it; nobody for a missing id, and nobody
    for a user who may no longer sign in (issue 20)."""
    from django.contrib.auth.backends import ModelBackend

    from accounts.backends import PermissionBackend
    from accounts.models import User
    from tests.factories import make_user

    backend, django_backend = PermissionBackend(), ModelBackend()
    user = make_user("dept_staff")
    for user_id in (user.pk, str(user.pk)):
        with django_assert_num_queries(1):
            got = backend.get_user(user_id)
        expected = django_backend.get_user(user_id)
        assert type(got) is User and got._state.db == expected._state.db and not got._state.adding
        assert {f.attname: getattr(got, f.attname) for f in User._meta.concrete_fields} == {
            f.attname: getattr(expected, f.attname) for f in User._meta.concrete_fields
        }
    assert backend.get_user(user.pk + 1000) is None is django_backend.get_user(user.pk + 1000)
    assert backend.get_user(2**40) is None is django_backend.get_user(2**40)  # beyond the column: Django's path
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert backend.get_user(user.pk) is None is django_backend.get_user(user.pk)


def test_the_permission_query_reads_the_users_own_rows_by_subqueries_not_joins(db):
    """Issue 20: ``Q(user=…) | Q(group__user=…)`` made outer joins of every user's
    permissions and every group member (6.1 ms a request on PostgreSQL with 2,000 users);
    the query reads the user's rows by two ``IN`` subqueries keyed by the user's id."""
    from accounts.backends import _permissions_query

    sql = str(_permissions_query(12345).query).upper()
    assert "OUTER JOIN" not in sql
    assert sql.count("IN (SELECT") == 2
    assert sql.count("12345") == 2


def test_role_names_are_read_by_the_compiled_query_as_the_orm_reads_them(db, django_assert_num_queries):
    """Issue 20: ``role_names`` runs its SELECT compiled once per vendor with the user's id:
    each user gets their own groups, a role added shows on the next instance."""
    from django.contrib.auth.models import Group

    from accounts.models import User

    users = [make_user(role) for role in ("dept_staff", "finance_officer", "expert")]
    users.append(User.objects.create_user(username="no-roles-at-all", password=PASSWORD))
    for user in users + users[::-1]:
        fresh, expected = User.objects.get(pk=user.pk), frozenset(user.groups.values_list("name", flat=True))
        with django_assert_num_queries(1):
            assert fresh.role_names == expected
    assert User.objects.get(pk=users[-1].pk).role_names == frozenset()
    users[0].groups.add(Group.objects.get(name="supervisor"))
    assert User.objects.get(pk=users[0].pk).role_names == {"dept_staff", "supervisor"}
    with pytest.raises(ValueError):  # as Django's related manager refuses an unsaved user
        User(username="unsaved").role_names  # noqa: B018
