"""When a create needs another admin's approval (see dashboard.services.approvals): its price
against the team's limit, or a member over their monthly budget (dashboard.models.budgets).
Apart from the approvals themselves, so that asking for an operation can consult it without
importing what approving needs; and changing that limit, where the two-person rule applies too
(a raise waits for a second admin, see `policy_change`)."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dashboard import permissions
from dashboard.models import AuditEvent, Operation, TeamPolicy
from dashboard.services import notifications
from dashboard.services.audit import audit_record


def create_price(operation_or_params) -> Decimal | None:
    """What a create costs as the member confirmed it: the period's total for a rental, the
    hourly price for pay-as-you-go."""
    params = getattr(operation_or_params, "params", operation_or_params)
    value = params.get("total_price") or params.get("hourly_price")
    return None if value in (None, "") else Decimal(str(value))


def needs_approval(params: dict, *, kind: str = "", user=None) -> bool:
    """Whether a purchase with `params` waits for another admin: above the team's limit, or
    asked for by a member over their budget. A disk whose price cannot be estimated (no disk of
    its area is known yet) waits whenever the team has a limit: it may be above it."""
    price = create_price(params)
    if price is None and kind == Operation.Kind.DISK_CREATE:
        if TeamPolicy.current().approval_threshold is not None:
            return True
    elif approval_limit_exceeded(price) is not None:
        return True
    return user is not None and over_budget(user, params) is not None


def over_budget(user, params: dict | None = None):
    """The member's budget status when it is used up, or when this create (a rental: its total
    is paid at once) would use it up; else None."""
    from dashboard.selectors.budgets import member_budget_status

    status = member_budget_status(user)
    if status is None:
        return None
    extra = Decimal(str((params or {}).get("total_price") or 0))
    if status.used.high + extra >= status.budget.monthly_amount:
        return status
    return None


def approval_limit_exceeded(price: Decimal | None) -> Decimal | None:
    """The team's limit when `price` is above it (a create at that price waits for approval),
    else None."""
    threshold = TeamPolicy.current().approval_threshold
    if threshold is not None and price is not None and price > threshold:
        return threshold
    return None


# --- Changing the limit: a raise needs a second admin ------------------------------------------


class PolicyChange(StrEnum):
    APPLIED = "applied"
    PROPOSED = "proposed"
    UNCHANGED = "unchanged"


def _money(value: Decimal | None) -> str:
    return "none" if value is None else f"¥{value}"


def lets_more_through(old: Decimal | None, new: Decimal | None) -> bool:
    """Whether going from limit `old` to `new` lets a purchase through without approval that
    needed it before: a higher limit, or none where there was one."""
    return old is not None and (new is None or new > old)


def _apply(policy: TeamPolicy, threshold: Decimal | None, name: str, now) -> None:
    policy.approval_threshold = threshold
    policy.updated_at, policy.updated_by_name = now, name
    # A change that took effect supersedes a raise still waiting (confirmed or not).
    policy.proposed_at = policy.proposed_threshold = policy.proposed_by = None
    policy.proposed_by_name = ""
    policy.save()


def _locked() -> TeamPolicy:
    TeamPolicy.current()  # the row exists
    return TeamPolicy.objects.select_for_update().get(pk=1)


def policy_change(*, user, threshold: Decimal | None) -> PolicyChange:
    """Set the approval limit. A stricter limit (lower, or one where there was none) takes effect
    at once; a raise or removal by anyone but a superuser is only proposed, for another admin to
    confirm, and the others are told. Audited either way."""
    name, now = user.get_username(), timezone.now()
    with transaction.atomic():
        policy = _locked()
        old = policy.approval_threshold
        if threshold == old and policy.proposed_at is None:
            return PolicyChange.UNCHANGED
        if lets_more_through(old, threshold) and not user.is_superuser:
            policy.proposed_at, policy.proposed_threshold = now, threshold
            policy.proposed_by, policy.proposed_by_name = user, name
            policy.save()
            audit_record(
                AuditEvent.Action.POLICY_PROPOSED,
                f"Approval limit: {_money(old)} → {_money(threshold)} proposed, "
                "waiting for another admin",
                actor=user,
                details={"approval_threshold": str(threshold), "in_force": str(old)},
            )
            notifications.policy_proposed(policy, old)
            return PolicyChange.PROPOSED
        _apply(policy, threshold, name, now)
        audit_record(
            AuditEvent.Action.POLICY_CHANGED,
            f"Approval limit: {_money(old)} → {_money(threshold)}",
            actor=user,
            details={"approval_threshold": str(threshold)},
        )
    return PolicyChange.APPLIED


def may_confirm(user, policy: TeamPolicy) -> bool:
    """Another admin than the one who proposed the raise (a superuser's changes need none)."""
    return (
        policy.proposed_at is not None
        and user.is_active
        and permissions.has(user, "dashboard.change_teampolicy")
        and permissions.has(user, permissions.APPROVE)
        and policy.proposed_by_id != user.pk
    )


def policy_confirm(*, user) -> TeamPolicy:
    with transaction.atomic():
        policy = _locked()
        if not may_confirm(user, policy):
            raise permissions.Forbidden(
                _(
                    "Only another admin may confirm this change of the approval limit, not the "
                    "one who proposed it; and only while it is waiting."
                )
            )
        old, new = policy.approval_threshold, policy.proposed_threshold
        proposed_by = policy.proposed_by_name
        _apply(policy, new, user.get_username(), timezone.now())
        audit_record(
            AuditEvent.Action.POLICY_CHANGED,
            f"Approval limit: {_money(old)} → {_money(new)}, proposed by {proposed_by}, "
            f"confirmed by {user.get_username()}",
            actor=user,
            details={"approval_threshold": str(new), "proposed_by": proposed_by},
        )
    return policy


def policy_discard(*, user) -> TeamPolicy:
    """Drop the raise waiting (its proposer withdrawing it, or another admin refusing it)."""
    with transaction.atomic():
        policy = _locked()
        if policy.proposed_at is None:
            return policy
        proposed, proposed_by = policy.proposed_threshold, policy.proposed_by_name
        policy.proposed_at = policy.proposed_threshold = policy.proposed_by = None
        policy.proposed_by_name = ""
        policy.save()
        audit_record(
            AuditEvent.Action.POLICY_DISCARDED,
            f"Approval limit {_money(proposed)} proposed by {proposed_by} discarded",
            actor=user,
            details={"approval_threshold": str(proposed), "proposed_by": proposed_by},
        )
    return policy
