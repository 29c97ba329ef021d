"""The local mirror of the account's personal images: images made from one of the
team's hosts, to start new hosts with the same system and software.

Synced with the hosts and disks (dashboard.services.image_sync), kept like disks: the upstream's
fields as they were last seen, the owner beside them (the member whose operation made it, with
the name frozen), and a row marked gone, never deleted, once a complete listing lacks it.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from dashboard.models.fields import ChoicePositiveSmallIntegerField, member_reference
from dashboard.models.hosts import HOST_ID_MAX_LENGTH
from dashboard.models.mirror import Mirrored, MirroredQuerySet
from vmclient.types import PersonalImageStatus

IMAGE_MAKING = PersonalImageStatus.MAKING
IMAGE_USABLE = PersonalImageStatus.USABLE
IMAGE_FAILED = PersonalImageStatus.FAILED
IMAGE_EXPIRED = PersonalImageStatus.EXPIRED
IMAGE_STATUS_LABELS = {
    IMAGE_MAKING: _("Being made"),
    IMAGE_USABLE: _("Usable"),
    IMAGE_FAILED: _("Failed"),
    IMAGE_EXPIRED: _("Expired"),
}
IMAGE_STATUS_SLUGS = {
    IMAGE_MAKING: "making",
    IMAGE_USABLE: "usable",
    IMAGE_FAILED: "failed",
    IMAGE_EXPIRED: "expired",
}

# The fields copied from the upstream as they are; the sync compares them to detect a change.
IMAGE_MIRRORED_FIELDS = (
    "image_id",
    "name",
    "image_type",
    "size",
    "datacenter",
    "status",
    "created_at",
)
IMAGE_ID_MAX_LENGTH = HOST_ID_MAX_LENGTH
# The client refuses longer names (vmclient.client.MAX_IMAGE_NAME): the form says it first.
IMAGE_NAME_MAX_LENGTH = 100


class PersonalImageQuerySet(MirroredQuerySet):
    def usable(self) -> PersonalImageQuerySet:
        return self.present().filter(status=IMAGE_USABLE)


class PersonalImage(Mirrored):
    """One upstream personal image as the last sync saw it."""

    status_labels = IMAGE_STATUS_LABELS
    status_slugs = IMAGE_STATUS_SLUGS
    changing_statuses = frozenset({IMAGE_MAKING})

    # The upstream's `id`: the one its rename and delete take (the docs: "use THIS id").
    id = models.CharField(primary_key=True, max_length=IMAGE_ID_MAX_LENGTH)
    # The upstream's `imageId`: what a host create is sent (see `create_image_id`).
    image_id = models.CharField(max_length=IMAGE_ID_MAX_LENGTH, blank=True)
    name = models.CharField(max_length=255, blank=True)
    image_type = models.CharField(max_length=64, blank=True)  # a system name, e.g. "Windows"
    size = models.PositiveIntegerField(null=True, blank=True)  # as sent; the docs give no unit
    datacenter = models.CharField(max_length=32, blank=True)  # `datacenterKey`, e.g. "HZ"
    status = ChoicePositiveSmallIntegerField(
        null=True,
        blank=True,
        choices=[(status.value, label) for status, label in IMAGE_STATUS_LABELS.items()],
    )
    created_at = models.DateTimeField(null=True, blank=True)

    # Who it belongs to: the member whose operation made it; null when found upstream with no
    # known maker. The name as it was when the owner was set.
    owner = member_reference("owned_images")
    owner_name = models.CharField(max_length=150, blank=True)

    objects = PersonalImageQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at", "id")
        indexes = [models.Index(fields=["gone_at", "status"], name="image_gone_status_idx")]

    @property
    def is_usable(self) -> bool:
        return not self.is_gone and self.status == IMAGE_USABLE

    @property
    def create_image_id(self) -> str:
        """What a host create sends as its `imageId`: the upstream's `imageId`, else its `id`.
        UNVERIFIED: the provider's docs do not say a create accepts a personal image at all."""
        return self.image_id or self.id
