"""What the live player calls to log a session: it never raises, and warns once when the log fails."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from coach.clock import SystemClock, WallClock, local_iso
from coach.log.book import DEFAULT_TIMEOUT_S, Logbook, default_path, describe_problem
from coach.routine import Routine

ExerciseEntry = tuple[int, str, "str | None", int]  # (position, name, side, planned reps x sets)


def warn_on_stderr(message: str) -> None:
    """Print one warning line on stderr."""
    print(message, file=sys.stderr, flush=True)


def planned_entries(routine: Routine, from_position: int = 1) -> tuple[float, list[ExerciseEntry]]:
    """Planned seconds of exercise (holds and work) and one entry per exercise side, from this position on."""
    planned_s = 0.0
    entries: list[ExerciseEntry] = []
    for position, ex in enumerate(routine.exercises, start=1):
        if position < from_position:
            continue  # a session started with --from plans only the rest
        for side in ex.sides or (None,):
            entries.append((position, ex.name, side, ex.reps * ex.sets))
            planned_s += ex.reps * ex.sets * ex.dose_s
    return planned_s, entries


class NullLogger:
    """Logs nothing (coach run --no-log); the same methods as SessionLogger."""

    session_id: int | None = None
    logging = False

    def rep_done(self, position: int, side: str | None, dose_s: float) -> None:
        """Does nothing."""

    def skipped(self, position: int, side: str | None) -> None:
        """Does nothing."""

    def finish(self, outcome: str) -> None:
        """Does nothing."""

    def set_pain(self, pain: int | None, note: str | None = None) -> None:
        """Does nothing."""

    def close(self) -> None:
        """Does nothing."""


class SessionLogger:
    """Logs one live session as it goes; after the first failure it warns once and goes quiet."""

    def __init__(self, log: Logbook | None, session_id: int | None, path: Path, clock: WallClock,
                 warn: Callable[[str], None]):
        self._log, self.session_id, self.path = log, session_id, path
        self._clock, self._warn = clock, warn
        self._finished = False

    @property
    def logging(self) -> bool:
        """Whether the session is still being logged."""
        return self._log is not None

    @classmethod
    def start(cls, routine_id: str, title: str, language: str, voice: str | None, rate_wpm: int,
              planned_s: float, exercises: Iterable[ExerciseEntry], clock: WallClock | None = None, *,
              path: Path | None = None, timeout_s: float = DEFAULT_TIMEOUT_S,
              warn: Callable[[str], None] = warn_on_stderr) -> SessionLogger:
        """Open the log and insert the session as 'interrupted'; on failure, a quiet logger and one warning."""
        clock = clock or SystemClock()
        logger = cls(None, None, path or Path("?"), clock, warn)
        try:
            logger.path = path = path or default_path()
            log = Logbook(path, timeout_s)
            try:
                logger.session_id = log.start_session(routine_id, title, language, voice, rate_wpm,
                                                      local_iso(clock.now()), planned_s, list(exercises))
            except BaseException:
                log.close()
                raise
            logger._log = log
        except Exception as exc:  # logging never stops a session
            logger._fail(exc)
        return logger

    def rep_done(self, position: int, side: str | None, dose_s: float) -> None:
        """One rep (hold or work period) of this exercise side has ended."""
        self._write(lambda log, sid, at: log.rep_done(sid, position, side, dose_s, at))

    def skipped(self, position: int, side: str | None) -> None:
        """The person moved on from this exercise side before its reps were done."""
        self._write(lambda log, sid, at: log.mark_skipped(sid, position, side, at))

    def finish(self, outcome: str) -> None:
        """The session ended: 'finished', 'stopped' (q) or 'interrupted' (Ctrl+C, SIGTERM, a crash)."""
        self._write(lambda log, sid, at: log.finish(sid, outcome, at))
        self._finished = True

    def set_pain(self, pain: int | None, note: str | None = None) -> None:
        """The pain score the person gave at the end (0-10), and an optional note."""
        if pain is None and note is None:
            return
        self._write(lambda log, sid, at: log.set_pain(sid, pain, note), after_finish=True)

    def close(self) -> None:
        """Close the log file."""
        if self._log is not None:
            self._log.close()
            self._log = None

    def _write(self, action: Callable[[Logbook, int, str], None], after_finish: bool = False) -> None:
        if self._log is None or self.session_id is None or (self._finished and not after_finish):
            return
        try:
            action(self._log, self.session_id, local_iso(self._clock.now()))
        except Exception as exc:  # logging never stops a session
            self._fail(exc)

    def _fail(self, exc: Exception) -> None:
        self.close()
        what = "the rest of this session is" if self.session_id is not None else "this session is"
        try:
            self._warn(f"coach: warning: the practice log at {self.path} {describe_problem(exc)}; {what} not logged")
        except Exception:
            pass
