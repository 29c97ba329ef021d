"""The words a member reads for an outcome, in the member's language: the one place an error of
the provider's API (a `vmclient` error, which holds only facts) becomes a sentence.

Every sentence is a gettext message: English in the source, each other language in its catalog
(`locale/`), so adding a language is a new catalog and nothing else. `error_words(err)` words an
error in the active language; `translation.override` picks another one.
"""

from __future__ import annotations

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from vmclient import errors

# One sentence per kind of error whose words depend on nothing but its kind. An error takes the
# sentence of its nearest class listed here (`type(err).__mro__`), so a subclass the provider's
# reference adds later still reads as its family.
_FIXED: dict[type[errors.XdsError], Promise] = {
    errors.XdsError: gettext_lazy(
        "The request to the hosting provider failed. Try again later; if it keeps failing, "
        "contact an administrator with the trace id."
    ),
    errors.InvalidArgument: gettext_lazy(
        "The request is not valid, so it was not sent to the hosting provider."
    ),
    errors.TransportError: gettext_lazy(
        "The hosting provider could not be reached. Try again in a moment; if it keeps "
        "failing, an administrator should check the network and XDS_BASE_URL."
    ),
    errors.ConnectionFailed: gettext_lazy(
        "The hosting provider could not be reached, so nothing was sent. Try again in a "
        "moment; if it keeps failing, an administrator should check the network and "
        "XDS_BASE_URL."
    ),
    errors.ReadTimedOut: gettext_lazy(
        "The hosting provider did not answer in time. The request may still have been "
        "carried out: refresh to check before trying again."
    ),
    errors.ConnectionDropped: gettext_lazy(
        "The connection to the hosting provider broke before it answered. The request may "
        "still have been carried out: refresh to check before trying again."
    ),
    errors.ProtocolError: gettext_lazy(
        "The hosting provider sent an answer the dashboard cannot read. Try again later; if "
        "it keeps happening, contact an administrator with the trace id."
    ),
    errors.MalformedResponse: gettext_lazy(
        "The hosting provider's answer was cut off or unreadable. Try again in a moment; if "
        "it keeps happening, contact an administrator."
    ),
    errors.MissingEnvelopeCode: gettext_lazy(
        "The hosting provider's answer did not say whether the request succeeded. Refresh to "
        "check the result; if it keeps happening, contact an administrator."
    ),
    errors.UnexpectedData: gettext_lazy(
        "The hosting provider sent data in an unexpected format. Try again later; if it keeps "
        "happening, contact an administrator with the trace id."
    ),
    errors.ActionNotAccepted: gettext_lazy(
        "The hosting provider did not accept the action. Refresh the host's state, then try again."
    ),
    errors.AuthenticationError: gettext_lazy(
        "The dashboard could not sign in to the hosting provider. An administrator must check "
        "XDS_UUID and XDS_SECRET (the account id and secret from the provider's support)."
    ),
    errors.UpstreamSystemError: gettext_lazy(
        "The hosting provider had an internal error. Try again in a few minutes; if it keeps "
        "failing, contact the provider's support with the trace id."
    ),
    errors.UpstreamInterfaceError: gettext_lazy(
        "The hosting provider's interface failed. Try again in a few minutes; if it keeps "
        "failing, contact the provider's support with the trace id."
    ),
    errors.NoPermission: gettext_lazy(
        "The provider account is not allowed to do this. An administrator should ask the "
        "provider's support to enable it for the account."
    ),
    errors.RequestInProgress: gettext_lazy(
        "The hosting provider is still processing a previous request. Wait a moment, refresh, "
        "then try again if needed."
    ),
    errors.MissingParameter: gettext_lazy(
        "The hosting provider says a required value was missing from the request. Fill in "
        "every field and try again; if it keeps happening, report it to an administrator."
    ),
    errors.RealNameRequired: gettext_lazy(
        "The provider account has not completed real-name verification. An administrator must "
        "complete it on the provider's website, then try again."
    ),
    errors.AlreadyBooting: gettext_lazy(
        "The host is already starting. Wait for it to finish; its status will update by itself."
    ),
    errors.AlreadyShuttingDown: gettext_lazy(
        "The host is already shutting down. Wait for it to finish; its status will update by "
        "itself."
    ),
    errors.InsufficientResources: gettext_lazy(
        "The provider has no free resources for this configuration right now. Choose another "
        "template (or data centre), or try again later."
    ),
    errors.PowerBalanceTooLow: gettext_lazy(
        "The account's wallet balance is too low to start this host. Top up the wallet at the "
        "provider, then try again."
    ),
    errors.CreationWaiting: gettext_lazy(
        "The provider is busy creating hosts and asks to wait. No host was created: try again "
        "in a few minutes."
    ),
    errors.NeverStarted: gettext_lazy(
        "This host has never been started, so it cannot be rebooted. Power it on instead."
    ),
    errors.HostUnavailable: gettext_lazy(
        "The host is unavailable right now, so it cannot be rebooted. Try again in a few minutes."
    ),
    errors.HostNotRunning: gettext_lazy(
        "The host is not running, so it cannot be rebooted. Power it on instead, or wait until "
        "it is running."
    ),
    errors.TemplateImageMismatch: gettext_lazy(
        "The chosen image does not fit the chosen template (their types differ). Choose an "
        "image of the template's type, then try again."
    ),
    errors.WalletError: gettext_lazy(
        "The provider reported a problem with the account's wallet. An administrator should "
        "check the wallet at the provider (or ask its support), then try again."
    ),
    errors.WalletBalanceTooLow: gettext_lazy(
        "The account's wallet balance is too low for this rental. Top up the wallet at the "
        "provider, then try again."
    ),
    errors.OutcomeUnknown: gettext_lazy(
        "The provider's answer to the create request was lost, so it is unknown whether the "
        "host was created. Do not try again yet: refresh the host list first, and create it "
        "again only if it is not there."
    ),
}

# Why the client refused an argument before sending anything (`InvalidArgument.reason`).
_REFUSALS: dict[str, Promise] = {
    "invalid_id": gettext_lazy(
        "The %(argument)s is missing or not valid, so nothing was sent to the provider. "
        "Choose it again from the list, then retry."
    ),
    "billing_type": gettext_lazy("The billing type must be pay-as-you-go or rental."),
    "hourly_rental": gettext_lazy(
        "Hourly rentals are no longer offered by the provider. Choose a day, week, month, "
        "quarter or year, or create a pay-as-you-go host instead."
    ),
    "period_type": gettext_lazy("The rental period must be a day, week, month, quarter or year."),
    "base_url": gettext_lazy(
        "The provider's address is not configured correctly. An administrator must set "
        "XDS_BASE_URL to an http(s) URL."
    ),
    "credentials": gettext_lazy(
        "The provider account is not configured. An administrator must set XDS_UUID and XDS_SECRET."
    ),
}


def error_words(err: errors.XdsError) -> str:
    """What happened and what to do, for a member, in the active language."""
    if isinstance(err, errors.InvalidArgument):
        return _refusal_words(err)
    if isinstance(err, errors.HtmlErrorPage):
        if err.http_status is None:
            return _(
                "The hosting provider's gateway answered with an error page. The service may "
                "be down or restarting: try again in a few minutes."
            )
        return _(
            "The hosting provider's gateway answered with an error page (HTTP %(status)s). The "
            "service may be down or restarting: try again in a few minutes."
        ) % {"status": err.http_status}
    if isinstance(err, errors.BusinessError):
        # The provider's own reason is the explanation: shown as it sent it.
        if not err.upstream_message:
            return _(
                "The hosting provider refused the request. Check the request against that "
                "reason, then try again."
            )
        return _(
            'The hosting provider refused the request: "%(said)s". Check the request against '
            "that reason, then try again."
        ) % {"said": err.upstream_message}
    if type(err) is errors.ApiError:
        # A code the reference lacks: the provider's own words are all there is.
        if not err.upstream_message:
            return _(
                "The hosting provider refused the request. Try again later; if it keeps "
                "failing, contact the provider's support with the trace id."
            )
        return _(
            'The hosting provider refused the request: "%(said)s". Try again later; if it '
            "keeps failing, contact the provider's support with the trace id."
        ) % {"said": err.upstream_message}
    for cls in type(err).__mro__:
        if cls in _FIXED:
            return str(_FIXED[cls])
    return str(_FIXED[errors.XdsError])


def error_words_in(err: errors.XdsError, language: str) -> str:
    """`error_words` in `language`, for the texts stored in each language beside an operation."""
    with translation.override(language):
        return error_words(err)


def _refusal_words(err: errors.InvalidArgument) -> str:
    if err.reason == "not_positive":
        if err.maximum is None:
            return _("The %(argument)s must be a whole number of at least 1.") % {
                "argument": err.argument
            }
        return _("The %(argument)s must be a whole number of at least 1 up to %(maximum)s.") % {
            "argument": err.argument,
            "maximum": err.maximum,
        }
    if err.reason in _REFUSALS:
        return str(_REFUSALS[err.reason]) % {"argument": err.argument}
    return str(_FIXED[errors.InvalidArgument])
