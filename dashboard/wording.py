"""The words a member reads for an outcome, in the member's language: the one place an error of
the provider's API (a `vmclient` error, which holds only facts) or an operation's outcome becomes
a sentence.

Every sentence is a gettext message: English in the source, each other language in its catalog
(`locale/`), so adding a language is a new catalog and nothing else.

- `error_words(err)` words an error in the active language (`translation.override` picks
  another one).
- An outcome is said as a `Said`: a key of `OUTCOMES` and its values (plain values, or a `Said`
  worded first, such as an error or an action's name). `words(said)` words it.
- `stored(said)` / `note(said)` give the fields an operation and a timeline entry keep: the key
  and its values (worded when read, in the reader's language) and the English words (for logs,
  mails and the audit trail). `recorded_words` words them back; a row written before keys were
  kept has no key, and reads its frozen words instead.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from django.conf import settings
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

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
    # Cloud disks
    errors.HostDoesNotExist: gettext_lazy(
        "The provider says this host does not exist. Refresh the host list: it may have been "
        "deleted."
    ),
    errors.DiskNotFound: gettext_lazy(
        "The provider says this disk does not exist. Refresh the disk list: it may have been "
        "destroyed."
    ),
    errors.DiskAlreadyMounted: gettext_lazy(
        "The disk is already mounted. Refresh the disk to see where; unmount it first to move it."
    ),
    errors.DiskAlreadyUnmounted: gettext_lazy(
        "The disk is already unmounted. Refresh the disk; nothing more to do."
    ),
    errors.DiskUnmountFailed: gettext_lazy(
        "The provider could not unmount the disk (it may still be mounting). Wait until it is "
        "in use, then try again."
    ),
    errors.HostNotPoweredOff: gettext_lazy(
        "The host must be powered off for this. Power it off, wait until it is off, then try again."
    ),
    errors.HostDiskLimitReached: gettext_lazy(
        "The host already has 30 disks, the most it can have. Unmount one first, or choose "
        "another host."
    ),
    errors.HostNeverStartedSinceCreated: gettext_lazy(
        "A disk can be mounted only on a host that has been started at least once since it was "
        "created. Power the host on once, then off, and try again."
    ),
    errors.DiskTooSmall: gettext_lazy(
        "A disk must be at least 20 GB. Choose a larger size, then try again."
    ),
    errors.DiskAreaQuotaExceeded: gettext_lazy(
        "The account's disks in this data centre would exceed its quota. Destroy a disk you no "
        "longer need, choose a smaller size or another data centre."
    ),
    errors.HostIdMissing: gettext_lazy(
        "The provider says the host was missing from the request. Choose the host again, then "
        "retry."
    ),
    errors.HostInstanceMissing: gettext_lazy(
        "The provider says the host's instance does not exist any more (an expired or deleted "
        "host). Choose another host."
    ),
    errors.HostNotPayAsYouGo: gettext_lazy(
        "Disks can be mounted only on pay-as-you-go hosts, not on rentals. Choose a "
        "pay-as-you-go host."
    ),
    errors.DiskAreaMismatch: gettext_lazy(
        "The disk and the host are in different data centres. Choose a host in the disk's data "
        "centre."
    ),
    errors.InvalidMountFlag: gettext_lazy(
        "The provider refused the request's mount choice. Try again; if it keeps happening, "
        "report it to an administrator."
    ),
    errors.DiskNotUnmounted: gettext_lazy(
        "Only an unmounted disk can be destroyed. Unmount it first (its host must be off), then "
        "destroy it."
    ),
    errors.HostsOnDifferentNodes: gettext_lazy(
        "The two hosts are on different nodes of the provider, so the disk cannot move between "
        "them. Unmount it and choose a host on the same node, or create another disk."
    ),
    errors.RequestTimedOutOrTooFrequent: gettext_lazy(
        "The provider timed out or found the requests too frequent. It may still have done "
        "it: refresh to check, then try again in a minute if needed."
    ),
    # Personal images
    errors.IllegalRequest: gettext_lazy(
        "The provider refused the request as not valid (for example an image or host it does "
        "not know). Refresh the page, then try again."
    ),
    errors.TooManyPersonalImages: gettext_lazy(
        "The account has as many personal images as the provider allows. Delete one you no "
        "longer need, then try again."
    ),
    errors.PersonalImageNameTaken: gettext_lazy(
        "Another personal image already has this name. Choose another name."
    ),
}

# A lost answer to a create of something other than a host (`OutcomeUnknown.operation`).
_UNKNOWN_CREATES: dict[str, Promise] = {
    "create_disk": gettext_lazy(
        "The provider's answer to the disk create was lost, so it is unknown whether the disk "
        "was bought. Do not try again yet: refresh the disk list first, and create it again "
        "only if it is not there."
    ),
    "create_personal_image": gettext_lazy(
        "The provider's answer was lost, so it is unknown whether the personal image is being "
        "made. Do not try again yet: refresh the image list first, and ask again only if it is "
        "not there."
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
    "area": gettext_lazy("The data centre must be South China, West China or international."),
    "image_name": gettext_lazy(
        "An image name must be 1 to %(maximum)s characters, without control characters."
    ),
}


def error_words(err: errors.XdsError) -> str:
    """What happened and what to do, for a member, in the active language."""
    if isinstance(err, errors.InvalidArgument):
        return _refusal_words(err)
    if isinstance(err, errors.OutcomeUnknown) and getattr(err, "operation", None) in (
        _UNKNOWN_CREATES
    ):
        return str(_UNKNOWN_CREATES[err.operation])
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
        return str(_REFUSALS[err.reason]) % {"argument": err.argument, "maximum": err.maximum}
    return str(_FIXED[errors.InvalidArgument])


# --- Outcomes of operations ---------------------------------------------------------------------


class Said(NamedTuple):
    """An outcome to word: a key of `OUTCOMES` and the values its sentence names."""

    key: str
    values: dict[str, Any]


def said(key: str, **values: Any) -> Said:
    if key not in OUTCOMES:  # an error is said by error_said
        raise KeyError(f"no sentence for the outcome {key!r}")
    return Said(key, values)


def error_said(err: errors.XdsError) -> Said:
    """An error as an outcome: the facts its words are made of."""
    return Said(
        "error",
        {
            "error": type(err).__name__,
            "http_status": err.http_status,
            "upstream_message": err.upstream_message,
            "argument": getattr(err, "argument", None),
            "reason": getattr(err, "reason", None),
            "maximum": getattr(err, "maximum", None),
            "operation": getattr(err, "operation", None),
        },
    )


def words(outcome: Said) -> str:
    """The outcome's sentence in the active language."""
    if outcome.key == "error":
        return error_words(_error_from(outcome.values))
    values = {name: _worded(value) for name, value in outcome.values.items()}
    return str(OUTCOMES[outcome.key]) % values


def _worded(value: Any) -> Any:
    if isinstance(value, Said):
        return words(value)
    if isinstance(value, dict) and "key" in value:  # a Said, as stored
        return words(Said(value["key"], value.get("values") or {}))
    if isinstance(value, dict) and "texts" in value:  # words made elsewhere, in each language
        texts = value["texts"]
        return texts.get(translation.get_language() or "en") or texts.get("en", "")
    return value


def _stored_value(value: Any) -> Any:
    """A value as JSON: a Said as its key and values, a lazy text (worded by other code, such as
    a refusal) in each language shipped."""
    if isinstance(value, Said):
        return {"key": value.key, "values": _stored_values(value.values)}
    if isinstance(value, Promise):
        texts = {}
        for code, _name in settings.LANGUAGES:
            with translation.override(code):
                texts[code] = str(value)
        return {"texts": texts}
    return value


def _stored_values(values: dict[str, Any]) -> dict[str, Any]:
    return {name: _stored_value(value) for name, value in values.items()}


def words_in(outcome: Said, language: str) -> str:
    with translation.override(language):
        return words(outcome)


def stored(outcome: Said, field: str = "message") -> dict[str, Any]:
    """The fields a row keeps of an outcome: `<field>` (its English words), `<field>_key` and
    `<field>_values`."""
    return {
        field: words_in(outcome, "en"),
        f"{field}_key": outcome.key,
        f"{field}_values": _stored_values(outcome.values),
    }


def note(outcome: Said) -> dict[str, Any]:
    """The fields a timeline entry keeps of what it says."""
    return stored(outcome, "detail")


def recorded_words(row: Any, field: str, language: str | None = None) -> str:
    """The words of what `row` recorded in `<field>` (its key and values), in `language` (the
    active one by default). A row written before keys were kept reads its frozen words: those of
    `language` in `<field>_frozen`, else the English of `<field>`."""
    key = getattr(row, f"{field}_key")
    english = getattr(row, field)
    language = language or translation.get_language() or "en"
    if key == "error" or key in OUTCOMES:
        try:
            return words_in(Said(key, getattr(row, f"{field}_values") or {}), language)
        except (KeyError, TypeError, ValueError):
            return english  # a value the sentence no longer names: the words as written
    frozen = getattr(row, f"{field}_frozen", None) or {}  # rows that kept words in one language
    if language.lower().startswith("zh"):
        return frozen.get(language) or frozen.get("zh-hans") or english
    return frozen.get(language) or english


def _error_from(facts: dict[str, Any]) -> errors.XdsError:
    cls = getattr(errors, str(facts.get("error")), None)
    if not (isinstance(cls, type) and issubclass(cls, errors.XdsError)):
        cls = errors.XdsError
    err = cls.__new__(cls)
    err.__dict__.update(
        {key: facts.get(key) for key in ("http_status", "upstream_message", "argument")}
    )
    err.__dict__.update({key: facts.get(key) for key in ("reason", "maximum", "operation")})
    return err


# An action or a status named inside a sentence.
ACTIONS: dict[str, Promise] = {
    "power_on": pgettext_lazy("an action, inside a sentence", "power on"),
    "power_off": pgettext_lazy("an action, inside a sentence", "power off"),
    "reboot": pgettext_lazy("an action, inside a sentence", "reboot"),
    "delete": pgettext_lazy("an action, inside a sentence", "delete"),
    "disk_create": pgettext_lazy("an action, inside a sentence", "disk create"),
    "disk_attach": pgettext_lazy("an action, inside a sentence", "disk attach"),
    "disk_detach": pgettext_lazy("an action, inside a sentence", "disk detach"),
    "disk_destroy": pgettext_lazy("an action, inside a sentence", "disk destroy"),
    "image_create": pgettext_lazy("an action, inside a sentence", "personal image"),
    "image_rename": pgettext_lazy("an action, inside a sentence", "image rename"),
    "image_delete": pgettext_lazy("an action, inside a sentence", "image delete"),
}
# A cloud disk's status on its own (a timeline entry), by the slug of dashboard.models.disks.
DISK_STATUS_NAMES: dict[str, Promise] = {
    "unmounted": gettext_lazy("Not mounted"),
    "mounting": gettext_lazy("Mounting"),
    "in-use": gettext_lazy("In use"),
    "arrears": gettext_lazy("Stopped for arrears"),
    "destroying": gettext_lazy("Being destroyed"),
    "unknown": gettext_lazy("Unknown"),
}
# A personal image's status on its own (a timeline entry), by the slug of models.images.
IMAGE_STATUS_NAMES: dict[str, Promise] = {
    "making": gettext_lazy("Being made"),
    "usable": gettext_lazy("Usable"),
    "failed": gettext_lazy("Failed"),
    "expired": gettext_lazy("Expired"),
    "unknown": gettext_lazy("Unknown"),
}
# The provider's areas, inside a sentence.
AREAS: dict[str, Promise] = {
    "0": pgettext_lazy("an area, inside a sentence", "South China"),
    "1": pgettext_lazy("an area, inside a sentence", "West China"),
    "2": pgettext_lazy("an area, inside a sentence", "international"),
}
STATUSES: dict[str, Promise] = {
    "off": pgettext_lazy("a host's status, inside a sentence", "off"),
    "booting": pgettext_lazy("a host's status, inside a sentence", "booting"),
    "running": pgettext_lazy("a host's status, inside a sentence", "running"),
    "charging": pgettext_lazy("a host's status, inside a sentence", "settling bill"),
    "shutting_down": pgettext_lazy("a host's status, inside a sentence", "shutting down"),
    "expired": pgettext_lazy("a host's status, inside a sentence", "expired"),
}
# A host's status on its own, as a timeline entry says it.
STATUS_NAMES: dict[str, Promise] = {
    "off": gettext_lazy("Off"),
    "booting": gettext_lazy("Booting"),
    "running": gettext_lazy("Running"),
    "charging": gettext_lazy("Settling bill"),
    "shutting_down": gettext_lazy("Shutting down"),
    "expired": gettext_lazy("Expired"),
}

OUTCOMES: dict[str, Promise] = {
    **{f"action.{kind}": label for kind, label in ACTIONS.items()},
    **{f"status.{slug}": label for slug, label in STATUSES.items()},
    **{f"status_name.{slug}": label for slug, label in STATUS_NAMES.items()},
    **{f"disk_status.{slug}": label for slug, label in DISK_STATUS_NAMES.items()},
    **{f"image_status.{slug}": label for slug, label in IMAGE_STATUS_NAMES.items()},
    **{f"area.{area}": label for area, label in AREAS.items()},
    # Creates
    "create_run_stopped": gettext_lazy(
        "The run that sent the create stopped before recording the answer."
    ),
    "create_refused": gettext_lazy("Nothing was bought. %(error)s"),
    "create_unexpected_error": gettext_lazy(
        "An unexpected error came after the create was sent (see the worker's log)."
    ),
    "create_no_id": gettext_lazy(
        "Xuandashi did not say which host it created; looking for it in the listing."
    ),
    "create_retry": gettext_lazy("%(error)s Trying again at %(time)s."),
    "create_waited_too_long": gettext_lazy(
        "Xuandashi could not take the create for %(minutes)s min (it kept asking to wait, or "
        "could not be reached). Nothing was bought: try again later."
    ),
    "create_unknown_unreadable": gettext_lazy(
        "Xuandashi's listing could not be read %(minutes)s min after the create, whose answer "
        "was lost, so its new host could not be looked for. It may or may not have been bought: "
        "an administrator must check the provider's console before anyone creates it again."
    ),
    "create_unknown_not_found": gettext_lazy(
        "No new host of template %(template)s with %(image)s appeared in Xuandashi's listing "
        "within %(minutes)s min of the create, whose answer was lost. It may or may not have "
        "been bought: an administrator must check the provider's console before anyone creates "
        "it again."
    ),
    "created_other_action": gettext_lazy(
        "Created host %(host)s; another action on it is already in flight."
    ),
    # Before anything is sent
    "not_sent_forbidden": gettext_lazy(
        "Not sent to Xuandashi: %(name)s may no longer ask for it. %(reason)s"
    ),
    "cancelled": gettext_lazy("Cancelled by %(name)s before anything was sent to Xuandashi."),
    "queue_down": gettext_lazy("It is saved and starts as soon as the task queue is back."),
    "resumed": gettext_lazy("No worker had touched it for %(minutes)s min."),
    # Approvals
    "approved_by": gettext_lazy("by %(name)s"),
    "rejected": gettext_lazy("Rejected by %(name)s. Nothing was bought."),
    "rejected_because": gettext_lazy("Rejected by %(name)s: %(reason)s Nothing was bought."),
    "approval_expired": gettext_lazy(
        "No admin approved it within %(hours)s h. Nothing was bought."
    ),
    # An admin resolved an unknown outcome
    "resolved_bought": gettext_lazy(
        "The create bought host %(host)s, as %(name)s found: %(reason)s"
    ),
    "resolved_nothing": gettext_lazy("Nothing was bought, as %(name)s found: %(reason)s"),
    "resolved_made_disk": gettext_lazy(
        "The create made disk %(disk)s, as %(name)s found: %(reason)s"
    ),
    "resolved_made_image": gettext_lazy(
        "The save made personal image %(image)s, as %(name)s found: %(reason)s"
    ),
    "resolved_nothing_made": gettext_lazy("Nothing was made, as %(name)s found: %(reason)s"),
    "resolved_note": gettext_lazy("%(name)s: %(reason)s"),
    # Power, reboot, delete
    "action_worker_stopped": gettext_lazy(
        "The worker stopped %(times)s times while sending this action; it is not tried again. "
        "Check the host, then try again if needed."
    ),
    "action_answer_lost": gettext_lazy(
        "%(code)s: Xuandashi may have carried it out; following the host to see what it did."
    ),
    "succeeded_answer_lost": gettext_lazy(
        "%(outcome)s Xuandashi's answer was lost, but the host shows it was done."
    ),
    "delete_refused": gettext_lazy(
        "Xuandashi answered that it did not delete the host. A host that is starting or "
        "stopping cannot be deleted: wait until it has settled, then try again."
    ),
    "deleted": gettext_lazy("Deleted: Xuandashi no longer lists the host."),
    "reached.running": gettext_lazy("The host is running."),
    "reached.off": gettext_lazy("The host is off."),
    "unknown_unreadable": gettext_lazy(
        "Xuandashi's answer to the %(action)s was lost, and the host could not be read for "
        "%(minutes)s min since: whether it was done is not known. Check the host before asking "
        "again."
    ),
    "unknown_no_status": gettext_lazy(
        "Xuandashi's answer was lost, and it does not report the host's status: whether it was "
        "done is not known. Check the host before asking again."
    ),
    "accepted_no_status": gettext_lazy(
        "Xuandashi accepted it. It does not report the host's status, so the result is not "
        "confirmed."
    ),
    "expired": gettext_lazy("The host has expired: its rental period is over."),
    "delete_timeout": gettext_lazy(
        "Xuandashi still lists the host %(minutes)s min after accepting to delete it."
    ),
    "status_timeout": gettext_lazy(
        "The host did not become %(status)s within %(minutes)s min. Check it on its page; "
        "Xuandashi may still be working on it."
    ),
    "not_carried_out": gettext_lazy(
        "Xuandashi's answer to the %(action)s was lost, and %(minutes)s min later %(shows)s: the "
        "%(action)s was not carried out. Ask for it again if it is still needed."
    ),
    "shows.still_listed": gettext_lazy("Xuandashi still lists the host"),
    "shows.never_restarted": gettext_lazy("the host was never seen restarting"),
    "shows.still_status": gettext_lazy("the host is still %(status)s"),
    "shows.unchanged": gettext_lazy("the host has not changed"),
    # Giving up
    "gave_up_create_sent": gettext_lazy(
        "Stopped after its task was delivered %(times)s times without finishing. The create was "
        "sent and may have bought a host: an administrator must check the provider's console "
        "before anyone creates it again."
    ),
    "gave_up": gettext_lazy(
        "Stopped after its task was delivered %(times)s times without finishing. Check the "
        "host, then try again if needed; the worker's log says what went wrong."
    ),
    "gave_up_bought": gettext_lazy(
        "Stopped after its task was delivered %(times)s times without finishing. The create "
        "bought host %(host)s. Check the host, then try again if needed; the worker's log says "
        "what went wrong."
    ),
    # Cloud disks (dashboard.services.disk_run)
    "disk_run_stopped": gettext_lazy(
        "The run that sent it stopped before recording the answer; following the disk instead "
        "of sending it again."
    ),
    "disk_create_refused": gettext_lazy("No disk was created. %(error)s"),
    "disk_create_no_id": gettext_lazy(
        "Xuandashi did not say which disk it created; looking for it in the listing."
    ),
    "disk_unknown_unreadable": gettext_lazy(
        "Xuandashi's listing of disks could not be read %(minutes)s min after the create, whose "
        "answer was lost. The disk may or may not have been created: an administrator must "
        "check the provider's console before anyone creates it again."
    ),
    "disk_unknown_not_found": gettext_lazy(
        "No new %(size)s GB disk in %(area)s appeared in Xuandashi's listing within "
        "%(minutes)s min of the create, whose answer was lost. It may or may not have been "
        "created: an administrator must check the provider's console before anyone creates it "
        "again."
    ),
    "disk_power_off_first": gettext_lazy("Powering the host off first, then mounting the disk."),
    "disk_answer_lost": gettext_lazy(
        "%(code)s: Xuandashi may have carried it out; following the disk to see what it did."
    ),
    "disk_arrears": gettext_lazy(
        "Xuandashi stopped the disk for arrears (it unmounts it): top up the wallet at the "
        "provider, then mount it again."
    ),
    # Personal images (dashboard.services.image_run)
    "image_run_stopped": gettext_lazy(
        "The run that sent it stopped before recording the answer; looking at the images "
        "instead of sending it again."
    ),
    "image_create_refused": gettext_lazy("No image was made. %(error)s"),
    "image_create_no_id": gettext_lazy(
        "Xuandashi does not say which image it makes; looking for it in the listing by its name."
    ),
    "image_answer_lost": gettext_lazy(
        "%(code)s: Xuandashi may have done it; looking at the images to see what it did."
    ),
    "image_unknown_unreadable": gettext_lazy(
        "Xuandashi's listing of personal images could not be read within %(minutes)s min. The "
        "image %(name)s may or may not be being made: check the images page before asking again."
    ),
    "image_unknown_not_found": gettext_lazy(
        "No personal image named %(name)s appeared in Xuandashi's listing within %(minutes)s "
        "min. It may still appear: check the images page before asking again."
    ),
    "image_made": gettext_lazy(
        "The personal image %(name)s is usable: new hosts can start from it."
    ),
    "image_failed": gettext_lazy(
        "Xuandashi reports that the image could not be made. Delete it and try again, or ask "
        "the provider's support."
    ),
    "image_renamed": gettext_lazy("The image is now called %(name)s."),
    "image_deleted": gettext_lazy("Deleted: Xuandashi no longer has the image."),
    "image_vanished": gettext_lazy(
        "The image left Xuandashi's listing before it showed the change: it was deleted meanwhile."
    ),
    "image_succeeded_answer_lost": gettext_lazy(
        "%(outcome)s Xuandashi's answer was lost, but the images show it was done."
    ),
    "image_still_making": gettext_lazy(
        "The image is still being made %(minutes)s min later. Xuandashi may still finish it: "
        "the images page shows it when it does."
    ),
    "image_not_shown": gettext_lazy(
        "The images do not show the %(action)s %(minutes)s min later. Xuandashi may still do "
        "it: check the images page before asking again."
    ),
    "disk_reached.in_use": gettext_lazy("The disk is mounted on %(host)s."),
    "disk_reached.unmounted": gettext_lazy("The disk is not mounted: it waits to be mounted."),
    "disk_destroyed": gettext_lazy("Destroyed: Xuandashi no longer has the disk."),
    "disk_succeeded_answer_lost": gettext_lazy(
        "%(outcome)s Xuandashi's answer was lost, but the disk shows it was done."
    ),
    "disk_not_shown": gettext_lazy(
        "The disk does not show the %(action)s %(minutes)s min later. Xuandashi accepts disk "
        "changes before it carries them out and may still be working on it: check the disk on "
        "its page before asking again."
    ),
    "disk_gave_up_create_sent": gettext_lazy(
        "Stopped after its task was delivered %(times)s times without finishing. The create was "
        "sent and may have made a disk: an administrator must check the provider's console "
        "before anyone creates it again."
    ),
    "disk_gave_up_bought": gettext_lazy(
        "Stopped after its task was delivered %(times)s times without finishing. The create "
        "made disk %(host)s. Check the disk, then try again if needed; the worker's log says "
        "what went wrong."
    ),
    "image_gave_up_sent": gettext_lazy(
        "Stopped after its task was delivered %(times)s times without finishing. It was sent "
        "and Xuandashi may have done it: check the images page before asking again."
    ),
    # The sync
    "sync_failed_unexpectedly": gettext_lazy(
        "The job failed unexpectedly; the worker's log has the details."
    ),
    # A power schedule's due time that started nothing, and why
    "schedule_missed": gettext_lazy("The scheduler was not running then (%(minutes)s min late)."),
    "schedule_skipped": gettext_lazy("%(reason)s (%(by)s)"),
    "schedule_leased": gettext_lazy("Held by %(holder)s until %(until)s: %(purpose)s"),
    "schedule_already": gettext_lazy("The host is already %(status)s."),
    "schedule_not_allowed": gettext_lazy("%(member)s may no longer do this: %(reason)s"),
}


# --- Alerts -------------------------------------------------------------------------------------
# What a notification says (dashboard.services.notifications): its subject and its body, worded
# when sent, in each e-mail's or chat channel's language.
ALERTS: dict[str, tuple[Promise, Promise]] = {
    "approval_needed": (
        gettext_lazy("%(name)s asks to buy %(package)s for ¥%(price)s"),
        gettext_lazy(
            "Operation #%(operation)s: %(kind)s of %(package)s with %(image)s. It is above the "
            "team's limit and waits for another admin's approval on its operation page; nothing "
            "is bought until then."
        ),
    ),
    "approval_needed_over_budget": (
        gettext_lazy("%(name)s asks to buy %(package)s for ¥%(price)s"),
        gettext_lazy(
            "Operation #%(operation)s: %(kind)s of %(package)s with %(image)s. %(name)s is over "
            "their monthly budget, so it waits for another admin's approval on its operation "
            "page; nothing is bought until then."
        ),
    ),
    "budget_reached": (
        gettext_lazy("Budget of %(whose)s at %(percent)s%%: ¥%(used)s of ¥%(budget)s"),
        gettext_lazy(
            "This month %(whose)s has used ¥%(used)s of a budget of ¥%(budget)s (spent "
            "¥%(spent)s, rentals bought ¥%(committed)s); at the current burn the month ends near "
            "¥%(projected)s."
        ),
    ),
    "budget_used_up": (
        gettext_lazy("Budget of %(whose)s used up: ¥%(used)s of ¥%(budget)s"),
        gettext_lazy(
            "This month %(whose)s has used ¥%(used)s of a budget of ¥%(budget)s (spent "
            "¥%(spent)s, rentals bought ¥%(committed)s); at the current burn the month ends near "
            "¥%(projected)s."
        ),
    ),
    "budget_used_up_member": (
        gettext_lazy("Budget of %(whose)s used up: ¥%(used)s of ¥%(budget)s"),
        gettext_lazy(
            "This month %(whose)s has used ¥%(used)s of a budget of ¥%(budget)s (spent "
            "¥%(spent)s, rentals bought ¥%(committed)s); at the current burn the month ends near "
            "¥%(projected)s. Over budget, their new hosts wait for another admin's approval."
        ),
    ),
    "runway_low": (
        gettext_lazy("The wallet lasts about %(hours)s h at the current burn"),
        gettext_lazy(
            "At ¥%(hourly)s an hour for the pay-as-you-go hosts on now and the disks held, the "
            "wallet lasts about %(hours)s hours; then these hosts and disks stop: %(names)s. "
            "Top up in the Xuandashi console, then record the new balance (Admin, Wallet "
            "balances)."
        ),
    ),
    "runway_low_at_most": (
        gettext_lazy("The wallet lasts at most %(hours)s h at the current burn"),
        gettext_lazy(
            "At ¥%(hourly)s an hour for the pay-as-you-go hosts on now and the disks held, the "
            "wallet lasts at most %(hours)s hours; then these hosts and disks stop: %(names)s. "
            "Top up in the Xuandashi console, then record the new balance (Admin, Wallet "
            "balances)."
        ),
    ),
    "lease_ending": (
        gettext_lazy("Your lease of %(host)s ends in %(minutes)s min, at %(time)s"),
        gettext_lazy(
            "You hold %(host)s (%(id)s) for: %(purpose)s. At %(time)s it is powered off. To keep "
            "it longer, extend the lease: %(url)s"
        ),
    ),
    "lease_left_on": (
        gettext_lazy("The lease of %(host)s by %(holder)s ended, but the host is still on"),
        gettext_lazy(
            "It could not be powered off: %(detail)s Power it off on its page if nobody needs it."
        ),
    ),
    "policy_proposed": (
        gettext_lazy("%(name)s proposes the approval limit %(proposed)s"),
        gettext_lazy(
            "%(name)s proposes to change the team's approval limit from %(current)s to "
            "%(proposed)s. It takes effect only once another admin confirms it (Admin, Team "
            "policy); until then purchases above the limit in force wait for approval as before."
        ),
    ),
    "money": (
        gettext_lazy("%(kind)s %(target)s refused by Xuandashi for money (code %(code)s)"),
        gettext_lazy("%(message)s\nTrace id: %(trace)s"),
    ),
    "expiring": (
        gettext_lazy("%(host)s expires within %(days)s day(s), at %(time)s"),
        gettext_lazy(
            "The rental of %(host)s (%(id)s) ends at %(time)s. Renew it in the Xuandashi "
            "console, or save what is on it."
        ),
    ),
    "expired": (
        gettext_lazy("%(host)s has expired"),
        gettext_lazy("The rental of %(host)s (%(id)s) is over; the provider may reclaim it."),
    ),
    "stuck": (
        gettext_lazy("%(host)s has been %(status)s for %(minutes)s min"),
        gettext_lazy(
            "%(host)s (%(id)s) has not left %(status)s since %(time)s. Check it in the "
            "Xuandashi console."
        ),
    ),
    "disk_approval_needed": (
        gettext_lazy("%(name)s asks for a %(size)s GB disk at ¥%(price)s an hour"),
        gettext_lazy(
            "Operation #%(operation)s: %(kind)s. Its hourly price is above the team's limit (or "
            "cannot be estimated) and waits for another admin's approval on its operation page; "
            "nothing is created until then."
        ),
    ),
    "disk_arrears": (
        gettext_lazy("Disk %(disk)s was stopped by Xuandashi for arrears"),
        gettext_lazy(
            "The cloud disk %(disk)s (%(id)s, %(size)s GB) is stopped for arrears: the provider "
            "unmounted it. Top up the wallet at the provider; once paid it can be mounted again."
        ),
    ),
    "image_failed": (
        gettext_lazy("Personal image %(image)s could not be made"),
        gettext_lazy(
            "Xuandashi reports the personal image %(image)s (%(id)s) as failed: it cannot start "
            "hosts. Delete it and save a new image from the host, or ask the provider's support."
        ),
    ),
    "test": (
        gettext_lazy("Test message from the Xuandashi dashboard"),
        gettext_lazy(
            "If you can read this, alerts reach the channel %(channel)s. Sent by %(name)s."
        ),
    ),
}
NO_LIMIT = pgettext_lazy("an approval limit", "none")
# The button (or link) under a chat message, to the page it is about.
OPEN_PAGE = gettext_lazy("Open in the dashboard")


def alert_words(key: str, values: dict[str, Any], language: str) -> tuple[str, str]:
    """The subject and body of alert `key` in `language`."""
    subject, body = ALERTS[key]
    with translation.override(language):
        worded = {name: _worded(value) for name, value in values.items()}
        return str(subject) % worded, str(body) % worded


def alert_stored(key: str, **values: Any) -> dict[str, Any]:
    """The fields a notification keeps of what it says: its English words, its key and values."""
    stored_values = _stored_values(values)
    subject, body = alert_words(key, stored_values, "en")
    return {
        "subject": subject,
        "body": body,
        "message_key": key,
        "message_values": stored_values,
    }


def team_time(moment: datetime) -> str:
    """A moment as alerts, audit rows and schedule runs write it: to the minute, in the team's
    time zone (TIME_ZONE), the same for every reader."""
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")
