"""The local mirror of the upstream fleet, and the state of the jobs that keep it fresh.

Pages read only these rows (and the cached catalog), never the upstream: the Celery sync writes
them, so a page renders in a few queries whatever the size of the fleet.
"""

from __future__ import annotations

import re
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from dashboard.models.fields import (
    ChoiceCharField,
    ChoicePositiveSmallIntegerField,
    member_reference,
)
from dashboard.models.mirror import Mirrored, MirroredQuerySet
from dashboard.wording import recorded_words
from vmclient.types import Area, BillingType, HostStatus, Purpose

# Labels for the upstream enums, and a slug for each: slugs are what URLs and CSS classes use.
STATUS_LABELS = {
    HostStatus.OFF: _("Off"),
    HostStatus.BOOTING: _("Booting"),
    HostStatus.RUNNING: _("Running"),
    # The provider's 扣费中: the bill of a pay-as-you-go host being settled after it stopped.
    HostStatus.CHARGING: _("Settling bill"),
    HostStatus.SHUTTING_DOWN: _("Shutting down"),
    HostStatus.EXPIRED: _("Expired"),
}
STATUS_SLUGS = {
    HostStatus.OFF: "off",
    HostStatus.BOOTING: "booting",
    HostStatus.RUNNING: "running",
    HostStatus.CHARGING: "charging",
    HostStatus.SHUTTING_DOWN: "shutting-down",
    HostStatus.EXPIRED: "expired",
}
AREA_LABELS = {
    Area.SOUTH_CHINA: _("South China"),
    Area.WEST_CHINA: _("West China"),
    Area.INTERNATIONAL: _("International"),
}
AREA_SLUGS = {
    Area.SOUTH_CHINA: "south-china",
    Area.WEST_CHINA: "west-china",
    Area.INTERNATIONAL: "international",
}
BILLING_LABELS = {
    BillingType.PAY_AS_YOU_GO: _("Pay-as-you-go"),
    BillingType.RENTAL: _("Rental"),
}
BILLING_SLUGS = {
    BillingType.PAY_AS_YOU_GO: "payg",
    BillingType.RENTAL: "rental",
}
PURPOSE_LABELS = {
    Purpose.OFFICE: _("Office"),
    Purpose.IMAGE_PROCESSING: _("Image processing"),
    Purpose.ALGORITHMS: _("Algorithms"),
}

# Statuses that move on by themselves: a host in one of them is worth polling.
CHANGING_STATUSES = frozenset(s.value for s in HostStatus if s.is_changing)

# The fields copied from the upstream as they are; the sync compares them to detect a change.
MIRRORED_FIELDS = (
    "name",
    "gpu_description",
    "gpu_number",
    "memory_gb",
    "cpu_cores",
    "disk_gb",
    "operating_system",
    "login_user",
    "address",
    "port",
    "mac",
    "ipv4",
    "purpose",
    "billing_type",
    "status",
    "area",
    "created_at",
    "expires_at",
)


HOST_ID_MAX_LENGTH = 64
_HOST_ID = re.compile(rf"[^\s\x00-\x1f\x7f]{{1,{HOST_ID_MAX_LENGTH}}}")


def is_host_id(value: str) -> bool:
    """Whether `value` can be a host id: bounded, no whitespace or control characters (a NUL
    would make PostgreSQL fail the query)."""
    return bool(_HOST_ID.fullmatch(value))


class HostQuerySet(MirroredQuerySet):
    def changing(self) -> HostQuerySet:
        """Hosts worth polling: present in a status that moves on by itself, or with an operation
        in flight. `Host.is_changing` must keep meaning the same thing."""
        from dashboard.models.operations import Operation

        in_flight = Operation.objects.in_flight().filter(host=OuterRef("pk"))
        return self.filter(
            Q(gone_at__isnull=True, status__in=CHANGING_STATUSES) | Q(Exists(in_flight))
        )


class Host(Mirrored):
    """One upstream host as the last sync saw it. The password (`hostPw`) is never stored."""

    status_labels = STATUS_LABELS
    status_slugs = STATUS_SLUGS
    changing_statuses = CHANGING_STATUSES

    # The upstream's id: stable, shown to users and used in URLs.
    id = models.CharField(primary_key=True, max_length=HOST_ID_MAX_LENGTH)
    name = models.CharField(max_length=255, blank=True)
    gpu_description = models.CharField(max_length=255, blank=True)
    gpu_number = models.PositiveSmallIntegerField(null=True, blank=True)
    memory_gb = models.PositiveIntegerField(null=True, blank=True)
    cpu_cores = models.PositiveIntegerField(null=True, blank=True)
    disk_gb = models.PositiveIntegerField(null=True, blank=True)
    operating_system = models.CharField(max_length=100, blank=True)
    login_user = models.CharField(max_length=100, blank=True)
    address = models.CharField(max_length=255, blank=True)
    port = models.PositiveIntegerField(null=True, blank=True)
    mac = models.CharField(max_length=64, blank=True)
    ipv4 = models.CharField(max_length=255, blank=True)
    purpose = ChoicePositiveSmallIntegerField(
        null=True, blank=True, choices=[(p.value, label) for p, label in PURPOSE_LABELS.items()]
    )
    billing_type = ChoicePositiveSmallIntegerField(
        null=True, blank=True, choices=[(b.value, label) for b, label in BILLING_LABELS.items()]
    )
    # None: the upstream (original document version) did not say.
    status = ChoicePositiveSmallIntegerField(
        null=True, blank=True, choices=[(s.value, label) for s, label in STATUS_LABELS.items()]
    )
    area = ChoicePositiveSmallIntegerField(
        null=True, blank=True, choices=[(a.value, label) for a, label in AREA_LABELS.items()]
    )
    created_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    # Who it belongs to in the team: the member whose create bought it (set when the create
    # finds it), or one an admin assigned. Null: found upstream with no known creator. The name
    # is kept as it was when the owner was set, for when the account is gone.
    owner = member_reference("owned_hosts")
    owner_name = models.CharField(max_length=150, blank=True)
    # The team's own words on it: labels to group and filter by (project, purpose), and a note.
    labels = models.ManyToManyField("dashboard.Label", blank=True, related_name="hosts")
    note = models.TextField(blank=True, max_length=2000)

    objects = HostQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at", "id")
        indexes = [
            models.Index(fields=["gone_at", "status"], name="host_gone_status_idx"),
            models.Index(fields=["last_seen_at"], name="host_last_seen_idx"),
            models.Index(fields=["expires_at"], name="host_expires_idx"),
        ]
        # What roles are made of (see dashboard.permissions and migration 0005's groups).
        permissions = [
            ("power_any_host", "Can power on, power off and reboot any host"),
            ("create_host", "Can create (buy) hosts"),
            ("manage_own_host", "Can power, reboot, delete and see the password of own hosts"),
            ("delete_any_host", "Can delete any host"),
            ("reveal_any_password", "Can reveal the password of any host"),
            ("assign_owner", "Can assign the owner of a host"),
        ]

    @property
    def labels_shown(self) -> list:
        """Its labels: those the selectors fetched with the page (`LABELS_PREFETCH`), or read
        now."""
        fetched = getattr(self, "prefetched_labels", None)
        return fetched if fetched is not None else list(self.labels.all())

    @cached_property
    def lease(self):
        """The lease holding this host now, or None: the one the selectors fetched with the page
        (`lease_prefetch`), or read now."""
        fetched = getattr(self, "active_leases", None)
        if fetched is not None:
            return fetched[0] if fetched else None
        return self.leases.filter(ended_at__isnull=True).first()

    @property
    def actions_allowed(self) -> tuple[str, ...]:
        """The operation kinds its state allows now (see `host_actions_allowed`)."""
        from dashboard.models.operations import host_actions_allowed

        return host_actions_allowed(self)

    @property
    def is_windows(self) -> bool:
        return self.operating_system.lower().startswith("windows")

    @property
    def expires_soon(self) -> bool:
        """A rental that expires within XDS_EXPIRY_WARNING_DAYS (and has not yet)."""
        if self.expires_at is None or self.is_gone:
            return False
        now = timezone.now()
        warning = timedelta(days=settings.XDS_EXPIRY_WARNING_DAYS)
        return now <= self.expires_at <= now + warning

    @property
    def has_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at < timezone.now()


class HostStatusChange(models.Model):
    """The mirror's record of a host's status over time: a row each time the sync (or an
    action's poll) sees it change, and one with no status when the host goes. Spend estimates
    are made from it."""

    host = models.ForeignKey(Host, on_delete=models.CASCADE, related_name="status_changes")
    status = models.PositiveSmallIntegerField(null=True, blank=True)  # None: gone, or unknown
    at = models.DateTimeField()

    class Meta:
        ordering = ("at", "id")
        indexes = [models.Index(fields=["host", "at"], name="host_status_change_idx")]

    def __str__(self) -> str:
        return f"{self.host_id} {self.status} {self.at:%Y-%m-%d %H:%M}"


LABEL_MAX_LENGTH = 40


class Label(models.Model):
    """A word the team tags hosts with ("render", "project-x"); lower case, no spaces."""

    name = models.CharField(max_length=LABEL_MAX_LENGTH, unique=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class SyncState(models.Model):
    """How the last run of each background job went: one row per job, in the database so that
    the web and worker processes agree. The banner on every page is read from here."""

    class Job(models.TextChoices):
        HOSTS = "hosts", _("Host sync")
        CATALOG = "catalog", _("Catalog refresh")
        DISKS = "disks", _("Disk sync")
        IMAGES = "images", _("Personal image sync")

    job = ChoiceCharField(primary_key=True, max_length=16, choices=Job.choices)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    # Of the last failure; kept after a success (for the record) but shown only while failing.
    error_code = models.CharField(max_length=64, blank=True)
    # As an operation's message: a key and values, the English words, frozen words of old rows.
    error_message = models.TextField(blank=True)
    error_message_key = models.CharField(max_length=64, blank=True)
    error_message_values = models.JSONField(default=dict, blank=True)
    error_message_frozen = models.JSONField(default=dict, blank=True)
    error_trace_id = models.CharField(max_length=128, blank=True)
    item_count = models.PositiveIntegerField(null=True, blank=True)  # hosts / templates seen
    # How long the last run took, from its start to its outcome (the metrics' sync duration).
    last_duration_seconds = models.FloatField(null=True, blank=True)

    def __str__(self) -> str:
        return self.get_job_display()

    @property
    def error_words(self) -> str:
        """The last failure's message in the active language."""
        return recorded_words(self, "error_message")

    @property
    def is_failing(self) -> bool:
        """The latest attempt failed."""
        if self.last_error_at is None:
            return False
        return self.last_success_at is None or self.last_error_at >= self.last_success_at
