"""One voice: every sentence a member reads comes from the catalogs, so adding a language is a
catalog and nothing else (no model, no Python literal)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import polib
import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone, translation
from django.utils.translation import trans_real

from dashboard.models import Operation, SyncState
from dashboard.wording import error_said, error_words, said, stored, words
from vmclient import errors

ROOT = Path(__file__).resolve().parents[1]
HAN = re.compile(r"[\u4e00-\u9fff]")


def _clear_language_caches():
    for cached in (
        trans_real.check_for_language,
        trans_real.get_languages,
        trans_real.get_supported_language_variant,
    ):
        if hasattr(cached, "cache_clear"):
            cached.cache_clear()


@pytest.fixture
def pirate(settings, tmp_path):
    """A language the project does not ship (Esperanto, here with made-up words), as a translator
    adds one: a catalog in a locale directory and its line in LANGUAGES."""
    catalog = polib.POFile()
    catalog.metadata = {"Content-Type": "text/plain; charset=UTF-8"}
    english = {
        "wallet": error_words_in_english(errors.WalletBalanceTooLow()),
        "gateway": "The hosting provider's gateway answered with an error page (HTTP %(status)s). "
        "The service may be down or restarting: try again in a few minutes.",
        "refused": "Nothing was bought. %(error)s",
        "timeout": "The host did not become %(status)s within %(minutes)s min. Check it on its "
        "page; Xuandashi may still be working on it.",
    }
    pirate_words = {
        "wallet": "Yer purse be empty, matey.",
        "gateway": "The port be shut (HTTP %(status)s), arr.",
        "refused": "No booty taken. %(error)s",
        "timeout": "The ship not be %(status)s after %(minutes)s min, arr.",
    }
    for key, msgid in english.items():
        catalog.append(polib.POEntry(msgid=msgid, msgstr=pirate_words[key]))
    catalog.append(
        polib.POEntry(
            msgctxt="a host's status, inside a sentence", msgid="running", msgstr="sailin'"
        )
    )
    folder = tmp_path / translation.to_locale("eo") / "LC_MESSAGES"
    folder.mkdir(parents=True)
    catalog.save_as_mofile(str(folder / "django.mo"))
    settings.LOCALE_PATHS = [str(tmp_path), *settings.LOCALE_PATHS]
    settings.LANGUAGES = [*settings.LANGUAGES, ("eo", "Esperanto")]
    _clear_language_caches()
    yield "eo"
    _clear_language_caches()


def error_words_in_english(err):
    with translation.override("en"):
        return error_words(err)


def test_adding_a_language_is_a_catalog_only(pirate):
    assert translation.check_for_language(pirate)
    refused = said("create_refused", error=error_said(errors.HtmlErrorPage(http_status=502)))
    timeout = said("status_timeout", status=said("status.running"), minutes=10)
    with translation.override(pirate):
        assert error_words(errors.WalletBalanceTooLow()) == "Yer purse be empty, matey."
        assert words(refused) == "No booty taken. The port be shut (HTTP 502), arr."
        assert words(timeout) == "The ship not be sailin' after 10 min, arr."
        # What the catalog does not say yet reads in English, not in another language.
        assert error_words(errors.NoPermission()) == error_words_in_english(errors.NoPermission())
    with translation.override("en"):
        assert words(timeout).startswith("The host did not become running within 10 min.")


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def test_no_python_string_outside_the_simulator_and_migrations_is_chinese():
    offenders = []
    for package in ("dashboard", "vmclient"):
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative.startswith(("vmclient/simulator/", "dashboard/migrations/")):
                continue
            tree = ast.parse(path.read_text(), filename=relative)
            docstrings = _docstrings(tree)
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Constant)
                    and isinstance(node.value, str)
                    and id(node) not in docstrings
                    and HAN.search(node.value)
                ):
                    offenders.append(f"{relative}:{node.lineno}")
    assert offenders == []


@pytest.mark.django_db
def test_an_operations_outcome_reads_in_the_new_language_on_its_page(pirate, client, make_member):
    member = make_member("reader", "Viewer")
    client.force_login(member)
    outcome = said("status_timeout", status=said("status.running"), minutes=10)
    operation = Operation.objects.create(
        kind=Operation.Kind.POWER_ON,
        state=Operation.State.FAILED,
        requested_by=member,
        requested_by_name=member.username,
        host_name="render-01",
        finished_at=timezone.now(),
        **stored(outcome),
    )
    page = client.get(f"/operations/{operation.pk}/", headers={"accept-language": pirate})
    assert "The ship not be sailin&#x27; after 10 min, arr." in page.content.decode()
    english = client.get(f"/operations/{operation.pk}/", headers={"accept-language": "en"})
    assert "The host did not become running within 10 min." in english.content.decode()


# --- The migration that turned the words into keys -------------------------------------------

BEFORE = ("dashboard", "0013_new_audit_actions_timeline_entries_and_status_words")
AFTER = ("dashboard", "0014_message_keys")


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])
    return executor.loader.project_state([target]).apps


@pytest.mark.django_db(transaction=True)
def test_rows_written_before_keep_their_words_and_going_back_gives_them_back():
    apps = _migrate(BEFORE)
    user = apps.get_model("auth", "User").objects.create(username="old-timer")
    old = apps.get_model("dashboard", "Operation").objects.create(
        kind="power_on",
        state="failed",
        requested_by=user,
        requested_by_name="old-timer",
        message="The host is already starting.",
        message_zh="主机正在开机中。",
    )
    apps.get_model("dashboard", "OperationEvent").objects.create(
        operation=old, event="failed", detail="Gone.", detail_zh="没了。"
    )
    apps.get_model("dashboard", "SyncState").objects.create(
        job="hosts", error_message="It broke.", error_message_zh="坏了。"
    )

    _migrate(AFTER)
    # The models as they are now (later migrations add columns they read).
    _migrate(("dashboard", _latest_migration()))
    operation = Operation.objects.get(pk=old.pk)
    assert operation.message_key == ""
    assert operation.message_in("zh-hans") == "主机正在开机中。"
    assert operation.message_in("en") == "The host is already starting."
    assert operation.events.get().detail_in("zh-hans") == "没了。"
    with translation.override("zh-hans"):
        assert SyncState.objects.get().error_words == "坏了。"
    with translation.override("en"):
        assert SyncState.objects.get().error_words == "It broke."
    # A row written since keeps a key and its values, not the words.
    new = Operation.objects.create(
        kind="power_on",
        state="failed",
        requested_by_id=user.pk,
        requested_by_name="old-timer",
        **stored(said("status_timeout", status=said("status.running"), minutes=10)),
    )

    apps = _migrate(BEFORE)
    rows = apps.get_model("dashboard", "Operation").objects
    assert rows.get(pk=old.pk).message_zh == "主机正在开机中。"
    assert rows.get(pk=new.pk).message_zh.startswith("主机在 10 分钟内未变为运行中。")
    assert apps.get_model("dashboard", "OperationEvent").objects.get().detail_zh == "没了。"
    assert apps.get_model("dashboard", "SyncState").objects.get().error_message_zh == "坏了。"
    _migrate(("dashboard", _latest_migration()))


def _latest_migration() -> str:
    executor = MigrationExecutor(connection)
    return max(name for app, name in executor.loader.graph.leaf_nodes() if app == "dashboard")
