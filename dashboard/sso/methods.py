"""How a member signed in, told by the backend that let them in (`user.backend`, which
`authenticate` sets): for the audit trail and the sign-in page."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

LOCAL_BACKEND = "dashboard.auth_backend.RolesBackend"  # local names and passwords
OIDC_BACKEND = "dashboard.sso.oidc.ProviderBackend"
LDAP_BACKEND = "dashboard.sso.ldap.DirectoryBackend"


@dataclass(frozen=True)
class SignInMethod:
    key: str  # "password", "oidc" or "ldap": kept in the audit rows' details
    provider: str  # which: the OpenID provider's name, the LDAP server's address; empty for local

    @property
    def single_sign_on(self) -> bool:
        return self.key != "password"


PASSWORD = SignInMethod("password", "")


def oidc() -> SignInMethod:
    return SignInMethod("oidc", settings.XDS_OIDC_NAME)


def ldap() -> SignInMethod:
    return SignInMethod("ldap", settings.XDS_LDAP_SERVER_URI)


def method_of(backend_path: str | None) -> SignInMethod:
    if backend_path == OIDC_BACKEND:
        return oidc()
    if backend_path == LDAP_BACKEND:
        return ldap()
    return PASSWORD


def configured() -> bool:
    """Whether any way of single sign-on is on."""
    return bool(settings.XDS_OIDC_ENABLED or settings.XDS_LDAP_ENABLED)


class SingleSignOnBackend:
    """What the backends of single sign-on (`oidc`, `ldap`) answer alike, put before the
    library's backend: a session's member, and no permissions of their own."""

    def get_user(self, user_id):
        """The session's member, while active (as Django's own backend: an account made inactive
        here ends its sessions signed in this way too)."""
        user = super().get_user(user_id)
        return user if user is not None and user.is_active else None

    # Permissions are RolesBackend's to answer (in one query); this backend adds none.
    def get_all_permissions(self, user_obj, obj=None):
        return set()
