"""The Admin role manages every host's power schedules (Creators manage those of their own
hosts through `manage_own_host`)."""

from django.db import migrations


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permission = Permission.objects.get(
        content_type__app_label="dashboard", codename="manage_any_schedule"
    )
    for group in Group.objects.filter(name="Admin"):
        group.permissions.add(permission)


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.filter(
        content_type__app_label="dashboard", codename="manage_any_schedule"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("dashboard", "0007_power_schedules")]

    operations = [migrations.RunPython(grant, revoke)]
