"""Every page and every API endpoint, asked with junk: no answer is a server error.

The routes are read from the URL configuration, so a page added later is asked too. Each is
asked as an account holding every role (the one that reaches the most code): by GET with query
strings that are out of range, malformed, repeated or huge, with and without htmx; by POST with
form values of the wrong type; the API also by every method with JSON of the wrong shape. A
member who types a bad URL, or a script that sends a bad body, gets a 4xx that says so.

Only Django's own admin is left to Django, and /healthz, which answers 503 by design while no
worker runs."""

from __future__ import annotations

import itertools
import re
import uuid
from datetime import time, timedelta

import pytest
from django.urls import URLResolver, get_resolver
from django.utils import timezone

from dashboard.models import Budget, Disk, Lease, Operation, PersonalImage, PowerSchedule
from dashboard.services.tokens import token_create

pytestmark = pytest.mark.django_db

QUERIES = [
    "",
    "?page=-1&sort=%00&status=zzz&q=%ff%fe&owner=abc&label=%27%22%3Cx%3E&area=999&kind=nope",
    "?page=99999999999999999999&per_page=0&month=2026-13&from=x&to=1e999&days=-5&format=xml",
    "?page=1.5&page=2&sort=price&sort=-price&state=&month=9999-99&host=" + "a" * 3000,
]
FORM_JUNK = {
    "confirm": "x" * 3000,
    "name": "\x00",
    "count": "-1",
    "amount": "1e999",
    "hours": "nan",
    "at": "25:61",
    "weekdays": "789",
    "monthly_amount": "-0.001",
    "next": "//evil.example/",
    "ids": ["", "x", "0" * 200],
}
JSON_JUNK = [
    "garbage{",
    "[]",
    "null",
    '"a string"',
    '{"package_id": 1e999, "count": -1, "params": [], "area": "south", "billing": null}',
    '{"name": {"a": 1}, "host": [], "host_id": 5, "disk_id": false, "confirm": true}',
]
NOT_OURS = ("admin/", "healthz")


def _routes(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern)


def _urls(values: dict[str, list]) -> list[str]:
    """Every route with each of its parameters filled in by each of its values."""
    urls = []
    for route in _routes(get_resolver().url_patterns):
        if route.startswith(NOT_OURS):
            continue
        names = re.findall(r"<(?:\w+:)?(\w+)>", route)
        for combination in itertools.product(*(values[name] for name in names)):
            url = route
            for name, value in zip(names, combination, strict=True):
                url = re.sub(rf"<(?:\w+:)?{name}>", str(value), url, count=1)
            urls.append("/" + url)
    return urls


@pytest.fixture
def everything(make_member, mirrored, storage, synced, catalog_cached, ask):
    """An account with every role, and one of each thing a route can name."""
    root = make_member("root", "Viewer", "Operator", "Creator", "Admin")
    host = mirrored(owner=root)
    storage.add_disk()
    storage.add_image(host.id, "golden")
    synced()
    operation = ask(Operation.Kind.POWER_OFF, host, user=root)
    schedule = PowerSchedule.objects.create(
        host=host,
        action=PowerSchedule.Action.POWER_OFF,
        at=time(20, 0),
        created_by=root,
        created_by_name=root.username,
    )
    lease = Lease.objects.create(
        host=host,
        holder=root,
        holder_name=root.username,
        purpose="render",
        ends_at=timezone.now() + timedelta(hours=2),
    )
    budget = Budget.objects.create(member=root, monthly_amount=100)
    token = token_create(user=root, name="crawl", scopes=["read", "operate", "manage"])
    values = {
        "host_id": [host.id, "no-such-host"],
        "disk_id": [Disk.objects.get().id, "no-such-disk"],
        "image_id": [PersonalImage.objects.get().id, "no-such-image"],
        "operation_id": [operation.pk, 2**63],
        "schedule_id": [schedule.pk, 2**40],
        "lease_id": [lease.pk, 2**40],
        "budget_id": [budget.pk, 2**40],
        "token_id": [token.token.pk, 2**63],
        "action": ["power_off", "no-such-action"],
        "batch": [uuid.uuid4()],
    }
    return root, token.secret, _urls(values)


def test_no_page_answers_junk_with_a_server_error(client, everything, settings):
    settings.XDS_API_RATE_PER_MINUTE = 10**9  # the API is asked far more than a minute allows
    root, secret, urls = everything
    client.force_login(root)
    client.raise_request_exception = False
    failed = []

    def ask(method, url, *args, **kwargs):
        response = getattr(client, method)(url, *args, **kwargs)
        if response.status_code >= 500:
            failed.append((method, url[:120], args[:1], response.status_code))

    for url in urls:
        if url.startswith("/api/"):
            bearer = {"Authorization": f"Bearer {secret}"}
            for query in QUERIES:
                ask("get", url + query, headers=bearer)
            for body, method in itertools.product(JSON_JUNK, ("post", "put", "patch", "delete")):
                key = {"Idempotency-Key": str(uuid.uuid4())}
                ask(method, url, body, content_type="application/json", headers=bearer | key)
        else:
            for query, htmx in itertools.product(QUERIES, ({}, {"HX-Request": "true"})):
                ask("get", url + query, headers=htmx)
            ask("post", url, FORM_JUNK)
            ask("post", url, JSON_JUNK[0], content_type="application/json")

    assert len(urls) > 100  # the routes were found: every page, each with a real and a bad id
    assert failed == []
