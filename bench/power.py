"""Time until 100 simultaneous power actions are all submitted upstream, by a real Celery
worker in its own process.

    .venv/bin/python bench/power.py [--hosts 100] [--concurrency 4] [--runs 3]

Operations are requested the way the view does (saved, then published after commit); the clock
stops when the simulator has received every `operate` call. Uses the broker in
CELERY_BROKER_URL (Redis in production) or, unset, the embedded filesystem transport.
Target: 100 power actions submitted within 5 s.
"""

import os
import subprocess
import sys
import time
import uuid

from common import ROOT, options, report, setup_django, summary


def main() -> None:
    args = options(__doc__, hosts=100, concurrency=4, runs=3)
    setup_django()

    from django.conf import settings
    from django.contrib.auth import get_user_model

    from dashboard.models import Host, Operation
    from dashboard.services import hosts_sync, operation_request
    from dashboard.upstream import reset_client
    from vmclient.simulator import Simulator
    from vmclient.types import HostStatus

    user = get_user_model().objects.create_superuser("bench", password="bench-password-1")
    samples, request_ms = [], []
    with Simulator(hosts=0, config=None).start() as sim:
        sim.config.shutdown_seconds = sim.config.boot_seconds = 1.0
        for i in range(args.hosts):
            sim.fleet.add_host(name=f"bench-{i:03d}", status=HostStatus.RUNNING)
        settings.XDS_BASE_URL = os.environ["XDS_BASE_URL"] = sim.url
        reset_client()
        assert hosts_sync().ok

        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "dashboard", "worker", "--without-mingle",
             "--without-gossip", f"--concurrency={args.concurrency}", "--loglevel=WARNING"],
            cwd=ROOT,
            env={**os.environ, "DJANGO_LOG_LEVEL": "WARNING"},
        )  # fmt: skip
        try:
            _wait(lambda: sim.request_count("/v1/pve/open/mypage") > 1, 60, "the worker to start")
            for run in range(args.runs):
                kind = Operation.Kind.POWER_OFF if run % 2 == 0 else Operation.Kind.POWER_ON
                target = HostStatus.OFF if kind == Operation.Kind.POWER_OFF else HostStatus.RUNNING
                sim.clear_request_log()
                start = time.perf_counter()
                for host in Host.objects.present().order_by("id"):
                    operation_request(user=user, kind=kind, host=host, idempotency_key=uuid.uuid4())
                request_ms.append((time.perf_counter() - start) * 1000)
                _wait(lambda: sim.request_count("/v1/pve/open/operate/") >= args.hosts, 120,
                      "every power action to be submitted")  # fmt: skip
                samples.append((time.perf_counter() - start) * 1000)
                # Let every operation settle before the next run (one action per host at a time).
                sim.clock.advance(60)
                _wait(
                    lambda: (
                        not Operation.objects.filter(state__in=Operation.ACTIVE_STATES).exists()
                    ),
                    300,
                    "the operations to finish",
                )
                settled = Operation.objects.filter(kind=kind, state="succeeded").count()
                assert settled >= args.hosts, f"only {settled} {kind} operations succeeded"
                assert all(h.status == target for h in sim.fleet.hosts.values())
        finally:
            worker.terminate()
            worker.wait(30)

    report(
        f"{args.hosts} simultaneous power actions, one worker process "
        f"(concurrency {args.concurrency}), broker {settings.CELERY_BROKER_URL.split(':')[0]}",
        [
            ("all requested (saved and published)", summary(request_ms)),
            ("all submitted upstream", summary(samples)),
        ],
    )


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.02)


if __name__ == "__main__":
    main()
