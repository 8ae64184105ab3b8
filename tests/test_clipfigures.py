"""Clip figures kept with the clip: a short export sounds as it did before they were, from memory and from disk."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from coach.audio.clipfigures import ClipFigures, ClipMeasures, Limited, limited, measure
from coach.audio.loudness import LoudnessMeter, loudness_lufs, true_peak_dbtp
from coach.audio.mixer import Mixer
from coach.audio.sounds import load_sounds
from coach.export.writer import export_audio
from coach.plan.model import SAMPLE_RATE, Cue, CueKind, Plan, to_samples
from coach.speech.clipcache import SOUND_SUFFIX, ClipCache, decode_entry, decode_limited, decode_sound
from coach.speech.engine import Voice

VOICE = Voice("fake/en", "Fake English", ("en",), None)
LINES = ("Lie on your back.", "Lift your heels.", "Hold.", "Release slowly.", "Well done.", "Rest.")
# Measured on the code before clip figures were kept (the mixer filtering and limiting every clip on
# every export), from the WAV that export wrote: integrated loudness (LUFS), true peak (dBTP), and each
# beep's loudness against the voice's (LU). Keeping figures with the clips must not move them.
BEFORE = {"lufs": -19.0465, "peak": -2.0375,
          "beeps": {"end": -2.7275, "pip": -2.7275, "rest": -2.7275, "start": -2.7275, "stop": -2.7275}}
HELD_LU = 0.02


def babble(seconds: float, seed: int) -> np.ndarray:
    """Speech-like: noise shaped by syllable-rate bursts, as a voice's 16-bit samples."""
    rng = np.random.default_rng(seed)
    frames = round(seconds * SAMPLE_RATE)
    envelope = np.repeat(rng.uniform(0, 1, frames // 2205 + 1) ** 2, 2205)[:frames]
    return np.round(rng.normal(0, 0.25, frames) * envelope * 32768).clip(-32768, 32767).astype(np.float32) / 32768


class BabbleEngine:
    """A stand-in voice: each text's clip follows from the text alone."""

    name = "babble"

    def voices(self):
        return [VOICE]

    def render(self, text, voice_id, rate_wpm):
        return babble(0.25 + 0.08 * len(text), sum(text.encode()))


def short_session(speech: dict[str, np.ndarray]) -> tuple[Plan, dict[str, np.ndarray]]:
    """About 25 s: each line, then a beep of each kind in turn, with pauses as a session has them."""
    sounds = load_sounds(None)
    kinds = sorted(sounds)
    cues, at_s = [], 0.3
    for i, text in enumerate(LINES):
        cues.append(Cue(at_s, len(speech[text]) / SAMPLE_RATE, CueKind.SPEECH, text=text))
        at_s += len(speech[text]) / SAMPLE_RATE + 1.2
        name = kinds[i % len(kinds)]
        cues.append(Cue(at_s, len(sounds[name]) / SAMPLE_RATE, CueKind.SOUND, sound=name))
        at_s += len(sounds[name]) / SAMPLE_RATE + 1.5
    return Plan("t", "T", at_s, (), tuple(cues), ()), sounds


def figures_of(path, plan: Plan, speech: dict[str, np.ndarray], sounds: dict[str, np.ndarray]) -> dict:
    """The figures of a written export, from its samples: loudness, true peak, each beep against the voice."""
    written, _ = sf.read(path, dtype="float32")
    voice, beeps = LoudnessMeter(), {}
    for cue in plan.cues:
        start = to_samples(cue.at_s)
        if cue.kind == CueKind.SPEECH:
            voice.add(written[start:start + len(speech[cue.text])])
        else:
            beeps[cue.sound] = loudness_lufs(written[start:start + len(sounds[cue.sound])])
    voice_lufs = voice.integrated_lufs()
    return {"lufs": loudness_lufs(written), "peak": true_peak_dbtp(written),
            "beeps": {name: value - voice_lufs for name, value in beeps.items()}}


def assert_held(found: dict) -> None:
    assert found["lufs"] == pytest.approx(BEFORE["lufs"], abs=HELD_LU)
    assert found["peak"] == pytest.approx(BEFORE["peak"], abs=HELD_LU)
    assert found["beeps"].keys() == BEFORE["beeps"].keys()
    for name, lu in BEFORE["beeps"].items():
        assert found["beeps"][name] == pytest.approx(lu, abs=HELD_LU), name


def test_a_short_export_sounds_as_before_from_memory_from_a_cold_cache_and_from_a_warm_one(tmp_path):
    engine = BabbleEngine()
    runs = []
    for run in ("memory", "cold", "warm"):
        cache = ClipCache(engine, VOICE, 160, tmp_path / "clips")
        speech = {text: cache.clip(text) for text in LINES}
        plan, sounds = short_session(speech)
        mixer = Mixer(plan, speech, sounds, measures=None if run == "memory" else cache)
        out = tmp_path / f"{run}.wav"
        export_audio(plan, mixer, out)
        found = figures_of(out, plan, speech, sounds)
        assert_held(found)
        # the figures the export reports are those of the samples it wrote
        assert mixer.integrated_lufs() == pytest.approx(found["lufs"], abs=0.01)
        assert mixer.true_peak_dbtp() == pytest.approx(found["peak"], abs=0.01)
        runs.append(out.read_bytes())
    assert runs[0] == runs[1] == runs[2]  # figures from disk give the very same samples
    # each line and each beep keeps its limited form at its gain beside its figures
    cache = ClipCache(engine, VOICE, 160, tmp_path / "clips")
    assert all(len(decode_limited(decode_entry(cache.path(text).read_bytes())[2])) == 1 for text in LINES)
    kept = [decode_sound(p.read_bytes()) for p in (tmp_path / "clips").glob("sound-*" + SOUND_SUFFIX)]
    assert len(kept) == len(sounds) and all(len(decode_limited(k[2])) == 1 for k in kept)


def test_a_limited_clip_kept_as_its_changed_stretches_is_the_limiters_output():
    from coach.audio.limiter import limit
    from coach.audio.pcm import to_pcm16

    clip = babble(2.0, 3)
    gain = np.float32(3.5)
    kept = limited(clip, gain, measure(clip))
    whole, peak = limit(clip * gain)
    assert 0 < len(kept.values) < len(clip)  # only the peaks' surroundings
    assert np.array_equal(kept.part(clip, 0, len(clip)), whole)
    assert np.array_equal(kept.part(clip, 1000, 30000), whole[1000:30000])
    assert np.array_equal(kept.pcm16(clip), to_pcm16(whole))  # the same integers, one pass less
    assert kept.figures.peak == peak
    again, end = Limited.from_bytes(kept.to_bytes())
    assert end == len(kept.to_bytes()) and np.array_equal(again.part(clip, 0, len(clip)), whole)
    quiet = limited(clip, np.float32(0.5), measure(clip))
    assert len(quiet.starts) == 0 and np.array_equal(quiet.part(clip, 0, len(clip)), clip * np.float32(0.5))


def test_clip_energy_kept_every_few_frames_gives_a_clips_loudness():
    clip = babble(3.0, 5)
    figures = measure(clip)
    again, _ = ClipFigures.from_bytes(figures.to_bytes())
    assert again.frames == figures.frames and np.array_equal(again.energy, figures.energy)
    assert figures.cumulative(np.array([figures.frames]))[0] == pytest.approx(float(figures.energy.sum()), rel=1e-6)
    assert 20 * np.log10(figures.peak) == pytest.approx(true_peak_dbtp(clip), abs=1e-6)
    # the same measure ClipMeasures hands out once per clip
    measures = ClipMeasures()
    assert measures.figures(("speech", "x"), clip) is measures.figures(("speech", "x"), clip)


def test_a_warm_cache_neither_measures_nor_limits_a_clip_again_and_keeps_the_last_gains(tmp_path, monkeypatch):
    import coach.audio.clipfigures as clipfigures

    cache = ClipCache(BabbleEngine(), VOICE, 160, tmp_path)
    clip = cache.clip(LINES[0])
    gains = [np.float32(g) for g in (2.0, 3.0, 4.0, 5.0, 6.0)]
    made = {g: cache.limited(("speech", LINES[0]), clip, g) for g in gains}

    def refuse(*args):
        raise AssertionError("measured or limited again")

    monkeypatch.setattr(clipfigures, "limited", refuse)
    monkeypatch.setattr(clipfigures, "measure", refuse)
    warm = ClipCache(BabbleEngine(), VOICE, 160, tmp_path)
    again = warm.clip(LINES[0])
    for g in gains[1:]:  # the last four
        assert np.array_equal(warm.limited(("speech", LINES[0]), again, g).part(again, 0, len(again)),
                              made[g].part(clip, 0, len(clip)))
    with pytest.raises(AssertionError, match="limited again"):
        warm.limited(("speech", LINES[0]), again, gains[0])


def test_a_version_3_entry_is_measured_and_rewritten_not_rendered_again(tmp_path):
    import struct
    import zlib

    from coach.audio.pcm import to_pcm16
    from coach.speech.clipcache import MAGIC, MAGIC_V3, decode_entry

    engine = BabbleEngine()
    clip = ClipCache(engine, VOICE, 160, tmp_path).clip(LINES[1])
    path = ClipCache(engine, VOICE, 160, tmp_path).path(LINES[1])
    data = to_pcm16(clip).astype("<i2").tobytes()
    path.write_bytes(MAGIC_V3 + struct.pack("<III", SAMPLE_RATE, len(clip), zlib.crc32(data)) + data)

    class Refusing(BabbleEngine):
        def render(self, text, voice_id, rate_wpm):
            raise AssertionError("rendered again")

    again = ClipCache(Refusing(), VOICE, 160, tmp_path).clip(LINES[1])
    assert np.array_equal(again, clip)
    blob = path.read_bytes()
    assert blob.startswith(MAGIC)
    _, figures, _ = decode_entry(blob)
    assert figures is not None and np.array_equal(figures.energy, measure(clip).energy)


def test_the_live_window_in_16_bits_is_the_rendered_mix_from_any_frame(tmp_path):
    from coach.audio.pcm import to_pcm16

    cache = ClipCache(BabbleEngine(), VOICE, 160, tmp_path)
    speech = {text: cache.clip(text) for text in LINES}
    plan, sounds = short_session(speech)
    mixer = Mixer(plan, speech, sounds, measures=cache)
    inside = to_samples(plan.cues[2].at_s) + 100  # part-way through a line
    for lo, hi in ((0, mixer.total_frames), (inside, mixer.total_frames), (inside, inside + 30000), (5, 5)):
        assert np.array_equal(mixer.pcm16(lo, hi), to_pcm16(mixer.render(lo, hi))), (lo, hi)
