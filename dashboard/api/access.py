"""What a token may ask for, and how often.

- `TokenScope`: a request needs a token (401), its member a role (403), and the token the scope
  the view names for the request's method (403, with the reason). What the member's role allows
  on a given host is then decided by the services, as for the pages (dashboard.permissions).
- `SchemaReaders`: the OpenAPI document and its page, for a signed-in member or any token.
- `PerTokenRateThrottle`: XDS_API_RATE_PER_MINUTE requests a minute per token; more get 429
  with Retry-After. Counted in the shared cache; without one, requests are not refused.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import BasePermission
from rest_framework.throttling import SimpleRateThrottle

from dashboard import permissions
from dashboard.models import ApiToken

logger = logging.getLogger(__name__)

READ_METHODS = ("GET", "HEAD", "OPTIONS")


def required_scope(view, method: str) -> str:
    """The scope `view` needs for `method`: its `scopes` say, reading needs `read`."""
    return getattr(view, "scopes", {}).get(method, permissions.SCOPE_READ)


class TokenScope(BasePermission):
    def has_permission(self, request, view) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken):
            raise NotAuthenticated(_("Send a personal API token: Authorization: Bearer xds_…"))
        if not permissions.can_view(request.user):
            raise permissions.Forbidden(
                _("Your account has no role yet: ask an admin to give you one.")
            )
        refusal = permissions.scope_refusal(token, required_scope(view, request.method))
        if refusal:
            raise permissions.Forbidden(refusal)
        return True


class SchemaReaders(BasePermission):
    def has_permission(self, request, view) -> bool:
        if request.user is None or not request.user.is_authenticated:
            raise NotAuthenticated(_("Send a personal API token: Authorization: Bearer xds_…"))
        if not permissions.can_view(request.user):
            raise permissions.Forbidden(
                _("Your account has no role yet: ask an admin to give you one.")
            )
        return True


class PerTokenRateThrottle(SimpleRateThrottle):
    scope = "token"

    def get_rate(self) -> str:
        # Read per request, not when the module loads (a setting changed in a test applies).
        return f"{settings.XDS_API_RATE_PER_MINUTE}/min"

    def get_cache_key(self, request, view) -> str | None:
        token = request.auth
        if not isinstance(token, ApiToken):
            return None  # refused anyway, and not counted
        return f"xds:api-rate:{token.pk}"

    def allow_request(self, request, view) -> bool:
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        try:
            return super().allow_request(request, view)
        except Exception as exc:  # the cache is down: serve rather than fail every script
            logger.warning("API rate not counted: the cache failed (%s)", type(exc).__name__)
            return True
