"""django-auth-ldap's settings that are objects of python-ldap's, made from our XDS_LDAP_*
values (dashboard.settings imports this only when LDAP is on)."""

from __future__ import annotations

import ldap
from django_auth_ldap.config import (
    GroupOfNamesType,
    GroupOfUniqueNamesType,
    LDAPSearch,
    PosixGroupType,
)

_GROUP_TYPES = {
    "groupofnames": ("(objectClass=groupOfNames)", GroupOfNamesType),
    "groupofuniquenames": ("(objectClass=groupOfUniqueNames)", GroupOfUniqueNamesType),
    "posixgroup": ("(objectClass=posixGroup)", PosixGroupType),
}


def connection_options(*, timeout_seconds: int, ca_file: str = "") -> dict:
    """python-ldap's options for each connection, in the order django-auth-ldap sets them.
    `ca_file`: trust the certificates in it (and only them) for TLS."""
    options = {
        ldap.OPT_PROTOCOL_VERSION: ldap.VERSION3,
        ldap.OPT_NETWORK_TIMEOUT: timeout_seconds,
        ldap.OPT_TIMEOUT: timeout_seconds,
        ldap.OPT_REFERRALS: 0,
    }
    if ca_file:
        options[ldap.OPT_X_TLS_CACERTFILE] = ca_file
        options[ldap.OPT_X_TLS_REQUIRE_CERT] = ldap.OPT_X_TLS_DEMAND
        # Last: libldap reads the TLS options above only into a context made after them.
        options[ldap.OPT_X_TLS_NEWCTX] = 0
    return options


def user_search(base: str, filterstr: str) -> LDAPSearch:
    return LDAPSearch(base, ldap.SCOPE_SUBTREE, filterstr)


def group_settings(base: str, kind: str):
    """The group search and type: groups under `base` of the object class `kind` names; a
    group's name (what XDS_LDAP_ROLE_MAP maps) is its cn."""
    object_class, group_type = _GROUP_TYPES[kind]
    return LDAPSearch(base, ldap.SCOPE_SUBTREE, object_class), group_type(name_attr="cn")
