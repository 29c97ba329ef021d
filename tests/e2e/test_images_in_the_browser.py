"""Personal images in a real browser, with a real Celery worker doing the work against the
simulator: from a host's delete page a member saves a personal image first, watches it become
usable, and starts a new host from it through the create form."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from dashboard.models import Host, PersonalImage
from dashboard.services import catalog_refresh, hosts_sync
from tests.e2e.conftest import sign_in
from vmclient.types import BillingType, HostStatus, PersonalImageStatus

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def owner(make_member):
    """Lin, a Creator: she saves images of her own hosts and buys hosts."""
    return make_member("lin", "Creator")


def test_save_a_personal_image_from_a_host_and_start_a_new_host_from_it(
    page, live_server, fleet, worker, owner
):
    fleet.config.image_make_seconds = 2.0
    template = next(p for p in fleet.fleet.packages if p.use_type in (0, 2))
    upstream = fleet.fleet.add_host(
        package_id=template.package_id,
        status=HostStatus.OFF,
        use_type=BillingType.PAY_AS_YOU_GO,
        name="golden-src",
    )
    assert hosts_sync().ok
    catalog_refresh()
    Host.objects.filter(pk=upstream.id).update(owner=owner, owner_name=owner.username)
    before = set(fleet.fleet.storage.images)  # the account's seeded images
    sign_in(page, live_server, owner)

    # From the delete page: "save a personal image first", named, then followed until usable.
    page.goto(f"{live_server.url}/hosts/{upstream.id}/delete/")
    page.get_by_role("link", name="Save a personal image first…").click()
    page.get_by_label("Image name").fill("golden-e2e")
    page.get_by_role("button", name="Save the image").click()
    expect(page.locator(".operation-card .badge")).to_have_text("Succeeded", timeout=20_000)
    (new_id,) = set(fleet.fleet.storage.images) - before
    made = fleet.fleet.storage.images[new_id]
    assert made.status is PersonalImageStatus.USABLE
    assert fleet.request_count("/v1/open/image/personal/add") == 1

    # Listed on /images/, in its own section, usable and hers.
    page.goto(f"{live_server.url}/images/")
    row = page.locator(f"#personal-image-{made.id}")
    expect(row).to_contain_text("golden-e2e")
    expect(row).to_contain_text("Usable")
    expect(row).to_contain_text("lin")

    # A new host from it: the create form offers it, marked unverified.
    page.goto(f"{live_server.url}/hosts/new/?package={template.package_id}")
    expect(page.locator(".personal-unverified")).to_contain_text("Unverified")
    page.get_by_label("Image").select_option(made.image_id)
    page.get_by_label("Pay-as-you-go").check()
    page.get_by_role("button", name="Review the order").click()
    expect(page.locator(".create-review")).to_contain_text("golden-e2e")
    page.get_by_role("button", name="Confirm and buy").click()
    host_link = page.locator(".operation-card").locator("a[href^='/hosts/']")
    expect(host_link).to_have_count(1, timeout=20_000)
    assert fleet.request_count("/v1/pve/open/createquantity") == 1
    host_id = host_link.get_attribute("href").strip("/").split("/")[-1]
    assert host_id != upstream.id
    assert fleet.fleet.hosts[host_id].operating_system.startswith(made.image_type.split()[0])
    assert PersonalImage.objects.get(pk=str(made.id)).owner == owner
