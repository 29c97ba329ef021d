"""The OpenAPI document: generated from the code without a warning, valid OpenAPI 3, served to
members and tokens at /api/v1/schema/ with a docs page of vendored assets; and the API fuzzed
against it (schemathesis, a few dozen examples per operation: bounded for CI) with no 5xx."""

from __future__ import annotations

import re

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.dashboard.api.conftest import bearer

pytestmark = pytest.mark.django_db

DOCUMENT = SchemaGenerator().get_schema(request=None, public=True)
PATHS = {
    "/api/v1/hosts/",
    "/api/v1/hosts/{host_id}/",
    "/api/v1/hosts/{host_id}/power-on/",
    "/api/v1/hosts/{host_id}/power-off/",
    "/api/v1/hosts/{host_id}/reboot/",
    "/api/v1/operations/",
    "/api/v1/operations/{operation_id}/",
    "/api/v1/packages/",
    "/api/v1/images/",
    "/api/v1/me/",
    "/api/v1/disks/",
    "/api/v1/disks/{disk_id}/",
    "/api/v1/disks/{disk_id}/attach/",
    "/api/v1/disks/{disk_id}/detach/",
    "/api/v1/personal-images/",
    "/api/v1/personal-images/{image_id}/",
    "/api/v1/personal-images/{image_id}/rename/",
    "/api/v1/hosts/{host_id}/personal-image/",
}


def test_the_document_is_valid_openapi_and_names_every_endpoint():
    validate_schema(DOCUMENT)  # raises on an invalid document
    assert DOCUMENT["openapi"].startswith("3.")
    assert set(DOCUMENT["paths"]) >= PATHS
    create = DOCUMENT["paths"]["/api/v1/hosts/"]["post"]
    assert create["security"] == [{"token": []}]
    assert "Idempotency-Key" in [p["name"] for p in create["parameters"]]
    assert set(create["responses"]) >= {"202", "400", "401", "403", "409", "429"}
    for path, method in (
        ("/api/v1/disks/", "post"),
        ("/api/v1/hosts/{host_id}/personal-image/", "post"),
    ):
        asked = DOCUMENT["paths"][path][method]
        assert "Idempotency-Key" in [p["name"] for p in asked["parameters"]]
        assert set(asked["responses"]) >= {"202", "400", "403", "409"}
    for path in ("/api/v1/disks/{disk_id}/", "/api/v1/personal-images/{image_id}/"):
        destroy = DOCUMENT["paths"][path]["delete"]
        confirm = next(p for p in destroy["parameters"] if p["name"] == "confirm_name")
        assert confirm["required"] is True


def test_the_schema_is_served_to_a_token_and_to_a_signed_in_member(client, make_token, make_member):
    assert client.get("/api/v1/schema/").status_code == 401
    _user, secret = make_token("Viewer")
    response = client.get("/api/v1/schema/", **bearer(secret))
    assert response.status_code == 200 and b"/api/v1/hosts/" in response.content
    client.force_login(make_member("mei", "Viewer"))
    assert client.get("/api/v1/schema/").status_code == 200


def test_the_docs_page_uses_vendored_assets_only(client, make_member):
    assert client.get("/api/v1/docs/").status_code == 302  # to the login page
    client.force_login(make_member("mei", "Viewer"))
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/") and not s.startswith("//") for s in sources), sources
    assert any("swagger-ui-dist" in s for s in sources)
    assert "<style" not in html and not re.search(r"<script>(?!</script>)", html)  # the CSP holds
    script = client.get("/api/v1/docs/?script=")
    assert script.status_code == 200 and b"/api/v1/schema/" in script.content


fuzzed = schemathesis.openapi.from_dict(DOCUMENT)
fuzzed.app = WSGIHandler()


@pytest.fixture
def connections_kept():
    """The WSGI handler closes the database connection after each request, which would close
    the test's transaction; Django's test client keeps it open the same way."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def fleet_and_token(
    make_token, mirrored, catalog_cached, connections_kept, disk_mirrored, image_mirrored
):
    host = mirrored()
    disk_mirrored()
    image_mirrored(host, "fuzzed")
    _user, secret = make_token("Admin", scopes=("read", "operate", "manage"))
    return secret


@fuzzed.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)
def test_the_api_keeps_to_its_schema_and_never_fails(case, fleet_and_token):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {fleet_and_token}"},
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
