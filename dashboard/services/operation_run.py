"""The state machine a run of an operation steps through. `operation_run` is all a task calls.

    queued ──submit──▶ submitted ──accepted──▶ waiting ──target reached──▶ succeeded
       ▲                   │  │                   │
       └─6005 / no conn.───┘  └─refused──▶ failed ◀──timeout──┘
    (creates)             (creates) answer lost ─▶ waiting: find the host by listing
                                                     └─not found by the deadline─▶ unknown

Celery delivers at least once, so every run must be safe to repeat, even at the same time:

- A run carries its operation's id and the id of the dispatch that sent it. Every dispatch (the
  first, each poll rescheduled, a requeue) makes a new id, so a run of a superseded message, a
  message delivered twice after its operation moved on, does nothing.
- Each run counts its delivery. Deliveries beyond the dispatches are redeliveries; past
  XDS_ACTION_MAX_REDELIVERIES (a worker dying on the same message again and again) the
  operation ends instead of running for ever.
- One run per host at a time: a cache lock per host (per operation while a create has none),
  refreshed while the run works, so a killed worker's lock frees itself within
  XDS_LOCK_SECONDS and the reconciler resumes the operation.
- A create is sent at most once per "queued" state: under a row lock the run moves the
  operation from queued to submitted and commits before it calls the upstream. A run that finds
  a create submitted without a result, whatever happened to the run before, never sends it
  again: it looks for the new host in the listing. Only answers that prove nothing was bought
  (6005, or no connection made) put a create back to queued.
- The steps hosts, disks and images share (sending a create once, a lost answer, a refusal,
  following until shown) are `run_steps`; this module and `disk_run`/`image_run` keep what is
  their own.
- Polls are not slept in the worker: a run that is not done dispatches the next one with a
  countdown (XDS_ACTION_POLL_SECONDS).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError
from django.db.models import F
from django.utils import timezone
from django.utils.functional import lazy

from dashboard import permissions
from dashboard.locks import cache_lock
from dashboard.models import Disk, Host, Operation, OperationEvent
from dashboard.services import run_steps as steps
from dashboard.services.operation_state import operation_change, operation_finish, run_lock_key
from dashboard.services.operations import operation_dispatch
from dashboard.services.sync import host_mark_gone, host_mirror_save
from dashboard.wording import Said, note, said, stored
from vmclient.errors import ConnectionFailed, CreationWaiting, OutcomeUnknown, XdsError
from vmclient.types import Host as UpstreamHost
from vmclient.types import HostStatus, PeriodType, same_system

logger = logging.getLogger(__name__)

State = Operation.State
Kind = Operation.Kind
Event = OperationEvent.Event

# An action that failed to reach the upstream this many times (each a run that died mid-call)
# fails rather than try again.
MAX_SUBMISSIONS = 5
# The status each action waits for.
TARGETS = {
    Kind.CREATE_PAY_AS_YOU_GO: HostStatus.RUNNING,
    Kind.CREATE_RENTAL: HostStatus.RUNNING,
    Kind.POWER_ON: HostStatus.RUNNING,
    Kind.POWER_OFF: HostStatus.OFF,
    Kind.REBOOT: HostStatus.RUNNING,
}


def _action(operation: Operation) -> Said:
    """The operation's action, as a sentence names it."""
    return said(f"action.{operation.kind}")


def _status(status: HostStatus, *, alone: bool = False) -> Said:
    """A host's status, inside a sentence or (`alone`) as a timeline entry."""
    return said(f"{'status_name' if alone else 'status'}.{status.name.lower()}")


def operation_run(*, operation_id: int, dispatch_id: str, client=None) -> str:
    """One run of an operation: one step of its state machine, then the next run dispatched if
    it is not done. Returns what happened, for the task's log: "gone", "final", "superseded",
    "busy" (another run holds the host), "gave up" or "ran"."""
    operation = Operation.objects.filter(pk=operation_id).first()
    if operation is None:
        return "gone"
    if operation.is_final:
        return "final"
    if operation.dispatch_id != dispatch_id:
        return "superseded"
    counted = Operation.objects.filter(
        pk=operation_id, dispatch_id=dispatch_id, state__in=Operation.ACTIVE_STATES
    ).update(deliveries=F("deliveries") + 1, updated_at=timezone.now())
    if not counted:
        return "superseded"
    operation.refresh_from_db()
    if operation.deliveries > operation.dispatches + settings.XDS_ACTION_MAX_REDELIVERIES:
        _give_up(operation)
        return "gave up"

    with cache_lock(run_lock_key(operation)) as acquired:
        if not acquired:
            return "busy"
        if client is None:
            from dashboard.upstream import get_client

            client = get_client()
        countdown = _step(operation, client)
    if countdown is not None:
        operation_dispatch(operation=operation, countdown=countdown)
    return "ran"


def _step(operation: Operation, client) -> float | None:
    """Move the operation on by one step; the seconds until the next run, or None when done."""
    if operation.state == State.QUEUED and not _still_allowed(operation):
        return None
    if operation.is_disk:
        from dashboard.services.disk_run import disk_step

        return disk_step(operation, client)
    if operation.is_image:
        from dashboard.services.image_run import image_step

        return image_step(operation, client)
    if operation.is_create:
        if operation.state == State.QUEUED:
            return _create_submit(operation, client)
        if operation.state == State.SUBMITTED:
            # A run sent the create (or was about to) and its result was never recorded: the
            # worker died, or the task hit its time limit. Never send it again: look for it.
            steps.answer_lost(operation, note(said("create_run_stopped")))
        if operation.host_id is None:
            return _create_find(operation, client)
        return _follow(operation, client)
    if operation.state in (State.QUEUED, State.SUBMITTED):
        return _action_submit(operation, client)
    if operation.kind == Kind.DELETE:
        return _follow_delete(operation, client)
    return _follow(operation, client)


# --- Creates -----------------------------------------------------------------------------------


def _create_submit(operation: Operation, client) -> float | None:
    deadline = steps.create_mark_submitted(operation, Host)
    if deadline is None:
        return None
    params = operation.params
    try:
        if operation.kind == Kind.CREATE_RENTAL:
            host_id = client.create_rental(
                params["package_id"],
                params["image_id"],
                params["period_number"],
                PeriodType(params["period_type"]),
            )
        else:
            host_id = client.create_pay_as_you_go(params["package_id"], params["image_id"])
    except (CreationWaiting, ConnectionFailed) as err:
        # Nothing was bought: 6005 says so, and no connection means nothing was sent.
        return steps.create_retry_later(operation, err, deadline)
    except OutcomeUnknown as err:
        return steps.answer_lost(operation, steps.error_note(err), **steps.error_ids(err))
    except XdsError as err:
        # Anything else the client raises for a create says the provider cannot have acted
        # (it would be OutcomeUnknown otherwise): a 401, a 4xx page, a refusal with its code.
        steps.create_refused(operation, err, "create_refused")
        return None
    except Exception:
        logger.exception("create %s: unexpected error after sending", operation.pk)
        return steps.answer_lost(operation, note(said("create_unexpected_error")))

    if host_id:
        if _claim(operation, host_id, name=""):
            return 0
        # Another create claimed that id: the upstream's answer cannot be trusted; look.
        logger.error("create %s: host %s is claimed by another create", operation.pk, host_id)
    return steps.create_accepted_without_id(operation, "create_no_id")


def _create_find(operation: Operation, client) -> float | None:
    """Look for the host a create bought, in the upstream's listing."""
    now = timezone.now()
    deadline = steps.find_deadline(operation)
    try:
        listing = client.list_every_host(workers=settings.XDS_SYNC_CONCURRENCY)
    except XdsError as err:
        logger.warning(
            "create %s: listing failed while looking for the host: %s", operation.pk, err
        )
        listing = None
    if listing is not None:  # a partial listing can still hold the host
        for host in _candidates(operation, listing.items):
            if _claim(operation, host.id, name=host.name or ""):
                return _observe(operation, host)
    if now < deadline:
        return steps.poll()
    # "Unknown" only once a whole listing read after the deadline showed no host that fits: a
    # listing that cannot be read, or only in part, says nothing. Looking goes on for as long
    # again at most.
    unread = listing is None or not listing.complete
    if unread and now < deadline + timedelta(seconds=settings.XDS_CREATE_FIND_TIMEOUT):
        return steps.poll()
    minutes = settings.XDS_CREATE_FIND_TIMEOUT // 60
    params = operation.params
    if unread:
        outcome = said("create_unknown_unreadable", minutes=minutes)
    else:
        outcome = said(
            "create_unknown_not_found",
            template=params.get("package_name"),
            image=params.get("image_label"),
            minutes=minutes,
        )
    steps.finish_unknown(operation, outcome, expect=(State.WAITING,))
    return None


def _candidates(operation: Operation, listing: Iterable[UpstreamHost]) -> list[UpstreamHost]:
    """Hosts the create may have bought, oldest first: not in the mirror before the create was
    sent, not claimed by another create, with the template's specs and the image's system, and
    created no earlier than the create was sent (less the clock skew allowed)."""
    match = operation.params.get("match", {})
    found = [
        host for host in steps.new_since_sent(operation, Host, listing) if _matches(host, match)
    ]
    return steps.oldest_first(steps.unclaimed(operation, found, Operation.CREATE_KINDS, "host_id"))


def _matches(host: UpstreamHost, match: dict) -> bool:
    def same(ours, theirs) -> bool:
        return ours is None or theirs is None or ours == theirs

    return (
        same(match.get("cpu_cores"), host.cpu_cores)
        and same(match.get("memory_gb"), host.memory_gb)
        and same(match.get("disk_gb"), host.disk_gb)
        and (match.get("gpu_number") or 0) == (host.gpu_number or 0)
        and same(match.get("area"), None if host.area is None else int(host.area))
        and same(
            match.get("billing_type"), None if host.billing_type is None else int(host.billing_type)
        )
        # By family: an image "Windows Server" makes hosts the listing may call "Windows".
        and same_system(match.get("operating_system"), host.operating_system)
    )


def _claim(operation: Operation, host_id: str, *, name: str) -> bool:
    """Make `host_id` this create's host. A unique constraint lets one create claim it."""
    try:
        return steps.claim_found(operation, Event.FOUND, Host, "host", host_id, name)
    except IntegrityError:
        if Operation.objects.filter(kind__in=Operation.CREATE_KINDS, host_id=host_id).exists():
            return False  # another create's host
        # A member already acts on the new host (a sync showed it before this run found it):
        # the create is done, and ends so that the other action keeps the host.
        steps.owner_from_create(Host, operation, host_id)
        return operation_finish(
            operation,
            State.SUCCEEDED,
            **stored(said("created_other_action", host=steps.found_label(name, host_id))),
            host_id=host_id,
            host_name=name or host_id,
            accepted_at=timezone.now(),
        )


def _still_allowed(operation: Operation) -> bool:
    """Whether the member who asked may still ask for it, checked again before anything is sent:
    their role or account may have changed while it was queued. If not, it fails unsent."""
    host = Host.objects.filter(pk=operation.host_id).first() if operation.host_id else None
    disk = Disk.objects.filter(pk=operation.disk_id).first() if operation.disk_id else None
    image = permissions.operation_image(operation)
    user = operation.requested_by
    if permissions.can_request(user, operation.kind, host, disk=disk, image=image):
        return True
    # The refusal is worded in each language the outcome is (lazily, when it is worded).
    reason = lazy(
        lambda: permissions.refusal(user, operation.kind, host, disk=disk, image=image), str
    )()
    name = operation.requested_by_name
    operation_finish(
        operation,
        State.FAILED,
        **stored(said("not_sent_forbidden", name=name, reason=reason)),
        code="forbidden",
        expect=(State.QUEUED,),
    )
    return False


# --- Power, reboot, delete ------------------------------------------------------------------


def _action_submit(operation: Operation, client) -> float | None:
    if operation.attempts >= MAX_SUBMISSIONS:
        operation_finish(
            operation,
            State.FAILED,
            **stored(said("action_worker_stopped", times=MAX_SUBMISSIONS)),
        )
        return None
    if not steps.mark_submitted(operation, expect=(State.QUEUED, State.SUBMITTED)):
        return None  # cancelled meanwhile
    host_id = operation.host_id
    try:
        if operation.kind == Kind.POWER_ON:
            client.power_on(host_id)
        elif operation.kind == Kind.POWER_OFF:
            client.power_off(host_id)
        elif operation.kind == Kind.REBOOT:
            client.reboot(host_id)
        elif not client.delete_host(host_id):
            # "Not deleted": unless an earlier attempt did delete it, that is a refusal.
            return _delete_refused(operation, client)
    except XdsError as err:
        if err.may_have_acted:
            return _action_answer_lost(operation, err)
        operation_finish(
            operation, State.FAILED, **steps.error_fields(err), expect=(State.SUBMITTED,)
        )
        return None
    return steps.action_accepted(operation)


def _action_answer_lost(operation: Operation, err: XdsError) -> float | None:
    """The answer was lost after the request may have reached Xuandashi (a body cut off, a
    gateway's page, a read timeout): it may have been done, so it is not "failed". Follow the
    host as for an accepted action, until it shows the outcome or the action's timeout passes."""
    return steps.action_answer_lost(operation, err, "action_answer_lost")


def _answer_was_lost(operation: Operation) -> bool:
    return bool(operation.progress.get("answer_lost"))


def _succeeded(operation: Operation, outcome: Said) -> None:
    """End it done; if Xuandashi's answer was lost, say that the host shows it was done."""
    steps.succeeded(operation, outcome, "succeeded_answer_lost")


def _delete_refused(operation: Operation, client) -> float | None:
    try:
        listed = _is_listed(operation.host_id, client)
    except XdsError as err:
        logger.warning("delete %s: listing failed: %s", operation.pk, err)
        listed = True
    if listed is False:
        return _deleted(operation)
    operation_finish(
        operation,
        State.FAILED,
        **stored(said("delete_refused")),
        code="false",
        expect=(State.SUBMITTED,),
    )
    return None


def _follow_delete(operation: Operation, client) -> float | None:
    # After a lost answer, look before judging the time: the verdict is what Xuandashi shows.
    if not _answer_was_lost(operation) and _timed_out(operation):
        return None
    try:
        listed = _is_listed(operation.host_id, client)
    except XdsError as err:
        logger.warning("delete %s: listing failed: %s", operation.pk, err)
        return _unreadable(operation)
    if listed is None:  # a page failed: the host may be on it
        return _unreadable(operation)
    if not listed:
        return _deleted(operation)
    return None if _timed_out(operation) else steps.poll()


def _deleted(operation: Operation) -> None:
    host_mark_gone(host_id=operation.host_id)
    _succeeded(operation, said("deleted"))
    return None


def _is_listed(host_id: str, client) -> bool | None:
    """Whether the upstream lists the host; None when a partial listing cannot tell."""
    return client.list_every_host(workers=settings.XDS_SYNC_CONCURRENCY).has(host_id)


# --- Following a host to its target status --------------------------------------------------


def _follow(operation: Operation, client) -> float | None:
    # After a lost answer, look before judging the time (`_observe` does): the verdict is what
    # Xuandashi shows.
    if not _answer_was_lost(operation) and _timed_out(operation):
        return None
    try:
        host = client.get_host(operation.host_id)
    except XdsError as err:
        logger.warning(
            "operation %s: reading host %s failed: %s", operation.pk, operation.host_id, err
        )
        return _unreadable(operation)
    return _observe(operation, host)


def _unreadable(operation: Operation) -> float | None:
    """The host (or the listing) could not be read this time. After a lost answer the verdict
    needs a look: keep looking, for as long again as the action's timeout at most, then say
    that what happened is not known."""
    if not _answer_was_lost(operation):
        return None if _timed_out(operation) else steps.poll()
    started = operation.accepted_at or operation.submitted_at or operation.created_at
    if timezone.now() - started < timedelta(seconds=2 * settings.XDS_ACTION_TIMEOUT):
        return steps.poll()
    minutes = max(1, 2 * settings.XDS_ACTION_TIMEOUT // 60)
    steps.finish_unknown(
        operation, said("unknown_unreadable", action=_action(operation), minutes=minutes)
    )
    return None


def _observe(operation: Operation, host: UpstreamHost) -> float | None:
    """Record what the upstream says of the host (the mirror, the timeline) and finish the
    operation once the host reached its target status."""
    row, before = host_mirror_save(host=host)
    status = host.status
    target = TARGETS[operation.kind]
    changes = {}
    if operation.host_name != (row.name or row.id):
        changes["host_name"] = row.name or row.id
    if status is not None and status is not target and not operation.progress.get("left"):
        changes["progress"] = {**operation.progress, "left": True}  # seen away from the target
    if status is not None and before != int(status):
        operation_change(
            operation,
            expect=(State.WAITING,),
            event=Event.STATUS,
            note=note(_status(status, alone=True)),
            **changes,
        )
    elif changes:
        operation_change(operation, expect=(State.WAITING,), **changes)

    if status is None and _answer_was_lost(operation):
        # The original document version reports no status: nothing can show what it did.
        steps.finish_unknown(operation, said("unknown_no_status"))
        return None
    if status is None:
        operation_finish(
            operation,
            State.SUCCEEDED,
            **stored(said("accepted_no_status")),
        )
        return None
    if _reached(operation, status):
        _succeeded(operation, said(f"reached.{target.name.lower()}"))
        return None
    if status is HostStatus.EXPIRED:
        operation_finish(
            operation,
            State.FAILED,
            **stored(said("expired")),
        )
        return None
    return None if _timed_out(operation) else steps.poll()


def _reached(operation: Operation, status: HostStatus) -> bool:
    target = TARGETS[operation.kind]
    if status is not target:
        return False
    if operation.kind != Kind.REBOOT:
        return True
    # A rebooting host is running before and after: done once it was seen down, or once it has
    # been running for a few polls after Xuandashi accepted (a reboot quicker than a poll).
    if operation.progress.get("left"):
        return True
    if _answer_was_lost(operation):
        return False  # running all along may mean it never rebooted: only seeing it down shows
    grace = max(3 * settings.XDS_ACTION_POLL_SECONDS, 30)
    accepted = operation.accepted_at or operation.created_at
    return timezone.now() - accepted >= timedelta(seconds=grace)


def _timed_out(operation: Operation) -> bool:
    """Past XDS_ACTION_TIMEOUT since it was accepted (or the new host found): fail it."""
    started = operation.accepted_at or operation.submitted_at or operation.created_at
    if timezone.now() - started < timedelta(seconds=settings.XDS_ACTION_TIMEOUT):
        return False
    minutes = max(1, settings.XDS_ACTION_TIMEOUT // 60)
    target = TARGETS.get(operation.kind)
    if _answer_was_lost(operation):
        _not_carried_out(operation, minutes)
        return True
    if target is None:
        outcome = said("delete_timeout", minutes=minutes)
    else:
        outcome = said("status_timeout", status=_status(target), minutes=minutes)
    operation_finish(operation, State.FAILED, **stored(outcome), code="timeout")
    return True


def _not_carried_out(operation: Operation, minutes: int) -> None:
    """An action whose answer was lost, and the host shows no sign of it for the action's whole
    timeout: say what Xuandashi shows."""
    status = Host.objects.filter(pk=operation.host_id).values_list("status", flat=True).first()
    if operation.kind == Kind.DELETE:
        shows = said("shows.still_listed")
    elif operation.kind == Kind.REBOOT:
        shows = said("shows.never_restarted")
    elif status is not None:
        shows = said("shows.still_status", status=_status(HostStatus(status)))
    else:
        shows = said("shows.unchanged")
    operation_finish(
        operation,
        State.FAILED,
        **stored(said("not_carried_out", action=_action(operation), minutes=minutes, shows=shows)),
        code=operation.error_code,
        trace_id=operation.trace_id,
    )


# --- Giving up --------------------------------------------------------------------------------


def _give_up(operation: Operation) -> None:
    times = operation.deliveries
    if operation.is_image and operation.state != State.QUEUED:
        # Sent: the provider may have done it (made, renamed or deleted the image).
        operation_finish(
            operation,
            State.UNKNOWN,
            **stored(said("image_gave_up_sent", times=times)),
            code="redelivered",
        )
        return
    # A purchase (a host or a disk) that was sent may have bought something.
    sent = operation.kind in Operation.PRICED_KINDS and operation.state != State.QUEUED
    disk = operation.kind == Kind.DISK_CREATE
    found = operation.disk_id if disk else operation.host_id
    prefix = "disk_" if disk else ""
    if sent and not found:
        operation_finish(
            operation,
            State.UNKNOWN,
            **stored(said(f"{prefix}gave_up_create_sent", times=times)),
            code="redelivered",
        )
        return
    outcome = (
        said(f"{prefix}gave_up_bought", times=times, host=found)
        if sent
        else said("gave_up", times=times)
    )
    operation_finish(
        operation,
        State.FAILED,
        **stored(outcome),
        code="redelivered",
    )
