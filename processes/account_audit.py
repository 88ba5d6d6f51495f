"""Account events into the audit trail (三员分立: docs/decisions/0016-accounts-separation-of-duties.md).

accounts announces them as signals (accounts.signals) and never imports processes; this
module, connected in ProcessesConfig.ready, writes each as an audit event whose object is
the account concerned, so the audit administrator reads them with every other event
(admin → 审计日志, filter by action):

- ``password_set_by_admin``: someone else set the user's password (it is temporary);
  detail: ``created`` (the account was created with it), ``via`` (web or command) and,
  for a command, the operating-system ``operator``.
- ``password_changed``: the user changed their own password.
- ``role_granted`` / ``role_removed``: ``to_state`` / ``from_state`` is the role;
  detail: ``role``, ``via`` (web or command) and, for a command, the ``operator``.
- ``expert_import``: the expert library was imported from a spreadsheet; the object is
  the expert role group, the comment the file's name; detail: the entries created and
  updated, and the new accounts.

No secret material is written: no password, no hash, no token.
"""

from __future__ import annotations

from django.db import transaction

from accounts.roles import SEPARATED_ROLES, Role
from accounts.signals import (
    expert_library_imported,
    password_changed_by_owner,
    password_set_by_other,
    role_changed,
)

from .services.audit import audit_record

PASSWORD_SET_BY_ADMIN = "password_set_by_admin"
PASSWORD_CHANGED = "password_changed"
ROLE_GRANTED = "role_granted"
ROLE_REMOVED = "role_removed"
EXPERT_IMPORT = "expert_import"


def role_of(user) -> str:
    """The role an account acts under in the trail: its separated role (三员) if it holds
    one, else its first role in the order of accounts.roles.Role."""
    if user is None:
        return ""
    names = user.role_names
    for role in Role.values:
        if role in names and role in SEPARATED_ROLES:
            return role
    return next((r for r in Role.values if r in names), "")


def _via(actor, operator: str) -> dict:
    if actor is not None:
        return {"via": "web"}
    return {"via": "command", "operator": operator}


def record_password_set_by_other(sender, *, actor, operator, user, created, **kwargs):
    with transaction.atomic():
        audit_record(
            obj=user,
            action=PASSWORD_SET_BY_ADMIN,
            actor=actor,
            role=role_of(actor),
            detail={"username": user.username, "created": created, **_via(actor, operator)},
        )


def record_password_changed(sender, *, user, **kwargs):
    with transaction.atomic():
        audit_record(
            obj=user,
            action=PASSWORD_CHANGED,
            actor=user,
            role=role_of(user),
            detail={"username": user.username},
        )


def record_role_change(sender, *, actor, operator, user, role, granted, **kwargs):
    with transaction.atomic():
        audit_record(
            obj=user,
            action=ROLE_GRANTED if granted else ROLE_REMOVED,
            actor=actor,
            role=role_of(actor),
            from_state="" if granted else role,
            to_state=role if granted else "",
            detail={"username": user.username, "role": role, **_via(actor, operator)},
        )


def record_expert_import(sender, *, actor, role, group, file_name, result, **kwargs):
    # sent inside the import's transaction: the event commits or rolls back with the rows
    audit_record(
        obj=group,
        action=EXPERT_IMPORT,
        actor=actor,
        role=role,
        comment=file_name,
        detail={
            "created": result.created_count,
            "updated": result.updated_count,
            "created_usernames": result.created,
            "updated_usernames": result.updated,
            "new_accounts": result.new_accounts,
        },
    )


def connect() -> None:
    password_set_by_other.connect(record_password_set_by_other, dispatch_uid="processes.account_audit.password_set")
    password_changed_by_owner.connect(record_password_changed, dispatch_uid="processes.account_audit.password_changed")
    role_changed.connect(record_role_change, dispatch_uid="processes.account_audit.role_changed")
    expert_library_imported.connect(record_expert_import, dispatch_uid="processes.account_audit.expert_import")
