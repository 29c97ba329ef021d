"""/operations/: everyone's operations, filtered by person, host, kind and state; one operation
with its timeline and trace ids, in the member's language; its card polling itself until the
operation is final."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import timezone

from dashboard import services
from dashboard.models import Operation
from vmclient.types import HostStatus

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def row_ids(response) -> list[int]:
    return [op.pk for op in response.context["page"].object_list]


@pytest.fixture
def history(make_host, member, django_user_model):
    """Four operations by two people on two hosts, one of them in flight."""
    alice = django_user_model.objects.create_user("alice", password="x" * 20)
    web, db = make_host(name="web-1"), make_host(name="db-1")

    def op(kind, state, host, user, **values):
        return Operation.objects.create(
            kind=kind,
            state=state,
            host=host,
            host_name=host.name,
            requested_by=user,
            requested_by_name=user.username,
            **values,
        )

    return {
        "reboot": op("reboot", "succeeded", web, member),
        "power_off": op(
            "power_off",
            "failed",
            db,
            alice,
            error_code="6001",
            message="The host is already shutting down.",
            message_frozen={"zh-hans": "主机正在关机中。"},  # a row written before keys
            trace_id="trace-6001",
        ),
        "delete": op("delete", "waiting", web, alice),
        "power_on": op("power_on", "succeeded", db, member),
    }


def test_the_list_shows_everyones_operations_newest_first(member_client, history):
    response = member_client.get("/operations/")
    assert row_ids(response) == [op.pk for op in reversed(list(history.values()))]
    html = response.content.decode()
    assert "trace-6001" in html and "The host is already shutting down." in html
    assert "alice" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("person=alice", ["delete", "power_off"]),
        ("host=db-1", ["power_on", "power_off"]),
        ("kind=reboot", ["reboot"]),
        ("state=failed", ["power_off"]),
        ("state=active", ["delete"]),
        ("person=alice&state=succeeded", []),
        ("kind=nonsense&state=nonsense", ["power_on", "delete", "power_off", "reboot"]),
    ],
)
def test_filters(member_client, history, query, expected):
    response = member_client.get(f"/operations/?{query}")
    assert row_ids(response) == [history[name].pk for name in expected]


def test_filter_by_host_id_and_a_deleted_users_frozen_name(member_client, history, make_host):
    web = history["reboot"].host
    assert len(row_ids(member_client.get(f"/operations/?host={web.id}"))) == 2
    history["power_off"].requested_by.delete()
    response = member_client.get("/operations/?person=alice")
    assert history["power_off"].pk in row_ids(response)
    assert "alice" in response.content.decode()


def test_htmx_gets_the_table_only(member_client, history):
    html = member_client.get("/operations/?kind=reboot", headers=HTMX).content.decode()
    assert html.lstrip().startswith('<div id="operation-table"')
    assert "<html" not in html


def test_the_list_costs_a_fixed_number_of_queries(
    member_client, history, django_assert_max_num_queries
):
    """Session, user, the member's permissions, sync state, count, page, and the people
    to filter by (two)."""
    with django_assert_max_num_queries(8):
        member_client.get("/operations/")


def test_one_operation_shows_its_timeline_and_trace_ids(member_client, make_host, ask, run, sim):
    host = make_host(status=HostStatus.RUNNING)  # not upstream: the run fails, with a trace id
    operation = run(ask("reboot", host))
    html = member_client.get(f"/operations/{operation.pk}/").content.decode()
    assert operation.trace_id and operation.trace_id in html
    for label in ("Requested", "Sent to Xuandashi", "Failed"):
        assert label in html
    assert "hx-trigger" not in html  # final: no poller


def test_messages_follow_the_members_language(member_client, history):
    url = f"/operations/{history['power_off'].pk}/"
    assert "The host is already shutting down." in member_client.get(url).content.decode()
    chinese = member_client.get(url, headers={"Accept-Language": "zh-hans"}).content.decode()
    assert "主机正在关机中。" in chinese
    assert (
        "主机正在关机中。"
        in member_client.get("/operations/", headers={"Accept-Language": "zh-CN"}).content.decode()
    )


def test_a_success_shows_no_placeholder_for_the_trace_id_it_does_not_have(member_client, history):
    page = member_client.get("/operations/").content.decode()
    row = re.search(rf'<tr id="operation-row-{history["reboot"].pk}">.*?</tr>', page, re.S).group(0)
    assert "—" not in row
    assert "trace-6001" in page  # the failure keeps its trace id


def test_the_work_card_is_all_chinese_in_chinese(member_client, history):
    url = f"/operations/{history['reboot'].pk}/"
    chinese = member_client.get(url, headers={"Accept-Language": "zh-hans"}).content.decode()
    assert "后台任务执行次数" in chinese and "Worker" not in chinese


def test_the_card_polls_204_then_the_card_then_286(member_client, make_host, ask, sim):
    operation = ask("power_on", make_host(status=HostStatus.OFF))
    html = member_client.get(f"/operations/{operation.pk}/").content.decode()
    url = f"/operations/{operation.pk}/live/?at={operation.version}"
    assert f'hx-get="{url}"' in html

    assert member_client.get(url, headers=HTMX).status_code == 204
    services.operation_state.operation_change(operation, expect=("queued",), state="submitted")
    moved = member_client.get(url, headers=HTMX)
    assert moved.status_code == 200
    assert f"/live/?at={operation.version}" in moved.content.decode()

    services.operation_state.operation_finish(operation, "failed", message="It broke.")
    done = member_client.get(url, headers=HTMX)
    assert done.status_code == 286  # htmx: stop polling
    assert "It broke." in done.content.decode() and "hx-trigger" not in done.content.decode()


def test_a_queued_operation_can_be_cancelled_from_its_page(member_client, make_host, ask):
    operation = ask("power_on", make_host(status=HostStatus.OFF))
    assert "Cancel" in member_client.get(f"/operations/{operation.pk}/").content.decode()
    response = member_client.post(f"/operations/{operation.pk}/cancel/", follow=True)
    operation.refresh_from_db()
    assert operation.state == "cancelled"
    assert "cancelled" in response.content.decode()
    again = member_client.post(f"/operations/{operation.pk}/cancel/", follow=True)
    assert "Only a queued operation can be cancelled" in again.content.decode()


def test_a_broker_down_operation_says_it_waits_for_the_queue(member_client, make_host, member):
    host = make_host(status=HostStatus.OFF)
    operation = Operation.objects.create(
        kind="power_on",
        host=host,
        requested_by=member,
        requested_by_name="member",
        queue_error="OperationalError: Connection refused",
        created_at=timezone.now(),
    )
    html = member_client.get(f"/operations/{operation.pk}/").content.decode()
    assert "it starts by itself as soon as the queue is back" in html


def test_pages_need_a_login_and_unknown_numbers_are_404(member_client, db):
    assert Client().get("/operations/").status_code == 302
    assert Client().get("/operations/1/live/").status_code == 302
    assert member_client.get("/operations/999/").status_code == 404
    assert member_client.get("/operations/999/live/").status_code == 404
