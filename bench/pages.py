"""Server time of the host list and of its live row partial, at several fleet sizes.

    .venv/bin/python bench/pages.py [--sizes 1000 5000] [--runs 200]

Requests go through the whole Django stack in-process (middleware, session, template), so the
figures are server time without the network. Targets: `/hosts/` median under 50 ms at 1,000
hosts; the row partial median under 10 ms.
"""

import argparse

from common import report, setup_django, summary, timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    setup_django()

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from dashboard.models import Host
    from dashboard.selectors import sync_state_get
    from dashboard.services import hosts_sync
    from vmclient.factory import reset_client
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
            # The live poll of a page showing 10 changing hosts: one of them moved.
            page_hosts = list(Host.objects.order_by("-created_at", "id")[:10])
            versions = ",".join(
                f"{h.id}:{h.version - 1 if i == 0 else h.version}" for i, h in enumerate(page_hosts)
            )
            Host.objects.filter(id__in=[h.id for h in page_hosts]).update(status=1)
            live = f"/hosts/live/?v={versions}&s=x"
            rows.append(
                (
                    f"row partial, 1 of 10 rows moved, at {size} hosts",
                    summary(timed(_get(client, live), runs=args.runs)),
                )
            )
            quiet = "/hosts/live/?v=" + ",".join(f"{h.id}:{h.version}" for h in page_hosts)
            status_stamp = sync_state_get().stamp
            rows.append(
                (
                    f"row partial, nothing moved (204), at {size} hosts",
                    summary(
                        timed(_get(client, f"{quiet}&s={status_stamp}", expect=204), runs=args.runs)
                    ),
                )
            )
            rows.append(
                (
                    f"upstream calls made by those page views at {size} hosts",
                    str(sim.request_count() - calls_before),
                )
            )
    report("Page server time (in-process, Django test client)", rows)


def _get(client, url, expect=200):
    def fetch():
        response = client.get(url)
        if response.status_code != expect:
            raise SystemExit(f"{url} answered {response.status_code}, expected {expect}")

    return fetch


if __name__ == "__main__":
    main()
