"""Pages over the local mirror. A view parses its input, calls selectors (or one service), and
renders the page or, for HTMX, just the fragment that changed. No view calls the upstream."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRefresh, HttpResponseStopPolling

from dashboard import selectors, services
from dashboard.connection import connection_for, rdp_filename
from dashboard.forms import CatalogFilterForm, HostFilterForm, parse_versions
from dashboard.htmx import render_page, wants_partial
from dashboard.models import Host, is_host_id

HOSTS_PER_PAGE = 50
# How long a page waits for the sync that "refresh now" asked for before it stops asking.
SYNC_WAIT_SECONDS = 120


def _poll_context() -> dict:
    return {
        "poll_seconds": settings.XDS_POLL_SECONDS,
        "poll_hidden_seconds": settings.XDS_POLL_HIDDEN_SECONDS,
    }


def _poll_url(name: str, *, args=(), **params) -> str:
    return f"{reverse(name, args=args)}?{urlencode(params)}"


def _versions_param(hosts) -> str:
    return ",".join(f"{host.id}:{host.version}" for host in hosts)


# --- Hosts ---------------------------------------------------------------------------------------


@require_GET
def host_list(request: HttpRequest) -> HttpResponse:
    filters, page_number = HostFilterForm(request.GET).filters()
    page = Paginator(selectors.host_list(**filters), HOSTS_PER_PAGE).get_page(page_number)
    status = selectors.sync_state_get()
    changing = [host for host in page.object_list if host.is_changing]
    context = {
        "filters": filters,
        "page": page,
        "sync_status": status,
        "poll_url": (
            _poll_url("host-live", v=_versions_param(changing), s=status.stamp) if changing else ""
        ),
        **_poll_context(),
    }
    if not wants_partial(request):
        # Only the whole page shows the filter form and the fleet summary.
        form = HostFilterForm.for_display(
            filters, operating_systems=selectors.host_operating_systems()
        )
        context.update(form=form, status_counts=selectors.host_status_counts())
    return render_page(request, "hosts/list.html", context, partial="host-table")


@require_GET
def host_list_live(request: HttpRequest) -> HttpResponse:
    """The host table's poll: rows whose version moved (as out-of-band swaps) and a poller for
    the rows still changing; 204 when nothing moved; 286 (stop polling) once none is changing."""
    versions = parse_versions(request.GET.get("v", ""))
    moved, changing = selectors.hosts_with_versions(versions=versions)
    status = selectors.sync_state_get()
    status_moved = request.GET.get("s", "") != status.stamp
    if changing and not moved and not status_moved:
        return HttpResponse(status=204)
    context = {
        "moved": moved,
        "sync_status": status,
        "status_moved": status_moved,
        "poll_url": (
            _poll_url("host-live", v=_versions_param(changing), s=status.stamp) if changing else ""
        ),
        **_poll_context(),
    }
    response = render(request, "hosts/list.html#host-live", context)
    if not changing:
        response.status_code = HttpResponseStopPolling.status_code
    return response


def _host_or_404(host_id: str) -> Host:
    host = selectors.host_get(host_id=host_id) if is_host_id(host_id) else None
    if host is None:
        raise Http404(_("No host with this id."))
    return host


def _host_detail_context(host: Host, status) -> dict:
    return {
        "host": host,
        "connection": connection_for(host),
        "sync_status": status,
        "poll_url": (
            _poll_url("host-detail-live", args=[host.id], v=host.version, s=status.stamp)
            if host.is_changing
            else ""
        ),
        **_poll_context(),
    }


@require_GET
def host_detail(request: HttpRequest, host_id: str) -> HttpResponse:
    host = _host_or_404(host_id)
    context = _host_detail_context(host, selectors.sync_state_get())
    return render(request, "hosts/detail.html", context)


@require_GET
def host_detail_live(request: HttpRequest, host_id: str) -> HttpResponse:
    """The detail page's poll: the host panel when it moved, 286 once the host settled."""
    host = _host_or_404(host_id)
    status = selectors.sync_state_get()
    moved = request.GET.get("v", "") != str(host.version)
    status_moved = request.GET.get("s", "") != status.stamp
    if host.is_changing and not moved and not status_moved:
        return HttpResponse(status=204)
    context = {
        **_host_detail_context(host, status),
        "moved": moved,
        "status_moved": status_moved,
    }
    response = render(request, "hosts/detail.html#host-live", context)
    if not host.is_changing:
        response.status_code = HttpResponseStopPolling.status_code
    return response


@require_GET
def host_rdp(request: HttpRequest, host_id: str) -> HttpResponse:
    host = _host_or_404(host_id)
    connection = connection_for(host)
    if connection is None or connection.protocol != "rdp":
        raise Http404(_("This host has no remote desktop address."))
    response = HttpResponse(connection.rdp_file(), content_type="application/x-rdp")
    response["Content-Disposition"] = f'attachment; filename="{rdp_filename(host)}"'
    return response


# --- Catalog -------------------------------------------------------------------------------------


def _catalog(**filters):
    catalog = selectors.catalog_get(**filters)
    if catalog is None:
        # Never fetched here: the worker is asked, and the page shows "loading" meanwhile.
        services.catalog_refresh_request()
    return catalog


@require_GET
def package_list(request: HttpRequest) -> HttpResponse:
    filters = CatalogFilterForm(request.GET).values()
    context = {
        "catalog": _catalog(**filters),
        "filters": filters,
        "form": CatalogFilterForm(initial=filters),
        **_poll_context(),
    }
    return render_page(request, "catalog/packages.html", context, partial="catalog")


@require_GET
def image_list(request: HttpRequest) -> HttpResponse:
    context = {"catalog": _catalog(), **_poll_context()}
    return render_page(request, "catalog/images.html", context, partial="catalog")


# --- Sync ----------------------------------------------------------------------------------------


@require_POST
def sync_now(request: HttpRequest) -> HttpResponse:
    """ "Refresh now": enqueue a sync. The page reloads itself once the sync has finished."""
    status = selectors.sync_state_get()
    try:
        queued = services.hosts_sync_request()
    except services.TaskQueueUnavailable:
        level = messages.ERROR
        text = _(
            "The task queue cannot be reached, so no sync was started. The pages still show "
            "the last synced state; an administrator should check the worker and its broker."
        )
    else:
        level = messages.SUCCESS if queued else messages.INFO
        text = (
            _("Sync started: this page reloads when it is done.")
            if queued
            else _("A sync was started a moment ago; this page reloads when it is done.")
        )
    if not request.htmx:
        messages.add_message(request, level, text)
        return redirect(_safe_next(request))
    failed = level == messages.ERROR
    context = {
        "sync_status": status,
        "sync_message": text,
        "sync_message_level": "error" if failed else "info",
        "sync_wait_url": (
            ""
            if failed
            else _poll_url(
                "sync-wait", s=status.hosts_stamp, until=int(time.time()) + SYNC_WAIT_SECONDS
            )
        ),
        **_poll_context(),
    }
    return render(request, "base.html#sync-status", context)


@require_GET
def sync_wait(request: HttpRequest) -> HttpResponse:
    """Polled after "refresh now": reloads the page once a host sync has finished since, and
    gives up (286) after SYNC_WAIT_SECONDS, e.g. when no worker is running."""
    if request.GET.get("s", "") != selectors.sync_state_get().hosts_stamp:
        return HttpResponseClientRefresh()
    until = request.GET.get("until", "")
    if not until.isdigit() or int(until) < time.time():
        return HttpResponseStopPolling()
    return HttpResponse(status=204)


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.headers.get("referer", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("host-list")
