"""Create the role groups of DESIGN §1 with their permissions, and the audit chain head."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

# Frozen copy: migrations must not import live code that may change later.
ROLE_PERMISSIONS = {
    "dept_staff": ["processes.add_budgetproject", "processes.change_budgetproject",
                   "processes.submit_project", "processes.withdraw_project"],
    "dept_leader": ["processes.review_project", "processes.withdraw_project"],
    "finance_officer": ["processes.intake_project", "processes.cancel_project", "processes.view_all_projects"],
    "supervisor": ["processes.view_all_projects"],
    "auditor": ["processes.view_all_projects", "processes.view_auditevent", "processes.verify_audit"],
    "expert": [],
    "deputy": [],
    "agency_staff": [],
    "sysadmin": [
        "accounts.add_user", "accounts.change_user", "accounts.view_user",
        "accounts.add_department", "accounts.change_department", "accounts.view_department",
        "accounts.add_expertprofile", "accounts.change_expertprofile", "accounts.view_expertprofile",
        "accounts.add_deputyprofile", "accounts.change_deputyprofile", "accounts.view_deputyprofile",
        "accounts.add_agency", "accounts.change_agency", "accounts.view_agency",
        "auth.view_group",
    ],
}


def create_roles(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        for perm in perms:
            app_label, codename = perm.split(".")
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    AuditChainHead = apps.get_model("processes", "AuditChainHead")
    AuditChainHead.objects.get_or_create(pk=1)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("processes", "0001_initial"),
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
