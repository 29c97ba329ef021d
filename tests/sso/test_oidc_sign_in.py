"""Signing in through an OpenID provider, end to end: the test provider (django-oauth-toolkit,
in its own process) signs the member in, the dashboard exchanges the code for tokens over real
HTTP, checks the ID token's signature with the provider's published keys, reads the userinfo,
and makes or finds the account, with the roles the groups map to."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from dashboard.models import AuditEvent
from tests.conftest import MEMBER_PASSWORD, free_port, roles_exist
from tests.sso.servers import ProviderSignIn

pytestmark = pytest.mark.django_db

User = get_user_model()


def roles_of(username: str) -> set[str]:
    return set(User.objects.get(username=username).groups.values_list("name", flat=True))


def test_the_sign_in_page_offers_the_provider_only_when_configured(client, settings):
    settings.XDS_OIDC_ENABLED = False
    page = client.get("/accounts/login/").content.decode()
    assert "Sign in with" not in page
    assert client.get("/oidc/authenticate/").status_code == 404
    assert client.get("/oidc/callback/?code=x&state=y").status_code == 404


def test_the_sign_in_page_offers_sign_in_with_the_provider(client, oidc_on):
    page = client.get("/accounts/login/?next=/operations/").content.decode()
    assert "Sign in with Corp ID" in page
    assert 'href="/oidc/authenticate/?next=/operations/"' in page
    assert 'name="password"' in page  # local accounts keep working


def test_a_new_member_is_made_from_the_claims_with_the_mapped_role(client, provider_sign_in):
    roles_exist()
    answer = provider_sign_in("alice", "/operations/")
    assert answer.status_code == 302 and answer["Location"] == "/operations/"
    alice = User.objects.get(username="alice")
    assert (alice.email, alice.first_name, alice.last_name) == (
        "alice@corp.test",
        "Alice",
        "Liddell",
    )
    assert not alice.has_usable_password()  # no local password: the provider is the way in
    assert roles_of("alice") == {"Operator"}
    assert client.get("/hosts/").status_code == 200
    signed_in = AuditEvent.objects.filter(action=AuditEvent.Action.SIGNED_IN).get()
    assert signed_in.actor == alice
    assert signed_in.summary == "alice signed in through Corp ID"
    assert signed_in.details == {"method": "oidc", "provider": "Corp ID"}
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.ROLE_CHANGED, summary="Role Operator given alice"
    ).exists()


def test_groups_that_map_to_nothing_give_no_role_and_the_page_says_so(client, provider_sign_in):
    roles_exist()
    assert provider_sign_in("carol").status_code == 302
    assert roles_of("carol") == set()
    page = client.get("/hosts/")
    assert page.status_code == 403
    assert "Your account has no role yet" in page.content.decode()


def test_without_a_role_map_a_new_member_has_no_role(client, provider_sign_in, settings):
    roles_exist()
    settings.XDS_OIDC_ROLE_MAP = {}
    assert provider_sign_in("dave").status_code == 302
    assert roles_of("dave") == set()
    assert client.get("/hosts/").status_code == 403


def test_the_map_decides_the_roles_at_every_sign_in(client, provider_sign_in, make_member):
    # Erin's account exists, with roles given by hand; the directory says she is a viewer.
    make_member("erin", "Admin", "Creator")
    assert provider_sign_in("erin").status_code == 302
    assert roles_of("erin") == {"Viewer"}
    taken = AuditEvent.objects.filter(action=AuditEvent.Action.ROLE_CHANGED).values_list(
        "summary", flat=True
    )
    assert {"Role Admin taken from erin", "Role Creator taken from erin"} <= set(taken)
    # The same account, not a second one, and its local password is left as it was.
    assert User.objects.filter(username__iexact="erin").count() == 1


def test_several_groups_give_several_roles(provider_sign_in):
    roles_exist()
    provider_sign_in("dave")
    assert roles_of("dave") == {"Admin", "Operator"}


def test_a_superusers_account_is_never_signed_into_through_the_provider(
    client, provider_sign_in, django_user_model
):
    django_user_model.objects.create_superuser("root", "root@here.test", MEMBER_PASSWORD)
    answer = provider_sign_in("root")
    assert answer.status_code == 302 and answer["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in client.session
    page = client.get("/accounts/login/").content.decode()
    assert "signs in with its own password here, not through Corp ID" in page
    failed = AuditEvent.objects.get(action=AuditEvent.Action.SIGN_IN_FAILED)
    assert failed.details["method"] == "oidc" and failed.details["reason"] == "superuser"
    assert failed.summary == "Sign-in through Corp ID failed: superuser"


def test_a_callback_used_twice_signs_nobody_in_the_second_time(client, oidc_on):
    roles_exist()
    flow = ProviderSignIn(client)
    callback = flow.at_provider(flow.to_provider(), "alice")
    assert flow.back_to_dashboard(callback)["Location"] == "/hosts/"
    client.logout()
    again = flow.back_to_dashboard(callback)
    assert again["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in client.session
    failed = AuditEvent.objects.get(action=AuditEvent.Action.SIGN_IN_FAILED)
    assert failed.details["reason"] == "stale"


def test_a_code_stolen_for_another_browser_is_useless(client, oidc_on, django_user_model):
    """The code comes back to a browser that did not start this sign-in (an attacker's link):
    no state of it in that session, so nothing is exchanged."""
    from django.test import Client

    roles_exist()
    flow = ProviderSignIn(client)
    callback = flow.at_provider(flow.to_provider(), "alice")
    other = ProviderSignIn(Client())
    assert other.back_to_dashboard(callback)["Location"] == "/accounts/login/"
    assert not django_user_model.objects.filter(username="alice").exists()


def test_the_provider_refusing_is_audited_and_said(client, oidc_on):
    flow = ProviderSignIn(client)
    flow.to_provider()
    state = next(iter(client.session["oidc_states"]))
    answer = client.get(f"/oidc/callback/?error=access_denied&state={state}")
    assert answer["Location"] == "/accounts/login/"
    page = client.get("/accounts/login/").content.decode()
    assert "Corp ID did not sign you in" in page
    failed = AuditEvent.objects.get(action=AuditEvent.Action.SIGN_IN_FAILED)
    assert (failed.details["reason"], failed.details["detail"]) == (
        "refused_by_provider",
        "access_denied",
    )


def test_a_wrong_client_secret_fails_the_sign_in_with_a_message(client, oidc_on):
    oidc_on.OIDC_RP_CLIENT_SECRET = "not-the-secret"
    flow = ProviderSignIn(client)
    answer = flow.back_to_dashboard(flow.at_provider(flow.to_provider(), "alice"))
    assert answer["Location"] == "/accounts/login/"
    assert "Corp ID could not be reached or did not accept the sign-in" in (
        client.get("/accounts/login/").content.decode()
    )
    failed = AuditEvent.objects.get(action=AuditEvent.Action.SIGN_IN_FAILED)
    assert failed.details["reason"] == "unreachable"
    assert "not-the-secret" not in str(failed.details)


def test_a_token_from_another_issuer_is_refused(client, oidc_on, oidc_provider):
    # The endpoints named, and an issuer that is not the one signing the tokens.
    oidc_on.XDS_OIDC_ENDPOINTS = {
        "authorization_endpoint": f"{oidc_provider.issuer}/authorize/",
        "token_endpoint": f"{oidc_provider.issuer}/token/",
        "userinfo_endpoint": f"{oidc_provider.issuer}/userinfo/",
        "jwks_uri": f"{oidc_provider.issuer}/.well-known/jwks.json",
    }
    oidc_on.XDS_OIDC_ISSUER = "https://id.example.test"
    flow = ProviderSignIn(client)
    answer = flow.back_to_dashboard(flow.at_provider(flow.to_provider(), "alice"))
    assert answer["Location"] == "/accounts/login/"
    failed = AuditEvent.objects.get(action=AuditEvent.Action.SIGN_IN_FAILED)
    assert failed.details["reason"] == "unverified"
    assert "issued by" in failed.details["detail"]
    assert not User.objects.filter(username="alice").exists()


@pytest.fixture
def impostor_keys(oidc_provider):
    """A key set like the provider's (same key id and algorithm) but of another key, served over
    HTTP: what a dashboard tricked into trusting the wrong keys would read."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import requests
    from cryptography.hazmat.primitives.asymmetric import rsa
    from jwt.algorithms import RSAAlgorithm

    published = requests.get(f"{oidc_provider.issuer}/.well-known/jwks.json", timeout=10).json()
    other = json.loads(
        RSAAlgorithm.to_jwk(
            rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
        )
    )
    keys = {"keys": [{**key, "n": other["n"], "e": other["e"]} for key in published["keys"]]}
    body = json.dumps(keys).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/jwks.json"
    server.shutdown()
    server.server_close()


def test_an_id_token_whose_signature_does_not_verify_is_refused(client, oidc_on, impostor_keys):
    oidc_on.XDS_OIDC_ENDPOINTS = {**oidc_on.XDS_OIDC_ENDPOINTS, "jwks_uri": impostor_keys}
    flow = ProviderSignIn(client)
    answer = flow.back_to_dashboard(flow.at_provider(flow.to_provider(), "alice"))
    assert answer["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in client.session
    assert "could not be verified" in client.get("/accounts/login/").content.decode()
    failed = AuditEvent.objects.get(action=AuditEvent.Action.SIGN_IN_FAILED)
    assert failed.details["reason"] == "unverified"
    assert "JWS token verification failed" in failed.details["detail"]
    assert not User.objects.filter(username="alice").exists()


def test_a_provider_that_cannot_be_reached_gets_a_message_not_an_error_page(client, oidc_on):
    oidc_on.XDS_OIDC_ISSUER = f"http://127.0.0.1:{free_port()}/nobody"
    answer = client.get("/oidc/authenticate/")
    assert answer.status_code == 302 and answer["Location"] == "/accounts/login/"
    assert "Corp ID could not be reached" in client.get("/accounts/login/").content.decode()
    failed = AuditEvent.objects.get(action=AuditEvent.Action.SIGN_IN_FAILED)
    assert (failed.details["method"], failed.details["reason"]) == ("oidc", "unreachable")


def test_a_session_signed_in_through_the_provider_needs_no_call_to_it(
    client, provider_sign_in, oidc_on
):
    """Pages of a session signed in through the provider do not ask it anything (a provider
    down later does not take the dashboard down with it)."""
    roles_exist()
    provider_sign_in("alice")
    oidc_on.XDS_OIDC_ISSUER = "http://127.0.0.1:9/unreachable"
    assert client.get("/hosts/").status_code == 200


def test_failed_sign_ins_through_the_provider_lock_nobody_out(client, oidc_on, settings):
    """Failed sign-ins through the provider guess no password here: more of them than the
    lockout allows, from one address, and the next sign-in through the provider still works."""
    roles_exist()
    oidc_on.OIDC_RP_CLIENT_SECRET = "not-the-secret"
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        assert ProviderSignIn(client).sign_in("alice")["Location"] == "/accounts/login/"
    assert AuditEvent.objects.filter(action=AuditEvent.Action.SIGN_IN_FAILED).count() == (
        settings.AXES_FAILURE_LIMIT + 1
    )
    oidc_on.OIDC_RP_CLIENT_SECRET = oidc_on.XDS_OIDC_CLIENT_SECRET
    answer = ProviderSignIn(client).sign_in("alice")
    assert answer.status_code == 302 and answer["Location"] == "/hosts/"


def test_an_account_made_inactive_here_stays_out(client, provider_sign_in, make_member):
    make_member("alice", "Operator", is_active=False)
    answer = provider_sign_in("alice")
    assert answer["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in client.session
    assert "Your account is not active." in client.get("/accounts/login/").content.decode()
    failed = AuditEvent.objects.get(action=AuditEvent.Action.SIGN_IN_FAILED)
    assert (failed.details["reason"], failed.actor_name) == ("inactive", "alice")


def test_an_account_made_inactive_ends_its_session_from_the_provider(client, provider_sign_in):
    roles_exist()
    provider_sign_in("alice")
    User.objects.filter(username="alice").update(is_active=False)
    assert client.get("/hosts/")["Location"].startswith("/accounts/login/")


def test_the_groups_may_be_a_nested_claim(provider_sign_in, oidc_on):
    roles_exist()
    oidc_on.XDS_OIDC_GROUPS_CLAIM = "realm_access.roles"
    provider_sign_in("dave")
    assert roles_of("dave") == {"Admin", "Operator"}
    oidc_on.XDS_OIDC_GROUPS_CLAIM = "no_such.claim"
    provider_sign_in("dave")
    assert roles_of("dave") == set()  # no groups said: no role mapped
