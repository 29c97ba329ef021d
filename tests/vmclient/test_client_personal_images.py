"""The personal image calls over real HTTP against the simulator: typed results, being made to
usable (or failed) on the simulator's clock, both spellings of the paths, and a usable image as
the image of a new host."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.vmclient.test_client import PACKAGE, client_for
from tests.vmclient.test_client_disks import off_host
from vmclient.errors import BusinessError, IllegalRequest, InvalidArgument, MissingEnvelopeCode
from vmclient.simulator import Fault
from vmclient.types import PersonalImage, PersonalImageStatus

DOCUMENTED = "/v1/open/image/personal/"
EXAMPLES = "/v1/PveMachine/image/"


@pytest.fixture
def client(simulator):
    with client_for(simulator) as client:
        yield client


def _only(client, name):
    (image,) = [i for i in client.list_personal_images() if i.name == name]
    return image


def test_an_image_is_being_made_then_usable_as_the_clock_moves(simulator, client):
    host = off_host(simulator, package_id=PACKAGE)
    assert client.create_personal_image(host.id, " golden ") is None  # the docs' `true`
    image = _only(client, "golden")
    assert isinstance(image, PersonalImage) and image.status is PersonalImageStatus.MAKING
    assert image.status.is_changing
    assert image.id.isdigit()  # a JSON number on the wire, an id as text here
    assert image.image_type == host.operating_system and image.size == host.rigid_disk
    assert image.datacenter == "HZ" and image.image_id
    assert isinstance(image.created_at, datetime)
    simulator.clock.advance(simulator.config.image_make_seconds)
    assert _only(client, "golden").status is PersonalImageStatus.USABLE


def test_an_image_can_fail_to_be_made(simulator, client):
    simulator.config.personal_image_failures = 1
    client.create_personal_image(off_host(simulator).id, "broken")
    client.create_personal_image(off_host(simulator).id, "fine")
    simulator.clock.advance(simulator.config.image_make_seconds)
    assert _only(client, "broken").status is PersonalImageStatus.FAILED
    assert _only(client, "fine").status is PersonalImageStatus.USABLE


def test_rename_and_delete_use_the_images_id(simulator, client):
    client.create_personal_image(off_host(simulator).id, "first")
    image = _only(client, "first")
    client.rename_personal_image(image.id, "second")
    assert _only(client, "second").id == image.id
    client.delete_personal_image(image.id)
    assert client.list_personal_images() == []
    with pytest.raises(IllegalRequest):
        client.delete_personal_image(image.id)


def test_every_image_is_listed_across_pages(simulator, client):
    host = off_host(simulator)
    simulator.config.max_disk_page_size = 7
    for number in range(23):
        simulator.fleet.storage.put_image(
            host, f"image-{number}", status=PersonalImageStatus.USABLE, create_time=number
        )
    names = {i.name for i in client.list_personal_images()}
    assert names == {f"image-{n}" for n in range(23)}


@pytest.mark.parametrize("spelling", ["documented", "examples", "both"])
def test_every_call_works_whichever_spelling_the_provider_answers(make_simulator, spelling):
    sim = make_simulator(personal_image_paths=spelling)
    host = off_host(sim)
    with client_for(sim) as client:
        client.create_personal_image(host.id, "one")
        image = _only(client, "one")
        client.rename_personal_image(image.id, "two")
        assert _only(client, "two").id == image.id
        client.delete_personal_image(image.id)
        assert client.list_personal_images() == []
    paths = [r.path for r in sim.request_log_snapshot() if "image/" in r.path]
    if spelling == "examples":
        # The documented path answered 404 once; the client then kept to the examples'.
        assert [p for p in paths if p.startswith(DOCUMENTED)] == [DOCUMENTED + "add"]
        assert f"{EXAMPLES}update/{image.id}" in paths  # `id` in the path, as they show it
    else:
        assert all(p.startswith(DOCUMENTED) for p in paths)


def test_the_client_comes_back_to_the_documented_paths_when_the_examples_go(make_simulator):
    sim = make_simulator(personal_image_paths="examples")
    with client_for(sim) as client:
        assert client.list_personal_images() == []
        sim.config.personal_image_paths = "documented"
        assert client.list_personal_images() == []
    assert sim.request_count(DOCUMENTED + "getList") == 2
    assert sim.request_count(EXAMPLES + "getList") == 2


def test_a_404_on_both_spellings_reaches_the_caller(simulator, client):
    client.authenticate()
    for prefix in (DOCUMENTED, EXAMPLES):
        simulator.add_fault(Fault("raw", path=prefix, status=404, body=b'{"status":404}'))
    with pytest.raises(MissingEnvelopeCode) as caught:
        client.list_personal_images()
    assert caught.value.http_status == 404
    assert simulator.request_count(DOCUMENTED) == simulator.request_count(EXAMPLES) == 1


def test_a_usable_personal_image_starts_a_new_host_of_its_templates_type(simulator, client):
    host = off_host(simulator, package_id=PACKAGE)
    client.create_personal_image(host.id, "golden")
    image = _only(client, "golden")
    with pytest.raises(BusinessError) as caught:  # still being made
        client.create_pay_as_you_go(PACKAGE, image.image_id)
    assert caught.value.upstream_message == "镜像不可用"
    simulator.clock.advance(simulator.config.image_make_seconds)
    new_id = client.create_pay_as_you_go(PACKAGE, image.image_id)
    assert simulator.fleet.hosts[new_id].operating_system == host.operating_system


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "tab\tname", None, 5])
def test_a_bad_image_name_is_refused_before_sending(simulator, client, name):
    with pytest.raises(InvalidArgument) as caught:
        client.create_personal_image("SomeHost", name)
    assert caught.value.reason == "image_name" and caught.value.maximum == 100
    assert simulator.request_count("/v1/open/") == 0
