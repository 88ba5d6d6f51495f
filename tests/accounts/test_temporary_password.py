"""三员分立 for passwords and roles: a password set by someone else is temporary, its owner
is told, and the act — like every role grant — is an audit event the auditor reads."""

import json

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import User
from accounts.passwords import acting_operator
from processes.models import AuditEvent
from processes.services.audit import audit_verify
from tests.factories import PASSWORD, make_user

TEMPORARY = "Linshi-mima-2026!"
OWN = "Ziji-de-mima-2026!"


@pytest.fixture
def people(db):
    from accounts.roles import sync_role_groups

    sync_role_groups()
    return {
        "sysadmin": make_user("sysadmin", username="sysadmin", is_staff=True),
        "auditor": make_user("auditor", username="auditor", is_staff=True),
        "finance2": make_user("finance_officer", username="finance2", full_name="财务二"),
        "finance": make_user("finance_officer", username="finance", is_staff=True),
        "staff": make_user("dept_staff", username="staff"),
    }


def admin_set_password(client, actor, target, password=TEMPORARY):
    client.force_login(actor)
    return client.post(
        reverse("admin:auth_user_password_change", args=[target.pk]),
        {"password1": password, "password2": password, "usable_password": "true", "set_usable_password": "true"},
    )


def log_in(client, username, password):
    client.logout()
    return client.post(reverse("login"), {"username": username, "password": password})


def events(action, target=None):
    rows = AuditEvent.objects.filter(action=action, object_type="accounts.user")
    if target is not None:
        rows = rows.filter(object_id=str(target.pk))
    return list(rows.order_by("sequence"))


def change_own_password(client, old, new, next_url=""):
    data = {"old_password": old, "new_password1": new, "new_password2": new}
    if next_url:
        data["next"] = next_url
    return client.post(reverse("password_change"), data)


# -- the sysadmin sets finance2's password ------------------------------------------------


def test_user_must_change_password_when_the_sysadmin_set_it_in_the_admin(
    client, people, django_capture_on_commit_callbacks
):
    finance2 = people["finance2"]
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_set_password(client, people["sysadmin"], finance2)

    assert response.status_code == 302
    finance2.refresh_from_db()
    assert finance2.must_change_password
    assert finance2.check_password(TEMPORARY)

    # finance2 signs in with it, and gets nothing but the password page
    assert log_in(client, "finance2", TEMPORARY).status_code == 302
    inbox = client.get(reverse("workflows:inbox"))
    assert inbox.status_code == 302
    assert inbox.url.startswith(reverse("password_change") + "?next=")
    page = client.get(inbox.url)
    assert page.status_code == 200
    assert "临时密码" in page.content.decode()

    changed = change_own_password(client, TEMPORARY, OWN, next_url=reverse("workflows:inbox"))
    assert changed.status_code == 302 and changed.url == reverse("workflows:inbox")
    finance2.refresh_from_db()
    assert not finance2.must_change_password
    assert client.get(reverse("workflows:inbox")).status_code == 200  # still signed in


def test_audit_event_names_actor_role_and_target_without_secrets_when_sysadmin_sets_a_password(client, people):
    finance2 = people["finance2"]
    admin_set_password(client, people["sysadmin"], finance2)

    [event] = events("password_set_by_admin", finance2)
    assert event.actor == people["sysadmin"]
    assert (event.actor_username, event.actor_role) == ("sysadmin", "sysadmin")
    assert (event.object_type, event.object_id) == ("accounts.user", str(finance2.pk))
    assert event.detail == {"username": "finance2", "created": False, "via": "web"}
    finance2.refresh_from_db()
    stored = json.dumps([event.comment, event.detail, event.object_repr], ensure_ascii=False)
    assert TEMPORARY not in stored and finance2.password not in stored
    assert audit_verify() is None


def test_auditor_sees_the_event_in_the_audit_trail_when_a_password_was_set_by_the_sysadmin(client, people):
    admin_set_password(client, people["sysadmin"], people["finance2"])

    client.force_login(people["auditor"])
    listed = client.get(reverse("admin:processes_auditevent_changelist"), {"action": "password_set_by_admin"})

    assert listed.status_code == 200
    body = listed.content.decode()
    assert "password_set_by_admin" in body and "财务二" in body and "sysadmin" in body
    [event] = events("password_set_by_admin")
    assert client.get(reverse("admin:processes_auditevent_change", args=[event.pk])).status_code == 200


def test_user_is_emailed_in_their_language_when_the_sysadmin_sets_their_password(
    client, people, django_capture_on_commit_callbacks
):
    finance2 = people["finance2"]
    english = make_user("dept_staff", username="english", language="en")
    with django_capture_on_commit_callbacks(execute=True):
        admin_set_password(client, people["sysadmin"], finance2)
        admin_set_password(client, people["sysadmin"], english)

    by_recipient = {m.to[0]: m for m in mail.outbox}
    zh = by_recipient[finance2.email]
    assert "密码已被重置" in zh.subject
    assert "临时密码" in zh.body and "审计管理员" in zh.body
    assert TEMPORARY not in zh.body
    en = by_recipient[english.email]
    assert en.subject == "[Performance Management] Your password was reset"
    assert "temporary" in en.body and "密码" not in en.body
    assert TEMPORARY not in en.body


def test_user_is_emailed_even_when_they_turned_notifications_off(client, people, django_capture_on_commit_callbacks):
    finance2 = people["finance2"]
    User.objects.filter(pk=finance2.pk).update(email_notifications=False)
    with django_capture_on_commit_callbacks(execute=True):
        admin_set_password(client, people["sysadmin"], finance2)

    assert [m.to for m in mail.outbox] == [[finance2.email]]


def test_no_page_is_served_before_the_change_when_the_password_is_temporary(client, people):
    staff = people["staff"]
    admin_set_password(client, people["sysadmin"], staff)
    log_in(client, "staff", TEMPORARY)

    for path in ("/", reverse("workflows:inbox"), reverse("admin:index"), "/notifications/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.url.startswith(reverse("password_change")), path
    posted = client.post(reverse("workflows:inbox"), {})
    assert posted.status_code == 302 and posted.url == reverse("password_change")
    # the session's API calls are refused with the reason
    api = client.get("/api/projects/")
    assert api.status_code == 403
    assert "临时密码" in api.json()["detail"]
    # the password page, the language switch and logout stay reachable
    assert client.get(reverse("password_change")).status_code == 200
    assert client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"}).status_code == 302
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("workflows:inbox")).url.startswith(reverse("login"))


def test_api_refuses_token_and_token_request_with_403_when_the_password_is_temporary(client, people):
    finance2 = people["finance2"]
    token = Token.objects.create(user=finance2)
    admin_set_password(client, people["sysadmin"], finance2)
    assert not Token.objects.filter(pk=token.pk).exists()  # revoked by the reset

    api = APIClient()
    obtained = api.post("/api/auth/token/", {"username": "finance2", "password": TEMPORARY}, format="json")
    assert obtained.status_code == 403
    assert "临时密码" in obtained.json()["detail"]
    assert not Token.objects.filter(user=finance2).exists()

    # a token made some other way is refused too
    other = Token.objects.create(user=finance2)
    api.credentials(HTTP_AUTHORIZATION=f"Token {other.key}")
    refused = api.get("/api/projects/")
    assert refused.status_code == 403
    assert "临时密码" in refused.json()["detail"]

    english = api.get("/api/projects/", HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 403 and "temporary" in english.json()["detail"]


def test_user_created_in_the_admin_has_a_temporary_password_when_the_sysadmin_sets_it(
    client, people, django_capture_on_commit_callbacks
):
    client.force_login(people["sysadmin"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:accounts_user_add"),
            {
                "username": "newcomer",
                "full_name": "新同事",
                "email": "newcomer@example.cn",
                "password1": TEMPORARY,
                "password2": TEMPORARY,
            },
        )

    assert response.status_code == 302
    newcomer = User.objects.get(username="newcomer")
    assert newcomer.must_change_password
    [event] = events("password_set_by_admin", newcomer)
    assert event.detail["created"] is True and event.actor == people["sysadmin"]
    [message] = mail.outbox
    assert message.to == ["newcomer@example.cn"] and "账号已开通" in message.subject


def test_own_change_clears_the_flag_and_is_audited_when_the_user_changes_their_password(client, people):
    staff = people["staff"]
    token = Token.objects.create(user=staff)
    client.force_login(staff)

    response = change_own_password(client, PASSWORD, OWN)

    assert response.status_code == 302
    staff.refresh_from_db()
    assert not staff.must_change_password and staff.check_password(OWN)
    [event] = events("password_changed", staff)
    assert (event.actor, event.actor_role) == (staff, "dept_staff")
    assert not events("password_set_by_admin")
    assert not Token.objects.filter(pk=token.pk).exists()


def test_sysadmin_changing_their_own_password_in_the_admin_is_not_temporary_when_it_is_theirs(client, people):
    sysadmin = people["sysadmin"]
    admin_set_password(client, sysadmin, sysadmin)

    sysadmin.refresh_from_db()
    assert not sysadmin.must_change_password
    assert len(events("password_changed", sysadmin)) == 1 and not events("password_set_by_admin")


@pytest.mark.parametrize("role", ["finance_officer", "auditor", "dept_staff"])
def test_other_roles_cannot_set_a_password_when_they_try_the_admin(client, people, role):
    actor = make_user(role, is_staff=True)
    finance2 = people["finance2"]

    response = admin_set_password(client, actor, finance2)

    assert response.status_code in (302, 403)  # 302: the admin's login page
    finance2.refresh_from_db()
    assert finance2.check_password(PASSWORD) and not finance2.must_change_password
    assert not events("password_set_by_admin")


def test_command_sets_a_temporary_password_and_names_the_operator_when_run(
    people, capsys, django_capture_on_commit_callbacks
):
    finance2 = people["finance2"]
    with django_capture_on_commit_callbacks(execute=True):
        call_command("reset_password", "finance2")

    printed = capsys.readouterr().out.strip().splitlines()[-1]
    finance2.refresh_from_db()
    assert finance2.must_change_password and finance2.check_password(printed)
    [event] = events("password_set_by_admin", finance2)
    assert event.actor is None and event.detail["via"] == "command" and event.detail["operator"]
    assert [m.to for m in mail.outbox] == [[finance2.email]]
    assert "系统运维人员" in mail.outbox[0].body


def test_command_refuses_a_weak_password_and_changes_nothing_when_given_one(people):
    with pytest.raises(CommandError):
        call_command("reset_password", "finance2", "--password", "123")
    with pytest.raises(CommandError):
        call_command("reset_password", "nobody")
    assert not people["finance2"].__class__.objects.filter(must_change_password=True).exists()
    assert not events("password_set_by_admin")


def test_password_set_with_nobody_acting_is_not_temporary_when_a_factory_or_migration_sets_it(people):
    finance2 = people["finance2"]
    token = Token.objects.create(user=finance2)
    finance2.set_password(TEMPORARY)
    finance2.save()

    finance2.refresh_from_db()
    assert not finance2.must_change_password
    assert not events("password_set_by_admin") and not events("password_changed")
    assert not Token.objects.filter(pk=token.pk).exists()  # a new password ends tokens all the same


# -- role grants ---------------------------------------------------------------------------


def change_form_data(user, groups):
    return {
        "username": user.username,
        "full_name": user.full_name,
        "email": user.email,
        "department": user.department_id or "",
        "agency": user.agency_id or "",
        "language": user.language,
        "email_notifications": "on",
        "is_active": "on",
        "groups": [Group.objects.get(name=g).pk for g in groups],
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "initial-date_joined_0": "2026-01-01",
        "initial-date_joined_1": "00:00:00",
    }


def test_role_grant_is_audited_exactly_once_when_the_sysadmin_saves_the_user_form(client, people):
    newcomer = make_user("expert", username="newcomer")
    client.force_login(people["sysadmin"])

    response = client.post(
        reverse("admin:accounts_user_change", args=[newcomer.pk]),
        change_form_data(newcomer, ["expert", "supervisor"]),
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    [granted] = events("role_granted", newcomer)
    assert (granted.to_state, granted.from_state) == ("supervisor", "")
    assert granted.actor == people["sysadmin"] and granted.actor_role == "sysadmin"
    assert granted.detail == {"username": "newcomer", "role": "supervisor", "via": "web"}
    assert not events("role_removed")

    # saving again unchanged audits nothing; swapping a role audits one removal and one grant
    client.post(
        reverse("admin:accounts_user_change", args=[newcomer.pk]), change_form_data(newcomer, ["expert", "supervisor"])
    )
    assert len(events("role_granted", newcomer)) == 1
    client.post(reverse("admin:accounts_user_change", args=[newcomer.pk]), change_form_data(newcomer, ["supervisor"]))
    [removed] = events("role_removed", newcomer)
    assert (removed.from_state, removed.to_state) == ("expert", "")
    assert len(events("role_granted", newcomer)) == 1
    assert audit_verify() is None


def test_auditor_sees_role_grants_when_reading_the_trail(client, people):
    newcomer = make_user("expert", username="newcomer")
    client.force_login(people["sysadmin"])
    client.post(reverse("admin:accounts_user_change", args=[newcomer.pk]), change_form_data(newcomer, ["supervisor"]))

    client.force_login(people["auditor"])
    listed = client.get(reverse("admin:processes_auditevent_changelist"), {"object_type": "accounts.user"})

    body = listed.content.decode()
    assert listed.status_code == 200
    assert "role_granted" in body and "role_removed" in body and "supervisor" in body


def test_separated_role_is_refused_and_nothing_audited_when_the_admin_form_combines_them(client, people):
    client.force_login(people["sysadmin"])
    finance2 = people["finance2"]

    response = client.post(
        reverse("admin:accounts_user_change", args=[finance2.pk]),
        change_form_data(finance2, ["finance_officer", "auditor"]),
    )

    assert response.status_code == 200  # the form, with the 三员分立 error
    assert not finance2.groups.filter(name="auditor").exists()
    assert not events("role_granted") and not events("role_removed")


@pytest.mark.parametrize("role", ["finance_officer", "auditor", "dept_leader"])
def test_other_roles_cannot_grant_a_role_when_they_try_the_admin(client, people, role):
    actor = make_user(role, is_staff=True)
    target = people["staff"]
    client.force_login(actor)

    response = client.post(
        reverse("admin:accounts_user_change", args=[target.pk]), change_form_data(target, ["supervisor"])
    )

    assert response.status_code in (302, 403)
    assert set(target.groups.values_list("name", flat=True)) == {"dept_staff"}
    assert not events("role_granted")


def test_role_changes_from_either_side_are_audited_when_a_command_makes_them(people):
    staff = people["staff"]
    supervisor = Group.objects.get(name="supervisor")
    with acting_operator("ops"):
        supervisor.user_set.add(staff)  # the group's side
        staff.groups.remove(supervisor)  # the user's side
        staff.groups.clear()

    granted = events("role_granted", staff)
    removed = events("role_removed", staff)
    assert [e.to_state for e in granted] == ["supervisor"]
    assert [e.from_state for e in removed] == ["supervisor", "dept_staff"]
    assert all(e.actor is None and e.detail["operator"] == "ops" for e in granted + removed)


def test_role_changes_are_not_audited_when_nobody_is_acting(people):
    make_user("supervisor", username="factory-made")

    assert not events("role_granted")


def test_expert_import_audits_each_new_experts_role_when_run_in_a_request(client, people):
    from io import BytesIO

    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["账号", "姓名"])
    sheet.append(["expert9", "专家九"])
    data = BytesIO()
    workbook.save(data)
    data.seek(0)
    data.name = "experts.xlsx"
    client.force_login(people["finance"])

    response = client.post(reverse("admin:accounts_expertprofile_import"), {"file": data})

    assert response.status_code == 302
    expert9 = User.objects.get(username="expert9")
    [granted] = events("role_granted", expert9)
    assert (granted.to_state, granted.actor, granted.actor_role) == ("expert", people["finance"], "finance_officer")


def test_sysadmin_sees_which_accounts_still_have_a_temporary_password_when_listing_users(client, people):
    admin_set_password(client, people["sysadmin"], people["finance2"])

    listed = client.get(reverse("admin:accounts_user_changelist"))

    assert listed.status_code == 200
    assert "下次登录须修改密码" in listed.content.decode()
    page = client.get(reverse("admin:accounts_user_change", args=[people["finance2"].pk]))
    assert page.status_code == 200 and "下次登录须修改密码" in page.content.decode()
