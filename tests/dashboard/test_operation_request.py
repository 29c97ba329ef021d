"""Asking for an operation: saved before anything else, handed to the worker only after the
commit, one per form (idempotency key), one in flight per host (even when two requests race),
and saved all the same when the broker is down."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from dashboard import services, tasks
from dashboard.models import Host, Operation
from vmclient.types import HostStatus

pytestmark = pytest.mark.django_db


def test_an_operation_is_saved_then_dispatched_once_the_transaction_commits(
    make_host, member, dispatched, django_capture_on_commit_callbacks
):
    host = make_host(status=HostStatus.OFF, name="render-01")
    with django_capture_on_commit_callbacks() as callbacks:
        operation = services.operation_request(
            user=member, kind="power_on", host=host, idempotency_key=uuid.uuid4()
        )
        assert dispatched == []  # nothing published before the commit
    assert len(callbacks) == 1
    callbacks[0]()

    operation.refresh_from_db()
    assert (operation.state, operation.kind, operation.host_id) == ("queued", "power_on", host.id)
    assert (operation.requested_by, operation.requested_by_name) == (member, "member")
    assert operation.host_name == "render-01"
    assert dispatched == [(operation.pk, operation.dispatch_id, None)]
    assert operation.dispatches == 1
    assert list(operation.events.values_list("event", flat=True)) == ["requested"]


def test_the_same_form_twice_makes_one_operation(make_host, ask, dispatched):
    host = make_host(status=HostStatus.OFF)
    key = uuid.uuid4()
    first = ask("power_on", host, key=key)
    second = ask("power_on", host, key=key)
    assert first.pk == second.pk
    assert Operation.objects.count() == 1
    assert len(dispatched) == 1


def test_another_members_key_is_not_theirs_to_reuse(make_host, ask, django_user_model):
    host = make_host(status=HostStatus.OFF)
    key = uuid.uuid4()
    ask("power_on", host, key=key)
    other = django_user_model.objects.create_user("other", password="x" * 20)
    with pytest.raises(PermissionDenied):
        ask("power_on", host, key=key, user=other)


def test_a_second_action_on_a_host_is_refused_naming_who_started_the_first_and_when(
    make_host, ask, make_member
):
    host = make_host(status=HostStatus.RUNNING)
    first = ask("power_off", host)
    other = make_member("bob", "Operator")
    with pytest.raises(services.OperationRefused) as refused:
        ask("reboot", host, user=other)
    when = timezone.localtime(first.created_at).strftime("%Y-%m-%d %H:%M:%S")
    assert refused.value.message == (
        f"Power off by member since {when} is still running on this host; wait until it has "
        "finished."
    )
    assert refused.value.in_flight == first
    assert Operation.objects.count() == 1


def test_the_database_refuses_two_operations_in_flight_on_one_host(make_host, member):
    """The service checks first, but two requests racing past the check both insert: the
    partial unique constraint lets only one through."""
    host = make_host()
    values = {"kind": "power_off", "requested_by": member, "host": host}
    Operation.objects.create(**values, state="waiting")
    with pytest.raises(IntegrityError), transaction.atomic():
        Operation.objects.create(**values, state="queued")
    Operation.objects.create(**values, state="failed")  # a finished one does not count


def test_a_new_host_is_claimed_by_one_create_only(make_host, member):
    host = make_host()
    values = {"kind": "create_payg", "requested_by": member, "host": host}
    Operation.objects.create(**values, state="succeeded")
    with pytest.raises(IntegrityError), transaction.atomic():
        Operation.objects.create(**values, state="failed")


@pytest.mark.parametrize(
    ("kind", "status", "reason"),
    [
        ("reboot", HostStatus.OFF, "Reboot is not possible while the host is off."),
        ("power_on", HostStatus.RUNNING, "Power on is not possible while the host is running."),
        ("power_off", HostStatus.OFF, "Power off is not possible while the host is off."),
        ("delete", HostStatus.BOOTING, "Delete is not possible while the host is booting."),
        ("power_on", HostStatus.EXPIRED, "Power on is not possible while the host is expired."),
    ],
)
def test_actions_the_hosts_state_does_not_allow_are_refused(
    member, make_host, ask, kind, status, reason
):
    host = make_host(status=status, owner=member)
    with pytest.raises(services.OperationRefused) as refused:
        ask(kind, host)
    assert refused.value.message == reason


def test_the_state_is_read_again_not_taken_from_the_page(make_host, ask):
    host = make_host(status=HostStatus.RUNNING)
    Host.objects.filter(id=host.id).update(status=HostStatus.OFF)
    with pytest.raises(services.OperationRefused):
        ask("reboot", host)  # `host` still says running


def test_a_gone_host_takes_no_action(member, make_host, ask):
    host = make_host(status=HostStatus.OFF, gone_at=timezone.now(), owner=member)
    with pytest.raises(services.OperationRefused, match="the host is gone"):
        ask("delete", host)


def test_a_host_with_an_operation_in_flight_is_changing_and_polled(make_host, ask):
    host = make_host(status=HostStatus.RUNNING)
    assert not Host.objects.get(id=host.id).is_changing
    ask("power_off", host)
    assert Host.objects.get(id=host.id).is_changing
    assert Host.objects.changing().filter(id=host.id).exists()
    assert Host.objects.get(id=host.id).actions_allowed == ()


def test_asking_bumps_the_hosts_version_so_open_pages_redraw_it(make_host, ask):
    host = make_host(status=HostStatus.RUNNING)
    ask("power_off", host)
    assert Host.objects.get(id=host.id).version == host.version + 1


# --- Creates -------------------------------------------------------------------------------------


def test_a_create_stores_the_choice_its_price_and_what_the_new_host_will_look_like(
    catalog_cached, ask
):
    operation = ask(
        "create_rental", package_id="Pi8tcH1NSd", image_id="8991", period_type=3, period_number=2
    )
    params = operation.params
    assert params["package_name"] == "图像处理-Ubuntu"
    assert params["image_label"] == "Ubuntu Server 22.04 LTS x64"
    assert (params["period_type"], params["period_number"]) == (3, 2)
    # 5.00 an hour x 0.9 discount x 720 hours a month x 2
    assert params["hourly_price"] == "4.50" and params["total_price"] == "6480.00"
    assert params["match"] == {
        "cpu_cores": 16,
        "memory_gb": 16,
        "disk_gb": 512,
        "gpu_number": 1,
        "operating_system": "Ubuntu Server",
        "area": 2,
        "billing_type": 1,
    }
    assert operation.host is None


@pytest.mark.parametrize(
    ("kind", "params", "reason"),
    [
        (
            "create_payg",
            {"package_id": "Pi8tcH1NSd", "image_id": "9102"},  # a BL image for a BZ template
            "This image does not fit the template",
        ),
        ("create_payg", {"package_id": "nope", "image_id": "8991"}, "not in the catalog"),
        (
            "create_payg",
            {"package_id": "Ls5QzKd7Vn", "image_id": "9201"},  # rental only
            "cannot be bought as pay-as-you-go",
        ),
        (
            "create_rental",
            {"package_id": "Pi8tcH1NSd", "image_id": "8991", "period_type": 0, "period_number": 1},
            "Choose a rental period",
        ),
        (
            "create_rental",
            {"package_id": "Pi8tcH1NSd", "image_id": "8991", "period_type": 3, "period_number": 0},
            "between 1 and 365",
        ),
    ],
)
def test_a_create_the_upstream_would_refuse_is_refused_here(
    catalog_cached, ask, kind, params, reason
):
    with pytest.raises(services.OperationRefused, match=reason):
        ask(kind, **params)
    assert catalog_cached.request_count("/v1/pve/open/create") == 0


def test_a_create_at_another_price_than_the_one_confirmed_is_refused(catalog_cached, ask):
    with pytest.raises(services.OperationRefused, match="price changed"):
        ask(
            "create_payg",
            package_id="Pi8tcH1NSd",
            image_id="8991",
            confirmed_price=Decimal("4.00"),
        )
    assert ask(
        "create_payg", package_id="Pi8tcH1NSd", image_id="8991", confirmed_price=Decimal("4.50")
    )


# --- The broker is down -------------------------------------------------------------------------


@pytest.fixture
def broker_down(monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.run_operation, "apply_async", refuse)


def test_with_the_broker_down_the_operation_is_saved_and_says_why(make_host, ask, broker_down):
    host = make_host(status=HostStatus.OFF)
    operation = ask("power_on", host)
    assert operation.state == "queued"
    assert "Connection refused" in operation.queue_error
    operation.refresh_from_db()
    assert "Connection refused" in operation.queue_error
    assert list(operation.events.values_list("event", flat=True)) == ["requested", "queue_down"]
    assert Host.objects.get(id=host.id).operation_in_flight == operation


def test_queued_operations_are_requeued_once_the_broker_is_back(
    make_host, ask, broker_down, monkeypatch, dispatched, settings
):
    operation = ask("power_on", make_host(status=HostStatus.OFF))
    fresh = ask("power_on", make_host(status=HostStatus.OFF))
    monkeypatch.undo()  # the broker is back (and `dispatched` records again)
    monkeypatch.setattr(
        tasks.run_operation,
        "apply_async",
        lambda args=(), countdown=None, **kw: dispatched.append((args[0], args[1], countdown)),
    )
    Operation.objects.filter(pk=operation.pk).update(
        next_run_at=timezone.now() - timedelta(seconds=settings.XDS_ACTION_REQUEUE_SECONDS + 1)
    )

    assert services.operations_requeue() == 1  # only the one overdue

    operation.refresh_from_db()
    assert dispatched == [(operation.pk, operation.dispatch_id, None)]
    assert operation.queue_error == ""
    assert operation.dispatches == 2  # the one the broker refused counts too
    fresh.refresh_from_db()
    assert fresh.queue_error  # its turn comes at the next pass


def test_a_queued_operation_can_be_cancelled_and_a_run_then_does_nothing(
    make_host, ask, member, run
):
    operation = ask("power_on", make_host(status=HostStatus.OFF))
    services.operation_cancel(user=member, operation_id=operation.pk)
    operation.refresh_from_db()
    assert operation.state == "cancelled" and operation.finished_at
    assert "Cancelled by member" in operation.message
    assert (
        services.operation_run(operation_id=operation.pk, dispatch_id=operation.dispatch_id)
        == "final"
    )
    with pytest.raises(services.OperationRefused):
        services.operation_cancel(user=member, operation_id=operation.pk)
