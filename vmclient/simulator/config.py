"""The simulator's switches (`SimulatorConfig`) and the faults it can inject (`Fault`).

Both are plain mutable dataclasses: the simulator reads them on every request, so a test (or
`POST /_sim/config`) that assigns a field changes the very next answer.

The version switches describe how the two versions of the provider's documents differ. They
default to `None` and are filled from `doc_version` when the config is built; explicit values
win. Assigning `doc_version` later resets every version switch to that version's defaults.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

DOC_VERSIONS = ("later", "original")
IMAGE_PATH_SPELLINGS = ("both", "documented", "examples")

# What each version of the documents shows. "original" is seed/virtual-machine-api.md (2023-09),
# "later" the provider's revision (2023-10/11).
_VERSION_DEFAULTS: dict[str, dict[str, Any]] = {
    "later": {
        "create_returns_id": True,
        "ipv4_field": "ipv4",
        "host_status_fields": True,
        "envelope_extras": True,
        "package_gpu_name": True,
        "accept_hour_period": False,
        "numbers_as_strings": False,
        "mask_passwords": False,
    },
    "original": {
        "create_returns_id": False,
        "ipv4_field": "ipV4",
        "host_status_fields": False,
        "envelope_extras": False,
        "package_gpu_name": False,
        "accept_hour_period": True,
        "numbers_as_strings": False,
        # The original examples show the password as stars.
        "mask_passwords": True,
    },
}
VERSION_SWITCHES = tuple(_VERSION_DEFAULTS["later"])


@dataclass
class SimulatorConfig:
    """How the simulated provider behaves. Every field may be changed while it runs."""

    # The one account the simulator accepts.
    uuid: str = "SIMULATED"
    secret: str = "simulated-secret"  # noqa: S105 (the simulator's own, well known)

    doc_version: str = "later"
    # Version switches: None means "as doc_version says".
    create_returns_id: bool | None = None  # create's data: the new id (later) or true (original)
    ipv4_field: str | None = None  # "ipv4" (later) or "ipV4" (original)
    host_status_fields: bool | None = None  # hosts carry status, useType and area
    envelope_extras: bool | None = None  # envelopes carry success and traceId
    package_gpu_name: bool | None = None  # templates carry gpuName
    accept_hour_period: bool | None = None  # rental periodType 0 (hour) accepted
    numbers_as_strings: bool | None = None  # numeric fields sent as JSON strings
    mask_passwords: bool | None = None  # hostPw sent as "*****"

    # The account and the provider's business rules.
    token_lifetime_ms: int = 1_800_000
    real_name_verified: bool = True  # False: 1037 on creates and power on
    wallet_balance: Decimal = Decimal("10000")  # rental creates are paid from it
    wallet_error: bool = False  # True: 9000 on rental creates
    resources_available: bool = True  # False: 6002 on creates and power on
    creation_waiting: int = 0  # the next N creates answer 6005
    # A repeated identical create within this many seconds answers 1005 (请求处理中), as a
    # double-submit guard would. 0 turns the guard off (the default: tests create freely).
    duplicate_create_window: float = 0.0
    # Hosts report only the first word of their image's system name ("Windows" for an image
    # named "Windows Server"): the docs list both spellings for hosts, and a provider may do so.
    host_os_first_word: bool = False

    # Simulated seconds each transient status lasts.
    boot_seconds: float = 30.0
    shutdown_seconds: float = 20.0
    reboot_seconds: float = 30.0
    charging_seconds: float = 10.0

    latency: float = 0.0  # real seconds slept before every answer
    max_page_size: int = 25

    # Cloud disks and personal images (see `storage`).
    disk_area_quota_gb: int = 1000  # 220014 beyond this many GB per area (a doc page says 20480)
    disk_price_per_gb_hour: Decimal = Decimal("0.002")  # a disk's `amount`: 100 GB 0.20/h
    mount_seconds: float = 20.0  # MOUNTING lasts this long
    unmount_seconds: float = 10.0  # an accepted unmount shows IN_USE this long
    destroy_seconds: float = 30.0  # DESTROYING lasts this long, then the disk is gone
    max_disk_page_size: int = 100  # `getList` serves at most this many (also personal images)
    disk_calls_throttled: int = 0  # the next N disk calls answer 220025
    image_make_seconds: float = 120.0  # a personal image is being made this long
    personal_image_failures: int = 0  # the next N personal images end FAILED
    max_personal_images: int = 10  # 200002 beyond this many
    # Which spellings of the personal image paths answer: "both", "documented" (the docs'
    # table, /v1/open/image/personal/...) or "examples" (their examples, /v1/PveMachine/image/...).
    personal_image_paths: str = "both"

    def __post_init__(self) -> None:
        if self.doc_version not in DOC_VERSIONS:
            raise ValueError(f"doc_version must be one of {DOC_VERSIONS}, not {self.doc_version!r}")
        self.wallet_balance = Decimal(str(self.wallet_balance))
        for name, value in _VERSION_DEFAULTS[self.doc_version].items():
            if getattr(self, name) is None:
                setattr(self, name, value)
        if self.ipv4_field not in ("ipv4", "ipV4"):
            raise ValueError(f"ipv4_field must be 'ipv4' or 'ipV4', not {self.ipv4_field!r}")
        self.disk_price_per_gb_hour = Decimal(str(self.disk_price_per_gb_hour))
        if self.personal_image_paths not in IMAGE_PATH_SPELLINGS:
            raise ValueError(f"personal_image_paths must be one of {IMAGE_PATH_SPELLINGS}")
        self.__dict__["_ready"] = True

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        # Switching versions on a live config switches every difference at once; otherwise
        # `config.doc_version = "original"` would change a label and nothing else.
        if name == "doc_version" and self.__dict__.get("_ready"):
            if value not in DOC_VERSIONS:
                raise ValueError(f"doc_version must be one of {DOC_VERSIONS}, not {value!r}")
            for switch, default in _VERSION_DEFAULTS[value].items():
                super().__setattr__(switch, default)

    @classmethod
    def original(cls, **overrides: Any) -> SimulatorConfig:
        """The provider as its original document (2023-09) describes it."""
        return cls(doc_version="original", **overrides)

    @classmethod
    def later(cls, **overrides: Any) -> SimulatorConfig:
        """The provider as its later revision (2023-10/11) describes it."""
        return cls(doc_version="later", **overrides)

    def update(self, changes: dict[str, Any]) -> None:
        """Apply field updates given as JSON values (for `POST /_sim/config`).

        `doc_version` goes first, so `{"doc_version": "original", "mask_passwords": false}`
        means "the original version, but with clear passwords". Raises ValueError on an unknown
        field or a value of the wrong type, before changing anything.
        """
        fields = {f.name: f for f in dataclasses.fields(self)}
        coerced: dict[str, Any] = {}
        for name, value in changes.items():
            if name not in fields:
                raise ValueError(f"unknown config field {name!r}")
            coerced[name] = _coerce(name, getattr(self, name), value)
        if "doc_version" in coerced:
            self.doc_version = coerced.pop("doc_version")
        for name, value in coerced.items():
            setattr(self, name, value)

    def as_json(self) -> dict[str, Any]:
        """The config as JSON values, without the secret."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.name == "secret":
                continue
            value = getattr(self, f.name)
            out[f.name] = str(value) if isinstance(value, Decimal) else value
        return out


def _coerce(name: str, current: Any, value: Any) -> Any:
    """Check a JSON value against the type of the field's current value."""
    if name == "doc_version":
        if value not in DOC_VERSIONS:
            raise ValueError(f"doc_version must be one of {DOC_VERSIONS}")
        return value
    if name == "ipv4_field":
        if value not in ("ipv4", "ipV4"):
            raise ValueError("ipv4_field must be 'ipv4' or 'ipV4'")
        return value
    if name == "personal_image_paths":
        if value not in IMAGE_PATH_SPELLINGS:
            raise ValueError(f"personal_image_paths must be one of {IMAGE_PATH_SPELLINGS}")
        return value
    if isinstance(current, bool):
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false")
        return value
    if isinstance(current, Decimal):
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError(f"{name} must be a number")
        try:
            return Decimal(str(value))
        except ArithmeticError as exc:
            raise ValueError(f"{name} must be a number") from exc
    if isinstance(current, int):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be an integer, 0 or more")
        if name in ("max_page_size", "max_disk_page_size") and value < 1:
            raise ValueError(f"{name} must be at least 1")
        return value
    if isinstance(current, float):
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ValueError(f"{name} must be a number of seconds")
        return float(value)
    if isinstance(current, str):
        if not isinstance(value, str):
            raise ValueError(f"{name} must be a string")
        return value
    raise ValueError(f"{name} cannot be set")


FAULT_KINDS = (
    "html_502",  # HTTP 502 with nginx's HTML page: the gateway in front of the API is unhappy
    "error_500",  # HTTP 200, envelope code 500 系统错误
    "interface_503",  # HTTP 200, envelope code 503 接口异常
    "http_500",  # HTTP 500 with an envelope (code 500)
    "truncated_json",  # a valid answer cut in the middle
    "not_json",  # HTTP 200, plain text
    "no_code",  # a JSON envelope without `code`
    "wrong_data",  # code 0 with `data` of the wrong shape
    "hang",  # sleep `seconds`, then answer normally
    "drop",  # close the connection without answering
    "raw",  # answer exactly `status`, `body`, `content_type`
)
FAULT_PHASES = ("before", "after")


@dataclass
class Fault:
    """A misbehaviour injected into the next matching request(s).

    `phase="before"`: the request has no effect and the fault answers instead.
    `phase="after"`: the request takes effect (a create creates and pays) and the fault replaces
    the answer, which is how an "outcome unknown" create is produced. For `hang` the request
    takes effect either way: before the sleep ("after") or once it ends ("before"), as a slow
    provider would finish its work after the client gave up.

    `times` counts down as the fault fires (None: until cleared); a fault is dropped at 0.
    """

    kind: str
    path: str | None = None  # prefix of the request path; None matches every API path
    method: str | None = None  # None matches every method
    times: int | None = 1
    phase: str = "before"
    seconds: float = 0.0  # for "hang"
    status: int = 200  # for "raw"
    body: bytes = b""  # for "raw"; a str is encoded as UTF-8
    content_type: str = "application/json"  # for "raw"

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {FAULT_KINDS}")
        if self.phase not in FAULT_PHASES:
            raise ValueError(f"phase must be 'before' or 'after', not {self.phase!r}")
        if isinstance(self.body, str):
            self.body = self.body.encode("utf-8")
        if self.method is not None:
            self.method = self.method.upper()
        if self.times is not None and self.times < 1:
            raise ValueError("times must be at least 1 (or None for 'until cleared')")

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method.upper():
            return False
        return self.path is None or path.startswith(self.path)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fault:
        """A fault from `POST /_sim/faults` (body given as a string)."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        if "kind" not in data:
            raise ValueError("a fault needs a kind")
        return cls(**data)

    def as_json(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["body"] = self.body.decode("utf-8", errors="replace")
        return out
