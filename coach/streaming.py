"""A live session that speaks at once: its sentences are made in the order it needs them while it plays.

The planner lays a session out in time order, and says from which moment on its timing depends on each
sentence's length (plan_with_needs). So with the sentences made so far, and estimates for the others, the
plan is already exact up to the first sentence still missing: playback may go up to the last place it
may wait before that (coach.plan.positions.wait_points_s, a silence between sentences, never in a hold
or a count-down), and each sentence made moves that place on. The introduction's minutes and the
session's level come from estimates (timing_estimates, below), as export's do, so what plays is, sample
for sample, what `coach export` writes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol

from coach.plan.planner import plan_with_needs
from coach.plan.positions import wait_points_s

if TYPE_CHECKING:
    from coach.plan.model import Plan
    from coach.audio.clipfigures import ClipMeasures
    from coach.plan.settings import Settings
    from coach.routine import Routine
    from coach.speech.clipcache import ClipCache
    from coach.speech.engine import SpeechEngine



class Session(Protocol):
    """What a stream reads and updates of its session (coach.session.Session, which imports this module)."""

    routine: Routine
    settings: Settings | None
    plan: Plan
    speech: dict

    def mixer_of(self, plan: Plan, speech: dict) -> Any: ...


class SessionOptions(Protocol):
    """What the estimates read of a session's options."""

    loudness_lufs: float


BATCH = 4  # clips made before the plan is worked out again, unless playback is close to where it must wait
# Texts said after the session (the pain question) are made this long after the session's own, so a session
# whose clips are all made starts no engine while its first words play.
EXTRA_DELAY_S = 10.0


class Renderer:
    """Makes clips on several engines at once, the most urgent first; each engine in a thread of its own."""

    def __init__(self, cache: ClipCache, make_engine: Callable[[], SpeechEngine], workers: int,
                 close_too: object = None, make_first: Callable[[], SpeechEngine] | None = None,
                 first: SpeechEngine | None = None):
        self.cache, self._make, self._workers = cache, make_engine, max(1, workers)
        # An engine that is slow to start (a Piper voice loads its model) starts alone, on every core, so the
        # first sentence is made sooner; the others start once it is.
        self._make_first = make_first
        self._made_one = False
        self._close_too = close_too  # the engine the cache was opened with, stopped with the others
        self._first = first  # an engine already made, used by the first thread
        self._lock = threading.Condition()
        self._urgency: dict[str, float] = {}  # text -> when the session needs it
        self._taken: set[str] = set()
        self.done: set[str] = set()
        self._clips: dict = {}  # text -> the clip made here
        self.error: BaseException | None = None
        self._closed = False
        self._threads: list[threading.Thread] = []
        self._engines: list = []

    def start(self) -> None:
        """Start the engines (one per worker, or the first alone: see make_first), ready for the texts to come."""
        with self._lock:
            wanted = 1 if self._make_first is not None and not self._made_one else self._workers
            while len(self._threads) < wanted and not self._closed:
                index = len(self._threads)
                thread = threading.Thread(target=self._work, args=(index, self._first if index == 0 else None),
                                          daemon=True, name=f"coach-voice-{index}")
                self._threads.append(thread)
                thread.start()

    def want(self, urgency: dict[str, float]) -> None:
        """Texts the session needs, each with when: those not on disk are made, soonest first."""
        with self._lock:
            for text, at_s in urgency.items():
                if text in self.done:
                    continue
                if text not in self._urgency and self.cache.path(text).is_file():
                    self.done.add(text)
                    continue
                self._urgency[text] = at_s
            self._lock.notify_all()
        if self._urgency.keys() - self.done:
            self.start()

    def clip(self, text: str):
        """A made clip (from memory, or the cache folder for one made before)."""
        with self._lock:
            found = self._clips.get(text)
        return found if found is not None else self.cache.clip(text)

    def made(self) -> set[str]:
        """The texts whose clips are made (now)."""
        with self._lock:
            return set(self.done)

    def finished(self) -> bool:
        """Whether every text wanted so far has its clip."""
        with self._lock:
            return len(self._taken) == len(self._urgency) and not (self._urgency.keys() - self.done)

    def _next(self) -> str | None:
        with self._lock:
            while not self._closed:
                waiting = [t for t in self._urgency if t not in self._taken]
                if waiting:
                    text = min(waiting, key=lambda t: (self._urgency[t], t))
                    self._taken.add(text)
                    return text
                self._lock.wait(0.5)
            return None

    def _work(self, index: int, engine: SpeechEngine | None = None) -> None:
        from coach.speech.clipcache import ClipCache

        try:
            if engine is None:
                engine = self._make_first() if self._make_first is not None and index == 0 else self._make()
            with self._lock:
                self._engines.append(engine)
            start = getattr(engine, "start", None)
            if start is not None:
                start()
            mine = ClipCache(engine, self.cache.voice, self.cache.rate_wpm, self.cache.cache_dir,
                             pitch=self.cache.pitch)
            while (text := self._next()) is not None:
                clip = mine.clip(text)
                with self._lock:
                    self._clips[text] = clip  # kept here too: a cache folder that cannot be written loses it
                    self.done.add(text)
                    self._lock.notify_all()
                if not self._made_one:
                    self._made_one = True
                    self.start()  # the first sentence is made: the other engines may start now
        except BaseException as exc:  # handed to the session, which stops with it
            with self._lock:
                self.error = exc
                self._closed = True
                self._lock.notify_all()

    def close(self) -> None:
        """Stop making clips and stop the engines."""
        with self._lock:
            self._closed = True
            self._lock.notify_all()
            engines = list(self._engines) + [self._close_too]
        for engine in engines:
            close = getattr(engine, "close", None)
            if close is not None:
                close()


class SpeechStream:
    """Feeds live playback: each time more of the session can be played, its plan, mixer and how far."""

    def __init__(self, session: Session, cache: ClipCache, renderer: Renderer,
                 estimate: Callable[[str], float], extra: Iterable[str] = ()):
        self.session, self.cache, self.renderer, self.estimate = session, cache, renderer, estimate
        self.extra = list(extra)
        self.horizon_s = 0.0
        self.final = False
        self._seen = -1
        self._final_at: float | None = None  # when the session was made: what is said after it comes next
        self.plan = session.plan
        self.latest: tuple[Plan, object, float, bool] | None = None  # the last answer that moved playback on

    def _length_s(self, text: str) -> float:
        from coach.plan.model import SAMPLE_RATE

        return len(self.renderer.clip(text)) / SAMPLE_RATE

    def _lay_out(self) -> tuple[Plan, dict[str, float], set[str]]:
        done = self.renderer.made()
        p, needed = plan_with_needs(self.session.routine, self.session.settings,
                                    lambda text: self._length_s(text) if text in done else self.estimate(text))
        return p, needed, done

    def __call__(self, urgent: bool = True) -> tuple[Plan, object, float, bool] | None:
        """(plan, mixer, playable until, whether that is the whole session) when playback can go further."""
        if self.renderer.error is not None:
            raise self.renderer.error
        if self.final:
            if self._final_at is not None and time.monotonic() - self._final_at >= EXTRA_DELAY_S:
                self.renderer.want({text: float("inf") for text in self.extra})  # said after the session
                self._final_at = None
            return None
        fresh = len(self.renderer.done) - self._seen
        if self._seen >= 0 and (fresh == 0 or (not urgent and fresh < BATCH and not self.renderer.finished())):
            return None
        for _ in range(4):  # clips already on disk join at once (a warm start is final at the first call)
            p, needed, done = self._lay_out()
            self.renderer.want(needed)
            if len(self.renderer.done) == len(done):
                break
        self._seen = len(self.renderer.done)
        unknown = [needed[text] for text in needed if text not in done]
        final = not unknown
        if final:
            horizon_s = p.duration_s
        else:
            until_s = min(unknown)
            horizon_s = max((w for w in wait_points_s(p) if w <= until_s), default=0.0)
        self.plan = p
        if horizon_s <= self.horizon_s and not final:
            return None
        speech = {c.text: self.renderer.clip(c.text) for c in p.cues if c.text is not None and c.at_s < horizon_s}
        if final:
            speech.update((text, self.renderer.clip(text)) for text in self.extra if text in self.renderer.done)
            self.session.plan, self.session.speech = p, speech
            self.final, self._final_at = True, time.monotonic()
        self.horizon_s = horizon_s
        heard = p if final else replace(p, cues=tuple(c for c in p.cues if c.at_s < horizon_s))
        self.latest = (p, self.session.mixer_of(heard, speech), horizon_s, final)
        return self.latest

    def close(self) -> None:
        """Stop making clips."""
        self.renderer.close()


def estimated_length_s(text: str, rate_wpm: int) -> float:
    """A sentence's length guessed from its characters at the asked rate (about 5.5 a word, with the pause)."""
    return 0.15 + len(text) / (5.5 * rate_wpm / 60)


def timing_estimates(routine: Routine, settings: Settings, options: SessionOptions, sounds: dict,
                     rate_wpm: int, measures: ClipMeasures | None = None) -> tuple[int, float, Plan]:
    """The introduction's minutes and the session's level lift, from sentence lengths estimated from their text,
    and the estimated plan they come from (the one plan() gives with settings that say those minutes).

    They do not depend on which clips are made yet, so a live session that starts before its sentences
    are made and an export agree. `measures` keeps the sounds' loudness (the clip cache, on disk).
    """
    from coach.plan.planner import plan

    estimated = plan(routine, settings, lambda text: estimated_length_s(text, rate_wpm))
    minutes = estimated.intro_minutes or 1
    if minutes != estimated.intro_minutes:  # the planner settles on a minute at least: never, but then say it
        estimated = plan(routine, replace(settings, intro_minutes=minutes),
                         lambda text: estimated_length_s(text, rate_wpm))
    return minutes, estimated_lift_db(estimated, options.loudness_lufs, sounds, measures), estimated


LIFT_VERSION = 1  # of how estimated_lift_db works the lift out: a new one must not read the old ones kept


def estimated_lift_db(estimated: Plan, target_lufs: float, sounds: dict, measures: ClipMeasures | None = None
                      ) -> float:
    """The level lift the mixer would plan for `estimated` at target_lufs, each sentence standing in as syllables.

    Syllables come four a second, each sounding a little over half of it, and their K-weighted energy
    gives a speech clip's level, as clips are leveled. As the mixer plans a level
    (coach.audio.loudness.planned_lufs), each cue's energy is shared between the session's 100 ms steps.
    `measures` (the clip cache) keeps the lift under a digest of all it depends on.
    """
    import hashlib

    import numpy as np

    from coach.audio.levels import BEEP_OFFSET_LU, SPEECH_CLIP_LUFS

    if measures is None:
        return _lift_db(estimated, target_lufs, sounds, measures)
    # Where each cue plays, how long, and what (a sentence, or the samples of a sound): all a lift depends on.
    cues = [(c.at_s, c.duration_s, c.text is not None, c.sound) for c in estimated.cues]
    digest = hashlib.sha256(repr((LIFT_VERSION, SPEECH_CLIP_LUFS, BEEP_OFFSET_LU, target_lufs,
                                  estimated.duration_s, cues)).encode())
    for name in sorted({c.sound for c in estimated.cues if c.sound is not None}):
        digest.update(name.encode() + b"\0" + np.ascontiguousarray(sounds[name], dtype="<f4").tobytes())
    return measures.estimate("lift-" + digest.hexdigest(), lambda: _lift_db(estimated, target_lufs, sounds, measures))


def _lift_db(estimated: Plan, target_lufs: float, sounds: dict, measures: ClipMeasures | None) -> float:
    import numpy as np

    from coach.audio.levels import BEEP_OFFSET_LU, SPEECH_CLIP_LUFS
    from coach.audio.loudness import SILENT_LUFS, gated_lufs, k_weighted, loudness_lufs
    from coach.plan.model import SAMPLE_RATE, to_samples

    longest_s = max((c.duration_s for c in estimated.cues if c.text is not None), default=0.0)
    syllables = np.sin(2 * np.pi * 4.0 * np.arange(to_samples(longest_s + 0.1)) / SAMPLE_RATE) > -0.2
    sounding = 10 ** ((SPEECH_CLIP_LUFS + 0.691) / 10) / max(float(syllables.mean()), 1e-9)  # a 400 ms block's
    # Each source's cumulative energy after a 0, all in one array: a cue's energy between two offsets is
    # the difference of two of its values. Sounds are measured only if the plan plays them.
    parts = [np.zeros(1), np.cumsum(syllables * sounding, dtype=np.float64)]
    where = {None: (0, len(parts[1]), 10 ** ((target_lufs - SPEECH_CLIP_LUFS) / 10))}
    at = 1 + len(parts[1])
    for name in dict.fromkeys(c.sound for c in estimated.cues if c.sound is not None):
        clip = sounds[name]
        measured = measures.loudness(("sound", name), clip) if measures is not None else loudness_lufs(clip)
        gain = 1.0 if measured < SILENT_LUFS else 10 ** ((target_lufs + BEEP_OFFSET_LU - measured) / 20)
        parts += [np.zeros(1), np.cumsum(np.square(k_weighted(clip)), dtype=np.float64)]
        where[name] = (at, len(parts[-1]), gain ** 2)
        at += 1 + len(parts[-1])
    found = np.concatenate(parts)
    step, total = SAMPLE_RATE // 10, estimated.duration_samples
    offsets, lengths, powers, starts = [], [], [], []
    for cue in estimated.cues:
        offset, length, power = where[cue.sound]
        if cue.text is not None:
            length = min(length, to_samples(cue.duration_s))
        start = to_samples(cue.at_s)
        offsets.append(offset)
        lengths.append(min(length, total - start))
        powers.append(power)
        starts.append(start)
    start, length = np.array(starts, dtype=np.int64), np.array(lengths, dtype=np.int64)
    keep = length > 0
    start, length = start[keep], length[keep]
    offset, power = np.array(offsets, dtype=np.int64)[keep], np.array(powers)[keep]
    # Each cue touches the steps first to last; its bounds are the step edges between, clipped to the cue.
    first, last = start // step, (start + length - 1) // step
    counts = last - first + 2  # bounds per cue, one more than the steps it touches
    cue = np.repeat(np.arange(len(start)), counts)
    index = first[cue] + np.arange(len(cue)) - np.repeat(np.cumsum(counts) - counts, counts)
    bounds = np.clip(index * step, start[cue], start[cue] + length[cue]) - start[cue]
    energy = np.diff(found[offset[cue] + bounds])
    inside = cue[1:] == cue[:-1]  # not the step from one cue's last bound to the next one's first
    steps = np.zeros(total // step + 1)
    # In cue order, as one cue after another adds to the steps it shares with others.
    np.add.at(steps, index[:-1][inside], (energy * power[cue[1:]])[inside])
    measured = gated_lufs(steps[:total // step], step)
    return (target_lufs - measured) if np.isfinite(measured) else 0.0
