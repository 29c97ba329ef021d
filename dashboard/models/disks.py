"""The local mirror of the account's cloud disks: data disks billed by the hour that
outlive the host they are mounted on.

Synced with the hosts (dashboard.services.disk_sync), kept like them: the upstream's fields as
they were last seen, the team's owner beside them (with the name frozen, for when the account
is gone), and a row marked gone, never deleted, once a complete listing no longer has it.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from dashboard.models.fields import (
    ChoicePositiveSmallIntegerField,
    loose_reference,
    member_reference,
)
from dashboard.models.hosts import AREA_LABELS, HOST_ID_MAX_LENGTH, Host
from dashboard.models.mirror import Mirrored, MirroredQuerySet
from vmclient.types import MAX_DISKS_PER_HOST, MIN_DISK_GB, DiskStatus

# The provider's five disk states, and a slug for URLs and CSS.
DISK_UNMOUNTED = DiskStatus.WAITING  # waiting to be mounted (or destroyed)
DISK_MOUNTING = DiskStatus.MOUNTING
DISK_IN_USE = DiskStatus.IN_USE
DISK_ARREARS = DiskStatus.STOPPED_FOR_ARREARS  # the provider unmounted it; paying undoes it
DISK_DESTROYING = DiskStatus.DESTROYING  # destroyed and refunded
DISK_STATUS_LABELS = {
    DISK_UNMOUNTED: _("Not mounted"),
    DISK_MOUNTING: _("Mounting"),
    DISK_IN_USE: _("In use"),
    DISK_ARREARS: _("Stopped for arrears"),
    DISK_DESTROYING: _("Being destroyed"),
}
DISK_STATUS_SLUGS = {
    DISK_UNMOUNTED: "unmounted",
    DISK_MOUNTING: "mounting",
    DISK_IN_USE: "in-use",
    DISK_ARREARS: "arrears",
    DISK_DESTROYING: "destroying",
}
# States that move on by themselves: a disk in one is worth polling.
DISK_CHANGING_STATUSES = frozenset(s.value for s in DiskStatus if s.is_changing)

# The fields copied from the upstream as they are; the sync compares them to detect a change.
DISK_MIRRORED_FIELDS = (
    "name",
    "host_id",
    "area",
    "size_gb",
    "status",
    "price_per_hour",
    "created_at",
)

DISK_ID_MAX_LENGTH = HOST_ID_MAX_LENGTH
# The provider's limits (see the shared upstream reference): refused with 220013 and 220010.
DISK_MIN_GB = MIN_DISK_GB
DISKS_PER_HOST = MAX_DISKS_PER_HOST


class DiskQuerySet(MirroredQuerySet):
    def mounted(self) -> DiskQuerySet:
        return self.filter(host__isnull=False)


class Disk(Mirrored):
    """One upstream cloud disk as the last sync saw it."""

    status_labels = DISK_STATUS_LABELS
    status_slugs = DISK_STATUS_SLUGS
    changing_statuses = DISK_CHANGING_STATUSES

    id = models.CharField(primary_key=True, max_length=DISK_ID_MAX_LENGTH)
    name = models.CharField(max_length=255, blank=True)
    # The host it is mounted on, or None. Not what the upstream's `pveId` alone says (it keeps
    # the last host after an unmount): the client decides from `isMount` and `status`. Not a
    # database constraint: a disk may be mounted on a host the mirror has not seen yet.
    host = loose_reference(Host, "disks")
    area = ChoicePositiveSmallIntegerField(
        null=True, blank=True, choices=[(a.value, label) for a, label in AREA_LABELS.items()]
    )
    size_gb = models.PositiveIntegerField(null=True, blank=True)
    status = ChoicePositiveSmallIntegerField(
        null=True,
        blank=True,
        choices=[(status.value, label) for status, label in DISK_STATUS_LABELS.items()],
    )
    price_per_hour = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    created_at = models.DateTimeField(null=True, blank=True)

    # Who it belongs to: the member whose create made it, or whom an admin gave it to; null
    # when found upstream with no known creator. The name as it was when the owner was set.
    owner = member_reference("owned_disks")
    owner_name = models.CharField(max_length=150, blank=True)

    objects = DiskQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at", "id")
        indexes = [
            models.Index(fields=["gone_at", "status"], name="disk_gone_status_idx"),
            models.Index(fields=["host", "gone_at"], name="disk_host_idx"),
        ]

    @property
    def is_mounted(self) -> bool:
        return self.host_id is not None
