"""Who may do what: the one place the roles are turned into yes or no.

Roles are Django groups created by migration 0005 (Viewer, Operator, Creator, Admin), each a set
of the permissions below; a member may hold several. The services ask these functions before
they write, the worker asks again before it sends anything upstream (a role may have been taken
away meanwhile), and the pages ask them before they offer a button. A superuser has every
permission.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from dashboard.models import Host, Operation

VIEW_FLEET = "dashboard.view_host"
POWER_ANY = "dashboard.power_any_host"
CREATE = "dashboard.create_host"
MANAGE_OWN = "dashboard.manage_own_host"
DELETE_ANY = "dashboard.delete_any_host"
REVEAL_ANY = "dashboard.reveal_any_password"
ASSIGN_OWNER = "dashboard.assign_owner"
CANCEL_ANY = "dashboard.cancel_any_operation"
VIEW_AUDIT = "dashboard.view_auditevent"
MANAGE_ANY_SCHEDULE = "dashboard.manage_any_schedule"
APPROVE = "dashboard.approve_operation"

_VIEW = (VIEW_FLEET, "dashboard.view_operation", "dashboard.view_operationevent",
         "dashboard.view_syncstate")  # fmt: skip
# What each role holds today: the sum of the migrations that made and changed the groups
# (0005, 0008, 0010). A test checks the migrated groups against it; change both together.
ROLE_PERMISSIONS = {
    "Viewer": {*_VIEW},
    "Operator": {*_VIEW, POWER_ANY},
    "Creator": {*_VIEW, CREATE, MANAGE_OWN},
    "Admin": {
        *_VIEW,
        POWER_ANY,
        CREATE,
        MANAGE_OWN,
        DELETE_ANY,
        REVEAL_ANY,
        ASSIGN_OWNER,
        CANCEL_ANY,
        VIEW_AUDIT,
        MANAGE_ANY_SCHEDULE,
        APPROVE,
        "dashboard.view_teampolicy",
        "dashboard.change_teampolicy",
        "auth.view_user",
        "auth.add_user",
        "auth.change_user",
        "auth.delete_user",
        "auth.view_group",
        "axes.view_accessattempt",
        "axes.delete_accessattempt",
        "axes.view_accesslog",
        "axes.view_accessfailurelog",
    },
}
ROLES = tuple(ROLE_PERMISSIONS)


class Forbidden(PermissionDenied):
    """A refusal with the reason a member reads on the 403 page. `audited` is set when the
    refusal was already written to the audit trail (the 403 page then does not add another)."""

    def __init__(self, message: str, *, audited: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.audited = audited


def has(user, permission: str) -> bool:
    """`user.has_perm(permission)` for an active user, from the set of their permissions read
    once per user object (a page asks dozens of times: once per button of every row)."""
    if user.is_superuser:
        return True
    granted = getattr(user, "_xds_permissions", None)
    if granted is None:
        granted = user._xds_permissions = frozenset(user.get_all_permissions())
    return permission in granted


def _active(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def owns(user, host: Host | None) -> bool:
    return _active(user) and host is not None and host.owner_id == user.pk


def can_view(user) -> bool:
    """Whether `user` may see the fleet at all (every role may; an account without one may not)."""
    return _active(user) and has(user, VIEW_FLEET)


def can_request(user, kind: str, host: Host | None = None) -> bool:
    """Whether `user` may ask for an operation of `kind` (on `host`, for host actions)."""
    return not refusal(user, kind, host)


def refusal(user, kind: str, host: Host | None = None) -> str:
    """Why `user` may not ask for `kind` on `host`, in the member's language; empty if they may."""
    if not _active(user):
        return _("Your account is not active.")
    if kind in Operation.CREATE_KINDS:
        if has(user, CREATE):
            return ""
        return _("Your role does not allow you to create hosts.")
    any_host = DELETE_ANY if kind == Operation.Kind.DELETE else POWER_ANY
    if has(user, any_host) or (owns(user, host) and has(user, MANAGE_OWN)):
        return ""
    if kind == Operation.Kind.DELETE:
        if has(user, MANAGE_OWN):
            return _("You may delete only the hosts you own; this one is not yours.")
        return _("Your role does not allow you to delete hosts.")
    if has(user, MANAGE_OWN):
        return _("You may power and reboot only the hosts you own; this one is not yours.")
    return _("Your role does not allow you to power or reboot hosts.")


def can_cancel(user, operation: Operation) -> bool:
    """Whether `user` may cancel `operation` while it is still queued: an admin any, a member
    their own (if they may still ask for it)."""
    if not _active(user):
        return False
    if has(user, CANCEL_ANY):
        return True
    return operation.requested_by_id == user.pk and can_request(
        user, operation.kind, operation.host
    )


def can_create(user) -> bool:
    return _active(user) and has(user, CREATE)


def can_reveal_password(user, host: Host) -> bool:
    if not _active(user):
        return False
    return has(user, REVEAL_ANY) or (owns(user, host) and has(user, MANAGE_OWN))


def can_assign_owner(user) -> bool:
    return _active(user) and has(user, ASSIGN_OWNER)


def can_resolve(user) -> bool:
    """Saying what an operation left "outcome unknown" did (it bought host X, or nothing): an
    admin, who assigns owners, since resolving gives the host to the member who asked."""
    return _active(user) and has(user, ASSIGN_OWNER)


def can_view_audit(user) -> bool:
    return _active(user) and has(user, VIEW_AUDIT)


def can_annotate(user, host: Host) -> bool:
    """Labels and the note: who may act on the host may describe it."""
    if not _active(user):
        return False
    if has(user, POWER_ANY) or has(user, ASSIGN_OWNER):
        return True
    return owns(user, host) and has(user, MANAGE_OWN)


def can_act_on_some_hosts(user) -> bool:
    """Whether to offer the bulk actions at all (each host is still checked on its own)."""
    return _active(user) and (has(user, POWER_ANY) or has(user, MANAGE_OWN))


def can_manage_schedules(user, host: Host) -> bool:
    """Creating and deleting a host's power schedules: admins on any host, creators on theirs."""
    if not _active(user):
        return False
    return has(user, MANAGE_ANY_SCHEDULE) or (owns(user, host) and has(user, MANAGE_OWN))


def can_skip_schedule(user, host: Host) -> bool:
    """Skipping a schedule's next run: who manages it, and operators (who power any host)."""
    return can_manage_schedules(user, host) or (_active(user) and has(user, POWER_ANY))


def can_approve(user, operation: Operation) -> bool:
    """Approving or rejecting a purchase above the team's limit: an admin other than the
    member who asked for it."""
    return _active(user) and has(user, APPROVE) and operation.requested_by_id != user.pk
