"""The Admin role approves purchases above the team's limit and sets that limit."""

from django.db import migrations

GRANTED = ("approve_operation", "view_teampolicy", "change_teampolicy")


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.filter(
        content_type__app_label="dashboard", codename__in=GRANTED
    )
    for group in Group.objects.filter(name="Admin"):
        group.permissions.add(*permissions)


class Migration(migrations.Migration):
    dependencies = [("dashboard", "0009_approvals_and_notifications")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
