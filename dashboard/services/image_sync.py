"""Writes: the mirror of the personal images, brought in step with the upstream by the host sync
(dashboard.services.sync calls `images_sync` after the hosts and disks, in the same task and
lock) and by the runs of image operations (`images_mirror_save`).

As for disks: an image missing from a *complete* listing is marked gone (its row stays); a
listing that failed part way marks nothing gone. A failure of the image listing never fails
the host sync: it is recorded as the "images" job of `SyncState`. An image seen turning to
"failed" tells its owner and the admins (dashboard.services.notifications.image_failed).
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from dashboard.models import (
    IMAGE_FAILED,
    IMAGE_MIRRORED_FIELDS,
    Operation,
    PersonalImage,
    SyncState,
    is_host_id,
)
from dashboard.services import mirror_rows, notifications
from vmclient.errors import XdsError

logger = logging.getLogger(__name__)


def images_sync(*, client, now: datetime | None = None) -> tuple[int, bool]:
    """List every personal image and bring the mirror in step. Returns (images seen, complete).
    Called by the host sync, which holds the sync lock."""
    now = now or timezone.now()
    try:
        listing = client.list_every_personal_image()
    except XdsError as exc:  # page 1 failed: nothing to save
        logger.warning("personal image sync failed: %s", exc)
        mirror_rows.sync_failed(SyncState.Job.IMAGES, exc, at=now)
        return 0, False
    # Only a whole listing can say an image is gone (a page that failed may have held it).
    complete = listing.complete
    with transaction.atomic():
        count = images_mirror_save(listing.items, now=now, complete=complete)
        if listing.error is None:
            mirror_rows.sync_succeeded(SyncState.Job.IMAGES, at=now, count=count)
        else:
            logger.warning("personal image sync broke off: %s", listing.error)
            mirror_rows.sync_failed(SyncState.Job.IMAGES, listing.error, at=now)
    return count, complete


def images_mirror_save(listing, *, now: datetime | None = None, complete: bool) -> int:
    """The images of a listing as the upstream just said they are; with `complete`, those it
    lacks are marked gone. Returns how many usable rows it held."""
    now = now or timezone.now()
    images = {}
    for image in listing:
        if is_host_id(str(image.id)):
            images.setdefault(str(image.id), image)
        else:
            logger.warning(
                "image sync: skipped an image with an unusable id %r", str(image.id)[:80]
            )
    images_upsert(images.values(), now=now)
    if complete:
        PersonalImage.objects.filter(gone_at__isnull=True, last_seen_at__lt=now).update(
            gone_at=now, changed_at=now, version=F("version") + 1
        )
    return len(images)


def images_upsert(images, *, now: datetime) -> None:
    """Insert new images, update known ones (bumping the version of those that changed), give a
    new image to the member whose operation claimed it, and tell the owner and the admins of an
    image that has just failed to be made."""
    images = list(images)
    ids = [str(image.id) for image in images]
    existing = {row.id: row for row in PersonalImage.objects.filter(id__in=ids)}
    claims = mirror_rows.create_claims(Operation.Kind.IMAGE_CREATE, "image_id", ids)
    failed = []
    for upstream in images:
        values = mirrored_values(upstream)
        row = existing.get(values["id"])
        if row is None:
            row = mirror_rows.mirror_insert(PersonalImage, values, claims, now=now)
            if row.status == IMAGE_FAILED and row.owner_id is not None:
                failed.append(row)  # one of ours, failed before a listing saw it being made
            continue
        changed = mirror_rows.mirror_refresh(row, values, IMAGE_MIRRORED_FIELDS, now=now)
        if changed and values["status"] == IMAGE_FAILED and row.status != IMAGE_FAILED:
            failed.append(row)
    for row in failed:
        row.refresh_from_db()
        notifications.image_failed(row)  # written in this transaction, sent once it commits


def image_mark_gone(*, image_id: str) -> None:
    """The upstream no longer has the image (a delete went through)."""
    now = timezone.now()
    PersonalImage.objects.filter(id=image_id, gone_at__isnull=True).update(
        gone_at=now, changed_at=now, version=F("version") + 1
    )


def mirrored_values(image) -> dict:
    """The upstream image as model field values, clipped to what the columns hold."""
    image_id = str(image.image_id) if image.image_id else ""
    return {
        "id": str(image.id),
        "image_id": image_id if is_host_id(image_id) else "",
        "name": mirror_rows.column_text(image.name, 255),
        "image_type": mirror_rows.column_text(image.image_type, 64),
        "size": mirror_rows.column_count(image.size),
        "datacenter": mirror_rows.column_text(image.datacenter, 32),
        "status": None if image.status is None else int(image.status),
        "created_at": mirror_rows.utc_aware(image.created_at),
    }
