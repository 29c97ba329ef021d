"""The Admin role manages every host's power schedules (Creators manage those of their own
hosts through `manage_own_host`)."""

from django.db import migrations

from dashboard.migrations._permissions import grant


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.filter(
        content_type__app_label="dashboard", codename="manage_any_schedule"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("dashboard", "0007_power_schedules")]

    operations = [migrations.RunPython(grant("Admin", ("manage_any_schedule",)), revoke)]
