"""The planner: a pure function from routine + settings + clip lengths to a timed `Plan`.

It never sleeps, reads a clock or touches audio. All placement is done in whole samples so that
every dose lasts exactly its seconds at the session's sample rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum
from typing import Callable, Mapping

from coach import script
from coach.model import (SAMPLE_RATE, SOUND_END, SOUND_PIP, SOUND_REST, SOUND_START, SOUND_STOP,
                         Chapter, Cue, CueKind, ExerciseSummary, Plan, Step, StepKind)
from coach.routine import Exercise, Routine

ClipDuration = Callable[[str], float]

class Priority(IntEnum):
    """Which cues win when a gap is too short: lower values are placed first and so are kept."""

    KEY = 0  # start/stop of a dose and "get ready": the person acts on these
    COUNT = 1  # count-down numbers and pips: they keep the dose audible
    MARKER = 2  # the rest beep and "20 seconds left": useful, but the counts already carry the time
    NEXT = 3  # "next: round 3 of 5": orientation, only where there is room
    TIP = 4  # tips: nice to have


TALK_GAP_S = 0.4  # pause between sentences of an announcement
FLEX_GAP_S = 0.25  # breathing room around speech placed freely in a gap
REST_BEEP_GAP_S = 0.1  # the rest beep follows the stop cue closely
TAIL_S = 1.0  # silence after the final sound
MIN_TIP_STEP_S = 8.0  # steps shorter than this get no tip
REPLAN_LIMIT = 4  # passes of the planner at most (see plan())


@dataclass(frozen=True)
class Settings:
    """What the planner needs beyond the routine."""

    sound_s: Mapping[str, float]  # the length of each named sound, from the loaded files
    speech: bool = True


def estimate_clip_duration(rate_wpm: float) -> ClipDuration:
    """A rough clip length from word count and speaking rate, for when no speech is rendered."""

    def duration(text: str) -> float:
        words = max(1, len(text.split()))
        return round(0.15 + words * 60.0 / rate_wpm, 3)

    return duration


@dataclass(frozen=True)
class _Clip:
    """One way to sound a cue: a spoken text or a named sound, with its length."""

    kind: CueKind
    text: str | None
    sound: str | None
    duration_s: float
    length_frames: int


@dataclass
class _CueRequest:
    """A cue the planner would like to place, with the clips that may sound it, best first."""

    priority: Priority
    order: float  # among equal priorities, lower is placed first
    clips: list[_Clip]
    at_frames: int  # the fixed start, or the earliest start when not fixed
    fixed: bool
    latest_end_frames: int | None = None  # a freely placed cue must end by then
    gap_s: float = FLEX_GAP_S  # breathing room a freely placed cue keeps from its neighbours


class _Builder:
    """One pass of the planner: walks the routine, laying steps end to end and placing their cues."""

    def __init__(self, routine: Routine, settings: Settings, clip_duration: ClipDuration):
        self.routine, self.settings, self.clip_duration = routine, settings, clip_duration
        self.cursor_frames = 0  # where the next step starts
        self.steps: list[Step] = []
        self.cues: list[tuple[int, _Clip]] = []
        self.dropped: list[tuple[int, _Clip]] = []
        self.chapters: list[Chapter] = []
        self.exercises: list[ExerciseSummary] = []
        # The stop cue of a dose falls exactly on its end, so it is placed with the step that follows.
        self.pending_stop: list[_CueRequest] = []
        self.tip_turn: dict[str, int] = {}

    # -- sources of sound -------------------------------------------------------------------
    def speech(self, text: str) -> _Clip | None:
        if not self.settings.speech:
            return None
        seconds = float(self.clip_duration(text))
        return _Clip(CueKind.SPEECH, text, None, seconds, _length_frames(seconds))

    def sound(self, name: str) -> _Clip:
        seconds = float(self.settings.sound_s[name])
        return _Clip(CueKind.SOUND, None, name, seconds, _length_frames(seconds))

    def clips(self, text: str | None, sound: str | None) -> list[_Clip]:
        out = []
        if text is not None and (clip := self.speech(text)) is not None:
            out.append(clip)
        if sound is not None:
            out.append(self.sound(sound))
        return out

    # -- steps ------------------------------------------------------------------------------
    def add_step(self, kind: StepKind, end_frames: int, where: dict) -> None:
        self.steps.append(Step(kind=kind, start_s=self.cursor_frames / SAMPLE_RATE,
                               end_s=end_frames / SAMPLE_RATE, exercise=where.get("exercise"),
                               index=where.get("index"), side=where.get("side"), set=where.get("set"),
                               rep=where.get("rep"), next_index=where.get("next_index")))
        self.cursor_frames = end_frames

    def talk(self, kind: StepKind, lines: list[str], where: dict, min_s: float = 0.0,
             end_sound: str | None = None) -> None:
        """A step sized to fit its sentences, one after another."""
        at_frames = self.cursor_frames
        for request in self.pending_stop:
            if request.clips:
                self.cues.append((at_frames, request.clips[0]))
                at_frames += request.clips[0].length_frames + _frames(TALK_GAP_S)
        self.pending_stop = []
        for line in lines:
            clip = self.speech(line)
            if clip is not None:
                self.cues.append((at_frames, clip))
                at_frames += clip.length_frames + _frames(TALK_GAP_S)
        if end_sound is not None:
            clip = self.sound(end_sound)
            self.cues.append((at_frames, clip))
            at_frames += clip.length_frames + _frames(TAIL_S)
        self.add_step(kind, max(at_frames, self.cursor_frames + _frames(min_s)), where)

    def timed(self, kind: StepKind, length_frames: int, requests: list[_CueRequest], where: dict) -> None:
        """A step of fixed length; cues that do not fit are dropped by priority."""
        start, end = self.cursor_frames, self.cursor_frames + length_frames
        placed: list[tuple[int, int]] = []
        for request in sorted(self.pending_stop + requests, key=lambda r: (r.priority, r.order)):
            for clip in request.clips:
                at_frames = _place(request, clip, placed, start, end, _frames(request.gap_s))
                if at_frames is not None:
                    placed.append((at_frames, at_frames + clip.length_frames))
                    self.cues.append((at_frames, clip))
                    break
            else:
                if request.clips:
                    self.dropped.append((request.at_frames, request.clips[0]))
        self.pending_stop = []
        self.add_step(kind, end, where)

    # -- the parts of a session -------------------------------------------------------------
    def prepare(self, ex: Exercise, where: dict) -> None:
        """Set-up time with a short "get ready" count-down."""
        ready = self.clips(script.GET_READY, None)
        length_frames = _frames(ex.setup_s)
        if ready:
            # grow the set-up so "get ready" and a full 3-2-1 both fit
            length_frames = max(length_frames, ready[0].length_frames + _frames(FLEX_GAP_S) + 3 * SAMPLE_RATE)
        start = self.cursor_frames
        requests = [_CueRequest(Priority.KEY, 0, ready, start, True)]
        requests += self.countdown(start + length_frames, 3, start)
        self.timed(StepKind.PREPARE, length_frames, requests, where)

    def countdown(self, end_frames: int, last: int, floor_frames: int) -> list[_CueRequest]:
        """Numbers (or pips without speech) on each of the last seconds before `end_frames`."""
        requests = []
        for k in range(last, 0, -1):
            at_frames = end_frames - k * SAMPLE_RATE
            if at_frames >= floor_frames:
                clips = self.clips(script.count(k), None) or [self.sound(SOUND_PIP)]
                requests.append(_CueRequest(Priority.COUNT, k, clips, at_frames, True))
        return requests

    def dose(self, ex: Exercise, where: dict) -> None:
        """A hold or work period: start cue, counts, markers, tips; the stop cue falls at its end."""
        seconds = ex.dose_s
        start, end = self.cursor_frames, self.cursor_frames + seconds * SAMPLE_RATE
        holding = ex.hold_s is not None
        requests = [_CueRequest(Priority.KEY, 0, self.clips(script.HOLD if holding else script.GO, SOUND_START),
                                start, True)]
        if holding and seconds <= 10:
            counted = seconds - 1
        else:
            counted = min(5 if seconds > 10 else 3, seconds - 1)
        if not self.settings.speech:
            counted = min(counted, 3)
        counts = self.countdown(end, counted, start + 1)
        requests += counts
        if seconds > 10:
            for left in range(10, seconds - 2, 10):
                requests.append(_CueRequest(Priority.MARKER, left, self.clips(script.seconds_left(left), None),
                                            end - left * SAMPLE_RATE, True))
        quiet_end = min((r.at_frames for r in counts), default=end)
        requests += self.tip(ex, start + _frames(1.0), quiet_end, seconds)
        self.timed(StepKind.HOLD if holding else StepKind.WORK, end - start, requests, where)
        stop = self.clips(script.RELEASE if holding else script.STOP, SOUND_STOP)
        self.pending_stop = [_CueRequest(Priority.KEY, 0, stop, end, True)]

    def rest(self, seconds: float, next_text: str | None, ex: Exercise | None, where: dict) -> None:
        """A rest: beep, what comes next, maybe a tip, pips on the last 3 seconds."""
        start, end = self.cursor_frames, self.cursor_frames + _frames(seconds)
        pips = [_CueRequest(Priority.COUNT, k, [self.sound(SOUND_PIP)], end - k * SAMPLE_RATE, True)
                for k in (3, 2, 1) if end - k * SAMPLE_RATE >= start]
        quiet_end = min((r.at_frames for r in pips), default=end)
        # the beep goes first, right after the stop cue, and ahead of the pips
        requests = [_CueRequest(Priority.COUNT, -1, [self.sound(SOUND_REST)], start, False, end,
                                gap_s=REST_BEEP_GAP_S)]
        if next_text is not None:
            requests.append(_CueRequest(Priority.NEXT, 0, self.clips(next_text, None), start, False, quiet_end))
        if ex is not None:
            requests += self.tip(ex, start, quiet_end, seconds)
        self.timed(StepKind.REST, end - start, requests + pips, where)

    def tip(self, ex: Exercise, earliest_frames: int, latest_end_frames: int, seconds: float) -> list[_CueRequest]:
        if not ex.tips or seconds < MIN_TIP_STEP_S or not self.settings.speech:
            return []
        turn = self.tip_turn.get(ex.name, 0)
        self.tip_turn[ex.name] = turn + 1
        clips = self.clips(ex.tips[turn % len(ex.tips)], None)
        return [_CueRequest(Priority.TIP, 0, clips, earliest_frames, False, latest_end_frames)]

    def exercise(self, index: int, ex: Exercise, is_last: bool) -> None:
        start_s = self.cursor_frames / SAMPLE_RATE
        base = {"exercise": ex.name, "index": index}
        self.chapters.append(Chapter(start_s, f"{index}. {ex.name}", exercise=index))
        sides = ex.sides or (None,)
        for side_i, side in enumerate(sides):
            where = dict(base, side=side, set=1)
            if side_i == 0:
                self.talk(StepKind.ANNOUNCE, script.exercise_lines(self.routine, index, ex), where)
            else:
                self.talk(StepKind.ANNOUNCE, [script.switch_side(side)], where)  # type: ignore[arg-type]
            self.prepare(ex, where)
            for set_number in range(1, ex.sets + 1):
                where = dict(base, side=side, set=set_number)
                if set_number > 1:
                    self.rest(ex.set_rest_s, script.next_set(set_number, ex.sets), ex,
                              dict(where, set=set_number - 1, rep=ex.reps))
                    self.talk(StepKind.ANNOUNCE, [script.set_start(set_number, ex.sets)], where)
                    self.prepare(ex, where)
                for rep in range(1, ex.reps + 1):
                    self.dose(ex, dict(where, rep=rep))
                    if rep < ex.reps:
                        self.rest(ex.rest_s, script.next_rep(ex, rep + 1), ex, dict(where, rep=rep))
        self.exercises.append(ExerciseSummary(
            position=index, name=ex.name, kind=StepKind.HOLD if ex.hold_s is not None else StepKind.WORK,
            sides=sides, sets=ex.sets, reps=ex.reps, dose_s=ex.dose_s, start_s=start_s,
            end_s=self.cursor_frames / SAMPLE_RATE))
        if not is_last:
            following = self.routine.exercises[index]
            self.rest(self.routine.exercise_rest_s, script.next_exercise(following), None,
                      dict(base, side=sides[-1], set=ex.sets, rep=ex.reps, next_index=index + 1))

    def build(self, minutes: int) -> Plan:
        self.chapters.append(Chapter(0.0, "Introduction"))
        self.talk(StepKind.INTRO, script.intro_lines(self.routine, minutes), {}, min_s=1.0)
        count = len(self.routine.exercises)
        for index, ex in enumerate(self.routine.exercises, start=1):
            self.exercise(index, ex, index == count)
        self.chapters.append(Chapter(self.cursor_frames / SAMPLE_RATE, "Finish"))
        self.talk(StepKind.CLOSE, script.close_lines(self.routine, self.cursor_frames / SAMPLE_RATE), {},
                  end_sound=SOUND_END)
        return Plan(
            routine=self.routine.id,
            title=self.routine.title,
            duration_s=self.cursor_frames / SAMPLE_RATE,
            steps=tuple(self.steps),
            cues=tuple(_cue(at, clip) for at, clip in sorted(self.cues, key=lambda c: c[0])),
            chapters=tuple(self.chapters),
            exercises=tuple(self.exercises),
            dropped=tuple(_cue(at, clip) for at, clip in sorted(self.dropped, key=lambda c: c[0])),
        )


def _frames(seconds: float) -> int:
    return round(seconds * SAMPLE_RATE)


def _length_frames(seconds: float) -> int:
    # ceil, with a hair of tolerance for lengths that are exact sample counts
    return max(1, math.ceil(seconds * SAMPLE_RATE - 1e-6))


def _cue(at_frames: int, clip: _Clip) -> Cue:
    return Cue(at_s=at_frames / SAMPLE_RATE, duration_s=clip.duration_s, kind=clip.kind, text=clip.text,
               sound=clip.sound)


def _place(request: _CueRequest, clip: _Clip, placed: list[tuple[int, int]], start: int, end: int,
           gap_frames: int) -> int | None:
    """Where `clip` can start for `request` inside frames [start, end) without touching `placed`, or None."""
    if request.fixed:
        at = request.at_frames
        if at < start or at + clip.length_frames > end:
            return None
        return at if all(at + clip.length_frames <= a or at >= b for a, b in placed) else None
    limit = min(end, request.latest_end_frames if request.latest_end_frames is not None else end)
    candidates = sorted({request.at_frames} | {b + gap_frames for _, b in placed if b + gap_frames >= request.at_frames})
    for at in candidates:
        if at + clip.length_frames > limit:
            return None
        if all(at + clip.length_frames + gap_frames <= a or at >= b + gap_frames for a, b in placed):
            return at
    return None


def plan(routine: Routine, settings: Settings, clip_duration: ClipDuration) -> Plan:
    """The timed plan of a session: steps, cues and chapters. Pure and deterministic."""
    lengths: dict[str, float] = {}

    def cached(text: str) -> float:
        if text not in lengths:
            lengths[text] = clip_duration(text)
        return lengths[text]

    # The introduction says "about N minutes", but N is only known once the session is laid out, and
    # the sentence's own length can move the total across a minute boundary. So plan with a guess,
    # re-plan with the minutes the result actually took, and stop once the two agree. The sentence
    # changes by a word at most, so this settles in two or three passes; REPLAN_LIMIT only guards
    # against a flip-flop right on a boundary, where either answer is within half a minute.
    minutes = 1
    result = _Builder(routine, settings, cached).build(minutes)
    for _ in range(REPLAN_LIMIT - 1):
        actual = max(1, round(result.duration_s / 60))
        if actual == minutes:
            break
        minutes = actual
        result = _Builder(routine, settings, cached).build(minutes)
    return result
