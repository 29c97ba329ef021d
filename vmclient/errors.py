"""Every way a call to the Xuandashi open API can fail, as one hierarchy rooted in `XdsError`.

A caller catches `XdsError` and never sees a bare `requests`, `json`, `KeyError` or `ValueError`
exception from the client. Each error carries:

- `code`: the upstream envelope's `code` (or None when there was no envelope),
- `upstream_message`: the upstream `msg` as sent (often Chinese), or None,
- `trace_id`: the upstream `traceId` to quote to the provider's support, or None,
- `message` / `message_zh`: what happened and what to do, for users, in English and Chinese,
- `retryable`: whether repeating the same call can help,
- `may_have_acted`: whether the call may have been carried out all the same (its answer lost
  after the provider acted): then "failed" would be wrong, and the caller finds out by looking,
- `detail`: a short technical description for logs and developers (never a credential).

The families:

- `ApiError`: the upstream answered with an error code; one named subclass per documented code
  (`error_for_code(code)` looks them up; an unknown code gives a plain `ApiError`).
- `TransportError`: no usable answer arrived. `ConnectionFailed` means the request was never
  sent; `ReadTimedOut` and `ConnectionDropped` mean it was sent and may have been acted upon.
- `ProtocolError`: something answered, but not with the API's JSON envelope.
- `OutcomeUnknown`: a create may or may not have happened; reconcile by listing hosts.
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
    "HostNotRunning",
    "HostUnavailable",
    "HtmlErrorPage",
    "InsufficientResources",
    "InvalidArgument",
    "MalformedResponse",
    "MissingEnvelopeCode",
    "MissingParameter",
    "NeverStarted",
    "NoPermission",
    "OutcomeUnknown",
    "PowerBalanceTooLow",
    "ProtocolError",
    "ReadTimedOut",
    "RealNameRequired",
    "RequestInProgress",
    "TemplateImageMismatch",
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

_MAX_TEXT = 300  # upstream texts are cut to this many characters in messages


def _clip(text: str | None) -> str | None:
    if text is None:
        return None
    text = " ".join(str(text).split())
    if len(text) > _MAX_TEXT:
        return text[: _MAX_TEXT - 1] + "…"
    return text


class XdsError(Exception):
    """Root of every error the client raises."""

    default_message: ClassVar[str] = (
        "The request to the hosting provider failed. Try again later; if it keeps failing, "
        "contact an administrator with the trace id."
    )
    default_message_zh: ClassVar[str] = (
        "请求服务商失败。请稍后重试；如果持续失败，请带上追踪号联系管理员。"
    )
    default_retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str | None = None,
        *,
        message_zh: str | None = None,
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
        self.message = message or self._default_message()
        self.message_zh = message_zh or self._default_message_zh()
        self.retryable = self._default_retryable() if retryable is None else bool(retryable)
        # The client sets it too when an earlier attempt of the same call may have been carried
        # out (the error raised is the last attempt's).
        self.may_have_acted = self._default_may_have_acted()
        super().__init__(self.message)

    # Subclasses override these three to word their messages from their own attributes.
    def _default_message(self) -> str:
        return self.default_message

    def _default_message_zh(self) -> str:
        return self.default_message_zh

    def _default_retryable(self) -> bool:
        return self.default_retryable

    def _default_may_have_acted(self) -> bool:
        return True  # nothing says otherwise: a call that changes something may have happened

    def user_message(self, language: str | None = "en") -> str:
        """The message for users in `language` ("en" or "zh", also "zh-hans", "zh_CN"...)."""
        if language and language.lower().replace("_", "-").startswith("zh"):
            return self.message_zh
        return self.message

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
        return f"{self.message} ({', '.join(self._details())})"

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
    Exception.__init__(err, state.get("message", ""))
    err.__dict__.update(state)
    return err


# --- Local validation ------------------------------------------------------------------------


class InvalidArgument(XdsError):
    """A call's arguments were refused before anything was sent upstream."""

    default_message = "The request is not valid, so it was not sent to the hosting provider."
    default_message_zh = "请求参数无效，未发送给服务商。"

    def __init__(self, message: str | None = None, *, argument: str | None = None, **kw) -> None:
        self.argument = argument
        super().__init__(message, **kw)

    def _default_may_have_acted(self) -> bool:
        return False


# --- Transport: no usable answer ----------------------------------------------------------------


class TransportError(XdsError):
    """No answer arrived from the upstream."""

    default_message = (
        "The hosting provider could not be reached. Try again in a moment; if it keeps "
        "failing, an administrator should check the network and XDS_BASE_URL."
    )
    default_message_zh = (
        "无法连接服务商。请稍后重试；如果持续失败，请管理员检查网络和 XDS_BASE_URL 配置。"
    )
    default_retryable = True
    #: Whether the request may have reached the upstream (and been acted upon).
    may_have_been_sent: ClassVar[bool] = True

    def _default_may_have_acted(self) -> bool:
        return self.may_have_been_sent


class ConnectionFailed(TransportError):
    """The connection could not be made (refused, DNS, connect timeout): nothing was sent."""

    default_message = (
        "The hosting provider could not be reached, so nothing was sent. Try again in a "
        "moment; if it keeps failing, an administrator should check the network and "
        "XDS_BASE_URL."
    )
    default_message_zh = (
        "无法连接服务商，请求未发出。请稍后重试；如果持续失败，请管理员检查网络和 "
        "XDS_BASE_URL 配置。"
    )
    may_have_been_sent = False


class ReadTimedOut(TransportError):
    """The request was sent but no answer came in time: it may have been acted upon."""

    default_message = (
        "The hosting provider did not answer in time. The request may still have been "
        "carried out: refresh to check before trying again."
    )
    default_message_zh = "服务商未及时响应，请求可能已被执行。请先刷新查看结果，再决定是否重试。"


class ConnectionDropped(TransportError):
    """The connection closed after the request was sent, before an answer."""

    default_message = (
        "The connection to the hosting provider broke before it answered. The request may "
        "still have been carried out: refresh to check before trying again."
    )
    default_message_zh = (
        "与服务商的连接在响应前中断，请求可能已被执行。请先刷新查看结果，再决定是否重试。"
    )


# --- Protocol: an answer, but not the API's envelope ----------------------------------------


class ProtocolError(XdsError):
    """Something answered, but not with the API's JSON envelope."""

    default_message = (
        "The hosting provider sent an answer the dashboard cannot read. Try again later; if "
        "it keeps happening, contact an administrator with the trace id."
    )
    default_message_zh = (
        "服务商返回了无法识别的响应。请稍后重试；如果持续出现，请带上追踪号联系管理员。"
    )

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

    def _default_message(self) -> str:
        status = f" (HTTP {self.http_status})" if self.http_status is not None else ""
        return (
            f"The hosting provider's gateway answered with an error page{status}. The service "
            "may be down or restarting: try again in a few minutes."
        )

    def _default_message_zh(self) -> str:
        status = f"（HTTP {self.http_status}）" if self.http_status is not None else ""
        return f"服务商网关返回了错误页面{status}，服务可能正在维护或重启。请几分钟后重试。"


class MalformedResponse(ProtocolError):
    """The body was truncated or was not JSON at all."""

    default_message = (
        "The hosting provider's answer was cut off or unreadable. Try again in a moment; if "
        "it keeps happening, contact an administrator."
    )
    default_message_zh = "服务商的响应不完整或无法解析。请稍后重试；如果持续出现，请联系管理员。"

    def _default_retryable(self) -> bool:
        return True  # usually a connection cut mid-answer


class MissingEnvelopeCode(ProtocolError):
    """JSON arrived, but without the envelope's `code`: success or failure is unknown."""

    default_message = (
        "The hosting provider's answer did not say whether the request succeeded. Refresh to "
        "check the result; if it keeps happening, contact an administrator."
    )
    default_message_zh = (
        "服务商的响应未说明请求是否成功。请刷新查看结果；如果持续出现，请联系管理员。"
    )


class UnexpectedData(ProtocolError):
    """The envelope said success, but its `data` had a shape the client cannot use."""

    default_message = (
        "The hosting provider sent data in an unexpected format. Try again later; if it keeps "
        "happening, contact an administrator with the trace id."
    )
    default_message_zh = (
        "服务商返回的数据格式异常。请稍后重试；如果持续出现，请带上追踪号联系管理员。"
    )

    def _default_retryable(self) -> bool:
        return False


# --- The upstream answered with an error code ----------------------------------------------------


class ApiError(XdsError):
    """The upstream answered with a non-zero `code`. Unknown codes are raised as this class
    (whether the provider acted before answering a code the reference lacks is not known)."""

    def _default_message(self) -> str:
        said = f': "{self.upstream_message}"' if self.upstream_message else ""
        return (
            f"The hosting provider refused the request{said}. Try again later; if it keeps "
            "failing, contact the provider's support with the trace id."
        )

    def _default_message_zh(self) -> str:
        said = f"：“{self.upstream_message}”" if self.upstream_message else ""
        return f"服务商拒绝了请求{said}。请稍后重试；如果持续失败，请带上追踪号联系服务商客服。"


class ActionNotAccepted(ApiError):
    """The envelope said success (`code` 0) but `data` was false: the action was not taken."""

    default_message = (
        "The hosting provider did not accept the action. Refresh the host's state, then try again."
    )
    default_message_zh = "服务商未接受该操作。请刷新主机状态后重试。"

    def _default_message(self) -> str:
        return self.default_message

    def _default_message_zh(self) -> str:
        return self.default_message_zh

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
    """An error code of the reference, with its own fixed messages."""

    upstream_code: ClassVar[int]
    #: The code refuses nothing for certain: the provider may have acted before it answered.
    uncertain: ClassVar[bool] = False

    def __init__(self, message: str | None = None, **kw) -> None:
        kw.setdefault("code", self.upstream_code)
        super().__init__(message, **kw)

    def _default_message(self) -> str:
        return self.default_message

    def _default_message_zh(self) -> str:
        return self.default_message_zh

    def _default_may_have_acted(self) -> bool:
        return self.uncertain


@_registered
class AuthenticationError(_KnownCode):
    upstream_code = 401
    default_message = (
        "The dashboard could not sign in to the hosting provider. An administrator must check "
        "XDS_UUID and XDS_SECRET (the account id and secret from the provider's support)."
    )
    default_message_zh = (
        "控制台无法登录服务商。请管理员检查 XDS_UUID 和 XDS_SECRET（服务商客服提供的账号 ID 和"
        "密钥）。"
    )


@_registered
class UpstreamSystemError(_KnownCode):
    upstream_code = 500
    default_message = (
        "The hosting provider had an internal error. Try again in a few minutes; if it keeps "
        "failing, contact the provider's support with the trace id."
    )
    default_message_zh = (
        "服务商系统错误。请几分钟后重试；如果持续失败，请带上追踪号联系服务商客服。"
    )
    default_retryable = True
    uncertain = True


@_registered
class UpstreamInterfaceError(_KnownCode):
    upstream_code = 503
    default_message = (
        "The hosting provider's interface failed. Try again in a few minutes; if it keeps "
        "failing, contact the provider's support with the trace id."
    )
    default_message_zh = (
        "服务商接口异常。请几分钟后重试；如果持续失败，请带上追踪号联系服务商客服。"
    )
    default_retryable = True
    uncertain = True


@_registered
class NoPermission(_KnownCode):
    upstream_code = 1001
    default_message = (
        "The provider account is not allowed to do this. An administrator should ask the "
        "provider's support to enable it for the account."
    )
    default_message_zh = "服务商账号无权执行此操作。请管理员联系服务商客服为该账号开通权限。"


@_registered
class BusinessError(_KnownCode):
    """A custom business error: the upstream's own `msg` is the explanation."""

    upstream_code = 1003

    def _default_message(self) -> str:
        said = f': "{self.upstream_message}"' if self.upstream_message else ""
        return (
            f"The hosting provider refused the request{said}. Check the request against that "
            "reason, then try again."
        )

    def _default_message_zh(self) -> str:
        said = f"：“{self.upstream_message}”" if self.upstream_message else ""
        return f"服务商拒绝了请求{said}。请根据上述原因检查后重试。"


@_registered
class RequestInProgress(_KnownCode):
    upstream_code = 1005
    default_message = (
        "The hosting provider is still processing a previous request. Wait a moment, refresh, "
        "then try again if needed."
    )
    default_message_zh = "服务商正在处理之前的请求。请稍等片刻并刷新，如有需要再重试。"
    default_retryable = True
    uncertain = True


@_registered
class MissingParameter(_KnownCode):
    upstream_code = 1007
    default_message = (
        "The hosting provider says a required value was missing from the request. Fill in "
        "every field and try again; if it keeps happening, report it to an administrator."
    )
    default_message_zh = (
        "服务商提示请求缺少必要参数。请填写完整后重试；如果持续出现，请报告管理员。"
    )


@_registered
class RealNameRequired(_KnownCode):
    upstream_code = 1037
    default_message = (
        "The provider account has not completed real-name verification. An administrator must "
        "complete it on the provider's website, then try again."
    )
    default_message_zh = "服务商账号尚未完成实名认证。请管理员在服务商网站完成实名认证后重试。"


@_registered
class AlreadyBooting(_KnownCode):
    upstream_code = 6000
    default_message = (
        "The host is already starting. Wait for it to finish; its status will update by itself."
    )
    default_message_zh = "主机正在开机中。请等待开机完成，状态会自动更新。"


@_registered
class AlreadyShuttingDown(_KnownCode):
    upstream_code = 6001
    default_message = (
        "The host is already shutting down. Wait for it to finish; its status will update by "
        "itself."
    )
    default_message_zh = "主机正在关机中。请等待关机完成，状态会自动更新。"


@_registered
class InsufficientResources(_KnownCode):
    upstream_code = 6002
    default_message = (
        "The provider has no free resources for this configuration right now. Choose another "
        "template (or data centre), or try again later."
    )
    default_message_zh = "服务商当前资源不足。请选择其他配置（或数据中心），或稍后重试。"


@_registered
class PowerBalanceTooLow(_KnownCode):
    upstream_code = 6003
    default_message = (
        "The account's wallet balance is too low to start this host. Top up the wallet at the "
        "provider, then try again."
    )
    default_message_zh = "账户钱包余额不足，无法开机。请先在服务商处充值，然后重试。"


@_registered
class CreationWaiting(_KnownCode):
    upstream_code = 6005
    default_message = (
        "The provider is busy creating hosts and asks to wait. No host was created: try again "
        "in a few minutes."
    )
    default_message_zh = "服务商正在排队创建主机，请稍候。本次未创建主机，请几分钟后重试。"
    default_retryable = True


@_registered
class NeverStarted(_KnownCode):
    upstream_code = 7002
    default_message = (
        "This host has never been started, so it cannot be rebooted. Power it on instead."
    )
    default_message_zh = "该主机从未启动过，无法重启。请改为开机。"


@_registered
class HostUnavailable(_KnownCode):
    upstream_code = 7003
    default_message = (
        "The host is unavailable right now, so it cannot be rebooted. Try again in a few minutes."
    )
    default_message_zh = "主机当前不可用，无法重启。请几分钟后重试。"
    default_retryable = True


@_registered
class HostNotRunning(_KnownCode):
    upstream_code = 7004
    default_message = (
        "The host is not running, so it cannot be rebooted. Power it on instead, or wait until "
        "it is running."
    )
    default_message_zh = "主机未运行，无法重启。请改为开机，或等待其运行后再重启。"


@_registered
class TemplateImageMismatch(_KnownCode):
    upstream_code = 7005
    default_message = (
        "The chosen image does not fit the chosen template (their types differ). Choose an "
        "image of the template's type, then try again."
    )
    default_message_zh = "所选镜像与主机模板类型不一致。请选择与模板类型相同的镜像后重试。"


@_registered
class WalletError(_KnownCode):
    upstream_code = 9000
    default_message = (
        "The provider reported a problem with the account's wallet. An administrator should "
        "check the wallet at the provider (or ask its support), then try again."
    )
    default_message_zh = "服务商提示账户钱包异常。请管理员在服务商处检查钱包（或联系客服）后重试。"


@_registered
class WalletBalanceTooLow(_KnownCode):
    upstream_code = 9001
    default_message = (
        "The account's wallet balance is too low for this rental. Top up the wallet at the "
        "provider, then try again."
    )
    default_message_zh = "账户钱包余额不足，无法完成本次租用。请先在服务商处充值，然后重试。"


def error_for_code(code: int) -> type[ApiError]:
    """The named error class for an upstream `code`; `ApiError` for a code the reference lacks."""
    return _REGISTRY.get(code, ApiError)


def registered_codes() -> Mapping[int, type[ApiError]]:
    """Every upstream code with a named error, for documentation and tests."""
    return dict(_REGISTRY)


# --- A create whose outcome is unknown -----------------------------------------------------------


class OutcomeUnknown(XdsError):
    """A create may have reached the upstream, and whether it bought a host is unknown.

    Never retried: repeating a create can buy a second host. The caller reconciles by listing
    hosts. `cause` is the error that made the outcome unknown; `operation` and `params` say
    what was asked (never any credential).
    """

    default_message = (
        "The provider's answer to the create request was lost, so it is unknown whether the "
        "host was created. Do not try again yet: refresh the host list first, and create it "
        "again only if it is not there."
    )
    default_message_zh = (
        "创建请求的响应丢失，无法确定主机是否已创建。请勿立即重试：先刷新主机列表，确认主机不存在后"
        "再重新创建。"
    )

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
