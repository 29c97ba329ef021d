"""The runs of disk operations: create (optionally mounted on a host), attach, detach, destroy.
`operation_run` hands a disk operation's step here; everything else (the dispatch ids, the
redelivery count, the run lock, the next poll) is the same as for hosts.

    queued ──submit──▶ submitted ──accepted──▶ waiting ──the disk shows it──▶ succeeded
                           │ └─refused──▶ failed            └─not by the timeout──▶ unknown
                           └─answer lost──▶ waiting: a create looks for its disk by listing

- A disk create costs money and is sent at most once, as a host create: under a row lock the
  run moves it from queued to submitted and commits before it calls the provider. A run that
  finds it submitted without a result never sends it again; nor does a lost answer: the new
  disk is looked for in the listing (its area, size and host, not in the mirror before the
  create was sent, not claimed by another create). Only "no connection made" puts it back to
  queued.
- The provider's `updateStatus` (unmount, destroy) answers `true` before anything is done, and
  mounting takes a while: every action is followed on the disk until it shows the outcome. An
  answer lost, or the disk not there by the timeout, ends "outcome unknown", never "failed":
  the provider may have done it.
- "Power off, then attach": an attach asked for on a running host powers it off first, follows
  it until it is off, then mounts (one operation holding the host all along).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError
from django.utils import timezone

from dashboard.models import (
    DISK_ARREARS,
    DISK_IN_USE,
    DISK_STATUS_SLUGS,
    DISK_UNMOUNTED,
    Disk,
    Operation,
    OperationEvent,
)
from dashboard.services import run_steps as steps
from dashboard.services.disk_sync import disk_mark_gone, disk_mirror_save
from dashboard.services.operation_state import operation_change, operation_finish
from dashboard.services.sync import host_mirror_save
from dashboard.wording import Said, note, said, stored
from vmclient.errors import ConnectionFailed, XdsError
from vmclient.types import HostStatus

logger = logging.getLogger(__name__)

State = Operation.State
Kind = Operation.Kind
Event = OperationEvent.Event
# The provider's "the disk does not exist".
DISK_NOT_FOUND = 220001


def disk_step(operation: Operation, client) -> float | None:
    """One step of a disk operation; the seconds until the next run, or None when done."""
    if operation.kind == Kind.DISK_CREATE:
        if operation.state == State.QUEUED:
            return _create_submit(operation, client)
        if operation.state == State.SUBMITTED:
            _run_stopped(operation)
        if operation.disk_id is None:
            return _create_find(operation, client)
        return _follow(operation, client)
    if operation.state == State.QUEUED:
        if operation.params.get("power_off_first") and not operation.progress.get("host_off"):
            return _power_off_submit(operation, client)
        return _submit(operation, client)
    if operation.state == State.SUBMITTED:
        # A run sent it (or was about to) and died before recording the answer: look, do not
        # send it again.
        _run_stopped(operation)
    if operation.progress.get("phase") == "power_off":
        return _follow_power_off(operation, client)
    return _follow(operation, client)


def _run_stopped(operation: Operation) -> None:
    steps.run_stopped(operation, "disk_run_stopped")


# --- Create -----------------------------------------------------------------------------------


def _create_submit(operation: Operation, client) -> float | None:
    deadline = steps.create_mark_submitted(operation, Disk)
    if deadline is None:
        return None
    params = operation.params
    try:
        disk_id = client.create_disk(
            area=params["area"], size_gb=params["size_gb"], host_id=params.get("host_id")
        )
    except ConnectionFailed as err:
        return steps.create_retry_later(operation, err, deadline)  # nothing was sent
    except XdsError as err:
        if err.may_have_acted:
            return steps.answer_lost(operation, steps.error_note(err), **steps.error_ids(err))
        steps.create_refused(operation, err, "disk_create_refused")
        return None
    except Exception:
        logger.exception("disk create %s: unexpected error after sending", operation.pk)
        return steps.answer_lost(
            operation, note(said("create_unexpected_error")), error_code="", trace_id=""
        )
    if disk_id and _claim(operation, str(disk_id), name=""):
        return 0
    return steps.create_accepted_without_id(operation, "disk_create_no_id")


def _create_find(operation: Operation, client) -> float | None:
    """Look for the disk a create made, in the provider's listing of disks."""
    deadline = steps.find_deadline(operation)
    try:
        listing = list(client.iter_disks())
    except XdsError as err:
        logger.warning("disk create %s: listing failed: %s", operation.pk, err)
        listing = None
    if listing is not None:
        for disk in _candidates(operation, listing):
            if _claim(operation, str(disk.id), name=disk.name or ""):
                return _observe(operation, disk)
    now = timezone.now()
    if now < deadline:
        return steps.poll()
    if listing is None and now < deadline + timedelta(seconds=settings.XDS_CREATE_FIND_TIMEOUT):
        return steps.poll()
    minutes = settings.XDS_CREATE_FIND_TIMEOUT // 60
    params = operation.params
    if listing is None:
        outcome = said("disk_unknown_unreadable", minutes=minutes)
    else:
        outcome = said(
            "disk_unknown_not_found",
            size=params.get("size_gb"),
            area=said(f"area.{params['area']}") if params.get("area") in (0, 1, 2) else "?",
            minutes=minutes,
        )
    steps.finish_unknown(operation, outcome, expect=(State.WAITING,))
    return None


def _candidates(operation: Operation, listing: list) -> list:
    """Disks the create may have made, oldest first: not in the mirror before it was sent, not
    claimed by another create, of its area and size (and on its host, or on none yet), created
    no earlier than it was sent (less the clock skew allowed)."""
    params = operation.params
    wanted_host = params.get("host_id")
    found = [
        disk
        for disk in steps.new_since_sent(operation, Disk, listing)
        if (disk.area is None or int(disk.area) == params.get("area"))
        and (disk.size_gb is None or disk.size_gb == params.get("size_gb"))
        and (disk.host_id is None or disk.host_id == wanted_host)
    ]
    return steps.oldest_first(steps.unclaimed(operation, found, [Kind.DISK_CREATE], "disk_id"))


def _claim(operation: Operation, disk_id: str, *, name: str) -> bool:
    """Make `disk_id` this create's disk (one create only: a unique constraint) and give it to
    the member who asked, if the mirror already has it."""
    try:
        return steps.claim_found(operation, Event.DISK_FOUND, Disk, "disk", disk_id, name)
    except IntegrityError:
        return False  # another create's disk


# --- Attach, detach, destroy ----------------------------------------------------------------


def _power_off_submit(operation: Operation, client) -> float | None:
    """The first half of "power off, then attach": the host is powered off."""
    if not steps.mark_submitted(
        operation,
        state=State.WAITING,
        note=note(said("disk_power_off_first")),
        progress={**operation.progress, "phase": "power_off"},
    ):
        return None
    try:
        client.power_off(operation.host_id)
    except XdsError as err:
        if not err.may_have_acted:
            operation_finish(operation, State.FAILED, **steps.error_fields(err))
            return None
        # Maybe it was powered off: the host shows it.
    return steps.poll()


def _follow_power_off(operation: Operation, client) -> float | None:
    try:
        host = client.get_host(operation.host_id)
    except XdsError as err:
        logger.warning("disk %s: reading host %s failed: %s", operation.pk, operation.host_id, err)
        return _unless_timed_out(operation)
    host_mirror_save(host=host)
    if host.status is HostStatus.OFF:
        operation_change(
            operation,
            expect=(State.WAITING,),
            event=Event.STATUS,
            note=note(said("status_name.off")),
            state=State.QUEUED,
            progress={**operation.progress, "phase": "attach", "host_off": True},
        )
        return 0
    return _unless_timed_out(operation)


def _submit(operation: Operation, client) -> float | None:
    return steps.action_send(operation, lambda: _send(operation, client), "disk_answer_lost")


def _send(operation: Operation, client) -> None:
    if operation.kind == Kind.DISK_ATTACH:
        client.attach_disk(operation.disk_id, operation.host_id)
    elif operation.kind == Kind.DISK_DETACH:
        client.detach_disk(operation.disk_id)
    else:
        client.destroy_disk(operation.disk_id)


# --- Following the disk -----------------------------------------------------------------------


def _follow(operation: Operation, client) -> float | None:
    try:
        disk = client.get_disk(operation.disk_id)
    except XdsError as err:
        if _not_found(err) and operation.kind == Kind.DISK_DESTROY:
            return _destroyed(operation)
        logger.warning("disk %s: reading disk %s failed: %s", operation.pk, operation.disk_id, err)
        return _unless_timed_out(operation)
    return _observe(operation, disk)


def _not_found(err: XdsError) -> bool:
    return str(getattr(err, "code", "")) == str(DISK_NOT_FOUND)


def _observe(operation: Operation, disk) -> float | None:
    row = disk_mirror_save(disk=disk)
    status = row.status
    changes = {}
    if operation.disk_name != row.label:
        changes["disk_name"] = row.label
    seen = operation.progress.get("disk_status")
    if status is not None and seen != status:
        changes["progress"] = {**operation.progress, "disk_status": status}
        operation_change(
            operation,
            expect=(State.WAITING,),
            event=Event.DISK_STATUS,
            note=note(said(f"disk_status.{DISK_STATUS_SLUGS.get(status, 'unknown')}")),
            **changes,
        )
    elif changes:
        operation_change(operation, expect=(State.WAITING,), **changes)

    target_host = (
        operation.params.get("host_id")
        if operation.kind == Kind.DISK_CREATE
        else (operation.host_id if operation.kind == Kind.DISK_ATTACH else None)
    )
    if operation.kind == Kind.DISK_DESTROY:
        return _unless_timed_out(operation)  # destroyed once the provider no longer has it
    if status == DISK_ARREARS:
        operation_finish(operation, State.FAILED, **stored(said("disk_arrears")))
        return None
    if target_host and status == DISK_IN_USE and row.host_id == target_host:
        _succeeded(operation, said("disk_reached.in_use", host=operation.host_label or target_host))
        return None
    if not target_host and status == DISK_UNMOUNTED and not row.is_mounted:
        _succeeded(operation, said("disk_reached.unmounted"))
        return None
    return _unless_timed_out(operation)


def _destroyed(operation: Operation) -> None:
    disk_mark_gone(disk_id=operation.disk_id)
    _succeeded(operation, said("disk_destroyed"))
    return None


def _succeeded(operation: Operation, outcome: Said) -> None:
    steps.succeeded(operation, outcome, "disk_succeeded_answer_lost")


def _unless_timed_out(operation: Operation) -> float | None:
    """The next poll, or, past XDS_ACTION_TIMEOUT since it was accepted, the end: "outcome
    unknown", since the provider accepts disk changes before it carries them out and may still
    do it (a refusal would have said so)."""
    return steps.unknown_unless_shown(operation, settings.XDS_ACTION_TIMEOUT, "disk_not_shown")
