"""The image's runtime, without Docker: the project paths the Dockerfile copies, laid out in a
fresh directory with the Dockerfile's environment, build their static files and serve the
dashboard through gunicorn with deploy/gunicorn.conf.py, WhiteNoise and JSON logs."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time

import pytest
import requests

from tests.conftest import free_port
from tests.deploy.conftest import PYTHON, ROOT, child_env
from tests.deploy.test_compose import dockerfile_copies, dockerfile_env


@pytest.fixture
def image(tmp_path):
    """The image's /app as a directory, and the environment its containers get."""
    app = tmp_path / "app"
    app.mkdir()
    for source in dockerfile_copies():
        if source.startswith("requirements/"):
            continue  # the build stage's, not the runtime's
        path = ROOT / source.rstrip("/")
        target = app / source.rstrip("/")
        if path.is_dir():
            shutil.copytree(path, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, target)
    env = child_env(tmp_path / "var", **dockerfile_env())
    env["XDS_VAR_DIR"] = str(tmp_path / "var")  # /var/lib/xds in the image
    env["XDS_STATIC_ROOT"] = str(app / "staticfiles")  # /app/staticfiles in the image
    env["DJANGO_SECRET_KEY"] = "image-test-" + "k" * 40
    return app, env


def run(app, env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        [PYTHON, *args], cwd=app, env=env, capture_output=True, text=True, timeout=120, check=True
    )


def test_the_image_serves_pages_static_files_and_healthz_through_gunicorn(image, tmp_path):
    app, env = image
    # As the Dockerfile's RUN and the compose file's migrate service do.
    run(
        app,
        {**env, "XDS_VAR_DIR": str(tmp_path / "build")},
        "manage.py",
        "collectstatic",
        "--noinput",
    )
    assert (app / "staticfiles" / "staticfiles.json").is_file()
    run(app, env, "manage.py", "migrate", "--noinput")

    port = free_port()
    gunicorn = subprocess.Popen(  # noqa: S603
        [
            PYTHON,
            "-m",
            "gunicorn",
            "--config",
            "deploy/gunicorn.conf.py",
            "dashboard.wsgi:application",
        ],
        cwd=app,
        env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        page = None
        deadline = time.monotonic() + 30
        while page is None and time.monotonic() < deadline and gunicorn.poll() is None:
            try:
                page = requests.get(f"{base}/accounts/login/", timeout=5)
            except requests.ConnectionError:
                time.sleep(0.2)
        assert page is not None and page.status_code == 200

        # Pages link the hashed copies, which WhiteNoise serves compressed and cacheable for ever.
        css = re.search(r'href="(/static/css/dashboard\.[0-9a-f]{12}\.css)"', page.text)
        assert css, page.text
        static = requests.get(base + css[1], headers={"Accept-Encoding": "gzip"}, timeout=5)
        assert static.status_code == 200
        assert "immutable" in static.headers["Cache-Control"]
        assert static.headers.get("Content-Encoding") == "gzip"

        health = requests.get(
            f"{base}/healthz", headers={"X-Request-ID": "image-probe"}, timeout=30
        )
        assert health.status_code == 503  # nothing has synced, no upstream is running
        assert "sync" in health.json()["failing"]
        assert health.headers["X-Request-ID"] == "image-probe"
    finally:
        gunicorn.terminate()
        output, _ = gunicorn.communicate(timeout=30)

    # Everything it logged, gunicorn's own lines included, is a JSON line.
    entries = [json.loads(line) for line in output.splitlines() if line.strip()]
    loggers = {e["logger"] for e in entries}
    assert {"gunicorn.error", "dashboard.access"} <= loggers
    assert any(e.get("request_id") == "image-probe" for e in entries)
    assert env["DJANGO_SECRET_KEY"] not in output
