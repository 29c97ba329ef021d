"""Page views read only the mirror and the cache: rendering any page or partial makes no call
to the upstream, however many hosts there are and whatever state they are in."""

from __future__ import annotations

import pytest

from dashboard import services
from dashboard.models import Disk, Host, PersonalImage
from vmclient.types import HostStatus

pytestmark = pytest.mark.django_db


def test_rendering_every_page_and_partial_makes_no_upstream_request(
    member, member_client, make_simulator, point_client_at
):
    sim = point_client_at(make_simulator(hosts=200))
    assert services.hosts_sync().ok
    assert services.catalog_refresh() is not None
    linux = Host.objects.exclude(operating_system__istartswith="windows").first()
    windows = Host.objects.filter(operating_system__istartswith="windows").exclude(address="")
    windows = windows.first()
    changing = list(Host.objects.changing()[:5])
    assert changing, "the seeded fleet has hosts booting, charging or shutting down"
    versions = ",".join(f"{h.id}:{h.version - 1}" for h in changing)
    htmx = {"HX-Request": "true"}
    disk = Disk.objects.mounted().first()
    assert disk is not None, "the seeded fleet has disks mounted on pay-as-you-go hosts"
    free = Disk.objects.filter(host__isnull=True).first() or disk
    # Theirs, so that the pages that only an owner may open (destroy, delete) render too.
    Disk.objects.filter(pk__in=[disk.pk, free.pk]).update(owner=member, owner_name="member")
    Host.objects.filter(pk=disk.host_id).update(owner=member, owner_name="member")
    image = PersonalImage.objects.usable().first()
    assert image is not None, "the seeded account has a usable personal image"
    PersonalImage.objects.filter(pk=image.pk).update(owner=member, owner_name="member")
    package = services.catalog_refresh()["packages"][0].package_id
    sim.clear_request_log()

    urls = [
        ("/hosts/", {}),
        ("/hosts/?q=render&status=running&area=south-china&billing=rental&sort=-gpu", {}),
        ("/hosts/?page=2&sort=expires", htmx),
        ("/hosts/?status=changing", {}),
        (f"/hosts/live/?v={versions}", htmx),
        (f"/hosts/live/?v={versions}&at=0", htmx),
        (f"/hosts/{linux.id}/", {}),
        (f"/hosts/{windows.id}/", {}),
        (f"/hosts/{windows.id}/connect.rdp", {}),
        (f"/hosts/{changing[0].id}/live/?v=0", htmx),
        ("/packages/", {}),
        ("/packages/?billing=rental", htmx),
        ("/images/", {}),
        ("/sync/wait/?s=0", htmx),
        ("/disks/", {}),
        ("/disks/?status=in-use&area=south-china&owner=mine&mounted=yes", {}),
        ("/disks/?mounted=no", htmx),
        ("/disks/live/?at=0", htmx),
        ("/disks/new/", {}),
        (f"/disks/{disk.id}/", {}),
        (f"/disks/{free.id}/", {}),
        (f"/disks/{disk.id}/live/?at=0", htmx),
        (f"/disks/{free.id}/destroy/", {}),
        (f"/hosts/{disk.host_id}/", {}),
        (f"/hosts/{disk.host_id}/delete/", {}),
        ("/images/personal/live/?at=0", htmx),
        (f"/images/personal/{image.id}/", {}),
        (f"/images/personal/{image.id}/live/?at=0", htmx),
        (f"/images/personal/{image.id}/delete/", {}),
        (f"/hosts/{disk.host_id}/image/", {}),
        (f"/hosts/new/?package={package}", {}),
    ]
    for url, headers in urls:
        response = member_client.get(url, headers=headers)
        assert response.status_code in (200, 204, 286), url

    assert sim.request_count() == 0
    assert Host.objects.filter(status__in=[s.value for s in HostStatus if s.is_changing]).exists()
