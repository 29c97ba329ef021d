"""Notifications sent (e-mail and webhook), one row per thing worth telling, so that each is
sent once: its key names the thing ("expiry:<host>:<expiry>:<days>")."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    class Kind(models.TextChoices):
        APPROVAL_NEEDED = "approval_needed", _("Approval needed")
        EXPIRING = "expiring", _("Rental expiring")
        EXPIRED = "expired", _("Rental expired")
        STUCK = "stuck", _("Host stuck")
        MONEY = "money", _("Refused for money")
        BUDGET = "budget", _("Budget")
        LEASE = "lease", _("Lease ending")
        RUNWAY = "runway", _("Wallet running low")

    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    recipients = models.JSONField(default=list)  # user names
    host_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # How delivery went; empty while not tried, "ok" or the reason it failed.
    email_result = models.CharField(max_length=300, blank=True)
    webhook_result = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return self.subject
