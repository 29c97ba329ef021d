"""Buy or rent: what the other billing type would have cost this month, host by host.

- A pay-as-you-go host: its hours this month at its price, against one month's rental of the
  same template ("a monthly rental would have saved ¥N").
- A rental: its price for the hours of the month it was held, against its hours on at the same
  template's pay-as-you-go price ("pay-as-you-go would have saved ¥N") — a rental barely used.

A saving is counted only when it holds at both ends of the ranges (what the host cost at the
least, less what the other would have cost at the most), so an estimate never promises more
than it knows. The templates are those the host matches (dashboard.selectors.host_prices), each
priced from the catalog's list for the other billing type.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from dashboard.selectors.catalog import CatalogUnreadable, _cached_catalog
from dashboard.selectors.host_prices import CENT, Basis, Figure, HostPrice, host_prices
from dashboard.selectors.spend import MonthSpend, hosts_on, month_bounds
from vmclient.types import BillingType, Package, PeriodType

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Saving:
    host_id: str
    name: str
    member: str
    kind: str  # "rent": a monthly rental would have saved; "payg": pay-as-you-go would have
    hours: Decimal  # on this month
    paid: Figure  # what it cost this month
    instead: Figure  # what the other billing type would have cost
    saved: Decimal

    @property
    def basis(self) -> Basis:
        return max(self.paid.basis, self.instead.basis)


@dataclass(frozen=True)
class BuyOrRent:
    savings: tuple[Saving, ...]

    @property
    def total(self) -> Decimal:
        return sum((saving.saved for saving in self.savings), ZERO)

    def by_member(self) -> list[tuple[str, Decimal]]:
        totals: dict[str, Decimal] = {}
        for saving in self.savings:
            totals[saving.member] = totals.get(saving.member, ZERO) + saving.saved
        return sorted(totals.items(), key=lambda item: (-item[1], item[0]))


def _other_copies(price: HostPrice, billing: BillingType, packages) -> list[Package]:
    """The catalog's copies of the host's templates as priced for `billing`."""
    ids = {package.package_id for package in price.templates}
    copies = {}
    for package in packages:
        wanted = package.package_id in ids and package.allows(billing)
        if wanted and (package.package_id not in copies or package.listed_for is billing):
            copies[package.package_id] = package
    return list(copies.values())


def _range(amounts: list[Decimal], count_basis: int) -> Figure | None:
    if not amounts:
        return None
    basis = Basis.INFERRED if count_basis == 1 else Basis.ESTIMATED
    return Figure(min(amounts), max(amounts), basis)


def buy_or_rent(spend: MonthSpend, *, now: datetime | None = None) -> BuyOrRent:
    """The savings of `spend`'s month (this month: up to now)."""
    now = now or timezone.now()
    try:
        packages = tuple((_cached_catalog() or {}).get("packages", ()))
    except CatalogUnreadable:
        packages = ()
    savings = []
    for line in spend.hosts:
        if line.amount is None or line.price is None:
            continue
        rentals = _other_copies(line.price, BillingType.RENTAL, packages)
        monthly = [p.rental_price(PeriodType.MONTH, 1) for p in rentals]
        instead = _range([m for m in monthly if m is not None], len(rentals))
        if instead is None:
            continue
        saved = line.amount.low - instead.high
        if saved > 0:
            savings.append(
                Saving(
                    line.host_id,
                    line.name,
                    line.member,
                    "rent",
                    line.hours,
                    line.amount,
                    instead,
                    saved,
                )
            )
    savings += _rentals_barely_used(spend, now, packages)
    savings.sort(key=lambda saving: (-saving.saved, saving.name))
    return BuyOrRent(savings=tuple(savings))


def _rentals_barely_used(spend: MonthSpend, now: datetime, packages) -> list[Saving]:
    start, end = month_bounds(spend.month)
    end = min(end, now)
    if end <= start:
        return []
    hosts = hosts_on(BillingType.RENTAL, start, end)
    prices = host_prices(hosts)
    savings = []
    for host in hosts:
        price = prices[host.id]
        if price.hourly is None:
            continue
        held_from = max(start, host.created_at or host.first_seen_at)
        held_until = min(end, host.expires_at or end, host.gone_at or end)
        if held_until <= held_from:
            continue
        held = Decimal(int((held_until - held_from).total_seconds())) / 3600
        on = sum((until - since).total_seconds() for since, until in host.on_intervals)
        hours = (Decimal(int(on)) / 3600).quantize(CENT)
        paygs = _other_copies(price, BillingType.PAY_AS_YOU_GO, packages)
        hourly = _range([p.hourly_price for p in paygs if p.hourly_price is not None], len(paygs))
        if hourly is None:
            continue
        paid, instead = price.hourly * held, hourly * hours
        saved = paid.low - instead.high
        if saved > 0:
            member = host.owner_name if host.owner_id else ""
            savings.append(
                Saving(
                    host.id,
                    host.name or host.id,
                    member,
                    "payg",
                    hours,
                    paid,
                    instead,
                    saved.quantize(CENT),
                )
            )
    return savings
