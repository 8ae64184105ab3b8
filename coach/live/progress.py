"""What a live session has done, read off the plan as playback moves: reps heard to their end, sides skipped.

It turns positions into log entries: a rep counts once its hold or work step has been heard to its
end without a jump (pause/resume, `n` or `p`) across that end; moving on with `n` before a side's reps
were all heard marks that side as skipped.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from typing import Protocol

from coach.plan.model import Plan, Step

Outcome = str  # "finished" | "stopped" | "interrupted"


class SessionLog(Protocol):
    """The part of coach.log.recorder.SessionLogger a live session feeds."""

    def rep_done(self, position: int, side: str | None, dose_s: float) -> None: ...

    def skipped(self, position: int, side: str | None) -> None: ...

    def _ending_between(self, after_s: float, until_s: float) -> range:
        """Indexes of the doses that end after after_s and by until_s."""
        return range(bisect.bisect_right(self._dose_ends_s, after_s),
                     bisect.bisect_right(self._dose_ends_s, until_s + 1e-9))

    def finish(self, outcome: Outcome) -> None: ...


def planned_from(plan: Plan, start_s: float) -> tuple[float, list[tuple[int, str, str | None, int]]]:
    """Planned seconds of exercise and one (position, name, side, planned reps) entry per side, from start_s on."""
    entries, planned_s = [], 0.0
    for ex in plan.exercises:
        if ex.end_s <= start_s + 1e-9:
            continue  # started with --from: only what is still ahead is planned
        for side in ex.sides:
            entries.append((ex.position, ex.name, side, ex.planned_reps))
        planned_s += ex.planned_dose_s
    return planned_s, entries


class Progress:
    """Credits reps as playback passes their ends, and tells a log about each."""

    def __init__(self, plan: Plan, open_log: Callable[[], SessionLog], start_s: float = 0.0):
        self.plan, self._open_log = plan, open_log
        self.log: SessionLog | None = None
        self._doses: list[Step] = [s for s in plan.steps if s.kind.is_dose]
        self._dose_ends_s = [s.end_s for s in self._doses]  # in time order, so a poll bisects instead of scanning
        self._heard_s = start_s
        self._credited: set[int] = set()  # indexes into _doses, so a rep heard twice counts once
        self.skipped_positions: set[int] = set()  # exercises with a side left out with `n`

    def replan(self, plan: Plan) -> None:
        """A newer plan of the same session (a live session's sentences made since): the same doses, retimed."""
        self.plan = plan
        self._doses = [s for s in plan.steps if s.kind.is_dose]
        self._dose_ends_s = [s.end_s for s in self._doses]

    def started(self) -> None:
        """The first sound is playing: the session exists from now on, so the log is opened."""
        if self.log is None:
            self.log = self._open_log()

    def heard(self, position_s: float) -> None:
        """Playback has run without a jump from the last position up to position_s."""
        if position_s <= self._heard_s or self.log is None:
            return
        for i in self._ending_between(self._heard_s, position_s):
            if i not in self._credited:
                self._credited.add(i)
                step = self._doses[i]
                self.log.rep_done(step.index, step.side, step.duration_s)  # type: ignore[arg-type]
        self._heard_s = position_s

    def jumped(self, from_s: float, to_s: float) -> None:
        """Playback moved from from_s to to_s without playing what lies between."""
        self.heard(from_s)
        if to_s > from_s and self.log is not None:
            skipped: list[tuple[int, str | None]] = []
            for i in self._ending_between(from_s, to_s):
                side = (self._doses[i].index, self._doses[i].side)
                if i not in self._credited and side not in skipped:
                    skipped.append(side)  # type: ignore[arg-type]
            for position, side in skipped:
                self.log.skipped(position, side)
                self.skipped_positions.add(position)
        self._heard_s = to_s

    def _ending_between(self, after_s: float, until_s: float) -> range:
        """Indexes of the doses that end after after_s and by until_s."""
        return range(bisect.bisect_right(self._dose_ends_s, after_s),
                     bisect.bisect_right(self._dose_ends_s, until_s + 1e-9))

    def finish(self, outcome: Outcome) -> None:
        """The session ended this way."""
        if self.log is not None:
            self.log.finish(outcome)
