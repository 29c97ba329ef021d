"""The one-command demo's supervisor: `bin/demo` bootstraps .venv and runs
`python -m bin.demo_supervisor`.

It migrates, (re)creates the demo users with fresh passwords, then supervises four processes:
the upstream simulator with a seeded fleet, a Celery worker, Celery beat and the web server,
each printed with a prefix. Ctrl-C (or SIGTERM, or any of them dying) stops them all. The
address and the sign-ins are printed when the web server answers, and again, last, once the
worker is ready too (Celery's banner would have scrolled them away).

- Every child runs in a session (process group) of its own, so a Ctrl-C in the terminal
  reaches the supervisor only, and stopping a child means signalling its whole group: the
  worker's pool processes go with it. SIGTERM first, SIGKILL to whatever is left after a grace
  period; a second Ctrl-C does not wait. On Linux a child also gets SIGTERM if the supervisor
  itself is killed.
- One thread reads every child's output through a selector, so lines are never interleaved.
- The defaults are embedded: SQLite and the filesystem broker under XDS_VAR_DIR (./var), the
  simulator as the upstream. DATABASE_URL, CELERY_BROKER_URL and CACHE_URL are used when set;
  with XDS_BASE_URL set the demo talks to that upstream and starts no simulator.
- It runs as production does, not in development: DEBUG off (an error page shows members nothing
  of the server), the static files collected and served by WhiteNoise, and a secret key of its
  own, made once and kept in XDS_VAR_DIR/secret_key (unless DJANGO_SECRET_KEY is set), so
  sign-ins survive a restart.

Environment: WEB_PORT (8000), SIM_PORT (8765), DEMO_HOSTS (60, the simulated fleet's size).
A bad one, or a bad setting, stops it with one line before anything starts.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import secrets
import selectors
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GRACE_SECONDS = 10.0
READY_TIMEOUT_SECONDS = 60.0
# The worker's line once it takes tasks ("demo@host ready."), plain or JSON.
WORKER_READY = re.compile(r"@\S+ ready\.")


# --- The demo's users -----------------------------------------------------------------------


@dataclass(frozen=True)
class DemoUser:
    username: str
    superuser: bool = False
    roles: tuple[str, ...] = ()  # groups from migration 0005

    @property
    def description(self) -> str:
        return "superuser" if self.superuser else " + ".join(self.roles) or "no role"


# Who signs in to the demo: one of each kind of member.
DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("admin", superuser=True),
    DemoUser("alice", roles=("Creator",)),
    DemoUser("bob", roles=("Operator",)),
    DemoUser("carol", roles=("Viewer",)),
)


def create_demo_users(users: tuple[DemoUser, ...] = DEMO_USERS) -> list[tuple[DemoUser, str]]:
    """Creates each demo user, or resets it, with a new random password; returns the
    passwords, to be printed. Needs Django set up."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import transaction

    user_model = get_user_model()
    credentials = []
    with transaction.atomic():
        for spec in users:
            user, _ = user_model.objects.get_or_create(
                username=spec.username,
                defaults={"email": f"{spec.username}@example.test"},
            )
            user.is_staff = user.is_superuser = spec.superuser
            user.is_active = True
            password = secrets.token_urlsafe(9)
            user.set_password(password)
            user.save()
            user.groups.set(Group.objects.filter(name__in=spec.roles))
            credentials.append((spec, password))
    return credentials


# --- Processes --------------------------------------------------------------------------------


def _parent_death_signal():
    """A preexec_fn asking Linux to SIGTERM the child when the supervisor dies; None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1

    def preexec() -> None:
        prctl(pr_set_pdeathsig, signal.SIGTERM)

    return preexec


@dataclass
class Child:
    name: str
    argv: list[str]
    proc: subprocess.Popen | None = None
    pending: bytes = b""
    stopped_by_us: bool = False
    ready_line: re.Pattern | None = None  # a line in its output that says it is ready
    ready: bool = False

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


@dataclass
class Supervisor:
    env: dict[str, str]
    out: object = field(default_factory=lambda: sys.stdout)
    children: list[Child] = field(default_factory=list)
    signals_received: int = 0  # SIGINT, SIGTERM or SIGHUP: the first stops, a second hurries

    def __post_init__(self) -> None:
        self.selector = selectors.DefaultSelector()
        self._preexec = _parent_death_signal()
        self._width = 6

    def say(self, text: str) -> None:
        print(f"demo: {text}", file=self.out, flush=True)

    def start(self, name: str, argv: list[str], *, ready_line: re.Pattern | None = None) -> Child:
        child = Child(name, argv, ready_line=ready_line)
        child.proc = subprocess.Popen(  # noqa: S603 - our own commands
            argv,
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=self._preexec,  # safe: this process starts no threads
        )
        self.children.append(child)
        self.selector.register(child.proc.stdout, selectors.EVENT_READ, child)
        self.say(f"started {name} (pid {child.proc.pid})")
        return child

    # -- output --

    def pump(self, timeout: float) -> None:
        """Prints what the children wrote within `timeout` seconds, one prefixed line each."""
        if not self.selector.get_map():
            time.sleep(timeout)
            return
        for key, _ in self.selector.select(timeout):
            child: Child = key.data
            chunk = os.read(key.fd, 65536)
            if not chunk:
                self.selector.unregister(key.fileobj)
                self._emit(child, child.pending, final=True)
                continue
            self._emit(child, child.pending + chunk)

    def _emit(self, child: Child, data: bytes, *, final: bool = False) -> None:
        *lines, child.pending = data.split(b"\n")
        if final and child.pending:
            lines, child.pending = [*lines, child.pending], b""
        prefix = f"{child.name:<{self._width}} | "
        for line in lines:
            text = line.decode(errors="replace").rstrip("\r")
            print(prefix + text, file=self.out)
            if child.ready_line is not None and not child.ready:
                child.ready = bool(child.ready_line.search(text))
        if lines:
            self.out.flush()

    # -- waiting --

    def exited(self) -> Child | None:
        """A child that ended without being asked to."""
        for child in self.children:
            if not child.alive and not child.stopped_by_us:
                return child
        return None

    def wait_for_port(self, child: Child, port: int, timeout: float = READY_TIMEOUT_SECONDS):
        """True once `port` accepts connections; False if the child died, we were asked to
        stop, or it took longer than `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.stop_requested or not child.alive:
                return False
            if port_accepts(port):
                return True
            self.pump(0.2)
        return False

    def wait_until_ready(self, child: Child, timeout: float = READY_TIMEOUT_SECONDS) -> bool:
        """True once `child` printed its ready line; False if it died, we were asked to stop,
        or it took longer than `timeout`."""
        deadline = time.monotonic() + timeout
        while not child.ready and time.monotonic() < deadline:
            if self.stop_requested or self.exited() is not None:
                return False
            self.pump(0.2)
        return child.ready

    def run_until_stopped(self) -> Child | None:
        """Prints output until a stop signal or a child's exit; returns the child that exited."""
        while not self.stop_requested:
            ended = self.exited()
            if ended is not None:
                return ended
            self.pump(0.2)
        return None

    # -- stopping --

    def stop_all(self, grace: float = GRACE_SECONDS) -> None:
        """SIGTERM to every child (the last started first), which stops its own helpers (the
        worker its pool); then SIGKILL to each child's whole process group, for anything still
        there after `grace` seconds, or at once on another Ctrl-C."""
        signals_before = self.signals_received
        for child in reversed(self.children):
            child.stopped_by_us = True
            if child.alive:
                child.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        while any(c.alive for c in self.children) and time.monotonic() < deadline:
            if self.signals_received > signals_before:
                break  # asked again while stopping: do not wait
            self.pump(0.1)
        for child in self.children:
            if child.alive:
                self.say(f"{child.name} did not stop within {grace:.0f}s; killing it")
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.proc.pid, signal.SIGKILL)  # the child leads its own group
        for child in self.children:
            child.proc.wait()
        end = time.monotonic() + 1
        while self.selector.get_map() and time.monotonic() < end:
            self.pump(0.05)

    @property
    def stop_requested(self) -> bool:
        return self.signals_received > 0

    def on_signal(self, signum, frame) -> None:
        self.signals_received += 1


# --- Ports ------------------------------------------------------------------------------------


def port_accepts(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As the servers do, so a port in TIME_WAIT from the last run counts as free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _port(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip() or str(default)
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise SystemExit(f"demo: {name} must be a port number, not {raw!r}")
    return int(raw)


def _fleet_size(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip() or str(default)
    if not raw.isdigit():
        raise SystemExit(f"demo: {name} must be a whole number of hosts (0 or more), not {raw!r}")
    return int(raw)


# --- The demo ---------------------------------------------------------------------------------


def _environment(sim_port: int) -> tuple[dict[str, str], bool]:
    """The children's environment, and whether the demo runs its own simulator."""
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    # Members try the demo: an error must not show them the server's settings and environment.
    env["DJANGO_DEBUG"] = "false"
    env["XDS_SERVE_STATIC"] = "true"  # WhiteNoise, as in the image (collected by _prepare)
    env.setdefault("XDS_LOG_FORMAT", "plain")  # people read the demo's terminal
    env["PYTHONUNBUFFERED"] = "1"  # lines as they happen, not when a buffer fills
    own_simulator = not env.get("XDS_BASE_URL")
    if own_simulator:
        env["XDS_BASE_URL"] = f"http://127.0.0.1:{sim_port}"
    return env, own_simulator


def _use_own_secret_key(env: dict[str, str]) -> None:
    """Unless a key is configured, the demo's own: made once per var folder, kept in a file
    only its owner reads, and passed to the children as DJANGO_SECRET_KEY_FILE."""
    if env.get("DJANGO_SECRET_KEY") or env.get("DJANGO_SECRET_KEY_FILE"):
        return
    var_dir = Path(env.get("XDS_VAR_DIR") or ROOT / "var")
    var_dir.mkdir(parents=True, exist_ok=True)
    path = (var_dir / "secret_key").resolve()
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_urlsafe(50) + "\n")
    env["DJANGO_SECRET_KEY_FILE"] = str(path)


def _prepare(out) -> list[tuple[DemoUser, str]]:
    """Migrates, collects the static files and (re)creates the demo users."""
    import django
    from django.core.management import call_command
    from django.db import connections

    django.setup()
    call_command("migrate", interactive=False, verbosity=0, stdout=out)
    call_command("collectstatic", interactive=False, verbosity=0, stdout=out)
    try:
        return create_demo_users()
    finally:
        connections.close_all()


def main() -> int:
    web_port = _port("WEB_PORT", 8000)
    sim_port = _port("SIM_PORT", 8765)
    hosts = str(_fleet_size("DEMO_HOSTS", 60))
    env, own_simulator = _environment(sim_port)

    supervisor = Supervisor(env=env)
    wanted = [("WEB_PORT", web_port)] + ([("SIM_PORT", sim_port)] if own_simulator else [])
    if own_simulator and web_port == sim_port:
        supervisor.say("WEB_PORT and SIM_PORT must differ")
        return 2
    for name, port in wanted:
        if not port_is_free(port):
            supervisor.say(
                f"port {port} on 127.0.0.1 is already in use (another demo, or another server?)."
                f" Stop it, or choose another port: {name}={port + 1} bin/demo"
            )
            return 2

    _use_own_secret_key(env)
    os.environ.update(env)  # this process migrates and creates the users with the same settings
    from dashboard.env import load_settings_or_exit, mask_url_password

    load_settings_or_exit()  # a bad setting: one line, before any process starts

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, supervisor.on_signal)

    from django.conf import settings

    supervisor.say(
        f"database {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, "
        f"broker {settings.CELERY_BROKER_URL.split('://', 1)[0]}, "
        f"upstream {mask_url_password(settings.XDS_BASE_URL)}, files under {settings.VAR_DIR}"
    )
    credentials = _prepare(supervisor.out)
    if supervisor.stop_requested:
        return 0
    python = sys.executable
    manage = [python, "manage.py"]
    celery = [python, "-m", "celery", "-A", "dashboard"]
    try:
        if own_simulator:
            sim = supervisor.start(
                "sim", [*manage, "simulator", "--port", str(sim_port), "--hosts", hosts]
            )
            if not supervisor.wait_for_port(sim, sim_port):
                return _give_up(supervisor, "the simulator did not start")
        worker = supervisor.start(
            "worker",
            [
                *celery,
                "worker",
                "--concurrency",
                "2",
                "--without-mingle",
                "--without-gossip",
                "--hostname",
                "demo@%h",
            ],
            ready_line=WORKER_READY,
        )
        supervisor.start("beat", [*celery, "beat"])
        web = supervisor.start("web", [*manage, "runserver", f"127.0.0.1:{web_port}", "--noreload"])
        if not supervisor.wait_for_port(web, web_port):
            return _give_up(supervisor, "the web server did not start")

        address = f"http://127.0.0.1:{web_port}/"
        supervisor.say(f"the dashboard is at {address}")
        _say_sign_ins(supervisor, credentials)
        # Celery's banner and the first syncs scroll the sign-ins away: once the worker takes
        # tasks too, they are said again, last.
        if supervisor.wait_until_ready(worker):
            supervisor.say(f"everything is up: the dashboard is at {address}")
            _say_sign_ins(supervisor, credentials)
        elif worker.alive and not supervisor.stop_requested:
            supervisor.say(
                f"the worker is not ready after {READY_TIMEOUT_SECONDS:.0f}s:"
                " pages work, actions wait for it"
            )
        supervisor.say("Ctrl-C stops everything")
        ended = supervisor.run_until_stopped()
        if ended is not None:
            code = ended.proc.returncode if ended.proc else "?"
            return _give_up(supervisor, f"{ended.name} exited with code {code}")
        supervisor.say("stopping")
        supervisor.stop_all()
        supervisor.say("stopped")
        return 0
    finally:
        # Whatever happened above (an exception included), nothing is left running.
        if any(child.alive for child in supervisor.children):
            supervisor.stop_all()


def _say_sign_ins(supervisor: Supervisor, credentials: list[tuple[DemoUser, str]]) -> None:
    for user, password in credentials:
        supervisor.say(f"  sign in as {user.username} / {password}  ({user.description})")


def _give_up(supervisor: Supervisor, why: str) -> int:
    if supervisor.stop_requested:
        supervisor.say("stopping")
        supervisor.stop_all()
        supervisor.say("stopped")
        return 0
    supervisor.say(f"{why}; stopping everything")
    supervisor.stop_all()
    return 1


if __name__ == "__main__":
    sys.exit(main())
