"""The sign-in lockout (django-axes): a name is locked out from one address after
AXES_FAILURE_LIMIT failed sign-ins, the right password included, until the cool-off ends; other
addresses are not; and the address counted is the client's as far as it can be trusted, so a
forged X-Forwarded-For starts no fresh count (dashboard.client_ip)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client, RequestFactory
from django.utils import timezone

from dashboard.client_ip import client_ip, trusted_proxies
from dashboard.models import AuditEvent
from tests.conftest import MEMBER_PASSWORD

pytestmark = pytest.mark.django_db

HOME = "198.51.100.7"
ELSEWHERE = "198.51.100.8"
PROXY = "10.0.0.2"
LOCKED_PAGE = "Too many failed sign-ins"


@pytest.fixture(autouse=True)
def no_trusted_proxies(settings):
    """Whatever the environment says, no proxy is trusted unless a test says so."""
    settings.XDS_TRUSTED_PROXIES = []


def sign_in(client, password, *, ip=HOME, forwarded=None, username="member"):
    extra = {"REMOTE_ADDR": ip}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


def signed_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/hosts/"


def locked(response) -> bool:
    return response.status_code == 429 and LOCKED_PAGE in response.content.decode()


def fail_until_locked(settings, client, **where):
    """AXES_FAILURE_LIMIT wrong passwords: refused as wrong until the last, which locks."""
    responses = [
        sign_in(client, "wrong-password", **where) for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    for response in responses[:-1]:
        assert response.status_code == 200 and "do not match" in response.content.decode()
    assert locked(responses[-1])


def test_after_the_limit_even_the_right_password_is_refused_from_that_address(
    settings, client, member
):
    assert settings.AXES_FAILURE_LIMIT >= 2
    fail_until_locked(settings, client)

    response = sign_in(client, MEMBER_PASSWORD)
    assert locked(response)
    assert client.get("/hosts/").status_code == 302  # not signed in
    assert not AuditEvent.objects.filter(action="signed_in").exists()
    lockout = AuditEvent.objects.filter(action="locked_out").first()
    assert lockout is not None
    assert lockout.actor_name == "member" and lockout.ip == HOME
    failed = AuditEvent.objects.filter(action="sign_in_failed", ip=HOME, actor_name="member")
    assert failed.count() >= settings.AXES_FAILURE_LIMIT

    # The same name from another address is not locked out.
    elsewhere = Client()
    assert signed_in(sign_in(elsewhere, MEMBER_PASSWORD, ip=ELSEWHERE))
    assert elsewhere.get("/hosts/").status_code == 200


def test_one_failure_short_of_the_limit_the_right_password_still_works(settings, client, member):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "wrong-password").status_code == 200
    assert signed_in(sign_in(client, MEMBER_PASSWORD))
    assert not AuditEvent.objects.filter(action="locked_out").exists()


def test_a_forged_forwarded_header_from_an_untrusted_address_starts_no_fresh_count(
    settings, client, member
):
    # Each failure claims to come from somewhere else; they all count against the sender.
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "wrong-password", forwarded=f"192.0.2.{n + 1}")
    response = sign_in(client, MEMBER_PASSWORD, forwarded="192.0.2.200")
    assert locked(response)
    assert signed_in(sign_in(Client(), MEMBER_PASSWORD, ip=ELSEWHERE))
    assert set(AuditEvent.objects.filter(action="sign_in_failed").values_list("ip", flat=True)) == {
        HOME
    }
    lockouts = AuditEvent.objects.filter(action="locked_out")
    assert lockouts.exists() and set(lockouts.values_list("ip", flat=True)) == {HOME}


def test_behind_a_trusted_proxy_the_forwarded_client_is_the_one_counted_and_recorded(
    settings, client, member
):
    settings.XDS_TRUSTED_PROXIES = trusted_proxies(["10.0.0.0/8"])
    fail_until_locked(settings, client, ip=PROXY, forwarded="203.0.113.5")

    assert locked(sign_in(client, MEMBER_PASSWORD, ip=PROXY, forwarded="203.0.113.5"))
    # The same client through another proxy of the chain is still the same client.
    assert locked(
        sign_in(client, MEMBER_PASSWORD, ip="10.9.9.9", forwarded="203.0.113.5, 10.0.0.3")
    )
    lockouts = AuditEvent.objects.filter(action="locked_out")
    assert lockouts.exists()
    assert set(lockouts.values_list("ip", "actor_name")) == {("203.0.113.5", "member")}
    failed_from = AuditEvent.objects.filter(action="sign_in_failed").values_list("ip", flat=True)
    assert set(failed_from) == {"203.0.113.5"}

    # Another client behind the same proxy is not locked out, and is recorded as itself.
    other = Client()
    assert signed_in(sign_in(other, MEMBER_PASSWORD, ip=PROXY, forwarded="203.0.113.6"))
    assert AuditEvent.objects.get(action="signed_in").ip == "203.0.113.6"


def test_the_lockout_ends_after_the_cool_off(settings, client, member, monkeypatch):
    """Axes stamps each attempt with its `now()` and counts those newer than that minus
    AXES_COOLOFF_TIME (the configured 15 minutes here): its clock is moved on, not the setting.
    A try while locked out is an attempt too, so the wait counts from the last try."""
    import axes.handlers.proxy

    fail_until_locked(settings, client)
    real_now = timezone.now
    cool_off = settings.AXES_COOLOFF_TIME

    def clock(after: timedelta):
        monkeypatch.setattr(axes.handlers.proxy, "now", lambda: real_now() + after)

    last_try = cool_off - timedelta(minutes=1)
    clock(last_try)
    assert locked(sign_in(client, MEMBER_PASSWORD))

    clock(last_try + cool_off + timedelta(minutes=1))
    assert signed_in(sign_in(client, MEMBER_PASSWORD))


def test_the_lockout_ends_after_a_short_cool_off_in_real_time(settings, client, member):
    import time

    settings.AXES_COOLOFF_TIME = timedelta(seconds=2)
    started = time.monotonic()
    fail_until_locked(settings, client)
    assert locked(sign_in(client, MEMBER_PASSWORD))
    last_try = time.monotonic()
    assert last_try - started < 2, "too slow to observe the lockout before it ended"

    time.sleep(2.3)  # counted from the last try, which was refused
    assert signed_in(sign_in(client, MEMBER_PASSWORD))


# --- dashboard.client_ip -----------------------------------------------------------------------


def request(remote, forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_an_untrusted_peer_is_the_client_whatever_its_header_says(settings):
    assert client_ip(request(HOME, "203.0.113.5")) == HOME
    settings.XDS_TRUSTED_PROXIES = trusted_proxies(["10.0.0.0/8"])
    assert client_ip(request(HOME, "203.0.113.5")) == HOME  # not one of the proxies
    assert client_ip(request(HOME)) == HOME
    assert client_ip(request("2001:db8::7", "203.0.113.5")) == "2001:db8::7"


def test_a_trusted_chain_is_walked_from_the_right_to_the_first_untrusted_address(settings):
    settings.XDS_TRUSTED_PROXIES = trusted_proxies(["10.0.0.0/8", "2001:db8:ffff::/48"])
    assert client_ip(request(PROXY, "203.0.113.5")) == "203.0.113.5"
    # The left part of the header is whatever the client sent: not believed.
    assert client_ip(request(PROXY, "192.0.2.66, 203.0.113.5, 10.0.0.3")) == "203.0.113.5"
    assert client_ip(request(PROXY, "192.0.2.66 ,203.0.113.5,,  10.0.0.3 ")) == "203.0.113.5"
    assert client_ip(request("2001:db8:ffff::1", "2001:db8::9")) == "2001:db8::9"
    # A trusted peer with no header is the client itself.
    assert client_ip(request(PROXY)) == PROXY
    # Only proxies in the chain: the farthest one.
    assert client_ip(request(PROXY, "10.0.0.4, 10.0.0.3")) == "10.0.0.4"


def test_garbage_in_the_header_stops_the_walk(settings):
    settings.XDS_TRUSTED_PROXIES = trusted_proxies(["10.0.0.0/8"])
    assert client_ip(request(PROXY, "203.0.113.5, not-an-address")) == PROXY
    assert client_ip(request(PROXY, "203.0.113.5, garbage, 10.0.0.3")) == "10.0.0.3"
    assert client_ip(request(PROXY, "203.0.113.5, 192.0.2.1:8080")) == PROXY  # with a port
    assert client_ip(request("not-an-address", "203.0.113.5")) is None


def test_trusted_proxies_refuses_what_is_not_an_address_or_network():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        trusted_proxies(["10.0.0.0/33"])
    assert [str(net) for net in trusted_proxies(["10.1.2.3", "10.0.0.0/8"])] == [
        "10.1.2.3/32",
        "10.0.0.0/8",
    ]
