"""The action buttons on the host pages: offered only where the host's state allows them, one
action in flight per host shown to everyone, the answer at once (the panel, polling), the delete
confirmed by typing the host's name, and a member told when the task queue is down."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from kombu.exceptions import OperationalError

from dashboard import tasks
from dashboard.models import Operation
from vmclient.types import BillingType, HostStatus

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def buttons(html: str) -> list[str]:
    return re.findall(r'action="/hosts/[^/]+/actions/([a-z-]+)/"', html) + (
        ["delete"] if re.search(r'href="/hosts/[^/]+/delete/"', html) else []
    )


def post(client, host, action, *, key=None, **headers):
    return client.post(
        f"/hosts/{host.id}/actions/{action}/",
        {"idempotency_key": str(key or uuid.uuid4())},
        headers=headers,
    )


@pytest.mark.parametrize(
    ("status", "offered"),
    [
        (HostStatus.OFF, ["power-on", "delete"]),
        (HostStatus.RUNNING, ["power-off", "reboot", "delete"]),
        (HostStatus.BOOTING, []),
        (HostStatus.SHUTTING_DOWN, []),
        (HostStatus.CHARGING, []),
        (HostStatus.EXPIRED, ["delete"]),
        (None, ["power-on", "power-off", "reboot", "delete"]),  # status not reported upstream
    ],
)
def test_only_the_actions_the_state_allows_are_offered(
    member, member_client, make_host, status, offered
):
    host = make_host(status=status, owner=member, owner_name="member")
    assert buttons(member_client.get(f"/hosts/{host.id}/").content.decode()) == offered
    row = member_client.get("/hosts/?status=" if status is None else "/hosts/").content.decode()
    assert buttons(row) == offered


def test_each_form_carries_its_own_idempotency_key(member_client, make_host):
    make_host(status=HostStatus.RUNNING)
    html = member_client.get("/hosts/").content.decode()
    keys = re.findall(r'name="idempotency_key" value="([0-9a-f-]{36})"', html)
    assert len(keys) == 2 and len(set(keys)) == 2


@pytest.mark.django_db(transaction=True)  # dispatched once committed
def test_an_action_from_the_host_page_answers_with_the_panel_polling_it(
    member_client, make_host, dispatched
):
    host = make_host(status=HostStatus.RUNNING, name="render-07")
    response = post(member_client, host, "power-off", **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="host-panel"')
    assert "Power off of render-07 started." in html
    assert "Power off by member" in html
    assert f'hx-get="/hosts/{host.id}/live/?at=' in html  # the panel polls, fast while it runs
    assert 'hx-trigger="every 5s' in html
    assert buttons(html) == []  # nothing else while it runs
    assert len(dispatched) == 1


@pytest.mark.django_db(transaction=True)  # dispatched once committed
def test_a_double_click_makes_one_operation(member_client, make_host, dispatched):
    host = make_host(status=HostStatus.OFF)
    key = uuid.uuid4()
    post(member_client, host, "power-on", key=key, **HTMX)
    response = post(member_client, host, "power-on", key=key, **HTMX)
    assert "is still running" not in response.content.decode()
    assert Operation.objects.count() == 1 and len(dispatched) == 1


def test_a_second_action_is_refused_naming_who_started_the_first(
    member_client, client, make_host, make_member
):
    host = make_host(status=HostStatus.RUNNING)
    post(member_client, host, "reboot", **HTMX)
    other = make_member("bob", "Operator")
    client.force_login(other)

    html = post(client, host, "power-off", **HTMX).content.decode()
    assert "Reboot by member since" in html and "is still running on this host" in html
    # Everyone sees the action in flight, on the list and on the host's page.
    assert "Reboot by member" in client.get("/hosts/").content.decode()
    assert "Reboot by member" in client.get(f"/hosts/{host.id}/").content.decode()


def test_without_javascript_the_form_posts_and_comes_back_with_a_message(member_client, make_host):
    host = make_host(status=HostStatus.OFF, name="office-3")
    response = post(member_client, host, "power-on", Referer="http://testserver/hosts/")
    assert response.status_code == 302 and response["Location"] == "http://testserver/hosts/"
    assert "Power on of office-3 started." in member_client.get("/hosts/").content.decode()


@pytest.mark.django_db(transaction=True)  # dispatched once committed
def test_with_the_broker_down_the_member_is_told_it_is_saved(member_client, make_host, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to redis:6379. Connection refused.")

    monkeypatch.setattr(tasks.run_operation, "apply_async", refuse)
    host = make_host(status=HostStatus.OFF, name="gpu-1")
    html = post(member_client, host, "power-on", **HTMX).content.decode()
    assert "Power on of gpu-1 is saved, but the task queue cannot be reached" in html
    assert "waiting for the task queue" in html
    assert Operation.objects.get().state == "queued"


def test_an_unknown_action_or_a_get_is_not_an_action(member_client, make_host):
    host = make_host(status=HostStatus.OFF)
    assert post(member_client, host, "explode").status_code == 404
    assert member_client.get(f"/hosts/{host.id}/actions/power-on/").status_code == 405
    assert member_client.post(f"/hosts/{host.id}/actions/power-on/").status_code == 400
    assert Operation.objects.count() == 0


def test_actions_need_a_login(client, make_host):
    host = make_host(status=HostStatus.OFF)
    assert post(client, host, "power-on").status_code == 302
    assert Operation.objects.count() == 0


def test_the_host_page_lists_its_own_operations(member_client, make_host, ask):
    host = make_host(status=HostStatus.RUNNING)
    other = make_host(status=HostStatus.RUNNING)
    operation = ask("reboot", host)
    ask("reboot", other)
    html = member_client.get(f"/hosts/{host.id}/").content.decode()
    assert f'id="operation-row-{operation.pk}"' in html
    assert html.count('id="operation-row-') == 1
    assert f"/operations/?host={host.id}" in html


# --- Delete ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)  # dispatched once committed
def test_delete_asks_to_type_the_hosts_name(member, member_client, make_host, dispatched):
    host = make_host(status=HostStatus.OFF, name="old-render", owner=member)
    page = member_client.get(f"/hosts/{host.id}/delete/").content.decode()
    assert "Type <code>old-render</code> to confirm" in page

    key = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)
    wrong = member_client.post(
        f"/hosts/{host.id}/delete/", {"name": "old-rendr", "idempotency_key": key}
    )
    assert "That is not the host&#x27;s name." in wrong.content.decode()
    assert Operation.objects.count() == 0

    right = member_client.post(
        f"/hosts/{host.id}/delete/", {"name": " old-render ", "idempotency_key": key}
    )
    operation = Operation.objects.get()
    assert operation.kind == "delete" and operation.host_id == host.id
    assert right["Location"] == f"/operations/{operation.pk}/"
    assert len(dispatched) == 1


def test_delete_of_a_host_without_a_name_asks_for_its_id(member, member_client, make_host):
    host = make_host(status=HostStatus.OFF, name="", owner=member)
    assert (
        f"Type <code>{host.id}</code>"
        in member_client.get(f"/hosts/{host.id}/delete/").content.decode()
    )


def test_deleting_a_rental_warns_how_much_prepaid_time_is_lost(member, member_client, make_host):
    now = timezone.now()
    host = make_host(
        status=HostStatus.OFF, name="rent-01", owner=member, billing_type=BillingType.RENTAL,
        created_at=now - timedelta(days=30), expires_at=now + timedelta(days=10, minutes=30),
    )  # fmt: skip
    Operation.objects.create(
        kind="create_rental", state="succeeded", host=host, requested_by=member,
        requested_by_name=member.username, params={"total_price": "1200.00"}, finished_at=now,
    )  # fmt: skip
    page = member_client.get(f"/hosts/{host.id}/delete/").content.decode()
    until = timezone.localtime(host.expires_at).strftime("%Y-%m-%d %H:%M")
    assert (
        f"This rental is paid until {until}: deleting it now gives up about 1\xa0week, 3\xa0days "
        "of prepaid time."
    ) in page
    # 10 of its 40 days are left: a quarter of what it cost.
    assert re.search(r"That is about 25% of the ¥1,200.00 it cost, roughly ¥300\.\d\d\.", page)

    chinese = member_client.get(
        f"/hosts/{host.id}/delete/", headers={"Accept-Language": "zh-hans"}
    ).content.decode()
    assert "预付时长" in chinese and "25%" in chinese


def test_deleting_a_rental_bought_elsewhere_gives_the_share_without_a_price(
    member, member_client, make_host
):
    now = timezone.now()
    host = make_host(
        status=HostStatus.OFF, owner=member, billing_type=BillingType.RENTAL,
        created_at=now - timedelta(days=1), expires_at=now + timedelta(days=3, minutes=30),
    )  # fmt: skip
    page = member_client.get(f"/hosts/{host.id}/delete/").content.decode()
    assert "That is about 75% of what it cost." in page


def test_deleting_a_pay_as_you_go_or_expired_host_warns_of_no_prepaid_time(
    member, member_client, make_host
):
    now = timezone.now()
    payg = make_host(status=HostStatus.OFF, owner=member)
    expired = make_host(
        status=HostStatus.EXPIRED, owner=member, billing_type=BillingType.RENTAL,
        created_at=now - timedelta(days=8), expires_at=now - timedelta(days=1),
    )  # fmt: skip
    for host in (payg, expired):
        page = member_client.get(f"/hosts/{host.id}/delete/").content.decode()
        assert 'name="name"' in page and "prepaid time" not in page


def test_delete_is_refused_while_the_host_is_changing(member, member_client, make_host):
    host = make_host(status=HostStatus.BOOTING, owner=member)
    page = member_client.get(f"/hosts/{host.id}/delete/").content.decode()
    assert "Delete is not possible while the host is booting." in page
    assert 'name="name"' not in page
    response = member_client.post(
        f"/hosts/{host.id}/delete/", {"name": host.name, "idempotency_key": str(uuid.uuid4())}
    )
    assert response.status_code == 302  # back to the host, with the reason
    assert Operation.objects.count() == 0
    assert (
        "Delete is not possible while the host is booting."
        in member_client.get(f"/hosts/{host.id}/").content.decode()
    )
