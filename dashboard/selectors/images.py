"""Reads of the personal image mirror, for the images page, the forms that ask for an image
operation and the host create form. Only the mirror: no upstream call."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, F, Sum

from dashboard import permissions
from dashboard.image_rules import image_action_refusal
from dashboard.models import Operation, PersonalImage, SyncState, is_host_id
from vmclient.types import Image

Kind = Operation.Kind
# How many personal images the page lists (the provider allows a handful per account).
IMAGES_SHOWN = 500


@dataclass
class PersonalImageRow:
    image: PersonalImage
    offered: tuple[str, ...] = ()
    refusals: dict[str, str] = field(default_factory=dict)  # why an action is not offered
    operations: list = field(default_factory=list)  # on its own page: its latest operations
    why_not: str = ""  # when nothing is offered: a few words for the table cell (the whole
    # sentence is its tooltip)


def images_version() -> str:
    """The version of the whole image mirror and of the image creates not yet claimed (a page
    shows those as "being asked for")."""
    totals = PersonalImage.objects.order_by().aggregate(rows=Count("pk"), versions=Sum("version"))
    asked = Operation.objects.filter(kind=Kind.IMAGE_CREATE, image__isnull=True).aggregate(
        rows=Count("pk"), versions=Sum("version")
    )
    return f"{totals['rows']}.{totals['versions'] or 0}.{asked['rows']}.{asked['versions'] or 0}"


def personal_image_rows(*, user) -> list[PersonalImageRow]:
    """Every image of the mirror, present first, with its operation in flight and what `user`
    may do with it (and why not). Two queries, whatever the number of images."""
    # Present first on every database (PostgreSQL sorts NULLs last, SQLite first).
    present_first = F("gone_at").asc(nulls_first=True)
    images = list(PersonalImage.objects.order_by(present_first, "-created_at", "id")[:IMAGES_SHOWN])
    in_flight = {
        op.image_id: op
        for op in Operation.objects.in_flight().filter(image_id__in=[i.id for i in images])
    }
    rows = []
    for image in images:
        image.operation_in_flight = in_flight.get(image.id)
        rows.append(_row(user, image))
    return rows


def _row(user, image: PersonalImage, **extra) -> PersonalImageRow:
    """`image` with what `user` may do with it and why not (its operation in flight set)."""
    row = PersonalImageRow(image=image, **extra)
    if not image.is_gone:
        for kind in (Kind.IMAGE_RENAME, Kind.IMAGE_DELETE):
            why = image_action_refusal(image, kind) or permissions.refusal(user, kind, image=image)
            if why:
                row.refusals[kind] = why
            else:
                row.offered += (kind,)
        if not row.offered:
            row.why_not = _why_not(user, image)
    return row


def personal_image_page(*, image_id: str, user) -> PersonalImageRow | None:
    """One image's page: the image, what `user` may do with it, and its latest operations (the
    create that made it among them)."""
    image = personal_image_get(image_id=image_id)
    if image is None:
        return None
    operations = list(
        Operation.objects.filter(image_id=image.id).order_by("-created_at", "-id")[:20]
    )
    image.operation_in_flight = next((op for op in operations if not op.is_final), None)
    return _row(user, image, operations=operations)


def image_version_get(*, image_id: str) -> int | None:
    return PersonalImage.objects.filter(id=image_id).values_list("version", flat=True).first()


def _why_not(user, image: PersonalImage) -> str:
    """Why nothing is offered on `image`, in a few words: its state's reason (short already),
    or whose it is."""
    from django.utils.translation import gettext as _

    state = image_action_refusal(image, Kind.IMAGE_DELETE)
    if state:
        return state
    if not permissions.can_manage_own_images(user):
        return _("view only")
    return _("unowned") if image.owner_id is None else _("not yours")


def image_sync_state() -> SyncState | None:
    """How the last listing of personal images went (the "images" job of the host sync)."""
    return SyncState.objects.filter(job=SyncState.Job.IMAGES).first()


def images_being_made() -> list[Operation]:
    """Image creates in flight whose image the listing has not shown yet."""
    return list(Operation.objects.in_flight().filter(kind=Kind.IMAGE_CREATE, image__isnull=True))


def personal_image_get(*, image_id: str) -> PersonalImage | None:
    if not is_host_id(image_id):
        return None
    return PersonalImage.objects.filter(pk=image_id).first()


def usable_personal_images_as_catalog() -> tuple[Image, ...]:
    """The usable personal images as images a host create may name, labelled as personal and
    unverified: the provider's docs do not say a create accepts one (the simulator does). Sent
    as the create's `imageId` (see `PersonalImage.create_image_id`); the provider decides
    whether it fits the template (7005 if not: nothing is bought)."""
    from django.utils.translation import gettext as _

    return tuple(
        Image(
            image_id=image.create_image_id,
            type=None,
            system_name=image.image_type or None,
            system_version=_("%(name)s (personal image, unverified)") % {"name": image.label},
        )
        for image in PersonalImage.objects.usable().order_by("name", "id")
    )
