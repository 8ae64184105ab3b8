"""What the planner takes besides the routine: settings, and how long each spoken text lasts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

from coach.plan.script import Script, english

ClipDuration = Callable[[str], float]


@dataclass(frozen=True)
class Settings:
    """What the planner needs beyond the routine."""

    sound_s: Mapping[str, float]  # the length of each named sound, from the loaded files
    speech: bool = True
    script: Script = field(default_factory=english)  # every sentence, in the session's language
    # A live session re-plans its close once an exercise is skipped: it names the skipped exercises
    # and keeps the introduction's minutes, so everything before the close stays as it was.
    skipped: tuple[str, ...] = ()
    intro_minutes: int | None = None


def estimate_clip_duration(rate_wpm: float) -> ClipDuration:
    """A rough clip length from word count and speaking rate, for when no speech is rendered."""

    def duration(text: str) -> float:
        words = max(1, len(text.split()))
        return round(0.15 + words * 60.0 / rate_wpm, 3)

    return duration
