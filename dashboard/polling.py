"""How an open page stays live: its poller's URL and interval, and the one way a poll is answered.

A page polls with the version of what it shows (`?at=`). The answer is:

- 204 (nothing changed) when that version is still the current one: nothing is rendered, so a
  settled page's poll costs a version read and no upstream call;
- the fragment to swap in when it moved;
- 286 (htmx stops polling) only with a final fragment: something that can never change again,
  such as a finished operation. A host can always change (another member, a schedule, the
  provider's console), so host pages never stop: they poll slowly while settled.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django_htmx.http import HttpResponseStopPolling

SEEN_PARAM = "at"


def poll_context(*, changing: bool = True) -> dict:
    """The poller's intervals: the fast one while something on the page is changing, the slow
    one once it settled; hidden tabs poll no more often than the hidden interval (dashboard.js)."""
    seconds = settings.XDS_POLL_SECONDS if changing else settings.XDS_POLL_SETTLED_SECONDS
    return {
        "poll_seconds": seconds,
        "poll_hidden_seconds": max(settings.XDS_POLL_HIDDEN_SECONDS, seconds),
    }


def poll_url(name: str, *, args=(), **params) -> str:
    return f"{reverse(name, args=args)}?{urlencode(params)}"


def seen_version(request: HttpRequest) -> str:
    """The version of its part of the mirror the polling page shows."""
    return request.GET.get(SEEN_PARAM, "")


def poll_answer(
    request: HttpRequest,
    *,
    version: str,
    render: Callable[[], HttpResponse],
    final: bool = False,
) -> HttpResponse:
    """Answer a poll: 204 when the page shows `version` already, else `render()`'s fragment
    (with 286 when `final`: it can never change again, so the page stops polling)."""
    if not final and seen_version(request) == version:
        return HttpResponse(status=204)
    response = render()
    if final:
        response.status_code = HttpResponseStopPolling.status_code
    return response
