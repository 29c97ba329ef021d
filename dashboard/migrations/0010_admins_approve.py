"""The Admin role approves purchases above the team's limit and sets that limit."""

from django.db import migrations

from dashboard.migrations._permissions import grant

GRANTED = ("approve_operation", "view_teampolicy", "change_teampolicy")


class Migration(migrations.Migration):
    dependencies = [("dashboard", "0009_approvals_and_notifications")]

    operations = [migrations.RunPython(grant("Admin", GRANTED), migrations.RunPython.noop)]
