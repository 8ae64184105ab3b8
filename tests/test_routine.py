"""Routine files: the built-ins load with the seed doses, and every bad file gets a precise error."""

import json
import re
import tomllib
from dataclasses import fields
from importlib import resources
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from coach.errors import InputError, OptionError, RoutineError
from coach.routine import (Exercise, ExerciseText, Routine, RoutineText, builtin_names, builtin_text, in_language,
                           load_routine, load_routine_file, nominal_duration_s, parse_routine)

SCHEMA = json.loads((resources.files("coach.routine") / "routine.schema.json").read_text(encoding="utf-8"))
FIXTURES = Path(__file__).parent / "routines"
GOOD_FILES = sorted((FIXTURES / "good").glob("*.toml"))
BAD_FILES = sorted((FIXTURES / "bad").glob("*.toml"))

# Bad files that only the routine parser refuses, for rules JSON Schema cannot state; the raw schema accepts them.
PYTHON_ONLY = {
    "frequency-backwards": "a range's low end above its high end: the schema cannot compare two items",
    "sides-same-ignoring-case": "uniqueItems compares exactly; sides must differ ignoring case",
    "session-over-4h": "a limit on a sum over the whole file",
    "rest-nan": "TOML's nan passes every range check (JSON has no nan)",
    # A translation must match the original, which a schema cannot compare with.
    "translation-sides-count": "a list as long as the original's",
    "translation-equipment-count": "a list as long as the original's",
    "translation-exercise-count": "as many exercises as the original",
    "translation-missing-summary": "a text the original has",
    "translation-missing-tips": "a list the original exercise has",
    "translation-extra-caution": "no text the original lacks",
    "translation-extra-tips": "no list the original exercise lacks",
    "translation-own-language": "the routine's language is a value elsewhere in the file",
    "translation-same-language-twice": "language codes compare ignoring case",
    "translation-sides-same-ignoring-case": "uniqueItems compares exactly; sides must differ ignoring case",
}

GOOD = """\
title = "Test"

[[exercises]]
name = "Squeeze"
instructions = "Squeeze."
hold_s = 3
reps = 2
"""


def schema_accepts(text: str) -> bool:
    return Draft202012Validator(SCHEMA).is_valid(tomllib.loads(text))


def error_for(text: str) -> RoutineError:
    with pytest.raises(RoutineError) as info:
        parse_routine(text, "my.toml", "my")
    return info.value


def test_builtins_are_the_three_seed_routines():
    assert builtin_names() == ["back-pain-daily", "back-pain-feet", "back-pain-stretches"]


def test_back_pain_daily_has_the_seed_daily_doses():
    r = load_routine("back-pain-daily")
    assert [(e.name, e.kind, e.dose_s, e.reps, e.rest_s) for e in r.exercises] == [
        ("Toe presses", "hold", 3, 10, 2.0), ("Toe walking", "work", 20, 5, 15.0)]
    assert r.frequency == ("day", 2, 3)


def test_back_pain_feet_has_the_seed_doses():
    r = load_routine("back-pain-feet")
    doses = [(e.name, e.kind, e.dose_s, e.reps, e.rest_s if e.reps > 1 else None, len(e.sides)) for e in r.exercises]
    assert doses == [
        ("Toe presses", "hold", 3, 10, 2.0, 0),
        ("Toe walking", "work", 20, 5, 15.0, 0),
        ("Ankle circles", "work", 10, 1, None, 4),
        ("Resisted flexion", "hold", 5, 10, 10.0, 0),
        ("Toe pencil pickups", "hold", 10, 5, 4.0, 2),
    ]
    assert r.frequency == ("week", 2, 3)
    assert "a pencil" in r.equipment and "an exercise band" in r.equipment


def test_back_pain_stretches_has_nine_moves():
    r = load_routine("back-pain-stretches")
    assert [(e.kind, e.dose_s, e.reps, len(e.sides)) for e in r.exercises] == [
        ("hold", 10, 3, 2), ("work", 30, 1, 0), ("hold", 3, 10, 0), ("hold", 10, 5, 2), ("work", 10, 1, 2),
        ("work", 30, 1, 2), ("work", 90, 1, 2), ("hold", 30, 1, 2), ("hold", 15, 10, 0),
    ]


def test_the_schema_is_a_valid_draft_2020_12_schema():
    Draft202012Validator.check_schema(SCHEMA)


def test_every_schema_key_reaches_the_routine():
    assert set(SCHEMA["properties"]) <= {f.name for f in fields(Routine)}
    assert set(SCHEMA["$defs"]["exercise"]["properties"]) <= {f.name for f in fields(Exercise)}
    assert set(SCHEMA["$defs"]["translation"]["properties"]) == {f.name for f in fields(RoutineText)}
    assert set(SCHEMA["$defs"]["exercise_text"]["properties"]) == {f.name for f in fields(ExerciseText)}


def test_a_translation_has_the_text_keys_of_the_original_and_no_dose():
    text_keys = {key for key, prop in SCHEMA["properties"].items()
                 if prop.get("$ref") in ("#/$defs/text", "#/$defs/texts")}
    assert set(SCHEMA["$defs"]["translation"]["properties"]) == text_keys | {"exercises"}
    exercise = SCHEMA["$defs"]["exercise"]["properties"]
    text_keys = {key for key, prop in exercise.items() if prop.get("$ref") in ("#/$defs/text", "#/$defs/texts",
                                                                                "#/$defs/sides")}
    assert set(SCHEMA["$defs"]["exercise_text"]["properties"]) == text_keys


GOOD_TEXTS = {p.stem: p.read_text(encoding="utf-8") for p in GOOD_FILES} | {n: builtin_text(n) for n in builtin_names()}


@pytest.mark.parametrize("name", sorted(GOOD_TEXTS))
def test_good_routines_pass_both_the_schema_and_the_parser(name):
    assert schema_accepts(GOOD_TEXTS[name])
    assert parse_routine(GOOD_TEXTS[name], f"{name}.toml", name).exercises


@pytest.mark.parametrize("path", BAD_FILES, ids=lambda p: p.stem)
def test_bad_routines_get_the_error_in_their_first_line(path):
    text = path.read_text(encoding="utf-8")
    assert schema_accepts(text) == (path.stem in PYTHON_ONLY)
    with pytest.raises(RoutineError) as info:
        parse_routine(text, path.name, path.stem)
    expected = text.splitlines()[0].removeprefix("# error: ")
    line, key, reason = re.fullmatch(rf"{re.escape(path.name)}:(\d+): (?:(\S+): )?(.*)", expected).groups()
    err = info.value
    assert (err.line, err.key, err.reason) == (int(line), key, reason)
    assert str(err) == expected


def test_python_only_rules_each_have_a_bad_file():
    assert set(PYTHON_ONLY) <= {p.stem for p in BAD_FILES}


def test_of_several_problems_the_first_in_the_file_is_reported():
    text = (FIXTURES / "bad" / "first-problem-in-file-order.toml").read_text(encoding="utf-8")
    paths = [list(e.absolute_path) for e in Draft202012Validator(SCHEMA).iter_errors(tomllib.loads(text))]
    assert sorted(paths, key=len) == [["language"], ["exercises", 0, "hold_s"]]
    assert error_for(text).key == "language"


def _allows_a_list(prop: dict) -> bool:
    if "$ref" in prop:
        prop = SCHEMA["$defs"][prop["$ref"].rsplit("/", 1)[-1]]
    kinds = prop.get("type", [])
    return "array" in ([kinds] if isinstance(kinds, str) else kinds)


EXERCISE_TABLE = GOOD.split("\n", 2)[2]
LIST_KEY_CASES = (
    [(f'title = "Test"\n{key} = []\n' + ("" if key == "exercises" else EXERCISE_TABLE), 2, key)
     for key, prop in SCHEMA["properties"].items() if _allows_a_list(prop)]
    + [(GOOD + f"{key} = []\n", 8, f"exercises[1].{key}")
       for key, prop in SCHEMA["$defs"]["exercise"]["properties"].items() if _allows_a_list(prop)]
    + [(f'title = "Test"\nfrequency = {{ {key} = [] }}\n' + EXERCISE_TABLE, 2, f"frequency.{key}")
       for key, prop in SCHEMA["properties"]["frequency"]["properties"].items() if _allows_a_list(prop)]
)


@pytest.mark.parametrize("text, line, key", LIST_KEY_CASES, ids=[case[2] for case in LIST_KEY_CASES])
def test_every_list_key_given_empty_is_an_error_naming_it(text, line, key):
    assert not schema_accepts(text)
    err = error_for(text)
    assert (err.line, err.key) == (line, key)
    assert err.reason.startswith("is an empty list")


TRANSLATION = '\n[translations.fr]\ntitle = "Essai"\n'
TRANSLATED_EXERCISE = '\n[[translations.fr.exercises]]\nname = "Serrer"\ninstructions = "Serrez."\n'
TRANSLATION_LIST_CASES = (
    [(GOOD + TRANSLATION + f"{key} = []\n" + ("" if key == "exercises" else TRANSLATED_EXERCISE), 11,
      f"translations.fr.{key}")
     for key, prop in SCHEMA["$defs"]["translation"]["properties"].items() if _allows_a_list(prop)]
    + [(GOOD + TRANSLATION + TRANSLATED_EXERCISE + f"{key} = []\n", 15, f"translations.fr.exercises[1].{key}")
       for key, prop in SCHEMA["$defs"]["exercise_text"]["properties"].items() if _allows_a_list(prop)]
)


@pytest.mark.parametrize("text, line, key", TRANSLATION_LIST_CASES, ids=[case[2] for case in TRANSLATION_LIST_CASES])
def test_every_translated_list_given_empty_is_an_error_naming_it(text, line, key):
    assert not schema_accepts(text)
    err = error_for(text)
    assert (err.line, err.key) == (line, key)
    needed = key.endswith(".exercises")
    assert err.reason == ("is an empty list; it needs at least 1 entry" if needed else
                          "is an empty list; give one entry for each of the original's, or leave the key out when it "
                          "has none")


def test_the_list_keys_are_all_covered():
    assert {case[2] for case in LIST_KEY_CASES} == {
        "equipment", "exercises", "exercises[1].sides", "exercises[1].tips", "frequency.per_day", "frequency.per_week"}
    assert {case[2] for case in TRANSLATION_LIST_CASES} == {
        "translations.fr.equipment", "translations.fr.exercises", "translations.fr.exercises[1].sides",
        "translations.fr.exercises[1].tips"}


def test_whole_numbers_may_be_written_with_a_point_zero():
    r = load_routine_file(FIXTURES / "good" / "every-key.toml")
    ex = r.exercises[0]
    assert (ex.reps, ex.hold_s) == (10, 3) and type(ex.reps) is int and type(ex.hold_s) is int


def test_text_is_tidied_and_the_language_lowered():
    r = load_routine_file(FIXTURES / "good" / "every-key.toml")
    assert (r.summary, r.language) == ("A summary written over several lines.", "fr-fr")


def test_toml_syntax_errors_carry_the_line():
    err = error_for(GOOD.replace("reps = 2", "reps = = 2"))
    assert err.line == 7 and "invalid TOML" in str(err)


def test_file_errors_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_routine_file(tmp_path / "missing.toml")
    binary = tmp_path / "bad.toml"
    binary.write_bytes(b'title = "x"\n\xff\xfe')
    with pytest.raises(RoutineError, match=r"bad.toml:2: is not UTF-8"):
        load_routine_file(binary)


def test_unknown_routine_name_lists_the_choices():
    with pytest.raises(InputError, match="back-pain-feet"):
        load_routine("no-such-routine")


def test_defaults(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(GOOD)
    r = load_routine(str(path))
    ex = r.exercises[0]
    assert (r.id, r.language, ex.sets, ex.rest_s, ex.rest_given, ex.sides) == ("mine", "en", 1, 2.0, False, ())
    assert (r.translations, r.languages) == ({}, ("en",))


LANGUAGES = ("de", "en", "es", "fr")
TEXT_KEYS = {f.name for f in fields(RoutineText)} | {"language", "translations"}
EXERCISE_TEXT_KEYS = {f.name for f in fields(ExerciseText)}


def doses(routine: Routine) -> tuple:
    """Everything of a routine but its words: what every language must share."""
    exercises = [{f.name: getattr(ex, f.name) for f in fields(Exercise) if f.name not in EXERCISE_TEXT_KEYS}
                 | {"sides": len(ex.sides), "tips": len(ex.tips)} for ex in routine.exercises]
    return {f.name: getattr(routine, f.name) for f in fields(Routine) if f.name not in TEXT_KEYS}, exercises


def words(routine: Routine) -> list[str]:
    """Every text of a routine, in order."""
    text = routine.text
    found = [text.title, text.summary, *text.equipment, text.caution]
    for ex in text.exercises:
        found += [ex.name, ex.instructions, *ex.sides, *ex.tips]
    return [w for w in found if w is not None]


@pytest.mark.parametrize("name", ["back-pain-daily", "back-pain-feet", "back-pain-stretches"])
def test_every_builtin_comes_in_every_language_with_the_same_doses(name):
    original = load_routine(name)
    assert original.languages == LANGUAGES
    for language in LANGUAGES:
        routine = in_language(original, language)
        assert routine.language == language and routine.languages == LANGUAGES
        assert doses(routine) == doses(original)
        assert nominal_duration_s(routine) == nominal_duration_s(original)
        if language != original.language:  # every text translated, none left in English
            assert not set(words(routine)) & set(words(original))
            assert len(words(routine)) == len(words(original))


ARTICLES = {"fr": ("le ", "la ", "l'", "les "), "de": ("der ", "die ", "das "), "es": ("el ", "la ", "los ", "las ")}


@pytest.mark.parametrize("name", ["back-pain-daily", "back-pain-feet", "back-pain-stretches"])
def test_builtin_texts_speak_numbers_as_words_and_sides_with_their_article(name):
    original = load_routine(name)
    for language in LANGUAGES:
        routine = in_language(original, language)
        assert [w for w in words(routine) if re.search(r"\d", w)] == []
        if language in ARTICLES:  # the README's convention for translated sides
            sides = [side for ex in routine.exercises for side in ex.sides]
            assert [side for side in sides if not side.startswith(ARTICLES[language])] == []


def test_in_language_swaps_every_text_and_back():
    original = load_routine("back-pain-feet")
    french = in_language(original, "fr")
    assert french.exercises[4].sides == ("le pied droit", "le pied gauche")
    assert french.equipment[0] == "un crayon" and french.translations.keys() == {"de", "en", "es"}
    assert in_language(french, "en") == original
    assert in_language(french, "de") == in_language(original, "de")
    assert in_language(original, "en") is original


def test_languages_compare_ignoring_case_and_a_region_falls_back_to_its_language():
    original = load_routine_file(FIXTURES / "good" / "translated.toml")
    assert original.languages == ("de", "en", "pt-br")
    assert in_language(original, "PT_br").title == "Dedos dos pés"
    english = in_language(original, " en-US ")
    assert (english.language, english.exercises[0].instructions) == ("en", "Press your toes into the floor.")
    assert in_language(original, "DE-at") is original


def test_a_missing_language_is_an_option_error_listing_the_available_ones():
    with pytest.raises(OptionError) as info:
        in_language(load_routine("back-pain-feet"), "it")
    assert str(info.value) == "--language: back-pain-feet has no 'it' translation (available: de, en, es, fr)"
    with pytest.raises(OptionError, match=r"available: de, en, pt-br\)$"):  # a language does not reach its regions
        in_language(load_routine_file(FIXTURES / "good" / "translated.toml"), "pt")
