"""The simulator on the wire: a threaded HTTP/1.1 server on loopback.

Every API request is logged (method, path, query; never headers or bodies, so neither the secret
nor a token reaches a log line or the request log), then meets its fault if one is armed, waits
the configured latency, and is answered by `api.handle`.

`/_sim/...` are control endpoints for tests and demos that run the simulator in another process.
They need no token, are never logged, delayed or faulted (so `DELETE /_sim/faults` always works):
- `GET /_sim/state`: host counts by status, the config (without the secret), the clock, faults
- `POST /_sim/config`: a JSON object of config field updates
- `POST /_sim/faults`: a Fault as JSON (`body` as a string); `DELETE /_sim/faults` clears them
- `POST /_sim/clock`: `{"advance": seconds}`
- `POST /_sim/expire-tokens`
- `GET /_sim/requests`: the count and the last 100; `DELETE /_sim/requests` clears the log
- `POST /_sim/hosts`: add a host (a JSON object of `SimHost` field overrides), answered as a host
- `POST /_sim/disks`: add a disk (a JSON object of `SimDisk` field overrides, e.g. `{"pve_id":
  "...", "status": 2}`), answered as a disk
- `POST /_sim/disk-arrears`: `{"id": "...", "arrears": true}` stops a disk for arrears, `false`
  pays it; answered as the disk
"""

from __future__ import annotations

import contextlib
import json
import logging
import selectors
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from . import api, faults, wire
from .codes import ApiError
from .config import Fault

if TYPE_CHECKING:
    from .app import Simulator

logger = logging.getLogger("vmclient.simulator")

CONTROL_PREFIX = "/_sim/"
RECENT_REQUESTS = 100


class SimulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True  # a hanging answer must not keep the process alive
    request_queue_size = 128  # the default 5 drops parallel connects (the dashboard reads pages
    # in parallel) and the client's SYN retry costs a whole second

    def __init__(self, address: tuple[str, int], sim: Simulator) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        # Before binding: a failed bind calls server_close, which closes these too, and must
        # leave the bind's own error (address in use, no such address) to the caller.
        self._wake_reader, self._wake_writer = socket.socketpair()
        super().__init__(address, SimulatorRequestHandler)
        self.sim = sim
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._stopped = threading.Event()

    def serve_until_stopped(self) -> None:
        """Accept connections until `stop_serving`, which wakes the loop at once.

        `serve_forever` only notices a shutdown at its next poll; tests start and stop a
        simulator each, so that poll would cost more than the test.
        """
        with selectors.DefaultSelector() as selector:
            selector.register(self, selectors.EVENT_READ)
            selector.register(self._wake_reader, selectors.EVENT_READ)
            while not self._stopped.is_set():
                for key, _ in selector.select():
                    if key.fileobj is self and not self._stopped.is_set():
                        self._handle_request_noblock()

    def stop_serving(self) -> None:
        self._stopped.set()
        with contextlib.suppress(OSError):
            self._wake_writer.send(b"x")

    def server_close(self) -> None:
        super().server_close()
        self._wake_reader.close()
        self._wake_writer.close()

    def track(self, connection: socket.socket, *, open_: bool) -> None:
        with self._connections_lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def close_connections(self) -> None:
        """Cut kept-alive connections, so a stopped simulator really stops answering."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class SimulatorRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as clients pool connections
    server_version = "nginx"  # the provider sits behind nginx
    sys_version = ""
    timeout = 60  # an idle kept-alive connection is closed after this
    # Headers and body go out in two writes; without this, Nagle and delayed ACKs add 40 ms.
    disable_nagle_algorithm = True
    server: SimulatorHTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, open_=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, open_=False)

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        # http.server logs every request to stderr; we log our own lines instead.
        logger.debug("http.server: " + format, *args)

    # --- one request ---------------------------------------------------------------------------

    def _serve(self) -> None:
        sim = self.server.sim
        split = urlsplit(self.path)
        path = unquote(split.path)
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        body = self._read_body()
        method = self.command.upper()
        try:
            if path.startswith(CONTROL_PREFIX):
                self._control(method, path, body)
                return
            sim._record(method, path, query)
            token = self.headers.get(api.TOKEN_HEADER)
            request = api.Request(method, path, query, body, token, raw_path=split.path)
            self._answer_api(request)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (a timeout); nothing to tell
        except Exception:
            logger.exception("simulator failed on %s %s", method, path)
            document = wire.envelope(sim.config, 500)
            self._send(500, wire.dumps(document), wire.CONTENT_TYPE)

    def _answer_api(self, request: api.Request) -> None:
        sim = self.server.sim
        fault = sim.faults.take(request.method, request.path)
        if sim.config.latency > 0 and sim._sleep(sim.config.latency):
            return self._drop()
        if fault is None:
            return self._send_answer(request, api.handle(sim.fleet, request))
        if fault.kind == "hang":
            # The provider finishes the work whether or not the client still waits.
            answer = api.handle(sim.fleet, request) if fault.phase == "after" else None
            if sim._sleep(fault.seconds):
                return self._drop()
            return self._send_answer(request, answer or api.handle(sim.fleet, request), fault)
        answer = api.handle(sim.fleet, request) if fault.phase == "after" else None
        if fault.kind == "drop":
            self._log(request, "dropped", fault)
            return self._drop()
        rendered = faults.render(fault, sim.config, request.path, answer)
        self._log(request, rendered.status, fault)
        self._send(rendered.status, rendered.body, rendered.content_type)

    def _send_answer(
        self, request: api.Request, answer: api.Answer, fault: Fault | None = None
    ) -> None:
        self._log(request, answer.status, fault, answer.code)
        body = wire.dumps(answer.document)
        self._send(answer.status, body, wire.CONTENT_TYPE, answer.headers)

    def _log(
        self, request: api.Request, status: Any, fault: Fault | None, code: int | None = None
    ) -> None:
        # Path and query only: tokens travel in a header and the secret in a body.
        query = "&".join(f"{k}={v}" for k, v in request.query.items())
        target = f"{request.path}?{query}" if query else request.path
        extra = f" code={code}" if code is not None else ""
        extra += f" fault={fault.kind}/{fault.phase}" if fault else ""
        logger.info("%s %s -> %s%s", request.method, target, status, extra)

    # --- the wire ------------------------------------------------------------------------------

    def _read_body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        try:
            size = int(length)
        except ValueError:
            return b""
        return self.rfile.read(size) if size > 0 else b""

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _drop(self) -> None:
        """Close the connection without a byte of answer."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    # --- control endpoints ---------------------------------------------------------------------

    def _control(self, method: str, path: str, body: bytes) -> None:
        sim = self.server.sim
        action = path[len(CONTROL_PREFIX) :].strip("/")
        handlers = {
            ("GET", "state"): lambda _: sim.state(),
            ("POST", "config"): self._control_config,
            ("POST", "faults"): self._control_add_fault,
            ("DELETE", "faults"): lambda _: sim.clear_faults() or {"ok": True},
            ("POST", "clock"): self._control_clock,
            ("POST", "expire-tokens"): lambda _: sim.expire_tokens() or {"ok": True},
            ("GET", "requests"): lambda _: self._control_requests(),
            ("DELETE", "requests"): lambda _: sim.clear_request_log() or {"ok": True},
            ("POST", "hosts"): self._control_add_host,
            ("POST", "disks"): self._control_add_disk,
            ("POST", "disk-arrears"): self._control_disk_arrears,
        }
        handler = handlers.get((method, action))
        if handler is None:
            known = any(name == action for _, name in handlers)
            status = 405 if known else 404
            return self._control_reply(status, {"error": "no such control endpoint"})
        try:
            payload = json.loads(body.decode("utf-8")) if body.strip() else {}
            document = handler(payload)
        except (ValueError, TypeError) as exc:
            return self._control_reply(400, {"error": str(exc)})
        self._control_reply(200, document)

    def _control_reply(self, status: int, document: Any) -> None:
        self._send(status, wire.dumps(document), "application/json")

    def _control_config(self, payload: Any) -> dict:
        if not isinstance(payload, dict):
            raise ValueError("expected a JSON object of config fields")
        self.server.sim.config.update(payload)
        return self.server.sim.config.as_json()

    def _control_add_fault(self, payload: Any) -> dict:
        if not isinstance(payload, dict):
            raise ValueError("expected a JSON object describing a fault")
        fault = Fault.from_json(payload)
        self.server.sim.add_fault(fault)
        return {"ok": True, "fault": fault.as_json()}

    def _control_clock(self, payload: Any) -> dict:
        seconds = payload.get("advance") if isinstance(payload, dict) else None
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise ValueError('expected {"advance": seconds}')
        self.server.sim.clock.advance(seconds)
        return {"ok": True, "now_ms": self.server.sim.clock.now_ms()}

    def _control_requests(self) -> dict:
        log = self.server.sim.request_log_snapshot()
        return {
            "count": len(log),
            "requests": [record.as_json() for record in log[-RECENT_REQUESTS:]],
        }

    def _control_add_host(self, payload: Any) -> dict:
        if not isinstance(payload, dict):
            raise ValueError("expected a JSON object of host fields")
        sim = self.server.sim
        host = sim.fleet.add_host(**payload)
        with sim.fleet.lock:
            return wire.host_json(sim.config, host)

    def _control_add_disk(self, payload: Any) -> dict:
        if not isinstance(payload, dict):
            raise ValueError("expected a JSON object of disk fields")
        sim = self.server.sim
        disk = sim.fleet.storage.add_disk(**payload)
        with sim.fleet.lock:
            return wire.disk_json(sim.config, disk)

    def _control_disk_arrears(self, payload: Any) -> dict:
        if not isinstance(payload, dict) or not isinstance(payload.get("arrears"), bool):
            raise ValueError('expected {"id": "...", "arrears": true or false}')
        sim = self.server.sim
        with sim.fleet.lock:
            try:
                disk = sim.fleet.storage.set_arrears(str(payload.get("id")), payload["arrears"])
            except ApiError as exc:
                raise ValueError(f"no disk {payload.get('id')!r}") from exc
            return wire.disk_json(sim.config, disk)
