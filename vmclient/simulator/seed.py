"""The catalog (templates and images) and a realistic seeded fleet.

The catalog is fixed, so a test can name a template; the fleet is drawn from the simulator's
seeded random generator, so the same `rng_seed` and size give the same hosts (their times are
relative to the clock's start). It is built for speed: 5,000 hosts take a fraction of a second.

Fleet shape: about a third rentals, the rest pay-as-you-go; created over the past six months;
mostly running or off, a few booting, shutting down or charging; rentals expire from months ago
(EXPIRED) to months ahead, a few of them within three days.
"""

from __future__ import annotations

from decimal import Decimal

from vmclient.types import HostStatus

from .fleet import PAY_AS_YOU_GO, RENTAL, Fleet, SimImage, SimPackage

_RTX_4090 = "GeForce RTX 4090 24G"
_RTX_3090 = "GeForce RTX 3090 24G"
_A100 = "NVIDIA A100 80G"


# id, name, gpus, gpu model, memory GB, disk GB, cores, bandwidth, amount per hour, discount,
# type, purpose (0 office, 1 image processing, 2 algorithms), area (0 华南, 1 华西, 2 国际),
# use (0 pay-as-you-go only, 1 rental only, 2 both). gpus None: `gpuNumber` is left out.
# fmt: off
_PACKAGES = (
    ("Pi8tcH1NSd", "图像处理-Ubuntu", 1, _RTX_3090, 16, 512, 16, 8,
     "5.00", "0.9", "BZ", 1, 2, 2),
    ("kQ3vLmT8aZ", "普通办公-Windows", None, None, 8, 100, 4, 4,
     "0.80", "1", "BZ", 0, 0, 2),
    ("Rz7NwXe2Fb", "渲染-RTX4090", 1, _RTX_4090, 64, 1000, 16, 10,
     "8.80", "1", "BZ", 1, 0, 0),
    ("Hd4YpQs9Lc", "渲染-RTX4090x2", 2, _RTX_4090, 128, 2000, 32, 20,
     "17.00", "0.85", "BZ", 1, 1, 1),
    ("Ug6MbVt1Kx", "图像处理-3090-华西", 2, _RTX_3090, 64, 1000, 24, 10,
     "9.50", "0.9", "BL", 1, 1, 2),
    ("Wn2JcFr5Pq", "轻量办公-Linux", 0, None, 4, 50, 2, 2,
     "0.35", "1", "BL", 0, 1, 0),
    ("Ay8TeGh3Dm", "AI绘画-4090", 1, _RTX_4090, 32, 500, 16, 8,
     "6.50", "0.95", "BL", 1, 2, 2),
    ("Ls5QzKd7Vn", "深度学习-A100", 1, _A100, 128, 2048, 32, 20,
     "18.00", "0.85", "ceph", 2, 2, 1),
    ("Fc1XuPa4Ej", "算法训练-A100x4", 4, _A100, 256, 4096, 64, 50,
     "68.00", "0.8", "ceph", 2, 0, 1),
    ("Mv9SgBy6Rt", "推理服务-3090", 1, _RTX_3090, 32, 500, 8, 10,
     "4.20", "1", "ceph", 2, 1, 0),
)
# fmt: on


def catalog_packages() -> list[SimPackage]:
    """Ten templates: every type (BZ/BL/ceph), use type, area and purpose; with and without GPU."""
    return [
        SimPackage(*row[:8], Decimal(row[8]), Decimal(row[9]), *row[10:])  # type: ignore[arg-type]
        for row in _PACKAGES
    ]


def catalog_images() -> list[SimImage]:
    """Nine images, at least one Windows and one Linux for every template type."""
    return [
        SimImage("8989", "BZ", "Windows Server", "2022 数据中心中文版 x64"),
        SimImage("8990", "BZ", "Windows", "10 专业版 x64"),
        SimImage("8991", "BZ", "Ubuntu Server", "22.04 LTS x64"),
        SimImage("9101", "BL", "Windows", "10 专业版 x64"),
        SimImage("9102", "BL", "Debian", "12 x64"),
        SimImage("9103", "BL", "Ubuntu Server", "20.04 LTS x64"),
        SimImage("9201", "ceph", "Ubuntu Server", "22.04 LTS CUDA 12.1"),
        SimImage("9202", "ceph", "Debian", "12 x64"),
        SimImage("9203", "ceph", "Windows Server", "2019 数据中心版 x64"),
    ]


# Name patterns by purpose (pveMachineType); each pattern numbers its own hosts.
_NAME_PATTERNS = {
    0: ("office-pc-{:02d}", "办公机-{:02d}", "design-ws-{:02d}", "设计部-工作站-{:02d}"),
    1: ("render-node-{:03d}", "渲染节点-{:02d}", "ai-paint-{:02d}", "后期合成-{:02d}"),
    2: ("训练机-{:02d}", "train-a100-{:02d}", "推理服务-{:02d}", "dev-gpu-{:02d}"),
}

_DAY_MS = 86_400_000
_HOUR_MS = 3_600_000

# Cumulative weights of the status a non-expired host is in.
_STATUS_WEIGHTS = (
    (0.57, HostStatus.RUNNING),
    (0.90, HostStatus.OFF),
    (0.94, HostStatus.BOOTING),
    (0.97, HostStatus.SHUTTING_DOWN),
    (1.00, HostStatus.CHARGING),
)


def populate(fleet: Fleet, count: int) -> None:
    """Fill the catalog (if empty) and add `count` seeded hosts."""
    if not fleet.packages:
        fleet.packages.extend(catalog_packages())
    if not fleet.images:
        fleet.images.extend(catalog_images())
    rng = fleet.rng
    config = fleet.config
    now = fleet.clock.now_ms()
    images_by_type = {p.type: fleet.images_for(p) for p in fleet.packages}
    counters: dict[str, int] = {}
    new_hosts = {}
    fresh_left = max(1, count // 500)  # a few hosts bought a moment ago, however big the fleet
    for _ in range(count):
        package = rng.choice(fleet.packages)
        image = rng.choice(images_by_type[package.type])
        if package.use_type == 2:
            billing = RENTAL if rng.random() < 0.34 else PAY_AS_YOU_GO
        else:
            billing = package.use_type
        pattern = rng.choice(_NAME_PATTERNS[package.pve_machine_type])
        counters[pattern] = counters.get(pattern, 0) + 1
        create_time = now - rng.randrange(_HOUR_MS, 180 * _DAY_MS)

        status = _pick_status(rng.random())
        if status is HostStatus.CHARGING and billing == RENTAL:
            status = HostStatus.OFF  # only pay-as-you-go hosts settle a bill when they stop
        host = fleet.build_host(
            package,
            image,
            use_type=billing,
            create_time=create_time,
            status=status,
            name=pattern.format(counters[pattern]),
        )
        fleet.assign_connection(host)
        if not package.gpu_number and rng.random() < 0.3:
            host.gpu_number = None  # the upstream sends null as often as 0
        if rng.random() < 0.1:
            host.ipv4 = f"{host.address}:{host.port}"  # "sometimes host:port"

        if billing == RENTAL:
            host.expiration_time = _rental_expiry(rng, now)
            # Bought for a whole number of months before it expires, and never in the future.
            months = rng.choice((1, 1, 1, 3, 3, 12))
            host.create_time = min(host.expiration_time - months * 30 * _DAY_MS, create_time)
            if host.expiration_time <= now:
                host.status = HostStatus.EXPIRED

        if host.status in (HostStatus.BOOTING, HostStatus.SHUTTING_DOWN, HostStatus.CHARGING):
            seconds = {
                HostStatus.BOOTING: config.boot_seconds,
                HostStatus.SHUTTING_DOWN: config.shutdown_seconds,
                HostStatus.CHARGING: config.charging_seconds,
            }[host.status]
            host.transition_at = now + int(rng.uniform(0.2, 1.0) * seconds * 1000)
            if host.status is HostStatus.BOOTING and fresh_left and rng.random() < 0.5:
                fresh_left -= 1
                # Bought a moment ago and still on its first boot: no address yet, no reboot.
                host.create_time = now - rng.randrange(1000, 60_000)
                host.has_run = False
                host.address, host.port, host.ipv4 = "", 0, None
        while host.id in new_hosts:  # new_host_id only knows the hosts already in the fleet
            host.id = fleet.new_host_id()
        new_hosts[host.id] = host
    fleet.hosts.update(new_hosts)


def _pick_status(draw: float) -> HostStatus:
    for bound, status in _STATUS_WEIGHTS:
        if draw < bound:
            return status
    return HostStatus.RUNNING


def _rental_expiry(rng, now: int) -> int:
    """Spread from two months ago to six months ahead; about one in twelve within three days."""
    draw = rng.random()
    if draw < 0.12:
        return now - rng.randrange(_HOUR_MS, 60 * _DAY_MS)  # already expired
    if draw < 0.20:
        return now + rng.randrange(_HOUR_MS, 3 * _DAY_MS)  # expiring soon
    return now + rng.randrange(3 * _DAY_MS, 180 * _DAY_MS)
