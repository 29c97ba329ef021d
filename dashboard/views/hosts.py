"""The host pages over the local mirror: the list, a host, their polls, the .rdp file."""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from dashboard import permissions, selectors
from dashboard.connection import connection_for, rdp_filename
from dashboard.forms import HostFilterForm, ScheduleForm, parse_versions
from dashboard.htmx import render_page, wants_partial
from dashboard.models import Host, is_host_id
from dashboard.polling import SEEN_PARAM, poll_answer, poll_context, poll_url, seen_version
from dashboard.views.common import found_or_404

HOSTS_PER_PAGE = 50


def _versions_param(hosts) -> str:
    """`id:version,id:version`, each id quoted (an id may hold `,` or `:`); `parse_versions`
    reads it back."""
    return ",".join(f"{quote(host.id, safe='')}:{host.version}" for host in hosts)


def _host_page(request: HttpRequest, params):
    """The filters and the page of hosts that `params` (a page's query) asks for, the operations
    in flight on its rows attached."""
    filters, page_number = HostFilterForm(params).filters()
    hosts = selectors.host_list(**filters, me=request.user)
    page = Paginator(hosts, HOSTS_PER_PAGE).get_page(page_number)
    page.object_list = selectors.host_prices_attach(
        selectors.operations_in_flight_attach(page.object_list)
    )
    return filters, page


def _list_version(status) -> str:
    """What a host table shows, as one version: the mirror's and the sync status's."""
    return f"{selectors.mirror_version()}-{status.stamp}"


def _list_poll(filters: dict, page, version: str) -> dict:
    """The host table's poller: it carries the page's filters (to find the same page again), the
    version it shows and its rows' versions (to send back only the rows that moved). Fast while
    a row is changing, slow once all settled: a change made elsewhere still shows."""
    rows = list(page.object_list)
    query = {name: value for name, value in filters.items() if value}
    if page.number > 1:
        query["page"] = page.number
    return {
        "poll_url": poll_url("host-live", **query, at=version, v=_versions_param(rows)),
        **poll_context(changing=any(host.is_changing for host in rows)),
    }


@require_GET
def host_list(request: HttpRequest) -> HttpResponse:
    filters, page = _host_page(request, request.GET)
    status = selectors.sync_state_get()
    context = {
        "bulk": permissions.can_act_on_some_hosts(request.user),
        "filters": filters,
        "page": page,
        "sync_status": status,
        **_list_poll(filters, page, _list_version(status)),
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
    """The host table's poll. 204 while neither the mirror nor the sync status moved (two
    one-row reads, nothing rendered); else, as out-of-band swaps, the rows whose version moved,
    or the whole table when the page's rows are no longer the same ones (a host joined, left or
    moved in the order), the status when it moved, and the next poller."""
    status = selectors.sync_state_get()
    version = _list_version(status)

    def moved() -> HttpResponse:
        shown = parse_versions(request.GET.get("v", ""), limit=HOSTS_PER_PAGE)
        seen_mirror, _sep, seen_stamp = seen_version(request).partition("-")
        if seen_mirror == version.partition("-")[0]:
            # Only a sync finished (every XDS_SYNC_INTERVAL, on a quiet fleet too): the status
            # and the same poller at the new version, without finding the page again.
            query = request.GET.copy()
            query[SEEN_PARAM] = version
            context = {
                "moved": [],
                "sync_status": status,
                "status_moved": True,
                "poll_url": f"{reverse('host-live')}?{query.urlencode()}",
                **poll_context(changing=selectors.hosts_any_changing(host_ids=list(shown))),
            }
            return render(request, "hosts/list.html#host-live", context)
        filters, page = _host_page(request, request.GET)
        rows = list(page.object_list)
        same_rows = [host.id for host in rows] == list(shown)
        changed = [host for host in rows if host.version != shown.get(host.id)]
        context = {
            "bulk": permissions.can_act_on_some_hosts(request.user),
            "filters": filters,
            "page": page,
            "moved": changed if same_rows else [],
            "table_moved": not same_rows,
            "sync_status": status,
            "status_moved": seen_stamp != status.stamp,
            **_list_poll(filters, page, version),
        }
        return render(request, "hosts/list.html#host-live", context)

    return poll_answer(request, version=version, render=moved)


def host_or_404(host_id: str) -> Host:
    host = selectors.host_get(host_id=host_id) if is_host_id(host_id) else None
    return found_or_404(host, _("No host with this id."))


def _detail_version(host_version: int, status) -> str:
    return f"{host_version}-{status.stamp}"


def host_page_or_404(request: HttpRequest, host_id: str) -> selectors.HostPage:
    """The host's page as the requesting member sees it (dashboard.selectors.host_page)."""
    page = selectors.host_page(host_id=host_id, user=request.user) if is_host_id(host_id) else None
    return found_or_404(page, _("No host with this id."))


def host_detail_context(page: selectors.HostPage, status=None, **extra) -> dict:
    """The host panel's context: its page (the host as the selector gathered it), the form to
    add a schedule, and its poller: fast while the host is changing, slow once settled (it can
    still change: another member, a schedule, the provider's console)."""
    host = page.host
    status = status or selectors.sync_state_get()
    return {
        "page": page,
        "host": host,  # the partials shared with the host list read `host`
        "schedule_form": ScheduleForm(initial={"action": "power_off"}),
        "lease_max_hours": settings.XDS_LEASE_MAX_HOURS,
        "sync_status": status,
        "poll_url": poll_url(
            "host-detail-live", args=[host.id], at=_detail_version(host.version, status)
        ),
        **poll_context(changing=host.is_changing),
        **extra,
    }


@require_GET
def host_detail(request: HttpRequest, host_id: str) -> HttpResponse:
    page = host_page_or_404(request, host_id)
    return render(request, "hosts/detail.html", host_detail_context(page))


@require_GET
def host_detail_live(request: HttpRequest, host_id: str) -> HttpResponse:
    """The detail page's poll: 204 while neither the host nor the sync status moved (two
    one-row reads); else the host panel when the host moved, the status when it moved, and the
    next poller."""
    host_version = selectors.host_version_get(host_id=host_id) if is_host_id(host_id) else None
    if host_version is None:
        raise Http404(_("No host with this id."))
    status = selectors.sync_state_get()

    def moved() -> HttpResponse:
        page = host_page_or_404(request, host_id)
        seen_host, _sep, seen_stamp = seen_version(request).partition("-")
        context = host_detail_context(
            page,
            status,
            moved=seen_host != str(page.host.version),
            status_moved=seen_stamp != status.stamp,
        )
        return render(request, "hosts/detail.html#host-live", context)

    return poll_answer(request, version=_detail_version(host_version, status), render=moved)


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
