"""The host pages over the local mirror: the list, a host, their polls, the .rdp file."""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from django_htmx.http import HttpResponseStopPolling

from dashboard import permissions, selectors
from dashboard.connection import connection_for, rdp_filename
from dashboard.forms import HostFilterForm, parse_versions
from dashboard.htmx import render_page, wants_partial
from dashboard.models import Host, is_host_id
from dashboard.views.common import poll_context, poll_url

HOSTS_PER_PAGE = 50


def _versions_param(hosts) -> str:
    return ",".join(f"{host.id}:{host.version}" for host in hosts)


@require_GET
def host_list(request: HttpRequest) -> HttpResponse:
    filters, page_number = HostFilterForm(request.GET).filters()
    hosts = selectors.host_list(**filters, me=request.user)
    page = Paginator(hosts, HOSTS_PER_PAGE).get_page(page_number)
    status = selectors.sync_state_get()
    page.object_list = selectors.operations_in_flight_attach(page.object_list)
    changing = [host for host in page.object_list if host.is_changing]
    context = {
        "bulk": permissions.can_act_on_some_hosts(request.user),
        "filters": filters,
        "page": page,
        "sync_status": status,
        "poll_url": (
            poll_url("host-live", v=_versions_param(changing), s=status.stamp) if changing else ""
        ),
        **poll_context(),
    }
    if not wants_partial(request):
        # Only the whole page shows the filter form and the fleet summary.
        form = HostFilterForm.for_display(
            filters,
            operating_systems=selectors.host_operating_systems(),
            owners=selectors.host_owner_names(),
            labels=selectors.host_label_names(),
        )
        context.update(
            form=form,
            status_counts=selectors.host_status_counts(),
            expiry=selectors.host_expiry_counts(),
            expiry_days=settings.XDS_EXPIRY_WARNING_DAYS,
        )
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
        "bulk": permissions.can_act_on_some_hosts(request.user),
        "moved": moved,
        "sync_status": status,
        "status_moved": status_moved,
        "poll_url": (
            poll_url("host-live", v=_versions_param(changing), s=status.stamp) if changing else ""
        ),
        **poll_context(),
    }
    response = render(request, "hosts/list.html#host-live", context)
    if not changing:
        response.status_code = HttpResponseStopPolling.status_code
    return response


def host_or_404(host_id: str) -> Host:
    host = selectors.host_get(host_id=host_id) if is_host_id(host_id) else None
    if host is None:
        raise Http404(_("No host with this id."))
    return host


def host_detail_context(host: Host, status=None, **extra) -> dict:
    """What the host panel shows: the host, how to connect, its latest operations (which tell
    whether one is in flight), and its poller while it is changing."""
    status = status or selectors.sync_state_get()
    operations = selectors.operations_for_host(host=host)
    return {
        "host": host,
        "operations": operations,
        "connection": connection_for(host),
        "sync_status": status,
        "poll_url": (
            poll_url("host-detail-live", args=[host.id], v=host.version, s=status.stamp)
            if host.is_changing
            else ""
        ),
        **poll_context(),
        **extra,
    }


@require_GET
def host_detail(request: HttpRequest, host_id: str) -> HttpResponse:
    host = host_or_404(host_id)
    return render(request, "hosts/detail.html", host_detail_context(host))


@require_GET
def host_detail_live(request: HttpRequest, host_id: str) -> HttpResponse:
    """The detail page's poll: the host panel when it moved, 286 once the host settled."""
    host = host_or_404(host_id)
    status = selectors.sync_state_get()
    moved = request.GET.get("v", "") != str(host.version)
    status_moved = request.GET.get("s", "") != status.stamp
    context = host_detail_context(host, status, moved=moved, status_moved=status_moved)
    if host.is_changing and not moved and not status_moved:
        return HttpResponse(status=204)
    response = render(request, "hosts/detail.html#host-live", context)
    if not host.is_changing:
        response.status_code = HttpResponseStopPolling.status_code
    return response


@require_GET
def host_rdp(request: HttpRequest, host_id: str) -> HttpResponse:
    host = host_or_404(host_id)
    connection = connection_for(host)
    if connection is None or connection.protocol != "rdp":
        raise Http404(_("This host has no remote desktop address."))
    response = HttpResponse(connection.rdp_file(), content_type="application/x-rdp")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=rdp_filename(host)
    )
    return response
