"""Server time of the host list and of its live row partial, at several fleet sizes.

    .venv/bin/python bench/pages.py [--sizes 1000 5000] [--runs 200]

Requests go through the whole Django stack in-process (middleware, session, template), so the
figures are server time without the network. Targets: `/hosts/` median under 50 ms at 1,000
hosts; the live poll median under 10 ms when a row moved, a few ms when nothing did (204).
"""

import html
import re

from common import options, report, setup_django, summary, timed


def main() -> None:
    args = options(__doc__, sizes=[1000, 5000], runs=200)
    setup_django()

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db.models import F
    from django.test import Client

    from dashboard.models import Host
    from dashboard.selectors import mirror_version
    from dashboard.services import hosts_sync
    from dashboard.upstream import reset_client
    from vmclient.simulator import Simulator

    settings.ALLOWED_HOSTS = ["testserver"]
    from django.contrib.auth.models import Group

    # A member with roles, not a superuser: their permission checks are part of the cost.
    get_user_model().objects.filter(username="bench").delete()  # from an earlier run
    user = get_user_model().objects.create_user("bench", password="bench-password-1")
    user.groups.set(Group.objects.filter(name__in=["Operator", "Creator"]))
    client = Client()
    client.force_login(user)

    rows = []
    for size in args.sizes:
        with Simulator(hosts=size, rng_seed=size).start() as sim:
            settings.XDS_BASE_URL = sim.url
            reset_client()
            Host.objects.all().delete()
            result = hosts_sync()
            assert result.ok and result.seen == size, result
            calls_before = sim.request_count()

            # The first page as a member opens it, then its HTMX table partial (a filter change).
            rows.append(
                (
                    f"/hosts/ at {size} hosts",
                    summary(timed(_get(client, "/hosts/"), runs=args.runs)),
                )
            )
            rows.append(
                (
                    f"/hosts/?status=running&sort=-memory page 2 at {size} hosts",
                    summary(
                        timed(
                            _get(client, "/hosts/?status=running&sort=-memory&page=2"),
                            runs=args.runs,
                        )
                    ),
                )
            )
            # The live poll of the first page, as its poller asks: first with one of its rows
            # moved since, then with nothing moved (204, what a settled page sends all day).
            page_hosts = list(Host.objects.present().order_by("-created_at", "id")[:50])
            Host.objects.filter(id__in=[h.id for h in page_hosts[:10]]).update(status=1)
            stale = _poll_url(client)
            Host.objects.filter(id=page_hosts[0].id).update(version=F("version") + 1)
            cpu = []
            wall = timed(_get(client, stale, htmx=True), runs=args.runs, cpu=cpu)
            rows.append((f"live poll, 1 of 50 rows moved, at {size} hosts", summary(wall)))
            rows.append((f"  the same, CPU time of the request at {size} hosts", summary(cpu)))
            fresh = _poll_url(client)
            cpu: list[float] = []
            wall = timed(_get(client, fresh, expect=204, htmx=True), runs=args.runs, cpu=cpu)
            rows.append((f"live poll, nothing moved (204), at {size} hosts", summary(wall)))
            rows.append((f"  the same, CPU time of the request at {size} hosts", summary(cpu)))
            cpu = []
            timed(mirror_version, runs=args.runs, cpu=cpu)
            rows.append(("  of which the mirror's version (one aggregate), CPU", summary(cpu)))
            rows.append(
                (
                    f"upstream calls made by those page views at {size} hosts",
                    str(sim.request_count() - calls_before),
                )
            )
    report("Page server time (in-process, Django test client)", rows)


def _poll_url(client) -> str:
    """The poll URL of /hosts/ as the page renders it now."""
    page = client.get("/hosts/").content.decode()
    return html.unescape(re.search(r'id="host-poller"[^>]*?hx-get="([^"]+)"', page).group(1))


def _get(client, url, expect=200, htmx=False):
    headers = {"HX-Request": "true"} if htmx else {}

    def fetch():
        response = client.get(url, headers=headers)
        if response.status_code != expect:
            raise SystemExit(f"{url} answered {response.status_code}, expected {expect}")

    return fetch


if __name__ == "__main__":
    main()
