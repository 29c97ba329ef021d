"""When a create needs another admin's approval (see dashboard.services.approvals): its price
against the team's limit. Apart from the approvals themselves, so that asking for an operation
can consult it without importing what approving needs."""

from __future__ import annotations

from decimal import Decimal

from dashboard.models import TeamPolicy


def create_price(operation_or_params) -> Decimal | None:
    """What a create costs as the member confirmed it: the period's total for a rental, the
    hourly price for pay-as-you-go."""
    params = getattr(operation_or_params, "params", operation_or_params)
    value = params.get("total_price") or params.get("hourly_price")
    return None if value in (None, "") else Decimal(str(value))


def needs_approval(params: dict) -> bool:
    return approval_limit_exceeded(create_price(params)) is not None


def approval_limit_exceeded(price: Decimal | None) -> Decimal | None:
    """The team's limit when `price` is above it (a create at that price waits for approval),
    else None."""
    threshold = TeamPolicy.current().approval_threshold
    if threshold is not None and price is not None and price > threshold:
        return threshold
    return None
