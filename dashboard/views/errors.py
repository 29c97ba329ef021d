"""The error pages, inside the layout and in the member's language.

The 403 page: what was refused and why, for every refusal (a role that does not allow it, a
missing security token), and an audit row for each one not already audited where it was
refused (for anonymous clients, a log line and only a few rows: `refusal_record`). From an HTMX
request the answer is a banner swapped into the page's alert area rather than a whole page
dropped into a table cell (htmx-config in base.html lets 403s swap).

The 404 page: what was not found and where to go instead; for a host the mirror does not have
but operations name (deleted long ago, or never synced), a link to those operations."""

from __future__ import annotations

from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.debug import SafeExceptionReporterFilter

from dashboard import permissions, selectors
from dashboard.env import mask_url_password
from dashboard.logging import REDACTED
from dashboard.models import is_host_id
from dashboard.permissions import Forbidden
from dashboard.services.audit import refusal_record


def _forbidden_response(request, message: str, *, audit_reason: str, audited: bool):
    if not audited:
        refusal_record(request, reason=audit_reason)
    context = {"message": message}
    if getattr(request, "htmx", False):
        response = render(request, "403.html#forbidden-alert", context, status=403)
        response["HX-Retarget"] = "#alerts"
        response["HX-Reswap"] = "innerHTML"
        return response
    return render(request, "403.html", context, status=403)


def forbidden(request, exception=None):
    """handler403."""
    if isinstance(exception, Forbidden):
        message, audited = exception.message, exception.audited
    else:
        message, audited = _("You are not allowed to do this."), False
    return _forbidden_response(request, message, audit_reason=str(message), audited=audited)


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: a post without a valid security token (an old page, or another site)."""
    message = _(
        "This form's security token is missing or out of date. Reload the page and try again."
    )
    return _forbidden_response(request, message, audit_reason=f"CSRF: {reason}", audited=False)


def not_found(request, exception=None):
    """handler404. The message of an `Http404` a view raised ("No host with this id.") is for
    the member; the URL resolver's (a dict of the patterns tried) is not. Under /api/, JSON."""
    if request.path.startswith("/api/"):
        from dashboard.api.errors import json_not_found

        return json_not_found(request)
    message = exception.args[0] if exception is not None and exception.args else ""
    context = {"message": message if isinstance(message, str) else "", "path": request.path}
    match = getattr(request, "resolver_match", None)
    host_id = match.kwargs.get("host_id", "") if match is not None else ""
    if is_host_id(host_id) and permissions.can_view(getattr(request, "user", None)):
        # Only members see what the trail knows of a host id (one that can be one: a NUL
        # would make PostgreSQL fail the query).
        context["host_id"] = host_id
        context["host_name"] = selectors.host_name_from_operations(host_id=host_id)
    return render(request, "404.html", context, status=404)


class MaskedExceptionReporterFilter(SafeExceptionReporterFilter):
    """Django's error reports (the DEBUG page, error mails) hide settings whose names look
    secret; this also masks the passwords in service URLs, among the settings and in the
    request's environment (DATABASE_URL, CELERY_BROKER_URL, CACHE_URL)."""

    def cleanse_setting(self, key, value):
        value = super().cleanse_setting(key, value)
        # Only plain strings: a lazy object that looks like one (a translation) holds no URL.
        return mask_url_password(value, REDACTED) if type(value) is str else value
