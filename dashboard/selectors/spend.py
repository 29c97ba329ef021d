"""What the team spent in a month, estimated from the mirror: no upstream call.

- Pay-as-you-go hosts cost their hourly price (after discount, as confirmed when the dashboard
  bought them) for every hour they were on: booting, running, charging or shutting down,
  according to the status history the sync records (`HostStatusChange`). A host the dashboard
  did not buy has no known price: its hours are shown, its amount is not guessed.
- Rentals cost their period's total, counted in the month their purchase succeeded.
- A host's spend goes to its owner (unowned hosts to nobody); a rental to who bought it.
- Cloud disks cost their hourly price for every hour they are held, mounted or not: from their
  creation (as the provider dates it; else when the dashboard first saw them) until they are
  gone. Their owner pays.

Months are calendar months in the team's time zone. History starts when the dashboard first saw
a host: hours before that are not known, and the page says so.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from dashboard.models import Disk, Host, HostStatusChange, Operation, team_zone
from vmclient.types import BillingType, HostStatus

BILLED_STATUSES = frozenset(
    {HostStatus.BOOTING, HostStatus.RUNNING, HostStatus.CHARGING, HostStatus.SHUTTING_DOWN}
)
NOBODY = ""
CENT = Decimal("0.01")


@dataclass
class HostSpend:
    host_id: str
    name: str
    owner: str
    hours: Decimal
    hourly_price: Decimal | None

    @property
    def amount(self) -> Decimal | None:
        if self.hourly_price is None:
            return None
        return (self.hours * self.hourly_price).quantize(CENT)


@dataclass
class DiskSpend:
    disk_id: str
    name: str
    owner: str
    hours: Decimal
    hourly_price: Decimal | None

    @property
    def amount(self) -> Decimal | None:
        if self.hourly_price is None:
            return None
        return (self.hours * self.hourly_price).quantize(CENT)


@dataclass
class RentalSpend:
    operation_id: int
    host_id: str  # "" when the create never learned its host's id
    host_name: str
    member: str
    bought_at: datetime
    amount: Decimal


@dataclass
class MonthSpend:
    month: date  # its first day
    hosts: list[HostSpend] = field(default_factory=list)
    rentals: list[RentalSpend] = field(default_factory=list)
    disks: list[DiskSpend] = field(default_factory=list)

    @property
    def pay_as_you_go(self) -> Decimal:
        return sum((h.amount for h in self.hosts if h.amount is not None), Decimal("0.00"))

    @property
    def disk(self) -> Decimal:
        return sum((d.amount for d in self.disks if d.amount is not None), Decimal("0.00"))

    @property
    def rental(self) -> Decimal:
        return sum((r.amount for r in self.rentals), Decimal("0.00"))

    @property
    def total(self) -> Decimal:
        return self.pay_as_you_go + self.rental + self.disk

    @property
    def unpriced_hours(self) -> Decimal:
        return sum((h.hours for h in self.hosts if h.hourly_price is None), Decimal("0"))

    def by_member(self) -> list[tuple[str, Decimal]]:
        """(member, amount), largest first; "" is hosts without an owner."""
        totals: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
        for host in self.hosts:
            if host.amount is not None:
                totals[host.owner] += host.amount
        for rental in self.rentals:
            totals[rental.member] += rental.amount
        for disk in self.disks:
            if disk.amount is not None:
                totals[disk.owner] += disk.amount
        return sorted(totals.items(), key=lambda item: (-item[1], item[0]))


def month_bounds(month: date) -> tuple[datetime, datetime]:
    zone = team_zone()
    start = datetime(month.year, month.month, 1, tzinfo=zone)
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return start, datetime(following.year, following.month, 1, tzinfo=zone)


def month_spend(*, month: date, now: datetime | None = None) -> MonthSpend:
    """The spend estimate of `month` (any day in it). A fixed number of queries."""
    now = now or timezone.now()
    start, end = month_bounds(month)
    end = min(end, now)
    spend = MonthSpend(month=date(month.year, month.month, 1))
    if end <= start:
        return spend

    payg = Host.objects.filter(billing_type=BillingType.PAY_AS_YOU_GO).filter(
        Q(gone_at__isnull=True) | Q(gone_at__gt=start), first_seen_at__lt=end
    )
    before = HostStatusChange.objects.filter(host=OuterRef("pk"), at__lte=start).order_by("-at")
    hosts = list(
        payg.annotate(status_at_start=Subquery(before.values("status")[:1])).only(
            "id", "name", "owner_name"
        )
    )
    changes = defaultdict(list)
    for host_id, status, at in (
        HostStatusChange.objects.filter(host__in=[h.id for h in hosts], at__gt=start, at__lt=end)
        .order_by("at", "id")
        .values_list("host_id", "status", "at")
    ):
        changes[host_id].append((at, status))
    prices = _hourly_prices([h.id for h in hosts])

    for host in hosts:
        seconds = _billed_seconds(host.status_at_start, changes[host.id], start, end)
        if not seconds:
            continue
        spend.hosts.append(
            HostSpend(
                host_id=host.id,
                name=host.name or host.id,
                owner=host.owner_name,
                hours=(Decimal(seconds) / 3600).quantize(CENT),
                hourly_price=prices.get(host.id),
            )
        )
    spend.hosts.sort(key=lambda h: (-(h.amount or 0), -h.hours, h.name))

    rentals = Operation.objects.filter(
        kind=Operation.Kind.CREATE_RENTAL,
        state=Operation.State.SUCCEEDED,
        finished_at__gte=start,
        finished_at__lt=end,
    ).order_by("finished_at")
    for operation in rentals:
        total = operation.params.get("total_price")
        if total in (None, ""):
            continue
        spend.rentals.append(
            RentalSpend(
                operation_id=operation.pk,
                host_id=operation.host_id or "",
                host_name=operation.host_name or operation.params.get("package_name", ""),
                member=operation.requested_by_name,
                bought_at=operation.finished_at,
                amount=Decimal(str(total)),
            )
        )
    spend.disks = _disk_spend(start, end)
    return spend


def _disk_spend(start: datetime, end: datetime) -> list[DiskSpend]:
    """Every disk held during [start, end): its hours held then, at its hourly price. One query."""
    disks = Disk.objects.filter(
        Q(gone_at__isnull=True) | Q(gone_at__gt=start), first_seen_at__lt=end
    ).only("id", "name", "owner_name", "price_per_hour", "created_at", "first_seen_at", "gone_at")
    rows = []
    for disk in disks:
        held_from = max(start, disk.created_at or disk.first_seen_at)
        held_until = min(end, disk.gone_at or end)
        seconds = (held_until - held_from).total_seconds()
        if seconds <= 0:
            continue
        rows.append(
            DiskSpend(
                disk_id=disk.id,
                name=disk.label,
                owner=disk.owner_name,
                hours=(Decimal(seconds) / 3600).quantize(CENT),
                hourly_price=disk.price_per_hour,
            )
        )
    rows.sort(key=lambda d: (-(d.amount or 0), -d.hours, d.name))
    return rows


@dataclass(frozen=True)
class UnusedRental:
    """The prepaid time a rental still has, and roughly what share of its price that is: what
    deleting it now gives up."""

    expires_at: datetime
    left: timedelta
    share: Decimal | None  # of the rental's whole term (0..1); None when its start is unknown
    paid: Decimal | None  # the total confirmed when the dashboard bought it

    @property
    def percent(self) -> int | None:
        return None if self.share is None else int((self.share * 100).to_integral_value())

    @property
    def amount(self) -> Decimal | None:
        if self.share is None or self.paid is None:
            return None
        return (self.paid * self.share).quantize(CENT)


def rental_unused(*, host: Host, now: datetime | None = None) -> UnusedRental | None:
    """What is left of `host`'s rental; None for a host that is not a rental still running
    its term. The term runs from the host's creation to its expiry. One query."""
    now = now or timezone.now()
    if host.billing_type != BillingType.RENTAL or host.expires_at is None:
        return None
    if host.is_gone or host.expires_at <= now:
        return None
    left = host.expires_at - now
    share = None
    if host.created_at is not None and host.created_at < host.expires_at:
        term = (host.expires_at - host.created_at).total_seconds()
        share = min(Decimal(1), Decimal(left.total_seconds()) / Decimal(term))
    total = (
        Operation.objects.filter(
            kind=Operation.Kind.CREATE_RENTAL, state=Operation.State.SUCCEEDED, host_id=host.id
        )
        .order_by("-finished_at")
        .values_list("params__total_price", flat=True)
        .first()
    )
    paid = None if total in (None, "") else Decimal(str(total))
    return UnusedRental(expires_at=host.expires_at, left=left, share=share, paid=paid)


def _billed_seconds(status_at_start, changes, start: datetime, end: datetime) -> int:
    seconds = 0
    status, since = status_at_start, start
    for at, new_status in changes:
        if status in BILLED_STATUSES:
            seconds += (at - since).total_seconds()
        status, since = new_status, at
    if status in BILLED_STATUSES:
        seconds += (end - since).total_seconds()
    return int(seconds)


def _hourly_prices(host_ids: list[str]) -> dict[str, Decimal]:
    """The hourly price confirmed when the dashboard bought each host (pay-as-you-go)."""
    prices = {}
    for host_id, params in Operation.objects.filter(
        kind=Operation.Kind.CREATE_PAY_AS_YOU_GO, host_id__in=host_ids
    ).values_list("host_id", "params"):
        price = (params or {}).get("hourly_price")
        if price not in (None, ""):
            prices[host_id] = Decimal(str(price))
    return prices
