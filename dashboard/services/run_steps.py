"""The steps the runs of hosts (`operation_run`), disks (`disk_run`) and images (`image_run`)
share: sending a create exactly once, the answer lost, the refusals, following until the target
shows or the timeout says "outcome unknown". Each run module keeps only what is its own: which
client call, which mirror, how a candidate is matched, which words.

Sending a create exactly once (money: never twice, never "failed" if the provider may have
acted): `create_mark_submitted` moves it from queued to submitted under a row lock and commits
before the caller sends it; then the caller sorts the answer into `create_retry_later` (nothing
was sent), `create_refused` (the provider cannot have acted), `answer_lost` (it may have: find it
by listing) or a claim of the new id.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, Model
from django.utils import timezone

from dashboard.models import Operation, OperationEvent
from dashboard.services.mirror_rows import utc_aware
from dashboard.services.operation_state import operation_change, operation_finish
from dashboard.wording import Said, error_said, note, said, stored
from vmclient.errors import XdsError

State = Operation.State
Event = OperationEvent.Event


def poll() -> float:
    """The seconds until the next look."""
    return settings.XDS_ACTION_POLL_SECONDS


# --- Errors as fields and notes ----------------------------------------------------------------


def error_code(err: XdsError) -> str:
    """The upstream's code, or the kind of failure when there was none (no answer, a 502 page);
    for an unknown outcome, that of the failure that made it unknown."""
    err = getattr(err, "cause", err)
    return str(err.code) if err.code is not None else type(err).__name__


def error_ids(err: XdsError) -> dict:
    """The error's code and trace id, as an operation stores them."""
    return {"error_code": error_code(err), "trace_id": err.trace_id or ""}


def error_fields(err: XdsError, outcome: Said | None = None) -> dict:
    """An upstream error as the fields that end an operation (`outcome` says it, if not the
    error's words alone)."""
    return {
        **stored(outcome or error_said(err)),
        "code": error_code(err),
        "trace_id": err.trace_id or "",
    }


def error_note(err: XdsError, outcome: Said | None = None) -> dict:
    """An upstream error as a timeline entry (`outcome` says it, if not the error's words)."""
    return {
        **note(outcome or error_said(err)),
        "code": error_code(err),
        "trace_id": err.trace_id or "",
    }


# --- Sending a create exactly once -------------------------------------------------------------


def mark_submitted(
    operation: Operation,
    *,
    expect: tuple[str, ...] = (State.QUEUED,),
    state: str = State.SUBMITTED,
    now: datetime | None = None,
    **fields,
) -> bool:
    """Record a sending (one attempt more), before it is sent; False if it moved on meanwhile."""
    now = now or timezone.now()
    return operation_change(
        operation,
        expect=expect,
        event=Event.SUBMITTED,
        now=now,
        state=state,
        submitted_at=now,
        attempts=operation.attempts + 1,
        **fields,
    )


def create_mark_submitted(operation: Operation, mirror: type[Model]) -> datetime | None:
    """Queued → submitted, committed, before the caller sends the create; the create's deadline,
    or None when it must not be sent: another run moved it on (that run dispatches what
    follows), or it waited past XDS_CREATE_DEADLINE (failed: nothing was sent). The newest
    `first_seen_at` of the `mirror` is kept, so a lost answer's search skips what was known."""
    now = timezone.now()
    deadline = operation.created_at + timedelta(seconds=settings.XDS_CREATE_DEADLINE)
    with transaction.atomic():
        locked = Operation.objects.select_for_update().get(pk=operation.pk)
        if locked.state != State.QUEUED or locked.dispatch_id != operation.dispatch_id:
            return None
        if now >= deadline:
            _fail_waited_too_long(locked, now)
            return None
        watermark = mirror.objects.aggregate(newest=Max("first_seen_at"))["newest"]
        mark_submitted(locked, now=now, mirror_watermark=watermark)
    # Committed: whatever happens from here, no run sends this create again.
    operation.refresh_from_db()
    return deadline


def _fail_waited_too_long(operation: Operation, now: datetime) -> None:
    minutes = settings.XDS_CREATE_DEADLINE // 60
    operation_finish(
        operation,
        State.FAILED,
        **stored(said("create_waited_too_long", minutes=minutes)),
        code=operation.error_code,
        trace_id=operation.trace_id,
        now=now,
        expect=(State.QUEUED,),
    )


def create_retry_later(operation: Operation, err: XdsError, deadline: datetime) -> float | None:
    """Nothing was sent (or the provider says nothing was bought): back to queued, to be sent
    again after a backoff, unless that would pass the deadline (then failed)."""
    delay = min(
        settings.XDS_CREATE_RETRY_MAX_SECONDS,
        settings.XDS_CREATE_RETRY_SECONDS * 2 ** max(0, operation.attempts - 1),
    )
    delay *= random.uniform(0.8, 1.0)  # jitter: creates waiting together do not retry together
    now = timezone.now()
    if now + timedelta(seconds=delay) >= deadline:
        operation_finish(operation, State.FAILED, **error_fields(err), expect=(State.SUBMITTED,))
        return None
    retry_at = timezone.localtime(now + timedelta(seconds=delay))
    retry = said("create_retry", error=error_said(err), time=f"{retry_at:%H:%M:%S}")
    changed = operation_change(
        operation,
        expect=(State.SUBMITTED,),
        event=Event.RETRY,
        note=error_note(err, retry),
        state=State.QUEUED,
        **error_ids(err),
    )
    return delay if changed else None


def create_refused(operation: Operation, err: XdsError, key: str) -> None:
    """The provider refused the create and cannot have acted: failed, in the words of `key`."""
    operation_finish(
        operation,
        State.FAILED,
        **error_fields(err, said(key, error=error_said(err))),
        expect=(State.SUBMITTED,),
    )


def create_accepted_without_id(operation: Operation, key: str, **fields) -> float:
    """Sent and accepted, but no id came back (or it was another create's): look by listing."""
    operation_change(
        operation,
        expect=(State.SUBMITTED,),
        event=Event.ACCEPTED,
        note=note(said(key)),
        state=State.WAITING,
        **fields,
    )
    return poll()


def answer_lost(operation: Operation, entry: dict, **fields) -> float:
    """Sent, and the answer lost (or the run that sent it stopped): the provider may have acted,
    so never "failed" and never sent again. Waiting: the caller looks for what it shows."""
    operation_change(
        operation,
        expect=(State.SUBMITTED,),
        event=Event.ANSWER_LOST,
        note=entry,
        state=State.WAITING,
        **fields,
    )
    return poll()


def run_stopped(operation: Operation, key: str) -> None:
    """A run sent it (or was about to) and died before recording the answer: look, never send it
    again. (Hosts say it without marking the answer lost: `operation_run` does its own.)"""
    answer_lost(operation, note(said(key)), progress={**operation.progress, "answer_lost": True})


# --- Attach, detach, destroy, rename, delete: sent, then followed ------------------------------


def action_send(
    operation: Operation, send: Callable[[], object], answer_lost_key: str
) -> float | None:
    """Queued → submitted, then `send()` once: refused → failed; answer lost → waiting,
    marked so (the provider may have acted); accepted → waiting. The caller follows it."""
    if not mark_submitted(operation):
        return None  # cancelled meanwhile
    try:
        send()
    except XdsError as err:
        if not err.may_have_acted:
            operation_finish(
                operation, State.FAILED, **error_fields(err), expect=(State.SUBMITTED,)
            )
            return None
        return action_answer_lost(operation, err, answer_lost_key)
    return action_accepted(operation)


def action_accepted(operation: Operation) -> float:
    """The provider accepted the action: waiting, followed from now until it shows."""
    operation_change(
        operation,
        expect=(State.SUBMITTED,),
        event=Event.ACCEPTED,
        state=State.WAITING,
        accepted_at=timezone.now(),
    )
    return poll()


def action_answer_lost(operation: Operation, err: XdsError, key: str) -> float:
    """An action's answer was lost after the request may have reached the provider: follow it
    as an accepted one (from now), marked so, until it shows the outcome or the timeout."""
    return answer_lost(
        operation,
        error_note(err, said(key, code=error_code(err))),
        accepted_at=timezone.now(),
        progress={**operation.progress, "answer_lost": True},
        **error_ids(err),
    )


def succeeded(operation: Operation, outcome: Said, answer_lost_key: str) -> None:
    """Done; if the provider's answer was lost, say that what it shows says it was done."""
    if operation.progress.get("answer_lost"):
        outcome = said(answer_lost_key, outcome=outcome)
    operation_finish(operation, State.SUCCEEDED, **stored(outcome))


def unknown_unless_shown(operation: Operation, timeout: int, key: str) -> float | None:
    """The next poll or, `timeout` seconds after it was accepted, "outcome unknown" in the words
    of `key`: the provider accepts before it carries out and may still do it (a refusal would
    have said so)."""
    started = operation.accepted_at or operation.submitted_at or operation.created_at
    if timezone.now() - started < timedelta(seconds=timeout):
        return poll()
    minutes = max(1, timeout // 60)
    outcome = said(key, action=said(f"action.{operation.kind}"), minutes=minutes)
    finish_unknown(operation, outcome, code=operation.error_code or "timeout")
    return None


def finish_unknown(operation: Operation, outcome: Said, **fields) -> bool:
    """End it "outcome unknown": the provider may have done it. The code and trace id kept are
    those of the failure that made it unknown, unless `fields` say otherwise."""
    fields = {"code": operation.error_code, "trace_id": operation.trace_id, **fields}
    return operation_finish(operation, State.UNKNOWN, **stored(outcome), **fields)


# --- Finding what a create made ----------------------------------------------------------------


def known_before(operation: Operation, mirror: type[Model]) -> set:
    """The ids the `mirror` knew before the create was sent: not what it made."""
    watermark = operation.mirror_watermark
    if watermark is None:
        return set()
    return set(mirror.objects.filter(first_seen_at__lte=watermark).values_list("id", flat=True))


def earliest_made(operation: Operation) -> datetime:
    """The earliest a thing the create made can say it was made: when it was sent, less the
    clock skew allowed."""
    return (operation.submitted_at or operation.created_at) - timedelta(
        seconds=settings.XDS_CREATE_CLOCK_SKEW_SECONDS
    )


def new_since_sent(operation: Operation, mirror: type[Model], listing: Iterable) -> list:
    """What of the provider's `listing` the create may have made: not in the `mirror` before it
    was sent, and made no earlier than it was sent (less the clock skew allowed)."""
    known = known_before(operation, mirror)
    earliest = earliest_made(operation)
    return [
        thing
        for thing in listing
        if str(thing.id) not in known
        and (thing.created_at is None or utc_aware(thing.created_at) >= earliest)
    ]


def unclaimed(operation: Operation, found: list, kinds: Iterable[str], field: str) -> list:
    """Of what a create `found`, what no other create (of `kinds`) claimed as its `field`."""
    claimed = set(
        Operation.objects.filter(kind__in=kinds, **{f"{field}__in": [str(t.id) for t in found]})
        .exclude(pk=operation.pk)
        .values_list(field, flat=True)
    )
    return [thing for thing in found if str(thing.id) not in claimed]


def oldest_first(found: list) -> list:
    """The oldest made first (what does not say when it was made, last), then by id."""
    far = timezone.now() + timedelta(days=3650)
    return sorted(found, key=lambda thing: (utc_aware(thing.created_at) or far, str(thing.id)))


def found_label(name: str, pk: str) -> str:
    """What a create found, as its timeline names it: a name and an id, the same in every
    language."""
    return f"{name} ({pk})" if name else pk


def claim_found(
    operation: Operation,
    event: str,
    mirror: type[Model],
    field: str,
    pk: str,
    name: str,
    *,
    accepted_at: datetime | None = None,
) -> bool:
    """Make the `mirror`'s `pk` (named `name`) what the create made, in the operation's `field`
    ("host", "disk", "image": its id, and its name or else its id): waiting, followed from
    `accepted_at` (now unless said), and the row, if the mirror has it, the member's who asked.
    Raises IntegrityError when another create has it (a unique constraint: one create only)."""
    claimed = operation_change(
        operation,
        expect=(State.SUBMITTED, State.WAITING),
        event=event,
        note={"detail": found_label(name, pk)},
        state=State.WAITING,
        accepted_at=accepted_at or timezone.now(),
        **{f"{field}_id": pk, f"{field}_name": name or pk},
    )
    if claimed:
        owner_from_create(mirror, operation, pk)
    return claimed


def find_deadline(operation: Operation) -> datetime:
    """Until when a create's new thing is looked for (XDS_CREATE_FIND_TIMEOUT after sending)."""
    return (operation.submitted_at or operation.created_at) + timedelta(
        seconds=settings.XDS_CREATE_FIND_TIMEOUT
    )


def owner_from_create(mirror: type[Model], operation: Operation, pk: str) -> None:
    """The member whose create made the `mirror`'s row `pk` owns it, unless an owner is set."""
    mirror.objects.filter(pk=pk, owner__isnull=True).update(
        owner_id=operation.requested_by_id,
        owner_name=operation.requested_by_name,
        version=F("version") + 1,
    )
