"""Cloud disks (云硬盘) and personal images (个人镜像): the simulated provider's state and rules.

The docs' "Cloud disks" and "Personal images" sections (`shared/upstream-api.md`), rule by rule,
each refusal with its code. State sits behind the fleet's lock, and changes with the simulator's
clock as hosts do: a transition stores when it ends and is applied on the next read (or on every
`clock.advance`).

Disks:
- create: 1037 real name, 220013 below 20 GB, 6003 a wallet that does not cover an hour of the
  disk, 220014 the area's quota (`disk_area_quota_gb`), then, when `isMount` is 1, the mount
  rules below. A disk created mounted starts MOUNTING; else WAITING.
- mount (`pveCreate`): 220001 unknown disk, 220002 already on that host, then the host: 1021
  unknown, 220016 an expired rental (its instance is gone), 220017 not pay-as-you-go, 220009
  not off, 220012 never started since it was created, 220018 another area, 220010 30 disks
  already, 6003 the wallet. A disk in use on another host moves only if that host is off too
  (220009) and on the same node (220024). MOUNTING --mount_seconds--> IN_USE.
- `updateStatus` 0 (unmount): 220006 not mounted, 220007 while it is still MOUNTING, 220009 its
  host is not off. It answers `true` before anything is done: the disk still shows IN_USE for
  `unmount_seconds`, then WAITING, with `isMount` 0 and the last host still in `pveId` (as the
  docs' example shows).
- `updateStatus` 5 (destroy): 220022 unless WAITING. DESTROYING --destroy_seconds--> gone (then
  220001). A destroying disk still counts against the quota.
- arrears: while the wallet is at 0 or below, every disk not being destroyed is STOPPED_FOR_
  ARREARS (unmounted by the provider); once the wallet is above 0 again it is WAITING. One disk
  alone is stopped with `set_arrears(id, True)` (`POST /_sim/disk-arrears`), and paid with
  `set_arrears(id, False)`.
- `disk_calls_throttled`: the next N disk calls answer 220025 (timed out or too frequent).

Personal images:
- add: 200001 unknown or expired host, 200003 a name already used, 200002 `max_personal_images`
  reached. MAKING --image_make_seconds--> USABLE, or FAILED for the next
  `personal_image_failures` images.
- update: 200001 unknown id, 200003 a name another image uses. delete: 200001 unknown id.
- A USABLE image can be the `imageId` of a host create (its `imageId` or its `id`), of the type
  of the template its host was made from. The docs do not say the provider accepts this.

Where the docs are silent, this module chooses:
- a destroying disk cannot be mounted (1003 云硬盘销毁中); a disk stopped for arrears neither
  (6003); a mount during a pending unmount answers 1005 (请求处理中);
- unmounting a disk whose unmount is pending answers `true` again; unmounting while the host
  is gone is allowed;
- deleting a host unmounts its disks (WAITING, kept): disks outlive their host;
- a host's node is `host_nodes[id]` when set, else one of two per area, from its id;
- a `status` other than 0 or 5 answers 1003 (状态错误); an area outside 0..2 answers 1003.
"""

from __future__ import annotations

import string
import uuid as uuid_module
import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from random import Random
from typing import TYPE_CHECKING, Any

from vmclient.types import (
    MAX_DISKS_PER_HOST,
    MIN_DISK_GB,
    BillingType,
    DiskStatus,
    HostStatus,
    PersonalImageStatus,
)

from . import codes
from .codes import ApiError

if TYPE_CHECKING:
    from .fleet import Fleet, SimHost

# A personal image's `datacenterKey` by area (the docs' example says "HZ").
DATACENTER_KEYS = {0: "HZ", 1: "CD", 2: "HK"}
_MOUNTED = (DiskStatus.MOUNTING, DiskStatus.IN_USE)


@dataclass(eq=False)
class SimDisk:
    """A cloud disk, fields named after the wire's camelCase; times in epoch milliseconds."""

    id: str
    uuid: str
    name: str
    area: int
    memory: int  # GB
    amount: Decimal  # per hour
    status: DiskStatus
    create_time: int
    pve_id: str | None = None  # the host now, or the last one (kept after an unmount)
    is_mount: int = 0
    bus: str | None = None
    use_type: int = 0  # pay-as-you-go: the only way disks are billed
    transition_at: int | None = None  # when MOUNTING or DESTROYING ends
    unmount_at: int | None = None  # an accepted unmount: still IN_USE until then
    in_arrears: bool = False  # stopped for arrears whatever the wallet holds, until paid

    @property
    def on_host(self) -> bool:
        return self.status in _MOUNTED and self.is_mount == 1


@dataclass(eq=False)
class SimPersonalImage:
    id: int  # the one later calls use; a JSON number on the wire
    image_id: str
    image_type: str  # a system name ("Windows"), as the docs' example
    image_name: str
    image_size: int  # GB: its host's disk
    datacenter_key: str
    status: PersonalImageStatus
    create_time: int
    template_type: str  # not on the wire: the template type of its host (for creates)
    system_version: str = ""
    ready_at: int | None = None  # when MAKING ends
    fails: bool = False  # MAKING ends FAILED


class Storage:
    """The disks and personal images of the simulated account."""

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet
        self.disks: dict[str, SimDisk] = {}
        self.images: dict[int, SimPersonalImage] = {}
        self.host_nodes: dict[str, str] = {}  # a host's node, when a test sets one
        self._next_image_id = 1001
        self._disk_number = 0
        # Its own generator, so disks and images leave the fleet's seeded hosts as they were.
        self.rng = Random("xds-storage")

    @property
    def config(self):
        return self.fleet.config

    def _now(self) -> int:
        return self.fleet.clock.now_ms()

    # --- time ----------------------------------------------------------------------------------

    def settle_all(self, now: int | None = None) -> None:
        now = self._now() if now is None else now
        with self.fleet.lock:
            for disk in list(self.disks.values()):
                self._settle_disk(disk, now)
            for image in self.images.values():
                self._settle_image(image, now)

    def _settle_disk(self, disk: SimDisk, now: int) -> None:
        if disk.status is DiskStatus.MOUNTING and (disk.transition_at or 0) <= now:
            disk.status, disk.transition_at = DiskStatus.IN_USE, None
        if disk.unmount_at is not None and disk.unmount_at <= now:
            disk.status, disk.is_mount, disk.unmount_at = DiskStatus.WAITING, 0, None
        if disk.status is DiskStatus.DESTROYING and (disk.transition_at or 0) <= now:
            self.disks.pop(disk.id, None)
            return
        in_arrears = disk.in_arrears or self.config.wallet_balance <= 0
        if in_arrears and disk.status is not DiskStatus.DESTROYING:
            disk.status, disk.is_mount = DiskStatus.STOPPED_FOR_ARREARS, 0
            disk.transition_at = disk.unmount_at = None
        elif not in_arrears and disk.status is DiskStatus.STOPPED_FOR_ARREARS:
            disk.status = DiskStatus.WAITING  # paid: back to waiting to be mounted

    def _settle_image(self, image: SimPersonalImage, now: int) -> None:
        if image.status is PersonalImageStatus.MAKING and (image.ready_at or 0) <= now:
            image.status = PersonalImageStatus.FAILED if image.fails else PersonalImageStatus.USABLE
            image.ready_at = None

    # --- disks: reading ------------------------------------------------------------------------

    def throttle(self) -> None:
        """220025 for the next `disk_calls_throttled` disk calls."""
        if self.config.disk_calls_throttled > 0:
            self.config.disk_calls_throttled -= 1
            raise ApiError(codes.DISK_TIMED_OUT_OR_TOO_FREQUENT)

    def get_disk(self, disk_id: str) -> SimDisk:
        with self.fleet.lock:
            disk = self.disks.get(disk_id)
            if disk is not None:
                self._settle_disk(disk, self._now())
            disk = self.disks.get(disk_id)
            if disk is None:
                raise ApiError(codes.DISK_NOT_FOUND)
            return disk

    def page(self, page: int, page_size: int, filters: dict[str, Any]) -> tuple[list[SimDisk], int]:
        """One page, newest first, of the disks matching `filters` (wire names: `pveId`, `area`,
        `useType`, `status`). `pveId` matches the field as stored: the last host too."""
        size = min(page_size, self.config.max_disk_page_size)
        with self.fleet.lock:
            self.settle_all()
            chosen = [
                d
                for d in sorted(self.disks.values(), key=lambda d: (-d.create_time, d.id))
                if _matches(d, filters)
            ]
            start = (page - 1) * size
            return chosen[start : start + size], len(chosen)

    def usage(self, area: int) -> int:
        """GB the account holds in `area`, destroying disks included (not yet refunded)."""
        with self.fleet.lock:
            self.settle_all()
            return sum(d.memory for d in self.disks.values() if d.area == area)

    def disks_on(self, host_id: str) -> list[SimDisk]:
        return [d for d in self.disks.values() if d.pve_id == host_id and d.on_host]

    def node_of(self, host: SimHost) -> str:
        node = self.host_nodes.get(host.id)
        return node or f"node-{host.area}-{zlib.crc32(host.id.encode()) % 2}"

    # --- disks: changes ------------------------------------------------------------------------

    def price_for(self, memory: int) -> Decimal:
        return (self.config.disk_price_per_gb_hour * memory).quantize(Decimal("0.01"))

    def create(self, area: int, memory: int, host_id: str | None) -> SimDisk:
        config = self.config
        with self.fleet.lock:
            now = self._now()
            if not config.real_name_verified:
                raise ApiError(codes.REAL_NAME_REQUIRED)
            if memory < MIN_DISK_GB:
                raise ApiError(codes.DISK_TOO_SMALL)
            price = self.price_for(memory)
            if config.wallet_balance < price:
                raise ApiError(codes.POWER_ON_BALANCE_TOO_LOW)
            if self.usage(area) + memory > config.disk_area_quota_gb:
                raise ApiError(codes.DISK_QUOTA_EXCEEDED)
            host = None
            if host_id is not None:
                host = self._host_for_mount(host_id, area)
            disk = self.add_disk(area=area, memory=memory, create_time=now)
            if host is not None:
                self._start_mount(disk, host, now)
            return disk

    def add_disk(self, **overrides: Any) -> SimDisk:
        """Put a disk in the account directly (for tests and the seed): WAITING, 100 GB in area
        0 unless told otherwise; `pve_id` with a mounted status mounts it there (`is_mount` 1)."""
        with self.fleet.lock:
            self._disk_number += 1
            memory = overrides.pop("memory", 100)
            disk = SimDisk(
                id=self._new_disk_id(),
                uuid=str(uuid_module.UUID(int=self.rng.getrandbits(128), version=4)),
                name=overrides.pop("name", f"数据盘-{self._disk_number:03d}"),
                area=overrides.pop("area", 0),
                memory=memory,
                amount=Decimal(str(overrides.pop("amount", self.price_for(memory)))),
                status=DiskStatus(overrides.pop("status", DiskStatus.WAITING)),
                create_time=overrides.pop("create_time", self._now()),
            )
            for key, value in overrides.items():
                if not hasattr(disk, key):
                    raise TypeError(f"unknown SimDisk field {key!r}")
                setattr(disk, key, value)
            disk.status = DiskStatus(disk.status)
            if disk.status in _MOUNTED and disk.pve_id is not None and "is_mount" not in overrides:
                disk.is_mount = 1
                disk.bus = disk.bus or f"scsi{len(self.disks_on(disk.pve_id)) + 1}"
            if disk.status in (DiskStatus.MOUNTING, DiskStatus.DESTROYING):
                seconds = (
                    self.config.mount_seconds
                    if disk.status is DiskStatus.MOUNTING
                    else self.config.destroy_seconds
                )
                disk.transition_at = disk.transition_at or self._now() + int(seconds * 1000)
            self.disks[disk.id] = disk
            return disk

    def _new_disk_id(self) -> str:
        letters = string.ascii_letters
        while True:
            disk_id = "".join(self.rng.choice(letters) for _ in range(10))
            if disk_id not in self.disks and disk_id not in self.fleet.hosts:
                return disk_id

    def _host_for_mount(self, host_id: str, area: int) -> SimHost:
        """The host a disk of `area` may be mounted on, or the code that says why not."""
        fleet = self.fleet
        if host_id in fleet.foreign_host_ids:
            raise ApiError(codes.NO_PERMISSION)
        host = fleet.hosts.get(host_id)
        if host is None:
            raise ApiError(codes.HOST_DOES_NOT_EXIST)
        fleet.settle_host(host)
        if host.status is HostStatus.EXPIRED:
            raise ApiError(codes.HOST_INSTANCE_MISSING)
        if host.use_type != BillingType.PAY_AS_YOU_GO:
            raise ApiError(codes.HOST_NOT_PAY_AS_YOU_GO)
        if host.status is not HostStatus.OFF:
            raise ApiError(codes.HOST_NOT_OFF)
        if not host.has_run:
            raise ApiError(codes.HOST_NEVER_STARTED)
        if host.area != area:
            raise ApiError(codes.DISK_AREA_MISMATCH)
        if len(self.disks_on(host.id)) >= MAX_DISKS_PER_HOST:
            raise ApiError(codes.HOST_DISK_LIMIT)
        return host

    def _start_mount(self, disk: SimDisk, host: SimHost, now: int) -> None:
        disk.bus = f"scsi{len(self.disks_on(host.id)) + 1}"
        disk.status, disk.pve_id, disk.is_mount = DiskStatus.MOUNTING, host.id, 1
        disk.transition_at = now + int(self.config.mount_seconds * 1000)

    def mount(self, disk_id: str, host_id: str) -> None:
        config = self.config
        with self.fleet.lock:
            now = self._now()
            if not config.real_name_verified:
                raise ApiError(codes.REAL_NAME_REQUIRED)
            disk = self.get_disk(disk_id)
            if disk.status is DiskStatus.DESTROYING:
                raise ApiError(codes.BUSINESS_ERROR, "云硬盘销毁中")
            if disk.status is DiskStatus.STOPPED_FOR_ARREARS:
                raise ApiError(codes.POWER_ON_BALANCE_TOO_LOW)
            if disk.unmount_at is not None:
                raise ApiError(codes.PROCESSING)
            if disk.on_host and (disk.pve_id == host_id or disk.status is DiskStatus.MOUNTING):
                raise ApiError(codes.DISK_ALREADY_MOUNTED)
            host = self._host_for_mount(host_id, disk.area)
            if disk.on_host:  # a move: the disk's host must be off too, on the same node
                current = self.fleet.hosts.get(disk.pve_id or "")
                if current is not None:
                    self.fleet.settle_host(current)
                    if current.status is not HostStatus.OFF:
                        raise ApiError(codes.HOST_NOT_OFF)
                    if self.node_of(current) != self.node_of(host):
                        raise ApiError(codes.HOSTS_ON_DIFFERENT_NODES)
            if config.wallet_balance < disk.amount:
                raise ApiError(codes.POWER_ON_BALANCE_TOO_LOW)
            self._start_mount(disk, host, now)

    def unmount(self, disk_id: str) -> None:
        with self.fleet.lock:
            disk = self.get_disk(disk_id)
            if disk.unmount_at is not None:
                return  # already accepted: still in use until it is done
            if disk.status is DiskStatus.MOUNTING:
                raise ApiError(codes.DISK_UNMOUNT_FAILED)
            if not disk.on_host:
                raise ApiError(codes.DISK_ALREADY_UNMOUNTED)
            host = self.fleet.hosts.get(disk.pve_id or "")
            if host is not None:
                self.fleet.settle_host(host)
                if host.status is not HostStatus.OFF:
                    raise ApiError(codes.HOST_NOT_OFF)
            disk.unmount_at = self._now() + int(self.config.unmount_seconds * 1000)

    def destroy(self, disk_id: str) -> None:
        with self.fleet.lock:
            disk = self.get_disk(disk_id)
            if disk.status is not DiskStatus.WAITING:
                raise ApiError(codes.DISK_NOT_UNMOUNTED)
            disk.status = DiskStatus.DESTROYING
            disk.transition_at = self._now() + int(self.config.destroy_seconds * 1000)

    def set_arrears(self, disk_id: str, in_arrears: bool) -> SimDisk:
        """Stop one disk for arrears (the provider unmounts it), or pay it (back to WAITING)."""
        with self.fleet.lock:
            disk = self.get_disk(disk_id)
            disk.in_arrears = bool(in_arrears)
            self._settle_disk(disk, self._now())
            return disk

    def release_host(self, host_id: str) -> None:
        """A host is deleted: its disks are unmounted and kept (they outlive it)."""
        with self.fleet.lock:
            for disk in self.disks_on(host_id):
                disk.status, disk.is_mount = DiskStatus.WAITING, 0
                disk.transition_at = disk.unmount_at = None

    # --- personal images -----------------------------------------------------------------------

    def _image(self, image_id: Any) -> SimPersonalImage:
        number = _image_number(image_id)
        image = self.images.get(number) if number is not None else None
        if image is None:
            raise ApiError(codes.ILLEGAL_REQUEST)
        self._settle_image(image, self._now())
        return image

    def _name_taken(self, name: str, other_than: SimPersonalImage | None = None) -> bool:
        return any(i.image_name == name and i is not other_than for i in self.images.values())

    def add_image(self, machine_id: str, name: str) -> SimPersonalImage:
        config = self.config
        with self.fleet.lock:
            host = self.fleet.hosts.get(machine_id)
            if host is None or machine_id in self.fleet.foreign_host_ids:
                raise ApiError(codes.ILLEGAL_REQUEST)
            self.fleet.settle_host(host)
            if host.status is HostStatus.EXPIRED:
                raise ApiError(codes.ILLEGAL_REQUEST)
            if self._name_taken(name):
                raise ApiError(codes.IMAGE_NAME_TAKEN)
            if len(self.images) >= config.max_personal_images:
                raise ApiError(codes.TOO_MANY_IMAGES)
            fails = config.personal_image_failures > 0
            if fails:
                config.personal_image_failures -= 1
            now = self._now()
            return self.put_image(
                host,
                name,
                status=PersonalImageStatus.MAKING,
                create_time=now,
                ready_at=now + int(config.image_make_seconds * 1000),
                fails=fails,
            )

    def put_image(
        self, host: SimHost, name: str, *, status: PersonalImageStatus, create_time: int, **extra
    ) -> SimPersonalImage:
        """A personal image of `host` in the account (the seed uses it directly)."""
        package = self.fleet.package(host.package_id) if host.package_id else None
        image = SimPersonalImage(
            id=self._next_image_id,
            image_id="PI" + "".join(self.rng.choice(string.ascii_letters) for _ in range(8)),
            image_type=host.operating_system,
            image_name=name,
            image_size=host.rigid_disk,
            datacenter_key=DATACENTER_KEYS.get(host.area, "HZ"),
            status=status,
            create_time=create_time,
            template_type=package.type if package else "BZ",
            system_version=f"{name} ({host.operating_system})",
            **extra,
        )
        self._next_image_id += 1
        self.images[image.id] = image
        return image

    def rename_image(self, image_id: Any, name: str) -> None:
        with self.fleet.lock:
            image = self._image(image_id)
            if self._name_taken(name, other_than=image):
                raise ApiError(codes.IMAGE_NAME_TAKEN)
            image.image_name = name

    def delete_image(self, image_id: Any) -> None:
        with self.fleet.lock:
            del self.images[self._image(image_id).id]

    def image_page(
        self, page: int, page_size: int, filters: dict[str, str]
    ) -> tuple[list[SimPersonalImage], int]:
        """Newest first; `imageName` matches a part of the name, the other filters all of it."""
        size = min(page_size, self.config.max_disk_page_size)
        with self.fleet.lock:
            self.settle_all()
            chosen = [
                i
                for i in sorted(self.images.values(), key=lambda i: -i.id)
                if _image_matches(i, filters)
            ]
            start = (page - 1) * size
            return chosen[start : start + size], len(chosen)

    def image_for_create(self, image_id: str) -> SimPersonalImage | None:
        """The personal image a host create names (by `imageId` or `id`), if any; 1003 unless
        it is usable."""
        with self.fleet.lock:
            number = _image_number(image_id)
            found = next(
                (i for i in self.images.values() if image_id == i.image_id or number == i.id),
                None,
            )
            if found is None:
                return None
            self._settle_image(found, self._now())
            if found.status is not PersonalImageStatus.USABLE:
                raise ApiError(codes.BUSINESS_ERROR, "镜像不可用")
            return found

    # --- the state's summary -------------------------------------------------------------------

    def counts(self) -> dict[str, dict[str, int]]:
        self.settle_all()
        with self.fleet.lock:
            disks = Counter(d.status for d in self.disks.values())
            images = Counter(i.status for i in self.images.values())
        return {
            "disks": {s.name: disks.get(s, 0) for s in DiskStatus},
            "personal_images": {s.name: images.get(s, 0) for s in PersonalImageStatus},
        }


def _image_number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _matches(disk: SimDisk, filters: dict[str, Any]) -> bool:
    wanted = {
        "pveId": disk.pve_id,
        "area": disk.area,
        "useType": disk.use_type,
        "status": int(disk.status),
    }
    return all(wanted[name] == value for name, value in filters.items())


def _image_matches(image: SimPersonalImage, filters: dict[str, str]) -> bool:
    if "imageName" in filters and filters["imageName"] not in image.image_name:
        return False
    exact = {
        "imageType": image.image_type,
        "datacenterKey": image.datacenter_key,
        "status": str(int(image.status)),
    }
    return all(exact[name] == filters[name] for name in exact if name in filters)


def seed(storage: Storage, hosts: Iterable[SimHost], rng_seed: int) -> None:
    """Disks on some pay-as-you-go hosts, a few waiting ones, and a few personal images, the
    same for the same hosts and `rng_seed`.

    Each area is filled to at most 60% of its quota, so a demo can still buy disks."""
    storage.rng.seed(f"xds-storage-{rng_seed}")
    rng = storage.rng
    config = storage.config
    now = storage._now()
    budget = {area: config.disk_area_quota_gb * 6 // 10 for area in DATACENTER_KEYS}
    pay_as_you_go = [
        h
        for h in hosts
        if h.use_type == BillingType.PAY_AS_YOU_GO and h.status is not HostStatus.EXPIRED
    ]
    pay_as_you_go.sort(key=lambda h: h.id)

    def take(area: int) -> int | None:
        size = rng.choice((20, 40, 50, 100, 100, 200))
        if budget.get(area, 0) < size:
            return None
        budget[area] -= size
        return size

    # About one host in seven carries disks; a small demo fleet at least three.
    eligible = [h for h in pay_as_you_go if h.has_run]
    carriers = rng.sample(eligible, min(len(eligible), max(3, len(eligible) // 7)))
    for host in sorted(carriers, key=lambda h: h.id):
        for _ in range(rng.choice((1, 1, 2))):
            size = take(host.area)
            if size is None:
                break
            created = max(host.create_time, now - rng.randrange(3_600_000, 60 * 86_400_000))
            storage.add_disk(
                area=host.area,
                memory=size,
                status=DiskStatus.IN_USE,
                pve_id=host.id,
                create_time=created,
            )
    for index in range(max(1, len(pay_as_you_go) // 40)):
        area = index % 3
        size = take(area)
        if size is None:
            continue
        last = next((h for h in pay_as_you_go if h.area == area), None)
        storage.add_disk(
            area=area,
            memory=size,
            # Unmounted after use: the provider still names the last host.
            pve_id=last.id if last is not None and index % 2 == 0 else None,
            create_time=now - rng.randrange(3_600_000, 30 * 86_400_000),
        )
    sources = [h for h in pay_as_you_go if h.has_run][:4]
    kinds = (
        PersonalImageStatus.USABLE,
        PersonalImageStatus.USABLE,
        PersonalImageStatus.FAILED,
        PersonalImageStatus.EXPIRED,
    )
    for number, (host, status) in enumerate(zip(sources, kinds, strict=False), start=1):
        storage.put_image(
            host,
            f"{host.name}-镜像-{number}",
            status=status,
            create_time=now - rng.randrange(86_400_000, 90 * 86_400_000),
        )
