"""The error hierarchy: a named class per upstream code, holding the facts of each failure."""

from __future__ import annotations

import pickle
import re

import pytest

from vmclient import errors
from vmclient.errors import (
    ApiError,
    ConnectionFailed,
    HtmlErrorPage,
    OutcomeUnknown,
    ReadTimedOut,
    WalletBalanceTooLow,
    XdsError,
    error_for_code,
    registered_codes,
)

# Every code of the reference, with the class it must map to.
REFERENCE_CODES = {
    401: errors.AuthenticationError,
    500: errors.UpstreamSystemError,
    503: errors.UpstreamInterfaceError,
    1001: errors.NoPermission,
    1003: errors.BusinessError,
    1005: errors.RequestInProgress,
    1007: errors.MissingParameter,
    1037: errors.RealNameRequired,
    6000: errors.AlreadyBooting,
    6001: errors.AlreadyShuttingDown,
    6002: errors.InsufficientResources,
    6003: errors.PowerBalanceTooLow,
    6005: errors.CreationWaiting,
    7002: errors.NeverStarted,
    7003: errors.HostUnavailable,
    7004: errors.HostNotRunning,
    7005: errors.TemplateImageMismatch,
    9000: errors.WalletError,
    9001: errors.WalletBalanceTooLow,
    # Cloud disks
    1021: errors.HostDoesNotExist,
    220001: errors.DiskNotFound,
    220002: errors.DiskAlreadyMounted,
    220006: errors.DiskAlreadyUnmounted,
    220007: errors.DiskUnmountFailed,
    220009: errors.HostNotPoweredOff,
    220010: errors.HostDiskLimitReached,
    220012: errors.HostNeverStartedSinceCreated,
    220013: errors.DiskTooSmall,
    220014: errors.DiskAreaQuotaExceeded,
    220015: errors.HostIdMissing,
    220016: errors.HostInstanceMissing,
    220017: errors.HostNotPayAsYouGo,
    220018: errors.DiskAreaMismatch,
    220020: errors.InvalidMountFlag,
    220022: errors.DiskNotUnmounted,
    220024: errors.HostsOnDifferentNodes,
    220025: errors.RequestTimedOutOrTooFrequent,
    # Personal images
    200001: errors.IllegalRequest,
    200002: errors.TooManyPersonalImages,
    200003: errors.PersonalImageNameTaken,
}
RETRYABLE_CODES = {500, 503, 1005, 6005, 7003, 220025}
HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize(("code", "cls"), sorted(REFERENCE_CODES.items()))
def test_every_reference_code_has_its_named_error(code, cls):
    assert error_for_code(code) is cls
    assert issubclass(cls, ApiError) and issubclass(cls, XdsError)
    err = cls(code=code, upstream_message="上游消息", trace_id="trace-1")
    assert err.code == code and err.trace_id == "trace-1" and err.upstream_message == "上游消息"
    assert err.retryable is (code in RETRYABLE_CODES)


def test_registry_holds_exactly_the_reference_codes():
    assert dict(registered_codes()) == REFERENCE_CODES


def test_errors_hold_facts_and_no_sentence_for_members():
    # The words are the dashboard's (dashboard/wording.py, through its catalogs).
    for cls in [*REFERENCE_CODES.values(), ApiError, HtmlErrorPage, ConnectionFailed]:
        err = cls(upstream_message="x")
        assert not hasattr(err, "message") and not hasattr(err, "message_zh")
        assert not hasattr(err, "user_message")
        assert not HAN.search(str(err).replace("'x'", ""))


def test_unknown_code_is_a_generic_api_error_keeping_code_msg_and_trace():
    cls = error_for_code(4242)
    assert cls is ApiError
    err = cls(code=4242, upstream_message="奇怪的错误", trace_id="t-9")
    assert (err.code, err.upstream_message, err.trace_id) == (4242, "奇怪的错误", "t-9")
    assert "4242" in str(err) and "t-9" in str(err)


def test_str_includes_code_and_trace_id():
    text = str(WalletBalanceTooLow(upstream_message="钱包余额不足", trace_id="abc123"))
    assert "WalletBalanceTooLow" in text and "code 9001" in text and "trace id abc123" in text


def test_transport_errors_are_distinct_and_retryable():
    assert ConnectionFailed().retryable and not ConnectionFailed.may_have_been_sent
    assert ReadTimedOut().retryable and ReadTimedOut.may_have_been_sent
    assert not issubclass(ReadTimedOut, ConnectionFailed)


def test_html_error_page_keeps_the_status_and_is_retryable_only_for_5xx():
    page = HtmlErrorPage(http_status=502)
    assert page.http_status == 502 and page.retryable and "HTTP 502" in str(page)
    assert not HtmlErrorPage(http_status=404).retryable


def test_outcome_unknown_carries_cause_and_parameters_and_is_never_retryable():
    cause = ReadTimedOut(trace_id=None)
    err = OutcomeUnknown(
        cause=cause, operation="create_rental", params={"packageId": "p", "periodNumber": 1}
    )
    assert err.cause is cause and err.params["packageId"] == "p"
    assert err.retryable is False
    assert "create_rental" in str(err) and "ReadTimedOut" in str(err)


def test_errors_survive_pickling():
    err = WalletBalanceTooLow(upstream_message="钱包余额不足", trace_id="t")
    again = pickle.loads(pickle.dumps(err))  # noqa: S301 - our own bytes
    assert type(again) is WalletBalanceTooLow
    assert (again.code, again.trace_id, str(again)) == (9001, "t", str(err))
    unknown = pickle.loads(  # noqa: S301 - our own bytes
        pickle.dumps(OutcomeUnknown(cause=HtmlErrorPage(http_status=502), operation="c"))
    )
    assert isinstance(unknown.cause, HtmlErrorPage) and unknown.cause.http_status == 502
