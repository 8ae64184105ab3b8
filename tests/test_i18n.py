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


# Phrases of coach's English output that no French, German or Spanish line should still carry.
ENGLISH_PHRASES = ("Length:", "How often:", "Tip:", "Caution:", "You need", "Sides, in order", "Today is", "due now",
                   "done for", "streak", "this week", "No sessions logged yet", "missing required key", "exercises,",
                   "about ", "Your own routines", "Weeks run", "A session counts", "Usage:", "Show this message",
                   "Missing argument", "hold ", "rest between", "to get into position")


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_the_commands_speak_the_locales_language_and_coach_in_it(lang, tmp_path):
    env = {"LANG": LANGUAGES[lang]}
    bad = tmp_path / "bad.toml"
    bad.write_text('title = "x"\n[[exercises]]\nname = "a"\n')
    output = "".join(r.stdout + r.stderr for r in (
        coach("routines", env_extra=env), coach("show", "back-pain-daily", env_extra=env),
        coach("today", env_extra=env), coach("history", "--routine", "nothing-logged", env_extra=env),
        coach("validate", bad, env_extra=env), coach("show", env_extra=env), coach("show", "--help", env_extra=env)))
    assert [p for p in ENGLISH_PHRASES if p in output] == []
    plan = json.loads(coach("plan", "back-pain-daily", "--no-voice", "--json", env_extra=env).stdout)
    assert plan["language"] == lang
    # --language and the language setting still win over the locale
    assert json.loads(coach("plan", "back-pain-daily", "--no-voice", "--json", "--language", "en",
                            env_extra=env).stdout)["language"] == "en"


def test_under_c_or_an_unknown_language_coach_is_english_as_before(short_routine):
    for lang in ("C", "C.UTF-8", "pt_BR.UTF-8"):
        shown = coach("show", "back-pain-daily", env_extra={"LANG": lang}).stdout
        assert "Length: about" in shown and "How often: 2-3 times a day" in shown
        assert json.loads(coach("plan", "back-pain-daily", "--no-voice", "--json",
                                env_extra={"LANG": lang}).stdout)["language"] == "en"
    # a routine without the locale's translation is coached in its own language, without complaint
    french = coach("plan", short_routine, "--no-voice", "--json", env_extra=FRENCH)
    assert french.returncode == 0 and json.loads(french.stdout)["language"] == "en" and french.stderr == ""


def test_output_for_programs_is_the_same_in_every_locale(tmp_path):
    coach("log", "add", "back-pain-daily", "--at", "2026-01-05 08:00")
    runs = {}
    for lang in ("C.UTF-8", *LANGUAGES.values()):
        env = {"LANG": lang}
        runs[lang] = (coach("today", "--json", env_extra=env).stdout, coach("history", "--json", env_extra=env).stdout,
                      coach("history", "--csv", "-", env_extra=env).stdout,
                      sorted(json.loads(coach("plan", "back-pain-daily", "--no-voice", "--json", env_extra=env).stdout)),
                      coach("show", env_extra=env).returncode, coach("validate", tmp_path / "none.toml",
                                                                     env_extra=env).returncode)
    assert len(set(map(repr, runs.values()))) == 1


def test_the_language_setting_wins_over_the_locale_in_show_and_plan(tmp_path):
    env = {"LANG": "fr_FR.UTF-8", "XDG_CONFIG_HOME": str(tmp_path)}
    assert coach("config", "set", "language", "de", env_extra=env).returncode == 0
    shown = coach("show", "back-pain-daily", env_extra=env).stdout
    assert shown.startswith("Jeden Tag") and "Durée\u00a0:" in shown  # the routine in German, coach's words in French
    plan = coach("plan", "back-pain-daily", "--no-voice", "--json", env_extra=env).stdout
    assert json.loads(plan)["language"] == "de"


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_the_width_rules_hold_in_every_language(lang):
    from rich.cells import cell_len

    from coach.audio.sounds import builtin_sound_durations_s
    from coach.live.status import status_text
    from coach.plan.planner import plan
    from coach.plan.settings import Settings, estimate_clip_duration
    from coach.routine import in_language, load_routine

    assert coach("log", "add", "back-pain-feet").returncode == 0
    for columns in (40, 80):
        env = {"LANG": LANGUAGES[lang], "COLUMNS": str(columns)}
        for args in (("history",), ("today",)):
            lines = coach(*args, env_extra=env).stdout.splitlines()
            assert lines and max(map(cell_len, lines)) <= columns, (args, columns)
    with i18n.use_language(lang):
        routine = in_language(load_routine("back-pain-feet"), lang)
        p = plan(routine, Settings(sound_s=builtin_sound_durations_s()), estimate_clip_duration(160))
        for at_s in (0.0, 30.0, 200.0, p.duration_s / 2):
            for width in (40, 80):
                assert cell_len(status_text(p, at_s, paused=True, width=width)) <= width


def test_a_catalog_edited_since_it_was_compiled_is_compiled_on_first_use(tmp_path, monkeypatch):
    import shutil

    locale = tmp_path / "locale"
    shutil.copytree(ROOT / "coach" / "locale" / "de", locale / "de")
    (locale / "de" / "LC_MESSAGES" / "coach.mo").unlink(missing_ok=True)
    po = locale / "de" / "LC_MESSAGES" / "coach.po"
    po.write_text(po.read_text(encoding="utf-8").replace('msgstr "jetzt fällig"', 'msgstr "jetzt dran"'),
                  encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALE_DIR", locale)
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    i18n._cache.clear()
    try:
        assert i18n._("due now") == "jetzt dran"
        assert (locale / "de" / "LC_MESSAGES" / "coach.mo").is_file()  # kept for the next run
    finally:
        i18n._cache.clear()
