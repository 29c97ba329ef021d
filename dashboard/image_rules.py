"""The provider's rules for personal images, the one place they become yes or no (as
dashboard.disk_rules does for disks): checked on the mirror before anything is sent, and shown
on the pages as the reason a button is not offered. The docs state few (see the shared upstream
reference, "Personal images"): an unknown or unusable host is refused (200001), a name already
used is refused (200003), and so is one image too many (200002, at a number the docs do not
give: the provider has the last word there). The upstream still decides: a refusal it sends
anyway ends the operation with its code and words.

Where the docs are silent, the dashboard chooses:
- an image being made is neither renamed nor deleted: an image create finds its new image by
  its name (the provider answers only `true`), so the name must stay as asked until then;
- one operation at a time on an image, and an image create holds its host while the image is
  made (no power change or delete of the host meanwhile).
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from dashboard.disk_rules import in_flight_refusal
from dashboard.models import (
    IMAGE_MAKING,
    IMAGE_NAME_MAX_LENGTH,
    Host,
    Operation,
    PersonalImage,
)
from dashboard.refusals import OperationRefused
from vmclient.types import HostStatus

Kind = Operation.Kind


def image_name_refusal(name: str, *, other_than: PersonalImage | None = None) -> str:
    """Why `name` cannot be a personal image's name, or "": 1 to 100 characters without control
    characters (the client's limit), and not the name of another image, present or being
    asked for (200003)."""
    if (
        not name
        or len(name) > IMAGE_NAME_MAX_LENGTH
        or any(ord(c) < 32 or ord(c) == 127 for c in name)
    ):
        return _("An image name is 1 to %(maximum)s characters, without control characters.") % {
            "maximum": IMAGE_NAME_MAX_LENGTH
        }
    taken = PersonalImage.objects.present().filter(name=name)
    if other_than is not None:
        taken = taken.exclude(pk=other_than.pk)
    asked = Operation.objects.in_flight().filter(
        kind__in=(Kind.IMAGE_CREATE, Kind.IMAGE_RENAME), params__name=name
    )
    if taken.exists() or asked.exists():
        return _("Another personal image already has this name (or is being given it).")
    return ""


def host_image_refusal(host: Host) -> str:
    """Why no personal image can be made from `host` now, or ""."""
    if host.is_gone:
        return _("The host is gone.")
    if host.operation_in_flight is not None:
        return in_flight_refusal(host.operation_in_flight, on_disk=False)  # "…running on the host"
    if host.status == HostStatus.EXPIRED:
        return _("The host has expired: Xuandashi makes no image of an expired host.")
    return ""


def image_action_refusal(image: PersonalImage, kind: str) -> str:
    """Why `kind` (rename, delete) cannot be asked for on `image` now, or ""."""
    if image.is_gone:
        return _("The personal image is gone.")
    in_flight = image.operation_in_flight
    if in_flight is not None:
        return _(
            "%(action)s by %(person)s is still running on this image; wait until it has finished."
        ) % {"action": in_flight.get_kind_display(), "person": in_flight.requested_by_name}
    if image.status == IMAGE_MAKING:
        return _("The image is still being made; wait until it is done.")
    if kind not in (Kind.IMAGE_RENAME, Kind.IMAGE_DELETE):
        raise ValueError(f"not an image action: {kind!r}")
    return ""


def image_actions_allowed(image: PersonalImage) -> tuple[str, ...]:
    """The image actions its state allows now."""
    return tuple(
        kind
        for kind in (Kind.IMAGE_RENAME, Kind.IMAGE_DELETE)
        if not image_action_refusal(image, kind)
    )


def image_params_checked(
    *, kind: str, image: PersonalImage | None, host: Host | None, params: dict | None
) -> dict:
    """The parameters an image operation keeps, once the rules above found nothing against
    it; raises `OperationRefused` with the reason otherwise. A create and a rename keep the
    name asked for."""
    params = params or {}
    name = str(params.get("name") or "").strip()
    if kind == Kind.IMAGE_CREATE:
        refusal = host_image_refusal(host) or image_name_refusal(name)
        if refusal:
            raise OperationRefused(refusal)
        return {"name": name}
    refusal = image_action_refusal(image, kind)
    if not refusal and kind == Kind.IMAGE_RENAME:
        if name == image.name:
            refusal = _("That is already the image's name.")
        else:
            refusal = image_name_refusal(name, other_than=image)
    if refusal:
        raise OperationRefused(refusal)
    return {"name": name} if kind == Kind.IMAGE_RENAME else {}
