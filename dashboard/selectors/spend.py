"""What the team spent in a month, estimated from the mirror: no upstream call.

- Pay-as-you-go hosts cost their hourly price (dashboard.selectors.host_prices: confirmed at
  purchase, else inferred from the catalog template they match) for every hour they were on:
  booting, running, charging or shutting down, according to the status history the sync
  records (`HostStatusChange`). A host whose price is unknown has its hours shown, its amount
  not guessed.
- Rentals cost their period's total, counted in the month they were bought: the total confirmed
  when the dashboard bought them, else the matching template's hourly price times the term
  (creation to expiry), counted in the month the host was created.
- A host's spend goes to its owner (unowned hosts to nobody); a rental the dashboard bought to
  who bought it.

- Cloud disks cost their hourly price (as the provider lists it: confirmed) for every hour they
  are held, mounted or not: from their creation (as the provider dates it; else when the
  dashboard first saw them) until they are gone. Their owner pays.

Every amount is a `Figure` with its basis (confirmed, inferred, estimated). Each kind of spend is
one function of `SPEND_SOURCES` returning `SpendLine`s, so every total, chart and budget counts
every kind.

Months are calendar months in the team's time zone. History starts when the dashboard first saw
a host: hours before that are not known, and the page says so.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from dashboard.models import Disk, Host, HostStatusChange, Operation, team_zone
from dashboard.selectors.host_prices import (
    CENT,
    Basis,
    Figure,
    HostPrice,
    figure_sum,
    host_prices,
)
from dashboard.selectors.hosts import labels_prefetch
from vmclient.types import BillingType, HostStatus

BILLED_STATUSES = frozenset(
    {HostStatus.BOOTING, HostStatus.RUNNING, HostStatus.CHARGING, HostStatus.SHUTTING_DOWN}
)
NOBODY = ""


@dataclass
class SpendLine:
    """One thing that cost money in the month: a host's hours, a rental bought (a disk)."""

    kind: str  # "payg", "rental"
    host_id: str  # "" when unknown (a rental whose create never learned its host's id)
    name: str
    member: str  # NOBODY for unowned hosts
    member_id: int | None
    labels: tuple[str, ...]
    amount: Figure | None  # None: its price is unknown
    per_day: dict[date, Figure] = field(default_factory=dict)

    @property
    def basis(self) -> Basis:
        return Basis.UNKNOWN if self.amount is None else self.amount.basis


@dataclass
class HostSpend(SpendLine):
    hours: Decimal = Decimal("0")
    price: HostPrice | None = None

    @property
    def hourly_price(self) -> Figure | None:
        return None if self.price is None else self.price.hourly

    @property
    def owner(self) -> str:
        return self.member


@dataclass
class RentalSpend(SpendLine):
    operation_id: int | None = None  # None: not bought through the dashboard
    bought_at: datetime | None = None

    @property
    def host_name(self) -> str:
        return self.name


@dataclass
class DiskSpend(SpendLine):
    disk_id: str = ""
    hours: Decimal = Decimal("0")
    price: Decimal | None = None  # per hour, as the provider lists it

    @property
    def hourly_price(self) -> Figure | None:
        return None if self.price is None else Figure.exact(self.price)


@dataclass
class MonthSpend:
    month: date  # its first day
    hosts: list[HostSpend] = field(default_factory=list)
    rentals: list[RentalSpend] = field(default_factory=list)
    disks: list[DiskSpend] = field(default_factory=list)

    @property
    def lines(self) -> list[SpendLine]:
        return [*self.hosts, *self.rentals, *self.disks]

    @property
    def pay_as_you_go(self) -> Figure:
        return _priced_sum(self.hosts)

    @property
    def rental(self) -> Figure:
        return _priced_sum(self.rentals)

    @property
    def disk(self) -> Figure:
        return _priced_sum(self.disks)

    @property
    def total(self) -> Figure:
        return _priced_sum(self.lines)

    @property
    def unpriced_hours(self) -> Decimal:
        return sum((h.hours for h in self.hosts if h.amount is None), Decimal("0"))

    def by_member(self) -> list[tuple[str, Figure]]:
        """(member, amount), largest first; "" is hosts without an owner."""
        return _largest_first(self._grouped(lambda line: [line.member]))

    def by_label(self) -> list[tuple[str, Figure]]:
        """(label, amount), largest first; a host with two labels counts in both, one without
        any under ""."""
        return _largest_first(self._grouped(lambda line: list(line.labels) or [NOBODY]))

    def by_day(self) -> list[tuple[date, Figure]]:
        """(day, amount) for every day of the month so far, in order."""
        totals: dict[date, Figure] = defaultdict(Figure.zero)
        for line in self.lines:
            for day, amount in line.per_day.items():
                totals[day] = totals[day] + amount
        return sorted(totals.items())

    def for_member(self, member_id: int) -> list[SpendLine]:
        return [line for line in self.lines if line.member_id == member_id]

    def for_label(self, label: str) -> list[SpendLine]:
        return [line for line in self.lines if label in line.labels]

    def _grouped(self, keys) -> dict[str, Figure]:
        totals: dict[str, Figure] = defaultdict(Figure.zero)
        for line in self.lines:
            if line.amount is None:
                continue
            for key in keys(line):
                totals[key] = totals[key] + line.amount
        return totals


def _largest_first(totals: dict) -> list:
    return sorted(totals.items(), key=lambda item: (-item[1].high, item[0]))


def _priced_sum(lines: Iterable[SpendLine]) -> Figure:
    """What `lines` cost, leaving out those whose price is unknown."""
    return figure_sum(line.amount for line in lines if line.amount is not None)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    zone = team_zone()
    start = datetime(month.year, month.month, 1, tzinfo=zone)
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return start, datetime(following.year, following.month, 1, tzinfo=zone)


def month_spend(
    *, month: date, now: datetime | None = None, host_ids: list[str] | None = None
) -> MonthSpend:
    """The spend estimate of `month` (any day in it), of every host or of `host_ids` only.
    A fixed number of queries."""
    now = now or timezone.now()
    start, end = month_bounds(month)
    end = min(end, now)
    spend = MonthSpend(month=date(month.year, month.month, 1))
    if end <= start:
        return spend
    for source in SPEND_SOURCES:
        source(spend, start, end, host_ids)
    spend.hosts.sort(key=lambda h: (-(h.amount.high if h.amount else 0), -h.hours, h.name))
    return spend


def hosts_on(billing: BillingType, start: datetime, end: datetime, host_ids=None):
    """The hosts of `billing` the mirror knew during [start, end), each with the stretches it
    was on then (`host.on_intervals`), labels prefetched. Three queries."""
    hosts = Host.objects.filter(billing_type=billing).filter(
        Q(gone_at__isnull=True) | Q(gone_at__gt=start), first_seen_at__lt=end
    )
    if host_ids is not None:
        hosts = hosts.filter(id__in=host_ids)
    before = HostStatusChange.objects.filter(host=OuterRef("pk"), at__lte=start).order_by("-at")
    hosts = list(
        hosts.annotate(status_at_start=Subquery(before.values("status")[:1])).prefetch_related(
            labels_prefetch()
        )
    )
    changes = defaultdict(list)
    for host_id, status, at in (
        HostStatusChange.objects.filter(host__in=[h.id for h in hosts], at__gt=start, at__lt=end)
        .order_by("at", "id")
        .values_list("host_id", "status", "at")
    ):
        changes[host_id].append((at, status))
    for host in hosts:
        host.on_intervals = billed_intervals(host.status_at_start, changes[host.id], start, end)
    return hosts


def _pay_as_you_go(spend: MonthSpend, start: datetime, end: datetime, host_ids) -> None:
    hosts = hosts_on(BillingType.PAY_AS_YOU_GO, start, end, host_ids)
    prices = host_prices(hosts)

    for host in hosts:
        intervals = host.on_intervals
        seconds = sum((until - since).total_seconds() for since, until in intervals)
        if not seconds:
            continue
        price = prices[host.id]
        hours = (Decimal(int(seconds)) / 3600).quantize(CENT)
        per_day = {}
        if price.hourly is not None:
            per_day = {
                day: price.hourly * (Decimal(int(s)) / 3600)
                for day, s in _seconds_per_day(intervals).items()
            }
        spend.hosts.append(
            HostSpend(
                kind="payg",
                **_whose(host),
                amount=None if price.hourly is None else price.hourly * hours,
                per_day=per_day,
                hours=hours,
                price=price,
            )
        )


def _whose(host: Host) -> dict:
    """A host's line's name, owner and labels (labels prefetched)."""
    return {
        "host_id": host.id,
        "name": host.name or host.id,
        "member": host.owner_name if host.owner_id else NOBODY,
        "member_id": host.owner_id,
        "labels": tuple(label.name for label in host.labels_shown),
    }


def _rentals(spend: MonthSpend, start: datetime, end: datetime, host_ids) -> None:
    """Rentals bought through the dashboard at their confirmed total; the others inferred."""
    bought = Operation.objects.filter(
        kind=Operation.Kind.CREATE_RENTAL, state=Operation.State.SUCCEEDED
    )
    in_month = bought.filter(finished_at__gte=start, finished_at__lt=end).order_by("finished_at")
    if host_ids is not None:
        in_month = in_month.filter(host_id__in=host_ids)
    in_month = list(in_month.select_related("host").prefetch_related("host__labels"))
    for operation in in_month:
        total = operation.params.get("total_price")
        if total in (None, ""):
            continue
        host = operation.host
        amount = Figure.exact(Decimal(str(total)))
        spend.rentals.append(
            RentalSpend(
                kind="rental",
                host_id=operation.host_id or "",
                name=operation.host_name
                or (host.name if host is not None else "")
                or operation.params.get("package_name", ""),
                member=operation.requested_by_name,
                member_id=operation.requested_by_id,
                labels=tuple(sorted(label.name for label in host.labels.all())) if host else (),
                amount=amount,
                per_day={timezone.localtime(operation.finished_at).date(): amount},
                operation_id=operation.pk,
                bought_at=operation.finished_at,
            )
        )
    # Rentals the dashboard did not buy: priced from their template, in their creation month.
    others = (
        Host.objects.filter(
            billing_type=BillingType.RENTAL,
            created_at__gte=start,
            created_at__lt=end,
            expires_at__isnull=False,
        )
        .exclude(id__in=bought.exclude(host_id=None).values("host_id"))
        .prefetch_related(labels_prefetch())
    )
    if host_ids is not None:
        others = others.filter(id__in=host_ids)
    others = list(others)
    prices = host_prices(others)
    for host in others:
        price = prices[host.id]
        term_hours = Decimal(int((host.expires_at - host.created_at).total_seconds())) / 3600
        amount = None if price.hourly is None or term_hours <= 0 else price.hourly * term_hours
        spend.rentals.append(
            RentalSpend(
                kind="rental",
                **_whose(host),
                amount=amount,
                per_day={}
                if amount is None
                else {timezone.localtime(host.created_at).date(): amount},
                bought_at=host.created_at,
            )
        )


def _disks(spend: MonthSpend, start: datetime, end: datetime, host_ids) -> None:
    """Every disk held during [start, end): its hours held then, at its hourly price. One query.
    A host's own cost (`host_ids`) leaves its disks out: they outlive it and have their page."""
    if host_ids is not None:
        return
    disks = Disk.objects.filter(
        Q(gone_at__isnull=True) | Q(gone_at__gt=start), first_seen_at__lt=end
    ).only(
        "id",
        "name",
        "owner_id",
        "owner_name",
        "price_per_hour",
        "created_at",
        "first_seen_at",
        "gone_at",
    )
    for disk in disks:
        held = (max(start, disk.created_at or disk.first_seen_at), min(end, disk.gone_at or end))
        seconds = (held[1] - held[0]).total_seconds()
        if seconds <= 0:
            continue
        hours = (Decimal(int(seconds)) / 3600).quantize(CENT)
        price = disk.price_per_hour
        spend.disks.append(
            DiskSpend(
                kind="disk",
                host_id="",
                name=disk.label,
                member=disk.owner_name if disk.owner_id else NOBODY,
                member_id=disk.owner_id,
                labels=(),
                amount=None if price is None else Figure.exact((price * hours).quantize(CENT)),
                per_day={}
                if price is None
                else {
                    day: Figure.exact((price * Decimal(int(s)) / 3600).quantize(CENT))
                    for day, s in _seconds_per_day([held]).items()
                },
                disk_id=disk.id,
                hours=hours,
                price=price,
            )
        )
    spend.disks.sort(key=lambda d: (-(d.amount.high if d.amount else 0), -d.hours, d.name))


# Each kind of spend, one function adding its lines to the month.
SPEND_SOURCES = (_pay_as_you_go, _rentals, _disks)


def spend_between(start: datetime, end: datetime) -> MonthSpend:
    """The spend of any stretch of time (the runway counts what was spent since the wallet's
    balance was recorded), from the same sources as a month's."""
    spend = MonthSpend(month=timezone.localtime(start).date().replace(day=1))
    if end > start:
        for source in SPEND_SOURCES:
            source(spend, start, end, None)
    return spend


def billed_intervals(status_at_start, changes, start: datetime, end: datetime) -> list:
    """The (since, until) stretches of [start, end) the host spent in a billed status."""
    intervals = []
    status, since = status_at_start, start
    for at, new_status in changes:
        if status in BILLED_STATUSES and at > since:
            intervals.append((since, at))
        status, since = new_status, at
    if status in BILLED_STATUSES and end > since:
        intervals.append((since, end))
    return intervals


def _seconds_per_day(intervals) -> dict[date, float]:
    """The seconds of `intervals` on each day, days in the team's time zone."""
    zone = team_zone()
    seconds: dict[date, float] = defaultdict(float)
    for since, until in intervals:
        cursor = since.astimezone(zone)
        until = until.astimezone(zone)
        while cursor < until:
            midnight = datetime.combine(
                cursor.date() + timedelta(days=1), datetime.min.time(), tzinfo=zone
            )
            step_end = min(midnight, until)
            seconds[cursor.date()] += (step_end - cursor).total_seconds()
            cursor = step_end
    return seconds


# --- What the fleet costs now -------------------------------------------------------------------


@dataclass(frozen=True)
class Burn:
    """What the wallet pays an hour now, and for what: the pay-as-you-go hosts on and every
    disk held (mounted or not: a disk costs its price every hour it exists)."""

    hourly: Figure
    hosts: tuple[Host, ...]
    unpriced: tuple[Host, ...]  # on, but at a price nobody knows
    prices: dict[str, HostPrice] = field(default_factory=dict)
    disks: tuple[Disk, ...] = ()  # held, at the price the provider lists
    unpriced_disks: tuple[Disk, ...] = ()  # held, at a price the provider did not list

    def of(self, keep, keep_disk=lambda disk: False) -> Burn:
        """The part of this burn from the hosts `keep(host)` and the disks `keep_disk(disk)`
        is true of (no query). Disks have no labels: by default none is kept."""
        hosts = tuple(host for host in self.hosts if keep(host))
        disks = tuple(disk for disk in self.disks if keep_disk(disk))
        return Burn(
            hourly=_burn_hourly(hosts, self.prices, disks),
            hosts=hosts,
            unpriced=tuple(host for host in self.unpriced if keep(host)),
            prices=self.prices,
            disks=disks,
            unpriced_disks=tuple(disk for disk in self.unpriced_disks if keep_disk(disk)),
        )


def _burn_hourly(hosts, prices: dict[str, HostPrice], disks) -> Figure:
    return figure_sum(prices[host.id].hourly for host in hosts) + figure_sum(
        Figure.exact(disk.price_per_hour) for disk in disks
    )


def current_burn() -> Burn:
    """The hourly cost of the present pay-as-you-go hosts in a billed status, their labels
    fetched (`Burn.of` takes a budget's part), and of every present disk. Four queries and a
    cache read."""
    running = list(
        Host.objects.present()
        .filter(
            billing_type=BillingType.PAY_AS_YOU_GO,
            status__in=[int(status) for status in BILLED_STATUSES],
        )
        .prefetch_related(labels_prefetch())
        .order_by("name", "id")
    )
    prices = host_prices(running)
    priced = tuple(host for host in running if prices[host.id].hourly is not None)
    held = list(
        Disk.objects.present()
        .only("id", "name", "owner_id", "owner_name", "price_per_hour")
        .order_by("name", "id")
    )
    disks = tuple(disk for disk in held if disk.price_per_hour is not None)
    return Burn(
        hourly=_burn_hourly(priced, prices, disks),
        hosts=priced,
        unpriced=tuple(host for host in running if prices[host.id].hourly is None),
        prices=prices,
        disks=disks,
        unpriced_disks=tuple(disk for disk in held if disk.price_per_hour is None),
    )


@dataclass(frozen=True)
class HostCost:
    """A host's page: what it has cost this month so far, and a day at its current state."""

    price: HostPrice
    month: Figure | None  # None: unknown
    month_hours: Decimal
    per_day: Figure | None  # None: unknown; zero when it is off (pay-as-you-go)


def host_cost(*, host: Host, now: datetime | None = None) -> HostCost:
    """Three queries for a pay-as-you-go host (its price and this month's status history), a
    few more for a rental (what was bought this month)."""
    now = now or timezone.now()
    price = host_prices([host])[host.id]
    start, end = month_bounds(timezone.localtime(now).date())
    end = min(end, now)
    hours = Decimal("0")
    if host.billing_type == BillingType.PAY_AS_YOU_GO:
        at_start = (
            HostStatusChange.objects.filter(host=host, at__lte=start)
            .order_by("-at", "-id")
            .values_list("status", flat=True)
            .first()
        )
        changes = HostStatusChange.objects.filter(host=host, at__gt=start, at__lt=end).order_by(
            "at", "id"
        )
        intervals = billed_intervals(at_start, changes.values_list("at", "status"), start, end)
        seconds = sum((until - since).total_seconds() for since, until in intervals)
        hours = (Decimal(int(seconds)) / 3600).quantize(CENT)
        # Unknown only when it was on at a price nobody knows.
        unknown = price.hourly is None and hours
        month = None if unknown else (price.hourly or Figure.zero()) * hours
    else:
        spend = MonthSpend(month=start.date())
        _rentals(spend, start, end, [host.id])
        unknown = any(line.amount is None for line in spend.rentals)
        month = None if unknown else figure_sum(line.amount for line in spend.rentals)
    if price.hourly is None:
        per_day = None
    elif host.billing_type == BillingType.PAY_AS_YOU_GO and (
        host.is_gone or host.status not in {int(status) for status in BILLED_STATUSES}
    ):
        per_day = Figure(Decimal("0.00"), Decimal("0.00"), price.basis)
    else:
        per_day = price.hourly * Decimal(24)
    return HostCost(price=price, month=month, month_hours=hours, per_day=per_day)


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
