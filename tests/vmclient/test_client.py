"""Every client method over real HTTP against the simulator, in both document versions."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from decimal import Decimal

import pytest

from vmclient.client import XuandashiClient
from vmclient.errors import BusinessError, InvalidArgument, NoPermission, UnexpectedData, XdsError
from vmclient.simulator import Fault
from vmclient.types import BillingType, HostStatus, PeriodType

# From the simulator's fixed catalog.
PACKAGE = "Pi8tcH1NSd"  # type BZ, sold both ways, 5.00/h x 0.9
IMAGE = "8989"  # type BZ, Windows Server
LINUX_IMAGE = "8991"  # type BZ, Ubuntu Server

CREATE_PATHS = ("/v1/pve/open/createquantity", "/v1/pve/open/createRent")


def client_for(sim, **overrides) -> XuandashiClient:
    """A client for `sim` with short timeouts and near-instant backoff, for fast tests."""
    options = {"timeout": 2.0, "connect_timeout": 1.0, "retries": 2, "backoff": 0.01}
    options.update(overrides)
    return XuandashiClient(sim.url, sim.uuid, sim.secret, **options)


@pytest.fixture
def client(simulator):
    with client_for(simulator) as client:
        yield client


@pytest.fixture
def original(make_simulator):
    """The provider as the original document describes it, and a client for it."""
    sim = make_simulator(doc_version="original")
    with client_for(sim) as client:
        yield sim, client


def api_requests(sim, prefix="/v1/pve/"):
    return [r for r in sim.request_log_snapshot() if r.path.startswith(prefix)]


# --- templates and images ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", [BillingType.PAY_AS_YOU_GO, BillingType.RENTAL, 0, 1])
def test_list_packages_returns_the_templates_of_one_billing_type(simulator, client, kind):
    packages = client.list_packages(kind)
    expected = {p.package_id for p in simulator.fleet.packages_for(int(kind))}
    assert {p.package_id for p in packages} == expected
    assert all(p.listed_for is BillingType(kind) for p in packages)
    assert all(p.allows(BillingType(kind)) for p in packages)


def test_list_packages_reads_prices_as_exact_decimals(client):
    package = next(p for p in client.list_packages(0) if p.package_id == PACKAGE)
    assert package.amount == Decimal("5.00") and package.discount == Decimal("0.9")
    assert package.hourly_price == Decimal("4.50")
    assert package.gpu_name == "GeForce RTX 3090 24G" and package.type == "BZ"


@pytest.mark.parametrize("kind", [2, -1, "0", None, True, 0.0])
def test_list_packages_refuses_an_unknown_kind_without_a_request(simulator, client, kind):
    with pytest.raises(InvalidArgument) as caught:
        client.list_packages(kind)
    assert caught.value.argument == "kind"
    assert simulator.request_count() == 0


def test_list_images(simulator, client):
    images = client.list_images()
    assert {i.image_id for i in images} == {i.image_id for i in simulator.fleet.images}
    windows = next(i for i in images if i.image_id == IMAGE)
    assert windows.type == "BZ" and windows.label == "Windows Server 2022 数据中心中文版 x64"


# --- creates ----------------------------------------------------------------------------------


def test_create_pay_as_you_go_returns_the_new_host_id(simulator, client):
    host_id = client.create_pay_as_you_go(PACKAGE, IMAGE)
    assert host_id in simulator.fleet.hosts
    assert simulator.fleet.hosts[host_id].use_type == BillingType.PAY_AS_YOU_GO


def test_create_rental_returns_the_new_host_id_and_pays_up_front(simulator, client):
    before = simulator.config.wallet_balance
    host_id = client.create_rental(PACKAGE, IMAGE, 2, PeriodType.DAY)
    host = simulator.fleet.hosts[host_id]
    assert host.use_type == BillingType.RENTAL
    assert simulator.config.wallet_balance == before - Decimal("5.00") * Decimal("0.9") * 48


def test_create_rental_accepts_a_plain_int_period_type(simulator, client):
    assert client.create_rental(PACKAGE, IMAGE, 1, 3) in simulator.fleet.hosts


def test_creates_in_the_original_version_answer_true_without_an_id(original):
    sim, client = original
    assert client.create_pay_as_you_go(PACKAGE, IMAGE) is None
    assert client.create_rental(PACKAGE, IMAGE, 1, PeriodType.MONTH) is None
    assert len(sim.fleet.hosts) == 2


def test_hour_rentals_are_refused_locally(simulator, client):
    with pytest.raises(InvalidArgument) as caught:
        client.create_rental(PACKAGE, IMAGE, 1, PeriodType.HOUR)
    assert caught.value.argument == "period_type"
    assert caught.value.reason == "hourly_rental"
    assert simulator.request_count() == 0


@pytest.mark.parametrize("period_type", [6, -1, "3", None, 3.0, True])
def test_unknown_period_types_are_refused_locally(simulator, client, period_type):
    with pytest.raises(InvalidArgument):
        client.create_rental(PACKAGE, IMAGE, 1, period_type)
    assert simulator.request_count() == 0


@pytest.mark.parametrize("period_number", [0, -3, 1.5, "2", None, True])
def test_period_number_must_be_a_positive_int(simulator, client, period_number):
    with pytest.raises(InvalidArgument) as caught:
        client.create_rental(PACKAGE, IMAGE, period_number, PeriodType.DAY)
    assert caught.value.argument == "period_number"
    assert simulator.request_count() == 0


@pytest.mark.parametrize("bad", ["", "  ", "a b", "line\nbreak", None, 42, ".", ".."])
def test_template_and_image_ids_must_be_non_empty_text(simulator, client, bad):
    with pytest.raises(InvalidArgument):
        client.create_pay_as_you_go(bad, IMAGE)
    with pytest.raises(InvalidArgument):
        client.create_rental(PACKAGE, bad, 1, PeriodType.DAY)
    assert simulator.request_count() == 0


# --- one host ---------------------------------------------------------------------------------


def test_get_host_in_the_later_version(simulator, client):
    sim_host = simulator.fleet.add_host(package_id=PACKAGE, image_id=IMAGE, use_type=1)
    host = client.get_host(sim_host.id)
    assert host.id == sim_host.id and host.name == sim_host.name
    assert host.status is HostStatus.RUNNING
    assert host.billing_type is BillingType.RENTAL
    assert host.ipv4 == sim_host.ipv4 and host.address == sim_host.address
    assert host.port == sim_host.port and host.password == sim_host.host_pw
    assert host.login_user == "administrator" and host.is_windows
    assert isinstance(host.created_at, datetime) and host.created_at.tzinfo is not None
    assert host.expires_at is not None and host.expires_at > host.created_at


def test_get_host_in_the_original_version_reads_ipV4_and_has_no_status(original):
    sim, client = original
    sim_host = sim.fleet.add_host(package_id=PACKAGE, image_id=LINUX_IMAGE)
    host = client.get_host(sim_host.id)
    assert host.ipv4 == sim_host.ipv4
    assert host.status is None and host.billing_type is None and host.area is None
    assert host.password is None  # masked as "*****"
    assert host.login_user == "root" and not host.is_windows


def test_get_host_with_numbers_as_strings(make_simulator):
    sim = make_simulator(numbers_as_strings=True)
    sim_host = sim.fleet.add_host(package_id=PACKAGE, image_id=IMAGE)
    with client_for(sim) as client:
        host = client.get_host(sim_host.id)
        page = client.list_hosts_page(1)
        package = next(p for p in client.list_packages(1) if p.package_id == PACKAGE)
    assert (host.memory_gb, host.cpu_cores, host.disk_gb) == (16, 16, 512)
    assert host.port == sim_host.port and host.status is HostStatus.RUNNING
    assert page.total == 1 and page.hosts[0].id == sim_host.id
    assert package.amount == Decimal("5.00")


def test_a_fresh_host_has_no_address_or_port_yet(simulator, client):
    host = client.get_host(client.create_pay_as_you_go(PACKAGE, IMAGE))
    assert host.status is HostStatus.BOOTING
    assert host.address is None and host.port is None


def test_get_host_of_an_unknown_id_is_a_business_error(client):
    with pytest.raises(BusinessError) as caught:
        client.get_host("NoSuchHost")
    assert caught.value.upstream_message == "主机不存在" and caught.value.trace_id


def test_another_accounts_host_is_no_permission(simulator, client):
    simulator.fleet.foreign_host_ids.add("ForeignOne")
    with pytest.raises(NoPermission) as caught:
        client.get_host("ForeignOne")
    assert caught.value.code == 1001


def test_host_ids_are_quoted_as_one_path_segment(simulator):
    import requests

    sent = []

    class Recording(requests.Session):
        def send(self, request, **kwargs):
            sent.append(request.url)
            return super().send(request, **kwargs)

    with client_for(simulator, session_factory=Recording) as client:
        with pytest.raises(BusinessError) as caught:
            client.get_host("a?b#c%")
        with pytest.raises(XdsError):
            client.get_host("a/b")
    assert caught.value.upstream_message == "主机不存在"  # the whole id reached the lookup
    assert sent[1:] == [
        f"{simulator.url}/v1/pve/open/one/a%3Fb%23c%25",
        f"{simulator.url}/v1/pve/open/one/a%2Fb",
    ]


@pytest.mark.parametrize("host_id", ["a/b", "../../etc/passwd", "%2F", "?#", "渲染/一号"])
def test_a_host_whose_id_holds_a_slash_or_escapes_is_reached(simulator, client, host_id):
    simulator.fleet.add_host(id=host_id, status=HostStatus.RUNNING)
    assert client.get_host(host_id).id == host_id
    client.power_off(host_id)
    assert simulator.fleet.hosts[host_id].status is HostStatus.SHUTTING_DOWN
    simulator.clock.advance(600)
    client.power_on(host_id)
    simulator.clock.advance(600)
    client.reboot(host_id)
    simulator.clock.advance(600)
    assert client.delete_host(host_id) is True
    assert host_id not in simulator.fleet.hosts


@pytest.mark.parametrize("bad", ["", " ", "a b", "tab\there", None, 7, ".."])
def test_host_calls_refuse_bad_ids_without_a_request(simulator, client, bad):
    for call in (
        client.get_host,
        client.power_on,
        client.power_off,
        client.reboot,
        client.delete_host,
    ):
        with pytest.raises(InvalidArgument):
            call(bad)
    assert simulator.request_count() == 0


# --- power ------------------------------------------------------------------------------------


def test_power_on_off_and_reboot_are_accepted_and_start_the_change(simulator, client):
    host = simulator.fleet.add_host(status=HostStatus.OFF, package_id=PACKAGE, image_id=IMAGE)
    assert client.power_on(host.id) is None
    assert client.get_host(host.id).status is HostStatus.BOOTING
    simulator.clock.advance(simulator.config.boot_seconds + 1)
    assert client.get_host(host.id).status is HostStatus.RUNNING
    assert client.reboot(host.id) is None
    assert client.get_host(host.id).status is HostStatus.BOOTING
    simulator.clock.advance(simulator.config.reboot_seconds + 1)
    assert client.power_off(host.id) is None
    assert client.get_host(host.id).status is HostStatus.SHUTTING_DOWN
    queries = [r.query for r in api_requests(simulator, "/v1/pve/open/operate/")]
    assert queries == [{"type": "1"}, {"type": "0"}]


# --- pages ------------------------------------------------------------------------------------


def test_list_hosts_page_returns_one_page_and_the_total(make_simulator):
    sim = make_simulator(hosts=30)
    with client_for(sim) as client:
        first = client.list_hosts_page(1)
        second = client.list_hosts_page(2)
        small = client.list_hosts_page(3, page_size=10)
    assert first.total == 30 and len(first.hosts) == 25 and first.page_count == 2
    assert len(second.hosts) == 5 and second.page == 2
    assert len(small.hosts) == 10 and small.page_size == 10
    assert {h.id for h in first.hosts + second.hosts} == set(sim.fleet.hosts)


@pytest.mark.parametrize(("page", "page_size"), [(0, 25), (1, 0), (1, 26), ("1", 25), (1, None)])
def test_list_hosts_page_refuses_bad_paging_locally(simulator, client, page, page_size):
    with pytest.raises(InvalidArgument):
        client.list_hosts_page(page, page_size)
    assert simulator.request_count() == 0


def test_list_every_host_reads_every_page_once(make_simulator):
    sim = make_simulator(hosts=60)
    with client_for(sim) as client:
        listing = client.list_every_host()
    assert len(listing.items) == 60 and {h.id for h in listing.items} == set(sim.fleet.hosts)
    assert listing.complete and listing.error is None
    pages = api_requests(sim, "/v1/pve/open/mypage")
    assert [r.query["page"] for r in pages] == ["1", "2", "3"]


def test_list_every_host_follows_an_upstream_that_clamps_the_page_size(make_simulator):
    sim = make_simulator(hosts=60, max_page_size=20)
    with client_for(sim) as client:
        listing = client.list_every_host()
    assert len(listing.items) == 60 and {h.id for h in listing.items} == set(sim.fleet.hosts)
    assert listing.complete
    pages = api_requests(sim, "/v1/pve/open/mypage")
    assert [r.query["page"] for r in pages] == ["1", "2", "3"]


def test_list_every_host_of_an_empty_account_makes_one_call(simulator, client):
    listing = client.list_every_host()
    assert listing.items == () and listing.complete
    assert simulator.request_count("/v1/pve/open/mypage") == 1


def test_list_every_host_fetches_pages_concurrently(make_simulator):
    sim = make_simulator(hosts=130, max_page_size=20)
    with client_for(sim) as client:
        listing = client.list_every_host(workers=4)
    assert len(listing.items) == 130 and {h.id for h in listing.items} == set(sim.fleet.hosts)
    assert listing.complete
    assert sim.request_count("/v1/pve/open/mypage") == 7
    assert sim.request_count("/v1/auth/getToken") == 1


def test_a_create_that_shifts_the_pages_mid_listing_gives_a_partial_listing(make_simulator):
    """The upstream lists newest first: a host bought between pages 1 and 2 pushes page 1's
    last host onto page 2. It is kept once, and the listing does not claim to be whole (the new
    host is on page 1, already read), so nobody concludes from it that a host is gone."""
    sim = make_simulator(hosts=30)
    # Page 2 is answered from the fleet as it is once the pause ends: after the create below.
    sim.add_fault(Fault("hang", path="/v1/pve/open/mypage", query={"page": "2"}, seconds=1.5))
    with client_for(sim, timeout=5.0) as client, ThreadPoolExecutor(1) as pool:
        listing_later = pool.submit(client.list_every_host)
        while sim.request_count("/v1/pve/open/mypage") < 2:
            time.sleep(0.01)
        new_host = client.create_pay_as_you_go(PACKAGE, IMAGE)
        listing = listing_later.result()
    ids = [h.id for h in listing.items]
    assert len(ids) == len(set(ids)) == 30
    assert new_host not in ids and not listing.complete and listing.error is None
    assert listing.totals == {30, 31}
    assert listing.has(new_host) is None  # not "absent": the listing can't tell


def test_a_page_that_fails_leaves_a_partial_listing_that_says_so(make_simulator):
    sim = make_simulator(hosts=60)
    sim.add_fault(Fault("error_500", path="/v1/pve/open/mypage", query={"page": "2"}, times=None))
    with client_for(sim) as client:
        listing = client.list_every_host()
    assert isinstance(listing.error, XdsError) and listing.error.code == 500
    assert not listing.complete
    first_page = [h.id for h in listing.items]
    assert len(first_page) == 25  # page 1 is kept; page 3 is not asked for
    assert listing.has(first_page[0]) is True
    assert listing.has("not-listed") is None
    assert [r.query["page"] for r in api_requests(sim, "/v1/pve/open/mypage")][-1] == "2"


def test_a_complete_listing_can_say_a_host_is_not_there(make_simulator):
    sim = make_simulator(hosts=30)
    with client_for(sim) as client:
        assert client.list_every_host().has("not-listed") is False


def test_an_upstream_that_repeats_page_one_ends_the_listing_partial(make_simulator):
    sim = make_simulator(hosts=60)
    with client_for(sim) as client:
        first = client.list_hosts_page(1)
    body = {
        "code": 0,
        "data": {
            "totalCounts": 60,
            "data": [{"id": h.id, "name": h.name} for h in first.hosts],
        },
    }
    sim.add_fault(Fault("raw", path="/v1/pve/open/mypage", times=None, body=json.dumps(body)))
    with client_for(sim) as client:
        listing = client.list_every_host(workers=2)
    assert isinstance(listing.error, UnexpectedData) and not listing.complete
    assert len(listing.items) == 25
    assert sim.request_count("/v1/pve/open/mypage") == 4  # page 1, then one pair, no more


def test_listing_fails_when_page_one_fails(make_simulator):
    sim = make_simulator(hosts=30)
    sim.add_fault(Fault("error_500", path="/v1/pve/open/mypage", times=None))
    with client_for(sim) as client, pytest.raises(XdsError):
        client.list_every_host()


def test_list_hosts_page_is_safe_from_many_threads(make_simulator):
    from concurrent.futures import ThreadPoolExecutor

    sim = make_simulator(hosts=100)
    with client_for(sim) as client, ThreadPoolExecutor(max_workers=8) as pool:
        pages = list(pool.map(lambda p: client.list_hosts_page(p % 4 + 1), range(32)))
    assert all(len(page.hosts) == 25 and page.total == 100 for page in pages)
    assert sim.request_count("/v1/auth/getToken") == 1


# --- delete -----------------------------------------------------------------------------------


def test_delete_host_confirms(simulator, client):
    host = simulator.fleet.add_host(status=HostStatus.OFF)
    assert client.delete_host(host.id) is True
    assert host.id not in simulator.fleet.hosts


def test_delete_host_not_confirmed_returns_false(simulator, client):
    booting = simulator.fleet.add_host(status=HostStatus.BOOTING)
    assert client.delete_host(booting.id) is False
    assert booting.id in simulator.fleet.hosts
    assert client.delete_host("NoSuchHost") is False


# --- the client itself --------------------------------------------------------------------------


def test_repr_shows_base_url_and_uuid_only(simulator, client):
    text = repr(client)
    assert simulator.url in text and simulator.uuid in text
    assert simulator.secret not in text


@pytest.mark.parametrize(
    "kwargs",
    [
        {"base_url": "client.xuandashi.com"},
        {"base_url": "ftp://client.xuandashi.com"},
        {"base_url": ""},
        {"uuid": ""},
        {"secret": " "},
        {"timeout": 0},
        {"connect_timeout": -1},
        {"retries": -1},
    ],
)
def test_bad_configuration_is_an_invalid_argument(kwargs):
    options = {"base_url": "https://client.xuandashi.com", "uuid": "A1", "secret": "s"}
    options.update(kwargs)
    with pytest.raises(InvalidArgument):
        XuandashiClient(
            options.pop("base_url"), options.pop("uuid"), options.pop("secret"), **options
        )


def test_a_trailing_slash_on_the_base_url_is_ignored(simulator):
    with XuandashiClient(simulator.url + "/", simulator.uuid, simulator.secret) as client:
        assert client.base_url == simulator.url
        assert client.list_images()


def test_session_factory_is_used_for_every_thread(simulator):
    import threading

    import requests

    made = []

    def factory():
        made.append(threading.get_ident())
        return requests.Session()

    with client_for(simulator, session_factory=factory) as client:
        client.list_images()
        worker = threading.Thread(target=client.list_images)
        worker.start()
        worker.join()
        client.list_images()
    assert len(made) == 2 and made[0] != made[1]


def test_an_observer_sees_every_exchange_by_endpoint_and_code(simulator):
    seen = []
    host = simulator.fleet.add_host()
    with client_for(simulator, on_exchange=seen.append) as client:
        client.list_hosts_page()
        client.get_host(host.id)
        with pytest.raises(XdsError):
            client.get_host("no-such-host")
    endpoints = [(record.endpoint, record.outcome) for record in seen]
    assert ("/v1/auth/getToken", "ok") in endpoints
    assert ("/v1/pve/open/mypage", "ok") in endpoints
    assert ("/v1/pve/open/one/{id}", "ok") in endpoints  # the id is not in the name
    failed = [record for record in seen if record.outcome != "ok"]
    assert failed and failed[-1].endpoint == "/v1/pve/open/one/{id}"
    assert failed[-1].code is not None and failed[-1].code != 0
    assert all(record.duration_seconds >= 0 for record in seen)


def test_an_observer_that_fails_never_breaks_a_call(simulator):
    def broken(record):
        raise RuntimeError("the metrics store is down")

    simulator.fleet.add_host()
    with client_for(simulator, on_exchange=broken) as client:
        assert client.list_hosts_page().hosts
