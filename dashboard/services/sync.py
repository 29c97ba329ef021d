"""Writes: the jobs that keep the local mirror and the catalog cache in step with the upstream.

Pages never call the upstream; these services do, from Celery tasks or the `sync_hosts`
command. Each records its outcome in `SyncState`, which the banner on every page reads.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from dashboard.locks import cache_lock
from dashboard.models import (
    MIRRORED_FIELDS,
    Host,
    HostStatusChange,
    Operation,
    SyncState,
    is_host_id,
)
from dashboard.selectors import CATALOG_CACHE_KEY
from dashboard.services.disk_sync import disks_sync
from dashboard.services.image_sync import images_sync
from dashboard.services.mirror_rows import (
    column_count,
    column_text,
    sync_failed,
    sync_succeeded,
    utc_aware,
)
from vmclient.errors import XdsError
from vmclient.types import BillingType
from vmclient.types import Host as UpstreamHost

logger = logging.getLogger(__name__)

SYNC_LOCK_KEY = "xds:hosts-sync:lock"
# How long a "refresh now" or "catalog loading" request suppresses the next identical one.
REQUEST_DEBOUNCE_SECONDS = 5


class TaskQueueUnavailable(Exception):
    """The task could not be handed to the broker (Redis down, disk full...)."""


class CacheUnavailable(Exception):
    """The cache does not answer (its Redis is down): a sync asked for now could neither be
    debounced nor take the lock every sync needs, so none is asked for."""


@dataclass(frozen=True)
class SyncResult:
    seen: int = 0  # distinct hosts in the listing
    created: int = 0
    changed: int = 0  # existing hosts whose mirrored fields changed (or that came back)
    gone: int = 0  # hosts newly marked gone
    pages: int = 0  # pages fetched
    complete: bool = False  # the listing was whole, so hosts missing from it were marked gone
    skipped: bool = False  # another sync held the lock; nothing was done
    error: XdsError | None = None

    @property
    def ok(self) -> bool:
        return not self.skipped and self.error is None


# --- Host sync ---------------------------------------------------------------------------------


def hosts_sync(*, client=None) -> SyncResult:
    """List every host upstream and bring the mirror in step.

    The client's one listing (`list_every_host`): page 1 tells the total, the other pages are
    fetched concurrently (XDS_SYNC_CONCURRENCY at most). Hosts are upserted; hosts missing
    from a *complete* listing are marked gone (their rows stay), and un-marked if they come
    back. If any page fails, the pages that arrived are
    still saved but nothing is marked gone: a partial listing must never make hosts vanish.
    Two syncs never overlap (a cache lock shared by every process, refreshed while the sync
    runs: a killed sync blocks the next ones for XDS_LOCK_SECONDS at most).
    """
    with cache_lock(SYNC_LOCK_KEY) as acquired:
        if not acquired:
            logger.info("host sync skipped: another sync is running")
            return SyncResult(skipped=True)
        if client is None:
            from dashboard.upstream import get_client

            client = get_client()
        return _hosts_sync_locked(client)


def _hosts_sync_locked(client) -> SyncResult:
    started = timezone.now()
    try:
        listing = client.list_every_host(workers=settings.XDS_SYNC_CONCURRENCY)
    except XdsError as exc:  # page 1 failed: nothing to save
        logger.warning("host sync failed on page 1: %s", exc)
        sync_failed(SyncState.Job.HOSTS, exc, at=started)
        return SyncResult(error=exc)
    except Exception as exc:
        sync_failed(SyncState.Job.HOSTS, exc, at=started)
        raise

    hosts = []
    for host in listing.items:
        if is_host_id(host.id):
            hosts.append(host)
        else:
            logger.warning("host sync: skipped a host with an unusable id %r", host.id[:80])
    error, complete = listing.error, listing.complete
    if error is None and not complete:
        logger.warning(
            "host listing was inconsistent (hosts created or deleted while it ran); "
            "nothing is marked gone this time"
        )

    with transaction.atomic():
        created, changed = _upsert_hosts(hosts, now=started)
        gone = _mark_gone(now=started) if complete else 0
        if error is None:
            sync_succeeded(SyncState.Job.HOSTS, at=started, count=len(hosts))
        else:
            sync_failed(SyncState.Job.HOSTS, error, at=started)
    if error is not None:
        logger.warning("host sync incomplete, %d pages arrived: %s", listing.pages_read, error)
    _sync_also(SyncState.Job.DISKS, disks_sync, client, now=started)
    _sync_also(SyncState.Job.IMAGES, images_sync, client, now=started)
    return SyncResult(
        seen=len(hosts),
        created=created,
        changed=changed,
        gone=gone,
        pages=listing.pages_read,
        complete=complete,
        error=error,
    )


def _sync_also(job: str, sync, client, *, now: datetime) -> None:
    """The cloud disks (mounted on the hosts) or the personal images (made from them), in the
    same run and lock as the hosts. Their failure is their `job`'s, never the host sync's."""
    try:
        sync(client=client, now=now)
    except Exception as exc:
        logger.exception("%s sync failed unexpectedly", job)
        sync_failed(job, exc, at=now)


def _upsert_hosts(hosts, *, now: datetime, known=None) -> tuple[int, int]:
    """Insert new hosts, update known ones; returns (created, changed). `known` narrows the rows
    read to compare with (all of them by default: one query, whatever the fleet)."""
    existing = {
        row["id"]: row
        for row in (Host.objects.all() if known is None else known).values(
            "id", "first_seen_at", "gone_at", "status_changed_at", "changed_at", "version",
            *MIRRORED_FIELDS,
        ).iterator(chunk_size=2000)
    }  # fmt: skip
    rows: list[Host] = []
    history: list[HostStatusChange] = []
    changed_ids: list[str] = []
    created = changed = 0
    for upstream in hosts:
        values = _mirrored_values(upstream)
        old = existing.get(upstream.id)
        if old is None:
            created += 1
            bookkeeping = {
                "first_seen_at": now,
                "status_changed_at": now,
                "changed_at": now,
                "version": 1,
            }
        else:
            differs = old["gone_at"] is not None or any(
                old[name] != value for name, value in values.items()
            )
            changed += differs
            bookkeeping = {
                "first_seen_at": old["first_seen_at"],
                "status_changed_at": (
                    now if old["status"] != values["status"] else old["status_changed_at"]
                ),
                "changed_at": now if differs else old["changed_at"],
                "version": old["version"],  # bumped below, in the database
            }
            if differs:
                changed_ids.append(upstream.id)
        rows.append(Host(id=upstream.id, last_seen_at=now, gone_at=None, **bookkeeping, **values))
        if old is None or old["status"] != values["status"] or old["gone_at"] is not None:
            history.append(HostStatusChange(host_id=upstream.id, status=values["status"], at=now))
    if created:
        _owners_from_creates([row for row in rows if row.id not in existing])
    if rows:
        Host.objects.bulk_create(
            rows,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["id"],
            update_fields=[
                *MIRRORED_FIELDS,
                "first_seen_at",
                "last_seen_at",
                "gone_at",
                "status_changed_at",
                "changed_at",
            ],
        )
        # A changed row's version goes up in the database, not to a value read before: an
        # operation or an edit may have bumped it meanwhile, and a version written back from the
        # earlier read would hide this change from a page that already saw theirs.
        for start in range(0, len(changed_ids), 500):
            Host.objects.filter(id__in=changed_ids[start : start + 500]).update(
                version=F("version") + 1
            )
        HostStatusChange.objects.bulk_create(history, batch_size=500)
    return created, changed


def _owners_from_creates(new_rows: list[Host]) -> None:
    """A new row for a host a create already claimed (its run found it before the mirror had
    it) belongs to the member who asked for that create. Updates of known rows never touch the
    owner: it is the dashboard's, not the upstream's."""
    by_id = {row.id: row for row in new_rows}
    claimed = Operation.objects.filter(
        kind__in=Operation.CREATE_KINDS, host_id__in=list(by_id)
    ).values_list("host_id", "requested_by_id", "requested_by_name")
    for host_id, user_id, name in claimed:
        by_id[host_id].owner_id, by_id[host_id].owner_name = user_id, name


def host_mirror_save(*, host: UpstreamHost) -> tuple[Host, int | None]:
    """Bring one host's mirror row in step with what the upstream just said of it (an action's
    poll), bumping its version if anything changed so pages showing it refresh. Returns the row
    and the status the mirror had before (None for a new row)."""
    if not is_host_id(host.id):
        raise ValueError(f"unusable host id {host.id[:80]!r}")
    before = Host.objects.filter(id=host.id).values_list("status", flat=True).first()
    _upsert_hosts([host], now=timezone.now(), known=Host.objects.filter(id=host.id))
    return Host.objects.get(id=host.id), before


def host_mark_gone(*, host_id: str) -> None:
    """The upstream no longer lists the host (a delete went through)."""
    now = timezone.now()
    if Host.objects.filter(id=host_id, gone_at__isnull=True).update(
        gone_at=now, changed_at=now, version=F("version") + 1
    ):
        HostStatusChange.objects.create(host_id=host_id, status=None, at=now)


def _mark_gone(*, now: datetime) -> int:
    """Hosts a complete listing at `now` did not have: every one it had was stamped `now`."""
    going = Host.objects.filter(gone_at__isnull=True, last_seen_at__lt=now)
    HostStatusChange.objects.bulk_create(
        [HostStatusChange(host_id=host_id, status=None, at=now)
         for host_id in going.values_list("id", flat=True)],
        batch_size=500,
    )  # fmt: skip
    return going.update(gone_at=now, changed_at=now, version=F("version") + 1)


def _mirrored_values(host: UpstreamHost) -> dict:
    """The upstream host as model field values, clipped to what the columns hold."""
    return {
        "name": column_text(host.name, 255),
        "gpu_description": column_text(host.gpu_description, 255),
        "gpu_number": column_count(host.gpu_number, 32767),
        "memory_gb": column_count(host.memory_gb),
        "cpu_cores": column_count(host.cpu_cores),
        "disk_gb": column_count(host.disk_gb),
        "operating_system": column_text(host.operating_system, 100),
        "login_user": column_text(host.login_user, 100),
        "address": column_text(host.address, 255),
        "port": column_count(host.port, 65535),
        "mac": column_text(host.mac, 64),
        "ipv4": column_text(host.ipv4, 255),
        "purpose": None if host.purpose is None else int(host.purpose),
        "billing_type": None if host.billing_type is None else int(host.billing_type),
        "status": None if host.status is None else int(host.status),
        "area": None if host.area is None else int(host.area),
        "created_at": utc_aware(host.created_at),
        "expires_at": utc_aware(host.expires_at),
    }


# --- Catalog (templates and images) --------------------------------------------------------------


def catalog_refresh(*, client=None) -> dict | None:
    """Fetch templates of both billing types and the images, and cache them for
    XDS_CATALOG_CACHE_SECONDS. On failure (None) the cached catalog, if any, is kept alive, and
    pages show its age under the error banner."""
    if client is None:
        from dashboard.upstream import get_client

        client = get_client()
    now = timezone.now()
    timeout = settings.XDS_CATALOG_CACHE_SECONDS
    try:
        packages = [
            *client.list_packages(BillingType.PAY_AS_YOU_GO),
            *client.list_packages(BillingType.RENTAL),
        ]
        images = list(client.list_images())
    except XdsError as exc:
        logger.warning("catalog refresh failed: %s", exc)
        cache.touch(CATALOG_CACHE_KEY, timeout)
        sync_failed(SyncState.Job.CATALOG, exc, at=now)
        return None
    catalog = {"packages": tuple(packages), "images": tuple(images), "refreshed_at": now}
    cache.set(CATALOG_CACHE_KEY, catalog, timeout)
    sync_succeeded(SyncState.Job.CATALOG, at=now, count=len(packages))
    return catalog


# --- Asking the worker --------------------------------------------------------------------------


def hosts_sync_request() -> bool:
    """Enqueue a host sync and a catalog refresh ("refresh now"). False when a sync was asked
    for a moment ago (nothing enqueued). Raises TaskQueueUnavailable if the broker refuses,
    CacheUnavailable if the cache does."""
    from dashboard import tasks

    if not _enqueue_once("xds:hosts-sync:requested", tasks.sync_hosts):
        return False
    _enqueue_once("xds:catalog:requested", tasks.refresh_catalog)
    return True


def catalog_refresh_request() -> bool:
    """Enqueue a catalog refresh unless one was asked for a moment ago. Never raises: a page
    that finds the catalog missing shows "loading" either way."""
    from dashboard import tasks

    try:
        return _enqueue_once("xds:catalog:requested", tasks.refresh_catalog)
    except (TaskQueueUnavailable, CacheUnavailable):
        return False


def _enqueue_once(key: str, task) -> bool:
    """Enqueue `task` unless `key` says it was a moment ago; False when it was."""
    try:
        fresh = cache.add(key, 1, REQUEST_DEBOUNCE_SECONDS)
    except Exception as exc:
        logger.warning("could not enqueue %s: the cache failed (%s)", task.name, type(exc).__name__)
        raise CacheUnavailable(type(exc).__name__) from exc
    if not fresh:
        return False
    try:
        task.delay()
    except Exception as exc:
        cache.delete(key)
        logger.exception("could not enqueue %s", task.name)
        raise TaskQueueUnavailable(str(exc)) from exc
    return True
