"""The open API's endpoints: routing, authentication, parameters, and the data each answers.

HTTP-free: `handle` takes a parsed request and returns an `Answer` (HTTP status and JSON
document); the server adds faults, latency and the bytes on the wire.

Where the reference is silent, this module chooses:
- Parameters are checked before anything else: a missing, empty or unparseable parameter, a
  non-integer or non-positive `periodNumber`, a `periodType` outside 0..5, a `page`/`pageSize`
  below 1, an operate `type` other than "0"/"1", or a body that is not a JSON object all answer
  1007 (请求缺少必要参数). Ids sent as JSON numbers are accepted as strings, and integers sent as
  strings as integers, as Spring's Jackson would.
- `packAge/{type}` with a non-integer type answers 1007; an integer other than 0 or 1, 1003.
- An unknown path answers HTTP 404 and a known path with another method HTTP 405, both with a
  Spring-style JSON error body (not the envelope), before any token check.
- A missing, unknown or expired token answers code 401 with HTTP 200, like every business error.
- A path is routed as sent and each of its parameters decoded on its own, so a host id holding
  `/` (sent as `%2F`) stays one segment and reaches its host.
- Cloud disks (rules in `storage`): a missing `isMount` answers 1007, one other than 0/1 220020,
  a missing `pveId` where a host is needed 220015; `updateStatus` with a status other than 0
  or 5 answers 1003. Every disk call may first answer 220025 (`disk_calls_throttled`).
- Personal images answer on both spellings of their paths (`personal_image_paths`), with the
  id in the path, the body or the query; the list without `page`/`pageSize` serves 10.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from . import codes, wire
from .codes import ApiError
from .fleet import PAY_AS_YOU_GO, RENTAL, Fleet

TOKEN_HEADER = "Finovy-Access-Token"  # noqa: S105 (a header name)

_INTEGER = re.compile(r"^[+-]?\d+$")


@dataclass
class Answer:
    status: int  # HTTP status
    document: Any  # the JSON document
    code: int | None = None  # the envelope's code; None when the answer is not an envelope
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Request:
    method: str
    path: str  # decoded, for the log and the faults
    query: dict[str, str]
    body: bytes
    token: str | None
    raw_path: str = ""  # as sent (percent-encoded), for routing; `path` when not given

    @property
    def route_path(self) -> str:
        return self.raw_path or self.path


# A handler gets the fleet, the decoded parameters of its path (`match["id"]`) and the request.
Handler = Callable[[Fleet, Mapping[str, str], Request], Any]


# --- parameters ----------------------------------------------------------------------------------


def _json_body(request: Request) -> dict:
    try:
        body = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ApiError(codes.MISSING_PARAMETER) from exc
    if not isinstance(body, dict):
        raise ApiError(codes.MISSING_PARAMETER)
    return body


def _text(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        raise ApiError(codes.MISSING_PARAMETER)
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str) or not value.strip():
        raise ApiError(codes.MISSING_PARAMETER)
    return value


def _integer(value: Any) -> int:
    if isinstance(value, bool) or value is None:
        raise ApiError(codes.MISSING_PARAMETER)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INTEGER.match(value.strip()):
        return int(value)
    raise ApiError(codes.MISSING_PARAMETER)


def _positive(value: Any) -> int:
    number = _integer(value)
    if number < 1:
        raise ApiError(codes.MISSING_PARAMETER)
    return number


# --- endpoints -----------------------------------------------------------------------------------


def get_token(fleet: Fleet, match: Mapping[str, str], request: Request) -> Any:
    body = _json_body(request)
    uuid, secret = _text(body.get("uuid")), _text(body.get("secret"))
    token, lifetime = fleet.issue_token(uuid, secret)
    return {"token": token, "effectiveTime": wire.number(fleet.config, lifetime)}


def list_packages(fleet: Fleet, match: Mapping[str, str], request: Request) -> Any:
    billing = _integer(match["type"])
    if billing not in (PAY_AS_YOU_GO, RENTAL):
        raise ApiError(codes.BUSINESS_ERROR, "模板类型错误")
    return [wire.package_json(fleet.config, p) for p in fleet.packages_for(billing)]


def list_images(fleet: Fleet, match: Mapping[str, str], request: Request) -> Any:
    return [wire.image_json(image) for image in fleet.images]


def _created(fleet: Fleet, host_id: str) -> Any:
    # The original version did not say which host it bought.
    return host_id if fleet.config.create_returns_id else True


def create_pay_as_you_go(fleet: Fleet, match: Mapping[str, str], request: Request) -> Any:
    body = _json_body(request)
    package_id, image_id = _text(body.get("packageId")), _text(body.get("imageId"))
    return _created(fleet, fleet.create_host(package_id, image_id).id)


def create_rental(fleet: Fleet, match: Mapping[str, str], request: Request) -> Any:
    body = _json_body(request)
    package_id, image_id = _text(body.get("packageId")), _text(body.get("imageId"))
    period_number = _positive(body.get("periodNumber"))
    period_type = _integer(body.get("periodType"))
    if not 0 <= period_type <= 5:
        raise ApiError(codes.MISSING_PARAMETER)
    host = fleet.create_host(
        package_id, image_id, period_type=period_type, period_number=period_number
    )
    return _created(fleet, host.id)


def operate(fleet: Fleet, match: Mapping[str, str], request: Request) -> Any:
    kind = request.query.get("type", "").strip()
    if kind not in ("0", "1"):
        raise ApiError(codes.MISSING_PARAMETER)
    fleet.power(match["id"], on=kind == "1")
    return True


def reboot(fleet: Fleet, match: Mapping[str, str], request: Request) -> Any:
    fleet.reboot(match["id"])
    return True


def one_host(fleet: Fleet, match: Mapping[str, str], request: Request) -> Any:
    return wire.host_json(fleet.config, fleet.get_host(match["id"]))


def host_page(fleet: Fleet, match: Mapping[str, str], request: Request) -> Any:
    page = _positive(request.query.get("page"))
    page_size = _positive(request.query.get("pageSize"))
    hosts, total = fleet.page(page, page_size)
    return {
        "data": [wire.host_json(fleet.config, h) for h in hosts],
        "totalCounts": wire.number(fleet.config, total),
    }


def delete_host(fleet: Fleet, match: Mapping[str, str], request: Request) -> Any:
    return fleet.delete(match["id"])


# --- cloud disks ---------------------------------------------------------------------------------
# Every disk call may first answer 220025 (`disk_calls_throttled`).


def _area(value: Any) -> int:
    area = _integer(value)
    if area not in (0, 1, 2):
        raise ApiError(codes.BUSINESS_ERROR, "区域错误")
    return area


def create_disk(fleet: Fleet, match: Mapping[str, str], request: Request) -> Any:
    fleet.storage.throttle()
    body = _json_body(request)
    area, memory = _area(body.get("area")), _integer(body.get("memory"))
    if body.get("isMount") is None:
        raise ApiError(codes.MISSING_PARAMETER)
    try:
        mount = _integer(body.get("isMount"))
    except ApiError:
        mount = None
    if mount not in (0, 1):
        raise ApiError(codes.BAD_MOUNT_FLAG)
    host_id = None
    if mount == 1:
        if body.get("pveId") in (None, ""):
            raise ApiError(codes.HOST_ID_MISSING)
        host_id = _text(body.get("pveId"))
    return fleet.storage.create(area, memory, host_id).id


def mount_disk(fleet: Fleet, match: Mapping[str, str], request: Request) -> Any:
    fleet.storage.throttle()
    body = _json_body(request)
    disk_id = _text(body.get("id"))
    if body.get("pveId") in (None, ""):
        raise ApiError(codes.HOST_ID_MISSING)
    fleet.storage.mount(disk_id, _text(body.get("pveId")))
    return True


_DISK_FILTERS = ("pveId", "area", "useType", "status")


def disk_page(fleet: Fleet, match: Mapping[str, str], request: Request) -> Any:
    fleet.storage.throttle()
    body = _json_body(request)
    page, page_size = _positive(body.get("page")), _positive(body.get("pageSize"))
    filters: dict[str, Any] = {}
    for name in _DISK_FILTERS:
        value = body.get(name)
        if value is None or value == "":
            continue
        filters[name] = _text(value) if name == "pveId" else _integer(value)
    disks, total = fleet.storage.page(page, page_size, filters)
    return {
        "data": [wire.disk_json(fleet.config, d) for d in disks],
        "totalCounts": wire.number(fleet.config, total),
    }


def disk_info(fleet: Fleet, match: Mapping[str, str], request: Request) -> Any:
    fleet.storage.throttle()
    return wire.disk_json(fleet.config, fleet.storage.get_disk(match["id"]))


def update_disk_status(fleet: Fleet, match: Mapping[str, str], request: Request) -> Any:
    fleet.storage.throttle()
    body = _json_body(request)
    disk_id, status = _text(body.get("id")), _integer(body.get("status"))
    if status == 0:
        fleet.storage.unmount(disk_id)
    elif status == 5:
        fleet.storage.destroy(disk_id)
    else:
        raise ApiError(codes.BUSINESS_ERROR, "状态错误")
    return True  # accepted, not done: the disk changes later


def disk_usage(fleet: Fleet, match: Mapping[str, str], request: Request) -> Any:
    fleet.storage.throttle()
    return {"memory": wire.number(fleet.config, fleet.storage.usage(_area(match["area"])))}


# --- personal images -----------------------------------------------------------------------------
# Two spellings of each path (the docs' table and their examples, `personal_image_paths` says
# which answer); the id comes from the path, the body or the query, whichever has it.


def _spelling_answers(config, spelling: str | None) -> bool:
    return spelling is None or config.personal_image_paths in ("both", spelling)


def _body_if_any(request: Request) -> dict:
    return _json_body(request) if request.body.strip() else {}


def _image_id(match: Mapping[str, str], body: dict, request: Request) -> Any:
    for value in (match.get("id"), body.get("id"), request.query.get("id")):
        if value not in (None, ""):
            return value
    raise ApiError(codes.MISSING_PARAMETER)


def _image_name(value: Any) -> str:
    return _text(value).strip()


def image_page(fleet: Fleet, match: Mapping[str, str], request: Request) -> Any:
    query = request.query
    # Without page and pageSize, the first ten (a Spring pager's default).
    page = _positive(query["page"]) if query.get("page") else 1
    page_size = _positive(query["pageSize"]) if query.get("pageSize") else 10
    filters = {
        name: query[name]
        for name in ("imageName", "imageType", "datacenterKey", "status")
        if query.get(name)
    }
    images, total = fleet.storage.image_page(page, page_size, filters)
    return {
        "data": [wire.personal_image_json(fleet.config, i) for i in images],
        "totalCounts": wire.number(fleet.config, total),
    }


def add_image(fleet: Fleet, match: Mapping[str, str], request: Request) -> Any:
    body = _json_body(request)
    fleet.storage.add_image(_text(body.get("machineId")), _image_name(body.get("imageName")))
    return True  # the docs' answer: not the new image's id


def update_image(fleet: Fleet, match: Mapping[str, str], request: Request) -> Any:
    body = _json_body(request)
    image_id = _image_id(match, body, request)
    fleet.storage.rename_image(image_id, _image_name(body.get("imageName")))
    return True


def delete_image(fleet: Fleet, match: Mapping[str, str], request: Request) -> Any:
    body = _body_if_any(request)
    fleet.storage.delete_image(_image_id(match, body, request))
    return True


_DISKS = "/v1/PveMachineHardDisk/open/"
_IMAGES = {"documented": "/v1/open/image/personal/", "examples": "/v1/PveMachine/image/"}


# The spelling each personal image route belongs to (a route of a spelling switched off is not
# there: HTTP 404, before any token check).
_SPELLING_OF: dict[re.Pattern, str] = {}


def _image_routes() -> list[tuple[str, re.Pattern, Handler, bool]]:
    routes = []
    for spelling, prefix in _IMAGES.items():
        spelled = [
            ("GET", re.compile(prefix + "getList"), image_page, True),
            ("POST", re.compile(prefix + "add"), add_image, True),
            ("PUT", re.compile(prefix + r"update(?:/(?P<id>[^/]+))?"), update_image, True),
            ("DELETE", re.compile(prefix + r"delete(?:/(?P<id>[^/]+))?"), delete_image, True),
        ]
        _SPELLING_OF.update({pattern: spelling for _, pattern, _, _ in spelled})
        routes += spelled
    return routes


# method, path pattern, handler, needs a token
ROUTES: list[tuple[str, re.Pattern, Handler, bool]] = [
    ("POST", re.compile(r"/v1/auth/getToken"), get_token, False),
    ("GET", re.compile(r"/v1/pve/open/packAge/(?P<type>[^/]+)"), list_packages, True),
    ("GET", re.compile(r"/v1/pve/open/image"), list_images, True),
    ("POST", re.compile(r"/v1/pve/open/createquantity"), create_pay_as_you_go, True),
    ("POST", re.compile(r"/v1/pve/open/createRent"), create_rental, True),
    ("GET", re.compile(r"/v1/pve/open/operate/(?P<id>[^/]+)"), operate, True),
    ("GET", re.compile(r"/v1/pve/open/reboot/(?P<id>[^/]+)"), reboot, True),
    ("GET", re.compile(r"/v1/pve/open/one/(?P<id>[^/]+)"), one_host, True),
    ("GET", re.compile(r"/v1/pve/open/mypage"), host_page, True),
    ("DELETE", re.compile(r"/v1/pve/open/delete/(?P<id>[^/]+)"), delete_host, True),
    ("POST", re.compile(_DISKS + "create"), create_disk, True),
    ("POST", re.compile(_DISKS + "pveCreate"), mount_disk, True),
    ("POST", re.compile(_DISKS + "getList"), disk_page, True),
    ("GET", re.compile(_DISKS + "info/(?P<id>[^/]+)"), disk_info, True),
    ("PUT", re.compile(_DISKS + "updateStatus"), update_disk_status, True),
    ("GET", re.compile(_DISKS + "memoryTotal/(?P<area>[^/]+)"), disk_usage, True),
    *_image_routes(),
]

# What `data` looks like on success, by path prefix (for the wrong_data fault).
DATA_SHAPES = {
    "/v1/auth/getToken": dict,
    "/v1/pve/open/packAge": list,
    "/v1/pve/open/image": list,
    "/v1/pve/open/one": dict,
    "/v1/pve/open/mypage": dict,
    _DISKS + "create": str,  # the new disk's id
    _DISKS + "getList": dict,
    _DISKS + "info": dict,
    _DISKS + "memoryTotal": dict,
    _IMAGES["documented"] + "getList": dict,
    _IMAGES["examples"] + "getList": dict,
}


def data_shape(path: str) -> type:
    for prefix, shape in DATA_SHAPES.items():
        if path.startswith(prefix):
            return shape
    return bool


def _http_error(fleet: Fleet, status: int, error: str, path: str) -> Answer:
    when = datetime.fromtimestamp(fleet.clock.now(), UTC)
    document = {
        "timestamp": when.isoformat(timespec="milliseconds"),
        "status": status,
        "error": error,
        "path": path,
    }
    return Answer(status, document)


def handle(fleet: Fleet, request: Request) -> Answer:
    """Answer one API request.

    Routes match the path as sent, each parameter decoded on its own: a host id holding a `/`
    arrives as `%2F` and stays one segment."""
    candidates = [
        (m, r, h, auth)
        for m, r, h, auth in ROUTES
        if r.fullmatch(request.route_path) and _spelling_answers(fleet.config, _SPELLING_OF.get(r))
    ]
    if not candidates:
        return _http_error(fleet, 404, "Not Found", request.path)
    route = next((c for c in candidates if c[0] == request.method), None)
    if route is None:
        answer = _http_error(fleet, 405, "Method Not Allowed", request.path)
        answer.headers["Allow"] = ", ".join(sorted({c[0] for c in candidates}))
        return answer
    _, pattern, handler, needs_token = route
    config = fleet.config
    try:
        if needs_token:
            fleet.check_token(request.token)
        # One lock for the whole call, so a host is never serialised halfway through a change.
        with fleet.lock:
            match = pattern.fullmatch(request.route_path)
            params = {
                name: unquote(value)
                for name, value in match.groupdict().items()
                if value is not None
            }
            data = handler(fleet, params, request)
            return Answer(200, wire.envelope(config, codes.SUCCESS, data), codes.SUCCESS)
    except ApiError as error:
        return Answer(200, wire.envelope(config, error.code, None, error.msg), error.code)
