"""Every page is served under a strict Content-Security-Policy and keeps to it: no inline
script or style, no eval, no htmx attribute that runs code, requests only to our own origin."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
CODE_ATTRIBUTES = re.compile(r"\s(style|on[a-z]+|hx-on[:\w-]*)=", re.IGNORECASE)


def _assert_strict(response, url):
    policy = response.headers.get("Content-Security-Policy", "")
    assert "script-src 'self'" in policy, url
    assert "style-src 'self'" in policy, url
    assert "frame-ancestors 'none'" in policy, url
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, url
    html = response.content.decode()
    assert not INLINE_SCRIPT.search(html), f"{url}: {INLINE_SCRIPT.search(html).group(0)}"
    found = CODE_ATTRIBUTES.search(html)
    assert found is None, f"{url}: {html[max(0, found.start() - 80) : found.end() + 40]}"
    assert "js:" not in html and "javascript:" not in html, url


def test_member_pages_keep_to_the_policy(member_client, make_host):
    host = make_host(status=1)
    windows = make_host(operating_system="Windows Server")
    urls = [
        "/hosts/",
        "/hosts/?status=booting",
        f"/hosts/{host.id}/",
        f"/hosts/{windows.id}/",
        "/packages/",
        "/images/",
        "/operations/",
        "/account/tokens/",
    ]
    for url in urls:
        response = member_client.get(url)
        assert response.status_code == 200, url
        _assert_strict(response, url)
        if "<html" in response.content.decode():
            assert '"allowEval": false' in response.content.decode()
            assert '"selfRequestsOnly": true' in response.content.decode()


def test_the_api_docs_page_keeps_to_the_policy(member_client):
    """Swagger UI, vendored, its start script a file of its own (no inline script or style)."""
    response = member_client.get("/api/v1/docs/")
    assert response.status_code == 200
    _assert_strict(response, "/api/v1/docs/")


def test_the_login_page_keeps_to_the_policy(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    _assert_strict(response, "/accounts/login/")
