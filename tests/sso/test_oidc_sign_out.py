"""Signing out of the dashboard after signing in through the OpenID provider ends the provider's
session too (RP-initiated logout, at the test provider's end_session_endpoint): on a shared
computer, the next person who clicks "Sign in with Corp ID" meets the provider's password page,
not the last member's account."""

from __future__ import annotations

from urllib.parse import parse_qs, urljoin, urlsplit

import pytest

from dashboard.models import AuditEvent
from tests.conftest import roles_exist
from tests.sso.servers import SIGNED_OUT, ProviderSignIn

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _roles(db):
    roles_exist()


def signed_in(client) -> ProviderSignIn:
    browser = ProviderSignIn(client)
    assert browser.sign_in("alice")["Location"] == "/hosts/"
    return browser


def provider_remembers(browser: ProviderSignIn) -> bool:
    """Whether the provider would sign this browser in again without asking for a password."""
    answer = browser.browser.get(
        browser.to_provider(), allow_redirects=False, timeout=10
    )  # the dashboard's next sign-in, at the provider
    return answer.status_code == 302 and "/accounts/login/" not in answer.headers["Location"]


def test_signing_out_ends_the_providers_session_too(client, oidc_on, oidc_provider):
    browser = signed_in(client)
    assert provider_remembers(browser)

    answer = client.post("/accounts/logout/")
    assert "_auth_user_id" not in client.session
    end_session = answer["Location"]
    assert end_session.startswith(f"{oidc_provider.issuer}/logout/"), end_session
    query = parse_qs(urlsplit(end_session).query)
    assert query["post_logout_redirect_uri"] == [SIGNED_OUT]
    assert query["client_id"] == [oidc_on.OIDC_RP_CLIENT_ID]
    assert query["id_token_hint"][0].count(".") == 2  # the ID token the sign-in got

    at_provider = browser.browser.get(end_session, allow_redirects=False, timeout=10)
    assert at_provider.status_code == 302, at_provider.text[:300]
    assert at_provider.headers["Location"] == SIGNED_OUT  # back on the sign-in page
    assert not provider_remembers(browser)
    assert AuditEvent.objects.filter(action=AuditEvent.Action.SIGNED_OUT).count() == 1


def test_a_member_who_signed_in_with_a_password_signs_out_here_only(client, oidc_on, make_member):
    client.force_login(make_member("bob", "Operator"))
    answer = client.post("/accounts/logout/")
    assert answer["Location"] == "/accounts/login/"


def test_with_sign_out_at_the_provider_off_the_providers_session_stays(client, oidc_on):
    oidc_on.XDS_OIDC_SIGN_OUT_AT_PROVIDER = False
    browser = signed_in(client)
    assert client.post("/accounts/logout/")["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in client.session
    assert provider_remembers(browser)


def test_a_provider_with_no_end_session_endpoint_signs_out_here_only(client, oidc_on, monkeypatch):
    from dashboard.sso import oidc

    browser = signed_in(client)
    document = oidc.discovery_document(oidc_on.XDS_OIDC_ISSUER)
    monkeypatch.setitem(
        oidc._discovered,
        oidc_on.XDS_OIDC_ISSUER,
        {key: value for key, value in document.items() if key != "end_session_endpoint"},
    )
    answer = client.post("/accounts/logout/")
    assert answer["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in client.session
    assert provider_remembers(browser)


def test_a_provider_that_cannot_be_reached_at_sign_out_is_said(client, oidc_on, monkeypatch):
    from dashboard.sso import oidc

    signed_in(client)
    monkeypatch.setattr(oidc, "_discovered", {})  # asked again, at an issuer that is gone
    oidc_on.XDS_OIDC_ISSUER = "http://127.0.0.1:9/o"
    answer = client.post("/accounts/logout/", follow=True)
    assert "_auth_user_id" not in client.session  # signed out here whatever the provider does
    page = answer.content.decode()
    assert "You are signed out of the dashboard, but not of Corp ID" in page


def test_an_end_session_endpoint_on_another_origin_is_not_followed(client, oidc_on, monkeypatch):
    """The pages' form-action names the issuer's origin only: a browser would refuse to follow
    the sign-out form's answer elsewhere, so the dashboard does not send it."""
    signed_in(client)
    oidc_on.XDS_OIDC_END_SESSION_ENDPOINT = "https://elsewhere.example/logout"
    answer = client.post("/accounts/logout/", follow=True)
    assert answer.redirect_chain[0][0] == "/accounts/login/"
    assert "but not of Corp ID" in answer.content.decode()


def test_the_pages_allow_the_sign_out_form_to_go_to_the_provider(client, oidc_on, oidc_provider):
    browser = signed_in(client)
    policy = client.get("/hosts/")["Content-Security-Policy"]
    form_action = next(part for part in policy.split(";") if "form-action" in part)
    assert form_action.split() == ["form-action", "'self'", oidc_provider.base_url]
    assert urljoin(oidc_provider.base_url, "/") in browser.to_provider()
