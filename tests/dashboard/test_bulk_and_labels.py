"""Many hosts at once, and the team's labels and notes on hosts."""

from __future__ import annotations

import re
import uuid

import pytest

from dashboard.models import AuditEvent, Host, Label, Operation
from vmclient.types import HostStatus

pytestmark = pytest.mark.django_db


def bulk(client, action: str, hosts, *, key=None):
    return client.post(
        "/hosts/bulk/",
        {
            "action": action,
            "hosts": [host.id for host in hosts],
            "batch_key": str(key or uuid.uuid4()),
        },
    )


def test_a_bulk_action_starts_what_it_may_and_says_why_not_for_the_rest(
    client, make_member, make_host, django_capture_on_commit_callbacks, dispatched
):
    creator = make_member("cleo", "Creator")
    mine_on = make_host(name="mine-on", status=HostStatus.RUNNING, owner=creator)
    mine_off = make_host(name="mine-off", status=HostStatus.OFF, owner=creator)
    theirs = make_host(name="theirs", status=HostStatus.RUNNING)
    client.force_login(creator)

    with django_capture_on_commit_callbacks(execute=True):
        page = bulk(client, "power-off", [mine_on, mine_off, theirs]).content.decode()

    assert "1 started" in page and "1 not allowed" in page and "1 not possible now" in page
    assert "You may power and reboot only the hosts you own" in page
    assert "Power off is not possible while the host is off." in page
    operation = Operation.objects.get()
    assert operation.host_id == mine_on.id and operation.batch is not None
    assert [call[0] for call in dispatched] == [operation.pk]
    refused = AuditEvent.objects.filter(action="operation_refused").values_list(
        "host_id", flat=True
    )
    assert sorted(refused) == sorted([mine_off.id, theirs.id])  # each refusal is audited


def test_sending_the_same_bulk_form_twice_makes_each_operation_once(
    client, make_member, make_hosts
):
    client.force_login(make_member("otto", "Operator"))
    hosts = make_hosts(3, status=HostStatus.RUNNING)
    key = uuid.uuid4()
    bulk(client, "reboot", hosts, key=key)
    again = bulk(client, "reboot", hosts, key=key).content.decode()
    assert Operation.objects.count() == 3
    assert "3 started" in again  # the same operations, found again


def test_the_progress_of_a_batch_is_followed_until_every_operation_is_final(
    client, make_member, make_host, ask, run
):
    otto = make_member("otto", "Operator")
    client.force_login(otto)
    host = make_host(status=HostStatus.RUNNING, name="not-upstream")  # the run will fail
    page = bulk(client, "reboot", [host]).content.decode()
    live_url = re.search(r'hx-get="(/hosts/bulk/[0-9a-f-]+/[^"]*)"', page).group(1)
    assert client.get(live_url).status_code == 204  # in progress, nothing moved: keeps polling

    run(Operation.objects.get())

    done = client.get(live_url)
    assert done.status_code == 286  # htmx stops polling
    assert "1 failed" in done.content.decode()


def test_a_viewer_has_no_bulk_bar_and_cannot_post_one(client, make_member, make_host):
    host = make_host(status=HostStatus.RUNNING)
    client.force_login(make_member("vera", "Viewer"))
    assert 'id="bulk-form"' not in client.get("/hosts/").content.decode()
    assert bulk(client, "power-off", [host]).status_code == 403
    assert Operation.objects.count() == 0


def test_an_operator_selects_hosts_from_the_list(client, make_member, make_host):
    host = make_host(status=HostStatus.RUNNING)
    client.force_login(make_member("otto", "Operator"))
    html = client.get("/hosts/").content.decode()
    assert 'id="bulk-form"' in html
    assert f'name="hosts" value="{host.id}" form="bulk-form"' in html


def test_a_bulk_action_names_at_most_the_configured_number_of_hosts(
    client, make_member, make_hosts, settings
):
    settings.XDS_BULK_MAX_HOSTS = 2
    client.force_login(make_member("otto", "Operator"))
    bulk(client, "reboot", make_hosts(4, status=HostStatus.RUNNING))
    assert Operation.objects.count() == 2


@pytest.mark.parametrize(
    ("form", "status"),
    [
        ({"action": "delete"}, 400),  # deleting asks for each host's name: never in bulk
        ({"action": "reboot", "batch_key": "not-a-key"}, 400),
    ],
)
def test_bad_bulk_forms_are_refused_clearly(client, make_member, make_host, form, status):
    host = make_host(status=HostStatus.RUNNING)
    client.force_login(make_member("otto", "Operator"))
    data = {"hosts": [host.id], "batch_key": str(uuid.uuid4()), **form}
    assert client.post("/hosts/bulk/", data).status_code == status
    assert Operation.objects.count() == 0


def test_a_bulk_action_with_no_host_ticked_keeps_the_member_on_the_list(
    client, make_member, make_host
):
    make_host(status=HostStatus.RUNNING, name="render-01")
    client.force_login(make_member("otto", "Operator"))
    data = {"action": "reboot", "batch_key": str(uuid.uuid4())}
    response = client.post("/hosts/bulk/", data, headers={"referer": "/hosts/?q=render"})
    assert response.status_code == 302 and response["Location"] == "/hosts/?q=render"
    page = client.get(response["Location"]).content.decode()
    assert "Tick at least one host first, then choose the action." in page
    assert "render-01" in page
    assert Operation.objects.count() == 0


# --- Labels and notes --------------------------------------------------------------------------


def test_an_owner_labels_a_host_and_the_list_filters_by_label(client, make_member, make_host):
    creator = make_member("cleo", "Creator")
    mine = make_host(name="render-a", owner=creator)
    other = make_host(name="render-b")
    client.force_login(creator)

    client.post(
        f"/hosts/{mine.id}/notes/", {"labels": "Project-X, gpu  gpu", "note": "Keep until Friday"}
    )

    assert sorted(Host.objects.get(pk=mine.pk).labels.values_list("name", flat=True)) == [
        "gpu",
        "project-x",
    ]
    page = client.get(f"/hosts/{mine.id}/").content.decode()
    assert "Keep until Friday" in page and "project-x" in page
    listed = client.get("/hosts/?label=project-x").content.decode()
    assert "render-a" in listed and "render-b" not in listed
    assert '<option value="gpu">gpu</option>' in client.get("/hosts/").content.decode()
    # Someone else's host: not theirs to label.
    assert client.post(f"/hosts/{other.id}/notes/", {"labels": "mine"}).status_code == 403
    assert not Host.objects.get(pk=other.pk).labels.exists()


def test_labels_that_are_not_words_are_refused_with_a_message(client, make_member, make_host):
    admin = make_member("ada", "Admin")
    host = make_host()
    client.force_login(admin)
    answer = client.post(f"/hosts/{host.id}/notes/", {"labels": "ok <script>"}, follow=True)
    assert "A label is a word of letters, digits" in answer.content.decode()
    assert not Host.objects.get(pk=host.pk).labels.exists()


def test_unused_labels_disappear_from_the_filter(client, make_member, make_host):
    admin = make_member("ada", "Admin")
    host = make_host()
    client.force_login(admin)
    client.post(f"/hosts/{host.id}/notes/", {"labels": "temporary"})
    client.post(f"/hosts/{host.id}/notes/", {"labels": ""})
    assert not Label.objects.exists()
