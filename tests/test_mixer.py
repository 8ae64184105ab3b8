"""The mixer: exact placement, silence, block independence, volumes, limiting, bounded memory."""

from __future__ import annotations

import subprocess
import tracemalloc

import numpy as np
import pytest
import soundfile as sf
from hypothesis import given, settings
from hypothesis import strategies as st

from coach.errors import CoachError, OptionError
from coach.audio.limiter import limit
from coach.audio.mixer import LIMIT_KNEE, MIN_SILENCE_FRAMES, Mixer, soft_limit
from coach.plan.model import SAMPLE_RATE, Cue, Plan
from coach.audio.sounds import load_sounds, read_sound


def make_plan(duration_s: float, cues: list[Cue]) -> Plan:
    return Plan(routine="test", title="Test", duration_s=duration_s,
                steps=(), cues=tuple(cues), chapters=())


def speech_cue(at_s: float, text: str, clip: np.ndarray) -> Cue:
    return Cue(at_s=at_s, duration_s=len(clip) / SAMPLE_RATE, kind="speech", text=text)


def sound_cue(at_s: float, name: str, clip: np.ndarray) -> Cue:
    return Cue(at_s=at_s, duration_s=len(clip) / SAMPLE_RATE, kind="sound", sound=name)


def ramp(frames: int, lo: float = 0.1, hi: float = 0.5) -> np.ndarray:
    """A clip whose every sample is non-zero and distinct, so offsets show."""
    return np.linspace(lo, hi, frames, dtype=np.float32)


def placed(mixer: Mixer, clip: np.ndarray, sound: str | None = None) -> np.ndarray:
    """A clip as the mixer lays it down: at the voice's or the sound's gain, through the limiter."""
    gain = mixer.voice_gain if sound is None else mixer.sound_gains[sound]
    return limit(clip * gain)[0]


@pytest.fixture(scope="module")
def sounds() -> dict[str, np.ndarray]:
    return load_sounds()


def test_total_frames_is_the_plan_length():
    plan = make_plan(12.34567, [])
    assert Mixer(plan, {}, {}).total_frames == plan.duration_samples == round(12.34567 * SAMPLE_RATE)


def test_onsets_are_exact_and_silence_is_exactly_zero(sounds):
    hello = ramp(3001)
    cues = [speech_cue(0.5, "hello", hello), sound_cue(1.23456, "pip", sounds["pip"]),
            speech_cue(2.000023, "hello", hello), sound_cue(3.1, "end", sounds["end"])]
    mixer = Mixer(make_plan(4.0, cues), {"hello": hello}, sounds)
    out = mixer.render(0, mixer.total_frames)

    assert out.dtype == np.float32 and out.shape == (mixer.total_frames,)
    covered = np.zeros(len(out), dtype=bool)
    for cue in cues:
        clip = hello if cue.kind == "speech" else sounds[cue.sound]
        onset = round(cue.at_s * SAMPLE_RATE)
        assert np.array_equal(out[onset:onset + len(clip)], placed(mixer, clip, cue.sound))
        covered[onset:onset + len(clip)] = True
    assert out[round(0.5 * SAMPLE_RATE) - 1] == 0.0 and out[round(0.5 * SAMPLE_RATE)] != 0.0
    assert np.all(out[~covered] == 0.0)


def test_real_speech_and_beeps_mix_at_their_onsets(tmp_path, sounds):
    wav = tmp_path / "hold.wav"
    subprocess.run(["espeak-ng", "-w", str(wav), "Hold for ten seconds"], check=True, capture_output=True)
    words = read_sound(wav)
    assert len(words) > SAMPLE_RATE // 2
    cues = [speech_cue(0.25, "Hold for ten seconds", words),
            sound_cue(0.25 + len(words) / SAMPLE_RATE + 0.1, "start", sounds["start"])]
    mixer = Mixer(make_plan(cues[1].end_s + 0.5, cues), {"Hold for ten seconds": words}, sounds)
    out = np.concatenate(list(mixer.blocks(0, 4097)))
    for cue, clip in zip(cues, (words, sounds["start"])):
        onset = round(cue.at_s * SAMPLE_RATE)
        expected = soft_limit(placed(mixer, clip, cue.sound))
        assert np.array_equal(out[onset:onset + len(clip)], expected)
    assert np.all(np.abs(out) <= 1.0)


def test_render_of_an_inner_range_matches_the_whole(sounds):
    cues = [sound_cue(0.3, "rest", sounds["rest"]), sound_cue(0.9, "stop", sounds["stop"])]
    mixer = Mixer(make_plan(1.5, cues), {}, sounds)
    whole = mixer.render(0, mixer.total_frames)
    for lo, hi in [(0, 0), (7000, 7001), (6615, 9000), (10000, 30000), (33074, 33075)]:
        assert np.array_equal(mixer.render(lo, hi), whole[lo:hi])


cue_specs = st.lists(
    st.tuples(st.integers(0, 40000), st.sampled_from(["a", "b", "c", "pip"])), max_size=12)


def build(specs: list[tuple[int, str]]) -> tuple[Plan, dict, dict]:
    speech = {"a": ramp(1500), "b": ramp(4000, -0.6, 0.9), "c": np.full(7, 0.95, dtype=np.float32)}
    sounds = {"pip": np.full(2205, -0.8, dtype=np.float32)}
    cues = []
    for at_frame, key in specs:
        if key in speech:
            cues.append(speech_cue(at_frame / SAMPLE_RATE, key, speech[key]))
        else:
            cues.append(sound_cue(at_frame / SAMPLE_RATE, key, sounds[key]))
    return make_plan(41000 / SAMPLE_RATE, cues), speech, sounds


@settings(max_examples=60, deadline=None)
@given(specs=cue_specs, start_frame=st.integers(0, 41000), block_frames=st.integers(1, 9999))
def test_blocks_concatenate_to_render_exactly(specs, start_frame, block_frames):
    plan, speech, sounds = build(specs)
    mixer = Mixer(plan, speech, sounds)
    blocks = list(mixer.blocks(start_frame, block_frames))
    assert all(len(b) == block_frames for b in blocks[:-1])
    joined = np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.float32)
    assert np.array_equal(joined, mixer.render(start_frame, mixer.total_frames))


@settings(max_examples=60, deadline=None)
@given(specs=cue_specs, start_frame=st.integers(0, 41000), max_frames=st.integers(1, 9999))
def test_chunks_are_the_render_with_silence_as_lengths(specs, start_frame, max_frames):
    plan, speech, sounds = build(specs)
    mixer = Mixer(plan, speech, sounds)
    chunks = list(mixer.chunks(start_frame, max_frames))
    assert all(0 < (c if isinstance(c, int) else len(c)) <= max_frames for c in chunks)
    joined = np.concatenate([np.zeros(c, dtype=np.float32) if isinstance(c, int) else c for c in chunks]
                            or [np.zeros(0, dtype=np.float32)])
    assert np.array_equal(joined, mixer.render(start_frame, mixer.total_frames))
    # Only silence comes as a length: no cue sounds in a stretch handed out as one.
    silent, at = set(), start_frame
    for c in chunks:
        size = c if isinstance(c, int) else len(c)
        if isinstance(c, int):
            silent.update(range(at, at + size))
        at += size
    for cue in plan.cues:
        clip = speech[cue.text] if cue.kind == "speech" else sounds[cue.sound]
        onset = round(cue.at_s * SAMPLE_RATE)
        assert silent.isdisjoint(range(onset, onset + len(clip)))


@settings(max_examples=80, deadline=None)
@given(specs=cue_specs, start_frame=st.integers(0, 41000))
def test_pcm16_spans_are_the_16_bit_render_with_silence_left_out(specs, start_frame):
    from coach.audio.pcm import to_pcm16

    plan, speech, sounds = build(specs)
    mixer = Mixer(plan, speech, sounds)
    laid = np.zeros(mixer.total_frames, dtype=np.int16)
    covered = np.zeros(mixer.total_frames, dtype=bool)
    for at, samples in mixer.pcm16_spans(start_frame):
        assert samples.dtype == np.int16 and at >= start_frame and len(samples) > 0
        assert not covered[at:at + len(samples)].any(), "spans overlap or come out of order"
        laid[at:at + len(samples)] = samples
        covered[at:at + len(samples)] = True
    assert np.array_equal(laid[start_frame:], to_pcm16(mixer.render(start_frame, mixer.total_frames)))
    # What no span covers is silence in the render too, and nothing before start_frame is handed out.
    assert not covered[:start_frame].any()


def test_chunks_of_a_long_session_are_mostly_lengths(sounds):
    plan, speech = two_hour_plan(sounds)
    mixer = Mixer(plan, speech, sounds)
    chunks = list(mixer.chunks())
    silent = sum(c for c in chunks if isinstance(c, int))
    assert silent + sum(len(c) for c in chunks if not isinstance(c, int)) == mixer.total_frames
    # 2500 half-second lines and 2500 pips in two hours: most of it is silence, never rendered.
    assert silent > 0.5 * mixer.total_frames


def test_a_short_silence_between_cues_is_rendered_with_them_a_long_one_is_a_length():
    clip = ramp(1000)
    gap_short, gap_long = MIN_SILENCE_FRAMES - 1, MIN_SILENCE_FRAMES
    onsets = [100, 100 + 1000 + gap_short, 100 + 2000 + gap_short + gap_long]
    cues = [speech_cue(at / SAMPLE_RATE, "a", clip) for at in onsets]
    mixer = Mixer(make_plan((onsets[-1] + 1500) / SAMPLE_RATE, cues), {"a": clip}, {})
    sizes = [c if isinstance(c, int) else ("sound", len(c)) for c in mixer.chunks(0, 10**6)]
    assert sizes == [100, ("sound", 2000 + gap_short), gap_long, ("sound", 1000), mixer.total_frames - onsets[-1] - 1000]


def test_bad_chunk_size_is_refused():
    with pytest.raises(ValueError):
        next(Mixer(make_plan(1.0, []), {}, {}).chunks(0, 0))


@settings(max_examples=60, deadline=None)
@given(specs=cue_specs)
def test_overlapping_cues_sum_then_limit_like_a_plain_reference(specs):
    plan, speech, sounds = build(specs)
    mixer = Mixer(plan, speech, sounds)
    reference = np.zeros(mixer.total_frames, dtype=np.float64)
    for cue in plan.cues:
        clip = speech[cue.text] if cue.kind == "speech" else sounds[cue.sound]
        onset = round(cue.at_s * SAMPLE_RATE)
        part = placed(mixer, clip, cue.sound)[:max(0, mixer.total_frames - onset)]
        reference[onset:onset + len(part)] += part
    limited = soft_limit(reference.astype(np.float32))
    out = mixer.render(0, mixer.total_frames)
    assert np.all(np.abs(out) <= 1.0)
    np.testing.assert_allclose(out, limited, atol=1e-5)


def test_volumes_scale_voice_and_beeps_separately(sounds):
    words = ramp(5000, 0.01, 0.05)  # quiet enough that the limiter leaves it alone at either volume
    cues = [speech_cue(0.1, "words", words), sound_cue(0.6, "start", sounds["start"])]
    plan = make_plan(1.0, cues)
    full = Mixer(plan, {"words": words}, sounds).render(0, plan.duration_samples)
    quiet_voice = Mixer(plan, {"words": words}, sounds, voice_volume=0.5).render(0, plan.duration_samples)
    no_beeps = Mixer(plan, {"words": words}, sounds, beep_volume=0.0).render(0, plan.duration_samples)

    voice = slice(round(0.1 * SAMPLE_RATE), round(0.1 * SAMPLE_RATE) + len(words))
    beep = slice(round(0.6 * SAMPLE_RATE), round(0.6 * SAMPLE_RATE) + len(sounds["start"]))
    np.testing.assert_allclose(quiet_voice[voice], full[voice] * 0.5, rtol=1e-6)
    assert np.array_equal(quiet_voice[beep], full[beep])
    assert np.all(no_beeps[beep] == 0.0)
    assert np.array_equal(no_beeps[voice], full[voice])


@pytest.mark.parametrize("kwargs", [{"voice_volume": 1.5}, {"beep_volume": -0.1}])
def test_volume_outside_0_to_1_is_a_programming_error_not_an_option_error(kwargs):
    # The CLI checks the user's percentages; the mixer only guards its own callers.
    with pytest.raises(ValueError, match=next(iter(kwargs))) as caught:
        Mixer(make_plan(1.0, []), {}, {}, **kwargs)
    assert not isinstance(caught.value, OptionError)


def test_limiter_keeps_a_loud_user_sound_within_full_scale(tmp_path):
    t_s = np.arange(SAMPLE_RATE // 2) / SAMPLE_RATE
    loud = 4.0 * np.sign(np.sin(2 * np.pi * 300 * t_s)) + 0.5 * np.sin(2 * np.pi * 50 * t_s)
    sf.write(tmp_path / "rest.wav", loud, SAMPLE_RATE, subtype="FLOAT")
    sounds = load_sounds(tmp_path)
    assert np.max(np.abs(sounds["rest"])) > 4.0

    shout = np.full(SAMPLE_RATE // 4, -1.0, dtype=np.float32)
    cues = [sound_cue(0.1, "rest", sounds["rest"]), speech_cue(0.2, "shout", shout)]
    mixer = Mixer(make_plan(1.0, cues), {"shout": shout}, sounds, voice_volume=1.0, beep_volume=1.0)
    out = mixer.render(0, mixer.total_frames)
    assert np.all(np.abs(out) <= 1.0)
    assert np.max(np.abs(out)) > 0.75  # each is held near the true-peak ceiling; together they bend
    # The sign of every sample survives limiting.
    mixed = mixer.render(round(0.1 * SAMPLE_RATE), round(0.6 * SAMPLE_RATE))
    raw = placed(mixer, sounds["rest"], "rest")[:len(mixed)].copy()
    onset = round(0.1 * SAMPLE_RATE)
    raw[round(0.2 * SAMPLE_RATE) - onset:][:len(shout)] += placed(mixer, shout)
    assert np.array_equal(np.sign(mixed), np.sign(raw))


def test_soft_limit_is_identity_below_the_knee_and_smooth_above():
    quiet = np.linspace(-LIMIT_KNEE, LIMIT_KNEE, 1001, dtype=np.float32)
    assert np.array_equal(soft_limit(quiet.copy()), quiet)
    loud = np.linspace(0.0, 1e6, 100001, dtype=np.float32)
    limited = soft_limit(loud.copy())
    assert np.all(limited <= 1.0) and np.all(np.diff(limited) >= 0)
    assert np.array_equal(soft_limit(-loud), -limited)
    # Slope 1 just above the knee: no audible kink where limiting starts.
    just_over = np.array([LIMIT_KNEE + 1e-4], dtype=np.float32)
    assert soft_limit(just_over.copy())[0] == pytest.approx(just_over[0], abs=1e-6)


def test_a_clip_running_past_the_end_is_cut(sounds):
    plan = make_plan(1.0, [sound_cue(0.9, "end", sounds["end"])])
    mixer = Mixer(plan, {}, sounds)
    out = mixer.render(0, mixer.total_frames)
    onset = round(0.9 * SAMPLE_RATE)
    assert len(out) == mixer.total_frames
    assert np.array_equal(out[onset:], placed(mixer, sounds["end"], "end")[:mixer.total_frames - onset])
    assert sum(len(b) for b in mixer.blocks(0, 1000)) == mixer.total_frames


def test_missing_speech_text_is_a_coach_error_naming_it():
    plan = make_plan(2.0, [speech_cue(0.5, "Breathe out slowly", ramp(100))])
    with pytest.raises(CoachError, match="Breathe out slowly"):
        Mixer(plan, {"something else": ramp(100)}, {})


def test_missing_sound_name_is_a_coach_error_naming_it(sounds):
    plan = make_plan(2.0, [Cue(at_s=0.5, duration_s=0.1, kind="sound", sound="gong")])
    with pytest.raises(CoachError, match="gong"):
        Mixer(plan, {}, sounds)


def test_bad_ranges_are_refused():
    mixer = Mixer(make_plan(1.0, []), {}, {})
    with pytest.raises(ValueError):
        mixer.render(10, 5)
    with pytest.raises(ValueError):
        mixer.render(-1, 5)
    with pytest.raises(ValueError):
        next(mixer.blocks(0, 0))


def two_hour_plan(sounds: dict[str, np.ndarray]) -> tuple[Plan, dict[str, np.ndarray]]:
    """A 2-hour session with about 5000 cues alternating distinct speech and sounds."""
    speech = {f"line {i}": ramp(SAMPLE_RATE // 2 + i) for i in range(200)}
    cues, at_s = [], 1.0
    for i in range(5000):
        if i % 2:
            cues.append(sound_cue(at_s, "pip", sounds["pip"]))
        else:
            text = f"line {i % 200}"
            cues.append(speech_cue(at_s, text, speech[text]))
        at_s += 1.43
    return make_plan(2 * 3600.0, cues), speech


def test_render_of_a_long_session_touches_only_the_requested_range(sounds):
    plan, speech = two_hour_plan(sounds)
    mixer = Mixer(plan, speech, sounds)
    tracemalloc.start()
    try:
        for lo in (0, 60_000_000, mixer.total_frames - 65536):
            block = mixer.render(lo, lo + 65536)
            assert len(block) == 65536
        _, peak_bytes = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # One 65536-frame float32 block is 256 KiB; the whole session would be ~600 MiB.
    assert peak_bytes < 2 * 1024 * 1024
    assert np.count_nonzero(mixer.render(mixer.total_frames - 65536, mixer.total_frames)) == 0


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_clip_with_a_non_finite_sample_is_a_coach_error_naming_it(bad):
    clip = ramp(3000)
    clip[1234] = bad
    plan = make_plan(1.0, [speech_cue(0.1, "odd", clip)])
    with pytest.raises(CoachError, match="speech 'odd' at 0.100 s: the audio contains NaN or infinite samples"):
        Mixer(plan, {"odd": clip}, {})


def test_soft_limit_leaves_quiet_audio_untouched_and_bends_only_the_loud_samples():
    quiet = np.linspace(-float(LIMIT_KNEE), float(LIMIT_KNEE), 1001, dtype=np.float32)
    assert np.array_equal(soft_limit(quiet.copy()), quiet)
    loud = np.array([0.5, 1.4, -3.0, 0.95], dtype=np.float32)
    limited = soft_limit(loud.copy())
    assert limited[0] == np.float32(0.5)
    assert np.all(np.abs(limited[1:]) > LIMIT_KNEE) and np.all(np.abs(limited) < 1.0)
    assert np.array_equal(np.sign(limited), np.sign(loud))
