"""The one-line live status: where the session is, rewritten in place on stderr."""

from __future__ import annotations

import sys
from typing import TextIO

from coach.model import Plan, Step

_KIND_NAMES = {"talk": "talk", "prepare": "get ready", "hold": "hold", "work": "work", "rest": "rest", "close": "close"}


def clock_text(seconds: float) -> str:
    """Whole seconds as m:ss (or h:mm:ss from an hour on)."""
    total = max(0, int(seconds + 0.5))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def step_at(plan: Plan, position_s: float) -> Step | None:
    """The step playing at position_s (the last one at or past the end)."""
    current = None
    for step in plan.steps:
        if step.start_s <= position_s:
            current = step
        else:
            break
    return current


def _exercise_count(plan: Plan) -> int:
    return max((s.index for s in plan.steps if s.index is not None), default=0)


def _of_total(plan: Plan, step: Step, field: str) -> str:
    """'2/3' for a step's set or rep, counting the exercise's largest value as the total."""
    value = getattr(step, field)
    total = max((getattr(s, field) or 0 for s in plan.steps if s.index == step.index and s.side == step.side), default=0)
    return f"{value}/{total}" if total else f"{value}"


def status_text(plan: Plan, position_s: float, paused: bool = False) -> str:
    """The status line for a position: exercise k of N and name, side, set/rep, step and session time left."""
    position_s = min(max(position_s, 0.0), plan.duration_s)
    step = step_at(plan, position_s)
    parts: list[str] = []
    if paused:
        parts.append("paused")
    if step is None:
        parts.append("starting")
    elif step.index is None:
        parts.append("introduction" if step.kind != "close" else "close")
    else:
        parts.append(f"exercise {step.index}/{_exercise_count(plan)} {step.exercise}")
        if step.side:
            parts.append(step.side)
        if step.set is not None:
            parts.append(f"set {_of_total(plan, step, 'set')}")
        if step.rep is not None:
            parts.append(f"rep {_of_total(plan, step, 'rep')}")
    if step is not None:
        left = f"{max(0, int(step.end_s - position_s + 0.999))} s"
        parts.append(left if step.index is None else f"{_KIND_NAMES.get(step.kind, step.kind)} {left}")
    parts.append(f"{clock_text(plan.duration_s - position_s)} left")
    return " · ".join(parts)


class StatusLine:
    """A single line on a text stream (stderr by default), rewritten in place with a carriage return."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream if stream is not None else sys.stderr
        self._shown = ""

    def show(self, text: str) -> None:
        """Replaces the line with text (nothing is written when it has not changed)."""
        if text == self._shown:
            return
        pad = " " * max(0, len(self._shown) - len(text))
        self.stream.write(f"\r{text}{pad}")
        self.stream.flush()
        self._shown = text

    def clear(self) -> None:
        """Blanks the line and leaves the cursor at its start."""
        if self._shown:
            self.stream.write("\r" + " " * len(self._shown) + "\r")
            self.stream.flush()
            self._shown = ""
