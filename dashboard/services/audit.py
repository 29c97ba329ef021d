"""Writing the audit trail. Every audited action goes through `audit_record`.

Who, from where and with which browser come from the request being served: the middleware
below remembers them for the length of a request, so a service deep in a request (an operation
asked for, a role changed in the admin) need not be handed the request. What the worker does
on its own (an operation that finished) has no address: it is the worker, on the requester's
behalf.

Nothing secret goes into a row: the callers pass names, ids, parameters, codes and trace ids,
never a password or the upstream key (a test checks both after success and failure paths).
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from dashboard.client_ip import client_ip
from dashboard.models import AuditEvent, Host, Operation

USER_AGENT_MAX = AuditEvent._meta.get_field("user_agent").max_length


@dataclass(frozen=True)
class RequestOrigin:
    user: object | None
    ip: str | None
    user_agent: str


# The request being served, if any: its origin is read only when a row is written.
_request: ContextVar[object | None] = ContextVar("xds_audit_request", default=None)


def origin_of(request) -> RequestOrigin:
    user = getattr(request, "user", None)
    return RequestOrigin(
        user=user if user is not None and user.is_authenticated else None,
        ip=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX],
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
        details=details or {},
    )
