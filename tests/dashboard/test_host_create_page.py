"""Creating a host from the catalog: a template's compatible images only, the billing types it
allows, the price computed on the server before the member confirms, one operation per form,
and the answer at once: a card that follows the operation."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from dashboard import services
from dashboard.models import Operation, TeamPolicy

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
KEY = "3f0d5f1e-9a0c-4e86-b7a6-0c1d2e3f4a5b"


def choose(**values) -> dict:
    return {
        "package": "Pi8tcH1NSd",
        "image": "8991",
        "billing": "payg",
        "period_type": "3",
        "period_number": "1",
        "idempotency_key": KEY,
        **values,
    }


def options(html: str, name: str) -> list[str]:
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return re.findall(r'<option value="([^"]*)"', select)


def test_every_template_offers_create_on_the_templates_page(member_client, catalog_cached):
    html = member_client.get("/packages/").content.decode()
    assert html.count('href="/hosts/new/?package=') == 10
    assert 'href="/hosts/new/?package=Pi8tcH1NSd"' in html


def test_the_form_offers_only_compatible_images_and_allowed_billing(member_client, catalog_cached):
    html = member_client.get("/hosts/new/?package=Pi8tcH1NSd").content.decode()  # type BZ
    assert sorted(options(html, "image")) == ["8989", "8990", "8991"]
    assert re.findall(r'name="billing" value="(\w+)"', html) == ["payg", "rental"]
    assert options(html, "period_type") == ["1", "2", "3", "4", "5"]  # no hours any more
    assert "¥4.50 / h" in html  # pay-as-you-go shows the hourly price
    assert re.search(r'name="idempotency_key" value="[0-9a-f-]{36}"', html)

    rental_only = member_client.get("/hosts/new/?package=Ls5QzKd7Vn").content.decode()
    assert re.findall(r'name="billing" value="(\w+)"', rental_only) == ["rental"]
    assert sorted(options(rental_only, "image")) == ["9201", "9202", "9203"]


def test_a_pay_as_you_go_only_template_asks_for_no_rental_period(member_client, catalog_cached):
    payg_only = member_client.get("/hosts/new/?package=Rz7NwXe2Fb").content.decode()
    assert re.findall(r'name="billing" value="(\w+)"', payg_only) == ["payg"]
    assert 'name="period_number"' not in payg_only and "Rental (paid up front)" not in payg_only

    both = member_client.get("/hosts/new/?package=Pi8tcH1NSd").content.decode()
    assert 'name="period_number"' in both and "Rental (paid up front)" in both


def test_the_review_says_an_order_above_the_limit_waits_for_approval(member_client, catalog_cached):
    policy = TeamPolicy.current()
    policy.approval_threshold = Decimal("500.00")
    policy.save()
    rental = choose(billing="rental", period_type="2", period_number="1")  # ¥756.00
    html = member_client.post("/hosts/new/", rental).content.decode()
    assert (
        "¥756.00 is above the team's limit of ¥500.00: once you confirm, the order waits "
        "for another admin's approval. Nothing is bought until then."
    ) in html
    assert "Confirm and ask for approval" in html and "Confirm and buy" not in html

    cheap = member_client.post("/hosts/new/", choose()).content.decode()  # ¥4.50 / h
    assert "approval-notice" not in cheap and "Confirm and buy" in cheap


def test_the_price_is_recomputed_on_the_server_for_each_choice(member_client, catalog_cached):
    response = member_client.get(
        "/hosts/new/price/",
        choose(billing="rental", period_type="3", period_number="2"),
        headers=HTMX,
    )
    html = response.content.decode()
    # 5.00 x 0.9 x 720 hours x 2 months
    assert "¥6,480.00" in html and "¥4.50 / h for 2 months" in html
    html = member_client.get("/hosts/new/price/", choose(), headers=HTMX).content.decode()
    assert "¥4.50 / h" in html and "Total" not in html
    html = member_client.get(
        "/hosts/new/price/", choose(image="9102"), headers=HTMX
    ).content.decode()
    assert "Select a valid choice" in html


def test_review_then_confirm_buys_once_and_answers_with_the_live_card(
    member_client, catalog_cached, dispatched, django_capture_on_commit_callbacks
):
    review = member_client.post(
        "/hosts/new/", choose(billing="rental", period_type="2", period_number="1")
    )
    html = review.content.decode()
    assert "Review the order" in html and "¥756.00" in html  # 4.50 x 168 h
    assert 'name="confirmed_price" value="756.00"' in html
    assert Operation.objects.count() == 0  # nothing bought before the member confirms

    form = choose(billing="rental", period_type="2", period_number="1", confirmed_price="756.00")
    with django_capture_on_commit_callbacks(execute=True):
        response = member_client.post("/hosts/new/", {**form, "confirm": "1"}, headers=HTMX)
        again = member_client.post("/hosts/new/", {**form, "confirm": "1"}, headers=HTMX)
    operation = Operation.objects.get()
    assert operation.kind == "create_rental"
    assert operation.params["total_price"] == "756.00"
    html = response.content.decode()
    assert f'<section id="operation-{operation.pk}" class="operation-card"' in html
    assert f'hx-get="/operations/{operation.pk}/live/?at=' in html
    assert again.status_code == 200 and Operation.objects.count() == 1
    assert len(dispatched) == 1


def test_without_javascript_confirm_redirects_to_the_operation(member_client, catalog_cached):
    response = member_client.post("/hosts/new/", {**choose(confirmed_price="4.50"), "confirm": "1"})
    operation = Operation.objects.get()
    assert response["Location"] == f"/operations/{operation.pk}/"


def test_reloading_the_review_after_buying_shows_the_operation_not_the_buy_button(
    member_client, catalog_cached, django_capture_on_commit_callbacks
):
    review = member_client.post("/hosts/new/", choose())  # the page the browser shows
    assert "Confirm and buy" in review.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        member_client.post(
            "/hosts/new/", {**choose(confirmed_price="4.50"), "confirm": "1"}, headers=HTMX
        )
    operation = Operation.objects.get()

    reloaded = member_client.post("/hosts/new/", choose())  # the browser sends the review again

    assert reloaded.status_code == 302
    assert reloaded["Location"] == f"/operations/{operation.pk}/"
    page = member_client.get(reloaded["Location"]).content.decode()
    assert "This order was already placed" in page
    assert f"state-{operation.state}" in page and "Confirm and buy" not in page
    assert Operation.objects.count() == 1


def test_another_members_key_is_not_theirs_to_see(
    member_client, make_member, catalog_cached, client
):
    member_client.post("/hosts/new/", {**choose(confirmed_price="4.50"), "confirm": "1"})
    client.force_login(make_member("cleo", "Creator"))
    review = client.post("/hosts/new/", choose())  # the same key, someone else's
    assert review.status_code == 200 and "Confirm and buy" in review.content.decode()


def test_a_price_that_moved_since_the_review_is_not_bought(member_client, catalog_cached):
    html = member_client.post(
        "/hosts/new/", {**choose(confirmed_price="4.00"), "confirm": "1"}
    ).content.decode()
    assert "The price changed since you saw it" in html
    assert 'name="confirmed_price" value="4.50"' in html
    assert Operation.objects.count() == 0


@pytest.mark.parametrize(
    ("values", "error"),
    [
        ({"image": "9102"}, "Select a valid choice"),  # another type: 7005 never sent
        ({"billing": "rental", "period_number": ""}, "Required for a rental."),
        ({"billing": "rental", "period_type": "0"}, "Select a valid choice"),  # hours: removed
    ],
)
def test_a_choice_the_template_does_not_allow_is_refused_on_the_server(
    member_client, catalog_cached, values, error
):
    html = member_client.post("/hosts/new/", {**choose(**values), "confirm": "1"}).content.decode()
    assert error in html
    assert Operation.objects.count() == 0
    assert catalog_cached.request_count("/v1/pve/open/create") == 0


def test_change_goes_back_to_the_choices(member_client, catalog_cached):
    html = member_client.post("/hosts/new/", {**choose(image="8989"), "edit": "1"}).content.decode()
    assert 'id="create-form"' in html
    assert '<option value="8989" selected>' in html


def test_an_unknown_template_is_a_404_and_a_missing_catalog_is_loading(
    member_client, sim, enqueued
):
    response = member_client.get("/hosts/new/?package=Pi8tcH1NSd")
    assert response.status_code == 200 and "Catalog loading" in response.content.decode()
    assert enqueued == ["dashboard.tasks.refresh_catalog"]


def test_a_template_not_in_the_catalog_is_a_404(member_client, catalog_cached):
    assert member_client.get("/hosts/new/?package=nope").status_code == 404


def test_the_loading_page_shows_the_form_once_the_catalog_arrives(member_client, sim):
    url = "/hosts/new/?package=Pi8tcH1NSd"
    headers = {**HTMX, "HX-Target": "catalog"}  # the "loading" box asking again
    poll = member_client.get(url, headers=headers)
    assert poll.content.decode().lstrip().startswith('<div id="catalog">')
    services.catalog_refresh()
    assert member_client.get(url, headers=headers)["HX-Refresh"] == "true"
