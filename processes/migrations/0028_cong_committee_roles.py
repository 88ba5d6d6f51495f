"""The congress reader role (人大预算工委, issue 19) and the committee opinions' permissions
granted to the roles that act in them (decision 0026)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

# Frozen copy: migrations must not import live code that may change later.
GRANTS = {
    "dept_staff": ["respond_committee_opinion"],
    "dept_leader": ["respond_committee_opinion"],
    "finance_officer": ["record_committee_opinion", "read_committee_opinions"],
    "supervisor": ["read_committee_opinions"],
    "auditor": ["read_committee_opinions"],
    "congress_reader": ["read_committee_opinions"],
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
    Group.objects.filter(name="congress_reader", user__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("processes", "0027_cong_committee_opinions")]

    operations = [migrations.RunPython(grant, revoke)]
