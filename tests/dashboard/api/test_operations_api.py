"""Asking for operations through the API: 202 with the operation, the same Idempotency-Key
never buying twice, 409 for a busy host, 429 past the rate, lists in pages with the pages'
filters, and messages in the asked language."""

from __future__ import annotations

import pytest

from dashboard.models import AuditEvent, Operation
from tests.dashboard.api.conftest import IMAGE, PACKAGE, bearer

pytestmark = pytest.mark.django_db

ALL = ("read", "operate", "manage")


def create(client, secret, key="order-1", **body):
    body = {"package_id": PACKAGE, "image_id": IMAGE, "billing": "pay-as-you-go", **body}
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(
        "/api/v1/hosts/", body, content_type="application/json", **headers, **bearer(secret)
    )


def test_a_create_answers_202_with_the_operation_and_is_audited_with_the_token(
    client, make_token, catalog_cached, dispatched, django_capture_on_commit_callbacks
):
    user, secret = make_token("Creator", scopes=ALL, name="pipeline")
    with django_capture_on_commit_callbacks(execute=True):
        response = create(client, secret)
    assert response.status_code == 202
    body = response.json()
    operation = Operation.objects.get()
    assert body["id"] == operation.pk and body["state"] == "queued"
    assert body["kind"] == "create_payg" and body["params"]["package_id"] == PACKAGE
    assert response["Location"] == f"/api/v1/operations/{operation.pk}/"
    assert [call[0] for call in dispatched] == [operation.pk]  # handed to the worker
    event = AuditEvent.objects.get(action=AuditEvent.Action.OPERATION_REQUESTED)
    assert event.actor == user and event.details["api_token"] == "pipeline"
    assert "pipeline" in event.summary


def test_the_same_idempotency_key_gives_back_the_same_operation(
    client, make_token, catalog_cached, dispatched, django_capture_on_commit_callbacks
):
    _user, secret = make_token("Creator", scopes=ALL)
    with django_capture_on_commit_callbacks(execute=True):
        first = create(client, secret, key="k-42")
        again = create(client, secret, key="k-42")
    assert again.status_code == 202 and again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert Operation.objects.count() == 1 and len(dispatched) == 1
    # Another request under the same key is refused, not mistaken for the first.
    other = create(client, secret, key="k-42", image_id="8992")
    assert other.status_code == 422 and Operation.objects.count() == 1
    # Another member's equal key is theirs: a purchase of their own.
    _bob, bobs = make_token("Creator", scopes=ALL)
    assert create(client, bobs, key="k-42").json()["id"] != first.json()["id"]


def test_a_create_without_an_idempotency_key_is_a_400(client, make_token, catalog_cached):
    _user, secret = make_token("Creator", scopes=ALL)
    response = create(client, secret, key=None)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]
    assert not Operation.objects.exists()


def test_a_bad_body_is_a_400_that_says_which_field(client, make_token, catalog_cached):
    _user, secret = make_token("Creator", scopes=ALL)
    response = create(client, secret, billing="rental")  # no period
    assert response.status_code == 400
    assert "period_type" in response.json()["errors"]
    response = create(client, secret, key="k2", package_id="nope")
    assert response.status_code == 409  # the service's refusal, in words
    assert "not in the catalog" in response.json()["detail"]
    assert not Operation.objects.exists()


def test_a_rental_create_with_a_period(client, make_token, catalog_cached):
    _user, secret = make_token("Creator", scopes=ALL)
    response = create(
        client, secret, package_id="Hd4YpQs9Lc", image_id=IMAGE, billing="rental",
        period_type="week", period_number=2,
    )  # fmt: skip
    if response.status_code == 409:  # the template's images differ: take one that fits
        images = client.get("/api/v1/packages/", **bearer(secret)).json()["results"]
        row = next(r for r in images if r["package_id"] == "Hd4YpQs9Lc")
        response = create(
            client, secret, key="k3", package_id="Hd4YpQs9Lc",
            image_id=row["images"][0]["image_id"], billing="rental", period_type="week",
            period_number=2,
        )  # fmt: skip
    assert response.status_code == 202, response.json()
    params = response.json()["params"]
    assert params["billing"] == "rental"
    assert (params["period_type"], params["period_number"]) == ("week", 2)


def test_a_host_busy_with_another_action_is_a_409_naming_it(client, make_token, mirrored):
    _user, secret = make_token("Operator", scopes=ALL)
    host = mirrored()
    first = client.post(f"/api/v1/hosts/{host.id}/power-off/", **bearer(secret))
    assert first.status_code == 202
    busy = client.post(f"/api/v1/hosts/{host.id}/reboot/", **bearer(secret))
    assert busy.status_code == 409
    assert busy.json()["operation"] == first.json()["id"]
    assert "still running" in busy.json()["detail"]
    assert Operation.objects.count() == 1


def test_an_action_the_state_does_not_allow_is_a_409(client, make_token, mirrored):
    _user, secret = make_token("Operator", scopes=ALL)
    host = mirrored(status=0)  # off
    response = client.post(f"/api/v1/hosts/{host.id}/power-off/", **bearer(secret))
    assert response.status_code == 409 and "off" in response.json()["detail"]


def test_an_unknown_host_or_operation_is_a_json_404(client, make_token):
    _user, secret = make_token("Admin", scopes=ALL)
    for response in (
        client.get("/api/v1/hosts/nope/", **bearer(secret)),
        client.post("/api/v1/hosts/nope/power-on/", **bearer(secret)),
        client.get("/api/v1/operations/999/", **bearer(secret)),
        client.get("/api/v1/nothing-here/", **bearer(secret)),
    ):
        assert response.status_code == 404
        assert response.json()["detail"]


def test_a_token_past_its_rate_gets_429_with_retry_after(client, make_token, settings):
    settings.XDS_API_RATE_PER_MINUTE = 3
    _user, secret = make_token("Viewer")
    _other_user, other = make_token("Viewer")
    codes = [client.get("/api/v1/hosts/", **bearer(secret)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    refused = client.get("/api/v1/hosts/", **bearer(secret))
    assert refused.status_code == 429 and 0 < int(refused["Retry-After"]) <= 60
    assert refused.json()["detail"]
    # Per token: another token is not slowed down by this one.
    assert client.get("/api/v1/hosts/", **bearer(other)).status_code == 200


def test_hosts_are_paged_and_filtered_as_on_the_list_page(
    client, make_token, make_hosts, make_member
):
    _viewer, secret = make_token("Viewer")
    make_hosts(3, status=0, billing_type=1)
    make_hosts(2, name="gpu-box")
    first = client.get("/api/v1/hosts/?page_size=2", **bearer(secret)).json()
    assert first["count"] == 5 and len(first["results"]) == 2
    assert first["next"] and first["previous"] is None
    off = client.get("/api/v1/hosts/?status=off", **bearer(secret)).json()
    assert off["count"] == 3 and {h["status"] for h in off["results"]} == {"off"}
    rentals = client.get("/api/v1/hosts/?billing=rental", **bearer(secret)).json()
    assert rentals["count"] == 3 and rentals["results"][0]["billing"] == "rental"
    assert client.get("/api/v1/hosts/?q=gpu-box", **bearer(secret)).json()["count"] == 2
    assert client.get("/api/v1/hosts/?owner=mine", **bearer(secret)).json()["count"] == 0
    bad = client.get("/api/v1/hosts/?status=sideways", **bearer(secret))
    assert bad.status_code == 400 and "status" in bad.json()["errors"]
    # What the member may do on each host is said, as the page's buttons do: nothing, here.
    assert off["results"][0]["actions"] == []


def test_operations_are_listed_filtered_and_worded_in_the_asked_language(
    client, make_token, mirrored
):
    _user, secret = make_token("Operator", scopes=ALL)
    host = mirrored()
    client.post(f"/api/v1/hosts/{host.id}/power-off/", **bearer(secret))
    Operation.objects.update(state=Operation.State.CANCELLED)
    from dashboard.wording import said, stored

    Operation.objects.update(**stored(said("cancelled", name="someone")))
    listed = client.get("/api/v1/operations/?kind=power_off", **bearer(secret)).json()
    assert listed["count"] == 1 and listed["results"][0]["host_id"] == host.id
    assert client.get("/api/v1/operations/?kind=reboot", **bearer(secret)).json()["count"] == 0
    operation_id = listed["results"][0]["id"]
    english = client.get(f"/api/v1/operations/{operation_id}/", **bearer(secret)).json()
    chinese = client.get(
        f"/api/v1/operations/{operation_id}/", HTTP_ACCEPT_LANGUAGE="zh-CN", **bearer(secret)
    ).json()
    assert english["message"] and chinese["message"] and english["message"] != chinese["message"]
    assert english["timeline"][0]["event"] == "requested"
    assert english["timeline"][0]["label"] != chinese["timeline"][0]["label"]
    # Errors too come in the asked language.
    zh = client.get("/api/v1/hosts/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    en = client.get("/api/v1/hosts/", HTTP_ACCEPT_LANGUAGE="en")
    assert zh.status_code == en.status_code == 401
    assert zh.json()["detail"] != en.json()["detail"]


def test_packages_and_images_come_from_the_catalog(client, make_token, catalog_cached):
    _user, secret = make_token("Viewer")
    packages = client.get("/api/v1/packages/", **bearer(secret)).json()
    row = next(r for r in packages["results"] if r["package_id"] == PACKAGE)
    assert row["hourly_prices"] and IMAGE in [image["image_id"] for image in row["images"]]
    rentals = client.get("/api/v1/packages/?billing=rental", **bearer(secret)).json()
    assert all("rental" in r["billing"] for r in rentals["results"])
    images = client.get("/api/v1/images/", **bearer(secret)).json()
    assert IMAGE in [image["image_id"] for image in images["results"]]


def test_packages_say_when_the_catalog_is_not_loaded_yet(client, make_token):
    _user, secret = make_token("Viewer")
    response = client.get("/api/v1/packages/", **bearer(secret))
    assert response.status_code == 503 and "not loaded yet" in response.json()["detail"]


def test_a_create_above_the_teams_limit_waits_for_approval(client, make_token, catalog_cached):
    from decimal import Decimal

    from dashboard.models import TeamPolicy

    policy = TeamPolicy.current()
    policy.approval_threshold = Decimal("1.00")
    policy.save()
    _user, secret = make_token("Creator", scopes=ALL)
    response = create(client, secret)  # ¥4.50 an hour
    assert response.status_code == 202
    assert response.json()["state"] == "awaiting"
    assert response.json()["timeline"][-1]["event"] == "approval_needed"


def test_a_price_that_moved_since_it_was_shown_is_not_bought(client, make_token, catalog_cached):
    _user, secret = make_token("Creator", scopes=ALL)
    response = create(client, secret, confirmed_price="0.01")
    assert response.status_code == 409 and "price changed" in response.json()["detail"]
    assert not Operation.objects.exists()
    price = client.get("/api/v1/packages/", **bearer(secret)).json()["results"]
    hourly = next(r for r in price if r["package_id"] == PACKAGE)["hourly_prices"][0]
    assert create(client, secret, key="k9", confirmed_price=hourly).status_code == 202
