"""Who may do what. Every member may ask for every action for now; team roles (a later issue)
plug their checks in here, and nowhere else: the services ask these functions before they
write, and the pages ask them before they offer a button."""

from __future__ import annotations

from dashboard.models import Host, Operation


def can_request(user, kind: str, host: Host | None = None) -> bool:
    """Whether `user` may ask for an operation of `kind` (on `host`, for host actions)."""
    return bool(user is not None and user.is_authenticated and user.is_active)


def can_cancel(user, operation: Operation) -> bool:
    """Whether `user` may cancel `operation` while it is still queued."""
    return can_request(user, operation.kind, None)
