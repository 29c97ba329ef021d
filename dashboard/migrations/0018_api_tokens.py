"""Personal API tokens (stored as digests), their two audit actions, and the Admin role's power
to see and revoke every member's tokens."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from dashboard.migrations._permissions import grant

GRANTED = ("manage_any_token",)


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0017_alert_channels_and_sync_duration"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
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
        migrations.RunPython(grant("Admin", GRANTED), migrations.RunPython.noop),
    ]
