"""The clip cache: render once, keep on disk and in memory, survive damage and a second process."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from coach.speech.clipcache import SUFFIX, ClipCache, decode_clip, default_cache_dir, encode_clip
from coach.plan.model import SAMPLE_RATE
from coach.speech.engine import Voice, default_engine, pick_voice

TESTS_DIR = str(Path(__file__).parent)
VOICE = Voice("fake/en", "Fake English", ("en",), None)


class CountingEngine:
    """A deterministic stand-in engine: the clip's length and content follow from the text and rate."""

    name = "counting"

    def __init__(self):
        self.calls: list[tuple[str, str | None, int]] = []

    def voices(self):
        return [VOICE]

    def render(self, text, voice_id, rate_wpm):
        self.calls.append((text, voice_id, rate_wpm))
        return expected_clip(text, rate_wpm)


def expected_clip(text: str, rate_wpm: int) -> np.ndarray:
    """16-bit audio as float32, like espeak's (which the cache stores without loss)."""
    frames = 100 * len(text) * 160 // rate_wpm + 1
    seed = sum(text.encode()) + rate_wpm
    wave = np.sin(np.arange(frames) * (0.01 + seed % 97 / 1000))
    return (np.round(wave * 30000) / 32768).astype(np.float32)


def stored_clip(text: str, rate_wpm: int) -> np.ndarray:
    """The engine's clip as the cache keeps it: leveled to the speech loudness, in 16 bits."""
    from coach.audio.levels import SPEECH_CLIP_LUFS
    from coach.audio.loudness import leveled
    from coach.audio.pcm import from_pcm16, to_pcm16

    return from_pcm16(to_pcm16(leveled(expected_clip(text, rate_wpm), SPEECH_CLIP_LUFS)))


def test_renders_each_text_once_and_keeps_it_on_disk(tmp_path):
    engine = CountingEngine()
    cache = ClipCache(engine, VOICE, 160, tmp_path)
    hold = cache.clip("hold")
    assert np.array_equal(hold, stored_clip("hold", 160))
    assert hold.dtype == np.float32
    assert cache.clip("hold") is hold  # memory: no disk read, no render
    assert cache.duration_s("hold") == len(hold) / SAMPLE_RATE
    assert engine.calls == [("hold", "fake/en", 160)]
    assert cache.path("hold").parent == tmp_path and cache.path("hold").is_file()

    fresh_engine = CountingEngine()
    fresh = ClipCache(fresh_engine, VOICE, 160, tmp_path)
    assert np.array_equal(fresh.clip("hold"), hold)
    assert fresh_engine.calls == []  # from disk


def test_clips_are_read_only(tmp_path):
    cache = ClipCache(CountingEngine(), VOICE, 160, tmp_path)
    with pytest.raises(ValueError):
        cache.clip("hold")[0] = 1.0
    with pytest.raises(ValueError):
        ClipCache(CountingEngine(), VOICE, 160, tmp_path).clip("hold")[0] = 1.0


def test_engine_voice_rate_and_text_each_make_a_distinct_entry(tmp_path):
    engine = CountingEngine()
    base = ClipCache(engine, VOICE, 160, tmp_path)
    faster = ClipCache(engine, VOICE, 200, tmp_path)
    other_voice = ClipCache(engine, Voice("fake/fr", "Fake French", ("fr",), None), 160, tmp_path)
    other_engine_kind = CountingEngine()
    other_engine_kind.name = "another"
    other_engine = ClipCache(other_engine_kind, VOICE, 160, tmp_path)
    paths = {c.path("hold") for c in (base, faster, other_voice, other_engine)}
    paths.add(base.path("hold "))
    assert len(paths) == 5
    assert len(faster.clip("hold")) < len(base.clip("hold"))
    assert len(list(tmp_path.glob("*" + SUFFIX))) == 2


def test_prefetch_renders_only_what_is_missing(tmp_path):
    engine = CountingEngine()
    cache = ClipCache(engine, VOICE, 160, tmp_path)
    texts = ["one", "two", "three", "two", "one"]
    assert cache.prefetch(texts) == 3
    assert [c[0] for c in engine.calls] == ["one", "two", "three"]
    assert cache.prefetch(texts + ["four"]) == 1
    again = ClipCache(CountingEngine(), VOICE, 160, tmp_path)
    assert again.prefetch(texts) == 0
    assert again.duration_s("three") == len(expected_clip("three", 160)) / SAMPLE_RATE


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda blob: b"", id="empty"),
        pytest.param(lambda blob: blob[: len(blob) // 2], id="truncated"),
        pytest.param(lambda blob: blob[:10], id="truncated-header"),
        pytest.param(lambda blob: blob[:-1] + bytes([blob[-1] ^ 0x40]), id="flipped-bit"),
        pytest.param(lambda blob: b"RIFF" + blob[4:], id="wrong-magic"),
        pytest.param(lambda blob: blob + b"\0\0\0\0", id="trailing-bytes"),
        pytest.param(lambda blob: os.urandom(len(blob)), id="garbage"),
    ],
)
def test_damaged_entry_is_rendered_again(tmp_path, damage):
    ClipCache(CountingEngine(), VOICE, 160, tmp_path).clip("breathe in")
    path = ClipCache(CountingEngine(), VOICE, 160, tmp_path).path("breathe in")
    path.write_bytes(damage(path.read_bytes()))

    engine = CountingEngine()
    cache = ClipCache(engine, VOICE, 160, tmp_path)
    assert np.array_equal(cache.clip("breathe in"), stored_clip("breathe in", 160))
    assert len(engine.calls) == 1
    assert decode_clip(path.read_bytes()) is not None  # repaired on disk too


def test_encode_decode_round_trip():
    clip = expected_clip("round trip", 160)
    assert np.array_equal(decode_clip(encode_clip(clip)), clip)
    full_range = np.array([-1.0, -0.5, 0.0, 0.25, 32767 / 32768], dtype=np.float32)
    assert np.array_equal(decode_clip(encode_clip(full_range)), full_range)
    # Finer-than-16-bit audio comes back within half a step; overs are clipped, not wrapped.
    fine = np.linspace(-1.5, 1.5, 1001).astype(np.float32)
    back = decode_clip(encode_clip(fine))
    inside = np.abs(fine) < 0.999
    assert np.abs(back[inside] - fine[inside]).max() <= 0.5 / 32768 + 1e-9
    assert back[0] == -1.0 and back[-1] == np.float32(32767 / 32768)
    empty = decode_clip(encode_clip(np.zeros(0, dtype=np.float32)))
    assert empty is not None and len(empty) == 0


def test_default_cache_dir_follows_the_platform(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "coach" / "clips"
    cache = ClipCache(CountingEngine(), VOICE, 160)
    cache.clip("hold")
    assert cache.path("hold").parent == tmp_path / "coach" / "clips"


def test_unwritable_cache_still_gives_the_clip(tmp_path, caplog):
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the cache directory should be")
    engine = CountingEngine()
    cache = ClipCache(engine, VOICE, 160, blocked / "clips")
    with caplog.at_level(logging.WARNING, logger="coach.speech.clipcache"):
        assert np.array_equal(cache.clip("hold"), stored_clip("hold", 160))
    assert "could not keep speech clips" in caplog.text
    cache.clip("hold")
    assert len(engine.calls) == 1  # memory still works


def test_an_unwritable_cache_is_one_warning_a_run_not_one_a_clip(tmp_path, caplog):
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the cache directory should be")
    with caplog.at_level(logging.WARNING, logger="coach.speech.clipcache"):
        for rate in (160, 170):  # a second cache of the same run, for the same folder
            cache = ClipCache(CountingEngine(), VOICE, rate, blocked / "clips")
            assert cache.prefetch(["one", "two", "three", "four"]) == 4
    assert len(caplog.records) == 1
    assert "not-a-dir/clips" in caplog.text and "made again each time" in caplog.text


def test_no_temporary_files_are_left_behind(tmp_path):
    stale = tmp_path / (".tmp-killed" + SUFFIX)
    stale.write_bytes(b"half a clip")
    os.utime(stale, (0, 0))
    recent = tmp_path / (".tmp-busy" + SUFFIX)
    recent.write_bytes(b"another process is writing this")
    ClipCache(CountingEngine(), VOICE, 160, tmp_path).prefetch(f"text {i}" for i in range(20))
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == [recent.name]
    assert len(list(tmp_path.glob("[0-9a-f]*" + SUFFIX))) == 20


# --- real espeak-ng ------------------------------------------------------------------------------


def test_real_clips_render_once_then_come_from_disk_without_starting_the_engine(tmp_path, capfd):
    texts = ["hold", "release", "Lie on your back.", "hold"]
    with default_engine() as engine:
        voice = pick_voice(engine.voices(), None, "en")
        cache = ClipCache(engine, voice, 160, tmp_path)
        assert cache.prefetch(texts) == 3
        durations = [cache.duration_s(t) for t in texts]
    assert all(d > 0.2 for d in durations)
    with default_engine() as cold:
        warm = ClipCache(cold, voice, 160, tmp_path)
        assert [warm.duration_s(t) for t in texts] == durations
        assert cold.worker_pid is None  # nothing to render, so no engine was started
    assert capfd.readouterr().out == ""


# --- two processes sharing a cache ---------------------------------------------------------------

CHURN = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from coach.speech.clipcache import ClipCache, decode_clip
    from test_clipcache import VOICE, CountingEngine, expected_clip, stored_clip

    cache_dir, role, rounds = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    texts = [f"phrase number {i} " * (1 + i % 7) for i in range(12)]
    bad = 0
    for r in range(rounds):
        cache = ClipCache(CountingEngine(), VOICE, 160, cache_dir)
        for text in texts:
            if role == "writer" and r % 2 == 0:
                try:
                    os.remove(cache.path(text))  # force a fresh render and write
                except FileNotFoundError:
                    pass
            try:
                blob = cache.path(text).read_bytes()
            except FileNotFoundError:
                blob = None
            if blob is not None and decode_clip(blob) is None:
                bad += 1  # a reader saw a partial or mixed entry
            clip = cache.clip(text)
            if not (clip == stored_clip(text, 160)).all() or len(clip) != len(expected_clip(text, 160)):
                bad += 1
    print(bad)
    """
)


def test_two_processes_sharing_the_cache_never_corrupt_it(tmp_path):
    env = {**os.environ, "PYTHONPATH": TESTS_DIR + os.pathsep + os.environ.get("PYTHONPATH", "")}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CHURN, str(tmp_path), role, "150"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        for role in ("writer", "writer", "reader")
    ]
    results = [p.communicate(timeout=120) for p in procs]
    for proc, (out, err) in zip(procs, results):
        assert proc.returncode == 0, err.decode()
        assert out.decode().strip() == "0"
    entries = list(tmp_path.iterdir())
    assert len(entries) == 12
    assert all(decode_clip(p.read_bytes()) is not None for p in entries)


def test_two_real_coach_processes_prefetching_together(tmp_path):
    script = textwrap.dedent(
        """
        import sys
        from coach.speech.clipcache import ClipCache
        from coach.speech.engine import default_engine, pick_voice
        texts = ["Get ready.", "Hold for ten seconds.", "Release.", "Rest.", "Well done."]
        with default_engine() as engine:
            cache = ClipCache(engine, pick_voice(engine.voices(), None, "en"), 160, sys.argv[1])
            cache.prefetch(texts)
            print(",".join(repr(cache.duration_s(t)) for t in texts))
        """
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [e.decode() for _, e in outs]
    entries = list(tmp_path.iterdir())
    assert len(entries) == 5 and all(decode_clip(p.read_bytes()) is not None for p in entries)
    # Each process reports the durations of the clips it used; both sets are real speech.
    for out, _ in outs:
        assert all(float(d) > 0.3 for d in out.decode().strip().split(","))
