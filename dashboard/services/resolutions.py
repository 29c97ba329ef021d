"""An admin settles what a create left "outcome unknown" did.

A create whose answer was lost and whose host was never recognised in the listing ends
"unknown": it may or may not have bought a host. An admin checks the provider's console and
says which: it bought host X (one of the hosts in the mirror no create claimed; the create then
succeeded, and X belongs to the member who asked, as any host a create bought), or nothing was
bought (the create failed). Either way with a reason, on the operation's timeline and in the
audit trail.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dashboard import permissions, selectors
from dashboard.models import AuditEvent, Host, Operation, OperationEvent
from dashboard.services.audit import audit_record
from dashboard.services.operation_run import host_owner_from_create
from dashboard.services.operation_state import OperationRefused, operation_change
from dashboard.wording import note, said, stored

State = Operation.State
BOUGHT = "bought"
NOTHING = "nothing"
MAX_REASON = 300


def check_resolver(user) -> None:
    """Raise `Forbidden` (a 403 page that says why) unless `user` may resolve operations."""
    if not permissions.can_resolve(user):
        raise permissions.Forbidden(
            _("Only an admin may say what an operation whose outcome is unknown did.")
        )


def operation_resolve(
    *, user, operation: Operation, outcome: str, host_id: str = "", reason: str = ""
) -> Operation:
    """Say that `operation` (a create whose outcome is unknown) bought `host_id` (`outcome`
    "bought") or nothing ("nothing"). Raises `Forbidden` for anyone but an admin and
    `OperationRefused` (why, for the admin) for what cannot be said."""
    check_resolver(user)
    reason = " ".join(reason.split())[:MAX_REASON]
    if outcome not in (BOUGHT, NOTHING):
        raise OperationRefused(_("Choose what it did: it bought a host, or nothing was bought."))
    if not reason:
        raise OperationRefused(_("Say why: what the provider's console shows."))
    name = user.get_username()
    with transaction.atomic():
        operation = Operation.objects.select_for_update().get(pk=operation.pk)
        if operation.state != State.UNKNOWN or not operation.is_create:
            raise OperationRefused(
                _(
                    "Only an operation whose outcome is unknown can be resolved; this one is "
                    "%(state)s."
                )
                % {"state": operation.get_state_display().lower()}
            )
        if outcome == BOUGHT:
            host = _bought_host(operation, host_id)
            label = f"{host.name} ({host.id})" if host.name else host.id
            values = {
                "state": State.SUCCEEDED,
                "host_id": host.id,
                "host_name": host.name or host.id,
                **stored(said("resolved_bought", host=label, name=name, reason=reason)),
            }
        else:
            host = None
            values = {
                "state": State.FAILED,
                **stored(said("resolved_nothing", name=name, reason=reason)),
            }
        now = timezone.now()
        try:
            with transaction.atomic():  # a savepoint: the unique constraint may refuse the host
                operation_change(
                    operation,
                    expect=(State.UNKNOWN,),
                    event=OperationEvent.Event.RESOLVED,
                    note=note(said("resolved_note", name=name, reason=reason)),
                    now=now,
                    **values,  # finished_at stays: the purchase, if any, was made back then
                )
        except IntegrityError:
            raise OperationRefused(_not_a_candidate()) from None
        if host is not None:
            host_owner_from_create(operation, host.id)
        what = f"bought {host.name or host.id}" if host is not None else "bought nothing"
        audit_record(
            AuditEvent.Action.OPERATION_RESOLVED,
            f"Purchase #{operation.pk} by {operation.requested_by_name} resolved: {what}. "
            f"Reason: {reason}",
            actor=user,
            operation=operation,
            host=host,
            details={"outcome": outcome, "reason": reason, "host": host.id if host else ""},
        )
    return operation


def _bought_host(operation: Operation, host_id: str) -> Host:
    """The host an admin names, if the create may have bought it (see the selector)."""
    if not host_id:
        raise OperationRefused(_("Choose the host it bought."))
    host = selectors.operation_resolve_hosts(operation=operation).filter(id=host_id).first()
    if host is None:
        raise OperationRefused(_not_a_candidate())
    return host


def _not_a_candidate() -> str:
    return _(
        "This host is not one the create may have bought: it is gone, another create claimed "
        "it, or the mirror knew it before the create was sent."
    )
