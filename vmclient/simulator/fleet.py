"""The simulated provider's state and every rule that is not HTTP.

One account (its tokens; its wallet and switches live in the config), a catalog of templates and
images, and the hosts with their status machine. All state sits behind `Fleet.lock`; callers that
serialise a host hold the lock while they do.

Statuses are computed lazily: a host stores its status and, while that status is transient, the
simulated time at which it ends (`transition_at`). Reading a host applies every transition due
by now, in time order, so `clock.advance(31)` makes a booting host running on its next read and
no background thread is needed. The fleet also settles everything on each `clock.advance`, so a
test can look at `fleet.hosts[...]` directly.

The status machine (durations from the config when the change starts or continues):
- created: BOOTING --boot_seconds--> RUNNING (address and port are assigned on the first boot,
  so a fresh host shows `address: ""` and `port: 0`, as the reference warns they may)
- power on:  OFF -> BOOTING --boot_seconds--> RUNNING
- power off: RUNNING -> SHUTTING_DOWN --shutdown_seconds--> OFF (rental) or, for pay-as-you-go,
  --> CHARGING (扣费中, the bill is settled) --charging_seconds--> OFF
- reboot:    RUNNING -> BOOTING --reboot_seconds--> RUNNING
- a rental host whose expirationTime passes becomes EXPIRED, whatever it was doing; EXPIRED is
  final (the open API has no renewal).

Where the reference is silent, this module chooses:
- Power on while CHARGING answers 6001 (关机中): the host has not finished stopping. Power off
  while CHARGING or OFF is an accepted no-op; power on while RUNNING too.
- Power on or off of an EXPIRED host answers 1003 with msg 主机已到期.
- Power off needs no real-name verification (stopping must always be possible); power on and
  creates do (1037).
- Pay-as-you-go use is not billed by the simulator: the wallet only pays rental creates. An empty
  wallet refuses powering on a pay-as-you-go host (6003) but not creating one (the reference lists
  no wallet code for `createquantity`).
- Create checks run in this order: 1037, 1005 (duplicate guard, off by default), 6005, 1003
  (unknown template or image, template not sold for the billing type, hour period refused),
  7005, 6002, then for rentals 9000 and 9001. A refused create changes nothing, not even the
  6005 countdown (only a 6005 answer consumes it).
- Host ids in `foreign_host_ids` belong to another account: any call on them answers 1001.
- Delete refuses (data false) a host that is BOOTING or SHUTTING_DOWN; it deletes anything else,
  including an EXPIRED host. Deleting an unknown id answers data false, not an error. A deleted
  host's disks are unmounted and kept (`storage`: disks outlive their host).
- A usable personal image can be a create's image (`storage.Storage.image_for_create`).
"""

from __future__ import annotations

import hmac
import secrets
import string
import threading
from collections import Counter
from dataclasses import dataclass, fields
from decimal import Decimal
from random import Random
from typing import Any

from vmclient.types import HostStatus, PeriodType

from . import codes
from .clock import Clock
from .codes import ApiError
from .config import SimulatorConfig
from .storage import Storage

PAY_AS_YOU_GO = 0
RENTAL = 1

TRANSIENT = frozenset({HostStatus.BOOTING, HostStatus.SHUTTING_DOWN, HostStatus.CHARGING})

# Gateways per data centre (area 0 South China, 1 West China, 2 international). `.test` is a
# reserved top-level domain, so nothing here can resolve to a real machine.
_AREA_GATEWAYS = {0: "gz", 1: "cd", 2: "hk"}


@dataclass(eq=False)
class SimPackage:
    """A host template, fields named after the wire's camelCase."""

    package_id: str
    name: str
    gpu_number: int | None  # None: the field is left out (the original example has none)
    gpu_name: str | None
    memory_number: int
    rigid_disk_number: int
    cpu_number: int
    band_width: int
    amount: Decimal  # per hour, before the discount
    discount: Decimal
    type: str
    pve_machine_type: int
    area: int
    use_type: int  # 0 pay-as-you-go only, 1 rental only, 2 both

    def allows(self, billing: int) -> bool:
        return self.use_type == 2 or self.use_type == billing

    def rental_price(self, period_type: int, period_number: int) -> Decimal:
        """amount x discount x hours, as the provider charges up front."""
        hours = PeriodType(period_type).hours * period_number
        return (self.amount * self.discount * hours).quantize(Decimal("0.01"))


@dataclass(eq=False)
class SimImage:
    image_id: str
    type: str
    system_image_name: str
    system_image_version: str

    @property
    def is_windows(self) -> bool:
        return self.system_image_name.lower().startswith("windows")


@dataclass(eq=False)
class SimHost:
    """A host, fields named after the wire's camelCase; times in epoch milliseconds."""

    id: str
    name: str
    gpu_configuration: str  # "-" without a GPU
    gpu_number: int | None
    memory: int
    cpu: int
    rigid_disk: int
    operating_system: str
    host_account: str | None
    host_pw: str | None
    address: str | None
    port: int | None
    mac: str | None
    ipv4: str | None
    pve_machine_type: int
    use_type: int  # 0 pay-as-you-go, 1 rental
    area: int
    create_time: int
    expiration_time: int | None
    status: HostStatus
    has_run: bool = True  # reached RUNNING at least once since creation (reboot needs it)
    transition_at: int | None = None  # when the current transient status ends
    package_id: str | None = None  # not on the wire; handy in tests

    @property
    def is_windows(self) -> bool:
        return self.operating_system.lower().startswith("windows")


_HOST_FIELDS = frozenset(f.name for f in fields(SimHost))


class _HostTable(dict):
    """The hosts by id; counts its changes so the sorted listing can be cached."""

    version = 0

    def _changed(self) -> None:
        self.version += 1

    def __setitem__(self, key, value):
        super().__setitem__(key, value)
        self._changed()

    def __delitem__(self, key):
        super().__delitem__(key)
        self._changed()

    def pop(self, *args):
        self._changed()
        return super().pop(*args)

    def clear(self):
        self._changed()
        super().clear()

    def update(self, *args, **kwargs):
        self._changed()
        super().update(*args, **kwargs)

    def setdefault(self, key, default=None):
        self._changed()
        return super().setdefault(key, default)

    def popitem(self):
        self._changed()
        return super().popitem()


class Fleet:
    def __init__(self, config: SimulatorConfig, clock: Clock, rng: Random) -> None:
        self.config = config
        self.clock = clock
        self.rng = rng
        self.lock = threading.RLock()
        self.packages: list[SimPackage] = []
        self.images: list[SimImage] = []
        self.hosts: _HostTable = _HostTable()
        self.foreign_host_ids: set[str] = set()
        self._tokens: dict[str, int] = {}  # token -> expiry (epoch ms)
        self._order: list[str] = []
        self._order_version = -1
        self._recent_creates: dict[tuple, int] = {}  # for the duplicate-create guard
        self._name_counters: Counter[str] = Counter()
        self.storage = Storage(self)  # cloud disks and personal images
        clock.on_advance(self.settle_all)

    # --- account -------------------------------------------------------------------------------

    def issue_token(self, uuid: str, secret: str) -> tuple[str, int]:
        """A new token and its lifetime in ms; 401 for a wrong account or secret."""
        right_uuid = hmac.compare_digest(uuid.encode(), self.config.uuid.encode())
        right_secret = hmac.compare_digest(secret.encode(), self.config.secret.encode())
        if not (right_uuid and right_secret):
            raise ApiError(codes.UNAUTHENTICATED)
        now = self.clock.now_ms()
        with self.lock:
            # Earlier tokens stay valid until they expire, as each caller keeps its own.
            self._tokens = {t: exp for t, exp in self._tokens.items() if exp > now}
            token = secrets.token_urlsafe(16)
            lifetime = int(self.config.token_lifetime_ms)
            self._tokens[token] = now + lifetime
        return token, lifetime

    def check_token(self, token: str | None) -> None:
        if not token:
            raise ApiError(codes.UNAUTHENTICATED)
        with self.lock:
            expiry = self._tokens.get(token)
        if expiry is None or expiry <= self.clock.now_ms():
            raise ApiError(codes.UNAUTHENTICATED)

    def expire_tokens(self) -> None:
        with self.lock:
            self._tokens.clear()

    def live_token_count(self) -> int:
        now = self.clock.now_ms()
        with self.lock:
            return sum(1 for exp in self._tokens.values() if exp > now)

    # --- catalog -------------------------------------------------------------------------------

    def packages_for(self, billing: int) -> list[SimPackage]:
        """The templates listed under `packAge/{billing}`: those sold for that billing type."""
        return [p for p in self.packages if p.allows(billing)]

    def package(self, package_id: str) -> SimPackage | None:
        return next((p for p in self.packages if p.package_id == package_id), None)

    def image(self, image_id: str) -> SimImage | None:
        return next((i for i in self.images if i.image_id == image_id), None)

    def images_for(self, package: SimPackage) -> list[SimImage]:
        return [i for i in self.images if i.type == package.type]

    # --- building hosts ------------------------------------------------------------------------

    def new_host_id(self) -> str:
        """Ten random letters, like the provider's ids ("dyMFQQgHIW")."""
        letters = string.ascii_letters
        while True:
            host_id = "".join(self.rng.choice(letters) for _ in range(10))
            if host_id not in self.hosts and host_id not in self.foreign_host_ids:
                return host_id

    def new_password(self) -> str:
        alphabet = string.ascii_letters + string.digits
        core = "".join(self.rng.choice(alphabet) for _ in range(11))
        return core + self.rng.choice("@#%&!")

    def new_mac(self) -> str:
        # 52:54:00 is the QEMU/KVM prefix Proxmox guests carry.
        return "52:54:00:" + ":".join(f"{self.rng.randrange(256):02x}" for _ in range(3))

    def assign_connection(self, host: SimHost) -> None:
        """Where to connect: RDP for Windows, SSH otherwise, through the area's gateway."""
        gateway = _AREA_GATEWAYS.get(host.area, "gz")
        if host.is_windows:
            host.address = f"rdp-{gateway}.xds-sim.test"
            host.port = 33890 + self.rng.randrange(2_000)
        else:
            host.address = f"ssh-{gateway}.xds-sim.test"
            host.port = 22000 + self.rng.randrange(10_000)
        host.ipv4 = f"172.{16 + host.area}.{self.rng.randrange(256)}.{self.rng.randrange(2, 255)}"

    def host_name_for(self, package: SimPackage) -> str:
        self._name_counters[package.name] += 1
        return f"{package.name}-{self._name_counters[package.name]:02d}"

    def build_host(
        self,
        package: SimPackage,
        image: SimImage,
        *,
        use_type: int,
        create_time: int,
        status: HostStatus,
        name: str | None = None,
    ) -> SimHost:
        """A host with the template's specs and the image's OS (not yet in the fleet)."""
        has_gpu = bool(package.gpu_number)
        return SimHost(
            id=self.new_host_id(),
            name=name or self.host_name_for(package),
            gpu_configuration=package.gpu_name if has_gpu and package.gpu_name else "-",
            gpu_number=package.gpu_number if has_gpu else 0,
            memory=package.memory_number,
            cpu=package.cpu_number,
            rigid_disk=package.rigid_disk_number,
            operating_system=(
                image.system_image_name.split()[0]
                if self.config.host_os_first_word and image.system_image_name.strip()
                else image.system_image_name
            ),
            host_account="administrator" if image.is_windows else "root",
            host_pw=self.new_password(),
            address="",
            port=0,
            mac=self.new_mac(),
            ipv4=None,
            pve_machine_type=package.pve_machine_type,
            use_type=use_type,
            area=package.area,
            create_time=create_time,
            expiration_time=None,
            status=status,
            package_id=package.package_id,
        )

    def add_host(self, **overrides: Any) -> SimHost:
        """Put a host in the fleet directly (for tests); RUNNING pay-as-you-go unless overridden.

        `package_id` / `image_id` pick the template and image; every other keyword is a `SimHost`
        field. A transient status without `transition_at` ends after the config's duration; a
        rental (`use_type=1`) without `expiration_time` expires in 30 days; an EXPIRED host is a
        rental that expired just now.
        """
        unknown = set(overrides) - _HOST_FIELDS - {"image_id"}
        if unknown:
            raise TypeError(f"unknown SimHost fields: {sorted(unknown)}")
        with self.lock:
            now = self.clock.now_ms()
            package = self._pick_package(overrides.pop("package_id", None))
            image = self._pick_image(package, overrides.pop("image_id", None))
            status = HostStatus(overrides.pop("status", HostStatus.RUNNING))
            # Only rentals expire, so an expired host is a rental unless told otherwise.
            default_use = RENTAL if status is HostStatus.EXPIRED else PAY_AS_YOU_GO
            host = self.build_host(
                package,
                image,
                use_type=overrides.get("use_type", default_use),
                create_time=now,
                status=status,
            )
            self.assign_connection(host)
            if host.use_type == RENTAL:
                host.expiration_time = now + 30 * 86_400_000
            if status is HostStatus.EXPIRED:
                host.expiration_time = now
            if status in TRANSIENT:
                host.transition_at = now + self._duration_ms(status)
            for key, value in overrides.items():
                setattr(host, key, value)
            host.status = HostStatus(host.status)
            self.hosts[host.id] = host
            return host

    def _pick_package(self, package_id: str | None) -> SimPackage:
        if package_id is None:
            return self.rng.choice(self.packages)
        package = self.package(package_id)
        if package is None:
            raise ValueError(f"no template {package_id!r}")
        return package

    def _pick_image(self, package: SimPackage, image_id: str | None) -> SimImage:
        if image_id is None:
            return self.rng.choice(self.images_for(package) or self.images)
        image = self.image(image_id)
        if image is None:
            raise ValueError(f"no image {image_id!r}")
        return image

    # --- status machine ------------------------------------------------------------------------

    def _duration_ms(self, status: HostStatus, *, reboot: bool = False) -> int:
        seconds = {
            HostStatus.BOOTING: self.config.reboot_seconds if reboot else self.config.boot_seconds,
            HostStatus.SHUTTING_DOWN: self.config.shutdown_seconds,
            HostStatus.CHARGING: self.config.charging_seconds,
        }[status]
        return int(seconds * 1000)

    def _settle(self, host: SimHost, now: int) -> None:
        """Apply every transition due by `now`, oldest first."""
        while host.status is not HostStatus.EXPIRED:
            due = host.transition_at if host.status in TRANSIENT else None
            expiry = host.expiration_time
            if expiry is not None and expiry <= now and (due is None or expiry <= due):
                host.status = HostStatus.EXPIRED
                host.transition_at = None
                return
            if due is None or due > now:
                return
            if host.status is HostStatus.BOOTING:
                host.status = HostStatus.RUNNING
                host.transition_at = None
                if not host.has_run and not host.address:
                    self.assign_connection(host)
                host.has_run = True
            elif host.status is HostStatus.SHUTTING_DOWN and host.use_type == PAY_AS_YOU_GO:
                host.status = HostStatus.CHARGING
                host.transition_at = due + self._duration_ms(HostStatus.CHARGING)
            else:  # SHUTTING_DOWN of a rental, or CHARGING
                host.status = HostStatus.OFF
                host.transition_at = None

    def settle_all(self) -> None:
        now = self.clock.now_ms()
        with self.lock:
            for host in self.hosts.values():
                self._settle(host, now)
            self.storage.settle_all(now)

    def settle_host(self, host: SimHost) -> None:
        """Apply every transition of `host` due by now."""
        with self.lock:
            self._settle(host, self.clock.now_ms())

    def _start(self, host: SimHost, status: HostStatus, now: int, *, reboot: bool = False) -> None:
        host.status = status
        host.transition_at = now + self._duration_ms(status, reboot=reboot)

    # --- the API's operations ------------------------------------------------------------------

    def get_host(self, host_id: str) -> SimHost:
        """The host, settled; 1001 for another account's host, 1003 for an unknown id."""
        with self.lock:
            if host_id in self.foreign_host_ids:
                raise ApiError(codes.NO_PERMISSION)
            host = self.hosts.get(host_id)
            if host is None:
                raise ApiError(codes.BUSINESS_ERROR, "主机不存在")
            self._settle(host, self.clock.now_ms())
            return host

    def create_host(
        self,
        package_id: str,
        image_id: str,
        *,
        period_type: int | None = None,
        period_number: int | None = None,
    ) -> SimHost:
        """Buy a host: pay-as-you-go, or a rental when `period_type` is given."""
        config = self.config
        billing = PAY_AS_YOU_GO if period_type is None else RENTAL
        with self.lock:
            now = self.clock.now_ms()
            if not config.real_name_verified:
                raise ApiError(codes.REAL_NAME_REQUIRED)
            request_key = (package_id, image_id, period_type, period_number)
            window_ms = int(config.duplicate_create_window * 1000)
            last = self._recent_creates.get(request_key)
            if window_ms > 0 and last is not None and now - last < window_ms:
                raise ApiError(codes.PROCESSING)
            if config.creation_waiting > 0:
                config.creation_waiting -= 1
                raise ApiError(codes.CREATION_WAITING)
            package = self.package(package_id)
            if package is None:
                raise ApiError(codes.BUSINESS_ERROR, "主机模板不存在")
            image = self.image(image_id) or self._personal_image(image_id)
            if image is None:
                raise ApiError(codes.BUSINESS_ERROR, "镜像不存在")
            if not package.allows(billing):
                sold_as = "按量" if billing == PAY_AS_YOU_GO else "包时段"
                raise ApiError(codes.BUSINESS_ERROR, f"该主机模板不支持{sold_as}购买")
            if period_type == PeriodType.HOUR and not config.accept_hour_period:
                raise ApiError(codes.BUSINESS_ERROR, "不支持按小时包时段，请选择其他周期")
            if package.type != image.type:
                raise ApiError(codes.TYPE_MISMATCH)
            if not config.resources_available:
                raise ApiError(codes.NO_RESOURCES)
            price = Decimal(0)
            if billing == RENTAL:
                assert period_type is not None and period_number is not None
                if config.wallet_error:
                    raise ApiError(codes.WALLET_ERROR)
                price = package.rental_price(period_type, period_number)
                if price > config.wallet_balance:
                    raise ApiError(codes.WALLET_BALANCE_TOO_LOW)

            host = self.build_host(
                package, image, use_type=billing, create_time=now, status=HostStatus.BOOTING
            )
            host.has_run = False
            host.transition_at = now + self._duration_ms(HostStatus.BOOTING)
            if billing == RENTAL:
                hours = PeriodType(period_type).hours * period_number
                host.expiration_time = now + hours * 3_600_000
                config.wallet_balance -= price
            self.hosts[host.id] = host
            if window_ms > 0:
                self._recent_creates = {
                    k: t for k, t in self._recent_creates.items() if now - t < window_ms
                }
                self._recent_creates[request_key] = now
            return host

    def _personal_image(self, image_id: str) -> SimImage | None:
        """A usable personal image as a create's image (the docs do not say this works)."""
        personal = self.storage.image_for_create(image_id)
        if personal is None:
            return None
        return SimImage(
            personal.image_id, personal.template_type, personal.image_type, personal.system_version
        )

    def power(self, host_id: str, *, on: bool) -> None:
        """Start (`on`) or stop a host; accepted means the change has begun."""
        config = self.config
        with self.lock:
            if on and not config.real_name_verified:
                raise ApiError(codes.REAL_NAME_REQUIRED)
            host = self.get_host(host_id)
            now = self.clock.now_ms()
            status = host.status
            if status is HostStatus.EXPIRED:
                raise ApiError(codes.BUSINESS_ERROR, "主机已到期")
            if status is HostStatus.BOOTING:
                raise ApiError(codes.ALREADY_BOOTING)
            if status is HostStatus.SHUTTING_DOWN:
                raise ApiError(codes.ALREADY_SHUTTING_DOWN)
            if on:
                if status is HostStatus.CHARGING:
                    raise ApiError(codes.ALREADY_SHUTTING_DOWN)
                if status is HostStatus.RUNNING:
                    return
                if not config.resources_available:
                    raise ApiError(codes.NO_RESOURCES)
                if host.use_type == PAY_AS_YOU_GO and config.wallet_balance <= 0:
                    raise ApiError(codes.POWER_ON_BALANCE_TOO_LOW)
                self._start(host, HostStatus.BOOTING, now)
            else:
                if status is not HostStatus.RUNNING:
                    return  # OFF or CHARGING: already stopped or stopping
                self._start(host, HostStatus.SHUTTING_DOWN, now)

    def reboot(self, host_id: str) -> None:
        with self.lock:
            host = self.get_host(host_id)
            if not host.has_run:
                raise ApiError(codes.REBOOT_NEVER_STARTED)
            if host.status is HostStatus.OFF:
                raise ApiError(codes.REBOOT_NOT_RUNNING)
            if host.status is not HostStatus.RUNNING:
                raise ApiError(codes.REBOOT_UNAVAILABLE)
            self._start(host, HostStatus.BOOTING, self.clock.now_ms(), reboot=True)

    def delete(self, host_id: str) -> bool:
        """True when deleted; False for an unknown id or a host in the middle of a change."""
        with self.lock:
            if host_id in self.foreign_host_ids:
                raise ApiError(codes.NO_PERMISSION)
            host = self.hosts.get(host_id)
            if host is None:
                return False
            self._settle(host, self.clock.now_ms())
            if host.status in (HostStatus.BOOTING, HostStatus.SHUTTING_DOWN):
                return False
            del self.hosts[host_id]
            self.storage.release_host(host_id)  # its disks outlive it, unmounted
            return True

    def page(self, page: int, page_size: int) -> tuple[list[SimHost], int]:
        """One page, newest first; `page_size` silently clamped to the configured maximum."""
        size = min(page_size, self.config.max_page_size)
        with self.lock:
            order = self._sorted_ids()
            start = (page - 1) * size
            chunk = [self.hosts[i] for i in order[start : start + size]]
            now = self.clock.now_ms()
            for host in chunk:
                self._settle(host, now)
            return chunk, len(order)

    def _sorted_ids(self) -> list[str]:
        # Newest first, ties by id: a host bought while someone pages shifts later pages, as the
        # provider's own ordering would.
        if self._order_version != self.hosts.version or len(self._order) != len(self.hosts):
            ordered = sorted(self.hosts.values(), key=lambda h: (-h.create_time, h.id))
            self._order = [h.id for h in ordered]
            self._order_version = self.hosts.version
        return self._order

    def reorder(self) -> None:
        """Forget the cached listing order (after editing `create_time` by hand)."""
        with self.lock:
            self._order_version = -1

    def status_counts(self) -> dict[str, int]:
        self.settle_all()
        with self.lock:
            counts = Counter(h.status for h in self.hosts.values())
        return {status.name: counts.get(status, 0) for status in HostStatus}
