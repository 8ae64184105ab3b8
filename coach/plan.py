"""The planner: a pure function from routine + settings + clip lengths to a timed `Plan`.

It never sleeps, reads a clock or touches audio. All placement is done in whole samples so that
every dose lasts exactly its seconds at the session's sample rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Mapping

from coach import script
from coach.model import (SAMPLE_RATE, SOUND_END, SOUND_PIP, SOUND_REST, SOUND_START, SOUND_STOP,
                         Chapter, Cue, Plan, Step)
from coach.routine import Exercise, Routine

ClipDuration = Callable[[str], float]

# Lengths of the shipped sounds; the CLI passes the real ones of whatever sounds are loaded.
DEFAULT_SOUND_S = {SOUND_REST: 0.35, SOUND_PIP: 0.1, SOUND_START: 0.3, SOUND_STOP: 0.3, SOUND_END: 0.8}

# Priorities: lower numbers are placed first and so are kept when speech does not fit.
P_KEY = 0  # start/stop cues, "get ready"
P_COUNT = 1  # count-down numbers and pips
P_CUE = 2  # rest beep, "20 seconds left"
P_NEXT = 3  # "next: round 3 of 5"
P_TIP = 4  # tips

TALK_GAP_S = 0.4  # pause between sentences of an announcement
FLEX_GAP_S = 0.25  # breathing room around speech placed freely in a gap
REST_BEEP_GAP_S = 0.1  # the rest beep follows the stop cue closely
TAIL_S = 1.0  # silence after the final sound
MIN_TIP_STEP_S = 8.0  # steps shorter than this get no tip


@dataclass(frozen=True)
class Settings:
    """What the planner needs beyond the routine."""

    speech: bool = True
    sample_rate: int = SAMPLE_RATE
    sound_s: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_SOUND_S))


def estimate_clip_duration(rate_wpm: float) -> ClipDuration:
    """A rough clip length from word count and speaking rate, for when no speech is rendered."""

    def duration(text: str) -> float:
        words = max(1, len(text.split()))
        return round(0.15 + words * 60.0 / rate_wpm, 3)

    return duration


@dataclass(frozen=True)
class _Alt:
    kind: str
    text: str | None
    sound: str | None
    duration_s: float
    frames: int


@dataclass
class _Req:
    priority: int
    rank: float
    alts: list[_Alt]
    at: int  # fixed start, or the earliest start when not fixed
    fixed: bool
    limit: int | None = None  # latest end for a freely placed cue
    gap_s: float = FLEX_GAP_S  # breathing room a freely placed cue keeps from its neighbours


class _Builder:
    def __init__(self, routine: Routine, settings: Settings, clip_duration: ClipDuration):
        self.routine, self.settings, self.clip_duration = routine, settings, clip_duration
        self.rate = settings.sample_rate
        self.t = 0
        self.steps: list[Step] = []
        self.cues: list[tuple[int, _Alt]] = []
        self.dropped: list[tuple[int, _Alt]] = []
        self.chapters: list[Chapter] = []
        self.carry: list[_Req] = []
        self.tip_turn: dict[str, int] = {}

    # -- sources of sound -------------------------------------------------------------------
    def frames(self, seconds: float) -> int:
        return round(seconds * self.rate)

    def speech(self, text: str) -> _Alt | None:
        if not self.settings.speech:
            return None
        seconds = float(self.clip_duration(text))
        # ceil, with a hair of tolerance for lengths that are exact sample counts
        return _Alt("speech", text, None, seconds, max(1, math.ceil(seconds * self.rate - 1e-6)))

    def sound(self, name: str) -> _Alt:
        seconds = float(self.settings.sound_s[name])
        return _Alt("sound", None, name, seconds, max(1, math.ceil(seconds * self.rate - 1e-6)))

    def alts(self, text: str | None, sound: str | None) -> list[_Alt]:
        out = []
        if text is not None and (alt := self.speech(text)) is not None:
            out.append(alt)
        if sound is not None:
            out.append(self.sound(sound))
        return out

    # -- steps ------------------------------------------------------------------------------
    def add_step(self, kind: str, end: int, meta: dict) -> None:
        self.steps.append(Step(kind=kind, start_s=self.t / self.rate, end_s=end / self.rate,
                               exercise=meta.get("exercise"), index=meta.get("index"),
                               side=meta.get("side"), set=meta.get("set"), rep=meta.get("rep")))
        self.t = end

    def talk(self, kind: str, lines: list[str], meta: dict, min_s: float = 0.0,
             end_sound: str | None = None) -> None:
        """A step sized to fit its sentences, one after another."""
        cursor = self.t
        for req in self.carry:
            if req.alts:
                self.cues.append((cursor, req.alts[0]))
                cursor += req.alts[0].frames + self.frames(TALK_GAP_S)
        self.carry = []
        for line in lines:
            alt = self.speech(line)
            if alt is not None:
                self.cues.append((cursor, alt))
                cursor += alt.frames + self.frames(TALK_GAP_S)
        if end_sound is not None:
            alt = self.sound(end_sound)
            self.cues.append((cursor, alt))
            cursor += alt.frames + self.frames(TAIL_S)
        self.add_step(kind, max(cursor, self.t + self.frames(min_s)), meta)

    def timed(self, kind: str, frames: int, reqs: list[_Req], meta: dict) -> None:
        """A step of fixed length; cues that do not fit are dropped by priority."""
        start, end = self.t, self.t + frames
        placed: list[tuple[int, int]] = []
        for req in sorted(self.carry + reqs, key=lambda r: (r.priority, r.rank)):
            for alt in req.alts:
                at = _place(req, alt, placed, start, end, self.frames(req.gap_s))
                if at is not None:
                    placed.append((at, at + alt.frames))
                    self.cues.append((at, alt))
                    break
            else:
                if req.alts:
                    self.dropped.append((req.at, req.alts[0]))
        self.carry = []
        self.add_step(kind, end, meta)

    # -- the parts of a session -------------------------------------------------------------
    def prepare(self, ex: Exercise, meta: dict) -> None:
        """Set-up time with a short "get ready" count-down."""
        ready = self.alts(script.GET_READY, None)
        frames = self.frames(ex.setup_s)
        if ready:
            # grow the set-up so "get ready" and a full 3-2-1 both fit
            frames = max(frames, ready[0].frames + self.frames(FLEX_GAP_S) + 3 * self.rate)
        reqs = [_Req(P_KEY, 0, ready, self.t, True)]
        reqs += self.countdown(self.t + frames, 3, self.t)
        self.timed("prepare", frames, reqs, meta)

    def countdown(self, end: int, last: int, floor: int) -> list[_Req]:
        """Numbers (or pips without speech) on each of the last seconds before `end`."""
        reqs = []
        for k in range(last, 0, -1):
            at = end - k * self.rate
            if at >= floor:
                reqs.append(_Req(P_COUNT, k, self.alts(script.count(k), None) or [self.sound(SOUND_PIP)],
                                 at, True))
        return reqs

    def dose(self, ex: Exercise, meta: dict) -> None:
        """A hold or work period: start cue, counts, markers, tips; the stop cue falls at its end."""
        seconds = ex.dose_s
        start, end = self.t, self.t + seconds * self.rate
        holding = ex.hold_s is not None
        reqs = [_Req(P_KEY, 0, self.alts(script.HOLD if holding else script.GO, SOUND_START), start, True)]
        if holding and seconds <= 10:
            counted = seconds - 1
        else:
            counted = min(5 if seconds > 10 else 3, seconds - 1)
        if not self.settings.speech:
            counted = min(counted, 3)
        counts = self.countdown(end, counted, start + 1)
        reqs += counts
        if seconds > 10:
            for left in range(10, seconds - 2, 10):
                reqs.append(_Req(P_CUE, left, self.alts(script.seconds_left(left), None),
                                 end - left * self.rate, True))
        quiet_end = min((r.at for r in counts), default=end)
        reqs += self.tip(ex, start + self.frames(1.0), quiet_end, seconds)
        self.timed(ex.kind, end - start, reqs, meta)
        self.carry = [_Req(P_KEY, 0, self.alts(script.RELEASE if holding else script.STOP, SOUND_STOP),
                           end, True)]

    def rest(self, seconds: float, next_text: str | None, ex: Exercise | None, meta: dict) -> None:
        """A rest: beep, what comes next, maybe a tip, pips on the last 3 seconds."""
        frames = self.frames(seconds)
        start, end = self.t, self.t + frames
        pips = [_Req(P_COUNT, k, [self.sound(SOUND_PIP)], end - k * self.rate, True)
                for k in (3, 2, 1) if end - k * self.rate >= start]
        quiet_end = min((r.at for r in pips), default=end)
        # the beep goes first, right after the stop cue, and ahead of the pips
        reqs = [_Req(P_COUNT, -1, [self.sound(SOUND_REST)], start, False, end, gap_s=REST_BEEP_GAP_S)]
        if next_text is not None:
            reqs.append(_Req(P_NEXT, 0, self.alts(next_text, None), start, False, quiet_end))
        if ex is not None:
            reqs += self.tip(ex, start, quiet_end, seconds)
        self.timed("rest", frames, reqs + pips, meta)

    def tip(self, ex: Exercise, earliest: int, latest_end: int, seconds: float) -> list[_Req]:
        if not ex.tips or seconds < MIN_TIP_STEP_S or not self.settings.speech:
            return []
        turn = self.tip_turn.get(ex.name, 0)
        self.tip_turn[ex.name] = turn + 1
        return [_Req(P_TIP, 0, self.alts(ex.tips[turn % len(ex.tips)], None), earliest, False, latest_end)]

    def exercise(self, index: int, ex: Exercise, is_last: bool) -> None:
        base = {"exercise": ex.name, "index": index}
        self.chapters.append(Chapter(self.t / self.rate, f"{index}. {ex.name}"))
        for side_i, side in enumerate(ex.sides or (None,)):
            meta = dict(base, side=side, set=1)
            if side_i == 0:
                self.talk("talk", script.exercise_lines(self.routine, index, ex), meta)
            else:
                self.talk("talk", [script.switch_side(side)], meta)  # type: ignore[arg-type]
            self.prepare(ex, meta)
            for set_number in range(1, ex.sets + 1):
                meta = dict(base, side=side, set=set_number)
                if set_number > 1:
                    self.rest(ex.set_rest_s, script.next_set(set_number, ex.sets), ex,
                              dict(meta, set=set_number - 1, rep=ex.reps))
                    self.talk("talk", [script.set_start(set_number, ex.sets)], meta)
                    self.prepare(ex, meta)
                for rep in range(1, ex.reps + 1):
                    self.dose(ex, dict(meta, rep=rep))
                    if rep < ex.reps:
                        self.rest(ex.rest_s, script.next_rep(ex, rep + 1), ex, dict(meta, rep=rep))
        if not is_last:
            following = self.routine.exercises[index]
            self.rest(self.routine.exercise_rest_s, script.next_exercise(following), None,
                      dict(base, side=(ex.sides or (None,))[-1], set=ex.sets, rep=ex.reps))

    def build(self, minutes: int) -> Plan:
        self.chapters.append(Chapter(0.0, "Introduction"))
        self.talk("intro", script.intro_lines(self.routine, minutes), {}, min_s=1.0)
        count = len(self.routine.exercises)
        for index, ex in enumerate(self.routine.exercises, start=1):
            self.exercise(index, ex, index == count)
        self.chapters.append(Chapter(self.t / self.rate, "Finish"))
        self.talk("close", script.close_lines(self.routine, self.t / self.rate), {}, end_sound=SOUND_END)
        ordered = sorted(self.cues, key=lambda c: c[0])
        return Plan(
            routine=self.routine.id,
            title=self.routine.title,
            duration_s=self.t / self.rate,
            sample_rate=self.rate,
            steps=tuple(self.steps),
            cues=tuple(_cue(at, alt, self.rate) for at, alt in ordered),
            chapters=tuple(self.chapters),
            dropped=tuple(_cue(at, alt, self.rate) for at, alt in sorted(self.dropped, key=lambda c: c[0])),
        )


def _cue(at: int, alt: _Alt, rate: int) -> Cue:
    return Cue(at_s=at / rate, duration_s=alt.duration_s, kind=alt.kind, text=alt.text, sound=alt.sound)


def _place(req: _Req, alt: _Alt, placed: list[tuple[int, int]], start: int, end: int, gap: int) -> int | None:
    """Where `alt` can go for `req` inside [start, end) without touching `placed`, or None."""
    if req.fixed:
        at = req.at
        if at < start or at + alt.frames > end:
            return None
        return at if all(at + alt.frames <= a or at >= b for a, b in placed) else None
    limit = min(end, req.limit if req.limit is not None else end)
    candidates = sorted({req.at} | {b + gap for _, b in placed if b + gap >= req.at})
    for at in candidates:
        if at + alt.frames > limit:
            return None
        if all(at + alt.frames + gap <= a or at >= b + gap for a, b in placed):
            return at
    return None


def plan(routine: Routine, settings: Settings, clip_duration: ClipDuration) -> Plan:
    """The timed plan of a session: steps, cues and chapters. Pure and deterministic."""
    lengths: dict[str, float] = {}

    def cached(text: str) -> float:
        if text not in lengths:
            lengths[text] = clip_duration(text)
        return lengths[text]

    minutes = 1
    result = None
    for _ in range(4):
        result = _Builder(routine, settings, cached).build(minutes)
        wanted = max(1, round(result.duration_s / 60))
        if wanted == minutes:
            break
        minutes = wanted
    return result  # type: ignore[return-value]
