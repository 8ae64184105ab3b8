"""The plan's data: timed steps, sound cues and chapters (times in seconds)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

SAMPLE_RATE = 22050

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


@dataclass(frozen=True)
class Step:
    """A timed part of the session: talk, prepare, hold, work, rest or close."""

    kind: str
    exercise: str | None
    index: int | None  # 1-based exercise number, None for intro/close
    side: str | None
    set: int | None
    rep: int | None
    start_s: float
    end_s: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class Cue:
    """One sound event: speech (text) or a named sound, with its start and length."""

    at_s: float
    duration_s: float
    kind: str  # "speech" | "sound"
    text: str | None = None
    sound: str | None = None

    @property
    def end_s(self) -> float:
        return self.at_s + self.duration_s


@dataclass(frozen=True)
class Chapter:
    """A named point in the session: the introduction, each exercise, the close."""

    start_s: float
    title: str


@dataclass(frozen=True)
class Plan:
    """Everything that is said and sounded in a session, and exactly when."""

    routine: str
    title: str
    duration_s: float
    sample_rate: int
    steps: tuple[Step, ...]
    cues: tuple[Cue, ...]
    chapters: tuple[Chapter, ...]
    dropped: tuple[Cue, ...] = field(default=(), compare=False)

    @property
    def duration_samples(self) -> int:
        return to_samples(self.duration_s, self.sample_rate)

    def to_json(self) -> dict:
        """The plan as the JSON document `coach plan --json` prints."""
        return {
            "routine": self.routine,
            "title": self.title,
            "duration_s": self.duration_s,
            "sample_rate": self.sample_rate,
            "steps": [
                {k: v for k, v in asdict(s).items()} for s in self.steps
            ],
            "cues": [asdict(c) for c in self.cues],
            "chapters": [asdict(c) for c in self.chapters],
        }
