"""What the pages' views share: what was looked up or a 404, where to go back to, CSV cells.
(Polling: dashboard.polling.)"""

from __future__ import annotations

from typing import TypeVar

from django.http import Http404, HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

Found = TypeVar("Found")


def found_or_404(found: Found | None, message: str) -> Found:
    """What a view looked up, or a 404 whose page says `message` ("No disk with this id.")
    when there is none. (Django's get_object_or_404 would say its own words.)"""
    if found is None:
        raise Http404(message)
    return found


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
