"""The API's pages in a browser: a member makes a token (shown once, copied from the page) and
reads the API's documentation, Swagger UI from our own static files, under the strict
Content-Security-Policy (a blocked script or style would be a console error, which fails)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from dashboard.models import ApiToken
from dashboard.services.tokens import digest_of
from tests.e2e.conftest import SCREENSHOTS, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_member_makes_a_token_and_reads_the_api_docs(page, live_server, make_member):
    sign_in(page, live_server, make_member("lin", "Creator"))
    page.get_by_role("link", name="API tokens").click()
    page.get_by_label("Name").fill("render farm")
    page.get_by_label("Operate: power on, power off, reboot").check()
    page.get_by_role("button", name="Make the token").click()

    shown = page.locator("#token-secret")
    expect(shown).to_have_text(re.compile(r"^xds_"))
    token = ApiToken.objects.get()
    assert token.digest == digest_of(shown.inner_text()) and token.scopes == ["read", "operate"]
    expect(page.locator(f"#token-{token.pk}")).to_contain_text("render farm")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "tokens-page.png"), full_page=True)

    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.get_by_role("link", name="API documentation").click()
    title = page.locator(".swagger-ui .info .title")
    expect(title).to_contain_text("Xuandashi team dashboard API", timeout=30_000)
    expect(page.locator(".swagger-ui")).to_contain_text("/api/v1/hosts/")
    assert requests and all(url.startswith(live_server.url) for url in requests), requests
