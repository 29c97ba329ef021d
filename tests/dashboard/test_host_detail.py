"""/hosts/<id>/: everything about one host, and how to connect to it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from vmclient.types import BillingType, HostStatus

pytestmark = pytest.mark.django_db


def test_anonymous_visitors_are_sent_to_the_login_page(client, make_host):
    host = make_host()
    assert client.get(f"/hosts/{host.id}/").status_code == 302
    assert client.get(f"/hosts/{host.id}/connect.rdp").status_code == 302


def test_a_linux_host_shows_an_ssh_command_to_copy(member_client, make_host):
    host = make_host(
        operating_system="Ubuntu Server", login_user="root", address="203.0.113.7", port=20022
    )
    html = member_client.get(f"/hosts/{host.id}/").content.decode()
    assert '<code id="ssh-command" class="mono">ssh -p 20022 root@203.0.113.7</code>' in html
    assert 'data-copy="#ssh-command"' in html
    assert "connect.rdp" not in html


def test_the_ssh_command_falls_back_to_ipv4_host_and_port(member_client, make_host):
    host = make_host(operating_system="Debian", address="", port=None, ipv4="198.51.100.2:2200")
    html = member_client.get(f"/hosts/{host.id}/").content.decode()
    assert "ssh -p 2200 root@198.51.100.2" in html


def test_upstream_values_cannot_inject_shell_words(member_client, make_host):
    host = make_host(login_user="root;rm -rf ~", address="203.0.113.7", port=22)
    html = member_client.get(f"/hosts/{host.id}/").content.decode()
    assert "ssh &#x27;root;rm -rf ~@203.0.113.7&#x27;" in html


def test_a_windows_host_offers_an_rdp_file(member_client, make_host):
    host = make_host(
        name="win render/01",
        operating_system="Windows Server",
        login_user="Administrator",
        address="203.0.113.9",
        port=33890,
    )
    html = member_client.get(f"/hosts/{host.id}/").content.decode()
    assert f'href="/hosts/{host.id}/connect.rdp"' in html
    assert "ssh-command" not in html
    assert "Administrator" in html

    response = member_client.get(f"/hosts/{host.id}/connect.rdp")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-rdp"
    assert response["Content-Disposition"] == 'attachment; filename="win-render-01.rdp"'
    body = response.content.decode()
    assert "full address:s:203.0.113.9:33890\r\n" in body
    assert "username:s:Administrator\r\n" in body
    assert "password" not in body.lower()


def test_the_rdp_file_keeps_a_name_in_chinese(member_client, make_host):
    host = make_host(name="后期合成-06", operating_system="Windows 10", address="203.0.113.9")
    response = member_client.get(f"/hosts/{host.id}/connect.rdp")
    # RFC 6266: browsers take the UTF-8 name from filename*, so the file is 后期合成-06.rdp.
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''%E5%90%8E%E6%9C%9F%E5%90%88%E6%88%90-06.rdp"
    )


def test_the_rdp_file_drops_control_characters(member_client, make_host):
    host = make_host(
        operating_system="Windows", login_user="Admin\r\nalternate shell:s:cmd", address="h"
    )
    body = member_client.get(f"/hosts/{host.id}/connect.rdp").content.decode()
    assert "username:s:Adminalternate shell:s:cmd\r\n" in body
    assert "\nalternate shell" not in body


def test_no_rdp_file_for_a_linux_host_or_a_host_without_address(member_client, make_host):
    linux = make_host(operating_system="Ubuntu Server")
    no_address = make_host(operating_system="Windows", address="", ipv4="")
    assert member_client.get(f"/hosts/{linux.id}/connect.rdp").status_code == 404
    assert member_client.get(f"/hosts/{no_address.id}/connect.rdp").status_code == 404
    html = member_client.get(f"/hosts/{no_address.id}/").content.decode()
    assert "has not given an address" in html


def test_the_page_shows_specs_rental_and_mirror_times(member_client, make_host):
    host = make_host(
        name="render-09",
        gpu_number=4,
        gpu_description="A100",
        mac="52:54:00:aa:bb:cc",
        expires_at=timezone.now() + timedelta(days=30),
    )
    html = member_client.get(f"/hosts/{host.id}/").content.decode()
    for text in ("render-09", "4 × A100", "52:54:00:aa:bb:cc", "Pay-as-you-go", "First seen"):
        assert text in html, text
    assert "never stores the host's password" in html


def test_a_gone_host_keeps_its_page(member_client, make_host):
    host = make_host(gone_at=timezone.now())
    response = member_client.get(f"/hosts/{host.id}/")
    assert response.status_code == 200
    assert "no longer listed by Xuandashi" in response.content.decode()


def test_an_unknown_host_is_a_404(member_client, db):
    assert member_client.get("/hosts/nope/").status_code == 404
    assert member_client.get("/hosts/nope/live/?v=1").status_code == 404


def test_a_changing_host_polls_fast_and_a_settled_one_slowly(member_client, make_host, settings):
    settings.XDS_POLL_SETTLED_SECONDS = 15
    booting = make_host(status=HostStatus.BOOTING)
    running = make_host(status=HostStatus.RUNNING)
    html = member_client.get(f"/hosts/{booting.id}/").content.decode()
    assert f'hx-get="/hosts/{booting.id}/live/?at=1-' in html
    assert 'hx-trigger="every 5s, xds:poll"' in html
    settled = member_client.get(f"/hosts/{running.id}/").content.decode()
    assert 'hx-trigger="every 15s, xds:poll"' in settled


def test_the_detail_page_costs_a_fixed_number_of_queries(
    member_client, make_host, django_assert_max_num_queries
):
    """Session, user, the member's permissions, host, its labels and lease, its schedules, sync
    state, its latest operations (which tell the one in flight), the disks of its Disks card
    (with the operations in flight on them, when there are disks: one more), and its cost: the
    price it was bought at and this month's status history."""
    host = make_host()
    with django_assert_max_num_queries(13):
        assert member_client.get(f"/hosts/{host.id}/").status_code == 200


def test_the_disks_card_costs_the_same_whatever_the_number_of_disks(
    member_client, make_host, django_assert_max_num_queries
):
    from dashboard.models import Disk

    host = make_host(status=HostStatus.OFF)
    now = timezone.now()
    common = {"area": 0, "size_gb": 20, "first_seen_at": now, "last_seen_at": now}
    Disk.objects.bulk_create(
        [Disk(id=f"on{n}", host=host, status=2, changed_at=now, **common) for n in range(29)]
        + [Disk(id=f"free{n}", status=0, changed_at=now, **common) for n in range(40)]
    )
    # The page's 13 (test above) and the operations in flight on its disks: one more, whatever
    # their number.
    with django_assert_max_num_queries(14):
        page = member_client.get(f"/hosts/{host.id}/").content.decode()
    assert page.count('class="mounted-disk"') == 29
    assert page.count('<option value="free') == 40


@pytest.mark.parametrize("host_id", ["%00", "a%00b", "x" * 65, "a%20b"])
def test_an_impossible_host_id_is_a_404_not_a_database_error(member_client, db, host_id):
    assert member_client.get(f"/hosts/{host_id}/").status_code == 404
    assert member_client.get(f"/hosts/{host_id}/live/?v=1").status_code == 404


def test_the_billing_card_is_headed_by_the_hosts_billing_type(member_client, make_host):
    payg = make_host(billing_type=BillingType.PAY_AS_YOU_GO.value)
    page = member_client.get(f"/hosts/{payg.id}/").content.decode()
    assert "<h2>Pay-as-you-go</h2>" in page and "<h2>Rental</h2>" not in page
    rental = make_host(billing_type=BillingType.RENTAL.value)
    assert "<h2>Rental</h2>" in member_client.get(f"/hosts/{rental.id}/").content.decode()


def test_a_host_whose_bill_is_being_settled_says_so_in_both_languages(member_client, make_host):
    host = make_host(status=HostStatus.CHARGING.value)
    page = member_client.get(f"/hosts/{host.id}/").content.decode()
    assert "Settling bill" in page and "Charging" not in page
    chinese = member_client.get(f"/hosts/{host.id}/", headers={"Accept-Language": "zh-hans"})
    assert "结算中" in chinese.content.decode() and "扣费中" not in chinese.content.decode()
