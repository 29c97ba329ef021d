"""Who may do what, through the pages: every role against every action, on a host of their own
and on someone else's. An allowed request makes one operation and hands it to the worker; a
refused one gets a 403 that says why, makes nothing, enqueues nothing, and is audited."""

from __future__ import annotations

import uuid

import pytest

from dashboard.models import AuditEvent, Host, Operation
from tests.dashboard.conftest import payg_confirmed
from vmclient.types import HostStatus

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}

ROLES = {
    "viewer": ("Viewer",),
    "operator": ("Operator",),
    "creator": ("Creator",),
    "admin": ("Admin",),
    "no role": (),
}


def matrix(allowed_by_action: dict) -> list:
    """Every role against every (action, whose host) of `allowed_by_action`, which maps them to
    the roles allowed, as the parameters (role, action, whose, allowed)."""
    return [
        pytest.param(role, action, whose, role in allowed, id=f"{role}-{action}-{whose or 'new'}")
        for (action, whose), allowed in allowed_by_action.items()
        for role in ROLES
    ]


# (action, whose host) -> the roles allowed.
ALLOWED = {
    ("power-on", "own"): {"operator", "creator", "admin"},
    ("power-on", "theirs"): {"operator", "admin"},
    ("power-off", "own"): {"operator", "creator", "admin"},
    ("power-off", "theirs"): {"operator", "admin"},
    ("reboot", "own"): {"operator", "creator", "admin"},
    ("reboot", "theirs"): {"operator", "admin"},
    ("delete", "own"): {"creator", "admin"},
    ("delete", "theirs"): {"admin"},
    ("create", None): {"creator", "admin"},
    ("password", "own"): {"creator", "admin"},
    ("password", "theirs"): {"admin"},
    ("owner", "theirs"): {"admin"},
}
STATUS_FOR = {"power-on": HostStatus.OFF, "delete": HostStatus.OFF}


@pytest.fixture
def someone_else(make_member):
    return make_member("sam", "Creator")


@pytest.fixture
def pat(make_member, role):
    """The member holding the role under test."""
    return make_member("pat", *ROLES[role])


@pytest.fixture
def owner(someone_else, pat, whose):
    """Who owns the host or disk or image acted on: pat ("own") or someone else ("theirs")."""
    return pat if whose == "own" else someone_else


@pytest.fixture
def attempt(client, pat, django_capture_on_commit_callbacks):
    """attempt(path, form): pat, signed in, posts it and the dispatch its commit triggers runs.
    Returns the response and how many audit events there were before the post (signing in is
    one of them)."""

    def attempt(path: str, form: dict | None = None, **kwargs):
        client.force_login(pat)
        audited_before = AuditEvent.objects.count()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(path, form, **kwargs)
        return response, audited_before

    return attempt


def assert_refused(response, *, audited_before: int, dispatched: list) -> None:
    """A 403 that says why; nothing made, nothing handed to the worker; one audit event of pat's
    refusal."""
    assert response.status_code == 403
    assert "Not allowed" in response.content.decode()
    assert Operation.objects.count() == 0
    assert dispatched == []  # nothing handed to the worker
    refusal = AuditEvent.objects.order_by("-id").first()
    assert AuditEvent.objects.count() == audited_before + 1
    assert refusal.action in ("operation_refused", "access_denied")  # no role: the gate
    assert refusal.actor_name == "pat"


def assert_one_operation_dispatched(*, requested_by, dispatched: list) -> Operation:
    operation = Operation.objects.get()
    assert operation.requested_by == requested_by
    assert [call[0] for call in dispatched] == [operation.pk]
    return operation


def assert_storage_outcome(response, action, allowed, *, audited_before, pat, dispatched) -> None:
    """A disk or image action pat was allowed to ask for redirects, and makes one operation of
    its kind, handed to the worker; one not allowed is refused."""
    if not allowed:
        assert_refused(response, audited_before=audited_before, dispatched=dispatched)
        return
    assert response.status_code == 302, response.content.decode()[:500]
    operation = assert_one_operation_dispatched(requested_by=pat, dispatched=dispatched)
    assert operation.kind == action.replace("-", "_")


def _host(mirrored, status, owner) -> Host:
    return mirrored(status=status, owner=owner, name="render-01")


def _request(action: str, host: Host | None, someone_else) -> tuple[str, dict | None, dict]:
    """The path, form and headers of the page's request for `action`."""
    key = str(uuid.uuid4())
    if action == "create":
        return "/hosts/new/", payg_confirmed(key), {}
    if action == "delete":
        return f"/hosts/{host.id}/delete/", {"name": host.name, "idempotency_key": key}, {}
    if action == "password":
        return f"/hosts/{host.id}/password/", None, HTMX
    if action == "owner":
        return f"/hosts/{host.id}/owner/", {"owner": someone_else.username}, {}
    return f"/hosts/{host.id}/actions/{action}/", {"idempotency_key": key}, {}


@pytest.mark.parametrize(("role", "action", "whose", "allowed"), matrix(ALLOWED))
def test_every_role_against_every_action(
    role,
    action,
    whose,
    allowed,
    someone_else,
    pat,
    owner,
    attempt,
    mirrored,
    catalog_cached,
    dispatched,
):
    host = None
    if whose is not None:
        host = _host(mirrored, STATUS_FOR.get(action, HostStatus.RUNNING), owner)

    path, form, headers = _request(action, host, someone_else)
    response, audited_before = attempt(path, form, headers=headers)

    if not allowed:
        assert_refused(response, audited_before=audited_before, dispatched=dispatched)
        if host is not None:
            assert Host.objects.get(pk=host.pk).owner_id == host.owner_id  # nothing changed
        return

    assert response.status_code in (200, 302), response.content.decode()[:500]
    if action in ("password", "owner"):
        assert Operation.objects.count() == 0
        if action == "owner":
            assert Host.objects.get(pk=host.pk).owner_name == "sam"
        else:
            assert "host-password" in response.content.decode()
        return
    assert_one_operation_dispatched(requested_by=pat, dispatched=dispatched)


@pytest.mark.parametrize("role", list(ROLES))
def test_pages_offer_only_what_the_role_allows(
    role, client, someone_else, pat, make_host, catalog_cached
):
    own = make_host(status=HostStatus.OFF, name="mine-01", owner=pat, owner_name="pat")
    theirs = make_host(status=HostStatus.OFF, name="theirs-01", owner=someone_else)
    client.force_login(pat)

    listing = client.get("/hosts/")
    if role == "no role":
        assert listing.status_code == 403
        assert "Your account has no role yet" in listing.content.decode()
        return
    assert listing.status_code == 200

    def offered(host) -> set[str]:
        page = client.get(f"/hosts/{host.id}/").content.decode()
        found = set()
        for slug in ("power-on", "delete"):
            if f"/hosts/{host.id}/actions/{slug}/" in page or (
                slug == "delete" and f"/hosts/{host.id}/delete/" in page
            ):
                found.add(slug)
        if f"/hosts/{host.id}/password/" in page:
            found.add("password")
        if f"/hosts/{host.id}/owner/" in page:
            found.add("owner")
        return found

    for whose, host in (("own", own), ("theirs", theirs)):
        expected = {
            action
            for (action, owner), roles in ALLOWED.items()
            if owner == whose and role in roles and action in ("power-on", "delete", "password")
        }
        if role == "admin":
            expected.add("owner")
        assert offered(host) == expected, whose
    packages = client.get("/packages/").content.decode()
    assert ("/hosts/new/?package=" in packages) == (role in ALLOWED[("create", None)])


def test_a_role_taken_away_while_queued_stops_the_operation_before_it_is_sent(
    make_member, make_host, ask, run, sim
):
    from django.contrib.auth.models import Group

    operator = make_member("olu", "Operator")
    host = make_host(status=HostStatus.RUNNING)
    operation = ask("power_off", host, user=operator)
    operator.groups.remove(Group.objects.get(name="Operator"))

    operation = run(operation)

    assert operation.state == "failed" and operation.error_code == "forbidden"
    assert "olu may no longer ask for it" in operation.message
    assert sim.request_count("/v1/pve/open/operate") == 0  # nothing reached the provider


def test_a_member_cancels_only_their_own_queued_operation(make_member, make_host, ask, client):
    alice = make_member("alice", "Operator")
    bob = make_member("bob", "Operator")
    host = make_host(status=HostStatus.RUNNING)
    operation = ask("reboot", host, user=alice)

    client.force_login(bob)
    refused = client.post(f"/operations/{operation.pk}/cancel/")
    assert refused.status_code == 403
    assert "You may cancel only the operations you asked for" in refused.content.decode()
    assert Operation.objects.get().state == "queued"

    client.force_login(alice)
    client.post(f"/operations/{operation.pk}/cancel/")
    assert Operation.objects.get().state == "cancelled"


def test_an_admin_cancels_anyones_queued_operation(make_member, make_host, ask, client):
    alice = make_member("alice", "Operator")
    host = make_host(status=HostStatus.RUNNING)
    operation = ask("reboot", host, user=alice)
    client.force_login(make_member("ada", "Admin"))
    client.post(f"/operations/{operation.pk}/cancel/")
    assert Operation.objects.get().state == "cancelled"


def test_a_member_without_a_role_can_still_sign_out_and_change_their_password(client, make_member):
    client.force_login(make_member("newbie"))
    assert client.get("/accounts/password/").status_code == 200
    assert client.post("/accounts/logout/").status_code == 302


def test_an_htmx_refusal_comes_as_a_banner_for_the_alert_area(client, make_member, make_host):
    host = make_host(status=HostStatus.RUNNING)
    client.force_login(make_member("vic", "Viewer"))
    response = client.post(
        f"/hosts/{host.id}/actions/reboot/", {"idempotency_key": str(uuid.uuid4())}, headers=HTMX
    )
    assert response.status_code == 403
    assert response["HX-Retarget"] == "#alerts"
    html = response.content.decode()
    assert "<html" not in html and "Your role does not allow you to power or reboot hosts." in html


def test_htmx_posts_need_the_csrf_token(make_member, make_host):
    from django.test import Client

    host = make_host(status=HostStatus.RUNNING)
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_member("oli", "Operator"))
    page = client.get(f"/hosts/{host.id}/").content.decode()
    token = page.split('"X-CSRFToken": "', 1)[1].split('"', 1)[0]
    key = str(uuid.uuid4())

    refused = client.post(
        f"/hosts/{host.id}/actions/reboot/", {"idempotency_key": key}, headers=HTMX
    )
    assert refused.status_code == 403
    assert "security token is missing or out of date" in refused.content.decode()
    assert Operation.objects.count() == 0
    assert AuditEvent.objects.filter(action="access_denied", summary__contains="CSRF").exists()

    accepted = client.post(
        f"/hosts/{host.id}/actions/reboot/",
        {"idempotency_key": key},
        headers={**HTMX, "X-CSRFToken": token},
    )
    assert accepted.status_code == 200
    assert Operation.objects.count() == 1


# --- Cloud disks: as hosts. Creators make them and manage their own; Operators attach and
# detach any (as they power any host) but neither create nor destroy; Admins do everything.
DISK_ALLOWED = {
    ("disk-create", None): {"creator", "admin"},
    ("disk-attach", "own"): {"operator", "creator", "admin"},
    ("disk-attach", "theirs"): {"operator", "admin"},
    ("disk-detach", "own"): {"operator", "creator", "admin"},
    ("disk-detach", "theirs"): {"operator", "admin"},
    ("disk-destroy", "own"): {"creator", "admin"},
    ("disk-destroy", "theirs"): {"admin"},
}


@pytest.mark.parametrize(("role", "action", "whose", "allowed"), matrix(DISK_ALLOWED))
def test_every_role_against_every_disk_action(
    role, action, whose, allowed, storage, synced, aged, owner, pat, attempt, mirrored, dispatched
):
    from dashboard.models import Disk
    from vmclient.types import DiskStatus

    host = mirrored(status=HostStatus.OFF, owner=owner, name="render-01", area=0, create_time=aged)
    mounted = action == "disk-detach"
    upstream = storage.add_disk(
        area=0,
        status=DiskStatus.IN_USE if mounted else DiskStatus.WAITING,
        pve_id=host.id if mounted else None,
    )
    synced()
    Disk.objects.filter(pk=upstream.id).update(owner=owner, owner_name=owner.username)
    disk = Disk.objects.get(pk=upstream.id)

    if action == "disk-create":
        path, form = "/disks/new/", {"area": "south-china", "size_gb": "50"}
    elif action == "disk-attach":
        path, form = f"/disks/{disk.id}/attach/", {"host": host.id}
    elif action == "disk-detach":
        path, form = f"/disks/{disk.id}/detach/", {}
    else:
        path, form = f"/disks/{disk.id}/destroy/", {"name": disk.label}
    response, audited_before = attempt(path, {**form, "idempotency_key": str(uuid.uuid4())})

    assert_storage_outcome(
        response, action, allowed, audited_before=audited_before, pat=pat, dispatched=dispatched
    )


# --- Personal images: as disks. Creators save images of their own hosts and rename and delete
# their own images; Admins do everything; Operators and Viewers only see them.
IMAGE_ALLOWED = {
    ("image-create", "own"): {"creator", "admin"},
    ("image-create", "theirs"): {"admin"},
    ("image-rename", "own"): {"creator", "admin"},
    ("image-rename", "theirs"): {"admin"},
    ("image-delete", "own"): {"creator", "admin"},
    ("image-delete", "theirs"): {"admin"},
}


@pytest.mark.parametrize(("role", "action", "whose", "allowed"), matrix(IMAGE_ALLOWED))
def test_every_role_against_every_image_action(
    role, action, whose, allowed, sim, storage, synced, owner, pat, attempt, mirrored, dispatched
):
    from dashboard.models import PersonalImage
    from vmclient.types import PersonalImageStatus

    host = mirrored(status=HostStatus.OFF, owner=owner, name="render-01")
    upstream = storage.put_image(
        sim.fleet.hosts[host.id], "golden", status=PersonalImageStatus.USABLE,
        create_time=sim.clock.now_ms(),
    )  # fmt: skip
    synced()
    PersonalImage.objects.filter(pk=str(upstream.id)).update(owner=owner, owner_name=owner.username)
    image = PersonalImage.objects.get(pk=str(upstream.id))

    if action == "image-create":
        path, form = f"/hosts/{host.id}/image/", {"name": "golden-2"}
    elif action == "image-rename":
        path, form = f"/images/personal/{image.id}/rename/", {"name": "golden-renamed"}
    else:
        path, form = f"/images/personal/{image.id}/delete/", {"name": image.label}
    response, audited_before = attempt(path, {**form, "idempotency_key": str(uuid.uuid4())})

    assert_storage_outcome(
        response, action, allowed, audited_before=audited_before, pat=pat, dispatched=dispatched
    )


def test_every_operation_kind_needs_a_token_scope():
    """An API request for any kind of operation needs a scope beyond `read`: a kind added without
    one would leave a read-only token able to ask for it."""
    from dashboard import permissions
    from dashboard.models import Operation

    assert set(permissions.SCOPE_OF_KIND) == set(Operation.Kind.values)
    assert set(permissions.SCOPE_OF_KIND.values()) == {
        permissions.SCOPE_OPERATE,
        permissions.SCOPE_MANAGE,
    }
    for kind in (*Operation.DISK_KINDS, *Operation.IMAGE_KINDS, Operation.Kind.DELETE):
        operate = kind in (Operation.Kind.DISK_ATTACH, Operation.Kind.DISK_DETACH)
        assert permissions.SCOPE_OF_KIND[kind] == ("operate" if operate else "manage"), kind
