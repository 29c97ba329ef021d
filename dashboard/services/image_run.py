"""The runs of personal image operations: make one from a host, rename, delete.
`operation_run` hands an image operation's step here; everything else (the dispatch ids, the
redelivery count, the run lock, the next poll) is the same as for hosts and disks.

    queued ──submit──▶ submitted ──accepted──▶ waiting ──the image shows it──▶ succeeded
                           │ └─refused──▶ failed            │ └─"failed" upstream──▶ failed
                           └─answer lost──▶ waiting          └─not by the timeout──▶ unknown

- Making an image is sent at most once, as a host or disk create: under a row lock the run moves
  it from queued to submitted and commits before it calls the provider. The provider's `add`
  answers only `true`, so the new image is always found by listing: by the name asked for
  (the provider keeps names unique, 200003), not claimed by another create. A run that finds it
  submitted without a result, or a lost answer, never sends it again: it looks. Only "no
  connection made" puts it back to queued.
- Then the image is followed until it is usable (succeeded) or the provider says it failed
  (failed: the provider said so; the owner and the admins are told by the mirror's sync).
  Still being made after XDS_CREATE_FIND_TIMEOUT: "outcome unknown", never "failed".
- A rename or a delete is followed in the listing until it shows (the name, or the image gone).
  An answer lost, or nothing shown by XDS_ACTION_TIMEOUT, ends "outcome unknown".
- The image create holds its host (one operation in flight per host) while the image is made.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from dashboard.models import (
    IMAGE_EXPIRED,
    IMAGE_FAILED,
    IMAGE_STATUS_SLUGS,
    IMAGE_USABLE,
    Operation,
    OperationEvent,
    PersonalImage,
)
from dashboard.services import notifications
from dashboard.services.image_sync import (
    image_mark_gone,
    image_owner_from_create,
    images_mirror_save,
)
from dashboard.services.operation_run import (
    _code,
    _create_retry_later,
    _error_fields,
    _fail_waited_too_long,
    _note,
    _poll,
)
from dashboard.services.operation_state import operation_change, operation_finish
from dashboard.services.sync import _aware
from dashboard.wording import Said, error_said, note, said, stored
from vmclient.errors import ConnectionFailed, XdsError

logger = logging.getLogger(__name__)

State = Operation.State
Kind = Operation.Kind
Event = OperationEvent.Event


def image_step(operation: Operation, client) -> float | None:
    """One step of an image operation; the seconds until the next run, or None when done."""
    if operation.state == State.QUEUED:
        if operation.kind == Kind.IMAGE_CREATE:
            return _create_submit(operation, client)
        return _submit(operation, client)
    if operation.state == State.SUBMITTED:
        # A run sent it (or was about to) and died before recording the answer: look, never
        # send it again.
        operation_change(
            operation,
            expect=(State.SUBMITTED,),
            event=Event.ANSWER_LOST,
            note=note(said("image_run_stopped")),
            state=State.WAITING,
            progress={**operation.progress, "answer_lost": True},
        )
    listing = _listing(operation, client)
    if operation.kind == Kind.IMAGE_CREATE and operation.image_id is None:
        return _create_find(operation, listing)
    return _follow(operation, listing)


def _listing(operation: Operation, client) -> list | None:
    """Every personal image, saved to the mirror; None when it could not be read."""
    try:
        listing = client.list_personal_images()
    except XdsError as err:
        logger.warning("image %s: listing failed: %s", operation.pk, err)
        return None
    images_mirror_save(listing, complete=False)
    return listing


# --- Making an image ---------------------------------------------------------------------------


def _create_submit(operation: Operation, client) -> float | None:
    now = timezone.now()
    deadline = operation.created_at + timedelta(seconds=settings.XDS_CREATE_DEADLINE)
    with transaction.atomic():
        locked = Operation.objects.select_for_update().get(pk=operation.pk)
        if locked.state != State.QUEUED or locked.dispatch_id != operation.dispatch_id:
            return None
        if now >= deadline:
            _fail_waited_too_long(locked, now)
            return None
        watermark = PersonalImage.objects.aggregate(newest=Max("first_seen_at"))["newest"]
        operation_change(
            locked,
            expect=(State.QUEUED,),
            event=Event.SUBMITTED,
            now=now,
            state=State.SUBMITTED,
            submitted_at=now,
            attempts=locked.attempts + 1,
            mirror_watermark=watermark,
        )
    # Committed: whatever happens from here, no run sends this again.
    operation.refresh_from_db()
    try:
        image_id = client.create_personal_image(operation.host_id, operation.params["name"])
    except ConnectionFailed as err:
        return _create_retry_later(operation, err, deadline)  # nothing was sent
    except XdsError as err:
        if err.may_have_acted:
            operation_change(
                operation,
                expect=(State.SUBMITTED,),
                event=Event.ANSWER_LOST,
                note=_note(err, said("image_answer_lost", code=_code(err))),
                state=State.WAITING,
                error_code=_code(err),
                trace_id=err.trace_id or "",
                progress={**operation.progress, "answer_lost": True},
            )
            return _poll()
        operation_finish(
            operation,
            State.FAILED,
            **_error_fields(err, said("image_create_refused", error=error_said(err))),
            expect=(State.SUBMITTED,),
        )
        return None
    except Exception:
        logger.exception("image create %s: unexpected error after sending", operation.pk)
        operation_change(
            operation,
            expect=(State.SUBMITTED,),
            event=Event.ANSWER_LOST,
            note=note(said("create_unexpected_error")),
            state=State.WAITING,
        )
        return _poll()
    if image_id and _claim(operation, str(image_id)):
        return 0
    operation_change(
        operation,
        expect=(State.SUBMITTED,),
        event=Event.ACCEPTED,
        note=note(said("image_create_no_id")),
        state=State.WAITING,
        accepted_at=timezone.now(),
    )
    return _poll()


def _create_find(operation: Operation, listing: list | None) -> float | None:
    """Look for the image a create made: the one with the name asked for, not claimed by
    another create (names are unique upstream; an older image of that name would have made
    the provider refuse)."""
    if listing is not None:
        found = _candidates(operation, listing)
        claimed = set(
            Operation.objects.filter(
                kind=Kind.IMAGE_CREATE, image_id__in=[str(i.id) for i in found]
            )
            .exclude(pk=operation.pk)
            .values_list("image_id", flat=True)
        )
        for image in found:
            if str(image.id) not in claimed and _claim(operation, str(image.id)):
                operation.refresh_from_db()
                return _follow(operation, listing)
    deadline = (operation.submitted_at or operation.created_at) + timedelta(
        seconds=settings.XDS_CREATE_FIND_TIMEOUT
    )
    if timezone.now() < deadline:
        return _poll()
    minutes = settings.XDS_CREATE_FIND_TIMEOUT // 60
    key = "image_unknown_unreadable" if listing is None else "image_unknown_not_found"
    operation_finish(
        operation,
        State.UNKNOWN,
        **stored(said(key, name=operation.params.get("name", ""), minutes=minutes)),
        code=operation.error_code,
        trace_id=operation.trace_id,
        expect=(State.WAITING,),
    )
    return None


def _candidates(operation: Operation, listing: list) -> list:
    """Images of the name asked for that the create may have made: not in the mirror before it
    was sent (a lost answer may have hidden a 200003 refusal), created no earlier than it was
    sent (less the clock skew allowed)."""
    watermark = operation.mirror_watermark
    known = (
        set(PersonalImage.objects.filter(first_seen_at__lte=watermark).values_list("id", flat=True))
        if watermark is not None
        else set()
    )
    earliest = (operation.submitted_at or operation.created_at) - timedelta(
        seconds=settings.XDS_CREATE_CLOCK_SKEW_SECONDS
    )
    name = operation.params.get("name")
    return [
        image
        for image in listing
        if image.name == name
        and str(image.id) not in known
        and (image.created_at is None or _aware(image.created_at) >= earliest)
    ]


def _claim(operation: Operation, image_id: str) -> bool:
    """Make `image_id` this create's image (one create only: a unique constraint) and give it
    to the member who asked, if the mirror already has it."""
    try:
        claimed = operation_change(
            operation,
            expect=(State.SUBMITTED, State.WAITING),
            event=Event.IMAGE_FOUND,
            note={"detail": f"{operation.params.get('name', '')} ({image_id})"},  # any language
            state=State.WAITING,
            image_id=image_id,
            image_name=operation.params.get("name") or image_id,
            accepted_at=operation.accepted_at or timezone.now(),
        )
    except IntegrityError:
        return False  # another create's image
    if claimed:
        image_owner_from_create(operation, image_id)
    return claimed


# --- Rename, delete ----------------------------------------------------------------------------


def _submit(operation: Operation, client) -> float | None:
    if not operation_change(
        operation,
        expect=(State.QUEUED,),
        event=Event.SUBMITTED,
        state=State.SUBMITTED,
        submitted_at=timezone.now(),
        attempts=operation.attempts + 1,
    ):
        return None  # cancelled meanwhile
    try:
        if operation.kind == Kind.IMAGE_RENAME:
            client.rename_personal_image(operation.image_id, operation.params["name"])
        else:
            client.delete_personal_image(operation.image_id)
    except XdsError as err:
        if not err.may_have_acted:
            operation_finish(
                operation, State.FAILED, **_error_fields(err), expect=(State.SUBMITTED,)
            )
            return None
        operation_change(
            operation,
            expect=(State.SUBMITTED,),
            event=Event.ANSWER_LOST,
            note=_note(err, said("image_answer_lost", code=_code(err))),
            state=State.WAITING,
            accepted_at=timezone.now(),
            error_code=_code(err),
            trace_id=err.trace_id or "",
            progress={**operation.progress, "answer_lost": True},
        )
        return _poll()
    operation_change(
        operation,
        expect=(State.SUBMITTED,),
        event=Event.ACCEPTED,
        state=State.WAITING,
        accepted_at=timezone.now(),
    )
    return _poll()


# --- Following the image -----------------------------------------------------------------------


def _follow(operation: Operation, listing: list | None) -> float | None:
    if listing is None:
        return _unless_timed_out(operation)
    image = next((i for i in listing if str(i.id) == operation.image_id), None)
    if operation.kind == Kind.IMAGE_DELETE:
        if image is None:
            image_mark_gone(image_id=operation.image_id)
            _succeeded(operation, said("image_deleted"))
            return None
        return _unless_timed_out(operation)
    if image is None:
        # Gone from the listing before it showed what was asked: someone deleted it meanwhile.
        image_mark_gone(image_id=operation.image_id)
        operation_finish(operation, State.UNKNOWN, **stored(said("image_vanished")))
        return None
    if operation.kind == Kind.IMAGE_RENAME:
        if image.name == operation.params.get("name"):
            _succeeded(operation, said("image_renamed", name=image.name))
            return None
        return _unless_timed_out(operation)
    status = None if image.status is None else int(image.status)
    if status is not None and operation.progress.get("image_status") != status:
        slug = IMAGE_STATUS_SLUGS.get(status, "unknown")
        operation_change(
            operation,
            expect=(State.WAITING,),
            event=Event.IMAGE_STATUS,
            note=note(said(f"image_status.{slug}")),
            progress={**operation.progress, "image_status": status},
        )
    if status == IMAGE_USABLE:
        _succeeded(operation, said("image_made", name=operation.image_label))
        return None
    if status in (IMAGE_FAILED, IMAGE_EXPIRED):
        # The provider says so: it did not make a usable image (nothing more will come of it).
        operation_finish(operation, State.FAILED, **stored(said("image_failed")))
        if status == IMAGE_FAILED:
            # The sync may have seen it fail before this create claimed it (then unowned, it
            # told nobody): the owner and the admins are told now (once per image).
            row = PersonalImage.objects.filter(pk=operation.image_id).first()
            if row is not None:
                notifications.image_failed(row)
        return None
    return _unless_timed_out(operation, making=True)


def _succeeded(operation: Operation, outcome: Said) -> None:
    if operation.progress.get("answer_lost"):
        outcome = said("image_succeeded_answer_lost", outcome=outcome)
    operation_finish(operation, State.SUCCEEDED, **stored(outcome))


def _unless_timed_out(operation: Operation, *, making: bool = False) -> float | None:
    """The next poll or, past the timeout since it was accepted (XDS_CREATE_FIND_TIMEOUT for an
    image being made, XDS_ACTION_TIMEOUT for a rename or delete), "outcome unknown": the
    provider may still be at it, and a refusal would have said so."""
    timeout = settings.XDS_CREATE_FIND_TIMEOUT if making else settings.XDS_ACTION_TIMEOUT
    started = operation.accepted_at or operation.submitted_at or operation.created_at
    if timezone.now() - started < timedelta(seconds=timeout):
        return _poll()
    minutes = max(1, timeout // 60)
    key = "image_still_making" if making else "image_not_shown"
    operation_finish(
        operation,
        State.UNKNOWN,
        **stored(said(key, action=said(f"action.{operation.kind}"), minutes=minutes)),
        code=operation.error_code or "timeout",
        trace_id=operation.trace_id,
    )
    return None
