"""bin/demo: one command starts the simulator, a worker, beat and the web server on embedded
defaults; the worker processes what the web and beat enqueue; Ctrl-C leaves nothing running."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

from bin.demo_supervisor import DEMO_USERS, create_demo_users, port_is_free
from tests.conftest import free_port
from tests.deploy.conftest import PYTHON, ROOT, child_env, run_in_project

DEADLINE_SECONDS = 90
# The worker's log line of a sync, with the request id of the click that asked for it.
WEB_SYNC_IN_THE_WORKER = r"^worker +\| .*\[demo-test-click\] host sync: 8 hosts"


class Demo:
    """bin/demo running in the background, its output collected line by line."""

    def __init__(self, env: dict[str, str], argv: list[str] | None = None) -> None:
        self.proc = subprocess.Popen(  # noqa: S603 - our own script
            argv or [str(ROOT / "bin" / "demo")],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # a signal for the test's process group never reaches it
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, what: str, check, deadline: float) -> object:
        while time.monotonic() < deadline:
            found = check()
            if found:
                return found
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        pytest.fail(f"the demo never got to: {what}\n--- its output ---\n{self.output}")

    def child_pids(self) -> dict[str, int]:
        return {
            m[1]: int(m[2]) for m in re.finditer(r"demo: started (\w+) \(pid (\d+)\)", self.output)
        }

    def kill_everything(self) -> None:
        """After a failure: nothing may outlive the test."""
        for pid in [self.proc.pid, *self.child_pids().values()]:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        self.proc.wait(10)


def processes_in_groups(groups: set[int]) -> list[str]:
    """What `ps -eo pid,pgid,cmd` would list for these process groups."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            pgid = int(fields[2])
            if pgid in groups and fields[0] != "Z":
                found.append(stat.parent.joinpath("cmdline").read_text().replace("\0", " "))
        except (OSError, IndexError, ValueError):
            continue
    return found


def answers(url: str, **kwargs) -> requests.Response | None:
    try:
        return requests.get(url, timeout=5, **kwargs)
    except requests.RequestException:
        return None


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="checks for leftovers through /proc")
def test_the_demo_serves_processes_tasks_and_stops_cleanly(tmp_path):
    web, sim = free_port(), free_port()
    env = child_env(
        tmp_path / "var",
        WEB_PORT=str(web),
        SIM_PORT=str(sim),
        DEMO_HOSTS="8",
        XDS_SYNC_INTERVAL="2",  # beat sends a sync every two seconds
    )
    env.pop("DJANGO_SECRET_KEY", None)  # as on a fresh clone: the demo makes its own
    base = f"http://127.0.0.1:{web}"
    deadline = time.monotonic() + DEADLINE_SECONDS
    demo = Demo(env)
    try:
        login = demo.wait_for(
            "the login page",
            lambda: (r := answers(f"{base}/accounts/login/")) is not None and r.status_code == 200,
            deadline,
        )
        assert login
        passwords = dict(re.findall(r"sign in as (\w+) / (\S+)", demo.output))
        assert set(passwords) == {user.username for user in DEMO_USERS}

        # Once the worker is ready too, the sign-ins are said again, below Celery's banner and
        # the worker's start: nobody has to scroll up for them.
        demo.wait_for("everything up", lambda: "demo: everything is up" in demo.output, deadline)
        lines = list(demo.lines)
        up = lines.index(f"demo: everything is up: the dashboard is at {base}/")
        ready = next(i for i, line in enumerate(lines) if re.match(r"worker +\| .* ready\.", line))
        banner = max(
            i for i, line in enumerate(lines) if re.match(r"worker +\| .*\[config\]", line)
        )
        assert banner < ready < up
        again = dict(re.findall(r"sign in as (\w+) / (\S+)", "\n".join(lines[up:])))
        assert again == passwords

        # A member asks for a sync: the web process enqueues it on the filesystem broker, and
        # the demo's worker runs it (its log lines carry the request id of the click).
        session = requests.Session()
        session.get(f"{base}/accounts/login/", timeout=5)
        signed_in = session.post(
            f"{base}/accounts/login/",
            data={
                "username": "alice",
                "password": passwords["alice"],
                "csrfmiddlewaretoken": session.cookies["csrftoken"],
            },
            headers={"Referer": f"{base}/accounts/login/"},
            allow_redirects=False,
            timeout=5,
        )
        assert signed_in.status_code == 302
        clicked = session.post(
            f"{base}/sync/",
            headers={
                "X-CSRFToken": session.cookies["csrftoken"],
                "X-Request-ID": "demo-test-click",
                "Referer": f"{base}/hosts/",
            },
            allow_redirects=False,
            timeout=5,
        )
        assert clicked.status_code == 302
        demo.wait_for(
            "the worker running the web's sync",
            lambda: re.search(WEB_SYNC_IN_THE_WORKER, demo.output, re.MULTILINE),
            deadline,
        )
        # ... and beat's.
        demo.wait_for(
            "beat sending a sync",
            lambda: "Sending due task xds-sync-hosts" in demo.output,
            deadline,
        )
        health = demo.wait_for(
            "a healthy /healthz",
            lambda: (r := answers(f"{base}/healthz")) is not None and r.status_code == 200 and r,
            deadline,
        )
        assert health.json()["checks"]["sync"]["ok"]
        hosts = session.get(f"{base}/hosts/", timeout=5)
        assert hosts.status_code == 200
        assert session.get(f"{base}/packages/", timeout=5).status_code == 200
        # DEBUG is off: a missing page shows members nothing of the server...
        missing = session.get(f"{base}/no-such-page/", timeout=5)
        assert missing.status_code == 404 and "URLconf" not in missing.text
        # ... and the pages still get their styles and scripts (WhiteNoise).
        assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', hosts.text)
        assert any(a.endswith(".css") for a in assets) and any(a.endswith(".js") for a in assets)
        for asset in assets:
            assert session.get(f"{base}{asset}", timeout=5).status_code == 200, asset

        children = demo.child_pids()
        assert set(children) == {"sim", "worker", "beat", "web"}
        assert processes_in_groups(set(children.values()))  # running, pool processes included

        demo.proc.send_signal(signal.SIGINT)
        assert demo.proc.wait(30) == 0
        demo._reader.join(5)
    except BaseException:
        demo.kill_everything()
        raise

    assert "demo: stopped" in demo.output
    assert processes_in_groups(set(children.values()) | {demo.proc.pid}) == []
    # Nothing was written outside the demo's own var directory.
    assert (tmp_path / "var" / "db.sqlite3").exists()
    # Its secret key is kept there, readable by its owner only, for the next start.
    key_file = tmp_path / "var" / "secret_key"
    assert len(key_file.read_text().strip()) >= 50
    assert key_file.stat().st_mode & 0o077 == 0


def test_a_taken_port_is_a_clear_error(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_in_project(
            [PYTHON, "-m", "bin.demo_supervisor"],
            child_env(tmp_path / "var", WEB_PORT=str(port), SIM_PORT=str(free_port())),
        )

    assert result.returncode == 2
    assert f"port {port} on 127.0.0.1 is already in use" in result.stdout
    assert f"WEB_PORT={port + 1} bin/demo" in result.stdout
    assert not (tmp_path / "var" / "db.sqlite3").exists()  # it stopped before doing anything


def test_a_bad_port_is_refused(tmp_path):
    result = run_in_project(
        [PYTHON, "-m", "bin.demo_supervisor"], child_env(tmp_path / "var", SIM_PORT="eighty")
    )

    assert result.returncode != 0 and "SIM_PORT must be a port number" in result.stderr


def test_a_free_port_is_free_and_a_listening_one_is_not():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        assert not port_is_free(sock.getsockname()[1])
    assert port_is_free(free_port())


@pytest.mark.django_db
def test_the_demo_users_are_created_once_and_get_new_passwords(django_user_model, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

    first = dict((user.username, password) for user, password in create_demo_users())
    second = dict((user.username, password) for user, password in create_demo_users())

    assert set(first) == {"admin", "alice", "bob", "carol"}
    assert django_user_model.objects.count() == 4
    admin = django_user_model.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    alice = django_user_model.objects.get(username="alice")
    assert not alice.is_superuser and not alice.is_staff
    assert alice.check_password(second["alice"]) and first["alice"] != second["alice"]
    # One member of each role, so the demo shows what each may do.
    roles = {
        user.username: sorted(user.groups.values_list("name", flat=True))
        for user in django_user_model.objects.all()
    }
    assert roles == {"admin": [], "alice": ["Creator"], "bob": ["Operator"], "carol": ["Viewer"]}
    assert alice.has_perm("dashboard.create_host") and not alice.has_perm(
        "dashboard.power_any_host"
    )


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="checks for leftovers through /proc")
def test_when_one_process_dies_the_demo_stops_the_others(tmp_path):
    web, sim = free_port(), free_port()
    env = child_env(tmp_path / "var", WEB_PORT=str(web), SIM_PORT=str(sim), DEMO_HOSTS="2")
    deadline = time.monotonic() + DEADLINE_SECONDS
    demo = Demo(env)
    try:
        demo.wait_for("the dashboard", lambda: "Ctrl-C stops everything" in demo.output, deadline)
        children = demo.child_pids()
        os.kill(children["beat"], signal.SIGKILL)

        assert demo.proc.wait(30) == 1
        demo._reader.join(5)
    except BaseException:
        demo.kill_everything()
        raise

    assert re.search(r"demo: beat exited with code -9; stopping everything", demo.output)
    assert processes_in_groups(set(children.values()) | {demo.proc.pid}) == []
