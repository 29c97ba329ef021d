"""Fixtures that start the upstream simulator on a free loopback port (owned by the simulator).

- `simulator`: a fresh `Simulator(hosts=0)` with the default config (30 s boots: tests advance
  `simulator.clock` instead of sleeping), stopped after the test.
- `make_simulator(hosts=0, rng_seed=1, **config_overrides)`: for another config or a seeded
  fleet; every simulator it starts is stopped after the test.
- `upstream`: a `RawUpstream` (plain `requests`, already holding a token) on `simulator`, for
  tests that speak the wire format directly.

Starting one takes about a millisecond; stopping, a few dozen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from vmclient.simulator import Simulator, SimulatorConfig


class RawUpstream:
    """Calls the simulator over HTTP with `requests` and returns the decoded JSON documents."""

    def __init__(self, sim: Simulator, *, timeout: float = 5.0) -> None:
        self.sim = sim
        self.timeout = timeout
        self.session = requests.Session()
        self.token: str | None = None

    def authenticate(self) -> str:
        answer = self.post("/v1/auth/getToken", {"uuid": self.sim.uuid, "secret": self.sim.secret})
        assert answer["code"] == 0, answer
        self.token = answer["data"]["token"]
        return self.token

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if self.token is not None:
            headers.setdefault("Finovy-Access-Token", self.token)
        kwargs.setdefault("timeout", self.timeout)
        return self.session.request(method, self.sim.url + path, headers=headers, **kwargs)

    def get(self, path: str, **params: Any) -> dict:
        return self.request("GET", path, params=params).json()

    def post(self, path: str, body: Any) -> dict:
        return self.request("POST", path, json=body).json()

    def delete(self, path: str) -> dict:
        return self.request("DELETE", path).json()

    def close(self) -> None:
        self.session.close()


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    sim = Simulator(hosts=0).start()
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def make_simulator() -> Iterator[Callable[..., Simulator]]:
    started: list[Simulator] = []

    def make(*, hosts: int = 0, rng_seed: int = 1, **config_overrides: Any) -> Simulator:
        sim = Simulator(config=SimulatorConfig(**config_overrides), hosts=hosts, rng_seed=rng_seed)
        started.append(sim.start())
        return sim

    try:
        yield make
    finally:
        for sim in started:
            sim.stop()


@pytest.fixture
def upstream(simulator: Simulator) -> Iterator[RawUpstream]:
    raw = RawUpstream(simulator)
    raw.authenticate()
    try:
        yield raw
    finally:
        raw.close()
