"""Writing the audit trail. Every audited action goes through `audit_record`.

Who, from where and with which browser come from the request being served: the middleware
below remembers them for the length of a request, so a service deep in a request (an operation
asked for, a role changed in the admin) need not be handed the request. What the worker does
on its own (an operation that finished) has no address: it is the worker, on the requester's
behalf.

Nothing secret goes into a row: the callers pass names, ids, parameters, codes and trace ids,
never a password or the upstream key (a test checks both after success and failure paths).

A request made with a personal API token (dashboard/api/) is recorded with the token's name
beside the member: `details["api_token"]`, and the summary says so.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from dataclasses import dataclass

from django.core.cache import cache

from dashboard.client_ip import client_ip
from dashboard.models import AuditEvent, Host, Operation

USER_AGENT_MAX = AuditEvent._meta.get_field("user_agent").max_length

logger = logging.getLogger(__name__)

# Anonymous refusals (a post without a security token, from anyone on the network) cost nothing
# to send, and the trail can never shrink: each one is a log line, and only the first from an
# address in a window, and at most a few in a window in all, also becomes a row.
ANONYMOUS_REFUSAL_WINDOW_SECONDS = 600
ANONYMOUS_REFUSAL_ROWS_PER_WINDOW = 20


@dataclass(frozen=True)
class RequestOrigin:
    user: object | None
    ip: str | None
    user_agent: str
    token_name: str = ""  # the API token the request was made with, if any


# The request being served, if any: its origin is read only when a row is written.
_request: ContextVar[object | None] = ContextVar("xds_audit_request", default=None)


def origin_of(request) -> RequestOrigin:
    user = getattr(request, "user", None)
    # REST framework sets `auth` (the token) on the request it wraps, as it sets `user`.
    token = getattr(request, "auth", None)
    return RequestOrigin(
        user=user if user is not None and user.is_authenticated else None,
        ip=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX],
        token_name=getattr(token, "name", "") if token is not None else "",
    )


class AuditOriginMiddleware:
    """Remembers the request being served, for the audit rows it writes. After the
    authentication middleware (the user is read only when a row is written)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)


def current_origin() -> RequestOrigin | None:
    request = _request.get()
    return origin_of(request) if request is not None else None


def audit_record(
    action: str,
    summary: str,
    *,
    actor=None,
    actor_name: str | None = None,
    request=None,
    host: Host | None = None,
    host_id: str = "",
    host_name: str = "",
    operation: Operation | None = None,
    details: dict | None = None,
) -> AuditEvent:
    """Append one event. The actor is `actor`, else the signed-in member of the request."""
    origin = origin_of(request) if request is not None else current_origin()
    if actor is None and origin is not None:
        actor = origin.user
    if actor_name is None:
        actor_name = actor.get_username() if actor is not None else ""
    if host is not None:
        host_id, host_name = host.id, host.name or host.id
    elif operation is not None and not host_id:
        host_id, host_name = operation.host_id or "", operation.host_name
    details = dict(details or {})
    if origin is not None and origin.token_name:
        details["api_token"] = origin.token_name
        summary = f"{summary} (API token {origin.token_name!r})"
    return AuditEvent.objects.create(
        action=action,
        actor=actor if actor is not None and actor.pk else None,
        actor_name=actor_name[:150],
        ip=origin.ip if origin is not None else None,
        user_agent=origin.user_agent if origin is not None else "",
        host_id=host_id or "",
        host_name=host_name or "",
        operation=operation,
        summary=summary,
        details=details,
    )


def refusal_record(request, *, reason: str) -> AuditEvent | None:
    """A refused request (403): audited one row each for a signed-in member; for an anonymous
    client, a WARNING line each and a row only as `_anonymous_row_allowed` says."""
    details = {"method": request.method, "path": request.path[:500], "reason": reason}
    summary = f"{request.method} {request.path[:200]} refused: {reason}"
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return audit_record(
            AuditEvent.Action.ACCESS_DENIED, summary, request=request, details=details
        )
    ip = client_ip(request)
    logger.warning("anonymous request from %s refused: %s", ip or "an unknown address", summary)
    if not _anonymous_row_allowed(ip):
        return None
    window = ANONYMOUS_REFUSAL_WINDOW_SECONDS // 60
    details["later_refusals"] = f"logged only, for {window} minutes from this address"
    return audit_record(AuditEvent.Action.ACCESS_DENIED, summary, request=request, details=details)


def _anonymous_row_allowed(ip: str | None) -> bool:
    """The first anonymous refusal from `ip` in the window, and at most
    ANONYMOUS_REFUSAL_ROWS_PER_WINDOW in all. Without a cache to count in: none (the log has
    them)."""
    window = ANONYMOUS_REFUSAL_WINDOW_SECONDS
    try:
        if not cache.add(f"xds:refusal:anonymous:{ip or '-'}", 1, window):
            return False
        cache.add("xds:refusal:anonymous:rows", 0, window)
        return cache.incr("xds:refusal:anonymous:rows") <= ANONYMOUS_REFUSAL_ROWS_PER_WINDOW
    except Exception:  # the cache is down: refusing goes on, the row does not
        logger.warning("anonymous refusal not recorded: the cache is unreachable")
        return False
