"""Who may do what: the one place the roles are turned into yes or no.

Roles are Django groups created by migration 0005 (Viewer, Operator, Creator, Admin), each a set
of the permissions below; a member may hold several. The services ask these functions before
they write, the worker asks again before it sends anything upstream (a role may have been taken
away meanwhile), and the pages ask them before they offer a button. A superuser has every
permission.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils.translation import gettext as _

from dashboard.models import AuditEvent, Disk, Host, Operation, PersonalImage

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
MANAGE_ANY_TOKEN = "dashboard.manage_any_token"  # noqa: S105 (a permission)

_VIEW = (VIEW_FLEET, "dashboard.view_operation", "dashboard.view_operationevent",
         "dashboard.view_syncstate")  # fmt: skip
# What each role holds today: the sum of the migrations that made and changed the groups
# (0005, 0008, 0010, 0015). A test checks the migrated groups against it; change both together.
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
        MANAGE_ANY_TOKEN,
        "dashboard.view_teampolicy",
        "dashboard.change_teampolicy",
        "dashboard.view_alertchannel",
        "dashboard.add_alertchannel",
        "dashboard.change_alertchannel",
        "dashboard.delete_alertchannel",
        "dashboard.view_budget",
        "dashboard.add_budget",
        "dashboard.change_budget",
        "dashboard.delete_budget",
        "dashboard.view_walletbalance",
        "dashboard.add_walletbalance",
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
# What only the Admin role gives. Whoever holds any of these (through a role or directly), and
# every staff or superuser account, is an admin account: one that only a superuser may change.
ADMIN_POWERS = frozenset(
    ROLE_PERMISSIONS["Admin"].difference(
        *(granted for name, granted in ROLE_PERMISSIONS.items() if name != "Admin")
    )
)


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


def can_request(
    user,
    kind: str,
    host: Host | None = None,
    *,
    disk: Disk | None = None,
    image: PersonalImage | None = None,
) -> bool:
    """Whether `user` may ask for an operation of `kind` (on `host`, for host actions; on `disk`
    and `host`, for disk actions; on `image`, or `host` for an image create)."""
    return not refusal(user, kind, host, disk=disk, image=image)


def refusal(
    user,
    kind: str,
    host: Host | None = None,
    *,
    disk: Disk | None = None,
    image: PersonalImage | None = None,
) -> str:
    """Why `user` may not ask for `kind` on `host` (or `disk`, or `image`), in the member's
    language; empty if they may."""
    if not _active(user):
        return _("Your account is not active.")
    if kind in Operation.DISK_KINDS:
        return _disk_refusal(user, kind, disk, host)
    if kind in Operation.IMAGE_KINDS:
        return _image_refusal(user, kind, image, host)
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


def _disk_refusal(user, kind: str, disk: Disk | None, host: Host | None) -> str:
    """Disks go as hosts do: a Creator makes them and manages their own, an Operator attaches
    and detaches any (as they power any host) but neither creates nor destroys, an Admin does
    everything. Mounting on a host (or detaching from it) also needs the right to act on that
    host, since it must be off and may be powered off for it."""
    if kind == Operation.Kind.DISK_CREATE:
        if not has(user, CREATE):
            return _("Your role does not allow you to create disks.")
    elif kind == Operation.Kind.DISK_DESTROY:
        if not (has(user, DELETE_ANY) or (owns(user, disk) and has(user, MANAGE_OWN))):
            if has(user, MANAGE_OWN):
                return _("You may destroy only the disks you own; this one is not yours.")
            return _("Your role does not allow you to destroy disks.")
    elif not (has(user, POWER_ANY) or (owns(user, disk) and has(user, MANAGE_OWN))):
        if has(user, MANAGE_OWN):
            return _("You may attach and detach only the disks you own; this one is not yours.")
        return _("Your role does not allow you to attach or detach disks.")
    if host is not None and not (
        has(user, POWER_ANY) or (owns(user, host) and has(user, MANAGE_OWN))
    ):
        if has(user, MANAGE_OWN):
            return _("You may mount disks only on the hosts you own; this host is not yours.")
        return _("Your role does not allow you to mount disks on hosts.")
    return ""


def _image_refusal(user, kind: str, image: PersonalImage | None, host: Host | None) -> str:
    """Personal images go as disks do: a Creator saves images of the hosts they may act on and
    manages their own images, an Admin all; an Operator or a Viewer only sees them."""
    if kind == Operation.Kind.IMAGE_CREATE:
        if not has(user, CREATE):
            return _("Your role does not allow you to save personal images.")
        if not (has(user, POWER_ANY) or (owns(user, host) and has(user, MANAGE_OWN))):
            return _("You may save images only of the hosts you own; this host is not yours.")
        return ""
    if has(user, DELETE_ANY) or (owns(user, image) and has(user, MANAGE_OWN)):
        return ""
    if has(user, MANAGE_OWN):
        return _(
            "You may rename and delete only the personal images you own; this one is not yours."
        )
    return _("Your role does not allow you to rename or delete personal images.")


def image_actions_offered(user, image: PersonalImage) -> tuple[str, ...]:
    """The image actions to offer on `image`: those its state allows and `user` may ask for."""
    from dashboard.image_rules import image_actions_allowed

    return tuple(
        kind for kind in image_actions_allowed(image) if can_request(user, kind, image=image)
    )


def can_manage_own_images(user) -> bool:
    """Whether `user` may rename and delete some images (their own, or any)."""
    return _active(user) and (has(user, MANAGE_OWN) or has(user, DELETE_ANY))


def can_save_image(user, host: Host) -> bool:
    return can_request(user, Operation.Kind.IMAGE_CREATE, host)


def disk_actions_offered(user, disk: Disk) -> tuple[str, ...]:
    """The disk actions to offer on `disk`: those its state allows and `user` may ask for (an
    attach is then checked against each host)."""
    from dashboard.disk_rules import disk_actions_allowed

    return tuple(kind for kind in disk_actions_allowed(disk) if can_request(user, kind, disk=disk))


def can_create_disk(user) -> bool:
    return _active(user) and has(user, CREATE)


def can_cancel(user, operation: Operation) -> bool:
    """Whether `user` may cancel `operation` while it is still queued: an admin any, a member
    their own (if they may still ask for it)."""
    if not _active(user):
        return False
    if has(user, CANCEL_ANY):
        return True
    disk = Disk.objects.filter(pk=operation.disk_id).first() if operation.disk_id else None
    image = operation_image(operation)
    return operation.requested_by_id == user.pk and can_request(
        user, operation.kind, operation.host, disk=disk, image=image
    )


def operation_image(operation: Operation) -> PersonalImage | None:
    if not operation.image_id:
        return None
    return PersonalImage.objects.filter(pk=operation.image_id).first()


def can_create(user) -> bool:
    return _active(user) and has(user, CREATE)


def can_reveal_password(user, host: Host) -> bool:
    return not password_refusal(user, host)


def password_refusal(user, host: Host) -> str:
    """Why `user` may not see `host`'s password, for the member; empty if they may."""
    if not _active(user):
        return _("Your account is not active.")
    if has(user, REVEAL_ANY) or (owns(user, host) and has(user, MANAGE_OWN)):
        return ""
    if has(user, MANAGE_OWN):
        if host.owner_id is None:
            return _("Only its owner or an admin may see the password, and nobody owns this host.")
        return _("Only its owner (%(owner)s) or an admin may see the password.") % {
            "owner": host.owner_name
        }
    return _("Your role does not allow you to see hosts' passwords.")


def can_assign_owner(user) -> bool:
    return _active(user) and has(user, ASSIGN_OWNER)


def can_resolve(user) -> bool:
    """Saying what an operation left "outcome unknown" did (it bought host X, or nothing): an
    admin, who assigns owners, since resolving gives the host to the member who asked."""
    return _active(user) and has(user, ASSIGN_OWNER)


def can_manage_tokens(user) -> bool:
    """Seeing every member's API tokens and revoking any: admins."""
    return _active(user) and has(user, MANAGE_ANY_TOKEN)


# What each scope of an API token lets it ask for (dashboard.api): a token may make a request
# only with its scope, and then only what its member's role allows at that moment (the checks
# above, made by the same services as for the pages).
SCOPE_READ, SCOPE_OPERATE, SCOPE_MANAGE = "read", "operate", "manage"
SCOPE_OF_KIND = {
    Operation.Kind.POWER_ON: SCOPE_OPERATE,
    Operation.Kind.POWER_OFF: SCOPE_OPERATE,
    Operation.Kind.REBOOT: SCOPE_OPERATE,
    Operation.Kind.DELETE: SCOPE_MANAGE,
    Operation.Kind.CREATE_PAY_AS_YOU_GO: SCOPE_MANAGE,
    Operation.Kind.CREATE_RENTAL: SCOPE_MANAGE,
    # Mounting and unmounting a disk is an everyday action, like powering a host; making or
    # destroying one costs money or data, and so do the personal images.
    Operation.Kind.DISK_ATTACH: SCOPE_OPERATE,
    Operation.Kind.DISK_DETACH: SCOPE_OPERATE,
    Operation.Kind.DISK_CREATE: SCOPE_MANAGE,
    Operation.Kind.DISK_DESTROY: SCOPE_MANAGE,
    Operation.Kind.IMAGE_CREATE: SCOPE_MANAGE,
    Operation.Kind.IMAGE_RENAME: SCOPE_MANAGE,
    Operation.Kind.IMAGE_DELETE: SCOPE_MANAGE,
}


def scope_refusal(token, scope: str) -> str:
    """Why `token` may not make a request needing `scope`; empty if it may."""
    if token.allows(scope):
        return ""
    return _("This token lacks the %(scope)s scope; make a token with it on your tokens page.") % {
        "scope": scope
    }


def can_view_audit(user) -> bool:
    return _active(user) and has(user, VIEW_AUDIT)


def can_annotate(user, host: Host) -> bool:
    """Labels and the note: who may act on the host may describe it."""
    if not _active(user):
        return False
    if has(user, POWER_ANY) or has(user, ASSIGN_OWNER):
        return True
    return owns(user, host) and has(user, MANAGE_OWN)


HOST_ACTION_KINDS = (
    Operation.Kind.POWER_ON,
    Operation.Kind.POWER_OFF,
    Operation.Kind.REBOOT,
    Operation.Kind.DELETE,
)


def host_actions_offered(user, host: Host) -> tuple[str, ...]:
    """The actions to offer on `host`: those its state allows now and `user` may ask for."""
    return tuple(kind for kind in host.actions_allowed if can_request(user, kind, host))


def why_nothing_offered(user, host: Host) -> tuple[str, str]:
    """For a host on which `host_actions_offered` is empty: why, in a word for a table cell
    ("unowned", "busy", "expired"…) and in a sentence for the host's page."""
    if host.is_gone:
        return _("gone"), _("The host is gone; its record is kept for history.")
    if host.operation_in_flight is not None:
        return _("busy"), _("An operation is running on this host; wait until it has finished.")
    if not any(can_request(user, kind, host) for kind in HOST_ACTION_KINDS):
        if not (has(user, POWER_ANY) or has(user, MANAGE_OWN) or has(user, DELETE_ANY)):
            return _("view only"), refusal(user, Operation.Kind.POWER_ON, host)
        if host.owner_id is None:
            return _("unowned"), _(
                "Nobody owns this host: you may act only on your own, and an admin can give it "
                "to you."
            )
        return _("not yours"), _(
            "This host belongs to %(owner)s: you may act only on your own."
        ) % {"owner": host.owner_name}
    status = host.status_label.lower()
    return status, _("Nothing you may do is possible while the host is %(status)s.") % {
        "status": status
    }


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


def can_lease(user, host: Host) -> bool:
    """Taking a lease on a host: who may power it off, since the lease's end powers it off in
    their name (operators and admins any host, creators their own)."""
    return can_request(user, Operation.Kind.POWER_OFF, host)


def can_change_lease(user, lease) -> bool:
    """Extending or giving back a lease: its holder, and admins (who manage any schedule)."""
    if not _active(user):
        return False
    return lease.holder_id == user.pk or has(user, MANAGE_ANY_SCHEDULE)


def can_approve(user, operation: Operation) -> bool:
    """Approving or rejecting a purchase above the team's limit: an admin other than the
    member who asked for it, and other than one who holds that member's password (who could
    have asked in their name)."""
    return (
        _active(user)
        and has(user, APPROVE)
        and operation.requested_by_id != user.pk
        and not holds_password_of(user, operation.requested_by_id)
    )


def holds_password_of(user, member_id: int | None) -> bool:
    """Whether the password `member_id` signs in with was set by `user` (or came with the account
    `user` created): then `user` may sign in as them. A password the member changed since is
    theirs again. Read from the audit trail, which records every password set."""
    if member_id is None or member_id == user.pk:
        return False
    last = (
        AuditEvent.objects.filter(
            action__in=(AuditEvent.Action.PASSWORD_SET, AuditEvent.Action.MEMBER_CREATED),
            details__member_id=member_id,
        )
        .order_by("-at", "-id")
        .values_list("actor_id", flat=True)
        .first()
    )
    return last == user.pk


# --- Accounts: who may change whom (the admin's user pages, dashboard.admin.MemberAdmin) -------


def _powers_q(prefix: str = ""):
    query = Q()
    for permission in ADMIN_POWERS:
        app_label, codename = permission.split(".")
        query |= Q(**{f"{prefix}content_type__app_label": app_label, f"{prefix}codename": codename})
    return query


def is_admin_account(user) -> bool:
    """Superuser, staff, or holding any admin power, active or not (an inactive admin made
    active again is an admin again, so their account is as protected while it sleeps)."""
    if user.is_superuser or user.is_staff:
        return True
    held = Permission.objects.filter(Q(user=user) | Q(group__user=user))
    return held.filter(_powers_q()).exists()


def roles_giving_admin_powers():
    """The groups an admin who is not a superuser may not give or take (the Admin role)."""
    return Group.objects.filter(_powers_q("permissions__")).distinct()


def may_manage_account(user, account) -> bool:
    """Whether `user` may change `account`'s password, flags or roles, or delete it. A
    superuser may change anyone; anyone else nobody who is an admin, and not themselves (nobody
    raises themselves; one's own password is changed on "Change password")."""
    if not _active(user):
        return False
    if user.is_superuser:
        return True
    return account.pk != user.pk and not is_admin_account(account)


def approvers():
    """The active accounts that may approve a purchase above the team's limit (and confirm a
    raise of it): superusers and holders of the permission, through a role or directly."""
    app_label, codename = APPROVE.split(".")
    holds = Q(
        groups__permissions__content_type__app_label=app_label,
        groups__permissions__codename=codename,
    ) | Q(
        user_permissions__content_type__app_label=app_label,
        user_permissions__codename=codename,
    )
    model = get_user_model()
    return (
        model._default_manager.filter(is_active=True)
        .filter(Q(is_superuser=True) | holds)
        .distinct()
        .order_by(model.USERNAME_FIELD)
    )
