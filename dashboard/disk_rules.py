"""The provider's rules for cloud disks, the one place they become yes or no (as roles do in
dashboard.permissions): checked on the mirror before anything is sent, and shown on the pages
as the reason a button is not offered. Each rule is one the provider states
with its refusal code (see the shared upstream reference, "Cloud disks"); the upstream still
has the last word: a refusal it sends anyway ends the operation with its code and words.

- `disk_create_refusal`, `disk_action_refusal`, `host_mount_refusal`: why not, for the member,
  or "" when the mirror sees nothing against it.
- `area_quota`: what the account holds in an area and what is left (the create form shows it).
- `disk_price_estimate`: the hourly price a new disk will cost, for the approval policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Sum
from django.utils.translation import gettext as _

from dashboard.models import (
    AREA_LABELS,
    DISK_IN_USE,
    DISK_MIN_GB,
    DISK_UNMOUNTED,
    DISKS_PER_HOST,
    Disk,
    Host,
    HostStatusChange,
    Operation,
)
from dashboard.refusals import OperationRefused
from vmclient.types import Area, BillingType, HostStatus

Kind = Operation.Kind


@dataclass(frozen=True)
class AreaQuota:
    area: int
    used_gb: int  # disks present in the mirror, and disk creates in flight
    limit_gb: int

    @property
    def left_gb(self) -> int:
        return max(0, self.limit_gb - self.used_gb)

    @property
    def area_label(self) -> str:
        return _area(self.area)


def _area(area: int | None) -> str:
    try:
        return str(AREA_LABELS[Area(area)])
    except (ValueError, KeyError):
        return _("unknown area")


def area_quota(area: int) -> AreaQuota:
    """GB held in `area`: the present disks of the mirror, and what the disk creates in flight
    there will add (two creates asked for together cannot both take the last GB)."""
    return next(quota for quota in area_quotas() if quota.area == area)


def area_quotas() -> list[AreaQuota]:
    """`area_quota` of every area, in two queries."""
    used = dict(
        Disk.objects.present()
        .order_by()
        .values_list("area")
        .annotate(gb=Sum("size_gb"))
        .values_list("area", "gb")
    )
    pending = Operation.objects.in_flight().filter(kind=Kind.DISK_CREATE, disk__isnull=True)
    for params in pending.values_list("params", flat=True):
        area = (params or {}).get("area")
        used[area] = (used.get(area) or 0) + int((params or {}).get("size_gb") or 0)
    limit = settings.XDS_DISK_AREA_QUOTA_GB
    return [
        AreaQuota(area=area.value, used_gb=used.get(area.value) or 0, limit_gb=limit)
        for area in Area
    ]


def disk_price_estimate(*, area: int, size_gb: int) -> Decimal | None:
    """The hourly price of a new disk of `size_gb` in `area`, from what the mirror's disks of
    that area cost per GB (the provider publishes no disk prices), or None when none is known."""
    known = (
        Disk.objects.present()
        .filter(area=area, price_per_hour__isnull=False, size_gb__gt=0)
        .order_by("-created_at")
        .values_list("price_per_hour", "size_gb")
        .first()
    )
    if known is None:
        return None
    price, gb = known
    return (Decimal(price) / gb * size_gb).quantize(Decimal("0.0001"))


def disk_create_refusal(*, area: int | None, size_gb: int | None, host: Host | None) -> str:
    """Why a disk of `size_gb` in `area` (mounted on `host`, if given) cannot be created."""
    if area is None or area not in {a.value for a in Area}:
        return _("Choose the area the disk is made in.")
    if size_gb is None or size_gb < DISK_MIN_GB:
        return _("A cloud disk has at least %(minimum)s GB.") % {"minimum": DISK_MIN_GB}
    quota = area_quota(area)
    if size_gb > quota.left_gb:
        return _(
            "The account already holds %(used)s GB of disks in %(area)s, of %(limit)s GB "
            "allowed: %(left)s GB are left."
        ) % {
            "used": quota.used_gb,
            "area": quota.area_label,
            "limit": quota.limit_gb,
            "left": quota.left_gb,
        }
    if host is not None:
        return host_mount_refusal(host, area=area)
    return ""


def host_mount_refusal(
    host: Host, *, area: int | None, power_off_first: bool = False, mounted: int | None = None
) -> str:
    """Why a disk of `area` cannot be mounted on `host` now, or "". With `power_off_first`, a
    running host is acceptable (the operation powers it off before it mounts). `mounted`: the
    disks on it, when the caller has counted them."""
    if host.is_gone:
        return _("The host is gone.")
    if host.operation_in_flight is not None:
        return in_flight_refusal(host.operation_in_flight, on_disk=False)
    if host.billing_type == BillingType.RENTAL:
        return _("Disks can be mounted only on pay-as-you-go hosts; this one is a rental.")
    if area is not None and host.area is not None and host.area != area:
        return _(
            "The disk is in %(disk_area)s and the host in %(host_area)s: both must be in the "
            "same area."
        ) % {"disk_area": _area(area), "host_area": _area(host.area)}
    may_power_off = power_off_first and host.status == HostStatus.RUNNING
    if host.status is not None and host.status != HostStatus.OFF and not may_power_off:
        return _("The host must be off to mount a disk; it is %(status)s.") % {
            "status": host.status_label.lower()
        }
    if never_started(host):
        return _("The host has never been started since it was created; start it once first.")
    if mounted is None:
        mounted = Disk.objects.present().filter(host=host).count()
    if mounted >= DISKS_PER_HOST:
        return _("The host already has %(count)s disks, the most a host can have.") % {
            "count": mounted
        }
    return ""


def mount_offer(host: Host, *, area: int | None, mounted: int | None = None) -> tuple[str, bool]:
    """What a page offers for mounting a disk of `area` on `host`: (why not, or "";
    whether as "power off, then attach", for a running host that is otherwise fine)."""
    running = host.status == HostStatus.RUNNING
    refusal = host_mount_refusal(host, area=area, power_off_first=running, mounted=mounted)
    return refusal, running and not refusal


def in_flight_refusal(operation: Operation, *, on_disk: bool) -> str:
    """Why nothing else may be done while `operation` runs on the disk or on its host."""
    values = {"action": operation.get_kind_display(), "person": operation.requested_by_name}
    if on_disk:
        return (
            _("%(action)s by %(person)s is still running on this disk; wait until it has finished.")
            % values
        )
    return (
        _("%(action)s by %(person)s is in progress on the host; wait until it has finished.")
        % values
    )


def never_started(host: Host) -> bool:
    """Whether the mirror knows the host never ran: it saw it from its creation (within two
    syncs) and only ever off since. Any other host may have: the provider decides (220012)."""
    window = timedelta(seconds=max(2 * settings.XDS_SYNC_INTERVAL, 120))
    if host.created_at is None or host.first_seen_at - host.created_at > window:
        return False
    seen = HostStatusChange.objects.filter(host=host).exclude(status=HostStatus.OFF)
    return host.status == HostStatus.OFF and not seen.exists()


def disk_action_refusal(
    disk: Disk, kind: str, *, host: Host | None = None, power_off_first: bool = False
) -> str:
    """Why `kind` cannot be asked for on `disk` now (with `host` for an attach), or ""."""
    if disk.is_gone:
        return _("The disk is gone.")
    in_flight = disk.operation_in_flight
    if in_flight is not None:
        return in_flight_refusal(in_flight, on_disk=True)
    status = disk.status_label.lower()
    if kind == Kind.DISK_ATTACH:
        if disk.status != DISK_UNMOUNTED or disk.is_mounted:
            return _(
                "Only a disk waiting to be mounted can be attached; this one is %(status)s."
            ) % {"status": status}
        if host is None:
            return _("Choose the host to attach it to.")
        return host_mount_refusal(host, area=disk.area, power_off_first=power_off_first)
    if kind == Kind.DISK_DETACH:
        if disk.status != DISK_IN_USE or not disk.is_mounted:
            return _("Only a disk in use on a host can be detached; this one is %(status)s.") % {
                "status": status
            }
        mounted_on = disk.host
        if mounted_on is not None and mounted_on.operation_in_flight is not None:
            return in_flight_refusal(mounted_on.operation_in_flight, on_disk=False)
        if mounted_on is not None and mounted_on.status not in (None, HostStatus.OFF):
            return _("The host %(host)s must be off to detach a disk; it is %(status)s.") % {
                "host": mounted_on,
                "status": mounted_on.status_label.lower(),
            }
        return ""
    if kind == Kind.DISK_DESTROY:
        if disk.is_mounted or disk.status == DISK_IN_USE:
            return _("The disk is mounted on a host: detach it first, then destroy it.")
        if disk.status != DISK_UNMOUNTED:
            return _(
                "Only a disk waiting to be mounted can be destroyed; this one is %(status)s."
            ) % {"status": status}
        return ""
    raise ValueError(f"not a disk action: {kind!r}")


def disk_actions_allowed(disk: Disk) -> tuple[str, ...]:
    """The disk actions its state allows now (an attach still needs a host that fits)."""
    return tuple(
        kind
        for kind in (Kind.DISK_ATTACH, Kind.DISK_DETACH, Kind.DISK_DESTROY)
        if not _state_refusal(disk, kind)
    )


def _state_refusal(disk: Disk, kind: str) -> str:
    if kind == Kind.DISK_ATTACH:
        if disk.is_gone or disk.operation_in_flight is not None:
            return "busy"
        return "" if disk.status == DISK_UNMOUNTED and not disk.is_mounted else "state"
    return disk_action_refusal(disk, kind)


def disk_params_checked(
    *, kind: str, disk: Disk | None, host: Host | None, params: dict | None
) -> dict:
    """The parameters an operation on a disk keeps, once the rules above found nothing against
    it; raises `OperationRefused` with the reason otherwise. A create keeps its area, size, the
    host to mount it on and its estimated hourly price (for the approval policy and the spend);
    an attach whether the host may be powered off first."""
    params = params or {}
    power_off_first = bool(params.get("power_off_first"))
    if kind == Kind.DISK_CREATE:
        area, size_gb = _int(params.get("area")), _int(params.get("size_gb"))
        refusal = disk_create_refusal(area=area, size_gb=size_gb, host=host)
        if refusal:
            raise OperationRefused(refusal)
        price = disk_price_estimate(area=area, size_gb=size_gb)
        return {
            "area": area,
            "size_gb": size_gb,
            "host_id": host.id if host is not None else None,
            "hourly_price": None if price is None else str(price),
        }
    refusal = disk_action_refusal(disk, kind, host=host, power_off_first=power_off_first)
    if refusal:
        raise OperationRefused(refusal)
    if kind == Kind.DISK_ATTACH:
        running = host.status == HostStatus.RUNNING
        return {"host_id": host.id, "power_off_first": power_off_first and running}
    return {}


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
