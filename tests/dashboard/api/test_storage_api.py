"""Cloud disks and personal images through the API: the same services and checks as the
/disks/ and /images/ pages (202 with the operation, the Idempotency-Key required on creates,
409 for what the provider's rules or a busy disk refuse, `confirm_name` before anything is
destroyed), lists with the pages' filters, and words in the asked language."""

from __future__ import annotations

import pytest

from dashboard.models import AuditEvent, Operation
from tests.dashboard.api.conftest import bearer
from vmclient.types import DiskStatus

pytestmark = pytest.mark.django_db

ALL = ("read", "operate", "manage")


def post(client, secret, path, body=None, key=None, **headers):
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post(
        path, body or {}, content_type="application/json", **headers, **bearer(secret)
    )


def test_a_disk_create_answers_202_and_a_key_never_makes_two(
    client, make_token, stopped_host, dispatched, django_capture_on_commit_callbacks
):
    user, secret = make_token("Creator", scopes=ALL, name="ci")
    host = stopped_host(owner=user)
    body = {"area": "south-china", "size_gb": 40, "host_id": host.id}
    with django_capture_on_commit_callbacks(execute=True):
        first = post(client, secret, "/api/v1/disks/", body, key="disk-1")
        again = post(client, secret, "/api/v1/disks/", body, key="disk-1")
    assert first.status_code == 202, first.json()
    made = first.json()
    assert made["kind"] == "disk_create" and made["state"] == "queued"
    assert made["params"]["area"] == "south-china" and made["params"]["size_gb"] == 40
    assert made["host_id"] == host.id
    assert again.json()["id"] == made["id"] and again["Idempotent-Replayed"] == "true"
    assert Operation.objects.count() == 1 and len(dispatched) == 1
    bigger = post(client, secret, "/api/v1/disks/", {**body, "size_gb": 80}, key="disk-1")
    assert bigger.status_code == 422 and Operation.objects.count() == 1
    event = AuditEvent.objects.get(action=AuditEvent.Action.OPERATION_REQUESTED)
    assert event.details["api_token"] == "ci"


def test_a_disk_create_needs_a_key_and_a_valid_body(client, make_token, stopped_host):
    _user, secret = make_token("Creator", scopes=ALL)
    no_key = post(client, secret, "/api/v1/disks/", {"area": "south-china", "size_gb": 40})
    assert no_key.status_code == 400 and "Idempotency-Key" in no_key.json()["errors"]
    small = post(client, secret, "/api/v1/disks/", {"area": "south-china", "size_gb": 5}, key="a")
    assert small.status_code == 400 and "size_gb" in small.json()["errors"]
    nowhere = post(client, secret, "/api/v1/disks/", {"area": "mars", "size_gb": 40}, key="b")
    assert nowhere.status_code == 400 and "area" in nowhere.json()["errors"]
    no_host = {"area": "south-china", "size_gb": 40, "host_id": "nope"}
    missing = post(client, secret, "/api/v1/disks/", no_host, key="c")
    assert missing.status_code == 400 and "host_id" in missing.json()["errors"]
    assert not Operation.objects.exists()


def test_what_the_providers_rules_refuse_is_a_409_in_the_asked_language(
    client, make_token, mirrored
):
    user, secret = make_token("Creator", scopes=ALL)
    running = mirrored(owner=user, area=0)  # a disk mounts only on a host that is off
    body = {"area": "south-china", "size_gb": 40, "host_id": running.id}
    english = post(client, secret, "/api/v1/disks/", body, key="r1")
    chinese = post(client, secret, "/api/v1/disks/", body, key="r2", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert english.status_code == chinese.status_code == 409
    assert "must be off" in english.json()["detail"]
    assert chinese.json()["detail"] != english.json()["detail"]
    assert not Operation.objects.exists()


def test_disks_are_paged_and_filtered_as_on_the_disks_page(
    client, make_token, disk_mirrored, stopped_host
):
    user, secret = make_token("Viewer")
    host = stopped_host()
    disk_mirrored(status=DiskStatus.IN_USE, pve_id=host.id, memory=200)
    disk_mirrored(area=1, owner=user)
    disk_mirrored(area=2)
    listed = client.get("/api/v1/disks/?page_size=2", **bearer(secret)).json()
    assert listed["count"] == 3 and len(listed["results"]) == 2 and listed["next"]
    mounted = client.get("/api/v1/disks/?mounted=yes", **bearer(secret)).json()["results"]
    assert [(d["host_id"], d["status"], d["size_gb"]) for d in mounted] == [
        (host.id, "in-use", 200)
    ]
    assert mounted[0]["host_name"] == host.name
    west = client.get("/api/v1/disks/?area=west-china", **bearer(secret)).json()["results"]
    assert [d["owner"] for d in west] == [user.username]
    assert client.get("/api/v1/disks/?owner=mine", **bearer(secret)).json()["count"] == 1
    assert client.get("/api/v1/disks/?status=unmounted", **bearer(secret)).json()["count"] == 2
    bad = client.get("/api/v1/disks/?mounted=maybe", **bearer(secret))
    assert bad.status_code == 400 and "mounted" in bad.json()["errors"]
    one = client.get(f"/api/v1/disks/{west[0]['id']}/", **bearer(secret)).json()
    assert one["area"] == "west-china" and one["actions"] == []  # a Viewer may do nothing


def test_attach_and_detach_go_through_the_disk_operations(
    client, make_token, disk_mirrored, stopped_host
):
    user, secret = make_token("Creator", scopes=ALL)
    host = stopped_host(owner=user)
    disk = disk_mirrored(owner=user)
    assert client.get(f"/api/v1/disks/{disk.id}/", **bearer(secret)).json()["actions"] == [
        "disk_attach",
        "disk_destroy",
    ]
    attached = post(client, secret, f"/api/v1/disks/{disk.id}/attach/", {"host_id": host.id})
    assert attached.status_code == 202, attached.json()
    assert attached.json()["disk_id"] == disk.id and attached.json()["host_id"] == host.id
    busy = post(client, secret, f"/api/v1/disks/{disk.id}/detach/")
    assert busy.status_code == 409 and busy.json()["operation"] == attached.json()["id"]
    no_host = post(client, secret, f"/api/v1/disks/{disk.id}/attach/", {})
    assert no_host.status_code == 400 and "host_id" in no_host.json()["errors"]
    assert Operation.objects.count() == 1


def test_a_disk_is_destroyed_only_with_its_name(client, make_token, disk_mirrored):
    user, secret = make_token("Creator", scopes=ALL)
    disk = disk_mirrored(owner=user, name="scratch-1")
    url = f"/api/v1/disks/{disk.id}/"
    missing = client.delete(url, **bearer(secret))
    assert missing.status_code == 400 and "confirm_name" in missing.json()["errors"]
    wrong = client.delete(f"{url}?confirm_name=scratch-2", **bearer(secret))
    assert wrong.status_code == 400
    assert "not the disk's name" in wrong.json()["errors"]["confirm_name"][0]
    assert not Operation.objects.exists()
    gone = client.delete(
        url, {"confirm_name": "scratch-1"}, content_type="application/json", **bearer(secret)
    )
    assert gone.status_code == 202 and gone.json()["kind"] == "disk_destroy"
    # Someone else's disk: the role says no before the name is looked at.
    _other, theirs = make_token("Creator", scopes=ALL)
    refused = client.delete(f"{url}?confirm_name=wrong", **bearer(theirs))
    assert refused.status_code == 403 and "not yours" in refused.json()["detail"]


def test_an_unknown_disk_or_image_is_a_json_404(client, make_token):
    _user, secret = make_token("Admin", scopes=ALL)
    for response in (
        client.get("/api/v1/disks/nope/", **bearer(secret)),
        client.post("/api/v1/disks/nope/detach/", **bearer(secret)),
        client.get("/api/v1/personal-images/nope/", **bearer(secret)),
        client.delete("/api/v1/personal-images/nope/?confirm_name=x", **bearer(secret)),
        client.get("/api/v1/disks/a%00b/", **bearer(secret)),
    ):
        assert response.status_code == 404, response.content
        assert response.json()["detail"]


def test_a_personal_image_is_saved_renamed_and_deleted_through_the_image_operations(
    client, make_token, mirrored, image_mirrored, django_capture_on_commit_callbacks
):
    user, secret = make_token("Creator", scopes=ALL)
    host = mirrored(owner=user, status=0, name="render-01")
    no_key = post(client, secret, f"/api/v1/hosts/{host.id}/personal-image/", {"name": "base"})
    assert no_key.status_code == 400 and "Idempotency-Key" in no_key.json()["errors"]
    saved = post(
        client, secret, f"/api/v1/hosts/{host.id}/personal-image/", {"name": " base "}, key="i1"
    )
    assert saved.status_code == 202, saved.json()
    assert saved.json()["kind"] == "image_create" and saved.json()["params"] == {"name": "base"}
    again = post(
        client, secret, f"/api/v1/hosts/{host.id}/personal-image/", {"name": "base"}, key="i1"
    )
    assert again.json()["id"] == saved.json()["id"]

    other = mirrored(owner=user, status=0)
    image = image_mirrored(other, "gold", owner=user)
    listed = client.get("/api/v1/personal-images/", **bearer(secret)).json()
    row = next(r for r in listed["results"] if r["id"] == image.id)
    assert row["status"] == "usable" and row["actions"] == ["image_rename", "image_delete"]
    taken = post(client, secret, f"/api/v1/personal-images/{image.id}/rename/", {"name": "base"})
    assert taken.status_code == 409 and "already has this name" in taken.json()["detail"]
    renamed = post(client, secret, f"/api/v1/personal-images/{image.id}/rename/", {"name": "g2"})
    assert renamed.status_code == 202 and renamed.json()["image_id"] == image.id
    one = client.get(f"/api/v1/personal-images/{image.id}/", **bearer(secret)).json()
    assert one["operation_in_flight"] == renamed.json()["id"] and one["actions"] == []
    Operation.objects.filter(pk=renamed.json()["id"]).update(state=Operation.State.SUCCEEDED)
    url = f"/api/v1/personal-images/{image.id}/"
    assert client.delete(f"{url}?confirm_name=nope", **bearer(secret)).status_code == 400
    deleted = client.delete(f"{url}?confirm_name=gold", **bearer(secret))
    assert deleted.status_code == 202 and deleted.json()["kind"] == "image_delete"


def test_personal_images_still_there_are_listed_before_those_gone(
    client, make_token, mirrored, image_mirrored
):
    from django.utils import timezone

    from dashboard.models import PersonalImage

    _user, secret = make_token("Viewer")
    host = mirrored(status=0)
    gone = image_mirrored(host, "old")
    kept = image_mirrored(host, "new")
    PersonalImage.objects.filter(pk=gone.pk).update(gone_at=timezone.now())
    listed = client.get("/api/v1/personal-images/", **bearer(secret)).json()["results"]
    assert [(row["id"], row["status"]) for row in listed] == [
        (kept.id, "usable"),
        (gone.id, "gone"),
    ]


def test_a_key_replayed_for_another_host_or_name_is_refused_not_mistaken(
    client, make_token, stopped_host, disk_mirrored
):
    user, secret = make_token("Creator", scopes=ALL)
    here, there = stopped_host(owner=user), stopped_host(owner=user)
    disk = disk_mirrored(owner=user)
    url = f"/api/v1/disks/{disk.id}/attach/"
    first = post(client, secret, url, {"host_id": here.id}, key="mount-1")
    assert (
        post(client, secret, url, {"host_id": here.id}, key="mount-1").json()["id"]
        == (first.json()["id"])
    )
    assert post(client, secret, url, {"host_id": there.id}, key="mount-1").status_code == 422
    save = f"/api/v1/hosts/{there.id}/personal-image/"
    assert post(client, secret, save, {"name": "a"}, key="img-1").status_code == 202
    assert post(client, secret, save, {"name": "b"}, key="img-1").status_code == 422
    assert Operation.objects.count() == 2
