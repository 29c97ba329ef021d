"""Injected faults: which request a fault hits, and what the answer then looks like.

`hang` and `drop` are about timing and the connection, so the server carries them out; every
other kind is rendered here into a status, a body and a content type.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from . import codes, wire
from .api import Answer, data_shape
from .config import Fault, SimulatorConfig

# nginx's own page, as a gateway in front of the API sends it when the service behind is down.
_NGINX_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
_PLAIN_TEXT = "系统繁忙，请稍后再试".encode()
# A wrong shape for each expected shape of `data`.
_WRONG = {list: "系统繁忙", dict: "系统繁忙", bool: ["unexpected"], str: ["unexpected"]}
_SAMPLE = {list: [], dict: {}, bool: True, str: "SampleDisk"}


class FaultList:
    """The armed faults, first added first matched; thread-safe."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, method: str, path: str) -> Fault | None:
        """The first fault matching the request, counted down (and dropped at zero)."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._faults.remove(fault)
                    return fault
        return None

    def snapshot(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)


@dataclass
class Rendered:
    status: int
    body: bytes
    content_type: str


def render(fault: Fault, config: SimulatorConfig, path: str, answer: Answer | None) -> Rendered:
    """The answer `fault` gives; `answer` is the real one when the request took effect."""
    kind = fault.kind
    if kind == "html_502":
        return Rendered(502, _NGINX_502, "text/html")
    if kind == "error_500":
        return _envelope(200, wire.envelope(config, codes.SYSTEM_ERROR))
    if kind == "interface_503":
        return _envelope(200, wire.envelope(config, codes.INTERFACE_ERROR))
    if kind == "http_500":
        return _envelope(500, wire.envelope(config, codes.SYSTEM_ERROR))
    if kind == "not_json":
        return Rendered(200, _PLAIN_TEXT, "text/plain;charset=UTF-8")
    if kind == "raw":
        return Rendered(fault.status, fault.body, fault.content_type)
    if kind == "truncated_json":
        document = answer.document if answer else _sample(config, path)
        body = wire.dumps(document)
        return Rendered(answer.status if answer else 200, body[: len(body) // 2], wire.CONTENT_TYPE)
    if kind == "no_code":
        document = answer.document if answer and answer.code is not None else _sample(config, path)
        return _envelope(200, {k: v for k, v in document.items() if k != "code"})
    if kind == "wrong_data":
        if answer is not None and answer.code == codes.SUCCESS:
            real = answer.document["data"]
            wrong = "系统繁忙" if isinstance(real, list | dict) else ["unexpected"]
        else:
            wrong = _WRONG[data_shape(path)]
        return _envelope(200, wire.envelope(config, codes.SUCCESS, wrong))
    raise ValueError(f"fault kind {kind!r} is not rendered here")


def _sample(config: SimulatorConfig, path: str) -> dict[str, Any]:
    """A success envelope of the right shape, for faults that did not let the request run."""
    return wire.envelope(config, codes.SUCCESS, _SAMPLE[data_shape(path)])


def _envelope(status: int, document: dict) -> Rendered:
    return Rendered(status, wire.dumps(document), wire.CONTENT_TYPE)
