"""Reads of the operations: the list with its filters, one operation with its timeline, and the
operations in flight on the hosts a page shows (one query for a whole page)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from dashboard.models import Disk, Host, Operation, PersonalImage

STATE_ACTIVE = "active"  # pseudo state of the filter: queued, submitted or waiting


def operations_in_flight_attach(hosts: Iterable[Host]) -> list[Host]:
    """Set `operation_in_flight` on every host, so `is_changing` and the rows cost no query
    each. One query; returns the hosts as a list."""
    hosts = list(hosts)
    if hosts:
        in_flight = Operation.objects.in_flight().filter(host_id__in=[host.id for host in hosts])
        by_host = {operation.host_id: operation for operation in in_flight}
        for host in hosts:
            host.operation_in_flight = by_host.get(host.id)
    return hosts


def operations_for_host(*, host: Host, limit: int = 10) -> list[Operation]:
    """The host's latest operations, newest first; sets the host's `operation_in_flight` from
    them (one query: at most one is in flight, and it is the newest)."""
    operations = list(
        Operation.objects.filter(host_id=host.id).order_by("-created_at", "-id")[:limit]
    )
    newest = operations[0] if operations else None
    host.operation_in_flight = newest if newest is not None and not newest.is_final else None
    return operations


def host_name_from_operations(*, host_id: str) -> str | None:
    """The name a host had in its latest operation, for a host the mirror no longer has; None
    when no operation names it (its id is unknown here)."""
    names = Operation.objects.filter(host_id=host_id).order_by("-created_at", "-id")
    return names.values_list("host_name", flat=True).first()


def operation_list(
    *, person: str = "", host: str = "", kind: str = "", state: str = ""
) -> QuerySet[Operation]:
    """Everyone's operations, newest first. `person` is a user name (also matches the names of
    deleted users), `host` a host id or a part of its name."""
    operations = Operation.objects.all()
    if person:
        operations = operations.filter(requested_by_name=person)
    if host:
        operations = operations.filter(Q(host_id=host) | Q(host_name__icontains=host))
    if kind in Operation.Kind.values:
        operations = operations.filter(kind=kind)
    if state == STATE_ACTIVE:
        operations = operations.in_flight()
    elif state in Operation.State.values:
        operations = operations.filter(state=state)
    return operations.order_by("-created_at", "-id")


def operation_people() -> list[str]:
    """The names to filter by: every member, and whoever asked for an operation (a deleted
    user's frozen name too). Two queries."""
    users = get_user_model().objects.filter(is_active=True)
    names = set(users.values_list(get_user_model().USERNAME_FIELD, flat=True))
    names.update(
        Operation.objects.order_by().values_list("requested_by_name", flat=True).distinct()
    )
    return sorted(names, key=str.lower)


def operation_get(*, operation_id: int) -> Operation | None:
    """One operation with its timeline (two queries)."""
    return Operation.objects.prefetch_related("events").filter(pk=operation_id).first()


def operation_resolve_hosts(*, operation: Operation) -> QuerySet[Host]:
    """The hosts an admin may say a create left "outcome unknown" bought: in the mirror, not
    gone, claimed by no create, and new since the create was sent (a host the mirror had seen
    by then cannot be it). Newest first."""
    return _unclaimed_since(Host.objects.all(), operation, Operation.CREATE_KINDS, "host_id")


def operation_resolve_disks(*, operation: Operation) -> QuerySet[Disk]:
    """The disks an admin may say a disk create left "outcome unknown" made, as for hosts."""
    return _unclaimed_since(Disk.objects.all(), operation, (Operation.Kind.DISK_CREATE,), "disk_id")


def operation_resolve_images(*, operation: Operation) -> QuerySet[PersonalImage]:
    """The personal images an admin may say an image save left "outcome unknown" made, as for
    hosts."""
    return _unclaimed_since(
        PersonalImage.objects.all(), operation, (Operation.Kind.IMAGE_CREATE,), "image_id"
    )


def _unclaimed_since(rows: QuerySet, operation: Operation, kinds, claim: str) -> QuerySet:
    """`rows` not gone, claimed (`claim`) by no operation of `kinds`, first seen after
    `operation` was sent. Newest first."""
    claimed = Operation.objects.filter(kind__in=kinds, **{f"{claim}__isnull": False}).values(claim)
    rows = rows.filter(gone_at__isnull=True).exclude(id__in=claimed)
    if operation.mirror_watermark is not None:
        rows = rows.filter(first_seen_at__gt=operation.mirror_watermark)
    return rows.order_by("-created_at", "-first_seen_at", "id")


def operation_by_key(*, key: str, user) -> Operation | None:
    """The operation `user` already made with a form's idempotency key, if any (a key that is
    not one, or another member's, finds nothing)."""
    try:
        key = uuid.UUID(str(key))
    except ValueError:
        return None
    if not getattr(user, "pk", None):
        return None
    return Operation.objects.filter(idempotency_key=key, requested_by_id=user.pk).first()
