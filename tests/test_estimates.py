"""The estimated minutes and level of a session (coach.streaming.timing_estimates): exact, and cheap to get."""

from __future__ import annotations

import struct
import zlib
from dataclasses import replace

import numpy as np
import pytest

from coach.audio.levels import BEEP_OFFSET_LU, SPEECH_CLIP_LUFS
from coach.audio.loudness import gain_to, gated_lufs, k_weighted
from coach.audio.sounds import load_sounds, sound_durations_s
from coach.plan.model import SAMPLE_RATE, to_samples
from coach.plan.planner import plan
from coach.plan.settings import Settings
from coach.routine.library import builtin_names, load_routine
from coach.session import SessionOptions, localize
from coach.streaming import estimated_length_s, estimated_lift_db, timing_estimates


def lift_one_cue_at_a_time(estimated, loudness: float, sounds: dict) -> float:
    """The level lift as first written: each cue's energy added to the 100 ms steps in turn."""
    longest_s = max((c.duration_s for c in estimated.cues if c.text is not None), default=0.0)
    syllables = np.sin(2 * np.pi * 4.0 * np.arange(to_samples(longest_s + 0.1)) / SAMPLE_RATE) > -0.2
    sounding = 10 ** ((SPEECH_CLIP_LUFS + 0.691) / 10) / max(float(syllables.mean()), 1e-9)
    energy = {None: (np.cumsum(syllables * sounding, dtype=np.float64), 10 ** ((loudness - SPEECH_CLIP_LUFS) / 10))}
    for name, clip in sounds.items():
        energy[name] = (np.cumsum(np.square(k_weighted(clip)), dtype=np.float64),
                        gain_to(clip, loudness + BEEP_OFFSET_LU) ** 2)
    step, total = SAMPLE_RATE // 10, estimated.duration_samples
    steps = np.zeros(total // step + 1)
    for cue in estimated.cues:
        found, power = energy[cue.sound]
        found = np.concatenate(([0.0], found[:to_samples(cue.duration_s) if cue.text is not None else None]))
        start = to_samples(cue.at_s)
        end = min(start + len(found) - 1, total)
        if end > start:
            bounds = np.clip(np.arange(start // step, (end - 1) // step + 2) * step, start, end) - start
            steps[start // step:(end - 1) // step + 1] += np.diff(found[bounds]) * power
    measured = gated_lufs(steps[:total // step], step)
    return (loudness - measured) if np.isfinite(measured) else 0.0


@pytest.fixture(scope="module")
def sounds():
    return load_sounds(None)


def settings_for(name: str, language: str, sounds: dict):
    routine, script, _ = localize(load_routine(name), language)
    return routine, Settings(speech=True, sound_s=sound_durations_s(sounds), script=script)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_level_is_the_one_cue_at_a_time_sum_to_the_last_bit(language, sounds):
    for name in builtin_names():
        routine, settings = settings_for(name, language, sounds)
        for rate_wpm, loudness in ((160, -19.0), (300, -23.0)):
            estimated = plan(routine, settings, lambda text: estimated_length_s(text, rate_wpm))
            assert estimated_lift_db(estimated, loudness, sounds) == lift_one_cue_at_a_time(estimated, loudness, sounds)


def test_a_cue_past_the_end_or_a_plan_without_cues_adds_nothing(sounds):
    routine, settings = settings_for("back-pain-daily", "en", sounds)
    estimated = plan(routine, settings, lambda text: estimated_length_s(text, 160))
    past = replace(estimated.cues[-1], at_s=estimated.duration_s + 1.0)
    cut = replace(estimated, cues=estimated.cues[:-1] + (past,))
    assert estimated_lift_db(cut, -19.0, sounds) == lift_one_cue_at_a_time(cut, -19.0, sounds)
    silent = replace(estimated, cues=())
    assert estimated_lift_db(silent, -19.0, sounds) == lift_one_cue_at_a_time(silent, -19.0, sounds) == 0.0


def test_the_estimates_plan_is_the_plan_that_says_their_minutes(sounds):
    routine, settings = settings_for("back-pain-feet", "fr", sounds)
    minutes, lift_db, estimated = timing_estimates(routine, settings, SessionOptions(), sounds, 300)
    again = plan(routine, replace(settings, intro_minutes=minutes), lambda text: estimated_length_s(text, 300))
    assert estimated == again and estimated.intro_minutes == again.intro_minutes == minutes
    assert lift_db == estimated_lift_db(again, SessionOptions().loudness_lufs, sounds)


def test_the_clip_cache_keeps_the_level_under_all_it_depends_on(sounds, tmp_path):
    from coach.speech.clipcache import ClipCache
    from coach.speech.voices import Voice

    class NoEngine:
        name = "none"

    def cache():
        return ClipCache(NoEngine(), Voice("none/en", "None", ("en",), None), 160, tmp_path)

    routine, settings = settings_for("back-pain-daily", "en", sounds)
    estimated = plan(routine, settings, lambda text: estimated_length_s(text, 160))
    first = estimated_lift_db(estimated, -19.0, sounds, cache())
    assert first == estimated_lift_db(estimated, -19.0, sounds) and len(list(tmp_path.glob("*.estimate"))) == 1
    kept = next(tmp_path.glob("*.estimate"))
    intact = kept.read_bytes()
    other = struct.pack("<d", 1.5)
    kept.write_bytes(other + struct.pack("<I", zlib.crc32(other)))  # another figure under its name: read back
    assert estimated_lift_db(estimated, -19.0, sounds, cache()) == 1.5 != first
    kept.write_bytes(intact[:-1] + b"?")  # damaged: worked out again, and kept whole
    assert estimated_lift_db(estimated, -19.0, sounds, cache()) == first and kept.read_bytes() == intact
    # Another level, another sound, a cue moved: each its own figure.
    louder = {**sounds, "pip": sounds["pip"] * np.float32(2)}
    moved = replace(estimated, cues=(replace(estimated.cues[0], at_s=estimated.cues[0].at_s + 0.5),) + estimated.cues[1:])
    for count, args in enumerate(((estimated, -23.0, sounds), (estimated, -19.0, louder), (moved, -19.0, sounds)), 2):
        assert estimated_lift_db(*args, cache()) == estimated_lift_db(*args)
        assert len(list(tmp_path.glob("*.estimate"))) == count
