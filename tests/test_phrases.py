"""Phrase packs: each language has every phrase and plural form, speaks words not symbols, and agrees in gender."""

import dataclasses
import re

import pytest

from coach.plan.phrases import (REFERENCE, check_pack, fields, forms, load_pack, pack_language, pack_languages,
                                required_categories)
from coach.routine import load_routine
from coach.plan.script import Script, for_language

LANGUAGES = pack_languages()
ABBREVIATION = re.compile(r"(\d|\})\s*(s|sec|secs|min|mins|h)\b\.?")  # "10 s", "{n} min"
CLOCK = re.compile(r"(\d|\}):(\d|\{)")  # "1:30", "{m}:{s}"


def sample_values(template: str, n: float) -> dict:
    """Values for every placeholder of a template: n for numbers, a short text for the rest."""
    numbers = {"n": n, "index": 2, "total": 5, "set": 2, "sets": 3, "rep": 3, "reps": 10, "low": 2, "high": 3}
    return {name: numbers.get(name, "X") for name, _ in fields(template) if name != "n"}


def test_coach_speaks_english_french_german_and_spanish():
    assert LANGUAGES == ["de", "en", "es", "fr"]
    assert pack_language("fr-CA") == "fr" and pack_language("en_us") == "en" and pack_language("it") is None


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_pack_has_every_phrase_and_every_plural_form_its_language_needs(language):
    pack, english = load_pack(language), load_pack(REFERENCE)
    assert check_pack(pack, english) == []
    assert set(pack.phrases) == set(english.phrases)
    needed = required_categories(pack.locale)
    for key, phrase in english.phrases.items():
        if not isinstance(phrase, str):
            assert needed <= set(pack.phrases[key]), key


def test_the_plural_forms_a_pack_must_write_come_from_cldr():
    assert required_categories("en_GB") == {"one", "other"}
    assert required_categories("fr") == {"one", "other"}  # fr has "many" too (un million de), left to other
    assert required_categories("pl") == {"one", "other"}  # few and many may fall back to other
    french = for_language("fr")
    assert french.say("seconds", n=1_000_000) == "1000000 secondes"  # "many", falling back to "other"
    assert french.say("seconds", n=0) == "0 seconde" and french.say("seconds", n=1.5) == "1,5 seconde"


def test_a_broken_pack_is_found_out():
    english = load_pack(REFERENCE)
    phrases = dict(load_pack("fr").phrases)
    del phrases["hold"]
    phrases["times"] = {"other": "{n} fois"}
    phrases["next_set"] = "Série {set} sur {count}."
    phrases["dose_sets"] = {"one": "une série", "other": "{n:plural} séries"}
    broken = dataclasses.replace(load_pack("fr"), phrases=phrases)
    problems = "\n".join(check_pack(broken, english))
    assert "times: no 'one' form, which fr needs" in problems
    assert "dose_sets: {n:plural} names no [numbers] table" in problems
    phrases["dose_sets"] = load_pack("fr").phrases["dose_sets"]
    phrases["times"] = load_pack("fr").phrases["times"]
    problems = check_pack(dataclasses.replace(broken, phrases=phrases), english)
    assert "hold: missing (it is in coach/plan/phrases/en.toml)" in problems
    assert any(p.startswith("next_set: unknown placeholder {count}") for p in problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_packs_speak_words_never_abbreviations_or_clock_times(language):
    pack = load_pack(language)
    for key, phrase in pack.phrases.items():
        for template in forms(phrase):
            for n in (1, 2, 21, 90):
                text = Script(pack).say(key, n=n, **sample_values(template, n))
                assert not ABBREVIATION.search(text) and not CLOCK.search(text), (key, text)


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != REFERENCE])
def test_singular_forms_are_words_so_the_voice_gets_the_gender_right(language):
    """A bare "1" is read "un", "eins", "uno": wrong before "seconde", "Sekunde", "vez". English has no such agreement."""
    script = for_language(language)
    for key, phrase in script.pack.phrases.items():
        if not isinstance(phrase, str):
            text = script.say(key, n=1, **sample_values(phrase["one"], 1))
            assert "1" not in text, (key, text)


def test_numbers_agree_with_feminine_nouns():
    assert for_language("fr").say("times", n=21) == "vingt et une fois"
    assert for_language("fr").say("minutes", n=31) == "trente et une minutes"
    assert for_language("fr").say("dose_rounds", n=21) == ", 21 tours"  # masculine: espeak's own reading is right
    assert for_language("es").say("times", n=21) == "veintiuna veces"
    assert for_language("es").say("minutes", n=21) == "veintiún minutos"
    assert for_language("de").say("aim_range", low=1, high=2) == "ein bis 2 Mal"
    assert for_language("de").say("seconds", n=21) == "21 Sekunden"  # einundzwanzig Sekunden


def test_lists_exact_forms_and_decimals_follow_each_language():
    items = ["A", "B", "C"]
    assert [for_language(code).join(items) for code in ("en", "fr", "de", "es")] == [
        "A, B and C", "A, B et C", "A, B und C", "A, B y C"]
    assert [for_language(code).say("aim_times", n=2) for code in ("en", "fr", "de", "es")] == [
        "twice", "2 fois", "zweimal", "2 veces"]
    assert for_language("de").seconds(2.5) == "2,5 Sekunden" and for_language("en").seconds(2.5) == "2.5 seconds"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_sentence_of_a_routine_is_made_in_the_language(language):
    script, routine = for_language(language), load_routine("back-pain-feet")
    ex = routine.exercises[4]  # two sides, reps and a rest
    lines = script.intro_lines(routine, 14) + script.exercise_lines(routine, 5, ex) + script.close_lines(routine, 845)
    lines += [script.next_rep(2, 5, "hold"), script.last_rep(5, "work"), script.halfway_next(6, 10, "hold"),
              script.halfway_number(6), script.rep_number(4), script.exercise_done(ex.name, 5, "hold", 2),
              script.next_set(2, 3), script.set_start(2, 3), script.switch_side(ex.sides[1]),
              script.close_skipped([ex.name], 5), script.seconds_left(20)]
    assert all(line and "{" not in line and "}" not in line for line in lines)
    assert script.exercise_chapter(2, "Toe walking") == "2. Toe walking"
