"""'Refresh now': ask the worker for a sync, and reload the page once it has run."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRefresh, HttpResponseStopPolling

from dashboard import selectors, services
from dashboard.locks import lock_holder
from dashboard.polling import poll_context, poll_url
from dashboard.views.common import safe_next

# How long a page waits for the sync that "refresh now" asked for before it stops asking.
SYNC_WAIT_SECONDS = 120


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
    except services.CacheUnavailable:
        level = messages.ERROR
        text = _(
            "The dashboard's cache does not answer, so no sync was started. The pages still "
            "show the last synced state; an administrator should check the cache."
        )
    else:
        level = messages.SUCCESS if queued else messages.INFO
        text = (
            _("Sync started: this page reloads when it is done.")
            if queued
            else _("A sync was started a moment ago; this page reloads when it is done.")
        )
        running = _sync_running_since()
        if running is not None:
            # The sync asked for waits for that one (or, if its worker was killed, for its lock
            # to lapse): say so rather than leave the member guessing.
            text = _(
                "Another sync has been running since %(since)s; this page reloads when it is "
                "done. If its worker stopped, the next sync starts within %(seconds)s seconds."
            ) % {
                "since": time.strftime("%H:%M:%S", time.localtime(running)),
                "seconds": settings.XDS_LOCK_SECONDS + settings.XDS_SYNC_INTERVAL,
            }
    if not request.htmx:
        messages.add_message(request, level, text)
        return redirect(safe_next(request, default=reverse("host-list")))
    failed = level == messages.ERROR
    context = {
        "sync_status": status,
        "sync_message": text,
        "sync_message_level": "error" if failed else "info",
        "sync_wait_url": (
            ""
            if failed
            else poll_url(
                "sync-wait", s=status.hosts_stamp, until=int(time.time()) + SYNC_WAIT_SECONDS
            )
        ),
        **poll_context(),
    }
    return render(request, "base.html#sync-status", context)


def _sync_running_since() -> float | None:
    """When the sync that holds the sync lock started (epoch seconds), None when none does."""
    try:
        holder = lock_holder(services.SYNC_LOCK_KEY)
    except Exception:  # a cache that is down cannot tell; the message stays the plain one
        return None
    return None if holder is None else holder["since"] or time.time()


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
