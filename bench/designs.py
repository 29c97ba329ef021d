"""Three ways to keep open host lists live, side by side on the same simulated fleet.

    .venv/bin/python bench/designs.py [--hosts 1000] [--tabs 50] [--seconds 60]

- **ours**: each tab polls the dashboard with the version of what it shows, every
  XDS_POLL_SECONDS while a row on it is changing (XDS_POLL_SETTLED_SECONDS once settled); the
  dashboard answers from its mirror (204 when nothing moved), which the sync refreshes from
  the provider every XDS_SYNC_INTERVAL seconds.
- **per-row** (Horizon's way): every row in a transitional state polls every 2.5 s (Horizon's
  default `ajax_poll_interval`, without its back-off), and each poll asks the provider for that
  host and renders the row. A settled row does not poll.
- **whole list** (Proxmox's way): every tab asks for the whole list every 3 s, and the server
  fetches it from the provider each time (all pages, 25 hosts a page) and sends it as JSON.

Each design gets a fresh simulator with the same seeded fleet (plus 10 hosts booting for the
whole run and 10 running ones, the newest, so on every tab's first page), then runs for
--seconds with --tabs tab threads in this process. Every handler is the server side of one
request, timed with `time.thread_time()` (CPU of that thread only: the simulator's own threads
are the provider's work, not the dashboard's); ours goes through the whole Django stack with the
test client (no HTTP between tab and server, for any design), and ours' sync counts too. The
simulator counts the provider calls. During the first half of the window the bench makes a
change at the provider every 5 s, alternately a running host powered off (as at the provider's
console) and a boot that finishes; for each change and each tab, the time until that tab shows
it. Changes not shown by the end of the window get up to DRAIN_SECONDS more; a change a tab
never shows is counted as such.
"""

from __future__ import annotations

import json
import random
import re
import statistics
import threading
import time
from dataclasses import dataclass, field

from common import machine, options, setup_django

HORIZON_ROW_SECONDS = 2.5
PROXMOX_LIST_SECONDS = 3.0
DRAIN_SECONDS = 15
CHANGE_EVERY = 5.0
ROW = re.compile(r'<tr id="host-([^"]+)"[^>]*>.*?badge status-([a-z-]+)', re.S)
POLLER = re.compile(r'<div id="host-poller"[^>]*?hx-get="([^"]+)"[^>]*?hx-trigger="every (\d+)s')


@dataclass
class Change:
    host_id: str
    slug: str  # the status slug a tab shows once it knows
    at: float = 0.0
    mirrored_at: float | None = None


@dataclass
class Run:
    """What one design did: server CPU, provider calls, and when each tab saw each change."""

    started: float = 0.0
    window_end: float = 0.0
    cpu: float = 0.0
    sync_cpu: float = 0.0
    requests: int = 0
    changes: list[Change] = field(default_factory=list)
    seen: dict[tuple[int, int], float] = field(default_factory=dict)  # (tab, change) -> at
    lock: threading.Lock = field(default_factory=threading.Lock)

    def spent(self, seconds: float, *, sync: bool = False) -> None:
        with self.lock:
            if time.monotonic() <= self.window_end:
                self.cpu += seconds
                if sync:
                    self.sync_cpu += seconds
                else:
                    self.requests += 1


def main() -> None:
    args = options(
        __doc__, hosts=1000, tabs=50, seconds=60, designs=["ours", "per-row", "whole-list"]
    )
    setup_django()

    from django.conf import settings

    settings.ALLOWED_HOSTS = ["testserver"]
    results = {}
    for design in args.designs:
        results[design] = _run(design, args)
        _print(design, results[design], args)
    _print_ratios(results, args, settings)


def _fleet(args):
    """A fresh simulator with the seeded fleet, mirrored; the hosts the changes will touch."""
    from django.conf import settings

    from dashboard.models import Host
    from dashboard.services import hosts_sync
    from dashboard.upstream import reset_client
    from vmclient.simulator import Simulator
    from vmclient.types import HostStatus

    sim = Simulator(hosts=args.hosts, rng_seed=11)
    far = sim.clock.now_ms() + 3_600_000
    booting = [
        sim.fleet.add_host(name=f"slow-boot-{i}", status=HostStatus.BOOTING, transition_at=far)
        for i in range(10)
    ]
    running = [
        sim.fleet.add_host(name=f"watched-{i}", status=HostStatus.RUNNING) for i in range(10)
    ]
    sim.start()
    settings.XDS_BASE_URL = sim.url
    reset_client()
    Host.objects.all().delete()
    assert hosts_sync().ok
    return sim, booting, running


def _make_changes(sim, booting, running, run: Run, count: int) -> None:
    """At the provider: alternately power a running host off and let a boot finish."""
    from vmclient.types import HostStatus

    for i in range(count):
        target = time.monotonic() + CHANGE_EVERY if i else time.monotonic() + 2
        time.sleep(max(0.0, target - time.monotonic()))
        host, status, slug = (
            (running[i // 2], HostStatus.OFF, "off")
            if i % 2 == 0
            else (booting[i // 2], HostStatus.RUNNING, "running")
        )
        with sim.fleet.lock:
            sim.fleet.hosts[host.id].status = status
            sim.fleet.hosts[host.id].transition_at = None
        with run.lock:
            run.changes.append(Change(host.id, slug, at=time.monotonic()))


def _run(design: str, args) -> Run:
    from django.conf import settings

    sim, booting, running = _fleet(args)
    run = Run()
    tabs = [_TABS[design](n, run) for n in range(args.tabs)]
    for tab in tabs:
        tab.open()
    count = max(2, int(args.seconds / 2 / CHANGE_EVERY))
    threads = [threading.Thread(target=tab.loop, daemon=True) for tab in tabs]
    run.started = time.monotonic()
    run.window_end = run.started + args.seconds
    before = sim.request_count()
    changer = threading.Thread(
        target=_make_changes, args=(sim, booting, running, run, count), daemon=True
    )
    changer.start()
    if design == "ours":
        threading.Thread(
            target=_sync_loop, args=(run, settings.XDS_SYNC_INTERVAL), daemon=True
        ).start()
    for thread in threads:
        thread.start()
    time.sleep(args.seconds)
    run.provider_calls = sim.request_count() - before
    deadline = time.monotonic() + DRAIN_SECONDS
    while time.monotonic() < deadline and len(run.seen) < len(tabs) * count:
        time.sleep(0.5)
    run.stopped = True
    for thread in threads:
        thread.join(timeout=15)
    sim.stop()
    run.tab_count, run.change_count = len(tabs), count
    return run


def _sync_loop(run: Run, interval: int) -> None:
    """The worker's periodic sync, its first run half an interval into the window."""
    from django.db import connection

    from dashboard.models import Host
    from dashboard.services import hosts_sync

    next_at = run.started + interval / 2
    while not getattr(run, "stopped", False):
        time.sleep(max(0.0, next_at - time.monotonic()))
        if getattr(run, "stopped", False):
            break
        cpu = time.thread_time()
        hosts_sync()
        run.spent(time.thread_time() - cpu, sync=True)
        now = time.monotonic()
        with run.lock:
            pending = [c for c in run.changes if c.mirrored_at is None]
        for change in pending:
            host = Host.objects.get(id=change.host_id)
            if host.status_slug == change.slug:
                change.mirrored_at = now
        next_at += interval
    connection.close()


class _Tab:
    interval = 5.0

    def __init__(self, number: int, run: Run) -> None:
        self.number, self.run = number, run
        self.view: dict[str, str] = {}  # host id -> status slug, as the tab shows it

    def loop(self) -> None:
        next_at = time.monotonic() + random.Random(self.number).uniform(0, self.interval)
        while not getattr(self.run, "stopped", False):
            time.sleep(max(0.0, next_at - time.monotonic()))
            self.poll()
            self.look()
            next_at += self.interval
        self.close()

    def look(self) -> None:
        now = time.monotonic()
        with self.run.lock:
            changes = list(enumerate(self.run.changes))
        for index, change in changes:
            key = (self.number, index)
            if key not in self.run.seen and self.view.get(change.host_id) == change.slug:
                self.run.seen[key] = now

    def close(self) -> None:
        pass


class OurTab(_Tab):
    """A browser tab on /hosts/: follows the poller the answers swap in, as htmx does."""

    def open(self) -> None:
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group
        from django.test import Client

        user, created = get_user_model().objects.get_or_create(username="bench-viewer")
        if created:
            user.groups.set(Group.objects.filter(name="Viewer"))
        self.client = Client()
        self.client.force_login(user)
        self._read(self.client.get("/hosts/").content.decode())

    def _read(self, html: str) -> None:
        for host_id, slug in ROW.findall(html):
            self.view[host_id] = slug
        poller = POLLER.search(html)
        if poller:
            self.url = poller.group(1).replace("&amp;", "&")
            self.interval = float(poller.group(2))

    def poll(self) -> None:
        cpu = time.thread_time()
        response = self.client.get(self.url, headers={"HX-Request": "true"})
        self.run.spent(time.thread_time() - cpu)
        if response.status_code == 200:
            self._read(response.content.decode())

    def close(self) -> None:
        from django.db import connection

        connection.close()


class PerRowTab(_Tab):
    """Horizon's way: each row in a transitional state asks the server, which asks the
    provider for that host and renders the row."""

    interval = HORIZON_ROW_SECONDS

    def open(self) -> None:
        from django.contrib.auth.models import AnonymousUser

        from dashboard.models import Host

        self.user = AnonymousUser()
        page = Host.objects.present().order_by("-created_at", "id")[:50]
        self.view = {host.id: host.status_slug for host in page}
        self.polling = {host.id for host in page if host.is_changing}

    def poll(self) -> None:
        from django.template.loader import render_to_string

        from dashboard.models import Host
        from dashboard.services.sync import _mirrored_values
        from dashboard.upstream import get_client

        for host_id in list(self.polling):
            cpu = time.thread_time()
            upstream = get_client().get_host(host_id)
            host = Host(id=upstream.id, **_mirrored_values(upstream))
            host.__dict__["operation_in_flight"] = None
            host.prefetched_labels = []
            render_to_string("hosts/list.html#host-row", {"host": host, "user": self.user})
            self.run.spent(time.thread_time() - cpu)
            self.view[host_id] = host.status_slug
            if not host.is_changing:
                self.polling.discard(host_id)  # settled: Horizon stops polling the row


class WholeListTab(_Tab):
    """Proxmox's way: the whole list from the provider, every 3 s, as JSON."""

    interval = PROXMOX_LIST_SECONDS

    def open(self) -> None:
        self.poll_cpu = 0.0

    def poll(self) -> None:
        from dashboard.models import Host
        from dashboard.services.sync import _mirrored_values
        from dashboard.upstream import get_client

        cpu = time.thread_time()
        hosts = get_client().list_every_host().items
        json.dumps([{"id": h.id, **_mirrored_values(h)} for h in hosts], default=str)
        self.run.spent(time.thread_time() - cpu)
        for upstream in hosts:
            self.view[upstream.id] = Host(id=upstream.id, **_mirrored_values(upstream)).status_slug


_TABS = {"ours": OurTab, "per-row": PerRowTab, "whole-list": WholeListTab}


def _delays(run: Run) -> tuple[list[float], int, list[float]]:
    """Seconds from each change to each tab showing it; how many (tab, change) never did; and
    for ours, seconds from the mirror having it to each tab."""
    delays, after_mirror, missed = [], [], 0
    for tab in range(run.tab_count):
        for index, change in enumerate(run.changes[: run.change_count]):
            at = run.seen.get((tab, index))
            if at is None:
                missed += 1
                continue
            delays.append(at - change.at)
            if change.mirrored_at is not None:
                after_mirror.append(max(0.0, at - change.mirrored_at))
    return delays, missed, after_mirror


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _print(design: str, run: Run, args) -> None:
    per_minute = 60 / args.seconds
    delays, missed, after_mirror = _delays(run)
    total = run.tab_count * run.change_count
    reach = (
        f"median {statistics.median(delays):.1f} s, p95 {_p95(delays):.1f} s" if delays else "never"
    )
    print(f"\n### {design} ({args.hosts} hosts, {args.tabs} tabs, {args.seconds} s)")
    print(f"- provider calls per minute: {run.provider_calls * per_minute:.0f}")
    print(
        f"- server CPU seconds per minute: {run.cpu * per_minute:.2f}"
        + (f", of which the sync {run.sync_cpu * per_minute:.2f}" if run.sync_cpu else "")
        + f" ({run.requests * per_minute:.0f} requests a minute handled)"
    )
    print(f"- change to every tab: {reach}; shown {total - missed} of {total}")
    if after_mirror:
        print(
            f"- mirror to every tab: median {statistics.median(after_mirror):.1f} s, "
            f"p95 {_p95(after_mirror):.1f} s"
        )
    run.summary = {
        "calls": run.provider_calls * per_minute,
        "cpu": run.cpu * per_minute,
        "median": statistics.median(delays) if delays else None,
        "p95": _p95(delays) if delays else None,
        "missed": missed,
        "total": total,
    }


def _print_ratios(results: dict, args, settings) -> None:
    print(f"\n## Designs side by side\n{machine()}")
    print(
        f"sync every {settings.XDS_SYNC_INTERVAL} s, ours polls every {settings.XDS_POLL_SECONDS}"
        f" s ({settings.XDS_POLL_SETTLED_SECONDS} s settled)\n"
    )
    ours = results.get("ours")
    for design, run in results.items():
        s = run.summary
        line = f"- {design}: {s['calls']:.0f} calls/min, {s['cpu']:.2f} CPU s/min"
        if ours is not None and design != "ours":
            o = ours.summary
            line += (
                f" ({s['calls'] / max(o['calls'], 1):.0f}x ours' calls, "
                f"{s['cpu'] / max(o['cpu'], 1e-9):.1f}x ours' CPU)"
            )
        print(line)


if __name__ == "__main__":
    main()
