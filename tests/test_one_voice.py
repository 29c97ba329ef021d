"""One voice: every sentence a member reads comes from the catalogs, so adding a language is a
catalog and nothing else (no model, no Python literal)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import polib
import pytest
from django.utils import translation
from django.utils.translation import trans_real

from dashboard.wording import error_said, error_words, said, words
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
    """A language the project does not ship ("pirate", code x-pirate), as a translator adds one:
    a catalog in a locale directory and its line in LANGUAGES."""
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
    folder = tmp_path / translation.to_locale("x-pirate") / "LC_MESSAGES"
    folder.mkdir(parents=True)
    catalog.save_as_mofile(str(folder / "django.mo"))
    settings.LOCALE_PATHS = [str(tmp_path), *settings.LOCALE_PATHS]
    settings.LANGUAGES = [*settings.LANGUAGES, ("x-pirate", "Pirate")]
    _clear_language_caches()
    yield "x-pirate"
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
