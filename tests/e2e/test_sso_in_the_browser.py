"""Single sign-on in a real browser: "Sign in with Corp ID" on the sign-in page, the provider's
own sign-in page (the test provider, in its process), and back on the dashboard signed in, with
the role the directory's group maps to. The cookies and redirects are the browser's own: the
provider's answer comes back as a cross-site navigation, which the session cookie must
survive."""

from __future__ import annotations

import pytest

from dashboard.models import AuditEvent
from tests.conftest import roles_exist
from tests.sso.servers import provider_password

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_member_signs_in_through_the_provider_in_the_browser(page, live_server, oidc_on):
    roles_exist()
    # At a loopback address: the provider accepts any port of it in the redirect URI.
    dashboard = live_server.url.replace("//localhost:", "//127.0.0.1:")
    page.goto(f"{dashboard}/operations/")  # the sign-in page, then back here
    page.get_by_role("link", name="Sign in with Corp ID").click()
    page.wait_for_url(f"{oidc_on.XDS_OIDC_ISSUER.rsplit('/o', 1)[0]}/accounts/login/**")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", provider_password("alice"))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{dashboard}/operations/")
    assert "Operations" in page.title()
    event = AuditEvent.objects.get(action=AuditEvent.Action.SIGNED_IN)
    assert event.summary == "alice signed in through Corp ID"


def test_logging_out_in_the_browser_signs_out_at_the_provider_too(page, live_server, oidc_on):
    """The sign-out form's answer sends the browser to the provider (which the pages'
    Content-Security-Policy form-action must allow), and the provider sends it back to the
    sign-in page; signing in through the provider then asks for the password again."""
    roles_exist()
    dashboard = live_server.url.replace("//localhost:", "//127.0.0.1:")
    provider_login = f"{oidc_on.XDS_OIDC_ISSUER.rsplit('/o', 1)[0]}/accounts/login/**"
    page.goto(f"{dashboard}/hosts/")
    page.get_by_role("link", name="Sign in with Corp ID").click()
    page.wait_for_url(provider_login)
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", provider_password("alice"))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{dashboard}/hosts/")

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{dashboard}/accounts/login/")  # a blocked form fails the test (conftest)
    page.get_by_role("link", name="Sign in with Corp ID").click()
    page.wait_for_url(provider_login)  # the provider asks again: its session ended
    assert page.locator("input[name=password]").is_visible()
