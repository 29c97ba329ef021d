"""The runs of an operation, played in this process against the simulator: creates that are
never sent twice and find their host by listing when the answer is lost, actions followed to
their target status, and runs that are safe to repeat (superseded, redelivered, concurrent,
resumed after a killed worker)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from dashboard import services
from dashboard.locks import cache_lock
from dashboard.models import Host, Operation
from dashboard.upstream import build_client
from vmclient.simulator import Fault
from vmclient.types import HostStatus

pytestmark = pytest.mark.django_db

CREATE = "/v1/pve/open/createquantity"
RENT = "/v1/pve/open/createRent"


def events(operation) -> list[str]:
    return list(operation.events.values_list("event", flat=True))


@pytest.fixture
def later(sim):
    """Lets simulated time pass between two runs (a host boots in 30 s)."""
    return lambda: sim.clock.advance(20)


def buy(ask, **params):
    return ask("create_payg", **{"package_id": "Pi8tcH1NSd", "image_id": "8991", **params})


# --- Creates -----------------------------------------------------------------------------------


def test_a_create_is_sent_once_its_host_followed_until_it_runs(catalog_cached, ask, run, later):
    operation = run(buy(ask), between=later)

    assert operation.state == "succeeded"
    assert catalog_cached.request_count(CREATE) == 1
    (upstream,) = catalog_cached.fleet.hosts.values()
    assert operation.host_id == upstream.id and operation.attempts == 1
    host = Host.objects.get(id=upstream.id)
    assert host.status == HostStatus.RUNNING and not host.is_changing
    assert events(operation) == [
        "requested", "submitted", "found", "status", "status", "succeeded",
    ]  # fmt: skip
    assert operation.message == "The host is running."
    assert operation.message_in("zh-hans") == "主机运行中。"


def test_without_an_id_in_the_answer_the_new_host_is_found_by_listing(
    catalog_cached, ask, run, later
):
    catalog_cached.config.doc_version = "original"
    operation = run(buy(ask), between=later)

    assert operation.state == "succeeded"
    assert list(catalog_cached.fleet.hosts) == [operation.host_id]
    assert events(operation)[:4] == ["requested", "submitted", "accepted", "found"]


@pytest.mark.parametrize(
    "fault",
    [
        Fault(kind="hang", path=CREATE, phase="after", seconds=1.0),  # read timeout
        Fault(kind="html_502", path=CREATE, phase="after"),
        Fault(kind="error_500", path=CREATE, phase="after"),
        Fault(kind="truncated_json", path=CREATE, phase="after"),
        Fault(kind="drop", path=CREATE, phase="after"),
    ],
    ids=lambda fault: fault.kind,
)
def test_an_unknown_outcome_is_reconciled_by_listing_and_buys_exactly_one_host(
    catalog_cached, ask, run, later, settings, fault
):
    settings.XDS_TIMEOUT = 0.3
    catalog_cached.add_fault(fault)

    operation = run(buy(ask), between=later)

    assert operation.state == "succeeded", operation.message
    assert catalog_cached.request_count(CREATE) == 1
    assert list(catalog_cached.fleet.hosts) == [operation.host_id]
    assert "answer_lost" in events(operation)


def test_hosts_the_mirror_knew_before_the_create_or_another_create_claimed_are_not_it(
    catalog_cached, ask, run, later, mirrored
):
    catalog_cached.config.doc_version = "original"
    # Same template and image, but in the mirror before the create was sent.
    known = mirrored(package_id="Pi8tcH1NSd", image_id="8991")
    # Same template and image, created a moment ago and already claimed by another create.
    claimed = catalog_cached.fleet.add_host(package_id="Pi8tcH1NSd", image_id="8991")
    Operation.objects.create(
        kind="create_payg", state="succeeded", requested_by_name="x", host_id=claimed.id
    )
    # Created a moment ago too, but of another template.
    catalog_cached.fleet.add_host(package_id="kQ3vLmT8aZ", image_id="8991")
    catalog_cached.add_fault(Fault(kind="html_502", path=CREATE, phase="after"))

    operation = run(buy(ask), between=later)

    assert operation.state == "succeeded"
    assert operation.host_id not in {known.id, claimed.id}
    assert catalog_cached.fleet.hosts[operation.host_id].package_id == "Pi8tcH1NSd"


def test_two_creates_whose_answers_were_lost_claim_one_host_each(catalog_cached, ask, run, later):
    catalog_cached.config.doc_version = "original"
    catalog_cached.add_fault(Fault(kind="html_502", path=CREATE, phase="after", times=2))
    first, second = buy(ask), buy(ask)
    for operation in (first, second):  # both sent before either looks
        services.operation_run(operation_id=operation.pk, dispatch_id=operation.dispatch_id)
        operation.refresh_from_db()
        assert operation.state == "waiting"

    first, second = run(first, between=later), run(second, between=later)

    assert first.state == second.state == "succeeded"
    assert {first.host_id, second.host_id} == set(catalog_cached.fleet.hosts)


def test_a_create_found_submitted_by_a_later_run_is_never_sent_again(
    catalog_cached, ask, run, later
):
    """The worker died after committing "submitted" (before or after the call went out)."""
    operation = buy(ask)
    Operation.objects.filter(pk=operation.pk).update(
        state="submitted", submitted_at=timezone.now(), attempts=1
    )
    catalog_cached.fleet.add_host(package_id="Pi8tcH1NSd", image_id="8991")  # it did go out

    operation = run(operation, between=later)

    assert operation.state == "succeeded"
    assert catalog_cached.request_count(CREATE) == 0
    assert "answer_lost" in events(operation)


def test_a_lost_create_that_bought_nothing_ends_as_outcome_unknown_never_resent(
    catalog_cached, ask, run, settings
):
    settings.XDS_CREATE_FIND_TIMEOUT = 60
    # The request failed before the provider did anything, but the client cannot know that.
    catalog_cached.add_fault(Fault(kind="html_502", path=CREATE, phase="before"))
    operation = buy(ask)
    services.operation_run(operation_id=operation.pk, dispatch_id=operation.dispatch_id)
    Operation.objects.filter(pk=operation.pk).update(
        submitted_at=F("submitted_at") - timedelta(seconds=61)
    )

    operation = run(operation)

    assert operation.state == "unknown"
    assert catalog_cached.request_count(CREATE) == 1 and not catalog_cached.fleet.hosts
    assert "an administrator must check the provider's console" in operation.message
    assert "请管理员先在服务商控制台核实" in operation.message_in("zh-hans")
    assert operation.error_code == "HtmlErrorPage"


MYPAGE = "/v1/pve/open/mypage"


def older_hosts(sim, count: int) -> set[str]:
    """Hosts bought a day before any create of the test, so none can be taken for its host."""
    day_ago = sim.clock.now_ms() - 86_400_000
    return {sim.fleet.add_host(create_time=day_ago).id for _ in range(count)}


def page_fails(sim, page: int) -> None:
    """One page of the host listing fails for good (page 1 lists the newest hosts)."""
    sim.add_fault(Fault(kind="error_500", path=MYPAGE, query={"page": str(page)}, times=None))


def test_a_lost_create_finds_its_host_in_a_listing_that_is_only_partial(
    catalog_cached, ask, run, later
):
    older = older_hosts(catalog_cached, 30)  # the listing's page 2, which fails
    page_fails(catalog_cached, 2)
    catalog_cached.add_fault(Fault(kind="html_502", path=CREATE, phase="after"))

    operation = run(buy(ask), between=later)

    assert operation.state == "succeeded", operation.message
    assert catalog_cached.request_count(CREATE) == 1
    [bought] = set(catalog_cached.fleet.hosts) - older
    assert operation.host_id == bought


def test_a_partial_listing_never_says_that_a_lost_create_bought_nothing(
    catalog_cached, ask, run, settings
):
    settings.XDS_CREATE_FIND_TIMEOUT = 60
    older_hosts(catalog_cached, 30)
    page_fails(catalog_cached, 2)  # the new host could be there, for all the dashboard knows
    catalog_cached.add_fault(Fault(kind="html_502", path=CREATE, phase="before"))
    operation = buy(ask)
    services.operation_run(operation_id=operation.pk, dispatch_id=operation.dispatch_id)
    Operation.objects.filter(pk=operation.pk).update(
        submitted_at=F("submitted_at") - timedelta(seconds=61)
    )

    services.operation_run(operation_id=operation.pk, dispatch_id=operation.dispatch_id)
    operation.refresh_from_db()
    assert operation.state == "waiting"  # still looking: "not found" needs a whole listing

    Operation.objects.filter(pk=operation.pk).update(
        submitted_at=F("submitted_at") - timedelta(seconds=60)
    )
    operation = run(operation)
    assert operation.state == "unknown"
    assert operation.message_key == "create_unknown_unreadable"
    assert "could not be read" in operation.message


def test_creation_waiting_is_retried_with_backoff_then_buys_one_host(
    catalog_cached, ask, run, later, dispatched, settings
):
    settings.XDS_CREATE_RETRY_SECONDS = 10
    catalog_cached.config.creation_waiting = 2

    operation = run(buy(ask), between=later)

    assert operation.state == "succeeded"
    assert operation.attempts == 3 and len(catalog_cached.fleet.hosts) == 1
    retries = operation.events.filter(event="retry")
    assert [e.code for e in retries] == ["6005", "6005"]
    assert all(e.trace_id for e in retries)
    assert "No host was created" in retries[0].detail and "本次未创建主机" in retries[0].detail_in(
        "zh-hans"
    )
    countdowns = [c for (_id, _dispatch, c) in dispatched if c and c >= 5]
    assert 8 <= countdowns[0] <= 10 and 16 <= countdowns[1] <= 20  # doubling, with jitter


def test_creation_waiting_past_the_deadline_fails_with_its_message(
    catalog_cached, ask, run, settings
):
    settings.XDS_CREATE_RETRY_SECONDS = 10
    settings.XDS_CREATE_DEADLINE = 15
    catalog_cached.config.creation_waiting = 5

    operation = run(buy(ask))

    assert operation.state == "failed" and operation.error_code == "6005"
    assert operation.message.startswith("The provider is busy creating hosts")
    assert operation.trace_id
    assert not catalog_cached.fleet.hosts


def test_an_unreachable_upstream_means_nothing_was_sent_and_is_tried_again(
    catalog_cached, ask, run, later, settings
):
    operation = buy(ask)
    settings.XDS_BASE_URL = "http://127.0.0.1:9"  # nothing listens: the connection is refused
    services.operation_run(operation_id=operation.pk, dispatch_id=operation.dispatch_id)
    operation.refresh_from_db()
    assert operation.state == "queued" and operation.error_code == "ConnectionFailed"

    settings.XDS_BASE_URL = catalog_cached.url
    operation = run(operation, between=later)
    assert operation.state == "succeeded" and len(catalog_cached.fleet.hosts) == 1


# --- Power, reboot, delete ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "start", "end"),
    [
        ("power_on", HostStatus.OFF, HostStatus.RUNNING),
        ("power_off", HostStatus.RUNNING, HostStatus.OFF),
        ("reboot", HostStatus.RUNNING, HostStatus.RUNNING),
    ],
)
def test_an_action_is_followed_until_the_host_reaches_its_target(
    sim, mirrored, ask, run, later, kind, start, end
):
    host = mirrored(status=start)
    operation = run(ask(kind, host), between=later)

    assert operation.state == "succeeded"
    host.refresh_from_db()
    assert host.status == end and not host.is_changing
    assert "accepted" in events(operation)
    statuses = list(operation.events.filter(event="status").values_list("detail", flat=True))
    assert statuses[-1] == ("Running" if end == HostStatus.RUNNING else "Off")


def test_a_reboot_is_not_done_until_the_host_was_seen_down(sim, mirrored, ask, dispatched):
    host = mirrored(status=HostStatus.RUNNING)
    operation = ask("reboot", host)
    services.operation_run(operation_id=operation.pk, dispatch_id=operation.dispatch_id)
    operation.refresh_from_db()
    services.operation_run(operation_id=operation.pk, dispatch_id=operation.dispatch_id)
    operation.refresh_from_db()
    assert operation.state == "waiting" and operation.progress == {"left": True}  # booting


def test_a_poll_updates_the_mirror_so_open_pages_see_the_change(sim, mirrored, ask):
    host = mirrored(status=HostStatus.OFF)
    operation = ask("power_on", host)
    version = Host.objects.get(id=host.id).version
    services.operation_run(operation_id=operation.pk, dispatch_id=operation.dispatch_id)
    operation.refresh_from_db()
    services.operation_run(operation_id=operation.pk, dispatch_id=operation.dispatch_id)
    host.refresh_from_db()
    assert host.status == HostStatus.BOOTING and host.version > version


def test_a_deleted_host_is_gone_from_the_listing_and_the_mirror_says_so(
    sim, mirrored, member, ask, run
):
    host = mirrored(status=HostStatus.OFF, owner=member)
    operation = run(ask("delete", host))

    assert operation.state == "succeeded"
    assert operation.message == "Deleted: Xuandashi no longer lists the host."
    assert host.id not in sim.fleet.hosts
    assert Host.objects.get(id=host.id).is_gone


def test_a_delete_the_upstream_answers_false_fails_and_says_why(sim, mirrored, member, ask, run):
    host = mirrored(status=HostStatus.OFF, owner=member)
    sim.fleet.hosts[host.id].status = HostStatus.BOOTING  # the mirror is behind
    sim.fleet.hosts[host.id].transition_at = sim.clock.now_ms() + 60_000

    operation = run(ask("delete", host))

    assert operation.state == "failed" and operation.error_code == "false"
    assert "did not delete the host" in operation.message
    assert host.id in sim.fleet.hosts


def test_a_delete_is_not_called_done_from_a_listing_missing_a_page(
    sim, mirrored, member, ask, run, dispatched
):
    host = mirrored(status=HostStatus.OFF, owner=member)
    for _ in range(30):  # newer hosts push the deleted one to page 2
        sim.fleet.add_host()
    page_fails(sim, 2)
    sim.add_fault(Fault(kind="html_502", path="/v1/pve/open/delete", phase="after"))
    operation = ask("delete", host)

    for _ in range(3):
        services.operation_run(operation_id=operation.pk, dispatch_id=operation.dispatch_id)
    operation.refresh_from_db()
    assert host.id not in sim.fleet.hosts
    assert not operation.is_final and not Host.objects.get(id=host.id).is_gone

    sim.clear_faults()
    operation = run(operation)
    assert operation.state == "succeeded" and Host.objects.get(id=host.id).is_gone


def test_an_action_that_never_reaches_its_target_times_out(sim, mirrored, ask, settings):
    sim.config.boot_seconds = 3600
    host = mirrored(status=HostStatus.OFF)
    operation = ask("power_on", host)
    services.operation_run(operation_id=operation.pk, dispatch_id=operation.dispatch_id)
    Operation.objects.filter(pk=operation.pk).update(
        accepted_at=timezone.now() - timedelta(seconds=settings.XDS_ACTION_TIMEOUT + 1)
    )
    operation.refresh_from_db()
    services.operation_run(operation_id=operation.pk, dispatch_id=operation.dispatch_id)

    operation.refresh_from_db()
    assert operation.state == "failed" and operation.error_code == "timeout"
    assert operation.message.startswith("The host did not become running within 10 min.")
    assert operation.message_in("zh-hans").startswith("主机在 10 分钟内未变为运行中。")
    assert not Host.objects.get(id=host.id).is_changing


# --- Safe to run twice ---------------------------------------------------------------------------


def test_a_superseded_message_does_nothing(sim, mirrored, ask):
    host = mirrored(status=HostStatus.OFF)
    operation = ask("power_on", host)
    stale = operation.dispatch_id
    assert services.operation_run(operation_id=operation.pk, dispatch_id=stale) == "ran"
    # The run dispatched its next poll; the broker delivers the first message again.
    assert services.operation_run(operation_id=operation.pk, dispatch_id=stale) == "superseded"
    assert sim.request_count("/v1/pve/open/operate") == 1


def test_a_message_for_a_deleted_operation_or_a_final_one_is_dropped(sim, mirrored, ask, run):
    operation = run(ask("power_on", mirrored(status=HostStatus.OFF)), between=lambda: None)
    assert services.operation_run(operation_id=10**9, dispatch_id="x") == "gone"
    operation.refresh_from_db()
    if operation.is_final:
        assert services.operation_run(operation_id=operation.pk, dispatch_id="x") == "final"


def test_one_run_per_host_at_a_time(sim, mirrored, ask, settings):
    host = mirrored(status=HostStatus.OFF)
    operation = ask("power_on", host)
    with cache_lock(f"xds:operation-poller:{host.id}", 60):  # another run holds the host
        outcome = services.operation_run(
            operation_id=operation.pk, dispatch_id=operation.dispatch_id
        )
    assert outcome == "busy"
    assert sim.request_count("/v1/pve/open/operate") == 0
    operation.refresh_from_db()
    assert operation.state == "queued" and operation.deliveries == 1


def test_a_create_delivered_twice_at_once_is_sent_once(catalog_cached, ask):
    """Two workers got the same message: both pass the checks, one wins the row lock."""
    operation = buy(ask)
    client = build_client(base_url=catalog_cached.url)

    class Racing:
        """Runs the other delivery while this one is about to call the upstream."""

        def __init__(self):
            self.raced = False

        def __getattr__(self, name):
            return getattr(client, name)

        def create_pay_as_you_go(self, *args):
            if not self.raced:
                self.raced = True
                other = services.operation_run(
                    operation_id=operation.pk, dispatch_id=operation.dispatch_id, client=client
                )
                assert other in ("busy", "ran")
            return client.create_pay_as_you_go(*args)

    services.operation_run(
        operation_id=operation.pk, dispatch_id=operation.dispatch_id, client=Racing()
    )
    assert catalog_cached.request_count(CREATE) == 1


def test_a_message_redelivered_again_and_again_ends_the_operation(
    catalog_cached, ask, settings, redeliver
):
    settings.XDS_ACTION_MAX_REDELIVERIES = 2
    operation = buy(ask)
    Operation.objects.filter(pk=operation.pk).update(state="waiting", attempts=1)

    outcomes = redeliver(operation, killed_in="list_every_host")
    assert outcomes == ["killed", "killed", "killed", "gave up", "final"]
    assert operation.state == "unknown" and operation.error_code == "redelivered"
    assert "may have bought a host" in operation.message
    assert catalog_cached.request_count(CREATE) == 0


def test_the_reconciler_resumes_what_a_killed_worker_left_and_nothing_fresh(
    sim, mirrored, ask, run, later, dispatched, settings
):
    stale = ask("power_on", mirrored(status=HostStatus.OFF))
    services.operation_run(operation_id=stale.pk, dispatch_id=stale.dispatch_id)
    fresh = ask("power_on", mirrored(status=HostStatus.OFF))
    services.operation_run(operation_id=fresh.pk, dispatch_id=fresh.dispatch_id)
    old = timezone.now() - timedelta(seconds=settings.XDS_ACTION_STALE_SECONDS + 1)
    Operation.objects.filter(pk=stale.pk).update(updated_at=old, next_run_at=old)
    dispatched.clear()

    assert services.operations_reconcile() == 1

    stale.refresh_from_db()
    assert dispatched == [(stale.pk, stale.dispatch_id, None)]
    assert "resumed" in events(stale)
    stale = run(stale, between=later)
    assert stale.state == "succeeded"
    assert sim.request_count("/v1/pve/open/operate") == 2  # once each, never again


def test_the_reconciler_leaves_an_operation_alone_while_a_run_holds_its_host(
    sim, mirrored, ask, dispatched, settings
):
    """A run that works longer than the staleness holds its host's lock (refreshed while it
    works): the reconciler must not start a second one beside it; once the lock is free (the
    run was killed and its lock lapsed), it resumes the operation."""
    host = mirrored(status=HostStatus.OFF)
    operation = ask("power_on", host)
    services.operation_run(operation_id=operation.pk, dispatch_id=operation.dispatch_id)
    old = timezone.now() - timedelta(seconds=settings.XDS_ACTION_STALE_SECONDS + 1)
    Operation.objects.filter(pk=operation.pk).update(updated_at=old, next_run_at=old)
    dispatched.clear()

    with cache_lock(f"xds:operation-poller:{host.id}"):
        assert services.operations_reconcile() == 0
    assert services.operations_reconcile() == 1
    assert [call[0] for call in dispatched] == [operation.pk]
