"""Notifications and where they go.

- `Notification`: one row per thing worth telling, so that each is sent once: its key names the
  thing ("expiry:<host>:<expiry>:<days>"). It keeps its English words (mail, the admin, logs)
  and a message key with its values, worded again in each chat channel's language.
- `AlertChannel`: a chat room (DingTalk, Feishu/Lark, WeCom, Slack) or a generic JSON webhook an
  admin added, with the alert kinds it takes and its language. Its signing secret is
  write-only: never shown back, never logged.
- `AlertDelivery`: one notification (or test message) to one channel: every attempt's outcome,
  retried with backoff until it is delivered (the channel's delivery history).
- `AlertPreference`: which of a member's alerts also come by e-mail (no row: all of them).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dashboard.models.fields import ChoiceCharField


class Notification(models.Model):
    class Kind(models.TextChoices):
        APPROVAL_NEEDED = "approval_needed", _("Approval needed")
        EXPIRING = "expiring", _("Rental expiring")
        EXPIRED = "expired", _("Rental expired")
        STUCK = "stuck", _("Host stuck")
        MONEY = "money", _("Refused for money")
        DISK_ARREARS = "disk_arrears", _("Disk stopped for arrears")
        IMAGE_FAILED = "image_failed", _("Personal image failed")
        BUDGET = "budget", _("Budget")
        LEASE = "lease", _("Lease ending")
        RUNWAY = "runway", _("Wallet running low")

    key = models.CharField(max_length=200, unique=True)
    kind = ChoiceCharField(max_length=20, choices=Kind.choices)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    # What `subject` and `body` say, as a key of dashboard.wording.ALERTS and its values, so a
    # channel gets them in its own language. Empty in rows written before (their English stays).
    message_key = models.CharField(max_length=64, blank=True)
    message_values = models.JSONField(default=dict, blank=True)
    # The dashboard page it is about (a path: the host, the operation, the approval waiting);
    # messages make it absolute with XDS_PUBLIC_URL.
    link = models.CharField(max_length=300, blank=True)
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


class AlertChannel(models.Model):
    class Kind(models.TextChoices):
        DINGTALK = "dingtalk", _("DingTalk group robot")
        FEISHU = "feishu", _("Feishu/Lark custom bot")
        WECOM = "wecom", _("WeCom group robot")
        SLACK = "slack", _("Slack incoming webhook")
        WEBHOOK = "webhook", _("Generic JSON webhook")

    # The platforms whose robots sign what they receive with a secret.
    SIGNED_KINDS = frozenset({Kind.DINGTALK, Kind.FEISHU})

    name = models.SlugField(
        _("name"),
        max_length=50,
        unique=True,
        help_text=_("Letters, digits, - and _: how commands name it (manage.py send_test_alert)."),
    )
    kind = ChoiceCharField(_("kind"), max_length=20, choices=Kind.choices)
    url = models.URLField(
        _("webhook URL"),
        max_length=500,
        help_text=_("The address the platform gave for the robot or webhook."),
    )
    secret = models.CharField(_("signing secret"), max_length=200, blank=True)
    alert_kinds = models.JSONField(_("alert kinds"), default=list, blank=True)
    language = models.CharField(_("language"), max_length=10, default="en")
    enabled = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("name",)
        verbose_name = _("alert channel")
        verbose_name_plural = _("alert channels")

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:  # never the URL (it holds the robot's token) nor the secret
        return f"<AlertChannel {self.name!r} {self.kind}>"

    @property
    def signed(self) -> bool:
        return self.kind in self.SIGNED_KINDS

    def takes(self, kind: str) -> bool:
        return self.enabled and kind in (self.alert_kinds or [])


class AlertDelivery(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("Waiting")  # not tried yet, or waiting for its next attempt
        SENT = "sent", _("Delivered")
        FAILED = "failed", _("Failed")  # gave up after the last attempt

    channel = models.ForeignKey(AlertChannel, on_delete=models.CASCADE, related_name="deliveries")
    # None for a test message.
    notification = models.ForeignKey(
        Notification, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    state = ChoiceCharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # Attempts the platform did not take (refused, rate limited, unreachable).
    failures = models.PositiveIntegerField(default=0)
    # Who asked for a test message (a test has no notification).
    test_by = models.CharField(max_length=150, blank=True)
    # Why the last attempt failed ("errcode 310000: sign not match", "HTTP 500", ...), or "ok".
    last_result = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # While a run sends it, no other run may (a countdown task and the sweep can meet).
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=("channel", "notification"),
                condition=models.Q(notification__isnull=False),
                name="alert_delivery_once_per_channel",
            )
        ]
        indexes = [models.Index(fields=("state", "next_attempt_at"), name="alert_delivery_due")]

    def __str__(self) -> str:
        return f"{self.channel} #{self.pk}"


class AlertPreference(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_preference"
    )
    # The alert kinds this member also gets by e-mail.
    email_kinds = models.JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return str(self.user)
