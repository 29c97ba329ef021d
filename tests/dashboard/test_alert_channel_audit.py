"""Whoever points the alerts elsewhere decides who hears of the team's hosts: every channel
added, changed or removed is in the audit trail, by whom, and never with its URL or secret."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from dashboard.models import AlertChannel, AuditEvent

pytestmark = pytest.mark.django_db

ROBOT = "https://oapi.dingtalk.example/robot/send?access_token=tok-9f3a1c"
OTHER_ROBOT = "https://oapi.dingtalk.example/robot/send?access_token=tok-other-77b2"
SECRET = "SECsigning-secret-4c1d"
FORM = {
    "name": "ops-room",
    "kind": "dingtalk",
    "url": ROBOT,
    "secret": SECRET,
    "alert_kinds": ["expired", "stuck"],
    "language": "en",
    "enabled": "on",
}


def channel_events() -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(action=AuditEvent.Action.ALERT_CHANNEL_CHANGED).order_by("id")
    )


def assert_no_secret_in(event: AuditEvent) -> None:
    shown = event.summary + json.dumps(event.details)
    for hidden in ("tok-9f3a1c", "tok-other-77b2", SECRET, "oapi.dingtalk"):
        assert hidden not in shown


@pytest.fixture
def ada(make_member):
    return make_member("ada", "Admin")


def test_a_channel_added_changed_and_removed_in_the_admin_is_audited_with_who(client, ada):
    client.force_login(ada)
    response = client.post("/admin/dashboard/alertchannel/add/", FORM)
    assert response.status_code == 302
    channel = AlertChannel.objects.get(name="ops-room")

    change = f"/admin/dashboard/alertchannel/{channel.pk}/change/"
    response = client.post(change, {**FORM, "url": OTHER_ROBOT, "secret": "", "enabled": ""})
    assert response.status_code == 302
    response = client.post(f"/admin/dashboard/alertchannel/{channel.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302

    added, changed, removed = channel_events()
    assert [event.actor_name for event in (added, changed, removed)] == ["ada"] * 3
    assert added.details["change"] == "added"
    assert added.details["alert_kinds"] == ["expired", "stuck"] and added.details["signed"]
    # The secret was kept (left blank); the URL changed, and only that it did is said.
    assert changed.details["changed"] == {"enabled": [True, False]}
    assert changed.details["url_changed"] is True and "secret_changed" not in changed.details
    assert changed.summary == "Alert channel ops-room changed: enabled, url"
    assert removed.details == {"channel": "ops-room", "change": "removed", "kind": "dingtalk"}
    for event in (added, changed, removed):
        assert_no_secret_in(event)


def test_a_new_secret_or_one_cleared_is_audited_without_its_value(client, ada):
    client.force_login(ada)
    client.post("/admin/dashboard/alertchannel/add/", FORM)
    channel = AlertChannel.objects.get(name="ops-room")
    change = f"/admin/dashboard/alertchannel/{channel.pk}/change/"
    client.post(change, {**FORM, "secret": "SECrotated-value-0e9"})
    client.post(change, {**FORM, "secret": "", "clear_secret": "on"})

    _added, rotated, cleared = channel_events()
    assert rotated.details["secret_changed"] is True and rotated.details["changed"] == {}
    assert cleared.details["secret_changed"] is True
    assert "SECrotated-value-0e9" not in rotated.summary + json.dumps(rotated.details)


def test_saving_a_channel_unchanged_writes_no_row(client, ada):
    client.force_login(ada)
    client.post("/admin/dashboard/alertchannel/add/", FORM)
    channel = AlertChannel.objects.get(name="ops-room")
    client.post(f"/admin/dashboard/alertchannel/{channel.pk}/change/", {**FORM, "secret": ""})
    assert len(channel_events()) == 1


def test_a_channel_added_from_the_shell_is_audited_with_nobody_signed_in(tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET)
    call_command(
        "add_alert_channel",
        "ops-room",
        "--kind=dingtalk",
        f"--url={ROBOT}",
        f"--secret-file={secret_file}",
        "--kinds=expired",
        stdout=StringIO(),
    )
    (added,) = channel_events()
    assert added.actor_name == "" and added.details["change"] == "added"
    assert_no_secret_in(added)
