"""The roles in a real browser: an admin finds a creator's actions in the audit trail (filters,
search, CSV export), a Viewer is offered nothing that changes a host, and a Viewer's hand-made
post is refused, audited and changes nothing."""

from __future__ import annotations

import csv
import json
import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect

from dashboard.models import AuditEvent, Host, Operation
from dashboard.services import catalog_refresh, hosts_sync
from tests.e2e.conftest import SCREENSHOTS, sign_in
from vmclient.types import HostStatus

pytestmark = pytest.mark.django_db(transaction=True)

ACTION_BUTTONS = ("Power on", "Power off", "Reboot")


def _mirrored(fleet, *, owner=None, **fields) -> Host:
    """A host added upstream and synced into the mirror, given to `owner`."""
    sim_host = fleet.fleet.add_host(**fields)
    assert hosts_sync().ok
    if owner is not None:
        Host.objects.filter(pk=sim_host.id).update(owner=owner, owner_name=owner.username)
    return Host.objects.get(pk=sim_host.id)


def _csv_rows(download) -> list[dict[str, str]]:
    return list(csv.DictReader(Path(download.path()).read_text(encoding="utf-8").splitlines()))


def test_an_admin_finds_a_creators_actions_in_the_audit_trail(
    page, live_server, fleet, worker, make_member
):
    lin = make_member("lin", "Creator")
    ada = make_member("ada", "Admin")
    host = _mirrored(fleet, owner=lin, name="lin-render-1", status=HostStatus.RUNNING)

    # Lin powers her host off and waits until the worker has done it.
    sign_in(page, live_server, lin)
    page.goto(f"{live_server.url}/hosts/{host.id}/")
    page.locator("#host-panel .action-bar").get_by_role("button", name="Power off").click()
    operation_row = page.locator("#host-panel table.operations tbody tr", has_text="Power off")
    expect(operation_row.locator(".badge")).to_have_text("Succeeded", timeout=20_000)
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))

    # Ada, an Admin but not staff, opens the trail from the dashboard's navigation.
    assert not ada.is_staff and not ada.is_superuser
    sign_in(page, live_server, ada)
    page.locator("nav.mainnav").get_by_role("link", name="Audit trail").click()
    expect(page).to_have_url(f"{live_server.url}/admin/dashboard/auditevent/")
    rows = page.locator("#result_list tbody tr")
    signed_in = rows.filter(has_text="Signed in").filter(has_text="lin signed in")
    requested = rows.filter(has_text="Operation requested").filter(
        has_text="Power off of lin-render-1 requested"
    )
    finished = rows.filter(has_text="Operation finished").filter(
        has_text="Power off of lin-render-1: succeeded"
    )
    for row in (signed_in, requested, finished):
        expect(row).to_have_count(1)
        expect(row.locator("td.field-actor_name")).to_have_text("lin")
    expect(requested.locator("td.field-host_label")).to_contain_text("lin-render-1")

    # The export of the unfiltered list holds all three.
    with page.expect_download() as everything:
        page.get_by_role("link", name="Export CSV").click()
    exported = {(r["action"], r["actor_name"], r["host_name"]) for r in _csv_rows(everything.value)}
    assert {
        ("signed_in", "lin", ""),
        ("operation_requested", "lin", "lin-render-1"),
        ("operation_finished", "lin", "lin-render-1"),
    } <= exported

    # Filter by action in the sidebar: only finished operations are left.
    page.locator("#changelist-filter").get_by_role("link", name="Operation finished").click()
    expect(page).to_have_url(re.compile(r"action__exact=operation_finished"))
    expect(finished).to_have_count(1)
    expect(signed_in).to_have_count(0)
    expect(requested).to_have_count(0)

    # Search by the host's name, the filter kept: lin's finished power-off, and the export
    # follows what the list shows.
    page.locator("#searchbar").fill("lin-render-1")
    page.locator("#searchbar").press("Enter")
    expect(page).to_have_url(re.compile(r"q=lin-render-1"))
    expect(rows).to_have_count(1)
    expect(finished).to_have_count(1)
    with page.expect_download() as shown:
        page.get_by_role("link", name="Export CSV").click()
    assert shown.value.suggested_filename.endswith(".csv")
    (only,) = _csv_rows(shown.value)
    assert (only["action"], only["actor_name"], only["host_id"]) == (
        "operation_finished",
        "lin",
        host.id,
    )
    assert only["summary"] == "Power off of lin-render-1: succeeded"
    assert json.loads(only["details"])["state"] == "succeeded"


def test_a_viewer_sees_no_action_buttons(page, live_server, fleet, member, request):
    catalog_refresh()
    running = _mirrored(fleet, name="viewer-running", status=HostStatus.RUNNING)
    _mirrored(fleet, name="viewer-off", status=HostStatus.OFF)
    sign_in(page, live_server, member)

    # The host list: the hosts, with nothing to do with them.
    for name in ("viewer-running", "viewer-off"):
        row = page.locator("tr.host-row", has_text=name)
        expect(row).to_have_count(1)
        expect(row.locator("td").last).to_have_text("view only")  # why there is no button
    for label in ACTION_BUTTONS:
        expect(page.get_by_role("button", name=label)).to_have_count(0)
    expect(page.get_by_role("link", name="Delete…")).to_have_count(0)

    # A running host's page: no actions, no password.
    page.locator("tr.host-row", has_text="viewer-running").get_by_role("link").first.click()
    expect(page).to_have_url(f"{live_server.url}/hosts/{running.id}/")
    expect(page.locator("#host-panel h1")).to_have_text("viewer-running")
    expect(page.locator("#host-panel .action-bar")).to_have_text(
        "Your role does not allow you to power or reboot hosts."
    )
    for label in ACTION_BUTTONS:
        expect(page.get_by_role("button", name=label)).to_have_count(0)
    expect(page.get_by_role("link", name="Delete…")).to_have_count(0)
    expect(page.locator("#password-reveal")).to_be_visible()
    expect(page.get_by_role("button", name="Show password")).to_have_count(0)
    expect(page.locator("#password-reveal")).to_contain_text(
        "Your role does not allow you to see hosts' passwords."
    )

    # The catalog: templates, but nothing to create.
    page.locator("nav.mainnav").get_by_role("link", name="Templates").click()
    template = fleet.fleet.packages[0]
    expect(page.locator("tr", has_text=template.package_id)).to_have_count(1)
    expect(page.get_by_role("link", name="Create")).to_have_count(0)

    # Typing the create page's address does not help. (In a second tab of the same session:
    # Chromium reports any 403 document as a console error, which the `page` fixture rejects.)
    tab = page.context.new_page()
    response = tab.goto(f"{live_server.url}/hosts/new/?package={template.package_id}")
    assert response is not None and response.status == 403
    expect(tab.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(tab.locator(".forbidden")).to_contain_text(
        "Your role does not allow you to create hosts."
    )
    tab.screenshot(path=str(SCREENSHOTS / f"{request.node.name}-not-allowed.png"), full_page=True)


def test_a_forbidden_direct_post_is_refused(page, live_server, fleet, member):
    host = _mirrored(fleet, name="not-meis", status=HostStatus.RUNNING)
    sign_in(page, live_server, member)
    page.goto(f"{live_server.url}/hosts/{host.id}/")
    expect(page.locator("#host-panel h1")).to_have_text("not-meis")

    # What a hand-made form would send: the page's own CSRF token, mei's session cookie.
    token = json.loads(page.locator("body").get_attribute("hx-headers"))["X-CSRFToken"]
    response = page.request.post(
        f"{live_server.url}/hosts/{host.id}/actions/power-off/",
        form={"idempotency_key": str(uuid.uuid4())},
        headers={"X-CSRFToken": token},
        max_redirects=0,
    )

    assert response.status == 403
    assert "Your role does not allow you to power or reboot hosts." in response.text()
    assert Operation.objects.count() == 0
    refusal = AuditEvent.objects.get(action=AuditEvent.Action.OPERATION_REFUSED)
    assert (refusal.actor_id, refusal.actor_name, refusal.host_id) == (
        member.pk,
        "mei",
        host.id,
    )

    # The page, opened again, shows the host as it was, with no operation.
    page.reload()
    expect(page.locator("#host-panel .page-head .badge")).to_have_text("Running")
    expect(page.locator("#host-panel table.operations")).to_contain_text("No operation yet.")
