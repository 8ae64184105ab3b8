"""Loudness (BS.1770), leveling, the true-peak limiter, the planned session level and rate calibration."""

from __future__ import annotations

import numpy as np
import pytest

from coach.audio.levels import SPEECH_CLIP_LUFS
from coach.audio.limiter import CEILING_DBTP, limit
from coach.audio.loudness import LoudnessMeter, leveled, loudness_lufs, true_peak_dbtp
from coach.audio.mixer import Mixer
from coach.errors import OptionError
from coach.plan.model import SAMPLE_RATE, Cue, CueKind, Plan
from coach.speech.clipcache import ClipCache
from coach.speech.engine import Voice
from coach.speech.rate import engine_rate, measured_wpm, rate_for_text, word_count


def sine(hz: float, seconds: float, amplitude: float, phase: float = 0.0) -> np.ndarray:
    t = np.arange(round(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (amplitude * np.sin(2 * np.pi * hz * t + phase)).astype(np.float32)


def babble(seconds: float, seed: int = 7) -> np.ndarray:
    """Speech-like: noise shaped by syllable-rate bursts with short pauses."""
    rng = np.random.default_rng(seed)
    frames = round(seconds * SAMPLE_RATE)
    envelope = np.repeat(rng.uniform(0, 1, frames // 2205 + 1) ** 2, 2205)[:frames]
    return (rng.normal(0, 0.2, frames) * envelope).astype(np.float32)


def test_a_997_hz_tone_measures_as_bs1770_defines_it_and_speech_as_pyloudnorm_does():
    tone = sine(997, 3.0, 0.1)
    # BS.1770: a full-scale 1 kHz sine reads -3.01 LKFS, so one at -20 dBFS reads -23.01 (at 22050 Hz the
    # filter designed from the standard's analogue response is off by a few hundredths)
    assert loudness_lufs(tone) == pytest.approx(-23.01, abs=0.1)
    # pyloudnorm 0.2.0's integrated_loudness of this signal (its gating drops some blocks): measured once,
    # kept here, since pyloudnorm needs scipy, which costs more to import than the whole test
    assert loudness_lufs(babble(6.0)) == pytest.approx(-18.2723, abs=0.001)


def test_the_meter_gives_the_same_figure_in_pieces_with_silence_as_in_one_piece():
    parts = [babble(0.7, seed) for seed in range(5)]
    whole = np.concatenate([np.concatenate((p, np.zeros(5000, np.float32))) for p in parts])
    meter = LoudnessMeter()
    for p in parts:
        meter.add(p)
        meter.skip(5000)
    assert meter.integrated_lufs() == pytest.approx(loudness_lufs(whole), abs=1e-5)


@pytest.mark.parametrize("clip", [babble(2.5), sine(440, 0.15, 0.3)], ids=["speech-like 2.5 s", "tone 150 ms"])
def test_a_clip_is_leveled_to_the_speech_loudness_long_or_shorter_than_a_gating_block(clip):
    assert loudness_lufs(leveled(clip, SPEECH_CLIP_LUFS)) == pytest.approx(SPEECH_CLIP_LUFS, abs=0.01)


def test_a_short_clip_is_measured_over_itself_not_over_padding():
    tone = sine(997, 0.2, 0.1)  # half a gating block: the ungated mean square of the clip itself
    assert loudness_lufs(tone) == pytest.approx(-23.01, abs=0.1)


class LoudEngine:
    """Renders every text as the same loud, speech-like clip, whatever the rate."""

    name = "loud"

    def voices(self):
        return [Voice("loud/en", "Loud", ("en",), None)]

    def render(self, text, voice_id, rate_wpm):
        return babble(1.5) * 4.0  # far too loud: peaks past full scale before leveling


def test_the_clip_cache_keeps_every_clip_at_the_speech_loudness(tmp_path):
    cache = ClipCache(LoudEngine(), LoudEngine().voices()[0], 160, tmp_path)
    assert loudness_lufs(cache.clip("Lie on your back.")) == pytest.approx(SPEECH_CLIP_LUFS, abs=0.05)
    again = ClipCache(LoudEngine(), LoudEngine().voices()[0], 160, tmp_path)
    assert np.array_equal(again.clip("Lie on your back."), cache.clip("Lie on your back."))
    assert again.rendered == 0


def test_the_limiter_holds_a_synthetic_over_peak_to_the_ceiling_and_leaves_the_rest_alone():
    clip = sine(300, 1.0, 0.3)
    burst = slice(SAMPLE_RATE // 2, SAMPLE_RATE // 2 + 400)
    clip[burst] *= 4.0  # 1.2: 4 dB over full scale, 5.5 dB over the ceiling
    out, peak = limit(clip)
    assert true_peak_dbtp(out) <= CEILING_DBTP + 0.01
    assert 20 * np.log10(peak) == pytest.approx(true_peak_dbtp(out), abs=0.01)
    away = round(0.03 * SAMPLE_RATE)  # beyond the limiter's attack and release
    assert np.array_equal(out[:burst.start - away], clip[:burst.start - away])
    assert np.array_equal(out[burst.stop + away:], clip[burst.stop + away:])
    quiet = sine(300, 0.5, 0.5)
    assert limit(quiet)[0] is quiet or np.array_equal(limit(quiet)[0], quiet)


def test_the_limiter_sees_peaks_between_samples():
    # a full-scale quarter-rate sine sampled 45 degrees off its crests: every sample at 0.707 (-3 dBFS,
    # under the ceiling), the waveform between them at 1.0 (0 dBTP, over it)
    clip = sine(SAMPLE_RATE / 4, 0.2, 1.0, phase=np.pi / 4)
    assert np.abs(clip).max() < 10 ** (CEILING_DBTP / 20)
    assert true_peak_dbtp(clip) == pytest.approx(0.0, abs=0.15)
    assert true_peak_dbtp(limit(clip)[0]) <= CEILING_DBTP + 0.01


def session_of(clips: list[np.ndarray], gap_s: float) -> tuple[Plan, dict[str, np.ndarray]]:
    cues, speech, at_s = [], {}, 0.5
    for i, clip in enumerate(clips):
        speech[f"line {i}"] = clip
        cues.append(Cue(at_s, len(clip) / SAMPLE_RATE, CueKind.SPEECH, text=f"line {i}"))
        at_s += len(clip) / SAMPLE_RATE + gap_s
    plan = Plan(routine="t", title="T", duration_s=at_s, steps=(), cues=tuple(cues), chapters=())
    return plan, speech


@pytest.mark.parametrize("gap_s", [0.3, 2.5])
@pytest.mark.parametrize("target", [-19.0, -23.0])
def test_a_session_of_leveled_clips_comes_out_at_its_target_whatever_its_pauses(gap_s, target):
    clips = [leveled(babble(s, seed), SPEECH_CLIP_LUFS) for seed, s in enumerate((1.2, 0.8, 2.0, 1.5, 0.6))]
    plan, speech = session_of(clips, gap_s)
    mixer = Mixer(plan, speech, {}, loudness_lufs=target)
    mixed = mixer.render(0, mixer.total_frames)
    assert loudness_lufs(mixed) == pytest.approx(target, abs=0.3)
    assert mixer.integrated_lufs() == pytest.approx(loudness_lufs(mixed), abs=0.01)
    assert mixer.true_peak_dbtp() == pytest.approx(true_peak_dbtp(mixed), abs=0.01)
    assert mixer.true_peak_dbtp() <= CEILING_DBTP + 0.01


def test_voice_volume_stays_relative_to_the_planned_level():
    clips = [leveled(babble(1.0, seed), SPEECH_CLIP_LUFS) for seed in range(3)]
    plan, speech = session_of(clips, 1.0)
    full, half = Mixer(plan, speech, {}), Mixer(plan, speech, {}, voice_volume=0.5)
    assert float(half.voice_gain) == pytest.approx(float(full.voice_gain) * 0.5)


def test_rate_calibration_table_interpolates_and_leaves_counts_and_unknown_engines_alone():
    assert engine_rate("pyttsx3", "en-gb", 160) == 146
    assert engine_rate("pyttsx3", "es", 230) == round(166 + (350 - 166) * 70 / 140)
    assert engine_rate("pyttsx3", "pt", 160) == engine_rate("pyttsx3", "en", 160)
    assert engine_rate("another-engine", "en", 160) == 160
    assert rate_for_text("pyttsx3", "en", 160, "Three.") == 160
    assert rate_for_text("pyttsx3", "en", 80, "Three.") == engine_rate("pyttsx3", "en", 80) == 71
    assert rate_for_text("pyttsx3", "en", 160, "Lie on your back.") == 146
    assert word_count("Next: Toe walking — 3 rounds.") == 5
    assert measured_wpm([("one two three", 1.0), ("four five six", 2.0)]) == pytest.approx(120.0)


def routine_sentences(language: str) -> list[str]:
    """Some of the instructions a built-in routine says in `language` (as the bench measures them, fewer)."""
    from coach.audio.sounds import builtin_sound_durations_s
    from coach.plan.planner import plan
    from coach.plan.settings import Settings
    from coach.routine import load_routine
    from coach.session import localize

    routine, script, _ = localize(load_routine("back-pain-feet"), language)
    cues = plan(routine, Settings(sound_s=builtin_sound_durations_s(), script=script), lambda text: 1.0).cues
    said = dict.fromkeys(c.text for c in cues if c.text and word_count(c.text) > 2)
    return list(said)[::5]


def test_real_espeak_speaks_routine_sentences_within_ten_percent_of_the_asked_rate(tmp_path):
    from coach.session import SessionOptions, speech_cache
    from coach.speech.engine import EDGE_PAD_S, default_engine

    engine = default_engine()
    try:
        for language, asked in (("en", 80), ("es", 80), ("fr", 300)):
            texts = routine_sentences(language)
            assert len(texts) >= 5
            cache = speech_cache(engine, SessionOptions(rate_wpm=asked), language, tmp_path / "clips")
            wpm = measured_wpm([(t, len(cache.clip(t)) / SAMPLE_RATE - 2 * EDGE_PAD_S) for t in texts])
            assert abs(wpm / asked - 1) <= 0.10, (language, asked, wpm)
    finally:
        engine.close()


def test_the_loudness_setting_is_checked_in_one_place_for_the_file_and_the_option():
    from coach.audio.levels import check_loudness
    from coach.config import check_value, parse_value

    assert parse_value("loudness", "-16") == -16.0
    for bad in (-40, -5, float("nan"), "loud", True):
        with pytest.raises(OptionError) as caught:
            check_value("loudness", bad)
        assert caught.value.option == "--loudness"
    with pytest.raises(OptionError, match="-31 LUFS is outside -30..-12"):
        check_loudness(-31)


def test_export_reports_the_loudness_and_true_peak_it_wrote(tmp_path, short_routine):
    import re

    import soundfile as sf
    from inproc import coach

    out = tmp_path / "beeps.wav"
    result = coach("export", str(short_routine), str(out), "--no-voice", "--loudness", "-23")
    assert result.returncode == 0, result.stderr
    said = re.search(r"(-?\d+\.\d) LUFS, (-?\d+\.\d) dBTP\)", result.stderr)
    assert said, result.stderr
    written, _ = sf.read(out, dtype="float32")
    assert float(said[1]) == pytest.approx(loudness_lufs(written), abs=0.05)
    assert float(said[1]) == pytest.approx(-23.0, abs=0.5)
    assert float(said[2]) == pytest.approx(true_peak_dbtp(written), abs=0.1)
    bad = coach("export", str(short_routine), str(tmp_path / "x.wav"), "--no-voice", "--loudness", "-5")
    assert bad.returncode == 2 and bad.stderr.startswith("coach: --loudness: -5 LUFS is outside -30..-12")


def test_an_export_starts_with_the_live_players_lead_in_then_plays_the_very_same_samples(tmp_path, short_routine):
    import soundfile as sf
    from inproc import coach

    from coach.audio.pcm import to_pcm16
    from coach.export.leadin import LEAD_IN_S
    from coach.live.player import LEAD_IN_S as LIVE_LEAD_IN_S
    from coach.routine import load_routine_file
    from coach.session import SessionOptions, build_session

    assert LEAD_IN_S == LIVE_LEAD_IN_S
    out = tmp_path / "lead.wav"
    assert coach("export", str(short_routine), str(out), "--no-voice").returncode == 0
    written, _ = sf.read(out, dtype="int16")
    session = build_session(load_routine_file(short_routine), SessionOptions(no_voice=True))
    lead = round(LEAD_IN_S * SAMPLE_RATE)
    assert len(written) == lead + session.plan.duration_samples
    assert not written[:lead].any()
    mixer = session.mixer()
    assert np.array_equal(written[lead:], to_pcm16(mixer.render(0, mixer.total_frames)))
