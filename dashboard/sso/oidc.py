"""Signing in through an OpenID Connect provider (mozilla-django-oidc's authorization code flow,
with PKCE and a nonce).

What we add to the library: the endpoints from the issuer's discovery document when they are
not named (fetched on first use, not at start: a provider down must not stop the dashboard);
the ID token's issuer and audience checked beside its signature, expiry and nonce; the userinfo
answer checked to be about the same subject; the account found or made by the user name claim
(never a superuser's); the roles mapped from the groups claim on every sign-in; and every
failure turned into a reason (dashboard.sso.failures) instead of an error page.
"""

from __future__ import annotations

import logging
import threading

import jwt
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings

from dashboard.sso import roles
from dashboard.sso.failures import Failure, note
from dashboard.sso.methods import SingleSignOnBackend

logger = logging.getLogger(__name__)

# mozilla-django-oidc's setting → the discovery document's key.
_ENDPOINT_SETTINGS = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}
_discovered: dict[str, dict] = {}
_discovery_lock = threading.Lock()


class DiscoveryError(Exception):
    """The issuer's discovery document could not be read, or lacks an endpoint."""


def discovery_document(issuer: str) -> dict:
    """The issuer's /.well-known/openid-configuration, read once per process when it answers."""
    with _discovery_lock:
        if issuer in _discovered:
            return _discovered[issuer]
        url = f"{issuer}/.well-known/openid-configuration"
        try:
            response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
            response.raise_for_status()
            document = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise DiscoveryError(f"{url}: {exc}") from exc
        if not isinstance(document, dict) or document.get("issuer", "").rstrip("/") != issuer:
            raise DiscoveryError(f"{url} is not the discovery document of {issuer}")
        _discovered[issuer] = document
        return document


def endpoint(key: str) -> str:
    """An endpoint of the provider: as configured, else as its discovery document says."""
    url = settings.XDS_OIDC_ENDPOINTS.get(key)
    if url:
        return url
    value = discovery_document(settings.XDS_OIDC_ISSUER).get(key)
    if not isinstance(value, str) or not value.startswith(("https://", "http://")):
        raise DiscoveryError(f"the discovery document of {settings.XDS_OIDC_ISSUER} has no {key}")
    return value


def end_session_endpoint() -> str:
    """Where the provider ends its own session (RP-initiated logout): as configured, else as
    its discovery document says; "" when it offers none. Raises DiscoveryError when the
    discovery document cannot be read."""
    if settings.XDS_OIDC_END_SESSION_ENDPOINT:
        return settings.XDS_OIDC_END_SESSION_ENDPOINT
    if not settings.XDS_OIDC_ISSUER:
        return ""
    value = discovery_document(settings.XDS_OIDC_ISSUER).get("end_session_endpoint")
    return value if isinstance(value, str) and value.startswith(("https://", "http://")) else ""


def oidc_setting(attr: str, *default):
    """mozilla-django-oidc's settings, with the endpoints resolved by `endpoint`."""
    if attr in _ENDPOINT_SETTINGS:
        return endpoint(_ENDPOINT_SETTINGS[attr])
    return import_from_settings(attr, *default)


def claim(claims: dict, name: str):
    """The claim `name`, or, when there is none of that name, the one a dotted path names inside
    nested claims (Keycloak's `realm_access.roles`)."""
    if name in claims:
        return claims[name]
    value = claims
    for part in name.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


class ProviderBackend(SingleSignOnBackend, OIDCAuthenticationBackend):
    """The account of a member signing in through the OpenID provider."""

    get_settings = staticmethod(oidc_setting)

    def __init__(self, *args, **kwargs):
        # Built for every request of a session it signed in (Django's get_user): reads no
        # endpoint here, as the library's would (a discovery fetch per page).
        self.UserModel = get_user_model()
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET
        self.OIDC_RP_SIGN_ALGO = settings.OIDC_RP_SIGN_ALGO
        self.OIDC_RP_IDP_SIGN_KEY = None

    OIDC_OP_TOKEN_ENDPOINT = property(lambda self: endpoint("token_endpoint"))
    OIDC_OP_USER_ENDPOINT = property(lambda self: endpoint("userinfo_endpoint"))
    OIDC_OP_JWKS_ENDPOINT = property(lambda self: endpoint("jwks_uri"))

    def authenticate(self, request, **kwargs):
        if request is None or "code" not in request.GET or "state" not in request.GET:
            return None
        try:
            return super().authenticate(request, **kwargs)
        except (requests.RequestException, DiscoveryError) as exc:
            logger.warning("sign-in through the OpenID provider failed: %s", exc)
            note(request, Failure.UNREACHABLE, str(exc))
        except (SuspiciousOperation, jwt.PyJWTError, KeyError, TypeError, ValueError) as exc:
            logger.warning("OpenID provider's answer refused: %s", exc)
            note(request, Failure.UNVERIFIED, str(exc))
        return None

    def verify_token(self, token, **kwargs):
        """The library checks the signature (with the provider's published keys), the expiry and
        the nonce; a token also has to be issued by our provider, for us."""
        if not isinstance(token, str) or not token:
            raise SuspiciousOperation("no ID token in the token answer")
        payload = super().verify_token(token, **kwargs)
        if "nonce" in kwargs and "exp" not in payload:
            raise SuspiciousOperation("the ID token has no expiry")
        if settings.XDS_OIDC_ISSUER and payload.get("iss", "").rstrip("/") != (
            settings.XDS_OIDC_ISSUER
        ):
            raise SuspiciousOperation(f"the ID token was issued by {payload.get('iss')!r}")
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if "nonce" in kwargs and self.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation(f"the ID token is meant for {audience!r}, not us")
        return payload

    def get_or_create_user(self, access_token, id_token, payload):
        claims = self.get_userinfo(access_token, id_token, payload)
        if not isinstance(claims, dict) or claims.get("sub") != payload.get("sub"):
            raise SuspiciousOperation("the userinfo answer is about someone else")
        claims = {**payload, **claims}
        username = self.username_of(claims)
        if not username:
            note(self.request, Failure.NO_USERNAME, f"claims: {sorted(claims)}")
            return None
        user = self.UserModel._default_manager.filter(username__iexact=username).first()
        if user is not None and user.is_superuser:
            note(self.request, Failure.SUPERUSER, username)
            return None
        if user is None:
            user = self.UserModel(username=username)
            user.set_unusable_password()
        self.update_user(user, claims)
        groups = claim(claims, settings.XDS_OIDC_GROUPS_CLAIM) or []
        if isinstance(groups, str):
            groups = [groups]
        roles.roles_apply(
            user=user,
            groups=[str(group) for group in groups if isinstance(group, str | int)],
            role_map=settings.XDS_OIDC_ROLE_MAP,
        )
        return user

    def username_of(self, claims) -> str:
        value = claim(claims, settings.XDS_OIDC_USERNAME_CLAIM)
        if not isinstance(value, str):
            return ""
        field = self.UserModel._meta.get_field(self.UserModel.USERNAME_FIELD)
        value = value.strip()
        try:
            field.run_validators(value)
        except Exception:
            return ""
        return value if 0 < len(value) <= field.max_length else ""

    def update_user(self, user, claims):
        """The name and e-mail address as the provider has them now."""
        for field, claim, limit in (
            ("email", "email", 254),
            ("first_name", "given_name", 150),
            ("last_name", "family_name", 150),
        ):
            value = claims.get(claim)
            if isinstance(value, str):
                setattr(user, field, value.strip()[:limit])
        user.save()
        return user
