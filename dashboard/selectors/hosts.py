"""Reads of the mirror: the sync state and the hosts. No function here calls the upstream; each
costs a fixed number of queries whatever the size of the fleet."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from dashboard.models import (
    AREA_SLUGS,
    BILLING_SLUGS,
    STATUS_LABELS,
    STATUS_SLUGS,
    Host,
    Label,
    Lease,
    SyncState,
)
from vmclient.types import HostStatus

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
    "owner": ("owner_name",),
}
# The owner filter's values besides a member's name.
OWNER_MINE, OWNER_NONE = "mine", "none"
OWNER_SPECIAL = (OWNER_MINE, OWNER_NONE)
HOST_DEFAULT_SORT = "-created"


def owned_by(rows: QuerySet, owner: str, me) -> QuerySet:
    """The `rows` (hosts or disks) the owner filter keeps: `me`'s ("mine"), nobody's ("none"),
    a member's of that name, or, with no `owner`, all."""
    if owner == OWNER_MINE:
        return rows.filter(owner_id=getattr(me, "pk", None)) if me is not None else rows.none()
    if owner == OWNER_NONE:
        return rows.filter(owner__isnull=True)
    if owner:
        return rows.filter(owner_name=owner)
    return rows


def host_list(
    *,
    q: str = "",
    status: str = "",
    area: str = "",
    billing: str = "",
    os: str = "",
    owner: str = "",
    label: str = "",
    me=None,
    sort: str = HOST_DEFAULT_SORT,
) -> QuerySet[Host]:
    """Hosts matching the filters, sorted. Unknown filter values are ignored, an unknown sort
    falls back to the default (the views' form already rejects them; this stays safe alone).
    Gone hosts are listed only with `status="gone"`. `owner` is "mine" (the hosts of `me`, the
    member asking), "none" (unowned) or an owner's name; `label` a label's name. The labels of
    the hosts listed come in one more query."""
    hosts = Host.objects.prefetch_related(labels_prefetch(), lease_prefetch())
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
    hosts = owned_by(hosts, owner, me)
    if label:
        hosts = hosts.filter(labels__name=label)
    return hosts.order_by(*_host_ordering(sort))


def host_expiry_counts() -> dict[str, int]:
    """Rentals ending within XDS_EXPIRY_WARNING_DAYS, and hosts already expired, for the banner
    above the list. One query."""
    now = timezone.now()
    soon = now + timedelta(days=settings.XDS_EXPIRY_WARNING_DAYS)
    return Host.objects.present().aggregate(
        expiring=Count("id", filter=Q(expires_at__gt=now, expires_at__lte=soon)),
        expired=Count("id", filter=Q(status=HostStatus.EXPIRED) | Q(expires_at__lte=now)),
    )


def host_label_names() -> list[str]:
    """The labels in use, for the label filter."""
    return list(Label.objects.values_list("name", flat=True))


def host_owner_names() -> list[str]:
    """The names of the members who own hosts in the fleet, for the owner filter."""
    names = Host.objects.present().exclude(owner_name="").values_list("owner_name", flat=True)
    return sorted(set(names))


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


def labels_prefetch() -> Prefetch:
    """Hosts' labels in one query, as a plain list (`Host.labels_shown`): a page of rows would
    otherwise build a related manager per row."""
    return Prefetch("labels", queryset=Label.objects.order_by("name"), to_attr="prefetched_labels")


def lease_prefetch() -> Prefetch:
    """Hosts' active leases in one query (`Host.lease`): who holds each row, until when."""
    return Prefetch(
        "leases",
        queryset=Lease.objects.active(),
        to_attr="active_leases",
    )


def host_get(*, host_id: str) -> Host | None:
    return (
        Host.objects.prefetch_related(labels_prefetch(), lease_prefetch())
        .filter(id=host_id)
        .first()
    )


def host_version_get(*, host_id: str) -> int | None:
    """A host's version alone (what its page's poll compares), or None: one indexed read."""
    return Host.objects.filter(id=host_id).values_list("version", flat=True).first()


def hosts_any_changing(*, host_ids: list[str]) -> bool:
    """Whether one of these hosts (a page's rows) is changing: one query by primary key."""
    return Host.objects.filter(id__in=host_ids).changing().exists()


def mirror_version() -> str:
    """The version of the whole mirror of hosts, which a settled host list polls with: it moves
    whenever a row is added or changes, since every write to a row bumps its `version` (only
    ever up: the per-row contract the polls already rely on) and a new row adds one. One
    aggregate over a narrow integer column (a millisecond at 5,000 hosts), and no counter that
    each write path would have to remember to bump, nor a row every writer would queue on."""
    totals = Host.objects.order_by().aggregate(rows=Count("pk"), versions=Sum("version"))
    return f"{totals['rows']}.{totals['versions'] or 0}"


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


def owner_choices():
    """The members a host can be given to: active accounts, by name."""
    return get_user_model().objects.filter(is_active=True).order_by("username")
