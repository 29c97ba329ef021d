"""Raw upstream dicts -> typed results, for both document versions and every quirk."""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vmclient.errors import MissingEnvelopeCode, UnexpectedData, XdsError
from vmclient.parsing import (
    parse_created_host_id,
    parse_envelope,
    parse_flag,
    parse_host,
    parse_host_page,
    parse_images,
    parse_package,
    parse_packages,
    parse_token,
)
from vmclient.types import (
    Area,
    BillingType,
    HostStatus,
    Purpose,
    TemplateUse,
)

ORIGINAL_HOST = {
    "id": "QzyHraLXEr",
    "name": "master_xuan",
    "gpuConfiguration": "GeForce GTX 1660 Ti/S 6G",
    "gpuNumber": 2,
    "memory": 8,
    "cpu": 8,
    "rigidDisk": 256,
    "operatingSystem": "Ubuntu Server",
    "hostAccount": "root",
    "hostPw": "***********",
    "address": "xxxx.xxx-xxx.com",
    "port": 8080,
    "mac": "*********",
    "ipV4": "*********",
    "pveMachineType": "0",
    "createTime": 1695639270000,
    "expirationTime": 1695639850000,
}

LATER_HOST = {
    "id": "dyMFQQgHIW",
    "name": "render-01",
    "gpuConfiguration": "-",
    "gpuNumber": None,
    "memory": "16",
    "cpu": "8",
    "rigidDisk": "512",
    "operatingSystem": "Windows Server",
    "hostAccount": "administrator",
    "hostPw": "s3cret-Pw",
    "address": "",
    "port": 0,
    "mac": "52:54:00:12:34:56",
    "ipv4": "10.0.0.5:3389",
    "pveMachineType": "2",
    "useType": "1",
    "status": "2",
    "area": "1",
    "createTime": "1695639270000",
    "expirationTime": None,
}


def test_original_host_reads_ipV4_and_lacks_status_fields():
    host = parse_host(ORIGINAL_HOST)
    assert host.id == "QzyHraLXEr"
    assert host.gpu_description == "GeForce GTX 1660 Ti/S 6G"
    assert (host.gpu_number, host.memory_gb, host.cpu_cores, host.disk_gb) == (2, 8, 8, 256)
    assert host.address == "xxxx.xxx-xxx.com"
    assert host.port == 8080
    assert host.purpose is Purpose.OFFICE
    assert host.status is None and host.billing_type is None and host.area is None
    assert host.created_at == datetime(2023, 9, 25, 10, 54, 30, tzinfo=UTC)
    assert host.expires_at is not None and host.expires_at.tzinfo is UTC


def test_masked_password_mac_and_ip_become_none():
    host = parse_host(ORIGINAL_HOST)
    assert host.password is None
    assert host.mac is None
    assert host.ipv4 is None


def test_later_host_with_numbers_as_strings_and_empty_connection_fields():
    host = parse_host(LATER_HOST)
    assert host.gpu_description is None  # "-"
    assert host.gpu_number is None
    assert (host.memory_gb, host.cpu_cores, host.disk_gb) == (16, 8, 512)
    assert host.address is None  # ""
    assert host.port is None  # 0
    assert host.ipv4 == "10.0.0.5:3389"
    assert host.password == "s3cret-Pw"
    assert host.status is HostStatus.RUNNING
    assert host.billing_type is BillingType.RENTAL
    assert host.area is Area.WEST_CHINA
    assert host.purpose is Purpose.ALGORITHMS
    assert host.created_at == datetime(2023, 9, 25, 10, 54, 30, tzinfo=UTC)
    assert host.expires_at is None


def test_host_password_never_in_repr():
    assert "s3cret-Pw" not in repr(parse_host(LATER_HOST))


def test_host_with_only_an_id_is_all_none():
    host = parse_host({"id": "abc"})
    assert host.id == "abc"
    assert host.name is None and host.status is None and host.created_at is None


def test_host_with_nulls_everywhere():
    raw = dict.fromkeys(LATER_HOST, None)
    raw["id"] = "abc"
    host = parse_host(raw)
    assert host.id == "abc"
    assert host.created_at is None and host.port is None and host.ipv4 is None


@pytest.mark.parametrize("raw", [{}, {"id": None}, {"id": ""}, {"id": "  "}, {"id": True}])
def test_host_without_id_is_unexpected_data(raw):
    with pytest.raises(UnexpectedData):
        parse_host(raw)


@pytest.mark.parametrize("data", [None, [], "abc", 5, True])
def test_host_that_is_not_an_object_is_unexpected_data(data):
    with pytest.raises(UnexpectedData):
        parse_host(data)


def test_unknown_status_becomes_none_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="vmclient"):
        host = parse_host({"id": "a", "status": "9", "area": "x"})
    assert host.status is None and host.area is None
    assert "status" in caplog.text and "area" in caplog.text


def test_epoch_zero_and_nonsense_times_become_none():
    host = parse_host({"id": "a", "createTime": 0, "expirationTime": "soon"})
    assert host.created_at is None and host.expires_at is None
    assert parse_host({"id": "a", "createTime": 10**30}).created_at is None


def test_ipv4_preferred_over_ipV4_and_either_accepted():
    assert parse_host({"id": "a", "ipv4": "1.2.3.4"}).ipv4 == "1.2.3.4"
    assert parse_host({"id": "a", "ipV4": "5.6.7.8"}).ipv4 == "5.6.7.8"
    assert parse_host({"id": "a", "ipv4": "", "ipV4": "5.6.7.8"}).ipv4 == "5.6.7.8"


def test_port_out_of_range_becomes_none():
    assert parse_host({"id": "a", "port": 70000}).port is None
    assert parse_host({"id": "a", "port": "22"}).port == 22


# The template of the provider's reference example (the one its documentation shows).
PACKAGE = {
    "packageId": "Pi8tcH1NSd",
    "name": "图像处理-Ubuntu",
    "memoryNumber": 16,
    "rigidDiskNumber": 512,
    "amount": 5.00,
    "cpuNumber": 16,
    "bandWidth": 8,
    "type": "BZ",
    "pveMachineType": "1",
    "area": "2",
    "useType": "2",
    "discount": 0.9,
}


def test_package_from_the_reference_example():
    package = parse_package(PACKAGE, BillingType.PAY_AS_YOU_GO)
    assert package.package_id == "Pi8tcH1NSd"
    assert package.name == "图像处理-Ubuntu"
    assert package.gpu_number == 0 and package.gpu_name is None
    assert package.amount == Decimal("5.0") and package.discount == Decimal("0.9")
    assert package.hourly_price == Decimal("4.50")
    assert package.purpose is Purpose.IMAGE_PROCESSING
    assert package.area is Area.INTERNATIONAL
    assert package.use_type is TemplateUse.BOTH
    assert package.listed_for is BillingType.PAY_AS_YOU_GO


def test_package_with_numbers_as_strings_keeps_exact_decimals():
    raw = {**PACKAGE, "amount": "5.00", "discount": "0.8", "gpuNumber": "2", "memoryNumber": "8"}
    raw["gpuName"] = "RTX 4090"
    package = parse_package(raw, BillingType.RENTAL)
    assert package.amount == Decimal("5.00") and package.discount == Decimal("0.8")
    assert package.gpu_number == 2 and package.memory_gb == 8 and package.gpu_name == "RTX 4090"


def test_package_missing_discount_means_no_discount():
    raw = {k: v for k, v in PACKAGE.items() if k != "discount"}
    assert parse_package(raw, BillingType.RENTAL).discount == Decimal(1)
    assert parse_package({**PACKAGE, "discount": None}, BillingType.RENTAL).discount == 1


def test_package_with_a_garbage_amount_has_no_price():
    package = parse_package({**PACKAGE, "amount": "five"}, BillingType.RENTAL)
    assert package.amount is None and package.hourly_price is None
    assert parse_package({**PACKAGE, "amount": "1e40"}, BillingType.RENTAL).amount is None
    assert parse_package({**PACKAGE, "amount": "NaN"}, BillingType.RENTAL).amount is None


def test_package_prices_at_the_largest_accepted_values_still_compute():
    from vmclient.types import PeriodType

    package = parse_package(
        {**PACKAGE, "amount": "999999999.99", "discount": "10"}, BillingType.RENTAL
    )
    assert package.rental_price(PeriodType.YEAR, 100) > 0
    assert parse_package({**PACKAGE, "discount": "-1"}, BillingType.RENTAL).discount == 1


def test_package_without_a_name_is_named_by_its_id():
    assert parse_package({"packageId": "p1"}, BillingType.RENTAL).name == "p1"


def test_package_list_null_is_empty_and_wrong_shapes_raise():
    assert parse_packages(None, BillingType.RENTAL) == []
    with pytest.raises(UnexpectedData):
        parse_packages({"packageId": "p"}, BillingType.RENTAL)
    with pytest.raises(UnexpectedData):
        parse_packages(["p"], BillingType.RENTAL)
    with pytest.raises(UnexpectedData):
        parse_packages([{"name": "no id"}], BillingType.RENTAL)


def test_images_parse_and_numeric_ids_become_text():
    images = parse_images(
        [
            {
                "imageId": "8989",
                "type": "BZ",
                "systemImageName": "Windows Server",
                "systemImageVersion": "2022 数据中心中文版 x64",
            },
            {"imageId": 42},
        ]
    )
    assert images[0].image_id == "8989" and images[0].type == "BZ"
    assert images[0].label == "Windows Server 2022 数据中心中文版 x64"
    assert images[1].image_id == "42" and images[1].label == "42"


def test_image_list_of_the_wrong_shape_is_unexpected_data():
    with pytest.raises(UnexpectedData):
        parse_images({"imageId": "1"})


def test_host_page_with_string_total():
    page = parse_host_page({"data": [ORIGINAL_HOST], "totalCounts": "1"}, page=1, page_size=25)
    assert page.total == 1 and len(page.hosts) == 1 and page.page_count == 1


def test_host_page_detects_a_clamped_page_size():
    hosts = [{"id": f"h{i}"} for i in range(20)]
    page = parse_host_page({"data": hosts, "totalCounts": 60}, page=1, page_size=25)
    assert page.page_size == 20 and page.page_count == 3


def test_host_page_last_short_page_is_not_a_clamp():
    hosts = [{"id": f"h{i}"} for i in range(10)]
    page = parse_host_page({"data": hosts, "totalCounts": 60}, page=3, page_size=25)
    assert page.page_size == 25


@pytest.mark.parametrize("total", [None, "many", -1, 2.5, True, [], {}])
def test_host_page_total_not_a_number_is_unexpected_data(total):
    with pytest.raises(UnexpectedData):
        parse_host_page({"data": [], "totalCounts": total}, page=1)


@pytest.mark.parametrize("data", [None, [], "x", {"data": "x", "totalCounts": 1}])
def test_host_page_of_the_wrong_shape_is_unexpected_data(data):
    with pytest.raises(UnexpectedData):
        parse_host_page(data, page=1)


def test_created_host_id_for_both_versions():
    assert parse_created_host_id(True) is None
    assert parse_created_host_id("true") is None
    assert parse_created_host_id("dyMFQQgHIW") == "dyMFQQgHIW"


@pytest.mark.parametrize("data", [False, "false", None, "", {}, [], 1.5])
def test_created_host_id_of_the_wrong_shape_is_unexpected_data(data):
    with pytest.raises(UnexpectedData):
        parse_created_host_id(data)


def test_flags_accept_booleans_and_their_strings():
    assert parse_flag(True) is True and parse_flag("TRUE") is True
    assert parse_flag(False) is False and parse_flag("false") is False
    assert parse_flag(None) is None
    with pytest.raises(UnexpectedData):
        parse_flag({"ok": True})


def test_token_answer():
    assert parse_token({"token": "abc", "effectiveTime": 1800000}) == ("abc", 1800.0)
    assert parse_token({"token": "abc", "effectiveTime": "1800000"}) == ("abc", 1800.0)
    assert parse_token({"token": "abc"}) == ("abc", None)
    with pytest.raises(UnexpectedData):
        parse_token({"effectiveTime": 1})
    with pytest.raises(UnexpectedData):
        parse_token("abc")


def test_envelope_of_both_versions():
    original = parse_envelope({"code": 0, "data": True, "msg": "success"})
    assert original.ok and original.data is True and original.trace_id is None
    later = parse_envelope(
        {"code": "0", "success": "true", "msg": "success", "data": "x", "traceId": "t-1"}
    )
    assert later.ok and later.success is True and later.trace_id == "t-1"
    failed = parse_envelope({"code": 9001, "msg": "钱包余额不足", "traceId": 12345})
    assert failed.code == 9001 and failed.msg == "钱包余额不足" and failed.trace_id == "12345"


@pytest.mark.parametrize(
    "payload", [{}, {"code": None}, {"code": "abc"}, {"code": True}, {"code": 1.5}, [], "x", 0]
)
def test_envelope_without_a_usable_code(payload):
    with pytest.raises(MissingEnvelopeCode):
        parse_envelope(payload)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)

HOST_KEYS = [*LATER_HOST, "ipV4"]
host_like = st.dictionaries(st.sampled_from(HOST_KEYS), json_values, max_size=len(HOST_KEYS))
package_like = st.dictionaries(st.sampled_from(list(PACKAGE)), json_values, max_size=len(PACKAGE))


def _only_xds_errors(parser, value, *args, **kwargs):
    with contextlib.suppress(XdsError):
        parser(value, *args, **kwargs)


@settings(max_examples=150, deadline=None)
@given(value=json_values | host_like)
def test_any_host_data_parses_or_raises_an_xds_error(value):
    _only_xds_errors(parse_host, value)


@settings(max_examples=150, deadline=None)
@given(value=json_values | st.lists(package_like, max_size=3))
def test_any_package_data_parses_or_raises_an_xds_error(value):
    _only_xds_errors(parse_packages, value, BillingType.RENTAL)


@settings(max_examples=100, deadline=None)
@given(
    value=json_values
    | st.fixed_dictionaries({"data": st.lists(host_like, max_size=3), "totalCounts": json_values})
)
def test_any_host_page_parses_or_raises_an_xds_error(value):
    _only_xds_errors(parse_host_page, value, page=2, page_size=25)


@settings(max_examples=100, deadline=None)
@given(value=json_values)
def test_any_envelope_token_or_flag_parses_or_raises_an_xds_error(value):
    for parser in (parse_envelope, parse_token, parse_flag, parse_created_host_id, parse_images):
        _only_xds_errors(parser, value)


@settings(max_examples=100, deadline=None)
@given(value=host_like)
def test_parsed_prices_and_times_are_usable(value):
    try:
        host = parse_host({**value, "id": "x"})
    except XdsError:
        return
    for moment in (host.created_at, host.expires_at):
        assert moment is None or moment.tzinfo is UTC


@settings(max_examples=100, deadline=None)
@given(value=package_like)
def test_parsed_package_prices_can_be_computed(value):
    from vmclient.types import PeriodType

    try:
        package = parse_package({**value, "packageId": "p"}, BillingType.RENTAL)
    except XdsError:
        return
    package.hourly_price  # noqa: B018 - must not raise
    package.rental_price(PeriodType.YEAR, 3)
