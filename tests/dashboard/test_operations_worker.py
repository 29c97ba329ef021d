"""Each action end to end through the real broker and a real Celery worker (not eager mode),
against the simulator; and the faults the issue names: an upstream that times out during a
create, a broker that stops while a member clicks, a worker killed in the middle of a poll.

The worker consumes a queue of this module's own, on the configured broker: Redis in CI, the
filesystem transport locally. One worker serves the module (starting and stopping one costs a
second or more); the Redis test starts its own, on a Redis of its own."""

from __future__ import annotations

import re
import time

import pytest
from django.utils import timezone

from dashboard import tasks
from dashboard.models import Host, Operation
from tests.dashboard.workers import WorkerProcess, final, own_queue, wait_for
from vmclient.simulator import Fault
from vmclient.types import HostStatus

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.real_worker]

HTMX = {"HX-Request": "true"}
CREATE = "/v1/pve/open/createquantity"


@pytest.fixture
def sim(make_simulator, point_client_at, settings, worker_queue):
    """A simulator whose hosts change within a fraction of a second, polled every 0.1 s, and
    the module's worker listening."""
    settings.XDS_ACTION_POLL_SECONDS = 0.1
    return point_client_at(
        make_simulator(
            boot_seconds=0.3, shutdown_seconds=0.3, reboot_seconds=1.0, charging_seconds=0.2
        )
    )


def events(operation: Operation) -> list[str]:
    return list(operation.events.values_list("event", flat=True))


def buy(member_client, package_id: str, image_id: str, **choices) -> Operation:
    """What a member does on the create page: choose, review the price, confirm."""
    form = {
        "package": package_id,
        "image": image_id,
        "billing": "payg",
        "idempotency_key": "8d0f6f7e-2f1c-4c55-9a53-7d2b8e3b1a01",
        **choices,
    }
    review = member_client.post("/hosts/new/", form)
    assert review.status_code == 200
    price = re.search(r'name="confirmed_price" value="([^"]*)"', review.content.decode())
    response = member_client.post(
        "/hosts/new/", {**form, "confirmed_price": price.group(1), "confirm": "1"}, headers=HTMX
    )
    assert response.status_code == 200, response.content
    return Operation.objects.get()


def test_a_pay_as_you_go_host_is_bought_once_and_followed_until_it_runs(
    sim, member_client, catalog_cached
):
    operation = final(buy(member_client, "Pi8tcH1NSd", "8991"))

    assert operation.state == "succeeded", operation.message
    assert sim.request_count(CREATE) == 1
    (upstream,) = sim.fleet.hosts.values()
    assert operation.host_id == upstream.id
    assert Host.objects.get(id=upstream.id).status == HostStatus.RUNNING
    assert events(operation)[:3] == ["requested", "submitted", "found"]


def test_a_rental_is_bought_at_the_price_shown(sim, member_client, catalog_cached):
    sim.config.doc_version = "original"  # the create answers `true`: found by listing
    balance = sim.config.wallet_balance
    operation = final(
        buy(
            member_client,
            "Pi8tcH1NSd",
            "8991",
            billing="rental",
            period_type="2",
            period_number="3",
        )
    )

    assert operation.state == "succeeded", operation.message
    assert operation.kind == "create_rental"
    # 5.00 an hour x 0.9 x 3 weeks of 168 hours
    assert operation.params["total_price"] == "2268.00"
    assert balance - sim.config.wallet_balance == 2268
    assert len(sim.fleet.hosts) == 1 and sim.request_count("/v1/pve/open/createRent") == 1


@pytest.mark.parametrize(
    ("kind", "start", "end"),
    [
        ("power_on", HostStatus.OFF, HostStatus.RUNNING),
        ("power_off", HostStatus.RUNNING, HostStatus.OFF),
        ("reboot", HostStatus.RUNNING, HostStatus.RUNNING),
    ],
)
def test_power_and_reboot_end_to_end(sim, mirrored, member_client, kind, start, end):
    host = mirrored(status=start)
    slug = kind.replace("_", "-")
    response = member_client.post(
        f"/hosts/{host.id}/actions/{slug}/",
        {"idempotency_key": "5b1c1f0e-6a57-4c43-8f0e-3f5d6d0c2b11"},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert "is still running" not in response.content.decode()

    operation = final(Operation.objects.get())
    assert operation.state == "succeeded", operation.message
    host.refresh_from_db()
    assert host.status == end
    if kind == "reboot":
        assert "Booting" in operation.events.filter(event="status").values_list("detail", flat=True)


def test_delete_end_to_end(sim, mirrored, member, member_client):
    host = mirrored(status=HostStatus.OFF, name="scratch-01")
    Host.objects.filter(pk=host.pk).update(owner=member)
    member_client.post(
        f"/hosts/{host.id}/delete/",
        {"name": "scratch-01", "idempotency_key": "0c7e3b5a-3f59-4b8e-9d1e-6a8d6b1f2c33"},
    )
    operation = final(Operation.objects.get())

    assert operation.state == "succeeded", operation.message
    assert host.id not in sim.fleet.hosts
    host.refresh_from_db()
    assert host.is_gone


@pytest.mark.parametrize("doc_version", ["later", "original"])
def test_an_upstream_timeout_during_a_create_buys_exactly_one_host(
    sim, ask, catalog_cached, settings, doc_version
):
    sim.config.doc_version = doc_version
    settings.XDS_TIMEOUT = 0.5
    # The provider creates the host, then answers only after the client gave up.
    sim.add_fault(Fault(kind="hang", path=CREATE, phase="after", seconds=1.5))

    operation = final(ask("create_payg", package_id="Pi8tcH1NSd", image_id="8991"))

    assert operation.state == "succeeded", operation.message
    assert sim.request_count(CREATE) == 1
    assert list(sim.fleet.hosts) == [operation.host_id]
    assert "answer_lost" in events(operation) and "found" in events(operation)


def test_a_windows_create_whose_answer_is_lost_ends_with_its_host_found_and_owned(
    sim, member, member_client, catalog_cached, settings
):
    settings.XDS_CREATE_FIND_TIMEOUT = 5  # "outcome unknown" within the test if it is not found
    sim.config.host_os_first_word = True  # the image is "Windows Server", the host "Windows"
    sim.add_fault(Fault(kind="html_502", path=CREATE, phase="after"))

    operation = final(buy(member_client, "Pi8tcH1NSd", "8989"))

    (upstream,) = sim.fleet.hosts.values()
    assert upstream.operating_system == "Windows"
    assert operation.state == "succeeded", operation.message
    assert operation.host_id == upstream.id
    assert Host.objects.get(id=upstream.id).owner == member
    assert sim.request_count(CREATE) == 1


def test_a_delete_whose_answer_is_cut_off_ends_deleted(sim, mirrored, member, ask):
    host = mirrored(status=HostStatus.OFF, owner=member)
    sim.add_fault(Fault(kind="truncated_json", path="/v1/pve/open/delete/", phase="after"))

    operation = final(ask("delete", host))

    assert operation.state == "succeeded", operation.message
    assert host.id not in sim.fleet.hosts and Host.objects.get(id=host.id).is_gone
    assert sim.request_count("/v1/pve/open/delete/") == 1


def test_redis_stops_while_a_member_clicks_and_the_operation_completes_once_it_returns(
    sim, mirrored, member_client, redis_server
):
    host = mirrored(status=HostStatus.OFF)
    with own_queue(broker_url=redis_server.url) as queue:
        redis_server.stop()
        started = time.monotonic()
        response = member_client.post(
            f"/hosts/{host.id}/actions/power-on/",
            {"idempotency_key": "1d4f4c4e-0a0b-4d7b-8e89-2c4a7c9d8e55"},
            headers=HTMX,
        )
        assert time.monotonic() - started < 10  # the click does not hang on the dead broker
        assert response.status_code == 200
        assert "task queue cannot be reached" in response.content.decode()
        operation = Operation.objects.get()
        assert operation.state == "queued" and operation.queue_error
        assert operation.host.operation_in_flight == operation  # the host shows it meanwhile

        redis_server.start()
        worker = WorkerProcess(
            queue=queue,
            sim=sim,
            CELERY_BROKER_URL=redis_server.url,
            XDS_ACTION_POLL_SECONDS="0.1",
            XDS_ACTION_REQUEUE_SECONDS="1",
        ).start()
        try:
            time.sleep(1)  # the operation is now overdue for the requeue
            tasks.requeue_operations.delay()  # what beat sends every few seconds
            final(operation, timeout=60, worker=worker)
        finally:
            output = worker.output()
            worker.close()

    assert operation.state == "succeeded", (operation.message, output)
    assert operation.queue_error == ""
    assert "queue_down" in events(operation)
    assert sim.request_count("/v1/pve/open/operate") == 1


def test_a_worker_killed_mid_poll_leaves_the_operation_to_the_reconciler(
    sim, mirrored, ask, settings
):
    sim.config.boot_seconds = 3600  # booting until the test says otherwise
    settings.XDS_ACTION_POLL_SECONDS = 0.2
    host = mirrored(status=HostStatus.OFF)
    # A queue of its own: the module's worker must not take the killed worker's messages.
    with own_queue() as queue:
        worker = WorkerProcess(queue=queue, sim=sim, XDS_ACTION_POLL_SECONDS="0.2").start()
        try:
            operation = ask("power_on", host)

            def polling():
                operation.refresh_from_db()
                return operation.state == "waiting" and operation.deliveries >= 3

            wait_for(polling, timeout=60, what="the worker to poll the booting host", worker=worker)
            worker.kill()  # SIGKILL in the middle of polling: nothing acknowledged or cleaned
        finally:
            output = worker.output()
            worker.close()
    operation.refresh_from_db()
    assert operation.state == "waiting", output

    sim.clock.advance(3600)  # the host has booted meanwhile
    settings.XDS_ACTION_STALE_SECONDS = 0
    time.sleep(0.5)  # the last poll the killed worker scheduled was due by now
    tasks.reconcile_operations.delay()  # what beat sends every minute; the module's worker runs it
    final(operation)

    assert operation.state == "succeeded", operation.message
    assert "resumed" in events(operation)
    assert sim.request_count("/v1/pve/open/operate") == 1  # never sent twice
    assert operation.finished_at <= timezone.now()


def test_a_broker_outage_longer_than_the_time_limit_ends_the_worker_and_a_new_one_finishes(
    sim, mirrored, ask, persistent_redis_server, tmp_path
):
    """Redis goes away for longer than a run's time limit while actions run on a prefork worker
    (as in production). The worker must not hang: it exits non-zero (so that its supervisor
    restarts it), and the restarted worker finishes every action, none sent twice."""
    sim.config.boot_seconds = 2
    sim.config.latency = 0.3  # every upstream call takes a while: runs are in flight
    hosts = [mirrored(status=HostStatus.OFF) for _ in range(4)]
    broker = persistent_redis_server  # the production broker keeps its queue
    env = {
        "CELERY_BROKER_URL": broker.url,
        "XDS_ACTION_POLL_SECONDS": "0.2",
        "XDS_ACTION_TASK_TIME_LIMIT": "2",
        # An upstream answer may not outlast the run that waits for it (checked at start).
        "XDS_TIMEOUT": "1",
        "XDS_CONNECT_TIMEOUT": "0.5",
        "XDS_ACTION_REQUEUE_SECONDS": "1",
        "XDS_ACTION_STALE_SECONDS": "1",
        "XDS_LOCK_SECONDS": "3",
        "XDS_WORKER_HEARTBEAT_SECONDS": "0.5",
        "XDS_WORKER_HEARTBEAT_FILE": str(tmp_path / "worker-heartbeat"),
    }
    heartbeat = tmp_path / "worker-heartbeat"
    with own_queue(broker_url=broker.url) as queue:
        first = WorkerProcess(queue=queue, sim=sim, pool="prefork", concurrency=2, **env).start()
        try:
            wait_for(lambda: "ready." in first.output(), timeout=30, what="the worker")
            # While connected, its consumer beats (what its container's health check reads).
            wait_for(heartbeat.exists, what="the worker's heartbeat", worker=first)
            operations = [ask("power_on", host) for host in hosts]
            wait_for(
                lambda: Operation.objects.filter(deliveries__gt=0).count() >= 2,
                what="runs in flight",
                worker=first,
            )
            broker.stop()
            time.sleep(4)  # twice the time limit
            assert wait_for(
                lambda: first.process.poll() is not None,
                timeout=30,
                what="the worker to exit",
                worker=first,
            )
            assert first.process.returncode != 0, first.output()
            broker.start()
        finally:
            first.close()

        # What compose does with a worker that exited: start it again. Beat sends the
        # requeue and the reconciler every few seconds; so does the test.
        second = WorkerProcess(queue=queue, sim=sim, pool="prefork", concurrency=2, **env).start()
        try:
            deadline = time.monotonic() + 40
            while time.monotonic() < deadline and not all(
                operation.refresh_from_db() or operation.is_final for operation in operations
            ):
                tasks.requeue_operations.delay()
                tasks.reconcile_operations.delay()
                time.sleep(1)
            output = second.output()
        finally:
            second.close()

    assert [operation.state for operation in operations] == ["succeeded"] * 4, output
    assert sim.request_count("/v1/pve/open/operate") == 4  # none sent twice


def test_an_operation_whose_next_step_the_queue_refused_says_why_it_waits(
    sim, mirrored, member_client, redis_server, settings
):
    host = mirrored(status=HostStatus.OFF)
    with own_queue(broker_url=redis_server.url):
        operation = Operation.objects.create(
            kind="power_on",
            host=host,
            state="waiting",
            requested_by_name="member",
            idempotency_key="6f1d5c2e-6a2f-4f8e-9d43-2b1c3a4d5e66",
        )
        redis_server.stop()
        from dashboard.services.operations import operation_dispatch

        assert operation_dispatch(operation=operation, countdown=1) is False

    page = member_client.get(f"/operations/{operation.pk}/").content.decode()
    seconds = settings.XDS_ACTION_STALE_SECONDS + settings.XDS_ACTION_RECONCILE_INTERVAL
    assert "its next step could not be handed to the task queue" in page
    assert f"within {seconds} seconds of the queue being back" in page
