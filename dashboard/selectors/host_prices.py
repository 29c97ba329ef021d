"""What a host costs an hour, and how sure the dashboard is: the one place that decides.

- A host the dashboard bought keeps the hourly price the member confirmed at purchase
  (CONFIRMED).
- Any other host gets the price of the catalog template it matches: GPU (number and model),
  cores, memory, disk, purpose, area and billing type. One template: INFERRED from it. Several:
  ESTIMATED, the range of their prices. None (or the catalog not cached): UNKNOWN.

A field the upstream did not give (None) does not rule a template out: it widens the range.
Every figure built on a price (spend, budgets, runway) carries the weakest basis of its parts,
so a page can always say whether a number is confirmed, inferred or estimated.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum

from django.utils.translation import gettext_lazy as _

from dashboard.models import Host, Operation
from dashboard.selectors.catalog import CatalogUnreadable, _cached_catalog
from vmclient.types import BillingType, Package, PeriodType

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


class Basis(IntEnum):
    """How sure a figure is; higher is less sure, and a sum is as sure as its least sure part."""

    CONFIRMED = 0
    INFERRED = 1
    ESTIMATED = 2
    UNKNOWN = 3

    @property
    def slug(self) -> str:
        return self.name.lower()

    @property
    def label(self) -> str:
        return str(BASIS_LABELS[self])


BASIS_LABELS = {
    Basis.CONFIRMED: _("confirmed"),
    Basis.INFERRED: _("inferred"),
    Basis.ESTIMATED: _("estimated"),
    Basis.UNKNOWN: _("unknown"),
}


@dataclass(frozen=True)
class Figure:
    """An amount of money, a range when the price is not known exactly, with its basis."""

    low: Decimal
    high: Decimal
    basis: Basis

    @classmethod
    def zero(cls) -> Figure:
        return cls(ZERO, ZERO, Basis.CONFIRMED)

    @classmethod
    def exact(cls, amount: Decimal, basis: Basis = Basis.CONFIRMED) -> Figure:
        return cls(amount, amount, basis)

    def __add__(self, other: Figure) -> Figure:
        return Figure(self.low + other.low, self.high + other.high, max(self.basis, other.basis))

    def __mul__(self, factor: Decimal) -> Figure:
        return Figure(
            (self.low * factor).quantize(CENT), (self.high * factor).quantize(CENT), self.basis
        )

    @property
    def is_range(self) -> bool:
        return self.low != self.high

    @property
    def is_confirmed(self) -> bool:
        return self.basis is Basis.CONFIRMED

    @property
    def middle(self) -> Decimal:
        return ((self.low + self.high) / 2).quantize(CENT)


def figure_sum(figures: Iterable[Figure]) -> Figure:
    total = Figure.zero()
    for figure in figures:
        total = total + figure
    return total


@dataclass(frozen=True)
class HostPrice:
    """What a host costs an hour (after discount), and where that comes from."""

    basis: Basis
    hourly: Figure | None  # None: unknown
    templates: tuple[Package, ...] = ()  # the templates it matches (inferred / estimated)

    @property
    def template_names(self) -> list[str]:
        return [package.name for package in self.templates]

    @property
    def inferred_from(self) -> str:
        """The template's name when the price is inferred from one, else empty."""
        return self.templates[0].name if self.basis is Basis.INFERRED else ""

    @property
    def is_known(self) -> bool:
        return self.hourly is not None

    def monthly_rental(self) -> Figure | None:
        """What one month's rental of the same template(s) costs, for "buy or rent"."""
        prices = [
            p.rental_price(PeriodType.MONTH, 1)
            for p in self.templates
            if p.rental_price(PeriodType.MONTH, 1) is not None
        ]
        if not prices:
            if self.hourly is None:
                return None
            return self.hourly * Decimal(PeriodType.MONTH.hours)
        basis = Basis.INFERRED if len(prices) == 1 else Basis.ESTIMATED
        return Figure(min(prices), max(prices), basis)


UNKNOWN = HostPrice(basis=Basis.UNKNOWN, hourly=None)


def host_prices(hosts: Iterable[Host]) -> dict[str, HostPrice]:
    """The price of each host, by id: one query for the purchases and one read of the cached
    catalog, whatever the number of hosts."""
    hosts = list(hosts)
    confirmed = confirmed_hourly_prices([host.id for host in hosts])
    try:
        cached = _cached_catalog() or {}
    except CatalogUnreadable:
        cached = {}
    packages = tuple(cached.get("packages", ()))
    prices = {}
    for host in hosts:
        if host.id in confirmed:
            prices[host.id] = HostPrice(
                basis=Basis.CONFIRMED,
                hourly=Figure.exact(confirmed[host.id]),
                templates=_matching(host, packages),
            )
        else:
            prices[host.id] = inferred_price(host, packages)
    return prices


def host_prices_attach(hosts) -> list[Host]:
    """Set `price` on each host of a page (the host list's price column), in one query."""
    hosts = list(hosts)
    prices = host_prices(hosts)
    for host in hosts:
        host.price = prices[host.id]
    return hosts


def host_price(host: Host) -> HostPrice:
    return host_prices([host])[host.id]


def confirmed_hourly_prices(host_ids: list[str]) -> dict[str, Decimal]:
    """The hourly price confirmed when the dashboard bought each host (either billing type)."""
    prices = {}
    for host_id, params in (
        Operation.objects.filter(
            kind__in=Operation.CREATE_KINDS, state=Operation.State.SUCCEEDED, host_id__in=host_ids
        )
        .order_by("finished_at")
        .values_list("host_id", "params")
    ):
        price = (params or {}).get("hourly_price")
        if price not in (None, ""):
            prices[host_id] = Decimal(str(price))
    return prices


def inferred_price(host: Host, packages: tuple[Package, ...]) -> HostPrice:
    matches = _matching(host, packages)
    hourly = [p.hourly_price for p in matches if p.hourly_price is not None]
    if not hourly:
        return UNKNOWN
    basis = Basis.INFERRED if len(matches) == 1 else Basis.ESTIMATED
    return HostPrice(basis=basis, hourly=Figure(min(hourly), max(hourly), basis), templates=matches)


def _matching(host: Host, packages: tuple[Package, ...]) -> tuple[Package, ...]:
    """The templates `host` could have been bought from, one copy each: the copy priced for the
    host's billing type (the list it was bought from), as a create would have used."""
    billing = None if host.billing_type is None else BillingType(host.billing_type)
    chosen: dict[str, Package] = {}
    for package in packages:
        if not _fits(host, package, billing):
            continue
        current = chosen.get(package.package_id)
        if current is None or (billing is not None and package.listed_for is billing):
            chosen[package.package_id] = package
    return tuple(sorted(chosen.values(), key=lambda p: (p.hourly_price or 0, p.name)))


def _fits(host: Host, package: Package, billing: BillingType | None) -> bool:
    if billing is not None and not package.allows(billing):
        return False
    if host.gpu_number is not None and host.gpu_number != (package.gpu_number or 0):
        return False
    if host.gpu_number and not _same_gpu(host.gpu_description, package.gpu_name):
        return False
    for mine, theirs in (
        (host.cpu_cores, package.cpu_cores),
        (host.memory_gb, package.memory_gb),
        (host.disk_gb, package.disk_gb),
        (host.purpose, None if package.purpose is None else int(package.purpose)),
        (host.area, None if package.area is None else int(package.area)),
    ):
        if mine is not None and theirs is not None and mine != theirs:
            return False
    return True


_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def _same_gpu(description: str, name: str | None) -> bool:
    """ "RTX 4090" names the same card as "NVIDIA GeForce RTX4090": one holds the other once
    spaces and punctuation are gone. Unknown on either side does not rule a template out."""
    mine, theirs = (
        _NOT_ALNUM.sub("", (description or "").lower()),
        _NOT_ALNUM.sub("", (name or "").lower()),
    )
    if not mine or not theirs:
        return True
    return mine in theirs or theirs in mine
