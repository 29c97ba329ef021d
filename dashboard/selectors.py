"""Reads: everything a page shows, from the local mirror and the catalog cache only.

No function here calls the upstream; each costs a fixed number of queries whatever the size
of the fleet.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from dashboard.models import (
    AREA_LABELS,
    AREA_SLUGS,
    BILLING_LABELS,
    BILLING_SLUGS,
    STATUS_LABELS,
    STATUS_SLUGS,
    Host,
    SyncState,
)
from vmclient.types import Area, BillingType, HostStatus, Image, Package

CATALOG_CACHE_KEY = "xds:catalog:v1"

# --- Sync state ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncStatus:
    """The state of the background jobs, as the header and the banner show it."""

    hosts: SyncState | None = None
    catalog: SyncState | None = None

    @property
    def last_synced_at(self) -> datetime | None:
        return self.hosts.last_success_at if self.hosts else None

    @property
    def seconds_since_sync(self) -> int | None:
        if self.last_synced_at is None:
            return None
        return max(0, int((timezone.now() - self.last_synced_at).total_seconds()))

    @property
    def failing(self) -> SyncState | None:
        """The job to show in the error banner: the host sync first."""
        for state in (self.hosts, self.catalog):
            if state is not None and state.is_failing:
                return state
        return None

    @property
    def is_stale(self) -> bool:
        """No successful sync for several intervals: is the worker running?"""
        seconds = self.seconds_since_sync
        return seconds is not None and seconds > max(3 * settings.XDS_SYNC_INTERVAL, 120)

    @property
    def hosts_stamp(self) -> str:
        """Changes whenever a host sync finishes."""
        when = self.hosts.last_attempt_at if self.hosts else None
        return str(int(when.timestamp() * 1000)) if when else "0"

    @property
    def stamp(self) -> str:
        """Changes whenever a job finishes: a poll resends the status only when it moved."""
        parts = []
        for state in (self.hosts, self.catalog):
            when = state.last_attempt_at if state else None
            parts.append(str(int(when.timestamp() * 1000)) if when else "0")
        return "-".join(parts)


def sync_state_get() -> SyncStatus:
    states = {state.job: state for state in SyncState.objects.all()}
    return SyncStatus(
        hosts=states.get(SyncState.Job.HOSTS), catalog=states.get(SyncState.Job.CATALOG)
    )


# --- Hosts ---------------------------------------------------------------------------------------

STATUS_BY_SLUG = {slug: status.value for status, slug in STATUS_SLUGS.items()}
AREA_BY_SLUG = {slug: area.value for area, slug in AREA_SLUGS.items()}
BILLING_BY_SLUG = {slug: billing.value for billing, slug in BILLING_SLUGS.items()}
# Pseudo statuses of the status filter.
STATUS_GONE = "gone"
STATUS_CHANGING = "changing"

# Sort keys of the host table: what a URL says -> the columns it orders by.
HOST_SORTS = {
    "name": ("name",),
    "id": ("id",),
    "status": ("status",),
    "gpu": ("gpu_number", "gpu_description"),
    "cpu": ("cpu_cores",),
    "memory": ("memory_gb",),
    "disk": ("disk_gb",),
    "os": ("operating_system",),
    "area": ("area",),
    "billing": ("billing_type",),
    "created": ("created_at",),
    "expires": ("expires_at",),
}
HOST_DEFAULT_SORT = "-created"


def host_list(
    *,
    q: str = "",
    status: str = "",
    area: str = "",
    billing: str = "",
    os: str = "",
    sort: str = HOST_DEFAULT_SORT,
) -> QuerySet[Host]:
    """Hosts matching the filters, sorted. Unknown filter values are ignored, an unknown sort
    falls back to the default (the views' form already rejects them; this stays safe alone).
    Gone hosts are listed only with `status="gone"`."""
    hosts = Host.objects.all()
    if status == STATUS_GONE:
        hosts = hosts.filter(gone_at__isnull=False)
    elif status == STATUS_CHANGING:
        hosts = hosts.changing()
    else:
        hosts = hosts.present()
        if status in STATUS_BY_SLUG:
            hosts = hosts.filter(status=STATUS_BY_SLUG[status])
    if q:
        hosts = hosts.filter(Q(name__icontains=q) | Q(id__icontains=q))
    if area in AREA_BY_SLUG:
        hosts = hosts.filter(area=AREA_BY_SLUG[area])
    if billing in BILLING_BY_SLUG:
        hosts = hosts.filter(billing_type=BILLING_BY_SLUG[billing])
    if os:
        hosts = hosts.filter(operating_system=os)
    return hosts.order_by(*_host_ordering(sort))


def _host_ordering(sort: str) -> list:
    descending = sort.startswith("-")
    columns = HOST_SORTS.get(sort.lstrip("-"))
    if columns is None:
        return _host_ordering(HOST_DEFAULT_SORT)
    ordering = [
        F(column).desc(nulls_last=True) if descending else F(column).asc(nulls_last=True)
        for column in columns
    ]
    return [*ordering, "id"]  # a stable order, so pages never overlap


def host_operating_systems() -> list[str]:
    """The operating systems of present hosts, for the OS filter."""
    values = (
        Host.objects.present()
        .exclude(operating_system="")
        .order_by("operating_system")
        .values_list("operating_system", flat=True)
        .distinct()
    )
    return list(values)


def host_get(*, host_id: str) -> Host | None:
    return Host.objects.filter(id=host_id).first()


def hosts_with_versions(*, versions: dict[str, int]) -> tuple[list[Host], list[Host]]:
    """For a polling page that shows `versions` (host id -> version): the hosts whose version
    moved, and the hosts still changing (to poll again). One query."""
    hosts = Host.objects.filter(id__in=list(versions)).order_by("id")
    moved = [host for host in hosts if host.version != versions[host.id]]
    changing = [host for host in hosts if host.is_changing]
    return moved, changing


def host_status_counts() -> list[tuple[str, str, int]]:
    """(slug, label, count) per status of present hosts, for the summary above the table.
    One query."""
    rows = Host.objects.present().order_by().values_list("status").annotate(n=Count("id"))
    counts = dict(rows)
    summary = [
        (STATUS_SLUGS[status], str(STATUS_LABELS[status]), counts.pop(status.value))
        for status in HostStatus
        if status.value in counts
    ]
    unknown = sum(counts.values())
    if unknown:
        summary.append(("unknown", str(_("Unknown")), unknown))
    return summary


# --- Catalog -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TemplateRow:
    """One template of the catalog, merged across the two lists it may appear in."""

    package: Package
    billing_types: tuple[BillingType, ...]
    hourly_prices: tuple[Decimal, ...]  # distinct prices after discount, usually one
    images: tuple[Image, ...] = field(default=())

    @property
    def area_label(self) -> str:
        area = self.package.area
        return "" if area is None else str(AREA_LABELS[area])

    @property
    def billing_labels(self) -> list[str]:
        return [str(BILLING_LABELS[billing]) for billing in self.billing_types]

    @property
    def discounted(self) -> bool:
        return self.package.amount is not None and self.package.discount < 1


@dataclass(frozen=True)
class ImageRow:
    image: Image
    template_count: int  # templates of the image's type


@dataclass(frozen=True)
class ImageGroup:
    system: str
    images: tuple[ImageRow, ...]


@dataclass(frozen=True)
class Catalog:
    templates: tuple[TemplateRow, ...]
    image_groups: tuple[ImageGroup, ...]
    refreshed_at: datetime | None


def catalog_get(*, billing: str = "", area: str = "") -> Catalog | None:
    """The cached catalog, filtered; None while it is not cached yet (or has expired)."""
    cached = cache.get(CATALOG_CACHE_KEY)
    if not cached:
        return None
    packages: Iterable[Package] = cached.get("packages", ())
    images: tuple[Image, ...] = tuple(cached.get("images", ()))
    templates = _merge_templates(packages, images)
    if billing in BILLING_BY_SLUG:
        wanted = BillingType(BILLING_BY_SLUG[billing])
        templates = [row for row in templates if wanted in row.billing_types]
    if area in AREA_BY_SLUG:
        templates = [row for row in templates if row.package.area == Area(AREA_BY_SLUG[area])]
    return Catalog(
        templates=tuple(templates),
        image_groups=_group_images(images, _merge_templates(packages, ())),
        refreshed_at=cached.get("refreshed_at"),
    )


def _merge_templates(packages: Iterable[Package], images: tuple[Image, ...]) -> list[TemplateRow]:
    copies: dict[str, list[Package]] = defaultdict(list)
    for package in packages:
        copies[package.package_id].append(package)
    rows = []
    for same in copies.values():
        first = same[0]
        billing_types = tuple(b for b in BillingType if any(p.allows(b) for p in same))
        prices = tuple(sorted({p.hourly_price for p in same if p.hourly_price is not None}))
        compatible = tuple(
            sorted(
                (image for image in images if first.is_compatible_with(image)),
                key=lambda image: image.label,
            )
        )
        rows.append(TemplateRow(first, billing_types, prices, compatible))
    rows.sort(
        key=lambda row: (
            row.package.area is None,
            row.package.area or 0,
            row.hourly_prices[0] if row.hourly_prices else Decimal("Infinity"),
            row.package.name,
        )
    )
    return rows


def _group_images(
    images: tuple[Image, ...], templates: list[TemplateRow]
) -> tuple[ImageGroup, ...]:
    per_type: dict[str, int] = defaultdict(int)
    for row in templates:
        if row.package.type:
            per_type[row.package.type] += 1
    groups: dict[str, list[ImageRow]] = defaultdict(list)
    for image in images:
        groups[image.system_name or ""].append(ImageRow(image, per_type.get(image.type or "", 0)))
    return tuple(
        ImageGroup(
            system=system,
            images=tuple(
                sorted(rows, key=lambda r: (r.image.system_version or "", r.image.image_id))
            ),
        )
        for system, rows in sorted(groups.items(), key=lambda item: (not item[0], item[0]))
    )
