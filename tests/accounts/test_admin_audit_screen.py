"""Role grants and password changes made in the Django admin are audit events in the
hash-chained trail — who, to whom, which role — and the auditor reads them on the
auditor's own screen (/audit/), labelled in Chinese and filterable by action (issue 17,
item 9). Every test goes through the admin's own views."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from processes.models import AuditEvent
from processes.services.audit import audit_verify
from tests.factories import PASSWORD, make_user

from .test_temporary_password import TEMPORARY, admin_set_password, change_form_data, events

AUDIT = reverse("processes:audit_trail")
OWN = "Ziji-de-xin-mima-2026!"


@pytest.fixture
def people(db):
    from accounts.roles import sync_role_groups

    sync_role_groups()
    return {
        "sysadmin": make_user("sysadmin", username="sysadmin", full_name="系统管理员甲", is_staff=True),
        "auditor": make_user("auditor", username="auditor", full_name="审计员乙", is_staff=True),
        "target": make_user("expert", username="zhang", full_name="张专家"),
    }


def audit_rows(client, auditor, **params):
    """The /audit/ screen's rows (the cells the auditor reads), newest first."""
    client.force_login(auditor)
    response = client.get(AUDIT, {"page_size": 100, **params})
    assert response.status_code == 200, response.content.decode()[:1000]
    return [(event, [str(cell) for cell in row]) for event, row in response.context["rows"]], response.content.decode()


def test_role_grant_in_the_admin_shows_who_whom_and_which_role_when_the_auditor_reads_the_screen(client, people):
    target = people["target"]
    client.force_login(people["sysadmin"])
    response = client.post(
        reverse("admin:accounts_user_change", args=[target.pk]), change_form_data(target, ["expert", "supervisor"])
    )
    assert response.status_code == 302

    rows, page = audit_rows(client, people["auditor"], action="role_granted")

    [(event, cells)] = rows
    assert (event.action, event.object_type, event.object_id) == ("role_granted", "accounts.user", str(target.pk))
    assert event.actor == people["sysadmin"] and event.actor_role == "sysadmin"
    assert "系统管理员甲" in cells  # who
    assert "系统管理员" in cells  # acting as
    assert "张专家" in cells  # to whom
    assert "授予角色" in cells  # what
    assert "分管领导/督办" in cells  # which role, as a label
    assert "role_granted" not in page.split('data-testid="audit-table"')[1]
    assert audit_verify() is None


def test_role_removal_in_the_admin_shows_the_removed_role_when_the_auditor_reads_the_screen(client, people):
    target = people["target"]
    client.force_login(people["sysadmin"])
    client.post(reverse("admin:accounts_user_change", args=[target.pk]), change_form_data(target, ["deputy"]))

    rows, _page = audit_rows(client, people["auditor"], object_type="accounts.user")

    by_action = {event.action: cells for event, cells in rows}
    assert set(by_action) == {"role_granted", "role_removed"}
    assert "撤销角色" in by_action["role_removed"] and "专家" in by_action["role_removed"]
    assert "授予角色" in by_action["role_granted"] and "人大代表" in by_action["role_granted"]
    assert set(target.groups.values_list("name", flat=True)) == {"deputy"}
    assert audit_verify() is None


def test_password_set_in_the_admin_is_on_the_auditor_screen_without_secrets_when_the_sysadmin_sets_it(client, people):
    target = people["target"]
    assert admin_set_password(client, people["sysadmin"], target).status_code == 302

    rows, page = audit_rows(client, people["auditor"], action="password_set_by_admin")

    [(event, cells)] = rows
    assert event.object_id == str(target.pk) and event.actor == people["sysadmin"]
    assert "管理员设置密码" in cells and "张专家" in cells and "系统管理员甲" in cells
    target.refresh_from_db()
    assert TEMPORARY not in page and target.password not in page
    assert audit_verify() is None


def test_own_password_change_through_the_admin_is_on_the_auditor_screen_when_the_sysadmin_changes_it(client, people):
    sysadmin = people["sysadmin"]
    client.force_login(sysadmin)
    response = client.post(
        reverse("admin:password_change"),
        {"old_password": PASSWORD, "new_password1": OWN, "new_password2": OWN},
    )
    assert response.status_code == 302
    sysadmin.refresh_from_db()
    assert sysadmin.check_password(OWN)

    rows, _page = audit_rows(client, people["auditor"], action="password_changed")

    [(event, cells)] = rows
    assert event.actor == sysadmin and event.object_id == str(sysadmin.pk)
    assert "本人修改密码" in cells and "系统管理员甲" in cells
    assert not events("password_set_by_admin")


def test_user_created_in_the_admin_with_a_password_is_on_the_auditor_screen_when_the_sysadmin_adds_it(client, people):
    client.force_login(people["sysadmin"])
    response = client.post(
        reverse("admin:accounts_user_add"),
        {"username": "newcomer", "full_name": "新同事", "password1": TEMPORARY, "password2": TEMPORARY},
    )
    assert response.status_code == 302

    rows, _page = audit_rows(client, people["auditor"], action="password_set_by_admin")

    [(event, cells)] = rows
    assert event.detail["created"] is True and "新同事" in cells and "管理员设置密码" in cells


def test_account_actions_are_offered_in_the_auditor_filter_when_the_screen_opens(client, people):
    client.force_login(people["auditor"])
    form = client.get(AUDIT).context["form"]
    offered = dict(form.fields["action"].choices)
    for action, label in {
        "role_granted": "授予角色",
        "role_removed": "撤销角色",
        "password_set_by_admin": "管理员设置密码",
        "password_changed": "本人修改密码",
        "expert_import": "导入专家库",
    }.items():
        assert str(offered[action]) == label


def test_refused_grant_writes_nothing_to_the_trail_when_the_admin_form_combines_separated_roles(client, people):
    auditor = people["auditor"]
    client.force_login(people["sysadmin"])
    before = AuditEvent.objects.count()

    response = client.post(
        reverse("admin:accounts_user_change", args=[auditor.pk]), change_form_data(auditor, ["auditor", "sysadmin"])
    )

    assert response.status_code == 200
    assert AuditEvent.objects.count() == before
    assert not auditor.groups.filter(name=Group.objects.get(name="sysadmin").name).exists()


def test_account_action_labels_are_english_when_the_auditor_reads_in_english():
    from django.utils import translation

    from processes.states import state_label
    from processes.templatetags.jixiao import action_label

    with translation.override("en"):
        assert action_label("role_granted") == "Role granted"
        assert action_label("role_removed") == "Role removed"
        assert action_label("password_set_by_admin") == "Password set by an administrator"
        assert action_label("password_changed") == "Own password changed"
        assert state_label("accounts.user", "auditor") != "auditor"
