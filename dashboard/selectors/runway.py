"""How long the wallet lasts: the latest balance the dashboard knows (recorded by an admin, or
learnt from a refusal for money), less what was spent since (dashboard.selectors.spend), divided
by what the pay-as-you-go hosts on now and the disks held cost an hour. "About N hours left, then
these hosts and N disks stop."

Everything here is an estimate: the provider gives no balance, the spend since the record is the
dashboard's own, and a refusal only says the balance was below what was needed (then the hours
are an upper bound: "at most").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from dashboard.models import WalletBalance
from dashboard.selectors.host_prices import Basis, Figure
from dashboard.selectors.spend import Burn, current_burn, spend_between

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Runway:
    record: WalletBalance | None
    spent_since: Figure | None
    burn: Burn

    @property
    def is_upper_bound(self) -> bool:
        return self.record is not None and self.record.is_upper_bound

    @property
    def balance(self) -> Figure | None:
        """What is left now: the record less what was spent since (never below zero)."""
        if self.record is None:
            return None
        amount = self.record.amount
        spent = self.spent_since or Figure.zero()
        basis = max(Basis.ESTIMATED, spent.basis)
        return Figure(max(ZERO, amount - spent.high), max(ZERO, amount - spent.low), basis)

    @property
    def hours_left(self) -> tuple[Decimal, Decimal] | None:
        """(fewest, most) hours left at the current burn; None when nothing burns or no balance
        is known."""
        balance, hourly = self.balance, self.burn.hourly
        if balance is None or hourly.high <= 0:
            return None
        fewest = (balance.low / hourly.high).quantize(Decimal("0.1"))
        most = (balance.high / max(hourly.low, Decimal("0.01"))).quantize(Decimal("0.1"))
        return fewest, most

    @property
    def hours_shown(self) -> Decimal | None:
        """The one number a sentence gives: the fewest hours (what to plan for)."""
        left = self.hours_left
        return None if left is None else left[0]


def runway_get(*, now: datetime | None = None) -> Runway:
    now = now or timezone.now()
    record = WalletBalance.objects.order_by("-at", "-id").first()
    spent = None
    if record is not None:
        spend = spend_between(record.at, now)
        spent = spend.total
    return Runway(record=record, spent_since=spent, burn=current_burn())
