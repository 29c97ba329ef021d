"""The interface in English and Simplified Chinese: complete catalogs that match the sources and
their compiled files, the browser's language by default, the switcher, and Xuandashi's errors in
the member's language."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

import polib
import pytest
from django.utils import timezone, translation
from django.utils.html import escape

from dashboard import services
from dashboard.models import Operation, SyncState
from dashboard.templatetags.dashboard import money, period_label
from dashboard.upstream import build_client, reset_client
from dashboard.wording import error_said, error_words_in, stored
from vmclient.errors import PowerBalanceTooLow
from vmclient.simulator import Fault
from vmclient.types import PeriodType

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "locale"
CATALOGS = {
    "zh_Hans": LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po",
    "en": LOCALE / "en" / "LC_MESSAGES" / "django.po",
}
# As in locale/README.md: what makemessages scans, and how the catalogs are written.
MAKEMESSAGES_IGNORE = [".venv", "var", "tests", "bench", "test-results", "static"]
MAKEMESSAGES = [
    "makemessages",
    *(f"-l{language}" for language in CATALOGS),
    "--add-location=file",
    "--no-obsolete",
    *(f"--ignore={pattern}" for pattern in MAKEMESSAGES_IGNORE),
]
GETTEXT_TOOLS = ("xgettext", "msgmerge", "msguniq", "msgattrib", "msgfmt")

PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%[sd]|\{\{.*?\}\}")
TAG = re.compile(r"</?[a-z]+>")


def entries(po: polib.POFile) -> list[polib.POEntry]:
    """The catalog's entries, its header left out."""
    return [entry for entry in po if entry.msgid]


def key(entry: polib.POEntry) -> tuple[str | None, str, str]:
    return entry.msgctxt, entry.msgid, entry.msgid_plural


def translations(entry: polib.POEntry) -> list[str]:
    if entry.msgid_plural:
        return [entry.msgstr_plural[n] for n in sorted(entry.msgstr_plural)]
    return [entry.msgstr]


def require_gettext() -> None:
    """GNU gettext runs makemessages; CI installs it (.ci/run), so there it must be present."""
    missing = [tool for tool in GETTEXT_TOOLS if shutil.which(tool) is None]
    if not missing:
        return
    message = f"GNU gettext is missing ({', '.join(missing)}): apt-get install gettext"
    if os.environ.get("CI") or os.environ.get("XDS_REQUIRE_SERVICES"):
        pytest.fail(message)
    pytest.skip(message)


# --- The catalogs ---------------------------------------------------------------------------


@pytest.mark.parametrize("language", list(CATALOGS))
def test_every_entry_of_the_catalog_is_translated_and_none_is_fuzzy(language):
    po = polib.pofile(str(CATALOGS[language]))
    assert not po.metadata_is_fuzzy, "the header is marked fuzzy"
    assert entries(po), "the catalog is empty"
    untranslated = [e.msgid for e in entries(po) if not all(translations(e))]
    fuzzy = [e.msgid for e in entries(po) if "fuzzy" in e.flags]
    obsolete = [e.msgid for e in po.obsolete_entries()]
    assert not untranslated, f"untranslated in {language}: {untranslated}"
    assert not fuzzy, f"fuzzy in {language} (check, then remove the flag): {fuzzy}"
    assert not obsolete, f"obsolete entries in {language} (makemessages --no-obsolete): {obsolete}"


def test_the_chinese_catalog_has_one_plural_form_and_the_english_two():
    zh = polib.pofile(str(CATALOGS["zh_Hans"]))
    en = polib.pofile(str(CATALOGS["en"]))
    assert zh.metadata["Plural-Forms"].startswith("nplurals=1;")
    assert en.metadata["Plural-Forms"].startswith("nplurals=2;")
    plurals = [e for e in entries(zh) if e.msgid_plural]
    assert plurals, "no plural entry: the check below would prove nothing"
    for entry in plurals:
        assert sorted(entry.msgstr_plural) == [0], entry.msgid


def test_the_english_catalog_says_what_the_sources_say():
    for entry in entries(polib.pofile(str(CATALOGS["en"]))):
        expected = [entry.msgid, entry.msgid_plural] if entry.msgid_plural else [entry.msgid]
        assert translations(entry) == expected


def test_translations_keep_every_placeholder_and_tag():
    for entry in entries(polib.pofile(str(CATALOGS["zh_Hans"]))):
        sources = [entry.msgid, entry.msgid_plural or entry.msgid]
        for source, text in zip(sources, translations(entry) * 2, strict=False):
            assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(source)), (
                entry.msgid
            )
            assert sorted(TAG.findall(text)) == sorted(TAG.findall(source)), entry.msgid


@pytest.mark.parametrize("language", list(CATALOGS))
def test_the_compiled_catalog_says_what_the_po_file_says(language):
    po = polib.pofile(str(CATALOGS[language]))
    mo_path = CATALOGS[language].with_suffix(".mo")
    assert mo_path.is_file(), f"{mo_path.relative_to(ROOT)} is missing: run compilemessages"
    mo = polib.mofile(str(mo_path))

    def content(catalog):
        return {key(e): translations(e) for e in entries(catalog)}

    assert content(mo) == content(po), (
        f"{mo_path.relative_to(ROOT)} is out of date: run compilemessages"
    )


def test_the_catalogs_hold_every_string_of_the_sources(tmp_path):
    """makemessages on a copy of the project: a string added to (or removed from) the sources
    without updating the catalogs shows up as a difference."""
    require_gettext()
    copy = tmp_path / "project"
    shutil.copytree(
        ROOT,
        copy,
        ignore=shutil.ignore_patterns(
            *MAKEMESSAGES_IGNORE, ".git", ".*_cache", ".hypothesis", "__pycache__", "*.pyc"
        ),
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "XDS_VAR_DIR")}
    env["XDS_VAR_DIR"] = str(tmp_path / "var")
    subprocess.run(  # noqa: S603 - our interpreter, our manage.py
        [sys.executable, "manage.py", *MAKEMESSAGES],
        cwd=copy,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    for language, path in CATALOGS.items():
        committed = {key(e) for e in entries(polib.pofile(str(path)))}
        regenerated = polib.pofile(str(copy / path.relative_to(ROOT)))
        found = {key(e) for e in entries(regenerated)}
        assert not found - committed, (
            f"strings missing from the {language} catalog (see locale/README.md): "
            f"{sorted(m for _c, m, _p in found - committed)}"
        )
        assert not committed - found, (
            f"strings in the {language} catalog no longer in the sources: "
            f"{sorted(m for _c, m, _p in committed - found)}"
        )
        untranslated = [e.msgid for e in entries(regenerated) if not all(translations(e))]
        assert not untranslated, f"untranslated in {language}: {untranslated}"


def test_the_image_ships_the_catalogs():
    from tests.deploy.test_compose import dockerfile_copies

    assert "locale/" in dockerfile_copies()
    dockerignore = (ROOT / ".dockerignore").read_text().split()
    assert not {"locale", "*.mo", "**/*.mo"} & set(dockerignore)


# --- Pages in the member's language ---------------------------------------------------------


@pytest.fixture
def member(make_member):
    return make_member("mei", "Creator", "Operator")


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client


def switcher_form(html: str) -> str:
    match = re.search(r'<form class="[^"]*language-switcher[^"]*".*?</form>', html, re.S)
    assert match, "no language switcher on the page"
    return match.group(0)


@pytest.mark.django_db
def test_a_chinese_browser_gets_chinese_pages(member_client):
    response = member_client.get("/hosts/", headers={"accept-language": "zh-CN,zh;q=0.9,en;q=0.8"})
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in html
    assert "<h1>主机</h1>" in html
    assert "立即刷新" in html and "Refresh now" not in html
    assert response["Content-Language"] == "zh-hans"
    assert "Accept-Language" in response["Vary"]


@pytest.mark.django_db
@pytest.mark.parametrize("accept", ["", "en-US,en;q=0.9", "fr-FR", "de;q=0.9,en;q=0.5"])
def test_other_browsers_get_english_pages(member_client, accept):
    headers = {"accept-language": accept} if accept else {}
    html = member_client.get("/hosts/", headers=headers).content.decode()
    assert '<html lang="en">' in html
    assert "<h1>Hosts</h1>" in html


@pytest.mark.django_db
def test_the_switcher_posts_the_choice_and_comes_back_to_the_page(member_client):
    html = member_client.get("/hosts/?status=running").content.decode()
    form = switcher_form(html)
    assert 'method="post" action="/i18n/setlang/"' in form
    assert 'name="csrfmiddlewaretoken"' in form
    assert '<input type="hidden" name="next" value="/hosts/?status=running">' in form
    # The current language is named, the other one is a button (no script, no inline style).
    assert '<span lang="en" aria-current="true">English</span>' in form
    assert 'name="language" value="zh-hans"' in form and ">简体中文</button>" in form
    assert "<script" not in form and "style=" not in form and "hx-on" not in form


@pytest.mark.django_db
def test_a_member_switches_to_english_and_back_whatever_the_browser_says(member_client, settings):
    chinese_browser = {"accept-language": "zh-CN"}
    assert "<h1>主机</h1>" in member_client.get("/hosts/", headers=chinese_browser).content.decode()

    response = member_client.post(
        "/i18n/setlang/", {"language": "en", "next": "/hosts/"}, headers=chinese_browser
    )
    assert response.status_code == 302 and response["Location"] == "/hosts/"
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "en"
    assert cookie["max-age"] == settings.LANGUAGE_COOKIE_AGE >= 180 * 24 * 3600
    html = member_client.get("/hosts/", headers=chinese_browser).content.decode()
    assert "<h1>Hosts</h1>" in html and '<html lang="en">' in html

    member_client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/hosts/"})
    html = member_client.get("/hosts/", headers={"accept-language": "en-US"}).content.decode()
    assert "<h1>主机</h1>" in html


@pytest.mark.django_db
def test_the_switcher_ignores_a_language_we_do_not_ship_and_an_offsite_next(member_client):
    response = member_client.post(
        "/i18n/setlang/", {"language": "fr", "next": "https://evil.example/"}
    )
    assert response.status_code == 302
    assert urlparse(response["Location"]).netloc in ("", "testserver")
    # Django may keep the cookie (it has French catalogs of its own), but pages use only the
    # languages we ship: the browser's decides.
    for accept, heading in (("en-US", "<h1>Hosts</h1>"), ("zh-CN", "<h1>主机</h1>")):
        html = member_client.get("/hosts/", headers={"accept-language": accept}).content.decode()
        assert heading in html


@pytest.mark.django_db
def test_the_login_page_has_the_switcher_and_switching_needs_no_login(client):
    html = client.get("/accounts/login/", headers={"accept-language": "zh-CN"}).content.decode()
    assert "<h1>登录</h1>" in html
    switcher_form(html)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert "<h1>Log in</h1>" in client.get("/accounts/login/").content.decode()


@pytest.mark.django_db
def test_messages_from_python_code_follow_the_language(member_client):
    html = member_client.get("/hosts/", headers={"accept-language": "zh-CN"}).content.decode()
    assert "全部状态" in html  # a form's choices (gettext_lazy)
    assert "尚未同步" in html


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", ["1 month", "3 months", "1 day", "2 years", "¥4.50 / h"]),
        ("zh-hans", ["1 个月", "3 个月", "1 天", "2 年", "¥4.50 / 小时"]),
    ],
)
def test_periods_and_prices_are_worded_in_the_language(language, expected):
    with translation.override(language):
        words = [
            period_label(PeriodType.MONTH, 1),
            period_label(PeriodType.MONTH, 3),
            period_label(PeriodType.DAY, 1),
            period_label(PeriodType.YEAR, "2"),
            money(Decimal("4.5"), "h"),
        ]
    assert words == expected


# --- Xuandashi's errors in the member's language ------------------------------------------------


@pytest.fixture
def failing_upstream(make_simulator, settings):
    sim = make_simulator(hosts=0)
    settings.XDS_BASE_URL, settings.XDS_UUID, settings.XDS_SECRET = sim.url, sim.uuid, sim.secret
    reset_client()
    sim.add_fault(Fault(kind="error_500", path="/v1/pve/open/mypage", times=None))
    yield sim
    reset_client()


@pytest.mark.django_db
def test_the_sync_banner_shows_xuandashis_error_in_the_members_language(
    member_client, failing_upstream
):
    result = services.hosts_sync(client=build_client(retries=0))
    error = result.error
    assert error is not None
    message, message_zh = error_words_in(error, "en"), error_words_in(error, "zh-hans")
    assert message != message_zh

    zh = member_client.get("/hosts/", headers={"accept-language": "zh-CN"}).content.decode()
    assert "无法从渲大师同步主机列表。" in zh
    assert escape(message_zh) in zh
    assert escape(message) not in zh
    assert f"<code>{error.trace_id}</code>" in zh

    en = member_client.get("/hosts/", headers={"accept-language": "en"}).content.decode()
    assert "The host list cannot be synced from Xuandashi." in en
    assert escape(message) in en
    assert escape(message_zh) not in en


@pytest.mark.django_db
def test_the_sync_banner_falls_back_to_english_without_a_chinese_message(member_client):
    SyncState.objects.create(
        job=SyncState.Job.HOSTS,
        last_attempt_at=timezone.now(),
        last_error_at=timezone.now(),
        error_message="Only in English",
    )
    zh = member_client.get("/hosts/", headers={"accept-language": "zh-CN"}).content.decode()
    assert "Only in English" in zh


@pytest.mark.django_db
def test_an_operations_error_is_shown_in_the_members_language(member_client, member):
    error = PowerBalanceTooLow(code=6003, trace_id="trace-42")
    message, message_zh = error_words_in(error, "en"), error_words_in(error, "zh-hans")
    operation = Operation.objects.create(
        kind=Operation.Kind.POWER_ON,
        state=Operation.State.FAILED,
        requested_by=member,
        requested_by_name=member.username,
        host_name="render-01",
        error_code=str(error.code),
        **stored(error_said(error)),
        trace_id="trace-42",
        finished_at=timezone.now(),
    )
    for url in ("/operations/", f"/operations/{operation.pk}/"):
        zh = member_client.get(url, headers={"accept-language": "zh-CN"}).content.decode()
        assert escape(message_zh) in zh, url
        assert escape(message) not in zh, url
        assert "开机" in zh and "失败" in zh, url
        en = member_client.get(url, headers={"accept-language": "en"}).content.decode()
        assert escape(message) in en, url
        assert escape(message_zh) not in en, url
