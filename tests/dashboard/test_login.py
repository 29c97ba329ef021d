"""Every page needs a login; the login page itself does not."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url", ["/", "/hosts/", "/hosts/x/", "/hosts/live/", "/packages/", "/images/", "/sync/wait/"]
)
def test_every_page_needs_a_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_the_login_page_is_open_and_styled(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/css/dashboard.css" in html
    assert 'name="password"' in html
    assert "Refresh now" not in html  # no sync controls for visitors


def test_logging_in_leads_to_the_hosts_and_out_again(client, member):
    response = client.post(
        "/accounts/login/", {"username": "member", "password": "a-long-test-password"}
    )
    assert response.status_code == 302 and response["Location"] == "/hosts/"
    assert client.get("/hosts/").status_code == 200
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert client.get("/hosts/").status_code == 302


def test_a_wrong_password_says_so(client, member):
    response = client.post("/accounts/login/", {"username": "member", "password": "nope"})
    assert response.status_code == 200
    assert "do not match" in response.content.decode()


def test_pages_carry_the_csrf_token_for_htmx_and_no_inline_script_or_style(member_client):
    html = member_client.get("/hosts/").content.decode()
    assert '<body hx-headers=\'{"X-CSRFToken": "' in html
    assert "<script>" not in html and "<script " not in html.replace('<script src="', "")
    assert "style=" not in html and "<style" not in html
    assert "hx-on" not in html
    assert "/static/vendor/htmx-2.0.11.min.js" in html


def test_the_admin_shows_the_mirror_read_only(client, admin_user, make_host):
    host = make_host(name="in-the-admin")
    # The admin's sign-in is the dashboard's (its lockout and audit apply), then back.
    answer = client.get("/admin/login/?next=/admin/dashboard/host/")
    assert answer.status_code == 302
    assert answer["Location"] == "/accounts/login/?next=/admin/dashboard/host/"
    client.force_login(admin_user)
    assert "in-the-admin" in client.get("/admin/dashboard/host/").content.decode()
    assert client.get(f"/admin/dashboard/host/{host.id}/change/").status_code == 200
    assert client.get("/admin/dashboard/host/add/").status_code == 403
    assert client.get("/admin/dashboard/syncstate/").status_code == 200


def test_browsers_asking_for_favicon_ico_get_the_dashboards_icon(client):
    answer = client.get("/favicon.ico")  # no sign-in needed
    assert answer.status_code == 301 and answer["Location"].endswith("favicon.svg")
