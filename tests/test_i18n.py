"""coach on screen in the user's language: the locale picks it, catalogs carry every message, --json stays."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from coach import i18n
from inproc import coach
from pseudo import ROOT, transform, translations, untransformed

FRENCH = {"LANG": "fr_FR.UTF-8"}
LANGUAGES = {"fr": "fr_FR.UTF-8", "de": "de_DE.UTF-8", "es": "es_ES.UTF-8"}


@pytest.mark.parametrize("environ, expected", [
    ({"LANG": "fr_FR.UTF-8"}, ["fr"]),
    ({"LANG": "de_AT.UTF-8", "LC_MESSAGES": "es_ES.UTF-8"}, ["es"]),
    ({"LANG": "de_DE.UTF-8", "LC_MESSAGES": "es_ES.UTF-8", "LC_ALL": "fr_CH.UTF-8"}, ["fr"]),
    ({"LANG": "fr_FR.UTF-8", "LANGUAGE": "de:es"}, ["de", "es", "fr"]),
    ({"LANG": "C.UTF-8", "LANGUAGE": "fr"}, []),  # GNU gettext ignores LANGUAGE under the C locale
    ({"LANG": "POSIX"}, []),
    ({}, []),
])
def test_the_users_languages_are_read_as_gettext_reads_them(environ, expected):
    assert i18n.user_languages(environ) == expected


def test_messages_follow_the_locale_and_stay_english_under_c_or_an_unknown_language(monkeypatch):
    for lang, expected in (("fr_FR.UTF-8", "fr"), ("de_DE.UTF-8", "de"), ("es_MX.UTF-8", "es"),
                           ("C.UTF-8", "en"), ("pt_BR.UTF-8", "en")):
        monkeypatch.setenv("LANG", lang)
        assert i18n.language() == expected
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    assert i18n._("due now") == "jetzt fällig"
    assert i18n.ngettext("streak: {count} week", "streak: {count} weeks", 1) == "Serie: {count} Woche"
    assert i18n.ngettext("streak: {count} week", "streak: {count} weeks", 3) == "Serie: {count} Wochen"
    with i18n.use_language("es"):
        assert i18n._("due now") == "toca ahora"
    monkeypatch.setenv("LANG", "C.UTF-8")
    assert i18n._("due now") == "due now"


def test_numbers_lists_and_dates_are_written_the_languages_way(monkeypatch):
    from datetime import date

    monkeypatch.setenv("LANG", "C.UTF-8")
    assert (i18n.format_number(3.25, 1, fixed=True), i18n.format_list(["a", "b", "c"])) == ("3.2", "a, b and c")
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")
    assert i18n.format_number(3.25, 1, fixed=True) == "3,2"
    assert i18n.format_list(["a", "b", "c"]) == "a, b et c"
    assert i18n.format_date(date(2026, 12, 7), "MMMMd", "%-d %B") == "7 décembre"


def _catalog(lang: str):
    from babel.messages.pofile import read_po

    with open(ROOT / "coach" / "locale" / lang / "LC_MESSAGES" / "coach.po", "rb") as f:
        return read_po(f, locale=lang)


def _fields(text: str) -> set[str]:
    return set(re.findall(r"\{(\w*)\}", text))


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_every_message_in_the_code_has_a_translation_with_the_same_placeholders(lang):
    catalog = _catalog(lang)
    wanted = translations()._catalog  # every message in the code now, as the pseudo-locale extracted them
    problems = []
    for key in wanted:
        msgid = key[0] if isinstance(key, tuple) else key
        if not msgid or (isinstance(key, tuple) and key[1] != 0):
            continue
        message = catalog.get(msgid)
        strings = (message.string if isinstance(message.string, tuple) else (message.string,)) if message else ("",)
        if not all(strings) or (message and message.fuzzy):
            problems.append(f"untranslated: {msgid!r}")
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        if any(_fields(s) - set().union(*map(_fields, ids)) for s in strings):
            problems.append(f"placeholders differ: {msgid!r}")
    assert problems == []


def test_no_function_both_binds_the_name_underscore_and_calls_it():
    # `_, x = pair` in a function that also calls _() would shadow the translation function there
    clashes = []
    for path in (ROOT / "coach").rglob("*.py"):
        for fn in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names = [n for n in ast.walk(fn) if isinstance(n, ast.Name) and n.id == "_"]
                if any(isinstance(n.ctx, ast.Store) for n in names) and any(
                        isinstance(c, ast.Call) and getattr(c.func, "id", None) == "_" for c in ast.walk(fn)):
                    clashes.append(f"{path.relative_to(ROOT)}:{fn.name}")
    assert clashes == []


def test_the_pseudo_locale_marks_each_line_and_keeps_placeholders():
    assert transform("Length: {length}\nTip: {tip}") == "⟦Léñgth: {length}⟧\n⟦Tîp: {tip}⟧"
    assert untransformed("⟦Léñgth:⟧ about 7 min\n⟦Tîp:⟧ --voice back-pain-daily /tmp/x.toml 3",
                         {"back-pain-daily"}) == ["⟦Léñgth:⟧ about 7 min"]
