"""`Simulator`: the fleet, clock, faults and HTTP server, started and stopped together."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from random import Random
from typing import Any

from . import seed, storage
from .clock import Clock
from .config import Fault, SimulatorConfig
from .faults import FaultList
from .fleet import Fleet
from .server import SimulatorHTTPServer


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One API request as it arrived (control endpoints are not recorded).

    `time` is the simulated clock in epoch seconds; `query` holds the last value of each name.
    """

    method: str
    path: str
    query: dict[str, str]
    time: float

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class Simulator:
    """A stateful simulator of the Xuandashi open API, served over HTTP on loopback.

    >>> with Simulator(hosts=50).start() as sim:
    ...     requests.post(f"{sim.url}/v1/auth/getToken", json={"uuid": sim.uuid, ...})
    """

    def __init__(
        self,
        config: SimulatorConfig | None = None,
        hosts: int = 0,
        rng_seed: int = 1,
        *,
        clock: Clock | None = None,
    ) -> None:
        self.clock = clock or Clock()
        self.rng_seed = rng_seed
        self._config = config if config is not None else SimulatorConfig()
        self.fleet = Fleet(self._config, self.clock, Random(rng_seed))
        seed.populate(self.fleet, hosts)
        if hosts:
            storage.seed(self.fleet.storage, list(self.fleet.hosts.values()), rng_seed)
        self.faults = FaultList()
        self.request_log: list[RequestRecord] = []
        self._log_lock = threading.Lock()
        self._server: SimulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # --- configuration -------------------------------------------------------------------------

    @property
    def config(self) -> SimulatorConfig:
        return self._config

    @config.setter
    def config(self, config: SimulatorConfig) -> None:
        self._config = config
        self.fleet.config = config

    @property
    def uuid(self) -> str:
        return self._config.uuid

    @property
    def secret(self) -> str:
        return self._config.secret

    def add_fault(self, fault: Fault) -> Fault:
        """Arm a fault; its `times` counts down as it fires."""
        self.faults.add(fault)
        return fault

    def clear_faults(self) -> None:
        self.faults.clear()

    def expire_tokens(self) -> None:
        """Every token issued so far stops working: the next call answers code 401."""
        self.fleet.expire_tokens()

    # --- the request log -----------------------------------------------------------------------

    def _record(self, method: str, path: str, query: dict[str, str]) -> None:
        record = RequestRecord(method, path, query, self.clock.now())
        with self._log_lock:
            self.request_log.append(record)

    def request_log_snapshot(self) -> list[RequestRecord]:
        with self._log_lock:
            return list(self.request_log)

    def request_count(self, path_prefix: str | None = None) -> int:
        """API requests received so far, optionally only those whose path starts so."""
        log = self.request_log_snapshot()
        if path_prefix is None:
            return len(log)
        return sum(1 for record in log if record.path.startswith(path_prefix))

    def clear_request_log(self) -> None:
        with self._log_lock:
            self.request_log.clear()

    def state(self) -> dict[str, Any]:
        """What `GET /_sim/state` shows."""
        counts = self.fleet.status_counts()
        stored = self.fleet.storage.counts()
        return {
            "hosts": sum(counts.values()),
            "counts": counts,
            "disks": sum(stored["disks"].values()),
            "disk_counts": stored["disks"],
            "personal_images": sum(stored["personal_images"].values()),
            "personal_image_counts": stored["personal_images"],
            "config": self._config.as_json(),
            "now_ms": self.clock.now_ms(),
            "live_tokens": self.fleet.live_token_count(),
            "faults": [fault.as_json() for fault in self.faults.snapshot()],
            "requests": len(self.request_log),
        }

    # --- serving -------------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> Simulator:
        """Serve in a daemon thread; port 0 picks a free port (see `url`)."""
        if self._server is not None:
            raise RuntimeError("the simulator is already running")
        self._stopping.clear()
        self._server = SimulatorHTTPServer((host, port), self)
        self._thread = threading.Thread(
            target=self._server.serve_until_stopped,
            name=f"xds-simulator-{self._server.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the simulator is not running; call start() first")
        host, port = self._server.server_address[:2]
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def _sleep(self, seconds: float) -> bool:
        """Wait, unless the simulator stops first; True when it stopped."""
        return self._stopping.wait(seconds)

    def stop(self) -> None:
        """Stop serving and close every connection; safe to call twice."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.stop_serving()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        server.server_close()
        server.close_connections()

    def __enter__(self) -> Simulator:
        if self._server is None:
            self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
