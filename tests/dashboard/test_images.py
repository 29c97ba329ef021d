"""Personal images in the dashboard: the mirror and its sync, the /images/ section and its poll,
the rules checked before anything is sent, each operation against the simulator (in-process
runs; tests/dashboard/test_image_worker.py runs them through a real worker), the audit trail,
the host page's and the host delete page's "save a personal image", and a new host started
from a usable personal image through the create form."""

from __future__ import annotations

import re
import uuid

import pytest

from dashboard import services
from dashboard.models import AuditEvent, Host, Notification, Operation, PersonalImage, SyncState
from vmclient.simulator import Fault
from vmclient.types import HostStatus, PersonalImageStatus

pytestmark = pytest.mark.django_db

LIST = "/v1/open/image/personal/getList"
ADD = "/v1/open/image/personal/add"


@pytest.fixture
def host(mirrored, member):
    return mirrored(owner=member, status=HostStatus.OFF, name="render-01")


@pytest.fixture
def put(sim, storage):
    def put(host: Host, name: str, status=PersonalImageStatus.USABLE):
        now = sim.clock.now_ms()
        making = {"ready_at": now + int(image_seconds(sim) * 1000)}
        return storage.put_image(
            sim.fleet.hosts[host.id], name, status=status, create_time=now,
            **(making if status is PersonalImageStatus.MAKING else {}),
        )  # fmt: skip

    return put


def section(page: str) -> str:
    return page.split('id="personal-images"', 1)[1].split('id="catalog"', 1)[0]


def test_the_sync_mirrors_every_image_and_a_failed_listing_marks_none_gone(
    sim, storage, synced, host, put, member_client
):
    kept, dropped = put(host, "kept"), put(host, "dropped", PersonalImageStatus.FAILED)
    synced()
    row = PersonalImage.objects.get(pk=str(kept.id))
    assert (row.name, row.status, row.image_id) == ("kept", 1, kept.image_id)
    assert row.owner is None  # nobody's operation made it
    assert row.size == kept.image_size and row.datacenter == kept.datacenter_key

    del storage.images[dropped.id]
    sim.add_fault(Fault(kind="html_502", path=LIST, times=None))
    services.hosts_sync()
    assert not PersonalImage.objects.filter(gone_at__isnull=False).exists()
    assert SyncState.objects.get(job="images").is_failing
    assert SyncState.objects.get(job="hosts").is_failing is False
    page = section(member_client.get("/images/").content.decode())
    assert "could not list the personal images, so none was marked gone" in page
    assert "dropped" in page  # still shown as last listed

    sim.clear_faults()
    synced()
    gone = PersonalImage.objects.filter(gone_at__isnull=False)
    assert list(gone.values_list("id", flat=True)) == [str(dropped.id)]


def test_the_images_page_lists_personal_images_beside_the_providers_with_their_status(
    sim, synced, host, put, member_client
):
    for name, status in [("a-making", 0), ("b-usable", 1), ("c-failed", 2), ("d-expired", 3)]:
        put(host, name, PersonalImageStatus(status))
    synced()
    services.catalog_refresh()
    sim.clear_request_log()

    page = member_client.get("/images/").content.decode()

    assert sim.request_count() == 0
    personal = section(page)
    for name, label in [("a-making", "Being made"), ("b-usable", "Usable"),
                        ("c-failed", "Failed"), ("d-expired", "Expired")]:  # fmt: skip
        row = personal.split(name, 1)[1].split("</tr>", 1)[0]
        assert label in row, name
    assert "is-changing" in personal.split("a-making", 1)[1].split("</tr>", 1)[0]
    assert "unverified" in personal
    assert "Windows Server" in page.split('id="catalog"', 1)[1]  # the provider's


def test_the_poll_answers_only_when_the_image_mirror_moved(sim, synced, host, put, member_client):
    put(host, "golden", PersonalImageStatus.MAKING)
    synced()
    page = member_client.get("/images/").content.decode()
    poll = re.search(r'hx-get="(/images/personal/live/\?at=[^"]+)"', page).group(1)
    htmx = {"HX-Request": "true"}

    assert member_client.get(poll, headers=htmx).status_code == 204
    sim.clock.advance(image_seconds(sim) + 1)  # made
    synced()
    moved = member_client.get(poll, headers=htmx)
    assert moved.status_code == 200
    assert "Usable" in moved.content.decode()


def image_seconds(sim) -> float:
    return sim.fleet.config.image_make_seconds


def test_an_image_saved_from_a_host_is_found_by_listing_owned_and_audited(
    sim, storage, host, ask, run, member
):
    operation = ask("image_create", host, name="golden")

    assert Operation.objects.get(pk=operation.pk).host_id == host.id  # held while it is made
    operation = run(operation, between=lambda: sim.clock.advance(30))

    assert operation.state == "succeeded", operation.message
    (upstream,) = storage.images.values()
    image = PersonalImage.objects.get(pk=str(upstream.id))
    assert image.owner == member and image.is_usable and image.name == "golden"
    assert sim.request_count(ADD) == 1
    actions = list(
        AuditEvent.objects.filter(operation=operation)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["operation_requested", "operation_finished"]
    finished = AuditEvent.objects.get(operation=operation, action="operation_finished")
    assert finished.details["image_id"] == image.pk
    assert "golden" in finished.summary


@pytest.mark.parametrize(
    ("setup", "words"),
    [
        ("name_taken", "already has this name"),
        ("expired", "expired"),
        ("busy", "Power on by member .* the host; wait until it has finished"),
        ("bad_name", "1 to 100 characters"),
    ],
)
def test_what_the_provider_would_refuse_is_refused_before_sending(
    sim, synced, host, put, ask, member, setup, words
):
    name = "golden"
    if setup == "name_taken":
        put(host, name)
        synced()
    elif setup == "expired":
        Host.objects.filter(pk=host.pk).update(status=HostStatus.EXPIRED)
    elif setup == "busy":
        ask("power_on", host)
    else:
        name = "x" * 101
    sim.clear_request_log()
    host.refresh_from_db()

    with pytest.raises(services.OperationRefused, match=words):
        ask("image_create", host, name=name)

    assert sim.request_count(ADD) == 0
    assert not Operation.objects.filter(kind="image_create").exists()
    refusal = AuditEvent.objects.filter(action="operation_refused").latest("id")
    assert refusal.details["kind"] == "image_create"


def test_an_image_being_made_is_neither_renamed_nor_deleted(
    sim, synced, host, put, member, member_client
):
    image = put(host, "golden", PersonalImageStatus.MAKING)
    synced()
    PersonalImage.objects.filter(pk=str(image.id)).update(owner=member)
    row = PersonalImage.objects.get(pk=str(image.id))

    with pytest.raises(services.OperationRefused, match="still being made"):
        services.operation_request(
            user=member, kind="image_rename", image=row, params={"name": "other"},
            idempotency_key=uuid.uuid4(),
        )  # fmt: skip
    personal = section(member_client.get("/images/").content.decode())
    assert "Rename" not in personal and "Delete…" not in personal
    assert "still being made" in personal


def test_delete_asks_for_the_name_and_a_wrong_one_deletes_nothing(
    sim, storage, synced, host, put, member, member_client, run
):
    image = put(host, "golden")
    synced()
    PersonalImage.objects.filter(pk=str(image.id)).update(owner=member)
    url = f"/images/personal/{image.id}/delete/"
    assert "Type <code>golden</code> to confirm" in member_client.get(url).content.decode()

    wrong = member_client.post(url, {"name": "gold", "idempotency_key": str(uuid.uuid4())})
    assert wrong.status_code == 200 and "not the image" in wrong.content.decode()
    assert not Operation.objects.exists()

    right = member_client.post(url, {"name": "golden", "idempotency_key": str(uuid.uuid4())})
    assert right.status_code == 302
    operation = run(Operation.objects.get(kind="image_delete"))
    assert operation.state == "succeeded", operation.message
    assert not storage.images
    assert PersonalImage.objects.get(pk=str(image.id)).is_gone


def test_a_rename_to_a_name_another_image_has_is_refused(
    sim, synced, host, put, member, member_client
):
    image = put(host, "golden")
    put(host, "silver")
    synced()
    PersonalImage.objects.filter(pk=str(image.id)).update(owner=member)

    response = member_client.post(
        f"/images/personal/{image.id}/rename/",
        {"name": "silver", "idempotency_key": str(uuid.uuid4())},
        follow=True,
    )

    assert "already has this name" in response.content.decode()
    assert not Operation.objects.exists()


def test_the_host_page_and_its_delete_page_offer_to_save_an_image_first(host, member_client):
    detail = member_client.get(f"/hosts/{host.id}/").content.decode()
    assert f'href="/hosts/{host.id}/image/"' in detail

    delete = member_client.get(f"/hosts/{host.id}/delete/").content.decode()
    assert "Save a personal image first" in delete
    assert f'href="/hosts/{host.id}/image/"' in delete

    form = member_client.get(f"/hosts/{host.id}/image/").content.decode()
    assert 'name="name"' in form and "render-01-" in form


def test_a_viewer_sees_personal_images_but_is_offered_nothing(
    sim, synced, host, put, make_member, client
):
    put(host, "golden")
    synced()
    client.force_login(make_member("vera", "Viewer"))

    personal = section(client.get("/images/").content.decode())
    assert "golden" in personal
    assert "Rename" not in personal and "Delete…" not in personal
    assert (
        f'href="/hosts/{host.id}/image/"' not in client.get(f"/hosts/{host.id}/").content.decode()
    )


def test_a_new_host_starts_from_a_usable_personal_image_through_the_create_form(
    sim, synced, host, put, member_client, run
):
    image = put(host, "golden")
    synced()
    services.catalog_refresh()
    package = sim.fleet.package(sim.fleet.hosts[host.id].package_id)
    payg = "payg"

    form = member_client.get(f"/hosts/new/?package={package.package_id}").content.decode()
    assert image.image_id in form and "personal image, unverified" in form
    assert "Unverified" in form

    chosen = {"package": package.package_id, "image": image.image_id, "billing": payg,
              "idempotency_key": str(uuid.uuid4())}  # fmt: skip
    review = member_client.post("/hosts/new/", chosen).content.decode()
    price = re.search(r'name="confirmed_price" value="([^"]+)"', review).group(1)
    bought = member_client.post("/hosts/new/", {**chosen, "confirmed_price": price, "confirm": "1"})
    assert bought.status_code == 302, bought.content.decode()[:1500]

    operation = run(
        Operation.objects.get(kind="create_payg"), between=lambda: sim.clock.advance(30)
    )

    assert operation.state == "succeeded", operation.message
    assert operation.params["image_id"] == image.image_id
    new = sim.fleet.hosts[operation.host_id]
    assert new.id != host.id and new.operating_system == image.image_type


def test_an_image_create_redelivered_again_and_again_ends_unknown_not_failed(
    sim, host, ask, settings, redeliver
):
    settings.XDS_ACTION_MAX_REDELIVERIES = 2
    operation = ask("image_create", host, name="golden")
    Operation.objects.filter(pk=operation.pk).update(
        state="waiting", attempts=1, dispatch_id="d1", dispatches=1
    )

    # The worker is killed while it looks for the new image.
    outcomes = redeliver(operation, killed_in="list_personal_images")

    assert outcomes == ["killed", "killed", "killed", "gave up", "final"]
    assert operation.state == "unknown" and operation.error_code == "redelivered"
    assert "may have done it" in operation.message
    assert sim.request_count(ADD) == 0


def test_the_sync_tells_the_owner_and_admins_once_when_an_image_fails(
    sim, storage, synced, host, put, member, make_member
):
    make_member("boss", "Admin")
    image = put(host, "doomed", PersonalImageStatus.MAKING)
    synced()
    PersonalImage.objects.filter(pk=str(image.id)).update(owner=member, owner_name="member")

    image.status = PersonalImageStatus.FAILED
    synced()
    synced()
    (alert,) = Notification.objects.filter(kind="image_failed")
    assert set(alert.recipients) == {"member", "boss"}
    assert "doomed" in alert.subject
    assert PersonalImage.objects.get(pk=str(image.id)).status_label == "Failed"


def test_an_images_page_shows_it_its_operations_and_follows_it_live(
    sim, synced, host, ask, run, member, member_client
):
    operation = run(ask("image_create", host, name="golden"), between=lambda: sim.clock.advance(30))
    image = PersonalImage.objects.get(pk=operation.image_id)
    htmx = {"HX-Request": "true"}

    page = member_client.get(f"/images/personal/{image.id}/").content.decode()

    assert "golden" in page and "Usable" in page
    assert f'href="/operations/{operation.pk}/"' in page  # the create that made it
    assert f'action="/images/personal/{image.id}/rename/"' in page
    assert f'href="/images/personal/{image.id}/delete/"' in page
    poll = re.search(r'hx-get="(/images/personal/[^/]+/live/\?at=[^"]+)"', page).group(1)
    assert member_client.get(poll, headers=htmx).status_code == 204
    PersonalImage.objects.filter(pk=image.pk).update(version=image.version + 1)
    assert member_client.get(poll, headers=htmx).status_code == 200
    assert member_client.get("/images/personal/nope/").status_code == 404
