"""Where each budget stands this month, from the spend estimate (dashboard.selectors.spend).

- spent: pay-as-you-go hours so far (and any other metered spend a source adds);
- committed: rentals bought this month (paid up front);
- used: spent + committed, what the 80 % and 100 % alerts and the approval rule compare with
  the budget. The high end of a range counts: an estimate warns early rather than late;
- projected: used + what the hosts behind the budget that are on now (and, for a member, the
  disks they hold: disks have no labels) cost until the month ends.

A member's budget counts the hosts and disks they own and the rentals they bought; a label's
budget the hosts with that label.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from dashboard.models import Budget
from dashboard.selectors.host_prices import Figure, figure_sum
from dashboard.selectors.spend import (
    Burn,
    MonthSpend,
    SpendLine,
    current_burn,
    month_bounds,
    month_spend,
)

# Shares of a budget at which its member and the admins are told (once each per month).
ALERT_PERCENTS = (80, 100)


@dataclass(frozen=True)
class BudgetStatus:
    budget: Budget
    month: datetime
    lines: tuple[SpendLine, ...]
    burn: Burn
    hours_left: Decimal  # in the month, from now

    @property
    def spent(self) -> Figure:
        return figure_sum(
            line.amount for line in self.lines if line.kind != "rental" and line.amount
        )

    @property
    def committed(self) -> Figure:
        return figure_sum(
            line.amount for line in self.lines if line.kind == "rental" and line.amount
        )

    @property
    def used(self) -> Figure:
        return self.spent + self.committed

    @property
    def projected(self) -> Figure:
        return self.used + self.burn.hourly * self.hours_left

    @property
    def percent(self) -> int:
        """Of the budget used (the high end of the range), rounded down."""
        return int(self.used.high * 100 // self.budget.monthly_amount)

    @property
    def projected_percent(self) -> int:
        return int(self.projected.high * 100 // self.budget.monthly_amount)

    @property
    def is_over(self) -> bool:
        return self.used.high >= self.budget.monthly_amount

    @property
    def unpriced(self) -> list[SpendLine]:
        """Lines whose amount is unknown: the budget may be more used than it says."""
        return [line for line in self.lines if line.amount is None]

    @property
    def bar_percent(self) -> int:
        return min(100, self.percent)


def budget_status(
    budget: Budget,
    *,
    spend: MonthSpend | None = None,
    burn: Burn | None = None,
    now: datetime | None = None,
) -> BudgetStatus:
    """`budget` this month; `spend` (this month's) and `burn` (the fleet's now) when the caller
    has them already."""
    now = now or timezone.now()
    spend = spend or month_spend(month=timezone.localtime(now).date(), now=now)
    burn = burn or current_burn()
    if budget.member_id is not None:
        lines = spend.for_member(budget.member_id)
        behind = burn.of(
            lambda host: host.owner_id == budget.member_id,
            lambda disk: disk.owner_id == budget.member_id,
        )
    else:
        lines = spend.for_label(budget.label.name)
        behind = burn.of(
            lambda host: any(label.pk == budget.label_id for label in host.labels_shown)
        )
    start, end = month_bounds(timezone.localtime(now).date())
    hours_left = Decimal(max(0, int((end - now).total_seconds()))) / 3600
    return BudgetStatus(
        budget=budget,
        month=start,
        lines=tuple(lines),
        burn=behind,
        hours_left=hours_left.quantize(Decimal("0.01")),
    )


def budget_statuses(*, now: datetime | None = None) -> list[BudgetStatus]:
    """Every budget this month, from one spend estimate and one reading of the burn: a fixed
    number of queries whatever the number of budgets."""
    now = now or timezone.now()
    budgets = list(Budget.objects.select_related("member", "label"))
    if not budgets:
        return []
    spend = month_spend(month=timezone.localtime(now).date(), now=now)
    burn = current_burn()
    return [budget_status(budget, spend=spend, burn=burn, now=now) for budget in budgets]


def member_budget_status(user, *, now: datetime | None = None) -> BudgetStatus | None:
    """The budget of member `user` this month, or None when they have none."""
    budget = Budget.objects.select_related("member").filter(member_id=user.pk).first()
    return None if budget is None else budget_status(budget, now=now)
