"""Outcomes that match what the provider did (issue 12, "found by trying it"): an answer lost
after the provider acted never ends "failed" or "unknown" while the provider shows what it did.

Runs are played in this process against the simulator over real HTTP (as
test_operation_run.py does); tests/dashboard/test_operations_worker.py has the same through a
real worker."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from dashboard import services
from dashboard.models import AuditEvent, Host, Operation
from vmclient.simulator import Clock, Fault, Simulator
from vmclient.types import HostStatus

pytestmark = pytest.mark.django_db

CREATE = "/v1/pve/open/createquantity"
WINDOWS_SERVER = "8989"  # "Windows Server 2022 数据中心中文版 x64", type BZ
UBUNTU = "8991"
PACKAGE = "Pi8tcH1NSd"  # type BZ


def events(operation) -> list[str]:
    return list(operation.events.values_list("event", flat=True))


@pytest.fixture
def later(sim):
    return lambda: sim.clock.advance(20)


def buy(ask, image_id=UBUNTU, **params):
    return ask("create_payg", package_id=PACKAGE, image_id=image_id, **params)


def step(operation) -> Operation:
    services.operation_run(operation_id=operation.pk, dispatch_id=operation.dispatch_id)
    operation.refresh_from_db()
    return operation


# --- Creates: the host that fits is found ------------------------------------------------------


def test_a_windows_create_whose_answer_is_lost_finds_its_host_named_by_family(
    catalog_cached, ask, run, later, member
):
    # The provider's docs name hosts "Windows" as well as "Windows Server"; this one does.
    catalog_cached.config.host_os_first_word = True
    catalog_cached.add_fault(Fault(kind="html_502", path=CREATE, phase="after"))

    operation = run(buy(ask, WINDOWS_SERVER), between=later)

    (upstream,) = catalog_cached.fleet.hosts.values()
    assert upstream.operating_system == "Windows"  # the image is "Windows Server"
    assert operation.state == "succeeded", operation.message
    assert operation.host_id == upstream.id
    assert Host.objects.get(id=upstream.id).owner == member
    assert catalog_cached.request_count(CREATE) == 1


def test_a_host_of_another_system_is_not_taken_for_the_new_one(catalog_cached, ask, run, settings):
    settings.XDS_CREATE_FIND_TIMEOUT = 60
    catalog_cached.config.doc_version = "original"
    # Same template, bought a moment ago by someone else, but Ubuntu: not this Windows create's.
    catalog_cached.fleet.add_host(package_id=PACKAGE, image_id=UBUNTU)
    catalog_cached.add_fault(Fault(kind="html_502", path=CREATE, phase="before"))
    operation = step(buy(ask, WINDOWS_SERVER))
    Operation.objects.filter(pk=operation.pk).update(
        submitted_at=F("submitted_at") - timedelta(seconds=61)
    )

    operation = run(operation)

    assert operation.state == "unknown" and operation.host_id is None


@pytest.fixture
def behind(point_client_at):
    """A provider whose clock is 3 minutes behind ours, its catalog in the cache."""
    sim = Simulator(hosts=0, clock=Clock(start=time.time() - 180)).start()
    try:
        point_client_at(sim)
        assert services.catalog_refresh() is not None
        yield sim
    finally:
        sim.stop()


def test_an_upstream_clock_minutes_behind_does_not_hide_the_new_host(behind, ask, run, member):
    behind.config.doc_version = "original"  # no id in the answer: found by listing
    operation = run(buy(ask), between=lambda: behind.clock.advance(20))

    (upstream,) = behind.fleet.hosts.values()
    assert operation.state == "succeeded", operation.message
    assert operation.host_id == upstream.id
    assert Host.objects.get(id=upstream.id).owner == member


def test_an_unreadable_listing_at_the_deadline_does_not_end_it_unknown(
    catalog_cached, ask, run, settings, later
):
    settings.XDS_CREATE_FIND_TIMEOUT = 60
    catalog_cached.config.doc_version = "original"
    operation = step(buy(ask))
    assert operation.state == "waiting"  # accepted, its host to be found
    Operation.objects.filter(pk=operation.pk).update(
        submitted_at=F("submitted_at") - timedelta(seconds=61)
    )
    # Past the deadline, but the listing cannot be read: it has not looked, so it knows nothing.
    catalog_cached.add_fault(Fault(kind="html_502", path="/v1/pve/open/mypage", times=3))
    operation = step(operation)
    assert operation.state == "waiting"

    operation = run(operation, between=later)
    assert operation.state == "succeeded", operation.message
    assert operation.host_id == next(iter(catalog_cached.fleet.hosts))


def test_a_create_refused_with_401_says_nothing_was_bought(catalog_cached, ask, run):
    refused = b'{"code": 401, "msg": "token invalid", "success": false, "traceId": "t-401"}'
    # The first 401 makes the client fetch a new token and ask once more; refused again.
    catalog_cached.add_fault(Fault(kind="raw", path=CREATE, body=refused, times=2))

    operation = run(buy(ask))

    assert operation.state == "failed"
    assert operation.error_code == "401" and operation.trace_id == "t-401"
    assert "Nothing was bought" in operation.message
    assert "未购买任何主机" in operation.message_in("zh-hans")
    assert not catalog_cached.fleet.hosts


# --- Power, reboot, delete whose answer was lost -----------------------------------------------

ACTION_PATHS = {
    "power_off": "/v1/pve/open/operate/",
    "reboot": "/v1/pve/open/reboot/",
    "delete": "/v1/pve/open/delete/",
}
# Every answer lost while the gateway misbehaves (times=None: the client's retries too).
LOST = [
    pytest.param({"kind": "truncated_json"}, id="cut-off"),
    pytest.param({"kind": "html_502"}, id="gateway-page"),
    pytest.param({"kind": "hang", "seconds": 1.0}, id="read-timeout"),
]
# The same, the request having no effect (a hanging request would take effect when its sleep
# ends: this one sleeps longer than the test, and the simulator stops first).
NOT_DONE = [*LOST[:2], pytest.param({"kind": "hang", "seconds": 60.0}, id="read-timeout")]


@pytest.fixture
def lost_answers(sim, settings):
    settings.XDS_TIMEOUT = 0.3

    def arm(kind: str, phase: str, fault: dict):
        sim.add_fault(Fault(path=ACTION_PATHS[kind], phase=phase, times=None, **fault))

    return arm


@pytest.mark.parametrize("fault", LOST)
@pytest.mark.parametrize("kind", ["power_off", "reboot", "delete"])
def test_an_action_whose_answer_was_lost_succeeds_when_the_provider_did_it(
    sim, mirrored, member, ask, run, later, lost_answers, kind, fault
):
    start = HostStatus.OFF if kind == "delete" else HostStatus.RUNNING
    host = mirrored(status=start, owner=member)
    lost_answers(kind, "after", fault)

    operation = run(ask(kind, host), between=later)

    assert operation.state == "succeeded", operation.message
    assert "answer_lost" in events(operation)
    if kind == "delete":
        assert host.id not in sim.fleet.hosts
        assert Host.objects.get(id=host.id).is_gone
    else:
        expected = HostStatus.OFF if kind == "power_off" else HostStatus.RUNNING
        assert sim.fleet.hosts[host.id].status is expected
        if kind == "reboot":
            assert "Booting" in operation.events.values_list("detail", flat=True)


@pytest.mark.parametrize("fault", NOT_DONE)
@pytest.mark.parametrize("kind", ["power_off", "reboot", "delete"])
def test_an_action_whose_answer_was_lost_fails_honestly_when_the_provider_did_not(
    sim, mirrored, member, ask, run, lost_answers, settings, kind, fault
):
    start = HostStatus.OFF if kind == "delete" else HostStatus.RUNNING
    host = mirrored(status=start, owner=member)
    lost_answers(kind, "before", fault)  # the request had no effect

    operation = step(ask(kind, host))
    assert operation.state == "waiting"  # it may have happened: followed, not failed
    assert "answer_lost" in events(operation)
    sim.clear_faults()
    operation = step(operation)
    assert operation.state == "waiting"  # the host shows nothing yet; not a verdict
    Operation.objects.filter(pk=operation.pk).update(
        accepted_at=timezone.now() - timedelta(seconds=settings.XDS_ACTION_TIMEOUT + 1)
    )
    operation = run(operation)

    assert operation.state == "failed"
    assert operation.message.startswith(f"Xuandashi's answer to the {kind.replace('_', ' ')} was")
    assert "lost, and 10 min later" in operation.message
    assert "was not carried out" in operation.message
    assert "应答丢失" in operation.message_in("zh-hans") and "未执行" in operation.message_in(
        "zh-hans"
    )
    assert sim.fleet.hosts[host.id].status is start


def test_an_action_whose_answer_was_lost_is_not_judged_on_a_host_it_cannot_read(
    sim, mirrored, member, ask, run, lost_answers, settings
):
    host = mirrored(status=HostStatus.RUNNING, owner=member)
    lost_answers("power_off", "after", {"kind": "html_502"})
    operation = step(ask("power_off", host))
    assert operation.state == "waiting"
    sim.add_fault(Fault(kind="html_502", path="/v1/pve/open/one/", times=None))
    Operation.objects.filter(pk=operation.pk).update(
        accepted_at=timezone.now() - timedelta(seconds=settings.XDS_ACTION_TIMEOUT + 1)
    )
    operation = step(operation)
    assert operation.state == "waiting"  # past the timeout, but it could not look

    Operation.objects.filter(pk=operation.pk).update(
        accepted_at=timezone.now() - timedelta(seconds=2 * settings.XDS_ACTION_TIMEOUT + 1)
    )
    operation = run(operation)
    assert operation.state == "unknown"
    assert "whether it was done is not known" in operation.message


def test_without_host_status_a_lost_answer_is_unknown_not_succeeded(
    sim, mirrored, member, ask, run, lost_answers
):
    sim.config.doc_version = "original"  # hosts carry no status
    host = mirrored(owner=member)
    lost_answers("power_off", "after", {"kind": "truncated_json"})

    operation = run(ask("power_off", host))

    assert operation.state == "unknown"
    assert "does not report the host's status" in operation.message


# --- An admin resolves what stayed unknown ----------------------------------------------------


@pytest.fixture
def unknown(catalog_cached, ask, run, settings):
    """A create whose answer was lost and whose host was never recognised: outcome unknown."""
    settings.XDS_CREATE_FIND_TIMEOUT = 60
    catalog_cached.add_fault(Fault(kind="html_502", path=CREATE, phase="before"))
    operation = step(buy(ask))
    Operation.objects.filter(pk=operation.pk).update(
        submitted_at=F("submitted_at") - timedelta(seconds=61)
    )
    operation = run(operation)
    assert operation.state == "unknown"
    return operation


def test_an_admin_resolves_unknown_as_bought_host_x(client, ada, member, unknown, make_host):
    bought = make_host(name="found-in-console", owner=None)
    claimed = make_host(name="bought-by-another")
    Operation.objects.create(
        kind="create_payg", state="succeeded", requested_by_name="x", host_id=claimed.id
    )
    client.force_login(ada)

    page = client.get(f"/operations/{unknown.pk}/").content.decode()
    assert f'action="/operations/{unknown.pk}/resolve/"' in page
    assert f'value="{bought.id}"' in page and f'value="{claimed.id}"' not in page

    response = client.post(
        f"/operations/{unknown.pk}/resolve/",
        {"outcome": "bought", "host": bought.id, "reason": "seen in the provider's console"},
    )

    assert response.status_code == 302
    unknown.refresh_from_db()
    assert unknown.state == "succeeded" and unknown.host_id == bought.id
    assert "ada" in unknown.message and "seen in the provider's console" in unknown.message
    bought.refresh_from_db()
    assert bought.owner == member
    event = AuditEvent.objects.get(action="operation_resolved")
    assert event.actor == ada and event.operation_id == unknown.pk
    assert event.host_id == bought.id
    assert event.details["reason"] == "seen in the provider's console"
    assert event.details["outcome"] == "bought"
    assert "resolved" in events(unknown)


def test_an_admin_resolves_unknown_as_nothing_bought(client, ada, unknown):
    client.force_login(ada)
    client.post(
        f"/operations/{unknown.pk}/resolve/",
        {"outcome": "nothing", "reason": "not in the console"},
    )

    unknown.refresh_from_db()
    assert unknown.state == "failed" and unknown.host_id is None
    assert "Nothing was bought" in unknown.message and "未购买任何主机" in unknown.message_in(
        "zh-hans"
    )
    event = AuditEvent.objects.get(action="operation_resolved")
    assert event.details == {"outcome": "nothing", "reason": "not in the console", "host": ""}


def test_resolving_needs_a_reason_and_an_unclaimed_host(client, ada, unknown, make_host):
    claimed = make_host()
    Operation.objects.create(
        kind="create_payg", state="succeeded", requested_by_name="x", host_id=claimed.id
    )
    client.force_login(ada)
    url = f"/operations/{unknown.pk}/resolve/"

    no_reason = client.post(url, {"outcome": "nothing", "reason": " "}, follow=True)
    taken = client.post(url, {"outcome": "bought", "host": claimed.id, "reason": "r"}, follow=True)

    assert "Say why" in no_reason.content.decode()
    assert "not one the create may have bought" in taken.content.decode()
    unknown.refresh_from_db()
    assert unknown.state == "unknown"
    assert not AuditEvent.objects.filter(action="operation_resolved").exists()


def test_only_an_admin_may_resolve(client, member, make_member, unknown, make_host):
    host = make_host()
    for person in (member, make_member("bob", "Operator")):  # the requester, an operator
        client.force_login(person)
        page = client.get(f"/operations/{unknown.pk}/").content.decode()
        assert "/resolve/" not in page
        response = client.post(
            f"/operations/{unknown.pk}/resolve/",
            {"outcome": "bought", "host": host.id, "reason": "mine"},
        )
        assert response.status_code == 403
    unknown.refresh_from_db()
    assert unknown.state == "unknown"
    assert Host.objects.get(id=host.id).owner is None


def test_only_an_unknown_outcome_can_be_resolved(client, ada, member, make_host):
    done = Operation.objects.create(
        kind="create_payg", state="failed", requested_by=member, requested_by_name="member"
    )
    client.force_login(ada)
    assert "/resolve/" not in client.get(f"/operations/{done.pk}/").content.decode()
    response = client.post(
        f"/operations/{done.pk}/resolve/", {"outcome": "nothing", "reason": "r"}, follow=True
    )
    assert "Only an operation whose outcome is unknown" in response.content.decode()
    done.refresh_from_db()
    assert done.state == "failed"
