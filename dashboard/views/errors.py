"""The 403 page: what was refused and why, for every refusal (a role that does not allow it, a
missing security token), and an audit row for each one not already audited where it was
refused. From an HTMX request the answer is a banner swapped into the page's alert area rather
than a whole page dropped into a table cell (htmx-config in base.html lets 403s swap)."""

from __future__ import annotations

from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.debug import SafeExceptionReporterFilter

from dashboard.env import mask_url_password
from dashboard.logging import REDACTED
from dashboard.models import AuditEvent
from dashboard.permissions import Forbidden
from dashboard.services.audit import audit_record


def _forbidden_response(request, message: str, *, audit_reason: str, audited: bool):
    if not audited:
        audit_record(
            AuditEvent.Action.ACCESS_DENIED,
            f"{request.method} {request.path[:200]} refused: {audit_reason}",
            request=request,
            details={"method": request.method, "path": request.path[:500], "reason": audit_reason},
        )
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


class MaskedExceptionReporterFilter(SafeExceptionReporterFilter):
    """Django's error reports (the DEBUG page, error mails) hide settings whose names look
    secret; this also masks the passwords in service URLs, among the settings and in the
    request's environment (DATABASE_URL, CELERY_BROKER_URL, CACHE_URL)."""

    def cleanse_setting(self, key, value):
        value = super().cleanse_setting(key, value)
        # Only plain strings: a lazy object that looks like one (a translation) holds no URL.
        return mask_url_password(value, REDACTED) if type(value) is str else value
