"""The words a member reads for each failure of the provider's API, in English and Chinese.

The client holds facts only (code, the provider's text, trace id, retryable, may-have-acted);
`dashboard.wording` words them through the catalogs. Errors are provoked in the simulator over
real HTTP where the words depend on what the provider answered."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dashboard.wording import error_words, error_words_in
from tests.vmclient.test_client import IMAGE, PACKAGE, client_for
from vmclient import errors
from vmclient.client import XuandashiClient
from vmclient.simulator import Fault
from vmclient.types import HostStatus, PeriodType

HAN = re.compile(r"[\u4e00-\u9fff]")
ROOT = Path(__file__).resolve().parents[2]


def both(err: errors.XdsError) -> tuple[str, str]:
    return error_words_in(err, "en"), error_words_in(err, "zh-hans")


def every_error_class() -> list[type[errors.XdsError]]:
    found, todo = [], [errors.XdsError]
    while todo:
        cls = todo.pop()
        if not cls.__name__.startswith("_"):  # _KnownCode is abstract
            found.append(cls)
        todo.extend(cls.__subclasses__())
    return sorted(found, key=lambda c: c.__name__)


@pytest.mark.parametrize(
    "cls", sorted(errors.registered_codes().values(), key=lambda c: c.__name__)
)
def test_each_documented_code_has_its_own_words_in_english_and_chinese(cls):
    en, zh = both(cls(upstream_message="x"))
    assert en and not HAN.search(en)
    assert HAN.search(zh)
    others = {
        error_words_in(other(upstream_message="x"), "en")
        for other in errors.registered_codes().values()
        if other is not cls
    }
    assert en not in others


@pytest.mark.parametrize("cls", every_error_class(), ids=lambda c: c.__name__)
def test_every_kind_of_error_reads_in_both_languages(cls):
    err = (
        cls(cause=errors.ReadTimedOut(), operation="create")
        if cls is errors.OutcomeUnknown
        else cls()
    )
    en, zh = both(err)
    assert en and not HAN.search(en) and HAN.search(zh)


def test_the_words_follow_the_active_language():
    err = errors.WalletBalanceTooLow()
    from django.utils import translation

    with translation.override("zh-hans"):
        assert error_words(err) == error_words_in(err, "zh-hans")
    with translation.override("en"):
        assert error_words(err) == error_words_in(err, "en")


def test_wallet_balance_words_say_what_happened_and_what_to_do():
    en, zh = both(errors.WalletBalanceTooLow())
    assert "wallet balance is too low" in en and "Top up" in en
    assert "余额不足" in zh and "充值" in zh


def test_a_wrong_secret_points_an_administrator_at_the_settings(make_simulator):
    sim = make_simulator(secret="the-right-one")
    client = XuandashiClient(sim.url, sim.uuid, "a-wrong-one", backoff=0.01)
    with client, pytest.raises(errors.AuthenticationError) as caught:
        client.list_images()
    en, zh = both(caught.value)
    assert "administrator" in en and "XDS_UUID" in en and "XDS_SECRET" in en
    assert "管理员" in zh and "XDS_UUID" in zh and "XDS_SECRET" in zh


def test_a_business_error_shows_the_providers_own_reason(simulator):
    with client_for(simulator) as client, pytest.raises(errors.BusinessError) as caught:
        client.create_pay_as_you_go("NoSuchPkg", IMAGE)
    en, zh = both(caught.value)
    assert "主机模板不存在" in en and "主机模板不存在" in zh
    assert "Check the request against that reason" in en and "请根据上述原因检查" in zh


def test_an_unknown_code_shows_the_providers_text():
    en, zh = both(errors.ApiError(code=4242, upstream_message="奇怪的错误"))
    assert "奇怪的错误" in en and "奇怪的错误" in zh
    assert "refused the request" in both(errors.ApiError(code=4242))[0]


def test_a_gateway_page_names_its_status(simulator):
    simulator.add_fault(Fault("html_502", path="/v1/pve/open/image", times=None))
    with client_for(simulator, retries=0) as client, pytest.raises(errors.HtmlErrorPage) as caught:
        client.list_images()
    en, zh = both(caught.value)
    assert "error page (HTTP 502)" in en and "（HTTP 502）" in zh


def test_a_lost_create_answer_says_to_check_the_host_list_first(simulator):
    simulator.add_fault(Fault("html_502", path="/v1/pve/open/createquantity", phase="after"))
    with client_for(simulator) as client, pytest.raises(errors.OutcomeUnknown) as caught:
        client.create_pay_as_you_go(PACKAGE, IMAGE)
    en, zh = both(caught.value)
    assert "refresh the host list" in en and "刷新主机列表" in zh


def test_a_lost_disk_create_answer_says_to_check_the_disk_list_first(simulator):
    simulator.add_fault(Fault("drop", path="/v1/PveMachineHardDisk/open/create", phase="after"))
    with client_for(simulator) as client, pytest.raises(errors.OutcomeUnknown) as caught:
        client.create_disk(area=0, size_gb=20)
    en, zh = both(caught.value)
    assert "refresh the disk list" in en and "刷新云硬盘列表" in zh


def test_a_lost_personal_image_create_answer_says_to_check_the_image_list_first(simulator):
    host = simulator.fleet.add_host(status=HostStatus.OFF)
    simulator.add_fault(Fault("drop", path="/v1/open/image/personal/add", phase="after"))
    with client_for(simulator) as client, pytest.raises(errors.OutcomeUnknown) as caught:
        client.create_personal_image(host.id, "golden")
    en, zh = both(caught.value)
    assert "refresh the image list" in en and "刷新镜像列表" in zh


def test_a_stored_lost_disk_create_is_worded_again_as_a_disk():
    from dashboard.wording import error_said, words_in

    err = errors.OutcomeUnknown(cause=errors.ReadTimedOut(), operation="create_disk")
    assert "disk list" in words_in(error_said(err), "en")
    assert "云硬盘" in words_in(error_said(err), "zh-hans")


def test_an_action_answered_false_says_it_was_not_accepted(simulator):
    host = simulator.fleet.add_host(status=HostStatus.OFF)
    simulator.add_fault(
        Fault("raw", path="/v1/pve/open/operate/", body=b'{"code":0,"data":false,"traceId":"t"}')
    )
    with client_for(simulator) as client, pytest.raises(errors.ActionNotAccepted) as caught:
        client.power_on(host.id)
    en, zh = both(caught.value)
    assert "did not accept" in en and "未接受" in zh


def test_an_hourly_rental_is_refused_in_the_members_words(simulator):
    with client_for(simulator) as client, pytest.raises(errors.InvalidArgument) as caught:
        client.create_rental(PACKAGE, IMAGE, 1, PeriodType.HOUR)
    en, zh = both(caught.value)
    assert "Hourly" in en and "小时" in zh


def test_a_bad_address_names_the_dashboards_setting():
    with pytest.raises(errors.InvalidArgument) as caught:
        XuandashiClient("ftp://nowhere", "uuid", "secret")
    en, zh = both(caught.value)
    assert "XDS_BASE_URL" in en and "XDS_BASE_URL" in zh and "管理员" in zh


@pytest.mark.parametrize("reason", errors.InvalidArgument.REASONS)
def test_every_refusal_reason_has_its_own_words(reason):
    generic = both(errors.InvalidArgument())
    en, zh = both(errors.InvalidArgument(argument="count", reason=reason, maximum=5))
    assert (en, zh) != generic and HAN.search(zh) and not HAN.search(en)
    if reason in ("invalid_id", "not_positive"):
        assert "count" in en and "count" in zh
    if reason == "not_positive":
        assert "up to 5" in en and "不超过 5" in zh


def test_the_client_holds_no_sentence_and_names_no_dashboard_setting():
    # The words, the names of the dashboard's settings and reading them (dashboard/upstream.py)
    # are the dashboard's.
    for path in sorted((ROOT / "vmclient").rglob("*.py")):
        if "simulator" in path.parts or path.stem == "simulator":  # the simulator and its command
            continue
        text = path.read_text()
        assert not re.search(r"XDS_[A-Z]", text), path
        assert "django.conf" not in text and "gettext" not in text, path
