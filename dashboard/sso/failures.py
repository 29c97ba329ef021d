"""Why a sign-in through the directory failed: a code kept in the audit trail, and the words the
member reads on the sign-in page. The backend that failed notes it on the request; the sign-in
views read it from there."""

from __future__ import annotations

from enum import StrEnum

from django.utils.translation import gettext as _


class Failure(StrEnum):
    REFUSED_BY_PROVIDER = "refused_by_provider"  # the provider answered error=...
    STALE = "stale"  # no sign-in started from this browser, or it was already used
    UNREACHABLE = "unreachable"  # the provider did not answer, or refused our code
    UNVERIFIED = "unverified"  # the token's signature, issuer, audience or nonce is wrong
    NO_USERNAME = "no_username"  # the claims name nobody we can make an account for
    SUPERUSER = "superuser"  # a superuser's account signs in with its local password only
    INACTIVE = "inactive"
    LOCAL_PASSWORD_OFF = "local_password_off"  # noqa: S105 - a reason, no password: SSO required


_ATTRIBUTE = "xds_sign_in_failure"


def note(request, failure: Failure, detail: str = "") -> None:
    """Remembers on `request` why the sign-in failed (the first reason wins)."""
    if request is not None and not hasattr(request, _ATTRIBUTE):
        setattr(request, _ATTRIBUTE, (failure, detail[:300]))


def noted(request) -> tuple[Failure, str] | None:
    return getattr(request, _ATTRIBUTE, None)


def words(failure: Failure, *, provider: str) -> str:
    """What the member reads, in their language."""
    values = {"provider": provider}
    if failure is Failure.REFUSED_BY_PROVIDER:
        return _("%(provider)s did not sign you in (it was cancelled or refused).") % values
    if failure is Failure.STALE:
        return _("That sign-in had expired or was already used: start again.")
    if failure is Failure.UNREACHABLE:
        return (
            _(
                "%(provider)s could not be reached or did not accept the sign-in: try again, and "
                "tell an admin if it goes on."
            )
            % values
        )
    if failure is Failure.UNVERIFIED:
        return (
            _("The answer from %(provider)s could not be verified, so you were not signed in.")
            % values
        )
    if failure is Failure.NO_USERNAME:
        return (
            _(
                "%(provider)s did not say which user you are, so no account could be found or "
                "made: tell an admin."
            )
            % values
        )
    if failure is Failure.SUPERUSER:
        return (
            _(
                "This account is a superuser's: it signs in with its own password here, not "
                "through %(provider)s."
            )
            % values
        )
    if failure is Failure.INACTIVE:
        return _("Your account is not active.")
    return (
        _(
            "Your team signs in through single sign-on: use %(provider)s. Local passwords are kept "
            "for the superusers' break-glass accounts."
        )
        % values
    )
