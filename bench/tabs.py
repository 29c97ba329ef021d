"""Upstream calls per minute while many browser tabs stay open on `/hosts/`.

    .venv/bin/python bench/tabs.py [--tabs 50] [--seconds 60] [--hosts 200]

Runs gunicorn, a Celery worker with beat (syncing every XDS_SYNC_INTERVAL seconds) and the
simulator; each "tab" loads /hosts/ and then polls exactly as the page's htmx poller does (the
poll URL and interval from the page, following the poller the answers swap in, and stopping
on 286). The window is measured once without tabs and once with them: the target is
that tabs add no upstream call at all.
"""

import html
import os
import re
import subprocess
import sys
import threading
import time

import requests
from common import ROOT, free_port, options, report, session_cookie, setup_django, start_gunicorn

POLLER = re.compile(r'id="host-poller"[^>]*?hx-get="([^"]+)"[^>]*?hx-trigger="every (\d+)s')


def main() -> None:
    args = options(__doc__, tabs=50, seconds=60, hosts=200)
    setup_django()

    from django.conf import settings

    from dashboard.services import hosts_sync
    from dashboard.upstream import reset_client
    from vmclient.simulator import Simulator
    from vmclient.types import HostStatus

    with Simulator(hosts=args.hosts, rng_seed=11).start() as sim:
        # Ten hosts that stay booting all along, newest so on the first page: every tab polls.
        slow_boot = sim.clock.now_ms() + 3_600_000
        for i in range(10):
            sim.fleet.add_host(
                name=f"slow-boot-{i}", status=HostStatus.BOOTING, transition_at=slow_boot
            )
        settings.XDS_BASE_URL = sim.url
        reset_client()
        assert hosts_sync().ok
        cookie = session_cookie()
        env = {"XDS_VAR_DIR": os.environ["XDS_VAR_DIR"], "XDS_BASE_URL": sim.url}
        port = free_port()
        web = start_gunicorn(port, 2, env)
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "dashboard", "worker", "--beat",
             "--concurrency=2", "--loglevel=WARNING"],
            cwd=ROOT, env={**os.environ, **env, "DJANGO_LOG_LEVEL": "WARNING"},
        )  # fmt: skip
        try:
            time.sleep(5)  # the worker's start-up sync and catalog refresh are not the window's
            baseline = _window(sim, [], args.seconds)
            stats = {"pages": 0, "polls": 0, "stopped": 0}
            tabs = [
                threading.Thread(
                    target=_tab,
                    args=(f"http://127.0.0.1:{port}", cookie, args.seconds + 5, stats),
                    daemon=True,
                )
                for _ in range(args.tabs)
            ]
            with_tabs = _window(sim, tabs, args.seconds)
        finally:
            worker.terminate()
            web.terminate()
            worker.wait(30)
            web.wait(30)

    per_minute = 60 / args.seconds
    report(
        f"Upstream calls with {args.tabs} tabs open on /hosts/ ({args.hosts} hosts, "
        f"sync every {settings.XDS_SYNC_INTERVAL} s, poll every {settings.XDS_POLL_SECONDS} s)",
        [
            ("upstream calls per minute, no tab open", f"{baseline * per_minute:.0f}"),
            (f"upstream calls per minute, {args.tabs} tabs", f"{with_tabs * per_minute:.0f}"),
            (
                "what the tabs sent",
                f"{stats['pages']} page loads, {stats['polls']} polls, "
                f"{stats['stopped']} pollers stopped by 286",
            ),
        ],
    )


def _window(sim, tabs, seconds: int) -> int:
    before = sim.request_count()
    for tab in tabs:
        tab.start()
    time.sleep(seconds)
    return sim.request_count() - before


def _tab(base: str, cookie: str, seconds: float, stats: dict) -> None:
    session = requests.Session()
    session.headers["Cookie"] = cookie
    deadline = time.monotonic() + seconds
    page = session.get(f"{base}/hosts/", timeout=10)
    stats["pages"] += 1
    match = POLLER.search(page.text)
    while match and time.monotonic() < deadline:
        time.sleep(int(match.group(2)))
        answer = session.get(
            base + html.unescape(match.group(1)), headers={"HX-Request": "true"}, timeout=10
        )
        stats["polls"] += 1
        if answer.status_code == 286:
            stats["stopped"] += 1
            return
        match = POLLER.search(answer.text) or match


if __name__ == "__main__":
    main()
