"""Reads of the disk mirror: the disk list, a disk's page, the Disks card of a host's page and
what a host's delete does to its disks. No function here calls the upstream; each costs a fixed
number of queries whatever the number of disks."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from dashboard import permissions
from dashboard.disk_rules import (
    AreaQuota,
    area_quotas,
    disk_action_refusal,
    mount_offer,
)
from dashboard.models import (
    AREA_SLUGS,
    DISK_STATUS_SLUGS,
    DISK_UNMOUNTED,
    Disk,
    Host,
    Operation,
    SyncState,
)
from dashboard.selectors.hosts import owned_by
from vmclient.types import BillingType

Kind = Operation.Kind
DISK_STATUS_BY_SLUG = {slug: status for status, slug in DISK_STATUS_SLUGS.items()}
DISK_AREA_BY_SLUG = {slug: area.value for area, slug in AREA_SLUGS.items()}
DISK_GONE = "gone"
MOUNTED_YES, MOUNTED_NO = "yes", "no"
# The most disks a host's Disks card reads (mounted on it, or waiting anywhere): the provider's
# quota allows some 150 waiting disks of 20 GB across its three areas, and 30 per host.
MAX_CARD_DISKS = 500


def disk_list(
    *, status: str = "", area: str = "", owner: str = "", mounted: str = "", me=None
) -> QuerySet[Disk]:
    """Disks matching the filters, newest first, their hosts joined. Gone disks only with
    `status="gone"`. Unknown values are ignored."""
    disks = Disk.objects.select_related("host")
    if status == DISK_GONE:
        disks = disks.filter(gone_at__isnull=False)
    else:
        disks = disks.present()
        if status in DISK_STATUS_BY_SLUG:
            disks = disks.filter(status=DISK_STATUS_BY_SLUG[status])
    if area in DISK_AREA_BY_SLUG:
        disks = disks.filter(area=DISK_AREA_BY_SLUG[area])
    disks = owned_by(disks, owner, me)
    if mounted == MOUNTED_YES:
        disks = disks.filter(host__isnull=False)
    elif mounted == MOUNTED_NO:
        disks = disks.filter(host__isnull=True)
    return disks.order_by("-created_at", "id")


def disk_sync_state() -> SyncState | None:
    """How the last listing of disks went (the "disks" job of the host sync)."""
    return SyncState.objects.filter(job=SyncState.Job.DISKS).first()


def disk_owner_names() -> list[str]:
    names = Disk.objects.present().exclude(owner_name="").values_list("owner_name", flat=True)
    return sorted(set(names))


def disks_version() -> str:
    """The version of the whole disk mirror (as `mirror_version` for hosts)."""
    totals = Disk.objects.order_by().aggregate(rows=Count("pk"), versions=Sum("version"))
    return f"{totals['rows']}.{totals['versions'] or 0}"


def disk_version_get(*, disk_id: str) -> int | None:
    return Disk.objects.filter(id=disk_id).values_list("version", flat=True).first()


def disk_operations_attach(disks) -> list[Disk]:
    """Set each disk's `operation_in_flight` (and its host's) in two queries for the page."""
    disks = list(disks)
    in_flight = {
        op.disk_id: op
        for op in Operation.objects.in_flight().filter(disk_id__in=[d.id for d in disks])
    }
    host_ids = {d.host_id for d in disks if d.host_id}
    host_ops = {op.host_id: op for op in Operation.objects.in_flight().filter(host_id__in=host_ids)}
    for disk in disks:
        disk.operation_in_flight = in_flight.get(disk.id)
        if disk.host is not None:
            disk.host.operation_in_flight = host_ops.get(disk.host_id)
    return disks


# --- A disk's page --------------------------------------------------------------------------


@dataclass(frozen=True)
class AttachTarget:
    """A host a disk could be mounted on, and why not (empty: it can)."""

    host: Host
    refusal: str
    power_off_first: bool  # offered as "power off, then attach"


@dataclass(frozen=True)
class DiskPage:
    disk: Disk
    operations: list
    offered: tuple[str, ...]  # the disk actions to offer this member
    refusals: dict  # why each action that is not offered is not, by kind
    targets: list[AttachTarget] = field(default_factory=list)


def disk_get(*, disk_id: str) -> Disk | None:
    return Disk.objects.select_related("host").filter(id=disk_id).first()


def disk_page(*, disk_id: str, user) -> DiskPage | None:
    disk = disk_get(disk_id=disk_id)
    if disk is None:
        return None
    operations = list(Operation.objects.filter(disk_id=disk.id).order_by("-created_at", "-id")[:20])
    disk.operation_in_flight = next((op for op in operations if not op.is_final), None)
    if disk.host is not None:
        disk.host.operation_in_flight = disk.host.operations.in_flight().first()
    offered, refusals = [], {}
    for kind in (Kind.DISK_ATTACH, Kind.DISK_DETACH, Kind.DISK_DESTROY):
        why = permissions.refusal(user, kind, disk=disk)
        if not why and kind != Kind.DISK_ATTACH:
            why = disk_action_refusal(disk, kind)
        elif not why:
            why = _attach_state_refusal(disk)
        if why:
            refusals[kind] = why
        else:
            offered.append(kind)
    targets = _attach_targets(disk, user) if Kind.DISK_ATTACH in offered else []
    return DiskPage(
        disk=disk,
        operations=operations,
        offered=tuple(offered),
        refusals=refusals,
        targets=targets,
    )


def _attach_state_refusal(disk: Disk) -> str:
    if disk.is_gone or disk.operation_in_flight is not None or disk.status != DISK_UNMOUNTED:
        return disk_action_refusal(disk, Kind.DISK_ATTACH, host=None)
    return ""


def _attach_targets(disk: Disk, user) -> list[AttachTarget]:
    """The pay-as-you-go hosts of the disk's area the member may mount it on, each with why it
    cannot be now (a running host is offered "power off, then attach")."""
    hosts = Host.objects.present().filter(billing_type=BillingType.PAY_AS_YOU_GO)
    if disk.area is not None:
        hosts = hosts.filter(area=disk.area)
    hosts = list(hosts.order_by("name", "id")[:200])
    _host_operations_attach(hosts)
    targets = []
    for host in hosts:
        if not permissions.can_request(user, Kind.DISK_ATTACH, host, disk=disk):
            continue
        refusal, power_off_first = mount_offer(host, area=disk.area)
        targets.append(AttachTarget(host=host, refusal=refusal, power_off_first=power_off_first))
    return targets


def _host_operations_attach(hosts: list[Host]) -> None:
    in_flight = {
        op.host_id: op
        for op in Operation.objects.in_flight().filter(host_id__in=[h.id for h in hosts])
    }
    for host in hosts:
        host.operation_in_flight = in_flight.get(host.id)


# --- The Disks card of a host's page -----------------------------------------------------------


@dataclass(frozen=True)
class MountedDisk:
    disk: Disk
    may_detach: bool
    why_not: str


@dataclass(frozen=True)
class HostDisks:
    """What the host's page shows of its disks: those mounted (with detach, or why not), the
    disks that could be mounted on it, and why mounting is not offered when it is not."""

    mounted: list[MountedDisk]
    attachable: list[Disk]
    attach_refusal: str  # why no disk can be mounted now; empty when some can
    power_off_first: bool  # the host runs: attaching powers it off first
    may_create: bool  # the member may create a disk mounted on this host


def host_disks(*, host: Host, user) -> HostDisks:
    """The Disks card of `host` for `user` (its `operation_in_flight` already set). Two queries
    whatever the number of disks: the disks mounted on it and those waiting to be mounted
    anywhere, and the operations in flight on them."""
    disks = list(
        Disk.objects.present()
        .filter(Q(host=host) | Q(status=DISK_UNMOUNTED, host__isnull=True))
        .prefetch_related(
            Prefetch("operations", Operation.objects.in_flight(), to_attr="in_flight")
        )
        .order_by("name", "id")[:MAX_CARD_DISKS]
    )
    for disk in disks:
        disk.operation_in_flight = disk.in_flight[0] if disk.in_flight else None
    on_host = [disk for disk in disks if disk.host_id == host.id]
    mounted = []
    for disk in on_host:
        disk.host = host
        why = permissions.refusal(user, Kind.DISK_DETACH, host, disk=disk) or disk_action_refusal(
            disk, Kind.DISK_DETACH
        )
        mounted.append(MountedDisk(disk=disk, may_detach=not why, why_not=why))

    host_refusal, power_off_first = mount_offer(host, area=host.area, mounted=len(on_host))
    refusal = host_refusal
    waiting = [disk for disk in disks if disk.host_id is None]
    attachable: list[Disk] = []
    if not refusal:
        attachable = [
            disk
            for disk in waiting
            if disk.area == host.area
            and disk.operation_in_flight is None
            and permissions.can_request(user, Kind.DISK_ATTACH, host, disk=disk)
        ]
        if not attachable:
            refusal = _no_disk_here(host, waiting)
    # A new disk mounted at once needs the host as it is now (off): no "power off" first.
    may_create = permissions.can_create_disk(user) and not host_refusal and not power_off_first
    return HostDisks(
        mounted=mounted,
        attachable=attachable,
        attach_refusal=refusal,
        power_off_first=power_off_first,
        may_create=may_create,
    )


def _no_disk_here(host: Host, waiting: list[Disk]) -> str:
    """Why no disk is offered to mount on `host` although it could take one."""
    if any(disk.area != host.area for disk in waiting):
        return _(
            "The disks waiting to be mounted are in another area: a disk mounts only on a host "
            "of its own area."
        )
    return _("No disk of this host's area is waiting to be mounted (and yours to mount).")


def host_delete_disks(*, host: Host) -> list[Disk]:
    """The disks mounted on `host`, which its delete leaves behind: the provider keeps cloud
    disks when their host goes (they outlive it), unmounted and still billed."""
    return list(Disk.objects.present().filter(host=host).order_by("name", "id"))


def quotas() -> list[AreaQuota]:
    return area_quotas()
