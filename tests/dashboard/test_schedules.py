"""Power schedules: they fire at the right local time, once; skip when asked; respect the
creator's role at run time; say why a run did not happen; and are audited. Time is travelled by
handing `schedules_run_due` the moment to run at."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.utils import translation

from dashboard import services
from dashboard.models import AuditEvent, Operation, PowerSchedule, ScheduleRun
from vmclient.types import HostStatus

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEKDAYS = "01234"


@pytest.fixture
def creator(make_member):
    return make_member("cleo", "Creator")


@pytest.fixture
def host(make_host, creator):
    return make_host(name="render-07", status=HostStatus.RUNNING, owner=creator)


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def evening_off(creator, host, **fields) -> PowerSchedule:
    schedule = services.schedule_create(
        user=creator, host=host, action="power_off", at=time(19, 0), weekdays=WEEKDAYS
    )
    for name, value in fields.items():
        setattr(schedule, name, value)
    schedule.save()
    return schedule


def test_the_next_run_is_the_next_chosen_weekday_at_the_local_time(creator, host, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    schedule = evening_off(creator, host)
    friday_evening = local(2026, 11, 27, 20, 0)  # after Friday's run
    assert schedule.next_after(friday_evening) == local(2026, 11, 30, 19, 0)  # Monday
    assert schedule.next_after(local(2026, 11, 30, 18, 59)) == local(2026, 11, 30, 19, 0)
    # 19:00 in Shanghai is 11:00 UTC.
    assert schedule.next_after(friday_evening).astimezone(ZoneInfo("UTC")).hour == 11


def test_a_wall_clock_time_survives_daylight_saving(creator, host, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    schedule = services.schedule_create(
        user=creator, host=host, action="power_on", at=time(7, 0), weekdays="0123456"
    )
    berlin = ZoneInfo("Europe/Berlin")
    before = schedule.next_after(datetime(2026, 10, 24, 6, 0, tzinfo=berlin))  # Sat, CEST
    after = schedule.next_after(datetime(2026, 10, 25, 8, 0, tzinfo=berlin))  # Mon, CET
    assert before.astimezone(berlin).hour == after.astimezone(berlin).hour == 7
    assert before.utcoffset() != after.utcoffset()


def test_a_due_schedule_fires_once_at_its_time_as_its_creator(creator, host, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    schedule = evening_off(creator, host, next_run_at=local(2026, 11, 30, 19, 0))

    assert services.schedules_run_due(now=local(2026, 11, 30, 18, 59)) == []
    [run] = services.schedules_run_due(now=local(2026, 11, 30, 19, 0, 20))
    assert services.schedules_run_due(now=local(2026, 11, 30, 19, 0, 40)) == []  # once

    assert run.outcome == "started"
    operation = Operation.objects.get()
    assert run.operation == operation
    assert (operation.kind, operation.host_id, operation.requested_by) == (
        "power_off",
        host.id,
        creator,
    )
    assert AuditEvent.objects.filter(action="operation_requested", actor=creator).exists()
    schedule.refresh_from_db()
    assert schedule.next_run_at == local(2026, 12, 1, 19, 0)  # Tuesday


def test_skipping_the_next_run_is_visible_recorded_and_only_once(
    client, creator, host, make_member, settings
):
    settings.TIME_ZONE = "Asia/Shanghai"
    schedule = evening_off(creator, host, next_run_at=local(2026, 11, 30, 19, 0))
    client.force_login(make_member("otto", "Operator"))  # operators may skip

    client.post(f"/schedules/{schedule.pk}/skip/", {"reason": "render finishing tonight"})

    listing = client.get("/schedules/").content.decode()
    assert "skipped by otto" in listing
    [run] = services.schedules_run_due(now=local(2026, 11, 30, 19, 1))
    assert run.outcome == "skipped" and "render finishing tonight (otto)" in run.detail
    assert Operation.objects.count() == 0
    schedule.refresh_from_db()
    assert not schedule.skips_next  # only the next run
    [again] = services.schedules_run_due(now=local(2026, 12, 1, 19, 0))
    assert again.outcome == "started"
    assert AuditEvent.objects.filter(
        action="schedule_changed", actor_name="otto", summary__contains="next run skipped"
    ).exists()


def test_a_creator_who_lost_their_role_is_not_obeyed(creator, host, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    evening_off(creator, host, next_run_at=local(2026, 11, 30, 19, 0))
    creator.groups.remove(Group.objects.get(name="Creator"))

    [run] = services.schedules_run_due(now=local(2026, 11, 30, 19, 0))

    assert run.outcome == "not_allowed" and "cleo may no longer do this" in run.detail
    assert Operation.objects.count() == 0
    assert AuditEvent.objects.filter(action="operation_refused", actor=creator).exists()


def test_why_a_run_did_not_happen(creator, host, ask, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    schedule = evening_off(creator, host, next_run_at=local(2026, 11, 30, 19, 0))

    ask("reboot", host, user=creator)  # the host is busy at 19:00
    [busy] = services.schedules_run_due(now=local(2026, 11, 30, 19, 0))
    assert busy.outcome == "host_busy" and "Reboot by cleo" in busy.detail

    Operation.objects.update(state="succeeded")
    type(host).objects.filter(pk=host.pk).update(status=HostStatus.OFF)
    [idle] = services.schedules_run_due(now=local(2026, 12, 1, 19, 0))
    assert idle.outcome == "nothing_to_do" and "already off" in idle.detail

    schedule.refresh_from_db()
    [missed] = services.schedules_run_due(now=local(2026, 12, 2, 23, 0))  # beat was down
    assert missed.outcome == "missed" and "240 min late" in missed.detail
    schedule.refresh_from_db()
    assert schedule.next_run_at == local(2026, 12, 3, 19, 0)  # not every missed day in a row
    assert ScheduleRun.objects.count() == 3


@pytest.mark.parametrize(
    ("roles", "own", "allowed"),
    [
        (("Viewer",), False, False),
        (("Operator",), False, False),
        (("Creator",), True, True),
        (("Creator",), False, False),
        (("Admin",), False, True),
    ],
)
def test_who_may_schedule_a_host(client, make_member, make_host, roles, own, allowed):
    member = make_member("pat", *roles)
    host = make_host(status=HostStatus.RUNNING, owner=member if own else None)
    client.force_login(member)
    page = client.get(f"/hosts/{host.id}/").content.decode()
    assert ("Add schedule" in page) == allowed

    answer = client.post(
        f"/hosts/{host.id}/schedules/",
        {"action": "power_off", "at": "19:30", "weekdays": ["0", "4"]},
    )

    assert answer.status_code == (302 if allowed else 403)
    assert PowerSchedule.objects.count() == (1 if allowed else 0)
    if allowed:
        schedule = PowerSchedule.objects.get()
        assert (schedule.at, schedule.weekdays) == (time(19, 30), "04")
        assert "19:30 · Mon Fri" in client.get(f"/hosts/{host.id}/").content.decode()
        assert AuditEvent.objects.filter(action="schedule_changed").count() == 1


def test_a_schedule_without_a_day_is_refused_with_a_message(client, creator, host):
    client.force_login(creator)
    answer = client.post(
        f"/hosts/{host.id}/schedules/", {"action": "power_off", "at": "19:30"}, follow=True
    )
    assert "Choose at least one day." in answer.content.decode()
    assert PowerSchedule.objects.count() == 0


def test_the_schedule_page_records_every_run(client, creator, host, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    schedule = evening_off(creator, host, next_run_at=local(2026, 11, 30, 19, 0))
    services.schedules_run_due(now=local(2026, 11, 30, 19, 0))
    client.force_login(creator)
    page = client.get(f"/schedules/{schedule.pk}/").content.decode()
    assert "2026-11-30 19:00" in page and "Started" in page
    assert client.get(f"/schedules/{schedule.pk + 99}/").status_code == 404


def test_why_a_run_did_not_happen_reads_in_the_reader_s_language(client, creator, host, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    schedule = evening_off(creator, host, next_run_at=local(2026, 11, 30, 19, 0))
    type(host).objects.filter(pk=host.pk).update(status=HostStatus.OFF)
    [idle] = services.schedules_run_due(now=local(2026, 11, 30, 19, 0))
    [missed] = services.schedules_run_due(now=local(2026, 12, 1, 23, 0))  # beat was down
    # A run recorded before the reasons were kept as keys reads as it was written.
    ScheduleRun.objects.create(
        schedule=schedule, due_at=local(2026, 11, 20, 19, 0), outcome="refused", detail="Old words."
    )
    client.force_login(creator)
    url = f"/schedules/{schedule.pk}/"

    english = client.get(url, headers={"accept-language": "en"}).content.decode()
    assert "The host is already off." in english
    assert "The scheduler was not running then (240 min late)." in english
    assert "Old words." in english

    chinese = client.get(url, headers={"accept-language": "zh-CN,zh;q=0.9"}).content.decode()
    for run in (idle, missed):
        with translation.override("zh-hans"):
            words = run.detail_words
        assert words != run.detail and words in chinese
    assert "The host is already" not in chinese and "not running then" not in chinese
    assert "Old words." in chinese
    # The English words stay on the row, for the log and the audit trail.
    assert idle.detail == "The host is already off."


def test_beat_runs_the_schedules(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["xds-run-schedules"]
    assert entry["task"] == "dashboard.tasks.run_schedules"
    assert entry["schedule"] == float(settings.XDS_SCHEDULE_CHECK_SECONDS)


def test_removing_a_schedule_is_audited(client, creator, host):
    schedule = evening_off(creator, host)
    client.force_login(creator)
    client.post(f"/schedules/{schedule.pk}/delete/")
    assert PowerSchedule.objects.count() == 0
    assert AuditEvent.objects.filter(summary__contains="deleted", host_id=host.id).exists()
