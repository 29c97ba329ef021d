"""What the pages' views share: the polling settings, poll URLs, where to go back to."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme


def poll_context() -> dict:
    return {
        "poll_seconds": settings.XDS_POLL_SECONDS,
        "poll_hidden_seconds": settings.XDS_POLL_HIDDEN_SECONDS,
    }


def poll_url(name: str, *, args=(), **params) -> str:
    return f"{reverse(name, args=args)}?{urlencode(params)}"


def safe_next(request: HttpRequest, *, default: str) -> str:
    """Where a form without JavaScript goes back to: its `next` field or the referring page,
    if on this site; else `default`."""
    target = request.POST.get("next") or request.headers.get("referer", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


# Spreadsheet programs run a cell that starts with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """A value for a CSV cell that a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_START) else text
