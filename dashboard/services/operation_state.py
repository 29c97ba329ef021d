"""The primitives every writer of an operation shares: asking (dashboard.services.operations),
approving and resolving, and the runs (dashboard.services.operation_run). (What refuses an
operation, `OperationRefused`, is in dashboard.refusals.)

- `operation_change` moves an operation on only if it is still where the caller saw it (of two
  runs racing, one wins), with its timeline entry; `operation_finish` ends it, audited and
  notified; `operation_event` adds a timeline entry.
- `run_lock_key`: the lock a run holds while it works on an operation.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from dashboard.models import Disk, Host, Operation, OperationEvent
from dashboard.services import notifications, operation_audit, wallet


def run_lock_key(operation: Operation) -> str:
    """The lock a run holds while it works: its host's, else its disk's, or its own while a
    create has neither."""
    if operation.host_id:
        return f"xds:operation-poller:{operation.host_id}"
    if operation.disk_id:
        return f"xds:operation-poller:disk-{operation.disk_id}"
    return f"xds:operation-poller:operation-{operation.pk}"


def operation_event(operation: Operation, event: str, *, at=None, **values) -> OperationEvent:
    """Add the timeline entry `event` to `operation` (at `at`, now by default)."""
    return OperationEvent.objects.create(
        operation_id=operation.pk, event=event, at=at or timezone.now(), **values
    )


def operation_finish(
    operation: Operation,
    state: str,
    *,
    message: str = "",
    message_key: str = "",
    message_values: dict | None = None,
    code: str = "",
    trace_id: str = "",
    now=None,
    expect: tuple[str, ...] = Operation.ACTIVE_STATES,
    **values,
) -> bool:
    """End `operation` in `state` (if it is still in one of `expect`) with its message (as
    `wording.stored` gives it), the upstream's code and trace id, and a timeline entry. False
    when another run ended or moved it first."""
    now = now or timezone.now()
    event = {
        Operation.State.SUCCEEDED: OperationEvent.Event.SUCCEEDED,
        Operation.State.FAILED: OperationEvent.Event.FAILED,
        Operation.State.UNKNOWN: OperationEvent.Event.UNKNOWN,
        Operation.State.CANCELLED: OperationEvent.Event.CANCELLED,
    }[state]
    with transaction.atomic():  # the audit row and the outcome, or neither
        finished = operation_change(
            operation,
            expect=expect,
            event=event,
            note={
                "detail": message,
                "detail_key": message_key,
                "detail_values": message_values or {},
                "code": code,
                "trace_id": trace_id,
            },
            now=now,
            state=state,
            message=message,
            message_key=message_key,
            message_values=message_values or {},
            error_code=code,
            trace_id=trace_id,
            finished_at=now,
            **values,
        )
        if finished:
            operation_audit.finished(operation)
            notifications.operation_finished(operation)
            wallet.learn_from_refusal(operation)
    return finished


def operation_change(
    operation: Operation,
    *,
    expect: tuple[str, ...],
    event: str | None = None,
    note: dict | None = None,
    now=None,
    **values,
) -> bool:
    """Set `values` on `operation` if its state is still one of `expect` (a conditional update:
    of two runs racing, one wins), add the timeline entry `event` (with `note`: the detail as
    `wording.note` gives it, code, trace_id), and bump the versions pages poll: the operation's,
    and its host's (and disk's) so their rows and panels show it. Updates the instance too. False
    when the state had moved on."""
    now = now or timezone.now()
    with transaction.atomic():
        updated = Operation.objects.filter(pk=operation.pk, state__in=expect).update(
            **values, updated_at=now, version=F("version") + 1
        )
        if not updated:
            return False
        if event is not None:
            operation_event(operation, event, at=now, **(note or {}))
        host_id = values.get("host_id", operation.host_id)
        if host_id:
            Host.objects.filter(pk=host_id).update(version=F("version") + 1)
        disk_id = values.get("disk_id", operation.disk_id)
        if disk_id:
            Disk.objects.filter(pk=disk_id).update(version=F("version") + 1)
    for name, value in values.items():
        setattr(operation, name, value)
    operation.updated_at = now
    operation.version += 1
    return True
