"""Leases: taking a host for some hours, extending (from the host's page, or the signed link a
reminder carries, which works once signed in), giving it back. The service checks the input
and who may; these views say how it went."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from dashboard import permissions, services
from dashboard.models import Lease
from dashboard.services.leases import token_lease
from dashboard.views.asking import refusal_as_message
from dashboard.views.common import found_or_404
from dashboard.views.hosts import host_or_404
from dashboard.wording import team_time

EXTEND_CHOICES = (1, 2, 4, 8, 24)


def _lease_or_404(lease_id: int) -> Lease:
    lease = Lease.objects.select_related("host").filter(pk=lease_id).first()
    return found_or_404(lease, _("No such lease."))


@require_POST
def host_lease(request: HttpRequest, host_id: str) -> HttpResponse:
    host = host_or_404(host_id)
    with refusal_as_message(request, services.LeaseRefused):
        lease = services.lease_take(
            user=request.user,
            host=host,
            hours=request.POST.get("hours"),
            purpose=request.POST.get("purpose", ""),
        )
        messages.success(
            request,
            _("You hold this host until %(when)s. You will be asked to extend it before then.")
            % {"when": team_time(lease.ends_at)},
        )
    return redirect("host-detail", host.id)


@require_http_methods(["GET", "POST"])
def lease_extend(request: HttpRequest, lease_id: int) -> HttpResponse:
    """GET: the page a reminder's link opens (its token must be valid, and the member signed in
    its holder or an admin). POST: extend, from that page or the host's."""
    lease = _lease_or_404(lease_id)
    if request.method == "GET":
        if token_lease(request.GET.get("token", ""), lease.pk) is None:
            raise permissions.Forbidden(
                _(
                    "This link is not valid (altered, or too old). Open the host's page to see "
                    "its lease."
                )
            )
        if not permissions.can_change_lease(request.user, lease):
            raise permissions.Forbidden(_("Only its holder or an admin may extend this lease."))
        context = {
            "lease": lease,
            "choices": EXTEND_CHOICES,
            "max_hours": settings.XDS_LEASE_MAX_HOURS,
        }
        return render(request, "leases/extend.html", context)
    with refusal_as_message(request, services.LeaseRefused):
        lease = services.lease_extend(
            user=request.user, lease=lease, hours=request.POST.get("hours")
        )
        messages.success(
            request,
            _("The lease now ends at %(when)s.") % {"when": team_time(lease.ends_at)},
        )
    return redirect("host-detail", lease.host_id)


@require_POST
def lease_release(request: HttpRequest, lease_id: int) -> HttpResponse:
    lease = _lease_or_404(lease_id)
    services.lease_release(user=request.user, lease=lease)
    messages.success(request, _("The host is given back; nothing was powered off."))
    return redirect("host-detail", lease.host_id)
