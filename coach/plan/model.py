"""The plan's data: timed steps, sound cues and chapters (times in seconds at SAMPLE_RATE).

The plan describes itself: kinds are enums, chapters know their exercise, and what consumers need
(the exercises with their totals, the step at a position) is computed once, so live playback, the
status display and the log read fields instead of re-deriving them.
"""

from __future__ import annotations

import bisect
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from functools import cached_property

SAMPLE_RATE = 22050  # every clip, sound and mix is mono at this rate

# Names of the built-in sounds; each is a WAV file of that name in sounds/.
SOUND_REST = "rest"  # start of a rest
SOUND_PIP = "pip"  # each of the last 3 seconds of a rest or get-ready
SOUND_START = "start"  # go / hold (beep-only sessions)
SOUND_STOP = "stop"  # release / stop (beep-only sessions)
SOUND_END = "end"  # end of the session
SOUND_NAMES = (SOUND_REST, SOUND_PIP, SOUND_START, SOUND_STOP, SOUND_END)


def to_samples(seconds: float, rate: int = SAMPLE_RATE) -> int:
    """Sample index of a time in seconds, as the mixer places it."""
    return round(seconds * rate)


class StepKind(StrEnum):
    """What the person is doing during a step."""

    INTRO = "intro"  # the session's introduction
    ANNOUNCE = "announce"  # an exercise, side or set is being announced: listen
    PREPARE = "prepare"  # getting into position, ending in "get ready, 3, 2, 1"
    HOLD = "hold"  # a counted hold (a dose)
    WORK = "work"  # continuous movement (a dose)
    REST = "rest"  # between reps, sets or exercises
    CLOSE = "close"  # the closing words

    @property
    def is_dose(self) -> bool:
        """True for the steps that are the prescribed exercise itself (hold or work)."""
        return self in (StepKind.HOLD, StepKind.WORK)


class CueKind(StrEnum):
    """What a cue sounds: a spoken text or one of the named sounds."""

    SPEECH = "speech"
    SOUND = "sound"


@dataclass(frozen=True)
class Step:
    """A timed part of the session; exercise fields are None for the introduction and the close."""

    kind: StepKind
    exercise: str | None
    index: int | None  # 1-based exercise position
    side: str | None
    set: int | None
    rep: int | None
    start_s: float
    end_s: float
    next_index: int | None = None  # a rest between exercises: the position of the one that follows

    @property
    def duration_s(self) -> float:
        """How long the step lasts."""
        return self.end_s - self.start_s


@dataclass(frozen=True)
class Cue:
    """One sound event: speech (text) or a named sound, with its start and length."""

    at_s: float
    duration_s: float
    kind: CueKind
    text: str | None = None
    sound: str | None = None

    @property
    def end_s(self) -> float:
        """When the cue has finished sounding."""
        return self.at_s + self.duration_s


@dataclass(frozen=True)
class Chapter:
    """A named point in the session: the introduction, each exercise (with its position), the close."""

    start_s: float
    title: str
    exercise: int | None = None  # 1-based exercise position; None for the introduction and the close


@dataclass(frozen=True)
class ExerciseSummary:
    """One exercise as the session plays it: where it is and how much of it is planned."""

    position: int  # 1-based
    name: str
    kind: StepKind  # HOLD or WORK
    sides: tuple[str | None, ...]  # (None,) when the exercise has no sides
    sets: int
    reps: int  # per set
    dose_s: int  # one hold or work period
    start_s: float
    end_s: float

    @property
    def planned_reps(self) -> int:
        """Reps on each side, over all sets."""
        return self.reps * self.sets

    @property
    def planned_dose_s(self) -> float:
        """Seconds of holds or work over every side, set and rep."""
        return float(self.dose_s * self.planned_reps * len(self.sides))


@dataclass(frozen=True)
class Plan:
    """Everything that is said and sounded in a session, and exactly when."""

    routine: str
    title: str
    duration_s: float
    steps: tuple[Step, ...]
    cues: tuple[Cue, ...]
    chapters: tuple[Chapter, ...]
    exercises: tuple[ExerciseSummary, ...] = ()
    dropped: tuple[Cue, ...] = field(default=(), compare=False)
    intro_minutes: int = field(default=0, compare=False)  # the "about N minutes" the introduction says

    @property
    def sample_rate(self) -> int:
        """The rate of every sample position in the plan."""
        return SAMPLE_RATE

    @property
    def duration_samples(self) -> int:
        """The session's length in samples."""
        return to_samples(self.duration_s)

    @property
    def planned_dose_s(self) -> float:
        """Seconds of exercise (holds and work) in the whole session."""
        return sum(ex.planned_dose_s for ex in self.exercises)

    @cached_property
    def _step_starts_s(self) -> tuple[float, ...]:
        return tuple(step.start_s for step in self.steps)

    def step_at(self, position_s: float) -> Step | None:
        """The step sounding at position_s (the last one at or past the end, None before the first)."""
        i = bisect.bisect_right(self._step_starts_s, position_s)
        return self.steps[i - 1] if i else None

    def exercise(self, position: int) -> ExerciseSummary:
        """The exercise at a 1-based position."""
        return self.exercises[position - 1]

    def exercise_chapters(self) -> tuple[Chapter, ...]:
        """The chapters that start an exercise, in order."""
        return tuple(c for c in self.chapters if c.exercise is not None)

    def to_json(self) -> dict:
        """The plan as the JSON document `coach plan --json` prints."""
        return {
            "routine": self.routine,
            "title": self.title,
            "duration_s": self.duration_s,
            "sample_rate": self.sample_rate,
            "steps": [asdict(s) for s in self.steps],
            "cues": [asdict(c) for c in self.cues],
            "chapters": [asdict(c) for c in self.chapters],
            "exercises": [asdict(e) | {"planned_reps": e.planned_reps} for e in self.exercises],
        }
