"""Refusals cost an anonymous client nothing to cause, and the audit trail can never shrink: an
anonymous post without a security token is a log line each, and only the first from an address
in a while becomes a row. A signed-in member's refusals stay one row each."""

from __future__ import annotations

import logging

import pytest
from django.test import Client

from dashboard.models import AuditEvent
from dashboard.services import audit
from tests.dashboard.cache_down import cache_unreachable
from vmclient.types import HostStatus

pytestmark = pytest.mark.django_db


def refusals() -> int:
    return AuditEvent.objects.filter(action=AuditEvent.Action.ACCESS_DENIED).count()


def test_two_hundred_anonymous_posts_without_a_token_leave_one_row(make_host, caplog):
    host = make_host(status=HostStatus.RUNNING)
    anonymous = Client(enforce_csrf_checks=True)
    targets = [f"/hosts/{host.id}/actions/reboot/", "/accounts/login/", "/sync/"]

    with caplog.at_level(logging.WARNING, logger="dashboard.services.audit"):
        answers = [anonymous.post(targets[n % 3], {"x": n}) for n in range(200)]

    assert {answer.status_code for answer in answers} == {403}
    assert refusals() == 1
    event = AuditEvent.objects.get()
    assert event.actor is None and event.ip == "127.0.0.1" and "CSRF" in event.summary
    logged = [r for r in caplog.records if r.getMessage().startswith("anonymous request from")]
    assert len(logged) == 200
    assert "127.0.0.1" in logged[0].getMessage() and "CSRF" in logged[0].getMessage()


def test_each_address_gets_a_row_and_the_window_has_a_ceiling(db, monkeypatch):
    monkeypatch.setattr(audit, "ANONYMOUS_REFUSAL_ROWS_PER_WINDOW", 3)
    for n in range(6):
        Client(enforce_csrf_checks=True, REMOTE_ADDR=f"198.51.100.{n}").post("/accounts/login/")
        Client(enforce_csrf_checks=True, REMOTE_ADDR=f"198.51.100.{n}").post("/accounts/login/")
    assert sorted(AuditEvent.objects.values_list("ip", flat=True)) == [
        "198.51.100.0",
        "198.51.100.1",
        "198.51.100.2",
    ]


def test_a_members_refusals_are_each_audited(make_member, make_host):
    host = make_host(status=HostStatus.RUNNING)
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_member("oli", "Operator"))
    for _ in range(3):
        assert client.post(f"/hosts/{host.id}/actions/reboot/").status_code == 403
    assert refusals() == 3
    names = AuditEvent.objects.filter(action=AuditEvent.Action.ACCESS_DENIED)
    assert set(names.values_list("actor_name", flat=True)) == {"oli"}


def test_anonymous_refusals_are_still_refused_with_the_cache_down(db, redis_server, caplog):
    with cache_unreachable(redis_server), caplog.at_level(logging.WARNING):
        answer = Client(enforce_csrf_checks=True).post("/accounts/login/")
    assert answer.status_code == 403
    assert refusals() == 0
    assert any("cache is unreachable" in r.getMessage() for r in caplog.records)
