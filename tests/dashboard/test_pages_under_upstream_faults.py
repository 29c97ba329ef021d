"""Whatever way the upstream fails (slow, an HTML error page, broken JSON, a dropped
connection), members keep working from the mirror: every page renders with the hosts it had,
and the banner says what went wrong in words, with the trace id when there is one."""

from __future__ import annotations

import dataclasses

import pytest
from django.utils.html import escape

from dashboard import services
from dashboard.models import Host
from dashboard.upstream import build_client
from dashboard.wording import error_words
from vmclient.simulator import Fault

pytestmark = pytest.mark.django_db

PAGES = ["/hosts/", "/packages/", "/images/", "/operations/"]


@pytest.mark.parametrize(
    "fault",
    [
        Fault(kind="hang", seconds=1.5, times=None),  # slower than the client's read timeout
        Fault(kind="html_502", times=None),
        Fault(kind="truncated_json", times=None),
        Fault(kind="not_json", times=None),
        Fault(kind="no_code", times=None),
        Fault(kind="drop", times=None),
        Fault(kind="interface_503", times=None),
    ],
    ids=lambda fault: fault.kind,
)
def test_pages_keep_rendering_from_the_mirror_while_the_upstream_fails(
    member_client, sim, fault, settings
):
    kept = sim.fleet.add_host(name="still-here")
    assert services.hosts_sync().ok
    sim.add_fault(dataclasses.replace(fault, path="/v1/pve/open/mypage"))

    result = services.hosts_sync(client=build_client(retries=0, timeout=0.5))

    assert result.error is not None
    assert Host.objects.get(id=kept.id).gone_at is None  # a failed listing deletes nothing
    for url in [*PAGES, f"/hosts/{kept.id}/"]:
        response = member_client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert "still-here" in html or url in ("/packages/", "/images/", "/operations/")
        assert "banner-error" in html, url
        assert escape(error_words(result.error)) in html, url
        if result.error.trace_id:
            assert result.error.trace_id in html
