"""A second pair of eyes on big purchases.

A create priced above the team's limit (TeamPolicy.approval_threshold: the hourly price for
pay-as-you-go, the period's total for a rental) is saved "awaiting approval" and nothing is
sent to the worker. Another admin approves it (it is then queued and bought as usual), rejects
it, or nobody does within XDS_APPROVAL_EXPIRY_HOURS and it expires; nothing is bought in either
of the last two cases. Approving checks the price again: a price that moved since the member
confirmed it is not approved (they ask again at the new price). Each decision is audited, and the
approvers are told when one is waiting (see dashboard.services.notifications).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dashboard import permissions
from dashboard.disk_rules import disk_params_checked
from dashboard.models import AuditEvent, Host, Operation, OperationEvent
from dashboard.refusals import OperationRefused
from dashboard.services.approval_policy import create_price
from dashboard.services.audit import audit_record
from dashboard.services.operation_state import operation_change, operation_finish
from dashboard.services.operations import operation_dispatch
from dashboard.services.pricing import create_params_checked
from dashboard.wording import note, said, stored

State = Operation.State


def _check_approver(user, operation: Operation) -> None:
    if permissions.holds_password_of(user, operation.requested_by_id):
        raise permissions.Forbidden(
            _(
                "You set the password of the member who asked (or created their account), so "
                "you could have asked in their name: another admin must approve or reject it."
            )
        )
    if not permissions.can_approve(user, operation):
        raise permissions.Forbidden(
            _("Only another admin may approve or reject this purchase, not the member who asked.")
        )


def operation_approve(*, user, operation: Operation) -> Operation:
    _check_approver(user, operation)
    if operation.state != State.AWAITING:
        raise OperationRefused(_("This purchase is no longer waiting for approval."))
    if operation.kind == Operation.Kind.DISK_CREATE:
        # Raises OperationRefused when the area's quota or the host no longer allows it.
        host = Host.objects.filter(pk=operation.host_id).first() if operation.host_id else None
        disk_params_checked(kind=operation.kind, disk=None, host=host, params=operation.params)
    else:
        # Raises OperationRefused when the price moved or the template or image is gone.
        create_params_checked(
            kind=operation.kind,
            params={**operation.params, "confirmed_price": create_price(operation)},
        )
    name = user.get_username()
    with transaction.atomic():
        if not operation_change(
            operation,
            expect=(State.AWAITING,),
            event=OperationEvent.Event.APPROVED,
            note=note(said("approved_by", name=name)),
            state=State.QUEUED,
            next_run_at=timezone.now(),
        ):
            raise OperationRefused(_("This purchase is no longer waiting for approval."))
        _decision_record(AuditEvent.Action.APPROVAL_GRANTED, user, operation, "approved")
        transaction.on_commit(lambda: operation_dispatch(operation=operation))
    return operation


def operation_reject(*, user, operation: Operation, reason: str = "") -> Operation:
    _check_approver(user, operation)
    name = user.get_username()
    reason = reason.strip()[:300]
    why = f": {reason}" if reason else "."
    with transaction.atomic():
        if not operation_finish(
            operation,
            State.CANCELLED,
            **stored(
                said("rejected_because", name=name, reason=reason)
                if reason
                else said("rejected", name=name)
            ),
            code="rejected",
            expect=(State.AWAITING,),
        ):
            raise OperationRefused(_("This purchase is no longer waiting for approval."))
        _decision_record(
            AuditEvent.Action.APPROVAL_REJECTED, user, operation, f"rejected{why}", reason=reason
        )
    return operation


def _decision_record(action: str, user, operation: Operation, decided: str, **details) -> None:
    """The audit row of an approver's decision on a purchase, with its price."""
    audit_record(
        action,
        f"Purchase #{operation.pk} by {operation.requested_by_name} {decided}",
        actor=user,
        operation=operation,
        details={**details, "price": str(create_price(operation))},
    )


def approvals_expire(*, now=None) -> int:
    """End the purchases nobody approved in time. Returns how many."""
    now = now or timezone.now()
    hours = settings.XDS_APPROVAL_EXPIRY_HOURS
    stale = Operation.objects.filter(
        state=State.AWAITING, created_at__lt=now - timedelta(hours=hours)
    )
    count = 0
    for operation in stale:
        with transaction.atomic():
            if operation_finish(
                operation,
                State.CANCELLED,
                **stored(said("approval_expired", hours=hours)),
                code="expired",
                expect=(State.AWAITING,),
                now=now,
            ):
                audit_record(
                    AuditEvent.Action.APPROVAL_EXPIRED,
                    f"Purchase #{operation.pk} by {operation.requested_by_name} expired unapproved",
                    actor=operation.requested_by,
                    actor_name=operation.requested_by_name,
                    operation=operation,
                )
                count += 1
    return count


def awaiting_count() -> int:
    return Operation.objects.filter(state=State.AWAITING).count()
