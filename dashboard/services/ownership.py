"""Who a host belongs to in the team. A create makes its requester the owner (see
`operation_run`); an admin may give a host to another member, or make it unowned."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from dashboard import permissions
from dashboard.models import AuditEvent, Host
from dashboard.services.audit import audit_record


def host_assign_owner(*, user, host: Host, owner) -> Host:
    """Make `owner` (a user, or None for nobody) the owner of `host`, and audit it."""
    if not permissions.can_assign_owner(user):
        raise permissions.Forbidden(_("Your role does not allow you to assign owners."))
    if owner is not None and not owner.is_active:
        raise ValueError("an inactive account cannot own a host")
    with transaction.atomic():
        host = Host.objects.select_for_update().get(pk=host.pk)
        before = host.owner_name if host.owner_id else ""
        after = owner.get_username() if owner is not None else ""
        if host.owner_id == getattr(owner, "pk", None):
            return host
        Host.objects.filter(pk=host.pk).update(
            owner=owner, owner_name=after, version=F("version") + 1
        )
        audit_record(
            AuditEvent.Action.OWNER_CHANGED,
            f"Owner of {host.name or host.id}: {before or 'nobody'} → {after or 'nobody'}",
            actor=user,
            host=host,
            details={"from": before, "to": after},
        )
    host.refresh_from_db()
    return host
