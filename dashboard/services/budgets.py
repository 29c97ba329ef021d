"""Budgets: the alerts at 80 % and 100 % of a month's budget, and recording an admin's change.

`budgets_check` runs with the other alerts (beat, every XDS_ALERT_CHECK_SECONDS). Each alert's
notification key names the budget, the month and the threshold, so each is sent once a month
however often the check runs; a budget raised back under a threshold and crossed again in the
same month is not told twice (the first alert already said it).
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from dashboard.models import AuditEvent, Budget, Notification
from dashboard.selectors.budgets import ALERT_PERCENTS, BudgetStatus, budget_statuses
from dashboard.services import notifications
from dashboard.services.audit import audit_record
from dashboard.wording import alert_stored


def budgets_check(*, now: datetime | None = None) -> int:
    """Tell the member (for a member's budget) and the admins about every budget that crossed
    80 % or 100 % this month. Returns how many notifications were sent."""
    now = now or timezone.now()
    sent = 0
    team = list(notifications.admins())
    for status in budget_statuses(now=now):
        for percent in ALERT_PERCENTS:
            if status.percent < percent:
                continue
            key = f"budget:{status.budget.pk}:{status.month:%Y-%m}:{percent}"
            if Notification.objects.filter(key=key).exists():
                continue
            sent += notifications.notify(
                key=key,
                kind=Notification.Kind.BUDGET,
                message=_alert(status, percent),
                users=[status.budget.member, *team],
                link=reverse("budget-detail", args=[status.budget.pk]),
            )
    return sent


def _alert(status: BudgetStatus, percent: int) -> dict:
    budget = status.budget
    if percent < 100:
        key = "budget_reached"
    elif budget.member_id is not None and status.is_over:
        key = "budget_used_up_member"
    else:
        key = "budget_used_up"
    return alert_stored(
        key,
        whose=_whose(budget),
        percent=str(status.percent),
        used=str(status.used.high),
        budget=str(budget.monthly_amount),
        spent=str(status.spent.high),
        committed=str(status.committed.high),
        projected=str(status.projected.high),
    )


def _whose(budget: Budget) -> str:
    if budget.member_id is not None:
        return budget.member.get_username()
    return f"“{budget.label.name}”"  # a label: its name, quoted (no words to translate)


def budget_changed(*, user, budget: Budget, what: str) -> None:
    """Audit an admin's change of a budget ("created", "changed", "deleted")."""
    with transaction.atomic():
        audit_record(
            AuditEvent.Action.BUDGET_CHANGED,
            f"Budget of {_whose(budget)}: ¥{budget.monthly_amount} a month, {what}",
            actor=user,
            details={
                "budget": budget.pk,
                "member": budget.member.get_username() if budget.member_id else "",
                "label": budget.label.name if budget.label_id else "",
                "monthly_amount": str(budget.monthly_amount),
                "change": what,
            },
        )
