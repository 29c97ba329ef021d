"""A member is offered only what they may do on each host: the host list's checkboxes and
buttons, the host's page; where nothing is offered, a word (or on the host's page a sentence)
says why."""

from __future__ import annotations

import re

import pytest

from dashboard.models import Operation
from vmclient.types import HostStatus

pytestmark = pytest.mark.django_db


def cell(page: str, host, name: str) -> str:
    """The row's cell of class `name` ("pick", "row-actions")."""
    row = re.search(rf'<tr id="host-{host.id}".*?</tr>', page, re.S).group(0)
    return re.search(rf'<td class="{name}">(.*?)</td>', row, re.S).group(1)


@pytest.fixture
def fleet(make_member, make_host):
    cleo, bob = make_member("cleo", "Creator"), make_member("bob", "Creator")
    hosts = {
        "mine": make_host(name="mine", owner=cleo, owner_name="cleo"),
        "bobs": make_host(name="bobs", owner=bob, owner_name="bob"),
        "unowned": make_host(name="nobodys"),
        "expired": make_host(
            name="old", owner=cleo, owner_name="cleo", status=HostStatus.EXPIRED.value
        ),
        "busy": make_host(name="busy", owner=cleo, owner_name="cleo"),
    }
    Operation.objects.create(
        kind="power_off", state="submitted", host=hosts["busy"], requested_by=cleo,
        requested_by_name="cleo",
    )  # fmt: skip
    return cleo, hosts


def test_a_creator_gets_checkboxes_only_on_her_hosts_and_a_word_for_the_others(client, fleet):
    cleo, hosts = fleet
    client.force_login(cleo)
    page = client.get("/hosts/").content.decode()

    assert 'id="bulk-form"' in page
    picked = set(re.findall(r'name="hosts" value="([^"]+)"', page))
    assert picked == {hosts["mine"].id}  # not bob's, nobody's, the expired or the busy one

    assert "Power off" in cell(page, hosts["mine"], "row-actions")
    words = {
        key: re.sub(r"<[^>]+>", "", cell(page, hosts[key], "row-actions")).strip()
        for key in ("bobs", "unowned", "busy")
    }
    assert words == {"bobs": "not yours", "unowned": "unowned", "busy": "busy"}
    assert "—" not in cell(page, hosts["bobs"], "row-actions")
    assert 'title="This host belongs to bob: you may act only on your own."' in page
    # Her expired host can still be deleted, and nothing else.
    expired = cell(page, hosts["expired"], "row-actions")
    assert "Delete…" in expired and "Power" not in expired


def test_a_viewer_is_told_the_list_is_view_only(client, make_member, fleet):
    _cleo, hosts = fleet
    client.force_login(make_member("vera", "Viewer"))
    page = client.get("/hosts/").content.decode()
    assert 'id="bulk-form"' not in page and 'name="hosts"' not in page
    assert "view only" in cell(page, hosts["mine"], "row-actions")


def test_an_operator_cannot_power_an_expired_host_and_is_told_so(client, make_member, fleet):
    _cleo, hosts = fleet
    client.force_login(make_member("otto", "Operator"))
    page = client.get("/hosts/").content.decode()
    picked = set(re.findall(r'name="hosts" value="([^"]+)"', page))
    assert picked == {hosts["mine"].id, hosts["bobs"].id, hosts["unowned"].id}
    assert "expired" in cell(page, hosts["expired"], "row-actions")


def test_the_hosts_page_says_why_there_is_no_action_and_no_password(client, fleet):
    cleo, hosts = fleet
    client.force_login(cleo)
    page = client.get(f"/hosts/{hosts['bobs'].id}/").content.decode()
    assert "This host belongs to bob: you may act only on your own." in page
    assert "Show password" not in page
    assert "Only its owner (bob) or an admin may see the password." in page

    unowned = client.get(f"/hosts/{hosts['unowned'].id}/").content.decode()
    assert "Only its owner or an admin may see the password, and nobody owns this host." in unowned

    mine = client.get(f"/hosts/{hosts['mine'].id}/").content.decode()
    assert "Show password" in mine and "password-refusal" not in mine


def test_a_viewer_is_told_her_role_shows_no_password(client, make_member, fleet):
    _cleo, hosts = fleet
    client.force_login(make_member("vera", "Viewer"))
    page = client.get(f"/hosts/{hosts['mine'].id}/").content.decode()
    assert "Your role does not allow you to see hosts&#x27; passwords." in page
    assert "Your role does not allow you to power or reboot hosts." in page
