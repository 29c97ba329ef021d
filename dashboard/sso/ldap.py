"""Signing in with a directory password, checked by the LDAP server (django-auth-ldap).

The library binds as the member (at the DN XDS_LDAP_USER_DN_TEMPLATE makes of the name, or at
the one a search as the service account finds), then makes or updates the account of that name
with the directory's name and e-mail address. We add: a superuser's account is never signed
into this way, the groups map to roles on every sign-in (dashboard.sso.roles), and a directory
that cannot be reached is noted for the audit trail (dashboard.sso.failures)."""

from __future__ import annotations

import logging
from contextlib import suppress

import ldap
from django.conf import settings
from django_auth_ldap.backend import LDAPBackend, _LDAPUser, ldap_error

from dashboard.sso import roles
from dashboard.sso.failures import Failure, note
from dashboard.sso.methods import SingleSignOnBackend

# Noted on the request by `authenticate`: the audit row of a failed sign-in says the directory
# was asked too.
DIRECTORY_ASKED = "xds_ldap_asked"

logger = logging.getLogger(__name__)


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


# What the audit row and the log add when the directory answers over TLS only once its
# certificate goes unchecked (libldap itself says no more than "Can't contact LDAP server").
CERTIFICATE_REFUSED = (
    "the directory's TLS certificate was refused: it is not signed by the CA in "
    "XDS_LDAP_CA_FILE (or, without it, by one the system trusts), or not made for this host"
)


def directory_unreachable(sender, context, user, request, exception, **kwargs) -> None:
    """django-auth-ldap's `ldap_error`: the server did not answer, refused the service account,
    or its certificate was refused; the member only sees a failed sign-in, the audit row (and,
    for a certificate, the log) says why."""
    detail = f"{context}: {_said(exception)}"
    if isinstance(exception, ldap.SERVER_DOWN | ldap.CONNECT_ERROR) and _certificate_refused():
        logger.warning("LDAP sign-in failed: %s", CERTIFICATE_REFUSED)
        detail = f"{detail}: {CERTIFICATE_REFUSED}"
    note(request, Failure.UNREACHABLE, detail)


def _said(exception) -> str:
    """python-ldap's exception as an admin reads it: its name and what libldap said."""
    said = exception.args[0] if exception.args and isinstance(exception.args[0], dict) else {}
    words = [
        type(exception).__name__,
        *(str(said[key]) for key in ("desc", "info") if said.get(key)),
    ]
    return ": ".join(words)


def _certificate_refused() -> bool:
    """Whether the directory, asked over TLS as configured but with its certificate unchecked,
    answers: then the certificate is what failed. The probe binds anonymously, so nothing
    secret crosses the unchecked connection."""
    uri, start_tls = settings.AUTH_LDAP_SERVER_URI, settings.AUTH_LDAP_START_TLS
    if not (start_tls or uri.lower().startswith("ldaps://")):
        return False
    options = dict(settings.AUTH_LDAP_CONNECTION_OPTIONS)
    options.pop(ldap.OPT_X_TLS_NEWCTX, None)
    options[ldap.OPT_X_TLS_REQUIRE_CERT] = ldap.OPT_X_TLS_ALLOW
    options[ldap.OPT_X_TLS_NEWCTX] = 0  # last, as in connection_options
    connection = ldap.initialize(uri)
    try:
        for option, value in options.items():
            connection.set_option(option, value)
        if start_tls:
            connection.start_tls_s()
        connection.simple_bind_s("", "")
    except (ldap.SERVER_DOWN, ldap.CONNECT_ERROR):
        return False  # not even unchecked: the server is down, or speaks no TLS
    except ldap.LDAPError:
        return True  # it answered (an anonymous bind refused, say): TLS itself worked
    finally:
        with suppress(ldap.LDAPError):
            connection.unbind_s()
    return True


ldap_error.connect(directory_unreachable, sender=DirectoryBackend, dispatch_uid="xds-ldap-error")
