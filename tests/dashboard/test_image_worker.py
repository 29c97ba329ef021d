"""Personal image operations end to end through the real broker and a real Celery worker,
against the simulator: an image saved from a host is found by listing (the provider answers
only `true`) and followed until usable; a lost answer to `add` ends with exactly one image,
never sent again; an image the provider fails to make fails the operation and tells its owner
and the admins."""

from __future__ import annotations

import uuid

import pytest

from dashboard import services
from dashboard.models import Notification, Operation, PersonalImage
from tests.dashboard.workers import final
from vmclient.simulator import Fault
from vmclient.types import HostStatus, PersonalImageStatus

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.real_worker]

ADD = "/v1/open/image/personal/add"


@pytest.fixture
def sim(make_simulator, point_client_at, settings, worker_queue):
    """Images made within a fraction of a second, polled every 0.1 s."""
    settings.XDS_ACTION_POLL_SECONDS = 0.1
    return point_client_at(make_simulator(hosts=0, image_make_seconds=0.5))


def test_an_image_saved_from_the_host_page_is_found_and_followed_until_usable(
    sim, mirrored, member, member_client
):
    host = mirrored(owner=member, status=HostStatus.OFF)
    response = member_client.post(
        f"/hosts/{host.id}/image/",
        {"name": "golden-1", "idempotency_key": str(uuid.uuid4())},
    )
    assert response.status_code == 302, response.content.decode()[:2000]

    operation = final(Operation.objects.get(kind="image_create"))

    assert operation.state == "succeeded", operation.message
    (upstream,) = sim.fleet.storage.images.values()
    assert upstream.status is PersonalImageStatus.USABLE
    image = PersonalImage.objects.get(pk=str(upstream.id))
    assert image.name == "golden-1" and image.owner == member and image.is_usable
    assert operation.image_id == image.pk
    assert sim.request_count(ADD) == 1
    events = list(operation.events.values_list("event", flat=True))
    assert "image_found" in events and "image_status" in events


@pytest.mark.parametrize("fault", ["hang", "html_502"])
def test_a_lost_answer_to_add_ends_with_exactly_one_image(
    sim, mirrored, ask, member, settings, fault
):
    settings.XDS_TIMEOUT = 0.5
    # The provider starts making the image, then its answer is lost: too late, or a gateway's page.
    sim.add_fault(Fault(kind=fault, path=ADD, phase="after", seconds=1.5))
    host = mirrored(owner=member)

    operation = final(ask("image_create", host, name="after-the-cut"))

    assert operation.state == "succeeded", operation.message
    assert sim.request_count(ADD) == 1  # never sent again
    (upstream,) = sim.fleet.storage.images.values()
    assert operation.image_id == str(upstream.id)
    assert PersonalImage.objects.get(pk=str(upstream.id)).owner == member
    assert "answer_lost" in operation.events.values_list("event", flat=True)


def test_an_image_the_provider_fails_to_make_fails_and_tells_the_owner_and_admins(
    sim, mirrored, ask, member, make_member
):
    make_member("boss", "Admin")
    sim.fleet.config.personal_image_failures = 1
    host = mirrored(owner=member)

    operation = final(ask("image_create", host, name="doomed"))

    assert operation.state == "failed"
    assert "could not be made" in operation.message
    alert = Notification.objects.get(kind="image_failed")
    assert set(alert.recipients) == {"member", "boss"}
    assert "doomed" in alert.subject


def test_rename_and_delete_are_followed_until_the_listing_shows_them(
    sim, mirrored, member, django_capture_on_commit_callbacks
):
    host = mirrored(owner=member)
    sim.fleet.storage.put_image(
        sim.fleet.hosts[host.id], "old-name", status=PersonalImageStatus.USABLE,
        create_time=sim.clock.now_ms(),
    )  # fmt: skip
    services.hosts_sync()
    image = PersonalImage.objects.get(name="old-name")
    PersonalImage.objects.filter(pk=image.pk).update(owner=member)

    def ask(kind, **params):
        with django_capture_on_commit_callbacks(execute=True):
            return services.operation_request(
                user=member, kind=kind, image=image, params=params or None,
                idempotency_key=uuid.uuid4(),
            )  # fmt: skip

    renamed = final(ask("image_rename", name="new-name"))
    assert renamed.state == "succeeded", renamed.message
    image.refresh_from_db()
    assert image.name == "new-name"
    assert [i.image_name for i in sim.fleet.storage.images.values()] == ["new-name"]

    deleted = final(ask("image_delete"))
    assert deleted.state == "succeeded", deleted.message
    assert not sim.fleet.storage.images
    image.refresh_from_db()
    assert image.is_gone
