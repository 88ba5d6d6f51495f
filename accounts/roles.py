"""The roles of DESIGN §1, as Django groups, and what each may do.

Role membership is group membership. The permission codenames below are granted to
the groups by a data migration; business rules check them (through ``holds`` below,
re-exported by `processes.permissions`), never group names directly, except for scoping.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    DEPT_STAFF = "dept_staff", _("经办人")
    DEPT_LEADER = "dept_leader", _("部门负责人")
    FINANCE_OFFICER = "finance_officer", _("财政绩效科")
    SUPERVISOR = "supervisor", _("分管领导/督办")
    EXPERT = "expert", _("专家")
    DEPUTY = "deputy", _("人大代表")
    AGENCY_STAFF = "agency_staff", _("第三方机构")
    AUDITOR = "auditor", _("审计管理员")
    SYSADMIN = "sysadmin", _("系统管理员")
    CONGRESS_READER = "congress_reader", _("人大预算工委")


#: Roles scoped to one department: they see their own department's objects only.
DEPARTMENT_ROLES = frozenset({Role.DEPT_STAFF, Role.DEPT_LEADER})
#: Roles that read every department's projects.
BUREAU_WIDE_READERS = frozenset({Role.FINANCE_OFFICER, Role.SUPERVISOR, Role.AUDITOR})
#: Roles whose work the REST API serves (the API docs link is shown to them): every role but
#: the experts' and deputies', who only give opinions on their screens.
API_ROLES = frozenset(Role) - {Role.EXPERT, Role.DEPUTY, Role.CONGRESS_READER}
#: 三员分立: no account may hold two of these. The congress reader (人大预算工委, issue 19)
#: oversees the bureau and may not also be its finance section, auditor or administrator.
SEPARATED_ROLES = frozenset({Role.SYSADMIN, Role.AUDITOR, Role.FINANCE_OFFICER, Role.CONGRESS_READER})
#: Roles that only read: the congress reader reads the annual reports (any year, disclosed or
#: not), the 审议意见落实情况 table and the public pages — nothing else (decision 0026).
CONGRESS_READER_PATHS = ("/reports/", "/public/", "/accounts/", "/notifications/", "/favicon.ico")

#: The libraries (专家库, 人大代表, 第三方机构) in the admin: kept by the finance section and
#: the sysadmin alike.
LIBRARY_PERMISSIONS = [
    "accounts.add_expertprofile",
    "accounts.change_expertprofile",
    "accounts.view_expertprofile",
    "accounts.import_experts",
    "accounts.add_deputyprofile",
    "accounts.change_deputyprofile",
    "accounts.view_deputyprofile",
    "accounts.add_agency",
    "accounts.change_agency",
    "accounts.view_agency",
]

#: Permissions (app_label.codename) each role's group holds.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.DEPT_STAFF: [
        "processes.add_budgetproject",
        "processes.change_budgetproject",
        "processes.submit_project",
        "processes.withdraw_project",
        "processes.submit_targets",
        "processes.propose_indicator",
        "processes.fill_monitoring",
        "processes.fill_self_evaluation",
        "processes.fill_rectification",
        "processes.respond_committee_opinion",
        "processes.plan_payments",  # 资金支付计划 of the department's executing projects
    ],
    Role.DEPT_LEADER: [
        "processes.review_project",
        "processes.withdraw_project",
        "processes.review_targets",
        "processes.review_monitoring_dept",
        "processes.review_self_evaluation_dept",
        "processes.fill_rectification",
        "processes.respond_committee_opinion",
    ],
    Role.FINANCE_OFFICER: [
        "processes.intake_project",
        "processes.cancel_project",
        "processes.view_all_projects",
        "processes.start_pre_assessment",
        "processes.register_policy",  # 重大政策 (decision 0027)
        "processes.confirm_pre_assessment",
        "processes.rate_targets",
        "processes.approve_indicator",
        "processes.import_indicators",
        "processes.open_monitoring",
        "processes.review_monitoring",
        "processes.launch_evaluation",
        "processes.accept_self_evaluation",
        "processes.approve_disclosure",
        "processes.issue_rectification",
        "processes.record_committee_opinion",
        "processes.read_committee_opinions",
        "processes.import_history",
        "processes.import_payments",  # 支付数据 and 资金支付计划 from the budget system
        "processes.plan_payments",
        *LIBRARY_PERMISSIONS,
    ],
    Role.SUPERVISOR: [
        "processes.view_all_projects",
        "processes.decide_extension",
        "processes.read_committee_opinions",
    ],
    Role.AUDITOR: [
        "processes.view_all_projects",
        "processes.view_auditevent",
        "processes.verify_audit",
        "processes.read_committee_opinions",
    ],
    Role.EXPERT: [],
    Role.DEPUTY: [],
    Role.CONGRESS_READER: ["processes.read_committee_opinions"],
    Role.AGENCY_STAFF: ["processes.organise_review", "processes.conduct_evaluation"],
    Role.SYSADMIN: [
        "accounts.add_user",
        "accounts.change_user",
        "accounts.view_user",
        "accounts.add_department",
        "accounts.change_department",
        "accounts.view_department",
        *LIBRARY_PERMISSIONS,
        "auth.view_group",
    ],
}


def holds(user, perm: str) -> bool:
    """The user's role grants ``perm``. A superuser is a system account, not a business role
    (三员分立): Django's superuser shortcut grants nothing here.

    The one permission check of every app; ``processes.permissions`` re-exports it."""
    return user.is_active and not user.is_superuser and user.has_perm(perm)


def role_labels(roles) -> str:
    """The roles' labels as one phrase, joined the way the active language lists things."""
    from django.utils.translation import pgettext

    order = {r: i for i, r in enumerate(Role.values)}
    known = sorted((r for r in roles if r in order), key=order.__getitem__)
    return pgettext("list separator", "、").join(str(Role(r).label) for r in known)


def separated_role_conflict(role_names: set[str]) -> set[str]:
    """The separated roles (三员分立) that appear together in ``role_names``; empty if none clash."""
    clash = {r for r in role_names if r in SEPARATED_ROLES}
    return clash if len(clash) > 1 else set()


def sync_role_groups() -> None:
    """Make the role groups and their permissions match ROLE_PERMISSIONS (idempotent).

    The data migration creates them on a new database; this serves `manage.py sync_roles`
    after a change to the table, and tests whose database was flushed.
    """
    from django.contrib.auth.models import Group, Permission

    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            wanted.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        group.permissions.set(wanted)
