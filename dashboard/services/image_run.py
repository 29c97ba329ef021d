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

from django.conf import settings
from django.db import IntegrityError
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
from dashboard.services import run_steps as steps
from dashboard.services.image_sync import (
    image_mark_gone,
    images_mirror_save,
)
from dashboard.services.operation_state import operation_change, operation_finish
from dashboard.wording import Said, note, said, stored
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
        steps.run_stopped(operation, "image_run_stopped")
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
    deadline = steps.create_mark_submitted(operation, PersonalImage)
    if deadline is None:
        return None
    try:
        image_id = client.create_personal_image(operation.host_id, operation.params["name"])
    except ConnectionFailed as err:
        return steps.create_retry_later(operation, err, deadline)  # nothing was sent
    except XdsError as err:
        if err.may_have_acted:
            return steps.answer_lost(
                operation,
                steps.error_note(err, said("image_answer_lost", code=steps.error_code(err))),
                **steps.error_ids(err),
                progress={**operation.progress, "answer_lost": True},
            )
        steps.create_refused(operation, err, "image_create_refused")
        return None
    except Exception:
        logger.exception("image create %s: unexpected error after sending", operation.pk)
        return steps.answer_lost(operation, note(said("create_unexpected_error")))
    if image_id and _claim(operation, str(image_id)):
        return 0
    return steps.create_accepted_without_id(
        operation, "image_create_no_id", accepted_at=timezone.now()
    )


def _create_find(operation: Operation, listing: list | None) -> float | None:
    """Look for the image a create made: the one with the name asked for, not claimed by
    another create (names are unique upstream; an older image of that name would have made
    the provider refuse)."""
    if listing is not None:
        found = _candidates(operation, listing)
        for image in steps.unclaimed(operation, found, [Kind.IMAGE_CREATE], "image_id"):
            if _claim(operation, str(image.id)):
                operation.refresh_from_db()
                return _follow(operation, listing)
    if timezone.now() < steps.find_deadline(operation):
        return steps.poll()
    minutes = settings.XDS_CREATE_FIND_TIMEOUT // 60
    key = "image_unknown_unreadable" if listing is None else "image_unknown_not_found"
    steps.finish_unknown(
        operation,
        said(key, name=operation.params.get("name", ""), minutes=minutes),
        expect=(State.WAITING,),
    )
    return None


def _candidates(operation: Operation, listing: list) -> list:
    """Images of the name asked for that the create may have made: not in the mirror before it
    was sent (a lost answer may have hidden a 200003 refusal), created no earlier than it was
    sent (less the clock skew allowed)."""
    name = operation.params.get("name")
    made = steps.new_since_sent(operation, PersonalImage, listing)
    return [image for image in made if image.name == name]


def _claim(operation: Operation, image_id: str) -> bool:
    """Make `image_id` this create's image (one create only: a unique constraint) and give it
    to the member who asked, if the mirror already has it."""
    name = operation.params.get("name", "")
    try:
        return steps.claim_found(
            operation,
            Event.IMAGE_FOUND,
            PersonalImage,
            "image",
            image_id,
            name,
            accepted_at=operation.accepted_at,  # followed since its `add` was accepted
        )
    except IntegrityError:
        return False  # another create's image


# --- Rename, delete ----------------------------------------------------------------------------


def _submit(operation: Operation, client) -> float | None:
    return steps.action_send(operation, lambda: _send(operation, client), "image_answer_lost")


def _send(operation: Operation, client) -> None:
    if operation.kind == Kind.IMAGE_RENAME:
        client.rename_personal_image(operation.image_id, operation.params["name"])
    else:
        client.delete_personal_image(operation.image_id)


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
    steps.succeeded(operation, outcome, "image_succeeded_answer_lost")


def _unless_timed_out(operation: Operation, *, making: bool = False) -> float | None:
    """The next poll or, past the timeout since it was accepted (XDS_CREATE_FIND_TIMEOUT for an
    image being made, XDS_ACTION_TIMEOUT for a rename or delete), "outcome unknown": the
    provider may still be at it, and a refusal would have said so."""
    if making:
        return steps.unknown_unless_shown(
            operation, settings.XDS_CREATE_FIND_TIMEOUT, "image_still_making"
        )
    return steps.unknown_unless_shown(operation, settings.XDS_ACTION_TIMEOUT, "image_not_shown")
