"""`manage.py xds_check` against the simulator."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from vmclient.simulator import Fault


@pytest.fixture
def configured(settings, make_simulator):
    sim = make_simulator(hosts=57)
    settings.XDS_BASE_URL = sim.url
    settings.XDS_UUID = sim.uuid
    settings.XDS_SECRET = sim.secret
    settings.XDS_TIMEOUT = 2.0
    return sim


def _run(*args):
    out, err = StringIO(), StringIO()
    call_command("xds_check", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_prints_the_accounts_templates_images_hosts_disks_and_personal_images(configured):
    sim = configured
    templates = {p.package_id for b in (0, 1) for p in sim.fleet.packages_for(b)}
    disks, personal_images = len(sim.fleet.storage.disks), len(sim.fleet.storage.images)
    assert disks and personal_images  # the seeded account has both
    out, _ = _run()
    assert out.strip() == (
        f"OK {sim.url} account {sim.uuid}: {len(templates)} templates, "
        f"{len(sim.fleet.images)} images, 57 hosts, {disks} disks, "
        f"{personal_images} personal images"
    )


def test_counts_every_disk_and_image_across_pages(configured):
    sim = configured
    host = next(iter(sim.fleet.hosts.values()))
    for _ in range(130):
        sim.fleet.storage.add_disk(area=1, memory=20)
    for number in range(6):
        sim.fleet.storage.put_image(host, f"extra-{number}", status=1, create_time=0)
    sim.config.max_disk_page_size = 50  # the provider may serve fewer than asked
    out, _ = _run()
    disks, personal_images = len(sim.fleet.storage.disks), len(sim.fleet.storage.images)
    assert out.strip().endswith(f", {disks} disks, {personal_images} personal images")
    assert disks > 130


def test_a_broken_disk_list_fails_with_its_code(configured):
    configured.add_fault(
        Fault("interface_503", path="/v1/PveMachineHardDisk/open/getList", times=None)
    )
    with pytest.raises(CommandError, match="code 503"):
        _run()


def test_templates_sold_both_ways_are_counted_once(configured):
    sim = configured
    both = [p for p in sim.fleet.packages if p.use_type == 2]
    assert both  # the catalog lists these under packAge/0 and packAge/1
    out, _ = _run()
    assert f" {len(sim.fleet.packages)} templates" in out


def test_base_url_option_overrides_the_setting(settings, make_simulator):
    sim = make_simulator(hosts=3)
    settings.XDS_BASE_URL = "http://127.0.0.1:9"  # nothing listens there
    settings.XDS_UUID, settings.XDS_SECRET = sim.uuid, sim.secret
    out, _ = _run("--base-url", sim.url)
    assert out.startswith(f"OK {sim.url} ") and " 3 hosts, " in out


def test_a_wrong_secret_fails_with_the_message_code_and_trace_id(configured, settings):
    settings.XDS_SECRET = "not-the-secret"
    with pytest.raises(CommandError) as caught:
        _run()
    text = str(caught.value)
    assert "XDS_UUID" in text and "XDS_SECRET" in text
    assert "code 401" in text
    assert "trace id " in text and "trace id none" not in text
    assert "not-the-secret" not in text


def test_the_failure_message_can_be_chinese(configured, settings):
    settings.XDS_SECRET = "not-the-secret"
    with pytest.raises(CommandError, match="控制台无法登录服务商"):
        _run("--language", "zh")


def test_an_unreachable_upstream_fails_non_zero(settings):
    settings.XDS_BASE_URL = "http://127.0.0.1:9"
    with pytest.raises(CommandError, match="could not be reached"):
        _run()


def test_a_broken_upstream_fails_with_its_trace_id(configured):
    configured.add_fault(Fault("interface_503", path="/v1/pve/open/image", times=None))
    with pytest.raises(CommandError) as caught:
        _run()
    assert "code 503" in str(caught.value) and "trace id none" not in str(caught.value)


def test_exits_non_zero_from_the_command_line(configured, settings):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]

    env = {
        "XDS_BASE_URL": configured.url,
        "XDS_UUID": configured.uuid,
        "XDS_SECRET": "not-the-secret",
        "PATH": "/usr/bin:/bin",
        # The run's own secret key (bin/test's): nothing starts without one.
        **{k: v for k, v in os.environ.items() if k.startswith("DJANGO_SECRET_KEY")},
    }
    result = subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, str(root / "manage.py"), "xds_check"],
        cwd=root,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "XDS_SECRET" in result.stderr and "trace id" in result.stderr
    assert result.stdout == ""
