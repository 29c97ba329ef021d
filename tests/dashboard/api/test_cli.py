"""The `xds` command end to end: the installed console script, over HTTP, against a live
dashboard with a real Celery worker and the simulator: create with --wait, power off, delete;
login's file readable by its owner only; exit codes a script can branch on."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard import services
from dashboard.models import Operation
from dashboard.upstream import get_client, reset_client
from tests.dashboard.api.conftest import IMAGE, PACKAGE
from tests.dashboard.workers import in_process_worker, own_queue

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.real_worker]

XDS = Path(sys.executable).parent / "xds"
# The checkout under test first: the virtualenv's editable install may point at another one.
CHECKOUT = Path(__file__).resolve().parents[3]


@pytest.fixture
def dashboard(live_server, make_simulator, settings):
    """A live dashboard whose worker follows actions every 0.3 s; hosts boot and stop in 1 s."""
    sim = make_simulator(
        hosts=0, boot_seconds=1.0, shutdown_seconds=1.0, reboot_seconds=1.0, charging_seconds=0.5,
        destroy_seconds=0.5,
    )  # fmt: skip
    settings.XDS_BASE_URL, settings.XDS_UUID, settings.XDS_SECRET = sim.url, sim.uuid, sim.secret
    settings.XDS_ACTION_POLL_SECONDS = 0.3
    reset_client()
    assert services.catalog_refresh() is not None
    live_server.sim = sim
    with own_queue(), in_process_worker():
        yield live_server
    reset_client()


def xds(*args: str, token: str = "", url: str = "", home: Path, timeout: float = 120):
    assert XDS.exists(), f"{XDS} is missing: bin/bootstrap installs the project (pip install -e .)"
    env = {
        **os.environ,
        "XDS_CONFIG": str(home / "xds.json"),
        "LANG": "C.UTF-8",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(CHECKOUT), os.environ.get("PYTHONPATH")])),
    }
    env.pop("XDS_API_URL", None)
    env.pop("XDS_API_TOKEN", None)
    if url:
        env["XDS_API_URL"] = url
    if token:
        env["XDS_API_TOKEN"] = token
    done = subprocess.run(  # noqa: S603 (our own command)
        [str(XDS), *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    return done


def test_create_wait_power_off_and_delete(dashboard, make_token, tmp_path):
    user, secret = make_token("Creator", scopes=("read", "operate", "manage"))
    run = lambda *a: xds(*a, token=secret, url=dashboard.url, home=tmp_path)  # noqa: E731

    made = run("create", "--package", PACKAGE, "--image", IMAGE, "--wait", "--json")
    assert made.returncode == 0, made.stderr
    operation = json.loads(made.stdout)
    assert operation["state"] == "succeeded" and operation["host_id"]
    assert f"#{operation['id']}" in made.stderr  # the progress line
    host_id = operation["host_id"]

    listed = run("hosts", "--json")
    assert listed.returncode == 0
    assert host_id in [host["id"] for host in json.loads(listed.stdout)]
    table = run("hosts", "--owner", "mine")
    assert table.stdout.splitlines()[0].split()[:3] == ["ID", "NAME", "STATUS"]
    assert host_id in table.stdout

    off = run("power-off", host_id, "--wait")
    assert off.returncode == 0, off.stderr + off.stdout
    assert "Succeeded" in off.stdout
    assert json.loads(run("host", host_id, "--json").stdout)["status"] in ("off", "charging")

    refused = run("delete", host_id)  # without --yes
    assert refused.returncode == 2 and "--yes" in refused.stderr
    gone = run("delete", host_id, "--yes", "--wait", "--json")
    assert gone.returncode == 0, gone.stderr
    assert json.loads(gone.stdout)["kind"] == "delete"
    kinds = [op.kind for op in Operation.objects.order_by("created_at")]
    assert kinds == ["create_payg", "power_off", "delete"]
    assert {op.requested_by_id for op in Operation.objects.all()} == {user.pk}

    ops = run("ops", "--json", "--limit", "2")
    assert [op["kind"] for op in json.loads(ops.stdout)] == ["delete", "power_off"]


def test_a_disk_created_with_wait_is_listed_and_destroyed(dashboard, make_token, tmp_path):
    user, secret = make_token("Creator", scopes=("read", "operate", "manage"))
    run = lambda *a: xds(*a, token=secret, url=dashboard.url, home=tmp_path)  # noqa: E731

    made = run("disk-create", "--area", "south-china", "--size", "40", "--wait", "--json")
    assert made.returncode == 0, made.stderr
    operation = json.loads(made.stdout)
    assert operation["state"] == "succeeded" and operation["disk_id"], operation
    disk_id = operation["disk_id"]
    assert f"#{operation['id']}" in made.stderr  # the progress line
    (upstream,) = dashboard.sim.fleet.storage.disks.values()
    assert upstream.id == disk_id and upstream.memory == 40

    table = run("disks", "--owner", "mine")
    assert table.stdout.splitlines()[0].split()[:3] == ["ID", "NAME", "STATUS"]
    assert disk_id in table.stdout and "unmounted" in table.stdout
    disk = json.loads(run("disk", disk_id, "--json").stdout)
    assert disk["size_gb"] == 40 and disk["owner"] == user.username
    assert "disk_destroy" in disk["actions"]

    refused = run("disk-destroy", disk_id)  # without --yes
    assert refused.returncode == 2 and "--yes" in refused.stderr
    gone = run("disk-destroy", disk_id, "--yes", "--wait", "--json")
    assert gone.returncode == 0, gone.stderr + gone.stdout
    assert json.loads(gone.stdout)["kind"] == "disk_destroy"
    assert json.loads(run("disk", disk_id, "--json").stdout)["status"] == "gone"
    assert not dashboard.sim.fleet.storage.disks or upstream.status.name == "DESTROYING"
    kinds = [op.kind for op in Operation.objects.order_by("created_at")]
    assert kinds == ["disk_create", "disk_destroy"]
    assert run("disk-detach", "nope").returncode == 5
    assert run("images", "--json").stdout.strip() == "[]"


def test_exit_codes_say_what_went_wrong(dashboard, make_token, tmp_path):
    _viewer, read_only = make_token("Viewer", scopes=("read", "operate"))
    home = tmp_path
    assert xds("hosts", home=home).returncode == 3  # not signed in
    assert xds("hosts", token="xds_nope", url=dashboard.url, home=home).returncode == 3
    denied = xds("power-on", "h1", token=read_only, url=dashboard.url, home=home, timeout=60)
    assert denied.returncode == 5  # no such host: looked up before the role is asked
    assert xds("host", "nope", token=read_only, url=dashboard.url, home=home).returncode == 5
    _op, op_secret = make_token("Operator", scopes=("read",))
    scope = xds("reboot", "h1", "--json", token=op_secret, url=dashboard.url, home=home)
    assert scope.returncode == 4 and "operate" in json.loads(scope.stdout)["error"]
    unreachable = xds("hosts", token=read_only, url="http://127.0.0.1:9", home=home)
    assert unreachable.returncode == 8

    # --wait that gives up says so (10), and the operation goes on: `xds op ID --wait` follows it.
    upstream = dashboard.sim.fleet.add_host(status=2)  # running
    services.host_mirror_save(host=get_client().get_host(upstream.id))
    _operator, operator = make_token("Operator", scopes=("read", "operate"))
    run = lambda *a: xds(*a, token=operator, url=dashboard.url, home=home)  # noqa: E731
    gave_up = run("power-off", upstream.id, "--wait", "--wait-timeout", "0", "--json")
    assert gave_up.returncode == 10, gave_up.stderr
    operation = json.loads(gave_up.stdout)
    assert "follows it again" in gave_up.stderr
    assert run("op", str(operation["id"]), "--wait").returncode == 0
    refused = run("reboot", upstream.id)  # off now: its state does not allow a reboot
    assert refused.returncode == 6, refused.stderr


def test_login_keeps_the_token_in_a_file_only_its_owner_reads(dashboard, make_token, tmp_path):
    _user, secret = make_token("Viewer")
    login = xds("login", "--url", dashboard.url, "--token", secret, home=tmp_path)
    assert login.returncode == 0, login.stderr
    path = tmp_path / "xds.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["token"] == secret
    who = xds("whoami", "--json", home=tmp_path)
    assert who.returncode == 0 and json.loads(who.stdout)["scopes"] == ["read"]
    path.chmod(0o644)  # made readable by others: refused until fixed
    loose = xds("hosts", home=tmp_path)
    assert loose.returncode == 3 and "chmod 600" in loose.stderr
    path.chmod(0o600)
    assert xds("logout", home=tmp_path).returncode == 0 and not path.exists()
    # A wrong token is not kept.
    assert xds("login", "--url", dashboard.url, "--token", "xds_bad", home=tmp_path).returncode == 3
    assert not path.exists()
