"""An admin resolves a disk create or a personal image save left "outcome unknown", through the
operation's page: "made disk X" (or image X), chosen among what no create claimed and the mirror
first saw after it was sent, or "nothing was made"; audited; 403 for anyone else."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dashboard.models import AuditEvent, Disk, Operation, PersonalImage

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent():
    """When the unknown create was sent: the mirror had seen everything up to then."""
    return timezone.now() - timedelta(hours=1)


def _unknown(kind, member, sent, **params):
    return Operation.objects.create(
        kind=kind, state="unknown", requested_by=member, requested_by_name=member.username,
        params=params, submitted_at=sent, mirror_watermark=sent, finished_at=sent,
        message="The answer was lost: it may have made it.",
    )  # fmt: skip


def _disk(id, seen, name=""):
    return Disk.objects.create(
        id=id, name=name, size_gb=40, area=0, status=0, first_seen_at=seen, last_seen_at=seen,
        changed_at=seen, created_at=seen,
    )  # fmt: skip


def _image(id, seen, name):
    return PersonalImage.objects.create(
        id=id, name=name, first_seen_at=seen, last_seen_at=seen, changed_at=seen, created_at=seen
    )


@pytest.fixture
def disk_unknown(member, sent):
    return _unknown("disk_create", member, sent, area=0, size_gb=40)


@pytest.fixture
def image_unknown(member, sent):
    return _unknown("image_create", member, sent, name="golden")


def resolve(client, operation, **data):
    return client.post(f"/operations/{operation.pk}/resolve/", data, follow=True)


def test_an_admin_resolves_a_disk_create_as_made_disk_x(client, ada, member, sent, disk_unknown):
    new = _disk("dk-new", sent + timedelta(minutes=5), name="data-01")
    known = _disk("dk-old", sent - timedelta(days=1))  # the mirror had it before: not this one
    taken = _disk("dk-taken", sent + timedelta(minutes=6))
    Operation.objects.create(
        kind="disk_create", state="succeeded", requested_by_name="x", disk_id=taken.id
    )
    gone = _disk("dk-gone", sent + timedelta(minutes=7))
    Disk.objects.filter(pk=gone.pk).update(gone_at=timezone.now())
    client.force_login(ada)

    page = client.get(f"/operations/{disk_unknown.pk}/").content.decode()
    assert f'action="/operations/{disk_unknown.pk}/resolve/"' in page
    assert "It made this disk:" in page
    assert f'value="{new.id}"' in page
    for other in (known, taken, gone):
        assert f'value="{other.id}"' not in page

    refused = resolve(client, disk_unknown, outcome="made", disk=taken.id, reason="console")
    assert "This disk is not one the create may have made" in refused.content.decode()
    disk_unknown.refresh_from_db()
    assert disk_unknown.state == "unknown"

    resolve(client, disk_unknown, outcome="made", disk=new.id, reason="in the console, 40 GB")
    disk_unknown.refresh_from_db()
    assert disk_unknown.state == "succeeded" and disk_unknown.disk_id == new.id
    assert disk_unknown.message == (
        "The create made disk data-01 (dk-new), as ada found: in the console, 40 GB"
    )
    new.refresh_from_db()
    assert new.owner == member and new.owner_name == "member"
    event = AuditEvent.objects.get(action="operation_resolved")
    assert event.actor == ada and event.operation_id == disk_unknown.pk
    assert event.details == {"outcome": "made", "reason": "in the console, 40 GB", "disk": new.id}
    assert event.summary.startswith("Disk create #") and "made disk data-01" in event.summary

    # Claimed now: another unknown create no longer offers it.
    other = _unknown("disk_create", member, sent, area=0, size_gb=40)
    page = client.get(f"/operations/{other.pk}/").content.decode()
    assert f'value="{new.id}"' not in page and "no new disk that no create claimed" in page


def test_an_admin_resolves_a_disk_create_as_nothing_made(client, ada, disk_unknown):
    client.force_login(ada)
    resolve(client, disk_unknown, outcome="nothing", reason="no such disk in the console")
    disk_unknown.refresh_from_db()
    assert disk_unknown.state == "failed" and disk_unknown.disk_id is None
    assert disk_unknown.message == ("Nothing was made, as ada found: no such disk in the console")
    assert disk_unknown.message_in("zh-hans").startswith("未创建任何东西")
    event = AuditEvent.objects.get(action="operation_resolved")
    assert event.details == {
        "outcome": "nothing", "reason": "no such disk in the console", "disk": ""
    }  # fmt: skip


def test_an_admin_resolves_an_image_save_either_way(client, ada, member, sent, image_unknown):
    new = _image("im-new", sent + timedelta(minutes=3), "golden")
    taken = _image("im-taken", sent + timedelta(minutes=4), "silver")
    Operation.objects.create(
        kind="image_create", state="succeeded", requested_by_name="x", image_id=taken.id
    )
    client.force_login(ada)

    page = client.get(f"/operations/{image_unknown.pk}/").content.decode()
    assert "It made this personal image:" in page
    assert f'value="{new.id}"' in page and f'value="{taken.id}"' not in page
    assert "reason" in page and "Nothing was made" in page

    missing = resolve(client, image_unknown, outcome="made", image="", reason="console")
    assert "Choose the personal image it made." in missing.content.decode()

    resolve(client, image_unknown, outcome="made", image=new.id, reason="listed in the console")
    image_unknown.refresh_from_db()
    assert image_unknown.state == "succeeded" and image_unknown.image_id == new.id
    assert "made personal image golden (im-new)" in image_unknown.message
    new.refresh_from_db()
    assert new.owner == member
    event = AuditEvent.objects.get(action="operation_resolved")
    assert event.details == {"outcome": "made", "reason": "listed in the console", "image": new.id}

    # Another save, nothing made.
    other = _unknown("image_create", member, sent, name="bronze")
    resolve(client, other, outcome="nothing", reason="not in the console")
    other.refresh_from_db()
    assert other.state == "failed" and other.image_id is None
    assert AuditEvent.objects.filter(action="operation_resolved").count() == 2


def test_only_an_admin_may_resolve_a_disk_or_image(
    client, member, make_member, sent, disk_unknown, image_unknown
):
    disk = _disk("dk-new", sent + timedelta(minutes=5))
    image = _image("im-new", sent + timedelta(minutes=5), "golden")
    for person in (member, make_member("bob", "Operator")):  # the requester, an operator
        client.force_login(person)
        for operation, data in (
            (disk_unknown, {"outcome": "made", "disk": disk.id, "reason": "mine"}),
            (image_unknown, {"outcome": "made", "image": image.id, "reason": "mine"}),
        ):
            assert "/resolve/" not in client.get(f"/operations/{operation.pk}/").content.decode()
            response = client.post(f"/operations/{operation.pk}/resolve/", data)
            assert response.status_code == 403
    for operation in (disk_unknown, image_unknown):
        operation.refresh_from_db()
        assert operation.state == "unknown"
    assert Disk.objects.get(pk=disk.pk).owner is None
    assert PersonalImage.objects.get(pk=image.pk).owner is None
    assert not AuditEvent.objects.filter(action="operation_resolved").exists()


def test_a_wrong_outcome_for_a_disk_create_is_refused(client, ada, sent, disk_unknown):
    disk = _disk("dk-new", sent + timedelta(minutes=5))
    client.force_login(ada)
    response = resolve(client, disk_unknown, outcome="bought", disk=disk.id, reason="r")
    assert "it made this one, or nothing was made" in response.content.decode()
    disk_unknown.refresh_from_db()
    assert disk_unknown.state == "unknown"
