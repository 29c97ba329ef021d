"""Typed, immutable results of the Xuandashi open API.

The upstream sends strings for enums and numbers, nulls anywhere, and two spellings of some
fields; `vmclient.parsing` turns that into these types, so nothing above the client ever
handles a raw upstream dict. `None` always means "the upstream sent nothing usable".
"""

from __future__ import annotations

import enum
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from .errors import XdsError

MAX_PAGE_SIZE = 25


class HostStatus(enum.IntEnum):
    """`status` of a host (later document version only)."""

    OFF = 0
    BOOTING = 1
    RUNNING = 2
    CHARGING = 3  # 扣费中: the upstream is settling the bill; transient
    SHUTTING_DOWN = 4
    EXPIRED = 5

    @property
    def is_changing(self) -> bool:
        """A state that will move on by itself, so it is worth polling."""
        return self in _CHANGING_STATUSES


_CHANGING_STATUSES = frozenset({HostStatus.BOOTING, HostStatus.CHARGING, HostStatus.SHUTTING_DOWN})


class Area(enum.IntEnum):
    """Data centre (`area`)."""

    SOUTH_CHINA = 0  # 华南
    WEST_CHINA = 1  # 华西
    INTERNATIONAL = 2  # 国际


class Purpose(enum.IntEnum):
    """What a template or host is for (`pveMachineType`)."""

    OFFICE = 0  # 普通办公
    IMAGE_PROCESSING = 1  # 图像处理
    ALGORITHMS = 2  # 算法区域


class BillingType(enum.IntEnum):
    """How a host is paid for; also the `type` path parameter of the template list."""

    PAY_AS_YOU_GO = 0  # 按量
    RENTAL = 1  # 包时段


class TemplateUse(enum.IntEnum):
    """Which billing types a template can be bought with (`useType` of a template)."""

    PAY_AS_YOU_GO_ONLY = 0
    RENTAL_ONLY = 1
    BOTH = 2

    def allows(self, billing: BillingType) -> bool:
        if self is TemplateUse.BOTH:
            return True
        if self is TemplateUse.PAY_AS_YOU_GO_ONLY:
            return billing is BillingType.PAY_AS_YOU_GO
        return billing is BillingType.RENTAL


class PeriodType(enum.IntEnum):
    """`periodType` of a rental. HOUR was removed by the provider on 2023-10-23."""

    HOUR = 0
    DAY = 1
    WEEK = 2
    MONTH = 3
    QUARTER = 4
    YEAR = 5

    @property
    def hours(self) -> int:
        """Hours in one period, as used to estimate a rental's total price."""
        return _PERIOD_HOURS[self]


_PERIOD_HOURS = {
    PeriodType.HOUR: 1,
    PeriodType.DAY: 24,
    PeriodType.WEEK: 24 * 7,
    PeriodType.MONTH: 24 * 30,
    PeriodType.QUARTER: 24 * 90,
    PeriodType.YEAR: 24 * 365,
}

# The periods a rental can be bought for today.
RENTAL_PERIODS = (
    PeriodType.DAY,
    PeriodType.WEEK,
    PeriodType.MONTH,
    PeriodType.QUARTER,
    PeriodType.YEAR,
)


@dataclass(frozen=True, slots=True)
class Package:
    """A host template ("package"), as listed for one billing type."""

    package_id: str
    name: str
    listed_for: BillingType  # which list (`packAge/0` or `packAge/1`) it came from
    gpu_number: int = 0
    gpu_name: str | None = None
    memory_gb: int | None = None
    disk_gb: int | None = None
    cpu_cores: int | None = None
    bandwidth: int | None = None
    amount: Decimal | None = None  # price per hour before discount
    discount: Decimal = Decimal(1)  # multiplier: 1 = none, 0.8 = 20% off
    type: str | None = None  # must equal an image's `type` to create a host from both
    purpose: Purpose | None = None
    area: Area | None = None
    use_type: TemplateUse | None = None

    @property
    def hourly_price(self) -> Decimal | None:
        """Price per hour after the discount."""
        if self.amount is None:
            return None
        return (self.amount * self.discount).quantize(Decimal("0.01"))

    def rental_price(self, period_type: PeriodType, period_number: int) -> Decimal | None:
        """Estimated total for a rental: hourly amount x discount x hours."""
        if self.amount is None:
            return None
        total = self.amount * self.discount * period_type.hours * period_number
        return total.quantize(Decimal("0.01"))

    def allows(self, billing: BillingType) -> bool:
        """Whether this template can be bought with `billing`. Unknown use: trust the list."""
        if self.use_type is None:
            return billing is self.listed_for
        return self.use_type.allows(billing)

    def is_compatible_with(self, image: Image) -> bool:
        return self.type is not None and self.type == image.type


@dataclass(frozen=True, slots=True)
class Image:
    """A system image a host can be created from."""

    image_id: str
    type: str | None = None
    system_name: str | None = None
    system_version: str | None = None

    @property
    def label(self) -> str:
        parts = [p for p in (self.system_name, self.system_version) if p]
        return " ".join(parts) or self.image_id


@dataclass(frozen=True, slots=True)
class Host:
    """One rented host, as the upstream describes it."""

    id: str
    name: str | None = None
    gpu_description: str | None = None  # `gpuConfiguration`; None where the upstream says "-"
    gpu_number: int | None = None
    memory_gb: int | None = None
    cpu_cores: int | None = None
    disk_gb: int | None = None
    operating_system: str | None = None
    login_user: str | None = None
    # A secret: never in repr, never stored by the dashboard. None when absent or masked.
    password: str | None = field(default=None, repr=False)
    address: str | None = None  # None where the upstream sent "" or nothing
    port: int | None = None  # None where the upstream sent 0 or nothing
    mac: str | None = None
    ipv4: str | None = None  # `ipv4` (later version) or `ipV4` (original)
    purpose: Purpose | None = None
    billing_type: BillingType | None = None  # later version only
    status: HostStatus | None = None  # later version only
    area: Area | None = None  # later version only
    created_at: datetime | None = None
    expires_at: datetime | None = None

    @property
    def is_windows(self) -> bool:
        return (self.operating_system or "").lower().startswith("windows")


_WORD = re.compile(r"[a-z]+")


def system_family(name: str | None) -> str | None:
    """The family of an operating system's name, the part the provider spells the same way for
    an image and for the hosts made from it: "windows" for every Windows ("Windows Server",
    "Windows 10", "Win10"), else the distribution, its first word ("ubuntu" for "Ubuntu
    Server", "debian"). None when there is no name.

    The docs name hosts both "Windows" and "Windows Server", and images "Windows Server" or
    "Ubuntu Server": comparing names word for word fails to recognise a new host."""
    text = (name or "").strip().casefold()
    if not text:
        return None
    words = _WORD.findall(text)
    first = words[0] if words else text
    return "windows" if first.startswith("win") else first


def same_system(image_system: str | None, host_system: str | None) -> bool:
    """Whether a host reporting `host_system` may run an image of `image_system`: the same
    family, or a host that says only "Linux" for an image that is not Windows. A missing name
    says nothing against it."""
    ours, theirs = system_family(image_system), system_family(host_system)
    if ours is None or theirs is None or ours == theirs:
        return True
    return "linux" in (ours, theirs) and "windows" not in (ours, theirs)


class _Page:
    """What every page of a paged list tells: its `total` and `page_size` give the page count."""

    __slots__ = ()
    total: int
    page_size: int

    @property
    def page_count(self) -> int:
        if self.page_size <= 0:
            return 0
        return math.ceil(self.total / self.page_size)


@dataclass(frozen=True, slots=True)
class HostPage(_Page):
    """One page of `mypage`."""

    hosts: tuple[Host, ...]
    total: int
    page: int
    page_size: int

    @property
    def items(self) -> tuple[Host, ...]:
        return self.hosts


# --- Cloud disks ------------------------------------------------------------------------------

MAX_DISK_PAGE_SIZE = 100  # `getList` serves at most 100 disks a page
MIN_DISK_GB = 20  # a smaller disk is refused (220013)
MAX_DISKS_PER_HOST = 30  # a host with 30 disks takes no more (220010)
# GB of disks an account may hold per area (220014). One page of the docs says 20480: the
# dashboard makes it a setting with this default.
DEFAULT_DISK_AREA_QUOTA_GB = 1000


class DiskStatus(enum.IntEnum):
    """`status` of a cloud disk."""

    WAITING = 0  # not mounted, ready to be mounted or destroyed
    MOUNTING = 1
    IN_USE = 2  # mounted on its host
    STOPPED_FOR_ARREARS = 3  # the provider unmounted it; paying returns it to WAITING
    DESTROYING = 4  # being destroyed and refunded

    @property
    def is_changing(self) -> bool:
        """A state that will move on by itself, so it is worth polling."""
        return self in (DiskStatus.MOUNTING, DiskStatus.DESTROYING)

    @property
    def is_mounted(self) -> bool:
        """On a host, or on its way there."""
        return self in (DiskStatus.MOUNTING, DiskStatus.IN_USE)


class DiskChange(enum.IntEnum):
    """The `status` asked of `updateStatus`: the only two changes it makes."""

    UNMOUNT = 0
    DESTROY = 5


@dataclass(frozen=True, slots=True)
class Disk:
    """A cloud disk: an extra data disk, billed by the hour, that outlives its host."""

    id: str
    name: str | None = None
    # The host it is mounted on (or being mounted on); None when it is not mounted. The
    # provider's `pveId` keeps naming the last host after an unmount: see `last_host_id`.
    host_id: str | None = None
    area: Area | None = None
    size_gb: int | None = None  # `memory`
    status: DiskStatus | None = None
    price_per_hour: Decimal | None = None  # `amount`
    created_at: datetime | None = None
    uuid: str | None = None
    bus: str | None = None  # where it sits on its host, e.g. "scsi1"
    last_host_id: str | None = None  # `pveId` as sent: the host now or the last one
    mounted: bool | None = None  # `isMount` as sent
    billing_type: BillingType | None = None  # `useType`


@dataclass(frozen=True, slots=True)
class DiskPage(_Page):
    """One page of `getList`."""

    disks: tuple[Disk, ...]
    total: int
    page: int
    page_size: int

    @property
    def items(self) -> tuple[Disk, ...]:
        return self.disks


# --- Personal images --------------------------------------------------------------------------

MAX_PERSONAL_IMAGE_PAGE_SIZE = 100  # the docs give no maximum; the client asks for this many


class PersonalImageStatus(enum.IntEnum):
    """`status` of a personal image."""

    MAKING = 0  # being made from its host
    USABLE = 1
    FAILED = 2
    EXPIRED = 3

    @property
    def is_changing(self) -> bool:
        return self is PersonalImageStatus.MAKING


@dataclass(frozen=True, slots=True)
class PersonalImage:
    """An image the account made from one of its hosts, to start new hosts from.

    `id` is the one to use in later calls (rename, delete). Whether `id` or `image_id` can be a
    create's `imageId` the docs do not say.
    """

    id: str
    name: str | None = None  # `imageName`
    # `imageType`: the docs' example holds a system name ("Windows"); how it relates to a
    # template's `type` is not said.
    image_type: str | None = None
    size: int | None = None  # `imageSize`, as sent (the docs give no unit)
    status: PersonalImageStatus | None = None
    created_at: datetime | None = None
    image_id: str | None = None  # `imageId`
    datacenter: str | None = None  # `datacenterKey`, e.g. "HZ"


@dataclass(frozen=True, slots=True)
class PersonalImagePage(_Page):
    """One page of the personal image list."""

    images: tuple[PersonalImage, ...]
    total: int
    page: int
    page_size: int

    @property
    def items(self) -> tuple[PersonalImage, ...]:
        return self.images


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Listing(Generic[T]):
    """What one listing of every item of a paged list read (hosts, disks, personal images).

    Pages can shift under a listing (the upstream lists newest first, so a create pushes an item
    onto the next page) and any page after the first can fail: then the listing is partial.
    `items` still holds what arrived, so an item can be found in it; only a `complete` listing
    can say an item is *not* there.
    """

    items: tuple[T, ...]  # each id once, its copy from the lowest page, in page order
    pages_read: int
    pages_expected: int  # as the pages that arrived announced (their largest count)
    totals: frozenset[int]  # every `totalCounts` the pages announced
    error: XdsError | None = None  # the first page that failed, if one did

    @property
    def complete(self) -> bool:
        """Every page arrived, the total held still and nothing slipped between the pages."""
        return (
            self.error is None
            and len(self.totals) == 1
            and self.pages_read >= self.pages_expected
            and len(self.items) >= next(iter(self.totals))
        )

    def has(self, item_id: str) -> bool | None:
        """Whether the item is listed: True, False, or None when a partial listing can't tell."""
        if any(item.id == item_id for item in self.items):  # type: ignore[attr-defined]
            return True
        return False if self.complete else None
