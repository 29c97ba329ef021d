"""A faithful, stateful simulator of the Xuandashi open API (its open API for rented hosts).

It imports nothing from Django: tests start it in-process on a free loopback port, the demo runs
it as a process (`manage.py simulator`).

    from vmclient.simulator import Simulator, SimulatorConfig, Fault

    with Simulator(config=SimulatorConfig.original(), hosts=200, rng_seed=1).start() as sim:
        sim.url, sim.uuid, sim.secret     # where and as whom to connect
        sim.add_fault(Fault("html_502", path="/v1/pve/open/mypage"))
        sim.clock.advance(31)             # booting hosts are running on their next read
        sim.fleet.storage.add_disk(pve_id="QzyHraLXEr", status=2)  # a disk in use there
        sim.request_count("/v1/pve/open/createquantity")

Modules: `config` (switches and faults), `clock` (simulated time), `codes` (envelope codes),
`fleet` (state and business rules of hosts), `storage` (cloud disks and personal images), `seed`
(catalog and seeded fleet), `wire` (JSON shapes per document version), `api` (endpoints),
`faults` (fault rendering), `server` (HTTP and control endpoints), `app` (`Simulator`).
"""

from .app import RequestRecord, Simulator
from .clock import Clock
from .codes import ApiError
from .config import Fault, SimulatorConfig
from .fleet import SimHost, SimImage, SimPackage

__all__ = [
    "ApiError",
    "Clock",
    "Fault",
    "RequestRecord",
    "SimHost",
    "SimImage",
    "SimPackage",
    "Simulator",
    "SimulatorConfig",
]
