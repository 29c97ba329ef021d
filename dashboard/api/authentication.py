"""`Authorization: Bearer xds_...`: a member's personal API token (dashboard.services.tokens).

No header is no authentication (the view then answers 401); a header that is not a usable
token (unknown, revoked, expired, or its member deactivated) is a 401 too, that says so.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed

from dashboard.client_ip import client_ip
from dashboard.services import tokens


class BearerTokenAuthentication(BaseAuthentication):
    keyword = "bearer"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        kind, _sep, secret = header.strip().partition(" ")
        secret = secret.strip()
        if kind.lower() != self.keyword or not secret:
            raise AuthenticationFailed(
                _("Send the token as the header: Authorization: Bearer xds_…")
            )
        token = tokens.token_authenticate(secret, ip=client_ip(request._request))
        if token is None:
            raise AuthenticationFailed(
                _("This token is not valid: it is unknown, revoked or expired.")
            )
        return token.user, token

    def authenticate_header(self, request) -> str:
        # Makes REST framework answer 401 (not 403) to a request without credentials.
        return 'Bearer realm="api"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI document describes the token (and the docs page asks for it)."""

    target_class = BearerTokenAuthentication
    name = "token"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token (xds_…) from /account/tokens/.",
        }
