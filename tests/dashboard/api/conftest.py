"""Fixtures for the API's tests: members with tokens, and requests made with them."""

from __future__ import annotations

import pytest

from dashboard.services import tokens

PACKAGE, IMAGE = "Pi8tcH1NSd", "8991"  # a pay-as-you-go template of the simulator's, and an image


@pytest.fixture
def make_token(make_member):
    """make_token("Operator", scopes=("read", "operate")) -> (member, token secret). A member
    of that role (a new one each call, unless `user` is given)."""
    made = iter(range(1, 1000))

    def make(role: str | None = None, *, scopes=("read",), user=None, days=30, name="script"):
        if user is None:
            user = make_member(
                f"{(role or 'norole').lower()}{next(made)}", *([role] if role else [])
            )
        new = tokens.token_create(user=user, name=name, scopes=scopes, days=days)
        return user, new.secret

    return make


def bearer(secret: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


@pytest.fixture
def disk_mirrored(sim):
    """Put a cloud disk in the simulator and mirror it, as a sync would; `owner` as if their
    create had made it."""
    from dashboard.models import Disk
    from dashboard.services.disk_sync import disk_mirror_save
    from dashboard.upstream import get_client

    def mirrored(*, owner=None, **overrides) -> Disk:
        upstream = sim.fleet.storage.add_disk(**overrides)
        disk = disk_mirror_save(disk=get_client().get_disk(upstream.id))
        if owner is not None:
            Disk.objects.filter(pk=disk.pk).update(owner=owner, owner_name=owner.username)
        return Disk.objects.get(pk=disk.pk)

    return mirrored


@pytest.fixture
def image_mirrored(sim):
    """Put a usable personal image of `host` in the simulator and mirror it, as a sync would."""
    from dashboard.models import PersonalImage
    from dashboard.services.image_sync import images_mirror_save
    from dashboard.upstream import get_client
    from vmclient.types import PersonalImageStatus

    def mirrored(host, name: str, *, owner=None) -> PersonalImage:
        upstream = sim.fleet.storage.put_image(
            sim.fleet.hosts[host.id],
            name,
            status=PersonalImageStatus.USABLE,
            create_time=sim.clock.now_ms(),
        )
        images_mirror_save(get_client().list_every_personal_image().items, complete=False)
        if owner is not None:
            PersonalImage.objects.filter(pk=str(upstream.id)).update(
                owner=owner, owner_name=owner.username
            )
        return PersonalImage.objects.get(pk=str(upstream.id))

    return mirrored


@pytest.fixture
def stopped_host(mirrored, sim):
    """mirrored(...) for a pay-as-you-go host in South China that is off and ran before (a disk
    may be mounted on it)."""
    yesterday = sim.clock.now_ms() - 86_400_000

    def stopped(**overrides):
        return mirrored(status=0, area=0, create_time=yesterday, **overrides)

    return stopped
