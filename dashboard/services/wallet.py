"""The wallet: an admin's record of the balance (after a top-up), what a refusal for money tells
(9001: a create needed more than the balance; 6003: a power-on needed at least an hour's price),
and the alert when the runway (dashboard.selectors.runway) falls below XDS_RUNWAY_ALERT_HOURS.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from dashboard.models import AuditEvent, Notification, Operation, WalletBalance
from dashboard.selectors.host_prices import CENT, host_prices
from dashboard.selectors.runway import runway_get
from dashboard.services import notifications
from dashboard.services.audit import audit_record
from dashboard.wording import alert_stored

# The refusals that say the balance is below what was needed.
BALANCE_CODES = frozenset({"9001", "6003"})


def wallet_record(*, user, amount: Decimal, note: str = "", at: datetime | None = None):
    """An admin records the balance the console shows (after a top-up). Audited."""
    with transaction.atomic():
        record = WalletBalance.objects.create(
            source=WalletBalance.Source.RECORDED,
            amount=amount,
            at=at or timezone.now(),
            recorded_by_name=user.get_username(),
            note=note[:300],
        )
        audit_record(
            AuditEvent.Action.WALLET_RECORDED,
            f"Wallet balance recorded: ¥{amount}",
            actor=user,
            details={"amount": str(amount), "note": note[:300]},
        )
    return record


def needed_by(operation: Operation) -> Decimal | None:
    """What `operation` needed the wallet to hold: a create's price as confirmed (a rental's
    total, an hour of pay-as-you-go), a power-on an hour of the host's price."""
    from dashboard.services.approval_policy import create_price

    if operation.kind in Operation.CREATE_KINDS:
        return create_price(operation)
    if operation.kind == Operation.Kind.POWER_ON and operation.host is not None:
        price = host_prices([operation.host])[operation.host_id].hourly
        return None if price is None else price.high
    return None


def learn_from_refusal(operation: Operation) -> WalletBalance | None:
    """A refusal for lack of balance tells the balance was below what was needed: recorded as a
    bound, which the runway uses until a newer record."""
    if operation.error_code not in BALANCE_CODES:
        return None
    needed = needed_by(operation)
    if needed is None:
        return None
    return WalletBalance.objects.create(
        source=WalletBalance.Source.REFUSED,
        amount=needed,
        is_upper_bound=True,
        at=operation.finished_at or timezone.now(),
        recorded_by_name=operation.requested_by_name,
        operation=operation,
        note=f"Operation #{operation.pk} refused (code {operation.error_code})",
    )


def runway_check(*, now: datetime | None = None) -> int:
    """Tell the admins once per balance record when the wallet lasts fewer than
    XDS_RUNWAY_ALERT_HOURS at the current burn. Returns how many were sent (0 or 1)."""
    runway = runway_get(now=now)
    hours = runway.hours_shown
    threshold = settings.XDS_RUNWAY_ALERT_HOURS
    if runway.record is None or hours is None or hours >= threshold:
        return 0
    key = f"runway:{runway.record.pk}:{threshold}"
    if Notification.objects.filter(key=key).exists():
        return 0
    # What stops: the hosts on, then the disks held.
    burning = [str(host) for host in runway.burn.hosts] + [d.label for d in runway.burn.disks]
    names = ", ".join(burning[:20])
    more = len(burning) - 20
    if more > 0:
        names += f" and {more} more"
    return notifications.notify(
        key=key,
        kind=Notification.Kind.RUNWAY,
        message=alert_stored(
            "runway_low_at_most" if runway.is_upper_bound else "runway_low",
            hours=str(hours),
            hourly=str(runway.burn.hourly.high.quantize(CENT)),  # disks list 4 places
            names=names,
        ),
        users=list(notifications.admins()),
        link=reverse("spend"),
    )
