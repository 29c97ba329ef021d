"""Writes: the mirror of the cloud disks, brought in step with the upstream by the host sync
(dashboard.services.sync calls `disks_sync` after the hosts, in the same task and lock) and by
the runs of disk operations (`disk_mirror_save`).

As for hosts: a disk missing from a *complete* listing is marked gone (its row stays); a
listing that broke off part way saves what arrived and marks nothing gone. A failure of the
disk listing never fails the host sync: it is recorded as the "disks" job of `SyncState`.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from dashboard.models import (
    DISK_ARREARS,
    DISK_MIRRORED_FIELDS,
    Disk,
    Host,
    Operation,
    SyncState,
    is_host_id,
)
from dashboard.services import mirror_rows, notifications
from vmclient.errors import XdsError

logger = logging.getLogger(__name__)

# A price per hour above this is not a price (a unit mix-up upstream): stored as unknown.
MAX_PRICE = Decimal("99999999")


def disks_sync(*, client, now: datetime | None = None) -> tuple[int, bool]:
    """List every disk and bring the mirror in step. Returns (disks seen, complete). Called by
    the host sync, which holds the sync lock."""
    now = now or timezone.now()
    listing = None
    try:
        listing = client.list_every_disk(workers=settings.XDS_SYNC_CONCURRENCY)
    except XdsError as exc:  # page 1 failed: nothing to save
        error = exc
    else:
        error = listing.error
    seen = listing.items if listing is not None else ()
    if error is not None:
        logger.warning("disk sync broke off after %d disks: %s", len(seen), error)
    disks = {}
    for disk in seen:
        if is_host_id(str(disk.id)):
            disks.setdefault(str(disk.id), disk)
        else:
            logger.warning("disk sync: skipped a disk with an unusable id %r", str(disk.id)[:80])
    # Only a whole listing can say a disk is gone (a page that failed, or pages that shifted
    # under a create, may have held it).
    complete = listing is not None and listing.complete
    with transaction.atomic():
        disks_upsert(disks.values(), now=now)
        if complete:
            _mark_gone(now=now)
        if error is None:
            mirror_rows.sync_succeeded(SyncState.Job.DISKS, at=now, count=len(disks))
        else:
            mirror_rows.sync_failed(SyncState.Job.DISKS, error, at=now)
    return len(disks), complete


def disk_mirror_save(*, disk) -> Disk:
    """One disk as the upstream just said it is (a disk operation's poll)."""
    disks_upsert([disk], now=timezone.now())
    return Disk.objects.get(id=str(disk.id))


def disk_mark_gone(*, disk_id: str) -> None:
    """The upstream no longer has the disk (a destroy went through)."""
    now = timezone.now()
    Disk.objects.filter(id=disk_id, gone_at__isnull=True).update(
        gone_at=now, changed_at=now, host=None, version=F("version") + 1
    )


def disks_upsert(disks, *, now: datetime) -> None:
    """Insert new disks, update known ones (bumping the version of those that changed), give a
    new disk to the member whose create claimed it, and tell the owner and the admins of a disk
    that has just been stopped for arrears."""
    disks = list(disks)
    ids = [str(disk.id) for disk in disks]
    existing = {row.id: row for row in Disk.objects.filter(id__in=ids)}
    claims = mirror_rows.create_claims(Operation.Kind.DISK_CREATE, "disk_id", ids)
    arrears = []
    hosts_moved: set[str] = set()  # hosts whose Disks card changes: their pages refresh
    for upstream in disks:
        values = mirrored_values(upstream)
        row = existing.get(values["id"])
        if row is None:
            row = mirror_rows.mirror_insert(Disk, values, claims, now=now)
            if row.status == DISK_ARREARS:
                arrears.append(row)
            hosts_moved.add(row.host_id)
            continue
        if mirror_rows.mirror_refresh(row, values, DISK_MIRRORED_FIELDS, now=now):
            hosts_moved.update((row.host_id, values["host_id"]))
            if values["status"] == DISK_ARREARS and row.status != DISK_ARREARS:
                arrears.append(row)
    _hosts_touch(hosts_moved)
    for row in arrears:
        row.refresh_from_db()
        notifications.disk_arrears(row)


def _hosts_touch(host_ids) -> None:
    host_ids = [host_id for host_id in host_ids if host_id]
    if host_ids:
        Host.objects.filter(id__in=host_ids).update(version=F("version") + 1)


def _mark_gone(*, now: datetime) -> int:
    going = Disk.objects.filter(gone_at__isnull=True, last_seen_at__lt=now)
    _hosts_touch(set(going.exclude(host=None).values_list("host_id", flat=True)))
    return going.update(gone_at=now, changed_at=now, host=None, version=F("version") + 1)


def mirrored_values(disk) -> dict:
    """The upstream disk as model field values, clipped to what the columns hold."""
    host_id = disk.host_id if disk.host_id and is_host_id(str(disk.host_id)) else None
    status = disk.status
    return {
        "id": str(disk.id),
        "name": mirror_rows.column_text(disk.name, 255),
        "host_id": host_id,
        "area": None if disk.area is None else int(disk.area),
        "size_gb": mirror_rows.column_count(disk.size_gb),
        "status": None if status is None else int(status),
        "price_per_hour": _price(disk.price_per_hour),
        "created_at": mirror_rows.utc_aware(disk.created_at),
    }


def _price(value) -> Decimal | None:
    if value is None:
        return None
    try:
        price = Decimal(str(value)).quantize(Decimal("0.0001"))
    except (InvalidOperation, ValueError):
        return None
    if price < 0 or price > MAX_PRICE:
        return None
    return price
