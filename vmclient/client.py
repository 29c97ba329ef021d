"""The HTTP client for the Xuandashi open API.

One `XuandashiClient` per process is enough: it is thread-safe (a `requests.Session` per thread,
one lock around the token), so the dashboard's sync may fetch host pages from several threads.

Retry rules, because a create costs money and the upstream has no idempotency keys:

- Reads (`list_*`, `iter_*`, `get_*`, `disk_usage`, the token) and actions (power, reboot, a
  disk's attach, detach and destroy, a personal image's rename and delete) retry transport
  failures and retryable errors (500/503 envelopes, 5xx pages, 1005, 220025 "timed out or too
  frequent", a broken body) `retries` times, with capped exponential backoff and jitter. An
  action repeated after an attempt that may have been carried out, and answered "already done"
  (6000/6001 for power, 220002 attach, 220006 detach, 200003 rename, 200001 delete), is done.
- Host deletes retry only `ConnectionFailed` (the request was never sent).
- Creates (hosts, disks, personal images) are never repeated. When the request may have reached
  the upstream (a read timeout, a dropped connection, any 5xx, a 500/503/1005/220025 or unknown
  code, a broken or unreadable body), they raise `OutcomeUnknown`: the caller reconciles by
  listing (hosts, disks, images), never by buying again.
- Every call, creates included, fetches a new token and repeats once on a 401: the upstream
  refused the call before doing anything. A second 401 raises `AuthenticationError`.
- The personal image calls have two spellings of their paths (the docs' table and their
  examples): the one that last worked is tried first, the other when it answers HTTP 404.

Nothing but `XdsError` subclasses leaves this module. It imports nothing from Django.
"""

from __future__ import annotations

import json
import logging
import random
import re
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import requests
import urllib3.exceptions

from .errors import (
    ActionNotAccepted,
    AlreadyBooting,
    AlreadyShuttingDown,
    ApiError,
    AuthenticationError,
    ConnectionDropped,
    ConnectionFailed,
    DiskAlreadyMounted,
    DiskAlreadyUnmounted,
    HtmlErrorPage,
    IllegalRequest,
    InvalidArgument,
    MalformedResponse,
    MissingEnvelopeCode,
    OutcomeUnknown,
    PersonalImageNameTaken,
    ProtocolError,
    ReadTimedOut,
    RequestInProgress,
    RequestTimedOutOrTooFrequent,
    TransportError,
    UnexpectedData,
    UpstreamInterfaceError,
    UpstreamSystemError,
    XdsError,
    error_for_code,
)
from .parsing import (
    Envelope,
    parse_created_host_id,
    parse_created_id,
    parse_disk,
    parse_disk_page,
    parse_disk_usage,
    parse_envelope,
    parse_flag,
    parse_host,
    parse_host_page,
    parse_images,
    parse_packages,
    parse_personal_image_page,
    parse_token,
)
from .types import (
    MAX_DISK_PAGE_SIZE,
    MAX_PAGE_SIZE,
    MAX_PERSONAL_IMAGE_PAGE_SIZE,
    Area,
    BillingType,
    Disk,
    DiskChange,
    DiskPage,
    Host,
    HostPage,
    Image,
    Listing,
    Package,
    PeriodType,
    PersonalImage,
    PersonalImagePage,
)

__all__ = ["TOKEN_HEADER", "CallRecord", "XuandashiClient", "endpoint_of"]

logger = logging.getLogger("vmclient")

TOKEN_HEADER = "Finovy-Access-Token"  # noqa: S105 (a header name, not a secret)
USER_AGENT = "xds-dashboard-vmclient/1"

TOKEN_MARGIN_SECONDS = 60.0  # a token is dropped this long before it expires ...
TOKEN_MARGIN_FRACTION = 0.1  # ... or this share of its lifetime, whichever is smaller
DEFAULT_TOKEN_LIFETIME = 300.0  # when the upstream does not say
MAX_TOKEN_LIFETIME = 24 * 3600.0
MAX_PAGES = 10_000  # 250,000 hosts: beyond this the upstream's totalCounts is not believable

_DISKS = "/v1/PveMachineHardDisk/open/"
# The personal image calls: the docs' table (first) and their examples (older paths, `id` in the
# path of update). The id also travels in the body (and the query of a delete) on both.
_IMAGE_SPELLINGS: dict[str, dict[str, tuple[str, str]]] = {
    "documented": {
        "list": ("GET", "/v1/open/image/personal/getList"),
        "add": ("POST", "/v1/open/image/personal/add"),
        "update": ("PUT", "/v1/open/image/personal/update"),
        "delete": ("DELETE", "/v1/open/image/personal/delete"),
    },
    "examples": {
        "list": ("GET", "/v1/PveMachine/image/getList"),
        "add": ("POST", "/v1/PveMachine/image/add"),
        "update": ("PUT", "/v1/PveMachine/image/update/{id}"),
        "delete": ("DELETE", "/v1/PveMachine/image/delete"),
    },
}
MAX_IMAGE_NAME = 100  # the docs give no limit; a longer name is surely a mistake

_ID_PATTERN = re.compile(r"^[^\s\x00-\x1f\x7f]{1,200}$")
_TITLE = re.compile(rb"<title[^>]*>(.{0,200}?)</title>", re.IGNORECASE | re.DOTALL)


# --- What each HTTP exchange did, for an observer (the dashboard's metrics) ----------------------

# The paths that end in a host's id: the id is not part of the endpoint's name.
_HOST_PATH = re.compile(r"^(/v1/pve/open/(?:one|operate|reboot|delete))/[^/]+$")


def endpoint_of(path: str) -> str:
    """The endpoint a path calls, without the host id it names ("/v1/pve/open/one/{id}")."""
    return _HOST_PATH.sub(r"\1/{id}", path)


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One HTTP exchange with the upstream, as `on_exchange` observers see it.

    `outcome` is "ok" or the name of the error class raised; `code` the envelope's code (or the
    error's), None when no answer was read."""

    method: str
    endpoint: str
    attempt: int
    http_status: int | None
    code: int | None
    outcome: str
    duration_seconds: float


# --- Retry policies -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Policy:
    name: str
    create: bool = False  # never repeated; an uncertain failure becomes OutcomeUnknown

    def may_retry(self, err: XdsError) -> bool:
        if self.create:
            return False
        if self.name == "delete":
            return isinstance(err, ConnectionFailed)
        # Only what passes within seconds; e.g. 7003 "unavailable, try later" is retryable by
        # a person in a few minutes, not worth holding a click for.
        return err.retryable and isinstance(err, _TRANSIENT)


_TRANSIENT = (
    TransportError,
    ProtocolError,
    UpstreamSystemError,
    UpstreamInterfaceError,
    RequestInProgress,
    RequestTimedOutOrTooFrequent,  # 220025 of the disk calls: retry later
)
_READ = _Policy("read")
_ACTION = _Policy("action")
_DELETE = _Policy("delete")
_CREATE = _Policy("create", create=True)


def _definitely_refused(err: XdsError) -> bool:
    """Whether a failed create certainly bought nothing (so OutcomeUnknown is not needed): the
    error says the provider cannot have acted (each error class knows, see `may_have_acted`)."""
    return not err.may_have_acted


# --- Argument checks ----------------------------------------------------------------------------


def _checked_id(value: Any, argument: str) -> str:
    if not isinstance(value, str) or not _ID_PATTERN.match(value) or value in (".", ".."):
        raise InvalidArgument(
            argument=argument,
            reason="invalid_id",
            detail=f"{argument} must be a non-empty string without spaces or control characters",
        )
    return value


def _checked_billing(kind: Any) -> BillingType:
    if isinstance(kind, BillingType):
        return kind
    if isinstance(kind, int) and not isinstance(kind, bool) and kind in (0, 1):
        return BillingType(kind)
    raise InvalidArgument(
        argument="kind",
        reason="billing_type",
        detail="kind must be a BillingType, 0 or 1",
    )


def _checked_area(value: Any) -> Area:
    if isinstance(value, int) and not isinstance(value, bool) and value in set(Area):
        return Area(value)
    raise InvalidArgument(argument="area", reason="area", detail="area must be an Area, 0..2")


def _checked_image_name(value: Any) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > MAX_IMAGE_NAME or any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise InvalidArgument(
            argument="name",
            reason="image_name",
            maximum=MAX_IMAGE_NAME,
            detail=f"an image name is 1 to {MAX_IMAGE_NAME} characters, no control characters",
        )
    return text


def _checked_period_type(value: Any) -> PeriodType:
    period = None
    if isinstance(value, PeriodType):
        period = value
    elif isinstance(value, int) and not isinstance(value, bool):
        try:
            period = PeriodType(value)
        except ValueError:
            period = None
    if period is PeriodType.HOUR:
        raise InvalidArgument(
            argument="period_type",
            reason="hourly_rental",
            detail="periodType 0 (hour) was removed upstream on 2023-10-23",
        )
    if period is None:
        raise InvalidArgument(
            argument="period_type",
            reason="period_type",
            detail="period_type must be a PeriodType (DAY..YEAR)",
        )
    return period


def _checked_positive(value: Any, argument: str, *, maximum: int | None = None) -> int:
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or value < 1
        or (maximum is not None and value > maximum)
    ):
        limit = f" up to {maximum}" if maximum is not None else ""
        raise InvalidArgument(
            argument=argument,
            reason="not_positive",
            maximum=maximum,
            detail=f"{argument} must be an int >= 1{limit}",
        )
    return value


def _checked_base_url(base_url: Any) -> str:
    parts = urlsplit(base_url) if isinstance(base_url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidArgument(
            argument="base_url",
            reason="base_url",
            detail="base_url must be an http(s) URL",
        )
    return base_url.rstrip("/")


def _checked_credential(value: Any, argument: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgument(
            argument=argument,
            reason="credentials",
            detail=f"{argument} must be a non-empty string",
        )
    return value.strip()


def _checked_seconds(value: Any, argument: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise InvalidArgument(argument=argument, detail=f"{argument} must be a positive number")
    return float(value)


# --- Answers ---------------------------------------------------------------------------------


def _exception_chain(exc: BaseException) -> list[BaseException]:
    """`exc` and what it explicitly wraps (args, `reason`, `__cause__`), not mere context."""
    found: list[BaseException] = []
    pending: list[Any] = [exc]
    while pending and len(found) < 20:
        item = pending.pop()
        if not isinstance(item, BaseException) or any(item is seen for seen in found):
            continue
        found.append(item)
        pending.extend(arg for arg in item.args if isinstance(arg, BaseException))
        pending.append(getattr(item, "reason", None))
        pending.append(item.__cause__)
    return found


def _transport_error(exc: Exception) -> XdsError:
    """A `requests` exception -> the client's error, telling 'never sent' from 'maybe sent'."""
    chain = _exception_chain(exc)
    detail = f"{type(exc).__name__}"
    if isinstance(exc, requests.ConnectTimeout) or any(
        isinstance(e, urllib3.exceptions.ConnectTimeoutError) for e in chain
    ):
        # Includes NewConnectionError and NameResolutionError: no connection, nothing sent.
        return ConnectionFailed(detail=f"{detail}: no connection could be made")
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
        return ConnectionFailed(detail=f"{detail}: the URL is not valid")
    if isinstance(exc, requests.ReadTimeout) or any(
        isinstance(e, urllib3.exceptions.ReadTimeoutError | TimeoutError) for e in chain
    ):
        return ReadTimedOut(detail=f"{detail}: no answer within the read timeout")
    if isinstance(
        exc, requests.exceptions.ChunkedEncodingError | requests.exceptions.ContentDecodingError
    ):
        return MalformedResponse(detail=f"{detail}: the answer was cut off")
    if isinstance(exc, requests.ConnectionError):
        return ConnectionDropped(detail=f"{detail}: the connection closed before an answer")
    return TransportError(detail=f"{detail}: the request failed")


_NOT_JSON = object()


def _decode_json(content: bytes) -> Any:
    if not content or not content.strip():
        return _NOT_JSON
    try:
        return json.loads(content)
    except (ValueError, RecursionError):  # JSONDecodeError, UnicodeDecodeError are ValueErrors
        return _NOT_JSON


def _looks_like_html(response: requests.Response, content: bytes) -> bool:
    content_type = response.headers.get("Content-Type", "").lower()
    return "html" in content_type or content.lstrip()[:1] == b"<"


def _page_title(content: bytes) -> str:
    match = _TITLE.search(content[:4096])
    if not match:
        return ""
    title = match.group(1).decode("utf-8", "replace")
    return " ".join(title.split())[:80]


def _read_answer(response: requests.Response) -> Envelope:
    """A received answer -> its envelope when `code` is 0; else the matching error."""
    status = response.status_code
    content = response.content or b""
    payload = _decode_json(content)
    has_code = isinstance(payload, Mapping) and payload.get("code") is not None
    if status == 401 and not has_code:
        raise AuthenticationError(http_status=status, detail="HTTP 401 without an envelope")
    if payload is _NOT_JSON:
        if _looks_like_html(response, content) or not 200 <= status < 300:
            title = _page_title(content)
            raise HtmlErrorPage(
                http_status=status,
                detail=f"an error page instead of JSON{': ' + repr(title) if title else ''}",
            )
        raise MalformedResponse(
            http_status=status, detail=f"the body is not valid JSON ({len(content)} bytes)"
        )
    try:
        envelope = parse_envelope(payload)
    except MissingEnvelopeCode as err:
        raise MissingEnvelopeCode(
            detail=err.detail,
            upstream_message=err.upstream_message,
            trace_id=err.trace_id,
            http_status=status,
        ) from None
    if envelope.code != 0:
        raise error_for_code(envelope.code)(
            code=envelope.code,
            upstream_message=envelope.msg,
            trace_id=envelope.trace_id,
            http_status=status,
        )
    if envelope.success is False:
        logger.warning("vmclient: the upstream answered code 0 with success false; trusting code")
    return envelope


# --- The token --------------------------------------------------------------------------------


class _TokenCache:
    """One access token shared by every thread; one lock, so a missing token is fetched once."""

    def __init__(self, fetch: Callable[[], tuple[str, float | None]], clock: Callable[[], float]):
        self._fetch = fetch
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._refresh_at = 0.0

    def get(self) -> str:
        with self._lock:
            if self._token is not None and self._clock() < self._refresh_at:
                return self._token
            self._token = None
            token, lifetime = self._fetch()
            if lifetime is None:
                lifetime = DEFAULT_TOKEN_LIFETIME
            lifetime = min(lifetime, MAX_TOKEN_LIFETIME)
            margin = min(TOKEN_MARGIN_SECONDS, lifetime * TOKEN_MARGIN_FRACTION)
            self._token = token
            self._refresh_at = self._clock() + lifetime - margin
            return token

    def invalidate(self, token: str | None = None) -> None:
        """Drop the cached token; with `token`, only if that is still the cached one."""
        with self._lock:
            if token is None or self._token == token:
                self._token = None

    def __repr__(self) -> str:
        return f"<token cache: {'a token' if self._token else 'empty'}>"


# --- The client ----------------------------------------------------------------------------------


class XuandashiClient:
    """The Xuandashi open API, typed. See the module docstring for the retry rules."""

    def __init__(
        self,
        base_url: str,
        uuid: str,
        secret: str,
        *,
        timeout: float = 10.0,
        connect_timeout: float = 3.05,
        retries: int = 2,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        session_factory: Callable[[], requests.Session] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        on_exchange: Callable[[CallRecord], None] | None = None,
    ) -> None:
        self.base_url = _checked_base_url(base_url)
        self.uuid = _checked_credential(uuid, "uuid")
        self.__secret = _checked_credential(secret, "secret")
        self.timeout = _checked_seconds(timeout, "timeout")
        self.connect_timeout = _checked_seconds(connect_timeout, "connect_timeout")
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise InvalidArgument(argument="retries", detail="retries must be an int >= 0")
        self.retries = retries
        if isinstance(backoff, bool) or not isinstance(backoff, int | float) or backoff < 0:
            raise InvalidArgument(argument="backoff", detail="backoff must be a number >= 0")
        self.backoff = float(backoff)
        self.max_backoff = float(max_backoff)
        self._session_factory = session_factory or requests.Session
        self._sleep = sleep
        # Told of every HTTP exchange (its failures are logged, never raised into the call).
        self._on_exchange = on_exchange
        self._local = threading.local()
        self._sessions: weakref.WeakSet[requests.Session] = weakref.WeakSet()
        self._sessions_lock = threading.Lock()
        self._tokens = _TokenCache(self._fetch_token, clock)
        self._image_spelling = "documented"  # the personal image paths that last answered

    def __repr__(self) -> str:
        return f"XuandashiClient(base_url={self.base_url!r}, uuid={self.uuid!r})"

    # -- lifecycle --

    def close(self) -> None:
        """Close every thread's HTTP session. The client stays usable (new sessions open)."""
        with self._sessions_lock:
            sessions = list(self._sessions)
            self._sessions = weakref.WeakSet()
        for session in sessions:
            session.close()
        self._local = threading.local()

    def __enter__(self) -> XuandashiClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- authentication --

    def authenticate(self) -> None:
        """Fetch a fresh token now (a check that the account works)."""
        self._tokens.invalidate()
        self._tokens.get()

    def _fetch_token(self) -> tuple[str, float | None]:
        envelope = self._call(
            "POST",
            "/v1/auth/getToken",
            body={"uuid": self.uuid, "secret": self.__secret},
            policy=_READ,
            auth=False,
        )
        return self._parse(envelope, parse_token)

    # -- templates and images --

    def list_packages(self, kind: BillingType | int) -> list[Package]:
        """The host templates for one billing type (`packAge/0` pay-as-you-go, `1` rental)."""
        billing = _checked_billing(kind)
        envelope = self._call("GET", f"/v1/pve/open/packAge/{int(billing)}", policy=_READ)
        return self._parse(envelope, parse_packages, billing)

    def list_images(self) -> list[Image]:
        envelope = self._call("GET", "/v1/pve/open/image", policy=_READ)
        return self._parse(envelope, parse_images)

    # -- creates (cost money; never repeated) --

    def create_pay_as_you_go(self, package_id: str, image_id: str) -> str | None:
        """Buy a pay-as-you-go host. Returns its id, or None when the upstream does not say.

        Raises `OutcomeUnknown` when the request may have reached the upstream but its answer
        was lost: reconcile by listing hosts, do not call again.
        """
        body = {
            "packageId": _checked_id(package_id, "package_id"),
            "imageId": _checked_id(image_id, "image_id"),
        }
        return self._create("create_pay_as_you_go", "/v1/pve/open/createquantity", body)

    def create_rental(
        self,
        package_id: str,
        image_id: str,
        period_number: int,
        period_type: PeriodType | int,
    ) -> str | None:
        """Rent a host for `period_number` periods, paid up front. As `create_pay_as_you_go`."""
        body = {
            "packageId": _checked_id(package_id, "package_id"),
            "imageId": _checked_id(image_id, "image_id"),
            "periodNumber": _checked_positive(period_number, "period_number"),
            "periodType": int(_checked_period_type(period_type)),
        }
        return self._create("create_rental", "/v1/pve/open/createRent", body)

    def _create(self, operation: str, path: str, body: dict[str, Any]) -> str | None:
        envelope = self._call("POST", path, body=body, policy=_CREATE, operation=operation)
        try:
            return self._parse(envelope, parse_created_host_id)
        except XdsError as err:
            # Code 0 but no usable answer: something may well have been bought.
            raise OutcomeUnknown(cause=err, operation=operation, params=body) from err

    # -- power --

    def power_on(self, host_id: str) -> None:
        """Ask the upstream to start a host. Accepted is not done: poll `get_host`."""
        self._power(host_id, 1, AlreadyBooting)

    def power_off(self, host_id: str) -> None:
        """Ask the upstream to stop a host. Accepted is not done: poll `get_host`."""
        self._power(host_id, 0, AlreadyShuttingDown)

    def reboot(self, host_id: str) -> None:
        path = f"/v1/pve/open/reboot/{self._segment(host_id)}"
        envelope = self._call("GET", path, policy=_ACTION)
        self._require_accepted(envelope, "reboot")

    def _power(self, host_id: str, type_: int, settled: type[ApiError]) -> None:
        path = f"/v1/pve/open/operate/{self._segment(host_id)}"
        envelope = self._call(
            "GET",
            path,
            params={"type": str(type_)},
            policy=_ACTION,
            settled_codes=frozenset({settled.upstream_code}),
        )
        self._require_accepted(envelope, "power on" if type_ else "power off")

    def _require_accepted(self, envelope: Envelope | None, action: str) -> None:
        if envelope is None:
            return  # settled by an earlier attempt that may have been lost
        if self._parse(envelope, parse_flag) is False:
            raise ActionNotAccepted(
                code=envelope.code,
                upstream_message=envelope.msg,
                trace_id=envelope.trace_id,
                detail=f"{action}: data false",
            )

    # -- hosts --

    def get_host(self, host_id: str) -> Host:
        envelope = self._call("GET", f"/v1/pve/open/one/{self._segment(host_id)}", policy=_READ)
        return self._parse(envelope, parse_host)

    def list_hosts_page(self, page: int = 1, page_size: int = MAX_PAGE_SIZE) -> HostPage:
        """One page of the account's hosts (`page` from 1; at most 25 per page). Thread-safe."""
        page = _checked_positive(page, "page")
        page_size = _checked_positive(page_size, "page_size", maximum=MAX_PAGE_SIZE)
        envelope = self._call(
            "GET",
            "/v1/pve/open/mypage",
            params={"page": page, "pageSize": page_size},
            policy=_READ,
        )
        return self._parse(envelope, parse_host_page, page=page, page_size=page_size)

    def list_every_host(self, *, workers: int = 1) -> Listing[Host]:
        """Every host of the account (see `_list_every`), `workers` pages at once after page 1.

        The one way to list hosts: the sync, a create looking for the host it bought and a
        delete making sure of its host all read this listing, and say what a partial one means.
        """
        return self._list_every(self.list_hosts_page, MAX_PAGE_SIZE, workers=workers, what="host")

    def _list_every(
        self, fetch: Callable[[int, int], Any], page_size: int, *, workers: int, what: str
    ) -> Listing:
        """Every item of a paged list: page 1, then the pages it announces, `workers` at once.

        Page 1 failing raises (nothing was read). A later page failing leaves a partial listing
        that says so (`error`, `complete`): what arrived is kept and no further page is asked
        for. So does an upstream that repeats a page instead of moving on (it would otherwise be
        asked for every page its total claims). An item listed on two pages (pages shift when a
        create lands mid-listing) is kept once, its copy from the lowest page. Thread-safe.
        """
        workers = _checked_positive(workers, "workers", maximum=16)
        first = fetch(1, page_size)
        size = max(1, first.page_size)
        if first.total > MAX_PAGES * size:
            raise UnexpectedData(detail=f"the upstream claims {first.total} {what}s")
        pages, error = self._pages_after(first, fetch, workers=workers, what=what)
        items: dict[str, Any] = {}
        for number in sorted(pages):
            for item in pages[number].items:
                items.setdefault(item.id, item)
        return Listing(
            items=tuple(items.values()),
            pages_read=len(pages),
            pages_expected=max(page.page_count for page in pages.values()),
            totals=frozenset(page.total for page in pages.values()),
            error=error,
        )

    @staticmethod
    def _pages_after(
        first: Any, fetch: Callable[[int, int], Any], *, workers: int, what: str
    ) -> tuple[dict[int, Any], XdsError | None]:
        """Pages 2 to the last that `first` announces, `workers` in flight at a time, keyed by
        number, and the first error. Nothing more is asked for after an error, an empty page
        (the upstream ran out before its total) or a page of items already seen."""
        size = max(1, first.page_size)
        pages = {1: first}
        seen = {item.id for item in first.items}
        error: XdsError | None = None
        ended = False
        numbers = iter(range(2, first.page_count + 1))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="xds-pages") as pool:
            running: dict[Future, int] = {}
            while True:
                while error is None and not ended and len(running) < workers:
                    number = next(numbers, None)
                    if number is None:
                        break
                    running[pool.submit(fetch, number, size)] = number
                if not running:
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    number = running.pop(future)
                    try:
                        page = future.result()
                    except XdsError as exc:
                        error = error or exc
                        continue
                    pages[number] = page
                    ids = {item.id for item in page.items}
                    if not ids:
                        ended = True
                    elif ids <= seen and error is None:
                        error = UnexpectedData(
                            detail=f"page {number} of the {what} list repeats {what}s already seen"
                        )
                    seen |= ids
        return pages, error

    @staticmethod
    def _whole(listing: Listing) -> tuple:
        """The items of a listing, or the error that left it partial."""
        if listing.error is not None:
            raise listing.error
        return listing.items

    def delete_host(self, host_id: str) -> bool:
        """Delete a host. True when the upstream confirmed; False when it said it did not."""
        envelope = self._call(
            "DELETE", f"/v1/pve/open/delete/{self._segment(host_id)}", policy=_DELETE
        )
        return self._parse(envelope, parse_flag) is True

    # -- cloud disks (paths under /v1/PveMachineHardDisk/open/) --

    def list_disks_page(self, page: int = 1, page_size: int = MAX_DISK_PAGE_SIZE) -> DiskPage:
        """One page of the account's disks (`page` from 1; at most 100 per page)."""
        page = _checked_positive(page, "page")
        page_size = _checked_positive(page_size, "page_size", maximum=MAX_DISK_PAGE_SIZE)
        envelope = self._call(
            "POST", _DISKS + "getList", body={"page": page, "pageSize": page_size}, policy=_READ
        )
        return self._parse(envelope, parse_disk_page, page=page, page_size=page_size)

    def list_every_disk(self, *, workers: int = 1) -> Listing[Disk]:
        """Every disk of the account, as `list_every_host` lists hosts (pages of 100)."""
        return self._list_every(
            self.list_disks_page, MAX_DISK_PAGE_SIZE, workers=workers, what="disk"
        )

    def iter_disks(self) -> Iterator[Disk]:
        """Every disk of the account, each once; raises when a page could not be read."""
        return iter(self._whole(self.list_every_disk()))

    def get_disk(self, disk_id: str) -> Disk:
        path = _DISKS + f"info/{self._segment(disk_id, 'disk_id')}"
        return self._parse(self._call("GET", path, policy=_READ), parse_disk)

    def create_disk(self, *, area: Area | int, size_gb: int, host_id: str | None = None) -> str:
        """Buy a disk of `size_gb` GB in `area`, mounted on `host_id` when given (the host must
        be a pay-as-you-go host, off, started at least once, in the same area). Returns the new
        disk's id.

        Costs money and is never repeated: raises `OutcomeUnknown` when the request may have
        reached the upstream but its answer was lost (reconcile by listing disks).
        """
        body: dict[str, Any] = {
            "area": int(_checked_area(area)),
            "memory": _checked_positive(size_gb, "size_gb"),
            "isMount": 0 if host_id is None else 1,
        }
        if host_id is not None:
            body["pveId"] = _checked_id(host_id, "host_id")
        envelope = self._call(
            "POST", _DISKS + "create", body=body, policy=_CREATE, operation="create_disk"
        )
        try:
            return self._parse(envelope, parse_created_id, "disk")
        except XdsError as err:
            # Code 0 but no id: a disk may well have been bought; find it by listing.
            raise OutcomeUnknown(cause=err, operation="create_disk", params=body) from err

    def attach_disk(self, disk_id: str, host_id: str) -> None:
        """Mount a disk on a host (`pveCreate`). Accepted is not done: poll `get_disk`."""
        body = {"id": _checked_id(disk_id, "disk_id"), "pveId": _checked_id(host_id, "host_id")}
        envelope = self._call(
            "POST",
            _DISKS + "pveCreate",
            body=body,
            policy=_ACTION,
            settled_codes=frozenset({DiskAlreadyMounted.upstream_code}),
        )
        self._require_accepted(envelope, "attach disk")

    def detach_disk(self, disk_id: str) -> None:
        """Unmount a disk (its host must be off). Accepted is not done: poll `get_disk`."""
        self._change_disk(
            disk_id, DiskChange.UNMOUNT, frozenset({DiskAlreadyUnmounted.upstream_code})
        )

    def destroy_disk(self, disk_id: str) -> None:
        """Destroy an unmounted disk; its data is gone. Accepted is not done: poll `get_disk`
        until it answers `DiskNotFound`."""
        self._change_disk(disk_id, DiskChange.DESTROY, frozenset())

    def _change_disk(self, disk_id: str, change: DiskChange, settled: frozenset[int]) -> None:
        body = {"id": _checked_id(disk_id, "disk_id"), "status": int(change)}
        envelope = self._call(
            "PUT", _DISKS + "updateStatus", body=body, policy=_ACTION, settled_codes=settled
        )
        self._require_accepted(envelope, f"{change.name.lower()} disk")

    def disk_usage(self, area: Area | int) -> int:
        """GB of disks the account holds in `area` (what counts against the area's quota)."""
        path = _DISKS + f"memoryTotal/{int(_checked_area(area))}"
        return self._parse(self._call("GET", path, policy=_READ), parse_disk_usage)

    # -- personal images (two spellings of every path: see `_image_call`) --

    def list_every_personal_image(self) -> Listing[PersonalImage]:
        """Every personal image of the account, as `list_every_host` lists hosts."""
        return self._list_every(
            self._personal_images_page,
            MAX_PERSONAL_IMAGE_PAGE_SIZE,
            workers=1,
            what="personal image",
        )

    def list_personal_images(self) -> list[PersonalImage]:
        """Every personal image of the account; raises when a page could not be read."""
        return list(self._whole(self.list_every_personal_image()))

    def _personal_images_page(self, page: int, page_size: int) -> PersonalImagePage:
        envelope = self._image_call(
            "list", params={"page": page, "pageSize": page_size}, policy=_READ
        )
        return self._parse(envelope, parse_personal_image_page, page=page, page_size=page_size)

    def create_personal_image(self, host_id: str, name: str) -> str | None:
        """Start making a personal image of a host. Returns its id when the upstream says it
        (the docs say it answers only `true`: then None, and the image is found by listing, by
        its name, which is unique). Never repeated, as any create: `OutcomeUnknown` when the
        answer was lost."""
        body = {
            "machineId": _checked_id(host_id, "host_id"),
            "imageName": _checked_image_name(name),
        }
        envelope = self._image_call(
            "add", body=body, policy=_CREATE, operation="create_personal_image"
        )
        try:
            return self._parse(envelope, parse_created_host_id)
        except XdsError as err:
            raise OutcomeUnknown(cause=err, operation="create_personal_image", params=body) from err

    def rename_personal_image(self, image_id: str, name: str) -> None:
        body = {"id": _checked_id(image_id, "image_id"), "imageName": _checked_image_name(name)}
        envelope = self._image_call(
            "update",
            image_id=body["id"],
            body=body,
            policy=_ACTION,
            # Repeated after a lost answer that renamed it: the name is now its own.
            settled_codes=frozenset({PersonalImageNameTaken.upstream_code}),
        )
        self._require_accepted(envelope, "rename personal image")

    def delete_personal_image(self, image_id: str) -> None:
        image_id = _checked_id(image_id, "image_id")
        envelope = self._image_call(
            "delete",
            image_id=image_id,
            params={"id": image_id},
            body={"id": image_id},
            policy=_ACTION,
            # Repeated after a lost answer that deleted it: the id is now unknown.
            settled_codes=frozenset({IllegalRequest.upstream_code}),
        )
        self._require_accepted(envelope, "delete personal image")

    def _image_call(
        self, action: str, *, image_id: str | None = None, **call: Any
    ) -> Envelope | None:
        """A personal image call on the spelling that last worked, then on the other one when
        that answers 404: the docs' table and their examples name different paths."""
        order = sorted(_IMAGE_SPELLINGS, key=lambda name: name != self._image_spelling)
        for index, spelling in enumerate(order):
            method, template = _IMAGE_SPELLINGS[spelling][action]
            segment = self._segment(image_id, "image_id") if "{id}" in template else ""
            try:
                envelope = self._call(method, template.format(id=segment), **call)
            except ProtocolError as err:
                if err.http_status == 404 and index + 1 < len(order):
                    logger.info("vmclient: %s answered 404; trying the other spelling", template)
                    continue
                raise
            self._image_spelling = spelling
            return envelope
        raise AssertionError("unreachable")  # pragma: no cover

    # -- plumbing --

    @staticmethod
    def _segment(value: Any, argument: str = "host_id") -> str:
        return quote(_checked_id(value, argument), safe="")

    @staticmethod
    def _parse(envelope: Envelope, parser: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a parser on `data`; its errors carry the answer's trace id; nothing else leaks."""
        try:
            return parser(envelope.data, *args, **kwargs)
        except XdsError as err:
            if err.trace_id is None:
                err.trace_id = envelope.trace_id
            raise
        except Exception as exc:  # a parser bug must still reach the caller as an XdsError
            raise UnexpectedData(
                trace_id=envelope.trace_id, detail=f"{type(exc).__name__} while reading data"
            ) from exc

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._session_factory()
            session.headers["User-Agent"] = USER_AGENT
            session.headers["Accept"] = "application/json"
            self._local.session = session
            with self._sessions_lock:
                self._sessions.add(session)
        return session

    def _delay(self, retry: int) -> float:
        ceiling = min(self.max_backoff, self.backoff * 2 ** (retry - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def _call(
        self,
        method: str,
        path: str,
        *,
        policy: _Policy,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        auth: bool = True,
        operation: str | None = None,
        settled_codes: frozenset[int] = frozenset(),
    ) -> Envelope | None:
        """One logical call: token, exchange, the 401 repeat, retries per `policy`.

        Returns the envelope of a successful answer, or None when a power action was repeated
        after an attempt that may have been carried out and the upstream now says it is already
        under way (`settled_codes`).
        """
        attempt = 0
        retried = 0
        reauthenticated = False
        maybe_applied = False
        while True:
            attempt += 1
            token = self._tokens.get() if auth else None  # nothing sent yet if this fails
            try:
                return self._exchange(method, path, params, body, token, attempt)
            except AuthenticationError as err:
                if auth:
                    self._tokens.invalidate(token)
                if not auth or reauthenticated:
                    err.may_have_acted = err.may_have_acted or maybe_applied
                    raise
                reauthenticated = True
                continue
            except XdsError as err:
                if maybe_applied and isinstance(err, ApiError) and err.code in settled_codes:
                    logger.info(
                        "vmclient: %s %s already under way after a lost answer", method, path
                    )
                    return None
                if policy.create:
                    if _definitely_refused(err):
                        raise
                    raise OutcomeUnknown(
                        cause=err, operation=operation or path, params=body
                    ) from err
                if retried >= self.retries or not policy.may_retry(err):
                    # The last attempt's error; an earlier one may have been carried out.
                    err.may_have_acted = err.may_have_acted or maybe_applied
                    raise
                maybe_applied = maybe_applied or err.may_have_acted
                retried += 1
                self._sleep(self._delay(retried))

    def _exchange(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        body: Mapping[str, Any] | None,
        token: str | None,
        attempt: int,
    ) -> Envelope:
        """One HTTP request and its answer, logged once. Raises only `XdsError`."""
        headers = {TOKEN_HEADER: token} if token is not None else {}
        started = time.perf_counter()
        status: int | None = None
        envelope: Envelope | None = None
        failure: XdsError | None = None
        try:
            try:
                response = self._session().request(
                    method,
                    self.base_url + path,
                    params=params,
                    json=body,
                    headers=headers,
                    timeout=(self.connect_timeout, self.timeout),
                    allow_redirects=False,
                )
            except requests.RequestException as exc:
                raise _transport_error(exc) from exc
            except Exception as exc:  # e.g. urllib3's LocationParseError, a ValueError
                raise TransportError(detail=f"{type(exc).__name__}: the request failed") from exc
            status = response.status_code
            envelope = _read_answer(response)
            return envelope
        except XdsError as err:
            failure = err
            raise
        finally:
            self._log(method, path, attempt, status, envelope, failure, started)

    def _observe(self, record: CallRecord) -> None:
        try:
            self._on_exchange(record)
        except Exception:  # an observer must never break a call
            logger.exception("vmclient: the exchange observer failed")

    def _log(  # and tell the observer
        self,
        method: str,
        path: str,
        attempt: int,
        status: int | None,
        envelope: Envelope | None,
        failure: XdsError | None,
        started: float,
    ) -> None:
        seconds = time.perf_counter() - started
        duration_ms = round(seconds * 1000)
        code = envelope.code if envelope is not None else getattr(failure, "code", None)
        if self._on_exchange is not None:
            self._observe(
                CallRecord(
                    method=method,
                    endpoint=endpoint_of(path),
                    attempt=attempt,
                    http_status=status,
                    code=code if isinstance(code, int) else None,
                    outcome="ok" if failure is None else type(failure).__name__,
                    duration_seconds=seconds,
                )
            )
        trace_id = envelope.trace_id if envelope is not None else getattr(failure, "trace_id", None)
        # Successful reads are quiet (lists are POSTed by the disk calls).
        read = method == "GET" or path.endswith("/getList")
        quiet = failure is None and read and "/operate/" not in path and "/reboot/" not in path
        level = logging.DEBUG if quiet else logging.INFO
        if not logger.isEnabledFor(level):
            return
        outcome = "ok" if failure is None else type(failure).__name__
        logger.log(
            level,
            "upstream %s %s attempt=%d http=%s code=%s trace_id=%s duration_ms=%d %s",
            method,
            path,
            attempt,
            status,
            code,
            trace_id,
            duration_ms,
            outcome,
            extra={
                "xds_method": method,
                "xds_path": path,
                "xds_attempt": attempt,
                "xds_http_status": status,
                "xds_code": code,
                "xds_trace_id": trace_id,
                "xds_duration_ms": duration_ms,
                "xds_outcome": outcome,
            },
        )
