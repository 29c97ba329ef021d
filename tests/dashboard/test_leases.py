"""Leases: a member holds a shared host for some hours; reminded before the end with a signed
link that works from e-mail once signed in; powered off at the end unless extended; audited;
and a schedule's power-off never fights a lease."""

from __future__ import annotations

from datetime import time, timedelta
from urllib.parse import unquote

import pytest
from django.core import mail
from django.utils import timezone

from dashboard import services
from dashboard.models import (
    AuditEvent,
    Host,
    Lease,
    Notification,
    Operation,
    PowerSchedule,
    ScheduleRun,
)
from dashboard.services.leases import extend_path
from tests.conftest import MEMBER_PASSWORD
from vmclient.types import HostStatus

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("deliver_notifications_at_once")]


@pytest.fixture(autouse=True)
def public_url(settings):
    """Where the links in the reminders point."""
    settings.XDS_PUBLIC_URL = "https://dash.example.test"


@pytest.fixture
def bo(make_member):
    return make_member("bo", "Operator")


@pytest.fixture
def host(make_host):
    return make_host(name="gpu-shared", status=HostStatus.RUNNING.value)


@pytest.fixture
def due(django_capture_on_commit_callbacks):
    """The periodic pass at `now`, its notifications and dispatches run as it commits."""

    def run(now):
        with django_capture_on_commit_callbacks(execute=True):
            return services.leases_run_due(now=now)

    return run


def test_a_member_takes_a_host_and_the_list_shows_who_holds_it_until_when(
    client, bo, host, make_member
):
    client.force_login(bo)
    response = client.post(
        f"/hosts/{host.id}/lease/", {"hours": "4", "purpose": "training run"}, follow=True
    )
    assert "You hold this host until" in response.content.decode()
    lease = Lease.objects.get()
    assert lease.holder == bo and lease.purpose == "training run"
    assert lease.ends_at - lease.started_at == timedelta(hours=4)
    event = AuditEvent.objects.get(action=AuditEvent.Action.LEASE_TAKEN)
    assert event.actor_name == "bo" and "for 4 h" in event.summary and event.host_id == host.id

    client.force_login(make_member("vic", "Viewer"))
    listing = client.get("/hosts/").content.decode()
    assert "held by bo" in listing and 'title="training run"' in listing
    page = client.get(f"/hosts/{host.id}/").content.decode()
    assert "bo holds this host until" in page and "(training run)" in page


def test_a_held_host_cannot_be_taken_by_another(client, bo, host, make_member):
    services.lease_take(user=bo, host=host, hours=2, purpose="render")
    client.force_login(make_member("oli", "Operator"))
    page = client.post(
        f"/hosts/{host.id}/lease/", {"hours": "1", "purpose": "mine"}, follow=True
    ).content.decode()
    assert "bo holds this host until" in page
    assert Lease.objects.count() == 1


@pytest.mark.parametrize(
    "hours, purpose, says",
    [
        ("0", "x", "A lease lasts from 1 to 72 hours."),
        ("73", "x", "A lease lasts from 1 to 72 hours."),
        ("soon", "x", "A lease lasts from 1 to 72 hours."),
        ("2", "   ", "Say what the host is for while you hold it."),
    ],
)
def test_a_bad_lease_is_refused_with_a_reason(client, bo, host, hours, purpose, says):
    client.force_login(bo)
    page = client.post(
        f"/hosts/{host.id}/lease/", {"hours": hours, "purpose": purpose}, follow=True
    ).content.decode()
    assert says in page and not Lease.objects.exists()


def test_a_viewer_may_not_lease(client, host, make_member):
    client.force_login(make_member("vic", "Viewer"))
    response = client.post(f"/hosts/{host.id}/lease/", {"hours": "1", "purpose": "x"})
    assert response.status_code == 403 and not Lease.objects.exists()


def test_a_lease_expiring_powers_the_host_off_once_in_the_holders_name(bo, host, due, dispatched):
    start = timezone.now()
    lease = services.lease_take(user=bo, host=host, hours=2, purpose="render", now=start)

    assert due(start + timedelta(minutes=119)) == {"reminded": 1, "ended": 0}
    assert due(start + timedelta(hours=2)) == {"reminded": 0, "ended": 1}
    assert due(start + timedelta(hours=2, minutes=1)) == {"reminded": 0, "ended": 0}

    lease.refresh_from_db()
    assert lease.outcome == Lease.Outcome.POWERED_OFF and lease.ended_at is not None
    operation = Operation.objects.get(kind=Operation.Kind.POWER_OFF)
    assert operation.requested_by == bo and operation.host_id == host.id
    assert lease.operation == operation and len(dispatched) == 1
    ended = AuditEvent.objects.get(action=AuditEvent.Action.LEASE_ENDED)
    assert "(powered_off)" in ended.summary


def test_a_lease_extended_is_not_powered_off_at_its_first_end(bo, host, due, dispatched):
    start = timezone.now()
    lease = services.lease_take(user=bo, host=host, hours=2, purpose="render", now=start)
    due(start + timedelta(minutes=100))  # reminded
    services.lease_extend(user=bo, lease=lease, hours=3, now=start + timedelta(minutes=110))

    assert due(start + timedelta(hours=2, minutes=5))["ended"] == 0
    assert not Operation.objects.exists()
    # Reminded again for the new end, then powered off at it.
    assert due(start + timedelta(hours=4, minutes=45)) == {"reminded": 1, "ended": 0}
    assert due(start + timedelta(hours=5)) == {"reminded": 0, "ended": 1}
    lease.refresh_from_db()
    assert lease.extended_count == 1 and lease.outcome == Lease.Outcome.POWERED_OFF
    assert Notification.objects.filter(kind=Notification.Kind.LEASE).count() == 2
    assert AuditEvent.objects.filter(action=AuditEvent.Action.LEASE_EXTENDED).count() == 1


def test_a_lease_may_not_run_past_the_longest_lease(bo, host):
    start = timezone.now()
    lease = services.lease_take(user=bo, host=host, hours=70, purpose="long", now=start)
    with pytest.raises(services.LeaseRefused, match="at most 72 hours from now"):
        services.lease_extend(user=bo, lease=lease, hours=8, now=start)


def test_a_host_already_off_at_the_end_is_left_alone(bo, host, due):
    start = timezone.now()
    lease = services.lease_take(user=bo, host=host, hours=1, purpose="x", now=start)
    Host.objects.filter(pk=host.pk).update(status=HostStatus.OFF.value)
    due(start + timedelta(hours=1))
    lease.refresh_from_db()
    assert lease.outcome == Lease.Outcome.ALREADY_OFF and not Operation.objects.exists()


def test_given_back_early_nothing_is_powered_off(client, bo, host, due):
    lease = services.lease_take(user=bo, host=host, hours=1, purpose="x")
    client.force_login(bo)
    client.post(f"/leases/{lease.pk}/release/")
    lease.refresh_from_db()
    assert lease.outcome == Lease.Outcome.RELEASED
    due(timezone.now() + timedelta(hours=2))
    assert not Operation.objects.exists()


def test_the_reminders_link_extends_after_signing_in(client, bo, host, due):
    start = timezone.now()
    lease = services.lease_take(user=bo, host=host, hours=1, purpose="render", now=start)
    due(start + timedelta(minutes=45))
    [sent] = mail.outbox
    assert sent.to == ["bo@example.test"]
    link = next(word for word in sent.body.split() if word.startswith("https://dash.example.test"))
    path = link.removeprefix("https://dash.example.test")
    assert path == extend_path(lease)

    # Not signed in: to the sign-in page, which comes back to the link with its token.
    to_login = client.get(path)
    assert to_login.status_code == 302 and "/accounts/login/" in to_login["Location"]
    assert unquote(to_login["Location"]).endswith(path)
    signed_in = client.post(
        to_login["Location"], {"username": "bo", "password": MEMBER_PASSWORD}, follow=True
    )
    page = signed_in.content.decode()
    assert signed_in.status_code == 200 and "Extend the lease" in page

    client.post(f"/leases/{lease.pk}/extend/", {"hours": "2"})
    lease.refresh_from_db()
    assert lease.ends_at == start + timedelta(hours=3)


def test_an_altered_or_someone_elses_link_is_refused(client, bo, host, make_member):
    lease = services.lease_take(user=bo, host=host, hours=1, purpose="render")
    path = extend_path(lease)
    client.force_login(bo)
    assert client.get(path[:-3] + "xyz").status_code == 403
    assert client.get(f"/leases/{lease.pk}/extend/").status_code == 403  # no token
    other = services.lease_take(
        user=bo, host=Host.objects.create(**_copy(host, "other")), hours=1, purpose="x"
    )
    assert (
        client.get(extend_path(other).replace(f"/{other.pk}/", f"/{lease.pk}/")).status_code == 403
    )

    client.force_login(make_member("oli", "Operator"))  # a forwarded link is not theirs
    assert client.get(path).status_code == 403
    assert client.post(f"/leases/{lease.pk}/extend/", {"hours": "2"}).status_code == 403


def _copy(host: Host, new_id: str) -> dict:
    values = {f.attname: getattr(host, f.attname) for f in Host._meta.concrete_fields}
    return {**values, "id": new_id}


def test_a_schedules_power_off_does_not_fight_a_lease(bo, host, make_member, dispatched, settings):
    """The lease wins: the scheduled power-off is recorded as held by the lease; once the lease
    is over the schedule runs again."""
    settings.TIME_ZONE = "UTC"
    ada = make_member("ada", "Admin")
    now = timezone.now().replace(second=0, microsecond=0)
    schedule = services.schedule_create(
        user=ada,
        host=host,
        action=PowerSchedule.Action.POWER_OFF,
        at=time(0, 0),
        weekdays="0123456",
    )
    PowerSchedule.objects.filter(pk=schedule.pk).update(next_run_at=now)
    services.lease_take(
        user=bo, host=host, hours=2, purpose="training", now=now - timedelta(hours=1)
    )

    [run] = services.schedules_run_due(now=now)
    assert run.outcome == ScheduleRun.Outcome.LEASED and "Held by bo" in run.detail
    assert not Operation.objects.exists()

    Lease.objects.update(ended_at=now, outcome=Lease.Outcome.RELEASED)
    PowerSchedule.objects.filter(pk=schedule.pk).update(next_run_at=now + timedelta(minutes=1))
    [run] = services.schedules_run_due(now=now + timedelta(minutes=1))
    assert run.outcome == ScheduleRun.Outcome.STARTED


def test_a_lease_ending_while_an_operation_runs_ends_on_the_next_pass(bo, host, due, ask):
    start = timezone.now()
    lease = services.lease_take(user=bo, host=host, hours=1, purpose="x", now=start)
    reboot = ask(Operation.Kind.REBOOT, host, user=bo)
    assert due(start + timedelta(hours=1))["ended"] == 0
    lease.refresh_from_db()
    assert lease.is_active  # the host is not left on because two runs met: it is tried again

    Operation.objects.filter(pk=reboot.pk).update(
        state=Operation.State.SUCCEEDED, finished_at=timezone.now()
    )
    assert due(start + timedelta(hours=1, minutes=1))["ended"] == 1
    lease.refresh_from_db()
    assert lease.outcome == Lease.Outcome.POWERED_OFF


def test_a_lease_whose_holder_lost_the_right_ends_without_powering_off(bo, host, due):
    """The end is asked for in the holder's name, as now: a holder whose role was taken away
    (or whose account is gone) powers nothing off; the lease ends saying why."""
    start = timezone.now()
    lease = services.lease_take(user=bo, host=host, hours=1, purpose="x", now=start)
    bo.groups.clear()
    due(start + timedelta(hours=1))
    lease.refresh_from_db()
    assert lease.outcome == Lease.Outcome.NOT_ALLOWED and "bo:" in lease.detail
    assert not Operation.objects.filter(state=Operation.State.QUEUED).exists()


def test_a_lease_whose_holders_account_is_gone_ends_without_powering_off(host, due, make_member):
    start = timezone.now()
    zed = make_member("zed", "Operator")
    lease = services.lease_take(user=zed, host=host, hours=1, purpose="x", now=start)
    zed.delete()
    due(start + timedelta(hours=1))
    lease.refresh_from_db()
    assert lease.holder is None and lease.holder_name == "zed"
    assert lease.outcome == Lease.Outcome.NOT_ALLOWED
    assert not Operation.objects.filter(kind=Operation.Kind.POWER_OFF).exists()


def test_a_host_booting_at_the_end_is_tried_again_then_left_on_with_word(
    bo, host, due, make_member, settings
):
    settings.XDS_SCHEDULE_GRACE_MINUTES = 30
    make_member("ada", "Admin")
    start = timezone.now()
    lease = services.lease_take(user=bo, host=host, hours=1, purpose="x", now=start)
    Host.objects.filter(pk=host.pk).update(status=HostStatus.BOOTING.value)
    assert due(start + timedelta(hours=1))["ended"] == 0  # it cannot be powered off while booting
    assert due(start + timedelta(hours=1, minutes=29))["ended"] == 0
    assert due(start + timedelta(hours=1, minutes=30))["ended"] == 1
    lease.refresh_from_db()
    assert lease.outcome == Lease.Outcome.REFUSED and not Operation.objects.exists()
    told = Notification.objects.get(key=f"lease-left-on:{lease.pk}")
    assert "the host is still on" in told.subject and sorted(told.recipients) == ["ada", "bo"]
