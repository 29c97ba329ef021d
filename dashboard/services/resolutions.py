"""An admin settles what a create left "outcome unknown" did.

A create whose answer was lost and whose result was never recognised in the listing ends
"unknown": it may or may not have made something. An admin checks the provider's console and
says which, with a reason, on the operation's timeline and in the audit trail:

- a host create bought host X (one of the hosts in the mirror no create claimed, new since the
  create was sent), or nothing was bought;
- a disk create made disk X (likewise among the disks), or nothing was made;
- a personal image save made image X (likewise among the images), or nothing was made.

Something made: the create succeeded, and X belongs to the member who asked, as when a create
finds its result itself. Nothing: the create failed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dashboard import permissions, selectors
from dashboard.models import AuditEvent, Disk, Host, Operation, OperationEvent, PersonalImage
from dashboard.refusals import OperationRefused
from dashboard.services.audit import audit_record
from dashboard.services.operation_state import operation_change
from dashboard.services.run_steps import owner_from_create
from dashboard.wording import note, said, stored

State = Operation.State
Kind = Operation.Kind
BOUGHT = "bought"  # a host create's "it made something"
MADE = "made"  # a disk create's or image save's
NOTHING = "nothing"
MAX_REASON = 300


@dataclass(frozen=True)
class Made:
    """What one kind of create makes, as resolving it needs to know."""

    outcome: str  # the form's value for "it made this one"
    field: str  # the operation's field naming it, and the form's field: host, disk, image
    candidates: Callable  # (operation=) -> the rows it may have made
    mirror: type  # the model of what it makes: the row goes to the member who asked
    said_made: str  # wording keys of the operation's new message
    said_nothing: str
    noun: str  # the audit's English words: what it made, and what it was
    doing: str
    choose: object  # lazy words: "choose the X it made"
    not_candidate: object


HOST_MADE = Made(
    outcome=BOUGHT,
    field="host",
    candidates=selectors.operation_resolve_hosts,
    mirror=Host,
    said_made="resolved_bought",
    said_nothing="resolved_nothing",
    noun="host",
    doing="Purchase",
    choose=gettext_lazy("Choose the host it bought."),
    not_candidate=gettext_lazy(
        "This host is not one the create may have bought: it is gone, another create claimed "
        "it, or the mirror knew it before the create was sent."
    ),
)
DISK_MADE = Made(
    outcome=MADE,
    field="disk",
    candidates=selectors.operation_resolve_disks,
    mirror=Disk,
    said_made="resolved_made_disk",
    said_nothing="resolved_nothing_made",
    noun="disk",
    doing="Disk create",
    choose=gettext_lazy("Choose the disk it made."),
    not_candidate=gettext_lazy(
        "This disk is not one the create may have made: it is gone, another create claimed it, "
        "or the mirror knew it before the create was sent."
    ),
)
IMAGE_MADE = Made(
    outcome=MADE,
    field="image",
    candidates=selectors.operation_resolve_images,
    mirror=PersonalImage,
    said_made="resolved_made_image",
    said_nothing="resolved_nothing_made",
    noun="image",
    doing="Personal image save",
    choose=gettext_lazy("Choose the personal image it made."),
    not_candidate=gettext_lazy(
        "This image is not one the save may have made: it is gone, another save claimed it, or "
        "the mirror knew it before the save was sent."
    ),
)
MADE_BY_KIND = {
    Kind.CREATE_PAY_AS_YOU_GO: HOST_MADE,
    Kind.CREATE_RENTAL: HOST_MADE,
    Kind.DISK_CREATE: DISK_MADE,
    Kind.IMAGE_CREATE: IMAGE_MADE,
}


def resolvable(operation: Operation) -> Made | None:
    """What `operation` may have made, when an admin may resolve it; None when it is not a
    create whose outcome is unknown."""
    if operation.state != State.UNKNOWN:
        return None
    return MADE_BY_KIND.get(operation.kind)


def check_resolver(user) -> None:
    """Raise `Forbidden` (a 403 page that says why) unless `user` may resolve operations."""
    if not permissions.can_resolve(user):
        raise permissions.Forbidden(
            _("Only an admin may say what an operation whose outcome is unknown did.")
        )


def operation_resolve(
    *, user, operation: Operation, outcome: str, made_id: str = "", reason: str = ""
) -> Operation:
    """Say that `operation` (a create whose outcome is unknown) made `made_id` (`outcome`
    "bought" for a host create, "made" for a disk create or image save) or nothing
    ("nothing"). Raises `Forbidden` for anyone but an admin and `OperationRefused` (why, for
    the admin) for what cannot be said."""
    check_resolver(user)
    reason = " ".join(reason.split())[:MAX_REASON]
    made = MADE_BY_KIND.get(operation.kind)
    if made is not None and outcome not in (made.outcome, NOTHING):
        raise OperationRefused(
            _("Choose what it did: it bought a host, or nothing was bought.")
            if made is HOST_MADE
            else _("Choose what it did: it made this one, or nothing was made.")
        )
    if not reason:
        raise OperationRefused(_("Say why: what the provider's console shows."))
    name = user.get_username()
    with transaction.atomic():
        operation = Operation.objects.select_for_update().get(pk=operation.pk)
        made = resolvable(operation)
        if made is None:
            raise OperationRefused(
                _(
                    "Only an operation whose outcome is unknown can be resolved; this one is "
                    "%(state)s."
                )
                % {"state": operation.get_state_display().lower()}
            )
        if outcome == NOTHING:
            row = None
            values = {
                "state": State.FAILED,
                **stored(said(made.said_nothing, name=name, reason=reason)),
            }
        else:
            row = _made_row(made, operation, made_id)
            label = f"{row.name} ({row.id})" if row.name else row.id
            values = {
                "state": State.SUCCEEDED,
                f"{made.field}_id": row.id,
                f"{made.field}_name": row.name or row.id,
                **stored(said(made.said_made, **{made.field: label}, name=name, reason=reason)),
            }
        now = timezone.now()
        try:
            with transaction.atomic():  # a savepoint: a unique constraint may refuse the row
                operation_change(
                    operation,
                    expect=(State.UNKNOWN,),
                    event=OperationEvent.Event.RESOLVED,
                    note=note(said("resolved_note", name=name, reason=reason)),
                    now=now,
                    **values,  # finished_at stays: what was made, if anything, was made then
                )
        except IntegrityError:
            raise OperationRefused(str(made.not_candidate)) from None
        if row is not None:
            owner_from_create(made.mirror, operation, row.id)
        _audit(user, operation, made, outcome, row, reason)
    return operation


def _made_row(made: Made, operation: Operation, made_id: str):
    """The row an admin names, if the create may have made it (see the selectors)."""
    if not made_id:
        raise OperationRefused(str(made.choose))
    row = made.candidates(operation=operation).filter(id=made_id).first()
    if row is None:
        raise OperationRefused(str(made.not_candidate))
    return row


def _audit(user, operation: Operation, made: Made, outcome: str, row, reason: str) -> None:
    verb = "bought" if made is HOST_MADE else f"made {made.noun}"
    what = f"{verb} {row.name or row.id}" if row is not None else f"{verb.split()[0]} nothing"
    summary = f"{made.doing} #{operation.pk} by {operation.requested_by_name} resolved: {what}."
    audit_record(
        AuditEvent.Action.OPERATION_RESOLVED,
        f"{summary} Reason: {reason}",
        actor=user,
        operation=operation,
        host=row if isinstance(row, Host) else None,
        details={
            "outcome": outcome,
            "reason": reason,
            made.field: row.id if row is not None else "",
        },
    )
