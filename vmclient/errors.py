"""Every way a call to the Xuandashi open API can fail, as one hierarchy rooted in `XdsError`.

A caller catches `XdsError` and never sees a bare `requests`, `json`, `KeyError` or `ValueError`
exception from the client. Each error carries:

- `code`: the upstream envelope's `code` (or None when there was no envelope),
- `upstream_message`: the upstream `msg` as sent (often Chinese), or None,
- `trace_id`: the upstream `traceId` to quote to the provider's support, or None,
- `retryable`: whether repeating the same call can help,
- `may_have_acted`: whether the call may have been carried out all the same (its answer lost
  after the provider acted): then "failed" would be wrong, and the caller finds out by looking,
- `detail`: a short technical description for logs and developers (never a credential).

The errors hold facts, never a sentence for members: the dashboard words each one in the member's
language (`dashboard/wording.py`), through its translation catalogs.

The families:

- `ApiError`: the upstream answered with an error code; one named subclass per documented code
  (`error_for_code(code)` looks them up; an unknown code gives a plain `ApiError`).
- `TransportError`: no usable answer arrived. `ConnectionFailed` means the request was never
  sent; `ReadTimedOut` and `ConnectionDropped` mean it was sent and may have been acted upon.
- `ProtocolError`: something answered, but not with the API's JSON envelope.
- `OutcomeUnknown`: a create may or may not have happened; reconcile by listing what it makes
  (hosts, disks, personal images).
- `InvalidArgument`: the call was refused locally, nothing was sent.

This module imports nothing from Django.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

__all__ = [
    "ActionNotAccepted",
    "AlreadyBooting",
    "AlreadyShuttingDown",
    "ApiError",
    "AuthenticationError",
    "BusinessError",
    "ConnectionDropped",
    "ConnectionFailed",
    "CreationWaiting",
    "DiskAlreadyMounted",
    "DiskAlreadyUnmounted",
    "DiskAreaMismatch",
    "DiskAreaQuotaExceeded",
    "DiskNotFound",
    "DiskNotUnmounted",
    "DiskTooSmall",
    "DiskUnmountFailed",
    "HostDiskLimitReached",
    "HostDoesNotExist",
    "HostIdMissing",
    "HostInstanceMissing",
    "HostNeverStartedSinceCreated",
    "HostNotPayAsYouGo",
    "HostNotPoweredOff",
    "HostNotRunning",
    "HostUnavailable",
    "HostsOnDifferentNodes",
    "HtmlErrorPage",
    "IllegalRequest",
    "InsufficientResources",
    "InvalidArgument",
    "InvalidMountFlag",
    "MalformedResponse",
    "MissingEnvelopeCode",
    "MissingParameter",
    "NeverStarted",
    "NoPermission",
    "OutcomeUnknown",
    "PersonalImageNameTaken",
    "PowerBalanceTooLow",
    "ProtocolError",
    "ReadTimedOut",
    "RealNameRequired",
    "RequestInProgress",
    "RequestTimedOutOrTooFrequent",
    "TemplateImageMismatch",
    "TooManyPersonalImages",
    "TransportError",
    "UnexpectedData",
    "UpstreamInterfaceError",
    "UpstreamSystemError",
    "WalletBalanceTooLow",
    "WalletError",
    "XdsError",
    "error_for_code",
    "registered_codes",
]

_MAX_TEXT = 300  # upstream texts are cut to this many characters


def _clip(text: str | None) -> str | None:
    if text is None:
        return None
    text = " ".join(str(text).split())
    if len(text) > _MAX_TEXT:
        return text[: _MAX_TEXT - 1] + "…"
    return text


class XdsError(Exception):
    """Root of every error the client raises."""

    default_retryable: ClassVar[bool] = False

    def __init__(
        self,
        *,
        code: int | None = None,
        upstream_message: str | None = None,
        trace_id: str | None = None,
        http_status: int | None = None,
        retryable: bool | None = None,
        detail: str | None = None,
    ) -> None:
        self.code = code
        self.detail = _clip(detail)
        self.upstream_message = _clip(upstream_message)
        self.trace_id = _clip(trace_id)
        self.http_status = http_status
        self.retryable = self._default_retryable() if retryable is None else bool(retryable)
        # The client sets it too when an earlier attempt of the same call may have been carried
        # out (the error raised is the last attempt's).
        self.may_have_acted = self._default_may_have_acted()
        super().__init__(str(self))

    # Subclasses override these two to judge from their own attributes.
    def _default_retryable(self) -> bool:
        return self.default_retryable

    def _default_may_have_acted(self) -> bool:
        return True  # nothing says otherwise: a call that changes something may have happened

    def _details(self) -> list[str]:
        details = []
        if self.code is not None:
            details.append(f"code {self.code}")
        if self.http_status is not None:
            details.append(f"HTTP {self.http_status}")
        if self.upstream_message:
            details.append(f"upstream message {self.upstream_message!r}")
        if self.detail:
            details.append(self.detail)
        details.append(f"trace id {self.trace_id or 'none'}")
        return details

    def __str__(self) -> str:
        # Facts for logs and developers; the words for members are the dashboard's.
        return f"{type(self).__name__} ({', '.join(self._details())})"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, trace_id={self.trace_id!r}, "
            f"upstream_message={self.upstream_message!r}, http_status={self.http_status!r}, "
            f"retryable={self.retryable!r})"
        )

    def __reduce__(self):
        # Keyword-only constructors do not pickle by default; Celery results and the test runner's
        # worker processes may need to.
        return (_rebuild, (type(self), self.__dict__.copy()))


def _rebuild(cls: type[XdsError], state: dict[str, Any]) -> XdsError:
    err = cls.__new__(cls)
    err.__dict__.update(state)
    Exception.__init__(err, str(err))
    return err


# --- Local validation ------------------------------------------------------------------------


class InvalidArgument(XdsError):
    """A call's arguments were refused before anything was sent upstream."""

    #: Why an argument was refused (the dashboard words each one).
    REASONS: ClassVar[tuple[str, ...]] = (
        "invalid_id",  # an id missing or not a plain token
        "billing_type",  # neither pay-as-you-go nor rental
        "hourly_rental",  # the provider no longer rents by the hour
        "period_type",  # not a day, week, month, quarter or year
        "not_positive",  # not a whole number >= 1 (up to `maximum`)
        "base_url",  # the provider's address is not an http(s) URL
        "credentials",  # the account id or secret is empty
        "area",  # not a data centre (0, 1 or 2)
        "image_name",  # a personal image's name is empty or too long
    )

    def __init__(
        self,
        *,
        argument: str | None = None,
        reason: str | None = None,
        maximum: int | None = None,
        **kw,
    ) -> None:
        self.argument = argument
        #: What is wrong with it, as one of `REASONS` (None: not said).
        self.reason = reason
        #: The largest value allowed, for a number out of range.
        self.maximum = maximum
        super().__init__(**kw)

    def _default_may_have_acted(self) -> bool:
        return False


# --- Transport: no usable answer ----------------------------------------------------------------


class TransportError(XdsError):
    """No answer arrived from the upstream."""

    default_retryable = True
    #: Whether the request may have reached the upstream (and been acted upon).
    may_have_been_sent: ClassVar[bool] = True

    def _default_may_have_acted(self) -> bool:
        return self.may_have_been_sent


class ConnectionFailed(TransportError):
    """The connection could not be made (refused, DNS, connect timeout): nothing was sent."""

    may_have_been_sent = False


class ReadTimedOut(TransportError):
    """The request was sent but no answer came in time: it may have been acted upon."""


class ConnectionDropped(TransportError):
    """The connection closed after the request was sent, before an answer."""


# --- Protocol: an answer, but not the API's envelope ----------------------------------------


class ProtocolError(XdsError):
    """Something answered, but not with the API's JSON envelope."""

    def _default_retryable(self) -> bool:
        # A gateway error or an overloaded upstream passes; a 4xx page will not.
        return self.http_status is not None and (self.http_status >= 500 or self.http_status == 429)

    def _default_may_have_acted(self) -> bool:
        # A 4xx page (but a 408 timeout) refuses the request; anything else may have come after
        # the provider acted: a gateway's 5xx page, a body cut off or unreadable.
        status = self.http_status
        return not (status is not None and 400 <= status < 500 and status != 408)


class HtmlErrorPage(ProtocolError):
    """An HTTP error page (typically HTML from a proxy, e.g. nginx's 502) instead of JSON."""


class MalformedResponse(ProtocolError):
    """The body was truncated or was not JSON at all."""

    def _default_retryable(self) -> bool:
        return True  # usually a connection cut mid-answer


class MissingEnvelopeCode(ProtocolError):
    """JSON arrived, but without the envelope's `code`: success or failure is unknown."""


class UnexpectedData(ProtocolError):
    """The envelope said success, but its `data` had a shape the client cannot use."""

    def _default_retryable(self) -> bool:
        return False


# --- The upstream answered with an error code ----------------------------------------------------


class ApiError(XdsError):
    """The upstream answered with a non-zero `code`. Unknown codes are raised as this class
    (whether the provider acted before answering a code the reference lacks is not known)."""


class ActionNotAccepted(ApiError):
    """The envelope said success (`code` 0) but `data` was false: the action was not taken."""

    def _default_may_have_acted(self) -> bool:
        return False  # code 0 with `data` false: the provider said it did not


_REGISTRY: dict[int, type[ApiError]] = {}


def _registered(cls: type[ApiError]) -> type[ApiError]:
    code = cls.upstream_code
    if code in _REGISTRY:
        raise RuntimeError(f"code {code} registered twice")
    _REGISTRY[code] = cls
    return cls


class _KnownCode(ApiError):
    """An error code of the reference."""

    upstream_code: ClassVar[int]
    #: The code refuses nothing for certain: the provider may have acted before it answered.
    uncertain: ClassVar[bool] = False

    def __init__(self, **kw) -> None:
        kw.setdefault("code", self.upstream_code)
        super().__init__(**kw)

    def _default_may_have_acted(self) -> bool:
        return self.uncertain


@_registered
class AuthenticationError(_KnownCode):
    upstream_code = 401


@_registered
class UpstreamSystemError(_KnownCode):
    upstream_code = 500
    default_retryable = True
    uncertain = True


@_registered
class UpstreamInterfaceError(_KnownCode):
    upstream_code = 503
    default_retryable = True
    uncertain = True


@_registered
class NoPermission(_KnownCode):
    upstream_code = 1001


@_registered
class BusinessError(_KnownCode):
    """A custom business error: the upstream's own `msg` is the explanation."""

    upstream_code = 1003


@_registered
class RequestInProgress(_KnownCode):
    upstream_code = 1005
    default_retryable = True
    uncertain = True


@_registered
class MissingParameter(_KnownCode):
    upstream_code = 1007


@_registered
class RealNameRequired(_KnownCode):
    upstream_code = 1037


@_registered
class AlreadyBooting(_KnownCode):
    upstream_code = 6000


@_registered
class AlreadyShuttingDown(_KnownCode):
    upstream_code = 6001


@_registered
class InsufficientResources(_KnownCode):
    upstream_code = 6002


@_registered
class PowerBalanceTooLow(_KnownCode):
    upstream_code = 6003


@_registered
class CreationWaiting(_KnownCode):
    upstream_code = 6005
    default_retryable = True


@_registered
class NeverStarted(_KnownCode):
    upstream_code = 7002


@_registered
class HostUnavailable(_KnownCode):
    upstream_code = 7003
    default_retryable = True


@_registered
class HostNotRunning(_KnownCode):
    upstream_code = 7004


@_registered
class TemplateImageMismatch(_KnownCode):
    upstream_code = 7005


@_registered
class WalletError(_KnownCode):
    upstream_code = 9000


@_registered
class WalletBalanceTooLow(_KnownCode):
    upstream_code = 9001


# Cloud disks (the docs' "Cloud disks" section, 2024-01).


@_registered
class HostDoesNotExist(_KnownCode):
    upstream_code = 1021


@_registered
class DiskNotFound(_KnownCode):
    upstream_code = 220001


@_registered
class DiskAlreadyMounted(_KnownCode):
    upstream_code = 220002


@_registered
class DiskAlreadyUnmounted(_KnownCode):
    upstream_code = 220006


@_registered
class DiskUnmountFailed(_KnownCode):
    upstream_code = 220007


@_registered
class HostNotPoweredOff(_KnownCode):
    """A disk is mounted, moved or unmounted only while its host(s) are off."""

    upstream_code = 220009


@_registered
class HostDiskLimitReached(_KnownCode):
    """The host already has `MAX_DISKS_PER_HOST` disks."""

    upstream_code = 220010


@_registered
class HostNeverStartedSinceCreated(_KnownCode):
    """A disk mounts only on a host started at least once since it was created."""

    upstream_code = 220012


@_registered
class DiskTooSmall(_KnownCode):
    """Below `MIN_DISK_GB`."""

    upstream_code = 220013


@_registered
class DiskAreaQuotaExceeded(_KnownCode):
    """The account's disks in the area would exceed its quota."""

    upstream_code = 220014


@_registered
class HostIdMissing(_KnownCode):
    upstream_code = 220015


@_registered
class HostInstanceMissing(_KnownCode):
    upstream_code = 220016


@_registered
class HostNotPayAsYouGo(_KnownCode):
    """Disks mount only on pay-as-you-go hosts, not on rentals."""

    upstream_code = 220017


@_registered
class DiskAreaMismatch(_KnownCode):
    """The disk and the host are in different data centres."""

    upstream_code = 220018


@_registered
class InvalidMountFlag(_KnownCode):
    upstream_code = 220020


@_registered
class DiskNotUnmounted(_KnownCode):
    """Only a disk waiting to be mounted can be destroyed: a mounted one is unmounted first."""

    upstream_code = 220022


@_registered
class HostsOnDifferentNodes(_KnownCode):
    """A disk cannot move between hosts on different nodes."""

    upstream_code = 220024


@_registered
class RequestTimedOutOrTooFrequent(_KnownCode):
    """220025: the provider timed out or found the calls too frequent; retry later. Which of the
    two is not said, so the provider may have acted ("timed out")."""

    upstream_code = 220025
    default_retryable = True
    uncertain = True


# Personal images (the docs' "Personal images" section, 2024-02).


@_registered
class IllegalRequest(_KnownCode):
    """200001, e.g. an unknown image or host id."""

    upstream_code = 200001


@_registered
class TooManyPersonalImages(_KnownCode):
    upstream_code = 200002


@_registered
class PersonalImageNameTaken(_KnownCode):
    upstream_code = 200003


def error_for_code(code: int) -> type[ApiError]:
    """The named error class for an upstream `code`; `ApiError` for a code the reference lacks."""
    return _REGISTRY.get(code, ApiError)


def registered_codes() -> Mapping[int, type[ApiError]]:
    """Every upstream code with a named error, for documentation and tests."""
    return dict(_REGISTRY)


# --- A create whose outcome is unknown -----------------------------------------------------------


class OutcomeUnknown(XdsError):
    """A create may have reached the upstream, and whether it bought a host (or a disk, or made
    a personal image) is unknown.

    Never retried: repeating a create can buy a second one. The caller reconciles by listing
    hosts (disks, personal images). `cause` is the error that made the outcome unknown;
    `operation` and `params` say what was asked (never any credential).
    """

    def __init__(
        self,
        *,
        cause: XdsError,
        operation: str,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        self.cause = cause
        self.operation = operation
        self.params = dict(params or {})
        super().__init__(
            code=cause.code,
            upstream_message=cause.upstream_message,
            trace_id=cause.trace_id,
            http_status=cause.http_status,
            retryable=False,
            detail=cause.detail,
        )

    def _details(self) -> list[str]:
        details = [f"{self.operation} {self.params!r}", f"cause {type(self.cause).__name__}"]
        return details + super()._details()

    def __repr__(self) -> str:
        return (
            f"OutcomeUnknown(operation={self.operation!r}, params={self.params!r}, "
            f"cause={self.cause!r})"
        )
