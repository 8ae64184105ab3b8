"""Coaching in French, German and Spanish: the session's phrases, the routine's text and the voice agree."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from coach.export.captions import srt
from coach.speech.clipcache import ClipCache, default_cache_dir
from coach.errors import OptionError
from coach.plan.model import CueKind
from coach.plan.settings import Settings, estimate_clip_duration
from coach.plan.planner import plan
from coach.routine import in_language, load_routine, parse_routine
from coach.plan.script import for_language
from coach.session import SessionOptions, build_session, installed_voices
from coach.audio.sounds import builtin_sound_durations_s
from coach.speech.engine import default_engine
from coach.speech.voices import Voice, best_voice_for
from inproc import coach

# Words of coach's English phrases that are not also French, German or Spanish words.
ENGLISH_WORDS = {"hold", "release", "next", "seconds", "second", "get", "ready", "exercise", "of", "the", "go",
                 "stop", "rep", "reps", "round", "rounds", "let's", "begin", "done", "well", "now", "start",
                 "with", "and", "then", "you", "set", "sets", "last", "one", "halfway",
                 "times", "once", "twice", "this", "session", "takes", "about", "will", "need", "see", "time",
                 "aim", "whole", "that's", "each", "side", "left", "keep", "going", "rest", "between", "have",
                 "been", "finish", "week", "day"}
SHORT_FRENCH = """\
title = "Short test"
equipment = ["a chair"]
frequency = { per_week = [2, 3] }

[[exercises]]
name = "Press"
instructions = "Press your toes down."
setup_s = 2
reps = 2
hold_s = 3
rest_s = 3

[[exercises]]
name = "March"
instructions = "March on the spot."
sides = ["left", "right"]
work_s = 4

[translations.fr]
title = "Petit essai"
equipment = ["une chaise"]

[[translations.fr.exercises]]
name = "Appui"
instructions = "Appuyez les orteils vers le bas."

[[translations.fr.exercises]]
name = "Marche"
instructions = "Marchez sur place."
sides = ["le côté gauche", "le côté droit"]
"""


def best_voice(language: str) -> Voice:
    """The installed voice coach picks for a language by default."""
    with default_engine() as engine:
        return best_voice_for(installed_voices(engine, default_cache_dir().parent), language)


def english_words(text: str) -> set[str]:
    return {word for word in re.findall(r"[a-z']+", text.lower()) if word in ENGLISH_WORDS}


def spoken(p) -> list[str]:
    return [cue.text for cue in p.cues if cue.kind == CueKind.SPEECH]


def doses(p) -> list[tuple]:
    """Each hold and work period: its exercise, side, set and rep, and its length in samples."""
    return [(s.kind, s.index, s.set, s.rep, round(s.duration_s * p.sample_rate)) for s in p.steps if s.kind.is_dose]


def dose_fields(routine) -> list[tuple]:
    return [(ex.reps, ex.sets, ex.hold_s, ex.work_s, ex.rest_s, ex.set_rest_s, ex.setup_s, len(ex.sides))
            for ex in routine.exercises]


@pytest.fixture(scope="module")
def french_session():
    """A short routine coached in French with the real voice (its clips stay in the shared cache)."""
    routine = parse_routine(SHORT_FRENCH, "short.toml", "short")
    return build_session(routine, SessionOptions(language="fr"), extra_texts=lambda script: (script.PAIN_QUESTION,))


def test_a_french_session_says_everything_in_french_with_the_french_voice(french_session):
    session = french_session
    assert session.language == "fr" and session.voice == best_voice("fr") and "fr" in session.voice.languages
    said = spoken(session.plan)
    assert not english_words(" ".join(said)), english_words(" ".join(said))
    assert {"Tenez.", "Relâchez.", "Préparez-vous.", "Allez !", "Arrêtez.", "Il vous faut une chaise."} <= set(said)
    assert "Commencez par le côté gauche." in said and "Maintenant, le côté droit." in said
    assert {"3", "2", "1"} <= set(said)  # counts are digits, which the French voice reads in French
    assert all(text in session.speech for text in said)
    assert session.speech[session.script.PAIN_QUESTION].size and session.script.PAIN_QUESTION.startswith("Quelle")


def test_french_counts_are_rendered_by_the_french_voice_not_the_english_one(french_session):
    with default_engine() as engine:
        english_three = ClipCache(engine, best_voice("en"), 160, default_cache_dir()).clip("3")
        french_three = ClipCache(engine, best_voice("fr"), 160, default_cache_dir()).clip("3")
    assert np.array_equal(french_session.speech["3"], french_three)
    assert len(english_three) != len(french_three) or not np.allclose(english_three, french_three)


def test_captions_and_chapters_are_in_the_sessions_language(french_session):
    p = french_session.plan
    assert [c.title for c in p.chapters] == ["Introduction", "1. Appui", "2. Marche", "Fin"]
    captions = srt(p)
    assert "Exercice 1 sur 2 : Appui." in captions and "Bravo !" in captions
    assert not english_words(captions)


@pytest.mark.parametrize("language", ["fr", "de", "es"])
def test_every_builtin_routine_is_coached_in_the_language_with_the_same_doses(language):
    settings = Settings(sound_s=builtin_sound_durations_s(), script=for_language(language))
    english_settings = Settings(sound_s=builtin_sound_durations_s())
    for name in ("back-pain-feet", "back-pain-stretches", "back-pain-daily"):
        routine = load_routine(name)
        translated = plan(in_language(routine, language), settings, estimate_clip_duration(160))
        original = plan(routine, english_settings, estimate_clip_duration(160))
        assert not english_words(" ".join(spoken(translated))), (name, english_words(" ".join(spoken(translated))))
        counts = {text for text in spoken(translated) if text.isdigit()}
        assert counts and counts <= set("123456789")  # digits, which each voice reads in its language
        assert dose_fields(in_language(routine, language)) == dose_fields(routine)
        assert doses(translated) == doses(original)
        script, names = for_language(language), [ex.name for ex in in_language(routine, language).exercises]
        assert [c.title for c in translated.chapters] == (
            [script.intro_chapter()] + [f"{i}. {name}" for i, name in enumerate(names, start=1)]
            + [script.close_chapter()])
        assert not english_words(" ".join(c.title for c in translated.chapters))


def test_plan_json_names_the_language_and_the_voice():
    result = coach("plan", "back-pain-daily", "--language", "de", "--no-voice", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert (doc["language"], doc["voice"]) == ("de", None)
    assert doc["title"] == in_language(load_routine("back-pain-daily"), "de").title
    assert doc["chapters"][-1]["title"] == "Abschluss"


def test_an_unknown_language_is_one_line_listing_coachs_languages():
    result = coach("plan", "back-pain-feet", "--language", "xx", "--no-voice")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == "coach: --language: coach does not speak 'xx'; choose one of: de, en, es, fr\n"


def test_a_routine_without_the_translation_is_one_line_listing_its_languages(short_routine):
    result = coach("export", short_routine, "out.mp3", "--language", "fr", "--no-voice")
    assert result.returncode == 2
    assert result.stderr == "coach: --language: short has no 'fr' translation (available: en)\n"


def test_the_language_setting_is_the_default_and_its_errors_name_the_file(tmp_path, short_routine):
    folder = tmp_path / "coach"
    folder.mkdir()
    (folder / "config.toml").write_text('rate = 170\nlanguage = "es"\n')
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    result = coach("plan", "back-pain-daily", "--no-voice", "--json", env_extra=env)
    assert result.returncode == 0 and json.loads(result.stdout)["language"] == "es"
    result = coach("plan", short_routine, "--no-voice", env_extra=env)
    assert result.returncode == 2
    assert result.stderr == (f"coach: {folder / 'config.toml'}:2: language: short has no 'es' translation "
                             "(available: en)\n")
    result = coach("plan", short_routine, "--no-voice", "--language", "en", "--json", env_extra=env)
    assert result.returncode == 0 and json.loads(result.stdout)["language"] == "en"


def test_a_routine_in_a_language_without_phrases_speaks_them_in_english_with_one_warning(tmp_path):
    path = tmp_path / "punte.toml"
    path.write_text('title = "Punte"\nlanguage = "it"\n\n[[exercises]]\nname = "Punte"\n'
                    'instructions = "Premi le dita dei piedi."\nhold_s = 2\nsetup_s = 1\n')
    result = coach("plan", path, "--json")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ("coach: warning: coach has no phrases in 'it' (only in de, en, es, fr), "
                             "so its own sentences are in English\n")
    doc = json.loads(result.stdout)
    assert (doc["language"], doc["voice"]) == ("it", best_voice("it").id)
    texts = [c["text"] for c in doc["cues"] if c["text"]]
    assert "Hold." in texts and "Premi le dita dei piedi." in texts


class EnglishOnlyEngine:
    """An engine with one English voice and nothing else."""

    name = "english-only"

    def voices(self):
        return [Voice("x/en", "English", ("en",), None)]

    def render(self, text, voice_id, rate_wpm):
        return np.full(100, 0.1, dtype=np.float32)


def test_no_voice_for_the_language_is_one_line_listing_the_languages_that_have_one(tmp_path):
    routine = parse_routine(SHORT_FRENCH, "short.toml", "short")
    with pytest.raises(OptionError) as caught:
        build_session(routine, SessionOptions(language="fr"), EnglishOnlyEngine, tmp_path / "clips")
    assert str(caught.value) == "--language: no installed voice speaks 'fr'; choose one of: en, or a voice with --voice"
    chosen = build_session(routine, SessionOptions(language="fr", voice="x/en"), EnglishOnlyEngine, tmp_path / "clips")
    assert chosen.voice.id == "x/en" and "Tenez." in spoken(chosen.plan)  # an explicit --voice wins


def test_a_regional_code_takes_its_languages_phrases_text_and_voice_when_it_has_none_of_its_own(tmp_path):
    routine = parse_routine(SHORT_FRENCH, "short.toml", "short")
    session = build_session(routine, SessionOptions(language="en-AU"), EnglishOnlyEngine, tmp_path / "clips")
    assert (session.language, session.voice.id, session.script.language) == ("en-au", "x/en", "en")
    assert session.plan.title == "Short test"
