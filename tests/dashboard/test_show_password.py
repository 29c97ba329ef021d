""" "Show password" against a provider that does not answer: the page answers within
XDS_PASSWORD_TIMEOUT, below the web server's request timeout, with a message that says so."""

from __future__ import annotations

import re
import time

import pytest

from dashboard.models import AuditEvent
from vmclient.simulator import Fault

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def test_show_password_gives_up_before_the_web_servers_timeout(
    sim, mirrored, make_member, client, settings
):
    admin = make_member("root", "Admin")
    client.force_login(admin)
    host = mirrored()
    settings.XDS_PASSWORD_TIMEOUT = 1
    settings.XDS_TIMEOUT = 5  # each attempt may wait longer than the page may
    sim.add_fault(Fault(kind="hang", path="/v1/pve/open/one/", seconds=4, times=None))

    started = time.monotonic()
    response = client.post(f"/hosts/{host.id}/password/", headers=HTMX)
    elapsed = time.monotonic() - started

    assert response.status_code == 200
    assert elapsed < 2.5
    text = re.sub(r"\s+", " ", response.content.decode())
    assert "did not answer within 1 s" in text
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.PASSWORD_REVEALED).exists()


def test_the_password_deadline_is_below_gunicorns_timeout(settings):
    from tests.deploy.conftest import ROOT

    config = (ROOT / "deploy" / "gunicorn.conf.py").read_text()
    gunicorn_timeout = int(re.search(r'"GUNICORN_TIMEOUT", (\d+)', config)[1])
    assert gunicorn_timeout > settings.XDS_PASSWORD_TIMEOUT
