"""Raw disk and personal image records -> typed results, with the docs' quirks: a `pveId` kept
after an unmount, numbers as strings, nulls, a bare list."""

from __future__ import annotations

from decimal import Decimal

import pytest

from vmclient.errors import UnexpectedData
from vmclient.parsing import (
    parse_created_id,
    parse_disk,
    parse_disk_page,
    parse_disk_usage,
    parse_personal_image,
    parse_personal_image_page,
)
from vmclient.types import Area, DiskStatus, PersonalImageStatus

# The docs' example after an unmount: not mounted, yet `pveId` names the last host.
UNMOUNTED = {
    "id": "hd01",
    "uuid": "6a08e2b5",
    "name": "数据盘",
    "pveId": "QzyHraLXEr",
    "isMount": 0,
    "bus": "scsi1",
    "area": "1",
    "memory": "100",
    "useType": "0",
    "amount": "0.20",
    "status": "0",
    "createTime": 1704067200000,
}


def test_an_unmounted_disk_has_no_host_though_pve_id_names_the_last_one():
    disk = parse_disk(UNMOUNTED)
    assert disk.host_id is None and disk.last_host_id == "QzyHraLXEr" and disk.mounted is False
    assert disk.status is DiskStatus.WAITING and disk.area is Area.WEST_CHINA
    assert disk.size_gb == 100 and disk.price_per_hour == Decimal("0.20")
    assert disk.created_at.year == 2024


@pytest.mark.parametrize(
    ("is_mount", "status", "host"),
    [
        (1, 2, "QzyHraLXEr"),  # in use
        (1, 1, "QzyHraLXEr"),  # mounting there
        (None, 2, "QzyHraLXEr"),  # no flag: the status says
        (1, None, "QzyHraLXEr"),  # no status: the flag says
        (1, 3, None),  # stopped for arrears: the provider unmounted it
        (1, 4, None),  # being destroyed
        (0, 2, None),  # the flag says no
        (None, None, None),  # nothing says it is mounted
        (7, 9, None),  # nonsense says nothing either
    ],
)
def test_where_a_disk_is_mounted_follows_is_mount_and_status(is_mount, status, host):
    assert parse_disk({**UNMOUNTED, "isMount": is_mount, "status": status}).host_id == host


def test_numbers_may_be_numbers_and_anything_may_be_null():
    disk = parse_disk({"id": 42, "amount": 0.2, "memory": 20, "area": 0, "pveId": None})
    assert disk.id == "42" and disk.price_per_hour == Decimal("0.2") and disk.size_gb == 20
    assert (disk.host_id, disk.status, disk.created_at, disk.name) == (None, None, None, None)


@pytest.mark.parametrize("raw", [{"name": "no id"}, "disk", None, {"id": True}])
def test_a_disk_without_an_id_is_unexpected(raw):
    with pytest.raises(UnexpectedData):
        parse_disk(raw)


def test_a_disk_page_reads_a_string_total_and_a_clamped_page():
    page = parse_disk_page({"data": [UNMOUNTED] * 30, "totalCounts": "75"}, page=1, page_size=100)
    assert page.total == 75 and page.page_size == 30 and len(page.items) == 30
    with pytest.raises(UnexpectedData):
        parse_disk_page({"data": [], "totalCounts": "many"}, page=1)


@pytest.mark.parametrize(
    ("data", "gb"), [({"memory": 120}, 120), ({"memory": "40"}, 40), ({"memory": None}, 0), (8, 8)]
)
def test_disk_usage(data, gb):
    assert parse_disk_usage(data) == gb


@pytest.mark.parametrize("data", [{"memory": "lots"}, {"memory": -1}, "x", True])
def test_unusable_disk_usage_is_unexpected(data):
    with pytest.raises(UnexpectedData):
        parse_disk_usage(data)


@pytest.mark.parametrize("data", ["hd01", 1024])
def test_a_created_disks_id(data):
    assert parse_created_id(data, "disk") == str(data)


@pytest.mark.parametrize("data", [True, "true", None, "", {"id": "x"}, ["x"]])
def test_a_create_without_a_usable_id_is_unexpected(data):
    with pytest.raises(UnexpectedData):
        parse_created_id(data, "disk")


IMAGE = {
    "id": 1001,
    "imageId": "PIabcdefgh",
    "imageType": "Windows",
    "imageName": "golden",
    "imageSize": "100",
    "datacenterKey": "HZ",
    "status": 1,
    "createTime": "1706745600000",
}


def test_a_personal_image():
    image = parse_personal_image(IMAGE)
    assert (image.id, image.image_id, image.name, image.image_type) == (
        "1001",
        "PIabcdefgh",
        "golden",
        "Windows",
    )
    assert image.size == 100 and image.status is PersonalImageStatus.USABLE
    assert image.datacenter == "HZ" and image.created_at.year == 2024


def test_an_unknown_image_status_is_none_and_the_rest_is_kept():
    image = parse_personal_image({**IMAGE, "status": 9, "imageSize": "40G"})
    assert image.status is None and image.size is None and image.name == "golden"


def test_the_image_list_as_a_page_or_a_bare_list():
    page = parse_personal_image_page({"data": [IMAGE], "totalCounts": 1}, page=1)
    bare = parse_personal_image_page([IMAGE], page=1)
    assert page.items == bare.items and bare.total == 1
