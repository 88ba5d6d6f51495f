"""The permission to import and export the expert library, and the finance section's
library admin: granted to the finance_officer (财政绩效科) and sysadmin groups."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

# Frozen copy: migrations must not import live code that may change later.
GRANTS = {
    "finance_officer": [
        "accounts.import_experts",
        "accounts.add_expertprofile", "accounts.change_expertprofile", "accounts.view_expertprofile",
        "accounts.add_deputyprofile", "accounts.change_deputyprofile", "accounts.view_deputyprofile",
        "accounts.add_agency", "accounts.change_agency", "accounts.view_agency",
    ],
    "sysadmin": ["accounts.import_experts"],
}


def _permissions(apps, perms):
    Permission = apps.get_model("auth", "Permission")
    for perm in perms:
        app_label, codename = perm.split(".")
        yield Permission.objects.get(content_type__app_label=app_label, codename=codename)


def grant(apps, schema_editor):
    # The new permission exists only after post_migrate, too late for this migration.
    app_config = apps.get_app_config("accounts")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    for role, perms in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(*_permissions(apps, perms))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for role, perms in GRANTS.items():
        group = Group.objects.filter(name=role).first()
        if group is not None:
            group.permissions.remove(*_permissions(apps, perms))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("processes", "0002_roles_and_audit_head"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="expertprofile",
            options={
                "permissions": [("import_experts", "导入导出专家库")],
                "verbose_name": "专家",
                "verbose_name_plural": "专家库",
            },
        ),
        migrations.RunPython(grant, revoke),
    ]
