"""Grant the major-policy permission (登记重大政策) to the finance section (decision 0027)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

# Frozen copy: migrations must not import live code that may change later.
GRANTS = {
    "finance_officer": ["register_policy"],
}


def grant(apps, schema_editor):
    app_config = apps.get_app_config("processes")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(*Permission.objects.filter(content_type__app_label="processes", codename__in=codenames))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in GRANTS.items():
        for group in Group.objects.filter(name=role):
            group.permissions.remove(
                *Permission.objects.filter(content_type__app_label="processes", codename__in=codenames)
            )


class Migration(migrations.Migration):
    dependencies = [("processes", "0025_pol_policy")]

    operations = [migrations.RunPython(grant, revoke)]
