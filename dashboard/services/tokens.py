"""Personal API tokens: making one (shown once), revoking one, and recognising one on a request.

A token is `xds_` and 40 random URL-safe characters (240 bits); only its sha256 digest is kept.
Making and revoking are audited. Recognising a token records when and from where it was last
used, at most once a minute per token (or when the address changes), so a busy script does not
write a row on every call.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dashboard.models import TOKEN_PREFIX, ApiToken, AuditEvent
from dashboard.models.tokens import TOKEN_HINT_LENGTH
from dashboard.services.audit import audit_record

# A token's default lifetime; the most is the admins' setting XDS_API_TOKEN_MAX_DAYS.
DEFAULT_DAYS = 30
# How often a token's "last used" is written, at most.
LAST_USED_EVERY = timedelta(seconds=60)
NAME_MAX = ApiToken._meta.get_field("name").max_length


class TokenInvalid(Exception):
    """A token cannot be made as asked; `message` says why, for the member."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # the token itself: shown once, never stored


def digest_of(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def max_days() -> int:
    return settings.XDS_API_TOKEN_MAX_DAYS


def token_create(*, user, name: str, scopes, days: int | None = None, by=None) -> NewToken:
    """Make a token for `user` (asked by `by`, `user` by default). Raises TokenInvalid."""
    name = (name or "").strip()
    scopes = [str(scope) for scope in (scopes or ())]
    days = DEFAULT_DAYS if days is None else days
    if not name:
        raise TokenInvalid(_("Give the token a name that says what uses it."))
    if len(name) > NAME_MAX:
        raise TokenInvalid(_("A token's name has at most %(max)d characters.") % {"max": NAME_MAX})
    unknown = [scope for scope in scopes if scope not in ApiToken.Scope.values]
    if unknown or not scopes:
        raise TokenInvalid(_("Choose at least one scope: read, operate or manage."))
    scopes = [scope for scope in ApiToken.Scope.values if scope in scopes]  # in their order
    if not isinstance(days, int) or not 1 <= days <= max_days():
        raise TokenInvalid(
            _("A token lasts from 1 to %(max)d days (the most the admins allow).")
            % {"max": max_days()}
        )
    if not getattr(user, "is_active", False):
        raise TokenInvalid(_("Only an active account can have tokens."))
    by = by or user
    secret = TOKEN_PREFIX + secrets.token_urlsafe(30)
    now = timezone.now()
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name,
            digest=digest_of(secret),
            hint=secret[: len(TOKEN_PREFIX) + TOKEN_HINT_LENGTH],
            scopes=scopes,
            created_at=now,
            created_by_name=by.get_username(),
            expires_at=now + timedelta(days=days),
        )
        audit_record(
            AuditEvent.Action.TOKEN_CREATED,
            f"API token {name!r} created for {user.get_username()} "
            f"({', '.join(scopes)}; {days} days)",
            actor=by if getattr(by, "pk", None) else None,
            actor_name=by.get_username(),
            details=_details(token),
        )
    return NewToken(token=token, secret=secret)


def _details(token: ApiToken) -> dict:
    return {
        "token_id": token.pk,
        "token": token.name,
        "member": token.user.get_username(),
        "member_id": token.user_id,
        "scopes": list(token.scopes),
        "expires_at": token.expires_at.isoformat(),
    }


def can_revoke(user, token: ApiToken) -> bool:
    """A member their own tokens; an admin (who assigns owners) anyone's."""
    from dashboard import permissions

    if not getattr(user, "is_active", False):
        return False
    return token.user_id == user.pk or permissions.can_manage_tokens(user)


def token_revoke(*, user, token_id: int) -> ApiToken:
    """Revoke a token (at once: the next request with it is refused). Revoking one already
    revoked changes nothing. Raises Forbidden, ApiToken.DoesNotExist."""
    from dashboard import permissions

    with transaction.atomic():
        token = ApiToken.objects.select_for_update().select_related("user").get(pk=token_id)
        if not can_revoke(user, token):
            raise permissions.Forbidden(_("You may revoke only your own tokens."))
        if token.revoked_at is not None:
            return token
        token.revoked_at = timezone.now()
        token.revoked_by_name = user.get_username()
        token.save(update_fields=["revoked_at", "revoked_by_name"])
        audit_record(
            AuditEvent.Action.TOKEN_REVOKED,
            f"API token {token.name!r} of {token.user.get_username()} revoked",
            actor=user,
            details=_details(token),
        )
    return token


def token_authenticate(secret: str, *, ip: str | None) -> ApiToken | None:
    """The usable token `secret` is, with its member; None when it is none (unknown, revoked,
    expired, or its member is inactive). Records its use."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = ApiToken.objects.select_related("user").filter(digest=digest_of(secret)).first()
    if token is None or not token.is_usable or not token.user.is_active:
        return None
    now = timezone.now()
    stale = token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY
    if stale or token.last_used_ip != ip:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now, last_used_ip=ip)
        token.last_used_at, token.last_used_ip = now, ip
    return token
