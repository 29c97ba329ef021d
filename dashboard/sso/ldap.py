"""Signing in with a directory password, checked by the LDAP server (django-auth-ldap).

The library binds as the member (at the DN XDS_LDAP_USER_DN_TEMPLATE makes of the name, or at
the one a search as the service account finds), then makes or updates the account of that name
with the directory's name and e-mail address. We add: a superuser's account is never signed
into this way, the groups map to roles on every sign-in (dashboard.sso.roles), and a directory
that cannot be reached is noted for the audit trail (dashboard.sso.failures)."""

from __future__ import annotations

from django.conf import settings
from django_auth_ldap.backend import LDAPBackend, _LDAPUser, ldap_error

from dashboard.sso import roles
from dashboard.sso.failures import Failure, note
from dashboard.sso.methods import SingleSignOnBackend

# Noted on the request by `authenticate`: the audit row of a failed sign-in says the directory
# was asked too.
DIRECTORY_ASKED = "xds_ldap_asked"


class DirectoryBackend(SingleSignOnBackend, LDAPBackend):
    # Nor any from the directory's groups (they map to roles instead: dashboard.sso.roles).
    def get_group_permissions(self, user, obj=None):
        return set()

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is not None and username:
            setattr(request, DIRECTORY_ASKED, True)
        return super().authenticate(request, username=username, password=password, **kwargs)

    def get_or_build_user(self, username, ldap_user):
        user, built = super().get_or_build_user(username, ldap_user)
        if not built and user.is_superuser:
            note(ldap_user._request, Failure.SUPERUSER, user.get_username())
            raise _LDAPUser.AuthenticationFailed("a superuser's account signs in locally only")
        return user, built

    def authenticate_ldap_user(self, ldap_user, password):
        user = super().authenticate_ldap_user(ldap_user, password)
        if user is not None and settings.XDS_LDAP_ROLE_MAP:
            roles.roles_apply(
                user=user, groups=ldap_user.group_names, role_map=settings.XDS_LDAP_ROLE_MAP
            )
        return user


def directory_unreachable(sender, context, user, request, exception, **kwargs) -> None:
    """django-auth-ldap's `ldap_error`: the server did not answer, or refused the service
    account; the member only sees a failed sign-in, the audit row says why."""
    note(request, Failure.UNREACHABLE, f"{context}: {type(exception).__name__}")


ldap_error.connect(directory_unreachable, sender=DirectoryBackend, dispatch_uid="xds-ldap-error")
