"""Writes: asking for an operation, handing it to the worker, and picking up what was left.

- `operation_request` validates, refuses a second action in flight on a host, finds the
  operation a double click already made (one idempotency key per form), saves, and hands the
  operation to the worker only once the transaction has committed (a create is priced and
  checked by dashboard.services.pricing).
- `operation_dispatch` publishes one run of an operation. A broker that is down leaves the
  operation queued with the reason recorded (the member is told); `operations_requeue`, run by
  beat, publishes it again once the broker is back.
- `operations_reconcile`, run by beat, resumes operations a killed worker left in flight. What a
  run then does (never buying twice) is `operation_run`'s business, written with the
  primitives of dashboard.services.operation_state.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from dashboard import permissions
from dashboard.disk_rules import disk_params_checked
from dashboard.image_rules import image_params_checked
from dashboard.locks import lock_holder
from dashboard.models import Disk, Host, Operation, OperationEvent, PersonalImage
from dashboard.refusals import OperationRefused
from dashboard.services import approval_policy, notifications, operation_audit
from dashboard.services.operation_state import (
    operation_event,
    operation_finish,
    run_lock_key,
)
from dashboard.services.pricing import create_params_checked
from dashboard.wording import note, said, stored

logger = logging.getLogger(__name__)

# The most queued or stale operations one periodic pass hands to the worker.
RESUME_BATCH = 500


# --- Asking ---------------------------------------------------------------------------------


def operation_request(
    *,
    user,
    kind: str,
    host: Host | None = None,
    disk: Disk | None = None,
    image: PersonalImage | None = None,
    params: dict | None = None,
    idempotency_key: uuid.UUID | str,
    batch: uuid.UUID | None = None,
) -> Operation:
    """Save an operation and hand it to the worker once the transaction commits.

    The same `idempotency_key` returns the operation it already made (a double click, a form
    sent again). Raises `OperationRefused` (why, for the member) and `PermissionDenied`. If the
    broker is down, the operation is saved all the same and its `queue_error` says so.
    """
    key = uuid.UUID(str(idempotency_key))
    existing = _by_key(key, user=user)
    if existing is not None:
        return existing
    if kind not in Operation.Kind.values:
        raise ValueError(f"unknown operation kind {kind!r}")
    if kind in Operation.DISK_KINDS:
        disk, host = _disk_targets(kind, disk, host)
    elif kind in Operation.IMAGE_KINDS:
        image, host = _image_targets(kind, image, host)
    elif kind in Operation.CREATE_KINDS:
        if host is not None:
            raise ValueError("a create names no host")
    else:
        if host is None:
            raise ValueError(f"{kind} needs a host")
        host = Host.objects.get(pk=host.pk)  # the state as it is now, not as the page saw it
    forbidden = permissions.refusal(user, kind, host, disk=disk, image=image)
    if forbidden:
        _audit_refused(
            user, kind, host, params, forbidden, code="forbidden", disk=disk, image=image
        )
        raise permissions.Forbidden(forbidden, audited=True)
    try:
        if kind in Operation.DISK_KINDS:
            params = disk_params_checked(kind=kind, disk=disk, host=host, params=params)
        elif kind in Operation.IMAGE_KINDS:
            params = image_params_checked(kind=kind, image=image, host=host, params=params)
        elif kind in Operation.CREATE_KINDS:
            params = create_params_checked(kind=kind, params=params or {})
        else:
            _check_host_allows(host, kind)
            params = {}
    except OperationRefused as refused:
        _audit_refused(user, kind, host, params, refused.message, disk=disk, image=image)
        raise

    now = timezone.now()
    awaiting = kind in Operation.PRICED_KINDS and approval_policy.needs_approval(
        params, kind=kind, user=user
    )
    try:
        with transaction.atomic():
            operation = Operation.objects.create(
                state=Operation.State.AWAITING if awaiting else Operation.State.QUEUED,
                kind=kind,
                requested_by=user,
                requested_by_name=user.get_username(),
                host=host,
                host_name=(host.name or host.id) if host is not None else "",
                disk=disk,
                disk_name=disk.label if disk is not None else "",
                image=image,
                image_name=image.label if image is not None else "",
                params=params,
                idempotency_key=key,
                batch=batch,
                created_at=now,
                updated_at=now,
                next_run_at=None if awaiting else now,
            )
            operation_event(operation, OperationEvent.Event.REQUESTED, at=now)
            operation_audit.requested(operation)
            if host is not None:
                Host.objects.filter(pk=host.pk).update(version=F("version") + 1)
            if disk is not None:
                Disk.objects.filter(pk=disk.pk).update(version=F("version") + 1)
            if image is not None:
                PersonalImage.objects.filter(pk=image.pk).update(version=F("version") + 1)
            if awaiting:
                operation_event(operation, OperationEvent.Event.APPROVAL_NEEDED, at=now)
                transaction.on_commit(lambda: notifications.approval_needed(operation))
            else:
                transaction.on_commit(lambda: operation_dispatch(operation=operation))
    except IntegrityError:
        # A race the checks above could not see: the same form twice at once, or two members
        # acting on one host at once. The database's constraints decided; say which.
        existing = _by_key(key, user=user)
        if existing is not None:
            return existing
        try:
            if kind in Operation.DISK_KINDS:
                _disk_race_refusal(disk, host)
            elif kind in Operation.IMAGE_KINDS:
                _disk_race_refusal(image, host)
            elif host is not None:
                _check_host_allows(host, kind)
        except OperationRefused as refused:
            _audit_refused(user, kind, host, params, refused.message, disk=disk, image=image)
            raise
        raise
    return operation


def _disk_targets(kind: str, disk: Disk | None, host: Host | None):
    """The disk and host a disk operation holds, as they are now: a create the host it mounts
    on (if any), an attach the host it mounts on, a detach the host the disk is mounted on."""
    if kind == Operation.Kind.DISK_CREATE:
        if disk is not None:
            raise ValueError("a disk create names no disk")
    else:
        if disk is None:
            raise ValueError(f"{kind} needs a disk")
        disk = Disk.objects.select_related("host").get(pk=disk.pk)
        if kind == Operation.Kind.DISK_ATTACH and host is None:
            raise ValueError("an attach needs a host")
        if kind == Operation.Kind.DISK_DETACH:
            host = disk.host
        elif kind == Operation.Kind.DISK_DESTROY:
            host = None
    if host is not None:
        host = Host.objects.get(pk=host.pk)
    return disk, host


def _image_targets(kind: str, image: PersonalImage | None, host: Host | None):
    """The image and host an image operation holds, as they are now: a create the host it is
    made from (and no image yet), a rename or delete the image alone."""
    if kind == Operation.Kind.IMAGE_CREATE:
        if image is not None or host is None:
            raise ValueError("an image create names a host and no image")
        return None, Host.objects.get(pk=host.pk)
    if image is None:
        raise ValueError(f"{kind} needs an image")
    return PersonalImage.objects.get(pk=image.pk), None


def _disk_race_refusal(disk: Disk | PersonalImage | None, host: Host | None) -> None:
    """After a constraint said no: the operation now in flight on the disk (or personal image)
    or its host."""
    for target in (disk, host):
        if target is None:
            continue
        in_flight = target.operations.in_flight().first()
        if in_flight is not None:
            raise OperationRefused(in_flight_message(in_flight), in_flight=in_flight)


def _audit_refused(
    user, kind, host, params, reason: str, *, code: str = "refused", disk=None, image=None
) -> None:
    operation_audit.refused(
        user=user,
        kind=kind,
        host=host,
        params=params,
        reason=reason,
        code=code,
        disk=disk,
        image=image,
    )


def _by_key(key: uuid.UUID, *, user) -> Operation | None:
    existing = Operation.objects.filter(idempotency_key=key).first()
    if existing is not None and existing.requested_by_id != getattr(user, "pk", None):
        raise PermissionDenied  # another member's form: never show or reuse their operation
    return existing


def _check_host_allows(host: Host, kind: str) -> None:
    in_flight = host.operations.in_flight().first()
    if in_flight is not None:
        raise OperationRefused(in_flight_message(in_flight), in_flight=in_flight)
    host.operation_in_flight = None
    refusal = host_action_refusal(host=host, kind=kind)
    if refusal:
        raise OperationRefused(refusal)


def host_action_refusal(*, host: Host, kind: str) -> str:
    """Why `kind` cannot be asked for on `host` now (empty if it can), for the member."""
    if host.operation_in_flight is not None:
        return in_flight_message(host.operation_in_flight)
    if kind in host.actions_allowed:
        return ""
    label = Operation.Kind(kind).label
    if host.is_gone:
        return _("%(action)s is not possible: the host is gone.") % {"action": label}
    return _("%(action)s is not possible while the host is %(status)s.") % {
        "action": label,
        "status": host.status_label.lower(),
    }


def in_flight_message(operation: Operation) -> str:
    """ "Power off by alice since 12:03:07 is still running on this host" """
    when = date_format(timezone.localtime(operation.created_at), "Y-m-d H:i:s")
    return _(
        "%(action)s by %(person)s since %(when)s is still running on this host; wait until it "
        "has finished."
    ) % {
        "action": operation.get_kind_display(),
        "person": operation.requested_by_name,
        "when": when,
    }


def operation_cancel(*, user, operation_id: int) -> Operation:
    """Cancel an operation that has not been sent upstream yet (still queued)."""
    with transaction.atomic():
        operation = Operation.objects.select_for_update().get(pk=operation_id)
        if not permissions.can_cancel(user, operation):
            raise permissions.Forbidden(
                _("You may cancel only the operations you asked for, and only while you still may.")
            )
        if operation.state not in (Operation.State.QUEUED, Operation.State.AWAITING):
            raise OperationRefused(
                _("Only a queued operation can be cancelled; this one is already past that.")
            )
        now = timezone.now()
        name = user.get_username()
        operation_finish(
            operation,
            Operation.State.CANCELLED,
            **stored(said("cancelled", name=name)),
            now=now,
            expect=(Operation.State.QUEUED, Operation.State.AWAITING),
        )
    return operation


# --- Handing operations to the worker --------------------------------------------------------


def operation_dispatch(*, operation: Operation, countdown: float = 0) -> bool:
    """Publish one run of `operation`, due in `countdown` seconds, under a new dispatch id (a run
    of an older message then does nothing). False when it is final or the broker refused; then
    the operation stays as it is, its `queue_error` set, for `operations_requeue` or the
    reconciler to dispatch it again. Call it outside a transaction (or from `on_commit`)."""
    from dashboard import tasks

    now = timezone.now()
    dispatch_id = uuid.uuid4().hex
    due = now + timedelta(seconds=countdown)
    updated = Operation.objects.filter(pk=operation.pk, state__in=Operation.ACTIVE_STATES).update(
        dispatch_id=dispatch_id, dispatches=F("dispatches") + 1, next_run_at=due, updated_at=now
    )
    if not updated:
        return False
    operation.dispatch_id, operation.next_run_at, operation.updated_at = dispatch_id, due, now
    try:
        tasks.run_operation.apply_async(
            args=(operation.pk, dispatch_id), countdown=countdown if countdown > 0 else None
        )
    except Exception as exc:
        logger.warning("could not enqueue operation %s: %s", operation.pk, exc)
        _queue_down(operation, exc)
        return False
    if operation.queue_error:
        Operation.objects.filter(pk=operation.pk).update(queue_error="", version=F("version") + 1)
        operation.queue_error = ""
    return True


def _queue_down(operation: Operation, exc: Exception) -> None:
    reason = f"{type(exc).__name__}: {exc}"[:500]
    with transaction.atomic():
        first = not Operation.objects.filter(pk=operation.pk).values_list("queue_error", flat=True)[
            0
        ]
        Operation.objects.filter(pk=operation.pk).update(
            queue_error=reason, version=F("version") + 1
        )
        if first:
            operation_event(
                operation,
                OperationEvent.Event.QUEUE_DOWN,
                **note(said("queue_down")),
            )
    operation.queue_error = reason


def operations_requeue() -> int:
    """Dispatch again the queued operations that should have started a while ago (the broker
    was down when they were asked for, or their message was lost). Returns how many."""
    cutoff = timezone.now() - timedelta(seconds=settings.XDS_ACTION_REQUEUE_SECONDS)
    due = Operation.objects.filter(state=Operation.State.QUEUED, next_run_at__lt=cutoff)
    count = 0
    for operation in due.order_by("next_run_at")[:RESUME_BATCH]:
        count += operation_dispatch(operation=operation)
    if count:
        logger.info("requeued %d queued operations", count)
    return count


def _run_in_progress(operation: Operation) -> bool:
    """A run holds the operation's lock (or the cache cannot say: then leave it be)."""
    try:
        return lock_holder(run_lock_key(operation)) is not None
    except Exception as exc:
        logger.warning("cannot read the run lock of operation %s: %s", operation.pk, exc)
        return True


def operations_reconcile() -> int:
    """Resume the operations in flight that no worker has touched for XDS_ACTION_STALE_SECONDS
    past their next run, and whose host no run holds (a run refreshes its lock while it works):
    their worker was killed, or the broker lost their message. The run they get knows what to
    do: a create already sent is looked for by listing, never sent again. Returns how many."""
    cutoff = timezone.now() - timedelta(seconds=settings.XDS_ACTION_STALE_SECONDS)
    stale = Operation.objects.filter(
        Q(next_run_at__isnull=True) | Q(next_run_at__lt=cutoff),
        state__in=(Operation.State.SUBMITTED, Operation.State.WAITING),
        updated_at__lt=cutoff,
    )
    count = 0
    for operation in stale.order_by("updated_at")[:RESUME_BATCH]:
        if _run_in_progress(operation):
            continue
        minutes = max(1, round((timezone.now() - operation.updated_at).total_seconds() / 60))
        operation_event(
            operation,
            OperationEvent.Event.RESUMED,
            **note(said("resumed", minutes=minutes)),
        )
        count += operation_dispatch(operation=operation)
    if count:
        logger.warning("resumed %d operations left in flight by a stopped worker", count)
    return count
