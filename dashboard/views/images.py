"""The personal image pages over the mirror: their section of /images/ and its poll, and the
forms that ask for an image operation (save an image of a host, rename, delete). Each goes
through `operation_request` like a disk operation; the worker does the rest and the pages
follow it live."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dashboard import selectors, services
from dashboard.forms.images import DeleteImageForm, ImageNameForm
from dashboard.image_rules import host_image_refusal, image_action_refusal
from dashboard.models import Operation, PersonalImage, is_host_id
from dashboard.polling import poll_answer, poll_context, poll_url
from dashboard.views.asking import ask_and_follow, incomplete_form, refuse_unless_allowed
from dashboard.views.common import found_or_404
from dashboard.views.hosts import host_or_404

Kind = Operation.Kind


def personal_context(request: HttpRequest) -> dict:
    """The personal images section of /images/: every image, what is being made, the poll."""
    rows = selectors.personal_image_rows(user=request.user)
    asked = selectors.images_being_made()
    changing = bool(asked) or any(row.image.is_changing for row in rows)
    return {
        "personal_rows": rows,
        "personal_asked": asked,
        "personal_poll_url": poll_url("image-personal-live", at=selectors.images_version()),
        "personal_changing": changing,
        "personal_poll": poll_context(changing=changing),
        "image_sync": selectors.image_sync_state(),
    }


@require_GET
def personal_images_live(request: HttpRequest) -> HttpResponse:
    """The personal images section's poll: 204 while the image mirror did not move."""

    def moved() -> HttpResponse:
        return render(request, "catalog/images.html#personal-live", personal_context(request))

    return poll_answer(request, version=selectors.images_version(), render=moved)


def _page_or_404(request: HttpRequest, image_id: str) -> selectors.PersonalImageRow:
    page = selectors.personal_image_page(image_id=image_id, user=request.user)
    return found_or_404(page, _("No personal image with this id."))


def _detail_context(request: HttpRequest, page: selectors.PersonalImageRow) -> dict:
    version = selectors.image_version_get(image_id=page.image.id)
    return {
        "page": page,
        "image": page.image,
        "poll_url": poll_url("image-detail-live", args=[page.image.id], at=version),
        **poll_context(changing=page.image.is_changing),
    }


@require_GET
def image_detail(request: HttpRequest, image_id: str) -> HttpResponse:
    page = _page_or_404(request, image_id)
    return render(request, "images/detail.html", _detail_context(request, page))


@require_GET
def image_detail_live(request: HttpRequest, image_id: str) -> HttpResponse:
    """An image page's poll: 204 while the image's row did not move."""
    version = selectors.image_version_get(image_id=image_id) if is_host_id(image_id) else None
    if version is None:
        raise Http404(_("No personal image with this id."))

    def moved() -> HttpResponse:
        page = _page_or_404(request, image_id)
        return render(request, "images/detail.html#image-live", _detail_context(request, page))

    return poll_answer(request, version=str(version), render=moved)


def _image_or_404(image_id: str) -> PersonalImage:
    image = selectors.personal_image_get(image_id=image_id)
    return found_or_404(image, _("No personal image with this id."))


@require_http_methods(["GET", "POST"])
def host_image_save(request: HttpRequest, host_id: str) -> HttpResponse:
    """Save a personal image of the host: its name, then the worker makes it (the host is held
    meanwhile). The host delete page links here ("save a personal image first")."""
    host = host_or_404(host_id)
    error = ""
    if request.method == "POST":
        form = ImageNameForm(request.POST)
        if form.is_valid():
            started = _("Saving the personal image is asked for.")
            try:
                return ask_and_follow(
                    request, form, kind=Kind.IMAGE_CREATE, host=host, started=started
                )
            except services.OperationRefused as refused:
                error = refused.message
    else:
        # The form is for members who may save an image of this host; a post from anyone else
        # goes on to `operation_request`, which refuses it and audits the refusal.
        refuse_unless_allowed(request.user, Kind.IMAGE_CREATE, host=host)
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        form = ImageNameForm(initial={"name": f"{host.name or host.id}-{stamp}"[:100]})
    context = {"host": host, "form": form, "error": error, "refusal": host_image_refusal(host)}
    return render(request, "images/save.html", context)


@require_POST
def image_rename(request: HttpRequest, image_id: str) -> HttpResponse:
    image = _image_or_404(image_id)
    form = ImageNameForm(request.POST)
    if not form.is_valid():
        return incomplete_form()
    return _request(request, form, Kind.IMAGE_RENAME, image)


@require_http_methods(["GET", "POST"])
def image_delete(request: HttpRequest, image_id: str) -> HttpResponse:
    """Deleting asks the member to type the image's name."""
    image = _image_or_404(image_id)
    # A post too, before its name is checked: a member who may not delete is told so, not that
    # the name is wrong.
    refuse_unless_allowed(request.user, Kind.IMAGE_DELETE, image=image)
    form = DeleteImageForm(request.POST if request.method == "POST" else None, image=image)
    if form.is_valid():
        return _request(request, form, Kind.IMAGE_DELETE, image)
    context = {
        "image": image,
        "form": form,
        "refusal": image_action_refusal(image, Kind.IMAGE_DELETE),
    }
    return render(request, "images/delete.html", context)


def _request(request: HttpRequest, form, kind: str, image: PersonalImage) -> HttpResponse:
    """Ask for an image operation: on to the operation's page, or back to the image's with why
    not."""
    values = {"action": Operation.Kind(kind).label, "image": image.label}
    started = _("%(action)s of %(image)s started.") % values
    try:
        return ask_and_follow(request, form, kind=kind, image=image, started=started)
    except services.OperationRefused as refused:
        messages.error(request, refused.message)
        return redirect(reverse("image-detail", args=[image.id]))
