"""The one selector a host's page reads: the host and everything shown beside it (its disks, its
cost, its operations, what this member may do). It stands above the other selectors, which it
gathers from."""

from __future__ import annotations

from dataclasses import dataclass

from dashboard import permissions
from dashboard.connection import Connection, connection_for
from dashboard.image_rules import host_image_refusal
from dashboard.models import Host
from dashboard.selectors.disks import host_disks
from dashboard.selectors.hosts import host_get, owner_choices
from dashboard.selectors.operations import operations_for_host
from dashboard.selectors.spend import host_cost


@dataclass(frozen=True)
class HostPage:
    """Everything a host's page shows, for one member: the host, how to connect, its latest
    operations (which tell whether one is in flight), its schedules, and what this member may
    do there. The page and its live poll read it; its template queries nothing itself."""

    host: Host
    operations: list
    connection: Connection | None
    schedules: list
    may_reveal_password: bool
    password_refusal: str  # why not, when the member may not see the password
    may_assign_owner: bool
    member_names: list[str]  # whom the host can be given to (for those who may assign it)
    may_annotate: bool
    may_manage_schedules: bool
    may_lease: bool  # take the host (when nobody holds it)
    may_change_lease: bool  # extend or give back the lease holding it
    cost: object  # dashboard.selectors.spend.HostCost: this month so far, a day now
    disks: object = None  # its Disks card (dashboard.selectors.disks.HostDisks)
    # "Save a personal image": offered when the member may (on the host page and its delete
    # page); why not, when the host's state stops it.
    may_save_image: bool = False
    save_image_refusal: str = ""


def host_page(*, host_id: str, user) -> HostPage | None:
    """The page of the host `host_id` as `user` sees it, or None when there is no such host."""
    host = host_get(host_id=host_id)
    if host is None:
        return None
    operations = operations_for_host(host=host)  # sets host.operation_in_flight
    refusal = permissions.password_refusal(user, host)
    may_assign_owner = permissions.can_assign_owner(user)
    return HostPage(
        host=host,
        operations=operations,
        connection=connection_for(host),
        schedules=list(host.schedules.all()),
        may_reveal_password=not refusal,
        password_refusal=refusal,
        may_assign_owner=may_assign_owner,
        member_names=(
            list(owner_choices().values_list("username", flat=True)) if may_assign_owner else []
        ),
        may_annotate=permissions.can_annotate(user, host),
        may_manage_schedules=permissions.can_manage_schedules(user, host),
        may_lease=permissions.can_lease(user, host) and not host.is_gone,
        may_change_lease=host.lease is not None and permissions.can_change_lease(user, host.lease),
        cost=host_cost(host=host),
        disks=host_disks(host=host, user=user),
        may_save_image=permissions.can_save_image(user, host),
        save_image_refusal=host_image_refusal(host),
    )
