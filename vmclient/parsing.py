"""Raw upstream JSON -> the typed results of `vmclient.types`.

Both versions of the provider's documents are accepted: `ipV4` or `ipv4`; `status`, `useType`,
`area`, `success` and `traceId` present or not; numbers as numbers or strings ("8", "5.00");
booleans as booleans or "true"/"false"; nulls anywhere.

Two kinds of trouble are told apart:

- a field whose value cannot be used (an unknown enum value, "abc" for a number) becomes None,
  with a warning in the log: the rest of the record is still worth showing;
- a record whose shape is wrong (`data` not a list or an object where one is expected, a host
  without an id, `totalCounts` not a number) raises `UnexpectedData`.

Nothing here raises anything but `XdsError` subclasses. This module imports nothing from Django.
"""

from __future__ import annotations

import enum
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from .errors import MissingEnvelopeCode, UnexpectedData
from .types import (
    MAX_DISK_PAGE_SIZE,
    MAX_PAGE_SIZE,
    MAX_PERSONAL_IMAGE_PAGE_SIZE,
    Area,
    BillingType,
    Disk,
    DiskPage,
    DiskStatus,
    Host,
    HostPage,
    HostStatus,
    Image,
    Package,
    PersonalImage,
    PersonalImagePage,
    PersonalImageStatus,
    Purpose,
    TemplateUse,
)

logger = logging.getLogger("vmclient")

E = TypeVar("E", bound=enum.IntEnum)

_MAX_NUMBER_TEXT = 40  # longer "numbers" are garbage, and would be slow to convert
_MAX_AMOUNT = Decimal(10) ** 9  # no price per hour is this large; far beyond, quantize() fails
_MAX_DISCOUNT = Decimal(10)  # a multiplier: 1 = none, 0.8 = 20% off
_MAX_CODE = 2**31
_NO_VALUE = ("", "-", "--", "null", "none", "n/a")


@dataclass(frozen=True, slots=True)
class Envelope:
    """The upstream's answer around `data`: `{"code", "success", "msg", "data", "traceId"}`."""

    code: int
    data: Any = None
    msg: str | None = None
    trace_id: str | None = None
    success: bool | None = None

    @property
    def ok(self) -> bool:
        return self.code == 0


# --- Scalars ---------------------------------------------------------------------------------


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _ignore(field: str, value: Any, why: str) -> None:
    logger.warning("vmclient: ignoring %s=%s from the upstream: %s", field, _short(value), why)


def _number_text(value: Any) -> Decimal | None:
    """A finite Decimal from an int, float or numeric string; None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        if abs(value) >= 10**30:
            return None
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return Decimal(repr(value))
    if isinstance(value, str):
        text = value.strip()
        if not text or len(text) > _MAX_NUMBER_TEXT:
            return None
        try:
            number = Decimal(text)
        except (InvalidOperation, ValueError):
            return None
        if not number.is_finite() or number.adjusted() > 30:
            return None
        return number
    return None


def parse_int(value: Any, field: str = "value", *, minimum: int | None = 0) -> int | None:
    """A whole number from an int, an integral float or a numeric string; else None."""
    if value is None or (isinstance(value, str) and value.strip().lower() in _NO_VALUE):
        return None
    number = _number_text(value)
    if number is None or number != number.to_integral_value():
        _ignore(field, value, "not a whole number")
        return None
    result = int(number)
    if minimum is not None and result < minimum:
        _ignore(field, value, f"below {minimum}")
        return None
    return result


def parse_decimal(value: Any, field: str = "value") -> Decimal | None:
    """A Decimal from a number or a numeric string ("5.00"); None when unusable."""
    if value is None or (isinstance(value, str) and value.strip().lower() in _NO_VALUE):
        return None
    number = _number_text(value)
    if number is None or abs(number) >= _MAX_AMOUNT:
        _ignore(field, value, "not a usable amount")
        return None
    return number


def parse_bool(value: Any) -> bool | None:
    """True/False from a boolean or "true"/"false" (any case); None for anything else."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text == "true":
            return True
        if text == "false":
            return False
    return None


def parse_text(value: Any, field: str = "value") -> str | None:
    """A stripped string; numbers become their text; "" and anything else become None."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        return text or None
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return str(value)
    _ignore(field, value, "not text")
    return None


def _masked(text: str | None) -> bool:
    return bool(text) and set(text) == {"*"}


def parse_secret(value: Any) -> str | None:
    """A password: None when absent, empty or masked ("*****"). Never logged."""
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None
    text = str(value).strip()
    if not text or _masked(text):
        return None
    return text


def parse_epoch_ms(value: Any, field: str = "time") -> datetime | None:
    """An aware UTC datetime from epoch milliseconds; 0, null and nonsense give None."""
    ms = parse_int(value, field, minimum=0)
    if not ms:
        return None
    try:
        return datetime.fromtimestamp(ms / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        _ignore(field, value, "not a usable time")
        return None


def parse_enum(enum_cls: type[E], value: Any, field: str) -> E | None:
    """The member of `enum_cls` for `value` ("2" or 2); unknown values give None and a warning."""
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return None
    number = _number_text(value)
    if number is not None and number == number.to_integral_value():
        try:
            return enum_cls(int(number))
        except ValueError:
            pass
    _ignore(field, value, f"not a known {enum_cls.__name__}")
    return None


def _none_if_dash(text: str | None) -> str | None:
    if text is None or text.strip("-– ") == "":
        return None
    return text


def _id(value: Any, what: str) -> str:
    if isinstance(value, bool):
        value = None
    text = parse_text(value, what) if isinstance(value, str | int) else None
    if text is None:
        raise UnexpectedData(detail=f"{what} is missing or not text")
    return text


def _record(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise UnexpectedData(detail=f"{what} is {type(value).__name__}, not an object")
    return value


def _records(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise UnexpectedData(detail=f"{what} is {type(value).__name__}, not a list")
    return value


# --- The envelope ----------------------------------------------------------------------------


def parse_envelope(payload: Any) -> Envelope:
    """The envelope of a decoded JSON answer. No usable `code` raises `MissingEnvelopeCode`."""
    if not isinstance(payload, Mapping):
        raise MissingEnvelopeCode(
            detail=f"the answer is a JSON {type(payload).__name__}, not the API's envelope"
        )
    trace_id = parse_text(payload.get("traceId"), "traceId")
    msg = payload.get("msg")
    msg = msg if isinstance(msg, str) else parse_text(msg, "msg")
    raw_code = payload.get("code")
    code = None
    number = _number_text(raw_code)
    if number is not None and number == number.to_integral_value() and abs(number) < _MAX_CODE:
        code = int(number)
    if code is None:
        detail = (
            "no code in the envelope" if raw_code is None else "the envelope's code is not a number"
        )
        raise MissingEnvelopeCode(detail=detail, upstream_message=msg, trace_id=trace_id)
    return Envelope(
        code=code,
        data=payload.get("data"),
        msg=msg,
        trace_id=trace_id,
        success=parse_bool(payload.get("success")),
    )


# --- Records ---------------------------------------------------------------------------------


def parse_token(data: Any) -> tuple[str, float | None]:
    """`getToken`'s data -> (token, lifetime in seconds or None when not given)."""
    record = _record(data, "the token answer")
    token = record.get("token")
    if not isinstance(token, str) or not token.strip():
        raise UnexpectedData(detail="the token answer has no token")
    lifetime_ms = parse_int(record.get("effectiveTime"), "effectiveTime", minimum=1)
    return token.strip(), (lifetime_ms / 1000 if lifetime_ms else None)


def parse_package(raw: Any, listed_for: BillingType) -> Package:
    record = _record(raw, "a template")
    package_id = _id(record.get("packageId"), "a template's packageId")
    discount = parse_decimal(record.get("discount"), "discount")
    if discount is not None and not 0 <= discount <= _MAX_DISCOUNT:
        _ignore("discount", record.get("discount"), "not a discount multiplier")
        discount = None
    return Package(
        package_id=package_id,
        name=parse_text(record.get("name"), "name") or package_id,
        listed_for=listed_for,
        gpu_number=parse_int(record.get("gpuNumber"), "gpuNumber") or 0,
        gpu_name=_none_if_dash(parse_text(record.get("gpuName"), "gpuName")),
        memory_gb=parse_int(record.get("memoryNumber"), "memoryNumber"),
        disk_gb=parse_int(record.get("rigidDiskNumber"), "rigidDiskNumber"),
        cpu_cores=parse_int(record.get("cpuNumber"), "cpuNumber"),
        bandwidth=parse_int(record.get("bandWidth"), "bandWidth"),
        amount=parse_decimal(record.get("amount"), "amount"),
        discount=Decimal(1) if discount is None else discount,
        type=parse_text(record.get("type"), "type"),
        purpose=parse_enum(Purpose, record.get("pveMachineType"), "pveMachineType"),
        area=parse_enum(Area, record.get("area"), "area"),
        use_type=parse_enum(TemplateUse, record.get("useType"), "useType"),
    )


def parse_packages(data: Any, listed_for: BillingType) -> list[Package]:
    return [parse_package(item, listed_for) for item in _records(data, "the template list")]


def parse_image(raw: Any) -> Image:
    record = _record(raw, "an image")
    return Image(
        image_id=_id(record.get("imageId"), "an image's imageId"),
        type=parse_text(record.get("type"), "type"),
        system_name=parse_text(record.get("systemImageName"), "systemImageName"),
        system_version=parse_text(record.get("systemImageVersion"), "systemImageVersion"),
    )


def parse_images(data: Any) -> list[Image]:
    return [parse_image(item) for item in _records(data, "the image list")]


def _unmasked(text: str | None) -> str | None:
    return None if _masked(text) else text


def parse_host(raw: Any) -> Host:
    record = _record(raw, "a host")
    ipv4 = record.get("ipv4")
    if ipv4 is None or ipv4 == "":
        ipv4 = record.get("ipV4")
    port = parse_int(record.get("port"), "port")
    if port is not None and not 0 < port < 65536:
        if port:
            _ignore("port", port, "not a port number")
        port = None
    return Host(
        id=_id(record.get("id"), "a host's id"),
        name=parse_text(record.get("name"), "name"),
        gpu_description=_none_if_dash(
            parse_text(record.get("gpuConfiguration"), "gpuConfiguration")
        ),
        gpu_number=parse_int(record.get("gpuNumber"), "gpuNumber"),
        memory_gb=parse_int(record.get("memory"), "memory"),
        cpu_cores=parse_int(record.get("cpu"), "cpu"),
        disk_gb=parse_int(record.get("rigidDisk"), "rigidDisk"),
        operating_system=parse_text(record.get("operatingSystem"), "operatingSystem"),
        login_user=parse_text(record.get("hostAccount"), "hostAccount"),
        password=parse_secret(record.get("hostPw")),
        address=_unmasked(parse_text(record.get("address"), "address")),
        port=port,
        mac=_unmasked(parse_text(record.get("mac"), "mac")),
        ipv4=_unmasked(parse_text(ipv4, "ipv4")),
        purpose=parse_enum(Purpose, record.get("pveMachineType"), "pveMachineType"),
        billing_type=parse_enum(BillingType, record.get("useType"), "useType"),
        status=parse_enum(HostStatus, record.get("status"), "status"),
        area=parse_enum(Area, record.get("area"), "area"),
        created_at=parse_epoch_ms(record.get("createTime"), "createTime"),
        expires_at=parse_epoch_ms(record.get("expirationTime"), "expirationTime"),
    )


def _total(value: Any, what: str = "host") -> int:
    number = None if isinstance(value, bool) else _number_text(value)
    if number is None or number != number.to_integral_value() or number < 0:
        raise UnexpectedData(detail=f"the {what} page's totalCounts is not a whole number")
    return int(number)


def _page(data: Any, what: str, parse_item, *, page: int, page_size: int):
    """A page `{"data": [...], "totalCounts": n}` -> (items, total, the page size really used).

    The upstream may serve fewer items per page than asked (it clamps `pageSize`). When a page
    that is not the last one holds fewer items than asked, the size used is the size served, so
    the page count stays right.
    """
    record = _record(data, f"the {what} page")
    items = tuple(parse_item(item) for item in _records(record.get("data"), f"the {what} list"))
    total = _total(record.get("totalCounts"), what)
    served = len(items)
    effective = page_size
    if served > page_size:
        effective = served  # the upstream ignored pageSize
    elif 0 < served < page_size and (page - 1) * page_size + served < total:
        effective = served  # not the last page, yet short: the upstream clamped pageSize
    return items, total, effective


def parse_host_page(data: Any, *, page: int, page_size: int = MAX_PAGE_SIZE) -> HostPage:
    """`mypage`'s data. `page_size` is the size asked for (see `_page` for a clamped one)."""
    hosts, total, effective = _page(data, "host", parse_host, page=page, page_size=page_size)
    return HostPage(hosts=hosts, total=total, page=page, page_size=effective)


def parse_created_host_id(data: Any) -> str | None:
    """A create's data: the new host's id (later version) or None for `true` (original)."""
    flag = parse_bool(data)
    if flag is True:
        return None
    if flag is None and isinstance(data, str | int) and not isinstance(data, bool):
        text = parse_text(data, "data")
        if text is not None:
            return text
    raise UnexpectedData(detail=f"a create answered data of type {type(data).__name__}")


def parse_flag(data: Any) -> bool | None:
    """`data` of an action: True/False ("true"/"false" too), None when absent."""
    if data is None:
        return None
    flag = parse_bool(data)
    if flag is None:
        raise UnexpectedData(detail=f"an action answered data of type {type(data).__name__}")
    return flag


def parse_created_id(data: Any, what: str) -> str:
    """A create's data that must be the new thing's id (a disk's); anything else raises."""
    if isinstance(data, str | int) and not isinstance(data, bool):
        text = parse_text(data, "data")
        if text is not None and text.lower() not in ("true", "false"):
            return text
    raise UnexpectedData(detail=f"a {what} create answered data of type {type(data).__name__}")


# --- Cloud disks --------------------------------------------------------------------------------


def parse_disk(raw: Any) -> Disk:
    """A disk. Where it is mounted follows from `isMount` and `status`, not from `pveId` alone:
    after an unmount the provider keeps the last host in `pveId`."""
    record = _record(raw, "a disk")
    status = parse_enum(DiskStatus, record.get("status"), "status")
    mount_flag = parse_int(record.get("isMount"), "isMount")
    mounted = None if mount_flag not in (0, 1) else mount_flag == 1
    last_host = parse_text(record.get("pveId"), "pveId")
    # Mounted unless something says otherwise; and when nothing says anything, not mounted.
    said = status is not None or mounted is not None
    on_host = said and (status is None or status.is_mounted) and mounted is not False
    return Disk(
        id=_id(record.get("id"), "a disk's id"),
        name=parse_text(record.get("name"), "name"),
        host_id=last_host if on_host else None,
        area=parse_enum(Area, record.get("area"), "area"),
        size_gb=parse_int(record.get("memory"), "memory"),
        status=status,
        price_per_hour=parse_decimal(record.get("amount"), "amount"),
        created_at=parse_epoch_ms(record.get("createTime"), "createTime"),
        uuid=parse_text(record.get("uuid"), "uuid"),
        bus=parse_text(record.get("bus"), "bus"),
        last_host_id=last_host,
        mounted=mounted,
        billing_type=parse_enum(BillingType, record.get("useType"), "useType"),
    )


def parse_disk_page(data: Any, *, page: int, page_size: int = MAX_DISK_PAGE_SIZE) -> DiskPage:
    disks, total, effective = _page(data, "disk", parse_disk, page=page, page_size=page_size)
    return DiskPage(disks=disks, total=total, page=page, page_size=effective)


def parse_disk_usage(data: Any) -> int:
    """`memoryTotal`'s data `{"memory": n}`: GB held in the area (a bare number is taken too)."""
    value = data.get("memory") if isinstance(data, Mapping) else data
    if value is None and isinstance(data, Mapping):
        return 0  # the area holds nothing, said as null
    number = None if isinstance(value, bool) else _number_text(value)
    if number is None or number < 0:
        raise UnexpectedData(detail="the disk usage is not a number of GB")
    return int(number.to_integral_value())


# --- Personal images ----------------------------------------------------------------------------


def parse_personal_image(raw: Any) -> PersonalImage:
    record = _record(raw, "a personal image")
    return PersonalImage(
        id=_id(record.get("id"), "a personal image's id"),
        name=parse_text(record.get("imageName"), "imageName"),
        image_type=parse_text(record.get("imageType"), "imageType"),
        size=parse_int(record.get("imageSize"), "imageSize"),
        status=parse_enum(PersonalImageStatus, record.get("status"), "status"),
        created_at=parse_epoch_ms(record.get("createTime"), "createTime"),
        image_id=parse_text(record.get("imageId"), "imageId"),
        datacenter=parse_text(record.get("datacenterKey"), "datacenterKey"),
    )


def parse_personal_image_page(
    data: Any, *, page: int, page_size: int = MAX_PERSONAL_IMAGE_PAGE_SIZE
) -> PersonalImagePage:
    if isinstance(data, list):  # a bare list, as some of the provider's list calls answer
        data = {"data": data, "totalCounts": len(data)}
    images, total, effective = _page(
        data, "personal image", parse_personal_image, page=page, page_size=page_size
    )
    return PersonalImagePage(images=images, total=total, page=page, page_size=effective)
