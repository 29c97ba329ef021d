"""Every role x scope x endpoint: a token may make a request only with the scope it needs, and
then only what its member's role allows at that moment; refusals say why."""

from __future__ import annotations

import uuid

import pytest

from dashboard import services
from dashboard.models import AuditEvent, Operation
from tests.dashboard.api.conftest import IMAGE, PACKAGE, bearer

pytestmark = pytest.mark.django_db

ROLES = ("Viewer", "Operator", "Creator", "Admin")
SCOPES = ("read", "operate", "manage")

# endpoint -> (the scope it needs, the roles that may do it on a host someone else owns)
ENDPOINTS = {
    "list hosts": ("read", set(ROLES)),
    "one host": ("read", set(ROLES)),
    "operations": ("read", set(ROLES)),
    "packages": ("read", set(ROLES)),
    "images": ("read", set(ROLES)),
    "one operation": ("read", set(ROLES)),
    "me": ("read", set(ROLES)),
    "power on": ("operate", {"Operator", "Admin"}),
    "power off": ("operate", {"Operator", "Admin"}),
    "reboot": ("operate", {"Operator", "Admin"}),
    "delete": ("manage", {"Admin"}),
    "create": ("manage", {"Creator", "Admin"}),
    "list disks": ("read", set(ROLES)),
    "one disk": ("read", set(ROLES)),
    "disk create": ("manage", {"Creator", "Admin"}),
    "disk attach": ("operate", {"Operator", "Admin"}),
    "disk detach": ("operate", {"Operator", "Admin"}),
    "disk destroy": ("manage", {"Admin"}),
    "personal images": ("read", set(ROLES)),
    "one personal image": ("read", set(ROLES)),
    "image save": ("manage", {"Admin"}),
    "image rename": ("manage", {"Admin"}),
    "image delete": ("manage", {"Admin"}),
}
CATALOG_ENDPOINTS = ("packages", "images", "create")
STORAGE_ENDPOINTS = tuple(list(ENDPOINTS)[list(ENDPOINTS).index("list disks") :])


def _storage(request, other):
    """Someone else's disks (one waiting, one mounted on their host that is off) and image."""
    from vmclient.types import DiskStatus

    off = request.getfixturevalue("stopped_host")(owner=other)
    disk = request.getfixturevalue("disk_mirrored")
    waiting = disk(owner=other, name="theirs")
    mounted = disk(owner=other, status=DiskStatus.IN_USE, pve_id=off.id)
    image = request.getfixturevalue("image_mirrored")(off, "their-image", owner=other)
    return {"off": off, "waiting": waiting, "mounted": mounted, "image": image}


def _call_storage(client, endpoint: str, host, headers, storage):
    json = {"content_type": "application/json", **headers}
    disk, image = storage["waiting"], storage["image"]
    if endpoint == "list disks":
        return client.get("/api/v1/disks/", **headers)
    if endpoint == "one disk":
        return client.get(f"/api/v1/disks/{disk.id}/", **headers)
    if endpoint == "disk create":
        body = {"area": "south-china", "size_gb": 40}
        return client.post("/api/v1/disks/", body, HTTP_IDEMPOTENCY_KEY="matrix-d", **json)
    if endpoint == "disk attach":
        body = {"host_id": storage["off"].id}
        return client.post(f"/api/v1/disks/{disk.id}/attach/", body, **json)
    if endpoint == "disk detach":
        return client.post(f"/api/v1/disks/{storage['mounted'].id}/detach/", **headers)
    if endpoint == "disk destroy":
        return client.delete(f"/api/v1/disks/{disk.id}/?confirm_name=theirs", **headers)
    if endpoint == "personal images":
        return client.get("/api/v1/personal-images/", **headers)
    if endpoint == "one personal image":
        return client.get(f"/api/v1/personal-images/{image.id}/", **headers)
    if endpoint == "image save":
        url = f"/api/v1/hosts/{host.id}/personal-image/"
        return client.post(url, {"name": "mine-now"}, HTTP_IDEMPOTENCY_KEY="matrix-i", **json)
    if endpoint == "image rename":
        url = f"/api/v1/personal-images/{image.id}/rename/"
        return client.post(url, {"name": "renamed"}, **json)
    assert endpoint == "image delete"
    url = f"/api/v1/personal-images/{image.id}/?confirm_name=their-image"
    return client.delete(url, **headers)


def _call(client, endpoint: str, host, headers, *, off_host, operation):
    if endpoint == "list hosts":
        return client.get("/api/v1/hosts/", **headers)
    if endpoint == "one host":
        return client.get(f"/api/v1/hosts/{host.id}/", **headers)
    if endpoint == "operations":
        return client.get("/api/v1/operations/", **headers)
    if endpoint == "packages":
        return client.get("/api/v1/packages/", **headers)
    if endpoint == "images":
        return client.get("/api/v1/images/", **headers)
    if endpoint == "one operation":
        return client.get(f"/api/v1/operations/{operation.pk}/", **headers)
    if endpoint == "me":
        return client.get("/api/v1/me/", **headers)
    if endpoint == "power on":
        return client.post(f"/api/v1/hosts/{off_host.id}/power-on/", **headers)
    if endpoint == "power off":
        return client.post(f"/api/v1/hosts/{host.id}/power-off/", **headers)
    if endpoint == "reboot":
        return client.post(f"/api/v1/hosts/{host.id}/reboot/", **headers)
    if endpoint == "delete":
        return client.delete(f"/api/v1/hosts/{host.id}/", **headers)
    body = {"package_id": PACKAGE, "image_id": IMAGE, "billing": "pay-as-you-go"}
    return client.post(
        "/api/v1/hosts/",
        body,
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="matrix-1",
        **headers,
    )


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("role", ROLES)
def test_role_scope_endpoint(
    client, make_token, make_member, mirrored, request, role, scope, endpoint
):
    if endpoint in CATALOG_ENDPOINTS:
        request.getfixturevalue("catalog_cached")
    other = make_member("someone-else", "Creator", "Operator")
    host = mirrored(owner=other)  # running, someone else's
    off_host = mirrored(owner=other, status=0)
    busy = mirrored(owner=other)
    theirs = services.operation_request(
        user=other, kind=Operation.Kind.REBOOT, host=busy, idempotency_key=uuid.uuid4()
    )
    user, secret = make_token(role, scopes=(scope,))
    needed, roles_allowed = ENDPOINTS[endpoint]

    if endpoint in STORAGE_ENDPOINTS:
        storage = _storage(request, other)
        response = _call_storage(client, endpoint, host, bearer(secret), storage)
    else:
        response = _call(
            client, endpoint, host, bearer(secret), off_host=off_host, operation=theirs
        )
    mine = Operation.objects.filter(requested_by=user)

    if scope != needed:
        assert response.status_code == 403, response.content
        assert f"lacks the {needed} scope" in response.json()["detail"]
        assert not mine.exists()
    elif role not in roles_allowed:
        assert response.status_code == 403, response.content
        assert "role" in response.json()["detail"] or "not yours" in response.json()["detail"]
        assert not mine.exists()
    elif needed == "read":
        assert response.status_code == 200, response.content
    else:
        assert response.status_code == 202, response.content
        operation = mine.get()
        assert response.json()["id"] == operation.pk
    if response.status_code == 403:
        # Refusals are audited, with the token's name beside the member.
        event = AuditEvent.objects.filter(actor=user).latest("at")
        assert event.action in (
            AuditEvent.Action.ACCESS_DENIED,
            AuditEvent.Action.OPERATION_REFUSED,
        )
        assert event.details["api_token"] == "script"


def test_a_creator_may_act_on_their_own_host_with_the_right_scopes(
    client, make_token, mirrored, sim
):
    user, secret = make_token("Creator", scopes=("read", "operate", "manage"))
    host = mirrored(owner=user)
    assert client.post(f"/api/v1/hosts/{host.id}/reboot/", **bearer(secret)).status_code == 202


def test_a_role_taken_away_is_refused_at_once(client, make_token, mirrored, sim):
    """The token never exceeds the role its member holds at the moment of use."""
    user, secret = make_token("Operator", scopes=("read", "operate"))
    host = mirrored()
    user.groups.clear()
    response = client.post(f"/api/v1/hosts/{host.id}/power-off/", **bearer(secret))
    assert response.status_code == 403
    assert "no role" in response.json()["detail"]
    assert not Operation.objects.exists()


def test_no_token_or_a_bad_one_is_401(client, make_token, db):
    _user, secret = make_token("Admin", scopes=SCOPES)
    for headers in (
        {},
        {"HTTP_AUTHORIZATION": "Bearer xds_not-a-token"},
        {"HTTP_AUTHORIZATION": f"Basic {secret}"},
        {"HTTP_AUTHORIZATION": f"Bearer {secret}x"},
    ):
        response = client.get("/api/v1/hosts/", **headers)
        assert response.status_code == 401, headers
        assert response.json()["detail"]
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_signed_in_session_is_not_an_api_credential(client, make_member, db):
    """The API reads no session: a browser's cookie (and a page's CSRF) gives it nothing."""
    client.force_login(make_member("admin1", "Admin"))
    assert client.get("/api/v1/hosts/").status_code == 401
    assert client.post("/api/v1/hosts/", {}, content_type="application/json").status_code == 401


def test_a_bearer_request_needs_no_csrf_token(make_token, mirrored, sim):
    """Scripts send no security token: the API is exempt, as it reads no cookie to forge."""
    from django.test import Client

    _user, secret = make_token("Operator", scopes=("operate",))
    host = mirrored()
    script = Client(enforce_csrf_checks=True)
    assert script.post(f"/api/v1/hosts/{host.id}/reboot/", **bearer(secret)).status_code == 202
