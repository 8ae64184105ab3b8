"""A live session that starts before its sentences are made: on a fake clock, with a slow fake engine."""

from __future__ import annotations

import time

import numpy as np
import pytest

from coach.live import streamed
from coach.live.player import mix_pcm16, run_session
from coach.live.progress import Progress
from coach.live.streamed import Feed
from coach.plan.model import SAMPLE_RATE, StepKind, to_samples
from coach.plan.planner import plan, plan_with_needs
from coach.plan.positions import wait_points_s
from coach.routine import load_routine_file
from coach.session import SessionOptions, build_session, start_session
from coach.speech.voices import Voice
from test_live import FakeClock, FakeOutput, ScriptedKeys

LEAD_IN_S = 0.3


class SlowEngine:
    """Speaks any text as a tone of a length set by its letters; each clip takes `delay_s` on the fake clock."""

    name = "slow-fake"

    def __init__(self, clock: FakeClock | None = None, delay_s: float = 0.0):
        self.clock, self.delay_s = clock, delay_s

    def voices(self):
        return [Voice("fake/en", "Fake", ("en",), None)]

    def render(self, text, voice_id, rate_wpm):
        if self.clock is not None:
            until, give_up = self.clock.now() + self.delay_s, time.monotonic() + 20
            while self.clock.now() < until and time.monotonic() < give_up:
                time.sleep(0.0002)
        frames = round((0.2 + 0.045 * len(text)) * SAMPLE_RATE)
        hz = 200 + 10 * (sum(map(ord, text)) % 60)
        return (0.3 * np.sin(2 * np.pi * hz * np.arange(frames) / SAMPLE_RATE)).astype(np.float32)


class Recorder:
    """Wraps StreamingPlayer._start: the session position of every buffer started, and the buffer."""

    def __init__(self, monkeypatch):
        self.starts: list[tuple[float, np.ndarray]] = []
        original = streamed.StreamingPlayer._start

        def start(player, start_s, seam_s, frames, lead_in_s=0.0):
            original(player, start_s, seam_s, frames, lead_in_s)
            self.starts.append((start_s, player.sounding[-1]))

        monkeypatch.setattr(streamed.StreamingPlayer, "_start", start)


def live(routine_path, tmp_path, monkeypatch, delay_s: float, presses=()):
    """Plays a session whose clips take delay_s each to make; returns (result, session, player starts)."""
    clock = FakeClock(100.0)
    routine = load_routine_file(routine_path)
    session = start_session(routine, SessionOptions(), engine_factory=lambda: SlowEngine(clock, delay_s),
                            cache_dir=tmp_path / "clips", workers=2)
    recorder = Recorder(monkeypatch)
    progress = Progress(session.plan, lambda: None)
    update = session.stream(True) or session.stream.latest
    from dataclasses import replace

    mixer = session.mixer_of(replace(session.plan, cues=()), {}) if update is None else update[1]
    feed = Feed(session.stream, progress, lambda at_s, waited_s: waits.append((at_s, waited_s)))
    waits: list[tuple[float, float]] = []
    feed.horizon_s, feed.final = (update[2], update[3]) if update is not None else (0.0, False)
    keys = ScriptedKeys(clock, [(100.0 + at, key) for at, key in presses])
    try:
        result = run_session(session.plan if update is None else update[0], mixer, output=FakeOutput(clock),
                             clock=clock, keys=keys, progress=progress, feed=feed, lead_in_s=LEAD_IN_S)
    finally:
        session.stream.close()
    return result, session, recorder.starts, waits


def export_pcm(routine_path, tmp_path) -> tuple:
    """What `coach export` would write (before its own lead-in): the plan and its 16-bit samples."""
    session = build_session(load_routine_file(routine_path), SessionOptions(), engine_factory=SlowEngine,
                            cache_dir=tmp_path / "clips")
    mixer = session.mixer()
    return session.plan, mix_pcm16(mixer, 0, mixer.total_frames)


def heard(starts, end_s: float) -> list[tuple[int, np.ndarray]]:
    """(session frame, samples) of what each buffer played, up to where the next one started."""
    pieces = []
    for i, (start_s, playback) in enumerate(starts):
        lead = to_samples(LEAD_IN_S)
        played = len(playback.frames)
        if playback.stopped_at is not None:
            played = min(played, round((playback.stopped_at - playback.started_at) * SAMPLE_RATE))
        played = max(0, played - lead)
        upto_s = starts[i + 1][0] if i + 1 < len(starts) else end_s
        count = min(played, to_samples(upto_s) - to_samples(start_s))
        pieces.append((to_samples(start_s), playback.frames[lead:lead + count]))
    return pieces


def test_the_plan_is_exact_before_the_first_sentence_not_yet_made(short_routine):
    routine = load_routine_file(short_routine)
    from coach.plan.settings import Settings

    settings = Settings(sound_s={"rest": 0.3, "pip": 0.1, "start": 0.2, "stop": 0.2, "end": 0.8}, intro_minutes=1)
    real = lambda text: 0.3 + 0.05 * len(text)  # noqa: E731
    exact = plan(routine, settings, real)
    _, needed = plan_with_needs(routine, settings, real)
    order = sorted(needed, key=needed.get)
    for made in range(0, len(order), 3):  # any prefix of the sentences in the order they are needed
        known = set(order[:made])
        for guess in (0.01, 7.0):  # sentences not made are guessed far too short, then far too long
            p, asked = plan_with_needs(routine, settings, lambda t: real(t) if t in known else guess)
            until_s = min((asked[t] for t in asked if t not in known), default=float("inf"))
            assert [c for c in p.cues if c.at_s < until_s] == [c for c in exact.cues if c.at_s < until_s]
            assert [s for s in p.steps if s.end_s <= until_s] == [s for s in exact.steps if s.end_s <= until_s]


def test_waits_are_in_silences_between_sentences_never_in_a_hold_or_count_down(short_routine, tmp_path):
    p, _ = export_pcm(short_routine, tmp_path)
    points = wait_points_s(p)
    assert points and points == sorted(points)
    for at_s in points:
        assert not any(c.at_s <= at_s < c.end_s for c in p.cues)  # silent there
        step = next(s for s in p.steps if s.start_s <= at_s < s.end_s)
        assert step.kind in (StepKind.INTRO, StepKind.ANNOUNCE, StepKind.CLOSE)
        assert not step.kind.is_dose and step.kind not in (StepKind.PREPARE, StepKind.REST)


def test_a_slow_voice_delays_the_session_only_in_silences_and_it_plays_its_export(short_routine, tmp_path,
                                                                                    monkeypatch):
    result, session, starts, waits = live(short_routine, tmp_path, monkeypatch, delay_s=0.8)
    final, pcm = export_pcm(short_routine, tmp_path)
    assert result.finished and session.stream.final and session.plan == final
    assert len(waits) > 1 and all(waited_s > 0 for _, waited_s in waits)  # the voice fell behind, more than once
    points = wait_points_s(final)
    assert [round(at_s, 6) for at_s, _ in waits] == [round(start_s, 6) for start_s, _ in starts]
    assert all(start_s == 0.0 or any(abs(start_s - w) < 1e-6 for w in points) for start_s, _ in starts)
    covered = 0
    for frame, samples in heard(starts, final.duration_s):
        assert frame == covered  # nothing left out, nothing heard twice
        assert np.array_equal(samples, pcm[frame:frame + len(samples)])  # the export's very samples
        covered = frame + len(samples)
    assert covered == len(pcm)


def test_a_session_already_made_plays_at_once_and_is_mixed_a_stretch_at_a_time(short_routine, tmp_path,
                                                                              monkeypatch):
    final, pcm = export_pcm(short_routine, tmp_path)  # every clip is made
    monkeypatch.setattr(streamed, "FIRST_FILL_S", 5.0)
    monkeypatch.setattr(streamed, "TOP_UP_S", 5.0)
    mixed = []
    original = streamed.mix_pcm16
    monkeypatch.setattr(streamed, "mix_pcm16", lambda mixer, lo, hi: mixed.append((lo, hi)) or original(mixer, lo, hi))
    result, session, starts, waits = live(short_routine, tmp_path, monkeypatch, delay_s=0.0)
    assert result.finished and waits == [] and len(starts) == 1 and session.plan == final
    assert mixed[0][0] == 0 and to_samples(5.0) <= mixed[0][1] < to_samples(12.0) and len(mixed) > 3
    for _, hi in mixed[:-1]:  # each stretch ends in a silence, the rest mixed while it played
        assert not any(to_samples(c.at_s) <= hi < to_samples(c.end_s) for c in final.cues)
    (frame, samples), = heard(starts, final.duration_s)
    assert frame == 0 and np.array_equal(samples, pcm)


class StepKeys:
    """Presses each key once its condition holds (looked at on every poll); waiting advances the fake clock."""

    def __init__(self, clock: FakeClock, script):
        self.clock, self.script, self.pressed = clock, list(script), []

    def poll(self, timeout_s: float) -> str | None:
        if self.script and self.script[0][0]():
            key = self.script.pop(0)[1]
            self.pressed.append((self.clock.t, key))
            return key
        self.clock.t += timeout_s
        return None


def test_keys_work_while_sentences_are_still_made(short_routine, tmp_path, monkeypatch):
    # `n` before the first sentence is made: the session starts at exercise 1 once it is made that far;
    # then `p` goes back a chapter, space pauses and resumes, and `q` quits, all while clips are being made.
    starts: list = []

    def playing_for(seconds: float, count: int):
        return lambda: len(starts) >= count and keys.clock.t >= starts[count - 1][1].started_at + seconds

    script = [(lambda: True, "n"), (playing_for(1.0, 1), "p"), (playing_for(1.0, 2), " "),
              (lambda: keys.clock.t >= keys.pressed[-1][0] + 2.0, " "), (playing_for(0.5, 3), "q")]
    clock = FakeClock(100.0)
    keys = StepKeys(clock, script)
    routine = load_routine_file(short_routine)
    session = start_session(routine, SessionOptions(), engine_factory=lambda: SlowEngine(clock, 1.5),
                            cache_dir=tmp_path / "clips", workers=2)
    starts = Recorder(monkeypatch).starts
    from dataclasses import replace

    progress = Progress(session.plan, lambda: None)
    try:
        result = run_session(session.plan, session.mixer_of(replace(session.plan, cues=()), {}),
                             output=FakeOutput(clock), clock=clock, keys=keys, progress=progress,
                             feed=Feed(session.stream, progress), lead_in_s=LEAD_IN_S)
        made_all = session.stream.final
    finally:
        session.stream.close()
    assert result.quit and not result.finished and [k for _, k in keys.pressed] == ["n", "p", " ", " ", "q"]
    chapters = [c.start_s for c in session.stream.plan.chapters]
    assert abs(starts[0][0] - chapters[1]) < 1e-6  # `n` went to exercise 1 before anything was made
    assert starts[1][0] < starts[0][0] and starts[1][0] in chapters  # `p` went back a chapter
    assert len(starts) >= 3 and all(p.stopped_at is not None or not p.is_playing() for _, p in starts)
    assert starts[0][1].started_at > keys.pressed[0][0]  # `n` came while the first sentence was being made
    assert not made_all  # and `q` before the last one was
