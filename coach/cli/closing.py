"""The close of a live session says what was skipped: once `n` leaves an exercise out, the close is
planned again in the background to name it, and playback switches to that plan before the close."""

from __future__ import annotations

import threading
from collections.abc import Callable

from coach.plan.model import Plan
from coach.live.progress import Progress
from coach.session import Session, build_session

MIN_SEAM_GAP_S = 0.1  # the switch happens in a silence at least this long

Rebuild = Callable[[Session, tuple[str, ...]], Session]


def rebuild_close(session: Session, skipped: tuple[str, ...]) -> Session:
    """The same session with a close that names the skipped exercises (only new sentences are rendered).

    It keeps the session's level, so what plays before the switch is the same audio.
    """
    rebuilt = build_session(session.routine, session.options, close_for=(skipped, session.plan.intro_minutes))
    rebuilt.lift_db = session.lift_db if session.lift_db is not None else session.mixer().lift_db
    return rebuilt


def switch_point_s(old: Plan, new: Plan) -> float | None:
    """A moment in a silence before which both plans sound the same, or None when there is none."""
    previous_end_s = 0.0
    for a, b in zip(old.cues, new.cues):
        if a != b:
            if a.at_s != b.at_s or a.at_s - previous_end_s < MIN_SEAM_GAP_S:
                return None
            return (previous_end_s + a.at_s) / 2
        previous_end_s = max(previous_end_s, a.end_s)
    return None


class SkippedClose:
    """Asked on every turn of the live loop: a (plan, mixer, from_s) to switch to once one is ready."""

    def __init__(self, session: Session, progress: Progress, rebuild: Rebuild = rebuild_close):
        self.current, self.progress, self.rebuild = session, progress, rebuild
        self._asked: frozenset[int] = frozenset()
        self._thread: threading.Thread | None = None
        self._ready: Session | None = None

    def __call__(self) -> tuple[Plan, object, float] | None:
        """The switch to make now, or None."""
        if self._thread is not None and not self._thread.is_alive():
            self._thread = None
            ready, self._ready = self._ready, None
            if ready is not None:
                from_s = switch_point_s(self.current.plan, ready.plan)
                if from_s is not None:
                    self.current = ready
                    return ready.plan, ready.mixer(), from_s
        skipped = frozenset(self.progress.skipped_positions)
        if self._thread is None and skipped != self._asked:
            self._asked = skipped
            names = tuple(self.current.plan.exercise(p).name for p in sorted(skipped))
            self._thread = threading.Thread(target=self._build, args=(names,), daemon=True)
            self._thread.start()
        return None

    def _build(self, names: tuple[str, ...]) -> None:
        try:
            self._ready = self.rebuild(self.current, names)
        except Exception:  # the close then says what it said before; the session itself goes on
            self._ready = None
