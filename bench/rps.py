"""Requests per second that gunicorn sustains on the live row partial (`/hosts/live/`).

    .venv/bin/python bench/rps.py [--hosts 1000] [--workers 2] [--seconds 10]

Needs `wrk` (Debian package wrk). Gunicorn runs with the image's config file on loopback; wrk
sends a signed-in poll for 10 changing hosts, one of which moved, as a page would.
"""

import os
import re
import shutil
import subprocess

from common import free_port, options, report, session_cookie, setup_django, start_gunicorn


def main() -> None:
    args = options(__doc__, hosts=1000, workers=2, connections=16, seconds=10)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    setup_django()

    from django.conf import settings

    from dashboard.models import Host
    from dashboard.selectors import sync_state_get
    from dashboard.services import hosts_sync
    from dashboard.upstream import reset_client
    from vmclient.simulator import Simulator

    with Simulator(hosts=args.hosts, rng_seed=3).start() as sim:
        settings.XDS_BASE_URL = sim.url
        reset_client()
        assert hosts_sync().ok
        cookie = session_cookie()
        rows = list(Host.objects.order_by("-created_at", "id")[:10])
        Host.objects.filter(id__in=[h.id for h in rows]).update(status=1)
        versions = ",".join(
            f"{h.id}:{h.version - 1 if i == 0 else h.version}" for i, h in enumerate(rows)
        )
        path = f"/hosts/live/?v={versions}&s={sync_state_get().stamp}"
        calls_before = sim.request_count()

        port = free_port()
        env = {"XDS_VAR_DIR": os.environ["XDS_VAR_DIR"], "XDS_BASE_URL": sim.url}
        server = start_gunicorn(port, args.workers, env)
        try:
            out = subprocess.run(
                ["wrk", "-t2", f"-c{args.connections}", f"-d{args.seconds}s", "--latency",
                 "-H", f"Cookie: {cookie}", f"http://127.0.0.1:{port}{path}"],
                capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
        finally:
            server.terminate()
            server.wait(30)
        upstream_calls = sim.request_count() - calls_before

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE).group(1)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE).group(1)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    report(
        f"gunicorn ({args.workers} sync workers) on the row partial, {args.hosts} hosts, "
        f"wrk -t2 -c{args.connections} -d{args.seconds}s",
        [
            ("requests per second", rps),
            ("latency p50 / p99", f"{p50} / {p99}"),
            ("answers other than 2xx/3xx", non2xx.group(1) if non2xx else "0"),
            ("upstream calls caused", str(upstream_calls)),
        ],
    )


if __name__ == "__main__":
    main()
