"""Who a host belongs to, its labels and note, and its password: the things on a host's page
that only some members may touch.

"Show password" asks the upstream for the host at that moment (the password is never stored),
shows it once, with a copy button, in a response no cache may keep, and audits the reveal. The
password goes into the response and nowhere else: not the log, not the audit row, not the cache.
The upstream call is bounded by XDS_PASSWORD_TIMEOUT, below the web server's own request timeout,
so a slow provider gets the member a message instead of a killed request.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as CallTimedOut

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from dashboard import permissions, selectors, services
from dashboard.models import AuditEvent
from dashboard.services.audit import audit_record
from dashboard.upstream import get_client
from dashboard.views.hosts import host_detail_context, host_or_404, host_page_or_404
from dashboard.wording import error_words
from vmclient.errors import XdsError

# The client's own timeouts bound each attempt, not a call with its sign-in and retries: the
# password is asked for in a thread of this pool, and the view stops waiting at the deadline
# (the abandoned call ends by itself; its answer is dropped, never shown nor audited).
_password_calls = ThreadPoolExecutor(max_workers=4, thread_name_prefix="xds-password")


@never_cache
@require_POST
def host_password(request: HttpRequest, host_id: str) -> HttpResponse:
    page = host_page_or_404(request, host_id)
    host = page.host
    refused = permissions.password_refusal(request.user, host)
    if refused:
        raise permissions.Forbidden(refused)
    password = error = ""
    call = _password_calls.submit(get_client().get_host, host.id)
    try:
        upstream = call.result(timeout=settings.XDS_PASSWORD_TIMEOUT)
    except CallTimedOut:
        error = _(
            "Xuandashi did not answer within %(seconds)s s. Nothing was changed; try again "
            "in a minute."
        ) % {"seconds": f"{settings.XDS_PASSWORD_TIMEOUT:g}"}
    except XdsError as err:
        error = error_words(err)
    else:
        password = upstream.password or ""
        if not password:
            error = _(
                "Xuandashi gave no password for this host (it may still be booting); try again "
                "in a minute."
            )
    if password:
        audit_record(
            AuditEvent.Action.PASSWORD_REVEALED,
            f"Password of {host.name or host.id} revealed",
            request=request,
            host=host,
        )
    shown = {"password": password, "password_error": error}
    if getattr(request, "htmx", False):
        context = {"host": page.host, "page": page, **shown}
        return render(request, "hosts/detail.html#password-reveal", context)
    return render(request, "hosts/detail.html", host_detail_context(page, **shown))


@require_POST
def host_owner(request: HttpRequest, host_id: str) -> HttpResponse:
    """An admin gives the host to a member (by name), or to nobody (an empty name)."""
    host = host_or_404(host_id)
    if not permissions.can_assign_owner(request.user):
        raise permissions.Forbidden(_("Your role does not allow you to assign owners."))
    name = request.POST.get("owner", "").strip()
    owner = None
    if name:
        owner = selectors.owner_choices().filter(username=name).first()
        if owner is None:
            # The page again, the error beside the form (the template escapes the name).
            error = _("No active member is called %(name)s.") % {"name": name[:150]}
            context = host_detail_context(host_page_or_404(request, host_id), owner_error=error)
            return render(request, "hosts/detail.html", context, status=400)
    services.host_assign_owner(user=request.user, host=host, owner=owner)
    if owner is None:
        messages.success(request, _("%(host)s now has no owner.") % {"host": host})
    else:
        messages.success(
            request, _("%(host)s now belongs to %(name)s.") % {"host": host, "name": name}
        )
    return redirect("host-detail", host.id)


@require_POST
def host_notes(request: HttpRequest, host_id: str) -> HttpResponse:
    """Labels (comma- or space-separated) and a note, from the host's page."""
    host = host_or_404(host_id)
    try:
        labels = services.parse_labels(request.POST.get("labels", ""))
        services.host_annotate(
            user=request.user, host=host, labels=labels, note=request.POST.get("note", "")
        )
    except services.AnnotationInvalid as invalid:
        messages.error(request, str(invalid))
    else:
        messages.success(request, _("Labels and note saved."))
    return redirect("host-detail", host.id)
