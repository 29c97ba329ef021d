"""The personal image pages over the mirror: their section of /images/ and its poll, and the
forms that ask for an image operation (save an image of a host, rename, delete). Each goes
through `operation_request` like a disk operation; the worker does the rest and the pages
follow it live."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dashboard import permissions, selectors, services
from dashboard.forms.images import DeleteImageForm, ImageNameForm
from dashboard.image_rules import host_image_refusal, image_action_refusal
from dashboard.models import Host, Operation, PersonalImage, is_host_id
from dashboard.polling import poll_answer, poll_context, poll_url
from dashboard.views.disks import _tell

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
    if page is None:
        raise Http404(_("No personal image with this id."))
    return page


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


def _host_or_404(host_id: str) -> Host:
    host = Host.objects.filter(pk=host_id).first() if is_host_id(host_id) else None
    if host is None:
        raise Http404(_("No host with this id."))
    return host


def _image_or_404(image_id: str) -> PersonalImage:
    image = selectors.personal_image_get(image_id=image_id)
    if image is None:
        raise Http404(_("No personal image with this id."))
    return image


@require_http_methods(["GET", "POST"])
def host_image_save(request: HttpRequest, host_id: str) -> HttpResponse:
    """Save a personal image of the host: its name, then the worker makes it (the host is held
    meanwhile). The host delete page links here ("save a personal image first")."""
    host = _host_or_404(host_id)
    error = ""
    if request.method == "POST":
        form = ImageNameForm(request.POST)
        if form.is_valid():
            try:
                operation = services.operation_request(
                    user=request.user,
                    kind=Kind.IMAGE_CREATE,
                    host=host,
                    params=form.operation_params(),
                    idempotency_key=form.cleaned_data["idempotency_key"],
                )
            except services.OperationRefused as refused_now:
                error = refused_now.message
            else:
                _tell(request, operation, _("Saving the personal image is asked for."))
                return redirect("operation-detail", operation.pk)
    else:
        # The form is for members who may save an image of this host; a post from anyone else
        # goes on to `operation_request`, which refuses it and audits the refusal.
        refused = permissions.refusal(request.user, Kind.IMAGE_CREATE, host)
        if refused:
            raise permissions.Forbidden(refused)
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        form = ImageNameForm(initial={"name": f"{host.name or host.id}-{stamp}"[:100]})
    context = {"host": host, "form": form, "error": error, "refusal": host_image_refusal(host)}
    return render(request, "images/save.html", context)


@require_POST
def image_rename(request: HttpRequest, image_id: str) -> HttpResponse:
    image = _image_or_404(image_id)
    form = ImageNameForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(_("The form is incomplete; reload the page and try again."))
    return _request(
        request, Kind.IMAGE_RENAME, image, form.cleaned_data["idempotency_key"],
        params=form.operation_params(),
    )  # fmt: skip


@require_http_methods(["GET", "POST"])
def image_delete(request: HttpRequest, image_id: str) -> HttpResponse:
    """Deleting asks the member to type the image's name."""
    image = _image_or_404(image_id)
    refused = permissions.refusal(request.user, Kind.IMAGE_DELETE, image=image)
    if refused:
        raise permissions.Forbidden(refused)
    if request.method == "POST":
        form = DeleteImageForm(request.POST, image=image)
        if form.is_valid():
            return _request(request, Kind.IMAGE_DELETE, image, form.cleaned_data["idempotency_key"])
    else:
        form = DeleteImageForm(image=image)
    context = {
        "image": image,
        "form": form,
        "refusal": image_action_refusal(image, Kind.IMAGE_DELETE),
    }
    return render(request, "images/delete.html", context)


def _request(request: HttpRequest, kind: str, image: PersonalImage, key, *, params=None):
    try:
        operation = services.operation_request(
            user=request.user, kind=kind, image=image, params=params, idempotency_key=key
        )
    except services.OperationRefused as refused:
        messages.error(request, refused.message)
        return redirect(reverse("image-detail", args=[image.id]))
    values = {"action": Operation.Kind(kind).label, "image": image.label}
    _tell(request, operation, _("%(action)s of %(image)s started.") % values)
    return redirect("operation-detail", operation.pk)
