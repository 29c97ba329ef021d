"""Personal API tokens (stored as digests), their two audit actions, and the Admin role's power
to see and revoke every member's tokens."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

GRANTED = ("manage_any_token",)


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
    dependencies = [
        ("dashboard", "0017_alert_channels_and_sync_duration"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="action",
            field=models.CharField(
                choices=[
                    ("signed_in", "Signed in"),
                    ("signed_out", "Signed out"),
                    ("sign_in_failed", "Sign-in failed"),
                    ("locked_out", "Locked out"),
                    ("operation_requested", "Operation requested"),
                    ("operation_refused", "Operation refused"),
                    ("operation_finished", "Operation finished"),
                    ("operation_resolved", "Operation resolved"),
                    ("password_revealed", "Password revealed"),
                    ("owner_changed", "Owner changed"),
                    ("annotation_changed", "Labels or note changed"),
                    ("role_changed", "Role changed"),
                    ("password_set", "Password set"),
                    ("permissions_changed", "Direct permissions changed"),
                    ("role_permissions_changed", "Role's permissions changed"),
                    ("member_created", "Account created"),
                    ("member_deleted", "Account deleted"),
                    ("schedule_changed", "Schedule changed"),
                    ("approval_granted", "Purchase approved"),
                    ("approval_rejected", "Purchase rejected"),
                    ("approval_expired", "Approval expired"),
                    ("policy_changed", "Team policy changed"),
                    ("policy_proposed", "Team policy change proposed"),
                    ("policy_discarded", "Team policy change discarded"),
                    ("access_denied", "Access denied"),
                    ("token_created", "API token created"),
                    ("token_revoked", "API token revoked"),
                ],
                max_length=32,
            ),
        ),
        migrations.CreateModel(
            name="ApiToken",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=100)),
                ("digest", models.CharField(max_length=64, unique=True)),
                ("hint", models.CharField(max_length=10)),
                ("scopes", models.JSONField(default=list)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("created_by_name", models.CharField(blank=True, max_length=150)),
                ("expires_at", models.DateTimeField()),
                ("last_used_at", models.DateTimeField(blank=True, null=True)),
                ("last_used_ip", models.GenericIPAddressField(blank=True, null=True)),
                ("revoked_at", models.DateTimeField(blank=True, null=True)),
                ("revoked_by_name", models.CharField(blank=True, max_length=150)),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="api_tokens",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "API token",
                "verbose_name_plural": "API tokens",
                "ordering": ("-created_at", "-id"),
                "permissions": [
                    ("manage_any_token", "Can see and revoke every member's API tokens")
                ],
                "indexes": [models.Index(fields=["user", "created_at"], name="apitoken_user_idx")],
            },
        ),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
