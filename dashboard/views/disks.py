"""The cloud disk pages over the mirror: the list, a disk, their polls, and the forms that ask
for a disk operation (create, attach, detach, destroy). Each operation goes through
`operation_request` like a host action; the worker does the rest and the pages follow it live.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dashboard import permissions, selectors, services
from dashboard.forms import ActionForm
from dashboard.forms.disks import AttachDiskForm, CreateDiskForm, DestroyDiskForm, DiskFilterForm
from dashboard.htmx import render_page
from dashboard.models import AREA_SLUGS, Disk, Host, Operation, is_host_id
from dashboard.polling import poll_answer, poll_context, poll_url
from dashboard.views.asking import (
    ask,
    ask_and_follow,
    confirm_form,
    incomplete_form,
    refusal_as_message,
)
from dashboard.views.common import found_or_404, safe_next
from dashboard.views.hosts import host_or_404
from vmclient.types import Area, BillingType

DISKS_PER_PAGE = 50
Kind = Operation.Kind


def _disk_page(request: HttpRequest):
    filters, page_number = DiskFilterForm(request.GET).filters()
    disks = selectors.disk_list(**filters, me=request.user)
    page = Paginator(disks, DISKS_PER_PAGE).get_page(page_number)
    page.object_list = selectors.disk_operations_attach(page.object_list)
    return filters, page


def _list_version(status) -> str:
    return f"{selectors.disks_version()}-{status.stamp}"


def _list_context(request: HttpRequest, status) -> dict:
    filters, page = _disk_page(request)
    version = _list_version(status)
    query = {name: value for name, value in filters.items() if value}
    if page.number > 1:
        query["page"] = page.number
    return {
        "filters": filters,
        "page": page,
        "sync_status": status,
        "may_create": permissions.can_create_disk(request.user),
        "poll_url": poll_url("disk-live", **query, at=version),
        **poll_context(changing=any(disk.is_changing for disk in page.object_list)),
    }


@require_GET
def disk_list(request: HttpRequest) -> HttpResponse:
    status = selectors.sync_state_get()
    context = _list_context(request, status)
    context["form"] = DiskFilterForm.for_display(
        context["filters"], owners=selectors.disk_owner_names()
    )
    context["quotas"] = selectors.quotas()
    context["disk_sync"] = selectors.disk_sync_state()
    return render_page(request, "disks/list.html", context, partial="disk-table")


@require_GET
def disk_list_live(request: HttpRequest) -> HttpResponse:
    """The disk table's poll: 204 while neither the disk mirror nor the sync status moved;
    else the table again (a page of disks is small) and the status."""
    status = selectors.sync_state_get()

    def moved() -> HttpResponse:
        context = _list_context(request, status)
        return render(request, "disks/list.html#disk-live", context)

    return poll_answer(request, version=_list_version(status), render=moved)


def _page_or_404(request: HttpRequest, disk_id: str) -> selectors.DiskPage:
    page = selectors.disk_page(disk_id=disk_id, user=request.user) if is_host_id(disk_id) else None
    return found_or_404(page, _("No disk with this id."))


def _detail_version(disk_id: str, status) -> str | None:
    version = selectors.disk_version_get(disk_id=disk_id)
    return None if version is None else f"{version}-{status.stamp}"


def _detail_context(request: HttpRequest, page: selectors.DiskPage, status, **extra) -> dict:
    return {
        "page": page,
        "disk": page.disk,
        "sync_status": status,
        "poll_url": poll_url(
            "disk-detail-live", args=[page.disk.id], at=_detail_version(page.disk.id, status)
        ),
        **poll_context(changing=page.disk.is_changing),
        **extra,
    }


@require_GET
def disk_detail(request: HttpRequest, disk_id: str) -> HttpResponse:
    status = selectors.sync_state_get()
    page = _page_or_404(request, disk_id)
    return render(request, "disks/detail.html", _detail_context(request, page, status))


@require_GET
def disk_detail_live(request: HttpRequest, disk_id: str) -> HttpResponse:
    status = selectors.sync_state_get()
    version = _detail_version(disk_id, status) if is_host_id(disk_id) else None
    if version is None:
        raise Http404(_("No disk with this id."))

    def moved() -> HttpResponse:
        page = _page_or_404(request, disk_id)
        return render(
            request, "disks/detail.html#disk-live", _detail_context(request, page, status)
        )

    return poll_answer(request, version=version, render=moved)


def _mount_hosts():
    """The hosts a new disk may be mounted on, for the create form's choice."""
    return (
        Host.objects.present()
        .filter(billing_type=BillingType.PAY_AS_YOU_GO)
        .order_by("name", "id")[:500]
    )


@require_http_methods(["GET", "POST"])
def disk_create(request: HttpRequest) -> HttpResponse:
    if not permissions.can_create_disk(request.user):
        raise permissions.Forbidden(permissions.refusal(request.user, Kind.DISK_CREATE))
    hosts = list(_mount_hosts())
    initial = {}
    if request.method == "GET" and is_host_id(request.GET.get("host", "")):
        chosen = next((h for h in hosts if h.id == request.GET["host"]), None)
        if chosen is not None:
            initial = {"host": chosen.id, "area": _area_slug(chosen.area)}
    form = CreateDiskForm(request.POST or None, hosts=hosts, initial=initial)
    error = ""
    if request.method == "POST" and form.is_valid():
        host = None
        if form.cleaned_data["host"]:
            host = Host.objects.filter(pk=form.cleaned_data["host"]).first()
            if host is None:
                form.add_error("host", _("No host with this id."))
        if form.is_valid():
            started = _("The disk create is asked for.")
            try:
                return ask_and_follow(
                    request, form, kind=Kind.DISK_CREATE, host=host, started=started
                )
            except services.OperationRefused as refused:
                error = refused.message
    context = {"form": form, "error": error, "quotas": selectors.quotas()}
    return render(request, "disks/create.html", context)


def _area_slug(area) -> str:
    try:
        return AREA_SLUGS[Area(area)]
    except ValueError:
        return ""


def _disk_or_404(disk_id: str) -> Disk:
    disk = selectors.disk_get(disk_id=disk_id) if is_host_id(disk_id) else None
    return found_or_404(disk, _("No disk with this id."))


def _request(request: HttpRequest, form, kind: str, disk: Disk, *, host=None) -> HttpResponse:
    """Ask for a disk operation: back where the member was, with a message (after a destroy, on
    to the operation's page)."""
    values = {"action": Operation.Kind(kind).label, "disk": disk.label}
    started = _("%(action)s %(disk)s started.") % values
    with refusal_as_message(request):
        operation = ask(request, form, kind=kind, disk=disk, host=host, started=started)
        if kind == Kind.DISK_DESTROY:
            return redirect("operation-detail", operation.pk)  # the disk's page ends with it
    return redirect(safe_next(request, default=reverse("disk-detail", args=[disk.id])))


@require_POST
def disk_attach(request: HttpRequest, disk_id: str) -> HttpResponse:
    disk = _disk_or_404(disk_id)
    form = AttachDiskForm(request.POST)
    if not form.is_valid():
        return incomplete_form()
    host = Host.objects.filter(pk=form.cleaned_data["host"]).first()
    if host is None:
        messages.error(request, _("No host with this id."))
        return redirect(safe_next(request, default=reverse("disk-detail", args=[disk.id])))
    return _request(request, form, Kind.DISK_ATTACH, disk, host=host)


@require_POST
def host_disk_attach(request: HttpRequest, host_id: str) -> HttpResponse:
    """The host page's Disks card: mount the disk chosen in the form on this host."""
    host = host_or_404(host_id)
    form = AttachDiskForm(request.POST)
    disk_id = request.POST.get("disk", "")
    disk = selectors.disk_get(disk_id=disk_id) if is_host_id(disk_id) else None
    back = reverse("host-detail", args=[host.id])
    if not form.is_valid() or form.cleaned_data["host"] != host.id:
        return incomplete_form()
    if disk is None:
        messages.error(request, _("No disk with this id."))
        return redirect(back)
    _request(request, form, Kind.DISK_ATTACH, disk, host=host)
    return redirect(back)


@require_POST
def disk_detach(request: HttpRequest, disk_id: str) -> HttpResponse:
    disk = _disk_or_404(disk_id)
    form = ActionForm(request.POST)
    if not form.is_valid():
        return incomplete_form()
    return _request(request, form, Kind.DISK_DETACH, disk)


@require_http_methods(["GET", "POST"])
def disk_destroy(request: HttpRequest, disk_id: str) -> HttpResponse:
    """Destroying asks the member to type the disk's name, and says its data is gone."""
    disk = _disk_or_404(disk_id)
    form = confirm_form(request, DestroyDiskForm, Kind.DISK_DESTROY, disk=disk)
    if form.is_valid():
        return _request(request, form, Kind.DISK_DESTROY, disk)
    page = _page_or_404(request, disk_id)
    context = {
        "page": page,
        "disk": page.disk,
        "form": form,
        "refusal": page.refusals.get(Kind.DISK_DESTROY, ""),
    }
    return render(request, "disks/destroy.html", context)
