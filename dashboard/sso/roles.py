"""A directory's groups become roles, on every sign-in through it.

With a map (XDS_OIDC_ROLE_MAP, XDS_LDAP_ROLE_MAP: group → roles), the directory decides: the
member's roles become exactly those its groups map to (one taken away in the directory is taken
away here at their next sign-in; none mapped means no role, and the no-role page). Without one,
the roles stay as admins give them in the dashboard, and a new member starts with none. Every
role given or taken is audited (dashboard.receivers.groups_changed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.contrib.auth.models import Group
from django.db import transaction

from dashboard.permissions import ROLES


def mapped_roles(groups: Iterable[str], role_map: Mapping[str, tuple[str, ...]]) -> set[str]:
    return {role for group in groups for role in role_map.get(group, ())}


def roles_apply(*, user, groups: Iterable[str], role_map: Mapping[str, tuple[str, ...]]) -> None:
    """Sets `user`'s roles to those `groups` map to, when there is a map (see above)."""
    if not role_map:
        return
    wanted = mapped_roles(groups, role_map)
    with transaction.atomic():
        held = set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
        if held - wanted:
            user.groups.remove(*Group.objects.filter(name__in=held - wanted))
        if wanted - held:
            user.groups.add(*Group.objects.filter(name__in=wanted - held))
