"""Wall time of a full host sync against a simulator with upstream latency.

    .venv/bin/python bench/sync.py [--hosts 1000] [--latency 0.15] [--runs 5]

Target: a 1,000-host sync under 2 s with 150 ms of latency per upstream call.
"""

from common import options, report, setup_django, summary


def main() -> None:
    args = options(__doc__, hosts=1000, latency=0.15, runs=5)
    setup_django()

    from django.conf import settings

    from dashboard.models import Host
    from dashboard.services import hosts_sync
    from dashboard.upstream import reset_client
    from vmclient.simulator import Simulator, SimulatorConfig

    config = SimulatorConfig(latency=args.latency)
    with Simulator(config=config, hosts=args.hosts, rng_seed=7).start() as sim:
        settings.XDS_BASE_URL = sim.url
        reset_client()

        first, refresh = [], []
        for _ in range(args.runs):
            Host.objects.all().delete()
            first.append(_time(hosts_sync))  # an empty mirror: every host inserted
            refresh.append(_time(hosts_sync))  # a full mirror: compared, mostly unchanged
        calls = sim.request_count("/v1/pve/open/mypage")

    report(
        f"Full sync of {args.hosts} hosts, {args.latency * 1000:.0f} ms upstream latency, "
        f"{settings.XDS_SYNC_CONCURRENCY} pages at once",
        [
            ("into an empty mirror", summary(first)),
            ("into a full mirror", summary(refresh)),
            ("page requests per sync", f"{calls / (2 * args.runs):.0f}"),
        ],
    )


def _time(fn) -> float:
    import time

    start = time.perf_counter()
    result = fn()
    elapsed = (time.perf_counter() - start) * 1000
    if not result.ok:
        raise SystemExit(f"sync failed: {result.error}")
    return elapsed


if __name__ == "__main__":
    main()
