"""The upstream secret and a host's password appear in exactly one place: the response of a
"Show password" to a member allowed to see it. Not in the logs (at DEBUG, JSON on stdout too),
not in e-mails, not in the audit trail or any other table, not in Redis (cache and broker),
after the paths that succeed and the paths that fail.

The sentinels are distinctive strings; the upstream is the simulator with that secret, over real
HTTP; the cache and the Celery broker are a redis-server of the test's own, which the operations'
messages go through (their runs are played in this process).
"""

from __future__ import annotations

import json
import logging

import pytest
import redis
from django.core import mail
from django.db import connection

from dashboard import services
from dashboard.models import Operation
from dashboard.upstream import reset_client
from tests.dashboard.workers import own_queue
from vmclient.simulator import Fault
from vmclient.types import HostStatus

# The operations' messages really go to the broker (`real_worker`), to be looked for there.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.real_worker]

SECRET = "SENTINEL-SECRET-7d1c0f"
HOST_PASSWORD = "SENTINEL-HOSTPW-93ab42"
SIGN_IN_PASSWORD = "SENTINEL-SIGNIN-5e6f70"
SENTINELS = (SECRET, HOST_PASSWORD, SIGN_IN_PASSWORD)


@pytest.fixture
def sim(make_simulator, point_client_at):
    """The upstream, with the sentinel as its secret and clear passwords."""
    return point_client_at(
        make_simulator(hosts=0, secret=SECRET, mask_passwords=False, shutdown_seconds=0.5)
    )


@pytest.fixture
def redis_everywhere(redis_server, settings):
    """The cache and the broker on the test's redis-server (db 1 and db 0)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_server.url.replace("/0", "/1"),
        }
    }
    with own_queue(broker_url=redis_server.url):
        yield redis_server
    # Back to a cache in memory before the server stops: the suite's fixtures clear the cache.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def everything_in_redis(url: str) -> str:
    """Every key and every value of every database the server holds, as text."""
    texts = []
    for db in (0, 1):
        client = redis.Redis.from_url(url.replace("/0", f"/{db}"))
        for key in client.scan_iter():
            kind = client.type(key).decode()
            read = {
                "string": client.get,
                "list": lambda k, c=client: c.lrange(k, 0, -1),
                "hash": client.hgetall,
                "set": client.smembers,
                "zset": lambda k, c=client: c.zrange(k, 0, -1),
            }.get(kind, lambda k: b"")
            value = read(key)
            texts.append(repr(key) + repr(value))
    return "\n".join(texts)


def every_table() -> str:
    """Every row of every table of the test database, as text."""
    texts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 (our own table names)
            texts.append(repr(cursor.fetchall()))
    return "\n".join(texts)


def test_no_secret_leaks_on_the_paths_that_work_and_the_paths_that_fail(
    sim, redis_everywhere, mirrored, make_member, client, caplog, capsys, settings
):
    caplog.set_level(logging.DEBUG)
    host = mirrored(status=HostStatus.RUNNING, name="render-01", host_pw=HOST_PASSWORD)
    make_member("ada", "Admin")

    # Signing in: a wrong password first (a sentinel, as if mistyped), then the right one.
    refused = client.post("/accounts/login/", {"username": "ada", "password": SIGN_IN_PASSWORD})
    assert refused.status_code == 200 and "do not match" in refused.text
    assert (
        client.post(
            "/accounts/login/", {"username": "ada", "password": "a-long-test-password"}
        ).status_code
        == 302
    )

    # Pages and a sync (the secret goes to getToken).
    assert services.hosts_sync().ok
    assert client.get("/hosts/").status_code == 200
    assert client.get(f"/hosts/{host.id}/").status_code == 200

    # "Show password": the one place it may appear, then the upstream failing mid-answer with
    # the password in a broken body, and with an HTML error page.
    shown = client.post(f"/hosts/{host.id}/password/", headers={"HX-Request": "true"})
    assert HOST_PASSWORD in shown.text
    assert "no-store" in shown["Cache-Control"]
    broken = f'{{"code": 0, "data": {{"hostPw": "{HOST_PASSWORD}", "hostId": '
    sim.add_fault(Fault(kind="raw", path="/v1/pve/open/one/", body=broken, times=None))
    failed = client.post(f"/hosts/{host.id}/password/", headers={"HX-Request": "true"})
    assert HOST_PASSWORD not in failed.text and "banner-error" in failed.text
    sim.clear_faults()
    sim.add_fault(Fault(kind="html_502", path="/v1/pve/open/one/", times=None))
    assert HOST_PASSWORD not in client.post(f"/hosts/{host.id}/password/").text
    sim.clear_faults()

    # Actions published through the broker, their runs played here as the worker would: one
    # that succeeds, one the upstream refuses (the host is already off by then).
    for action, key in (
        ("power-off", "2c8e9a55-6f0e-4a42-8f43-3f3e8a4b8a11"),
        ("power-on", "2c8e9a55-6f0e-4a42-8f43-3f3e8a4b8a12"),
    ):
        if action == "power-on":  # the account is out of money
            body = '{"code": 6003, "msg": "余额不足", "data": null}'
            sim.add_fault(Fault(kind="raw", path="/v1/pve/open/operate", body=body, times=None))
        client.post(f"/hosts/{host.id}/actions/{action}/", {"idempotency_key": key})
        operation = Operation.objects.latest("id")
        for _ in range(100):
            operation.refresh_from_db()
            if operation.is_final:
                break
            services.operation_run(operation_id=operation.pk, dispatch_id=operation.dispatch_id)
            sim.clock.advance(1.0)
    states = list(Operation.objects.order_by("id").values_list("state", flat=True))
    assert states == ["succeeded", "failed"]

    # The secret rejected: the token call fails, the sync records why.
    settings.XDS_SECRET = SECRET + "-wrong"
    reset_client()
    assert not services.hosts_sync().ok
    settings.XDS_SECRET = SECRET
    reset_client()

    # An admin reads the audit trail and exports it.
    admin = make_member("root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    exported = b"".join(client.get("/admin/dashboard/auditevent/export.csv").streaming_content)
    assert b"password_revealed" in exported

    printed = capsys.readouterr()
    places = {
        "logs": caplog.text + printed.out + printed.err,
        "e-mails": json.dumps([(m.subject, m.body) for m in mail.outbox]),
        "tables": every_table(),
        "redis": everything_in_redis(redis_everywhere.url),
        "audit export": exported.decode(),
    }
    assert "render-01" in places["tables"] and places["redis"]  # they hold something
    for sentinel in SENTINELS:
        for place, text in places.items():
            assert sentinel not in text, f"{sentinel} found in {place}"
