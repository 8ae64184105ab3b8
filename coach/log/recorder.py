"""What the live player calls to log a session: it never raises, never waits on a busy log, and warns once when the log fails."""

from __future__ import annotations

import queue
import sys
import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

from coach.clock import SystemClock, WallClock, local_iso
from coach.log.book import DEFAULT_TIMEOUT_S, Logbook, default_path, describe_problem
from coach.routine import Routine
from coach.i18n import _

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
        if self.session_id is not None:
            text = _("coach: warning: the practice log at {path} {problem}; the rest of this session is not logged")
        else:
            text = _("coach: warning: the practice log at {path} {problem}; this session is not logged")
        try:
            self._warn(text.format(path=self.path, problem=describe_problem(exc)))
        except Exception:
            pass


CLOSE_WAIT_S = 0.5  # the longest a finished session waits for its last log writes


class _Stamped:
    """A clock that gives the moment the write being done was asked for, not when it gets done."""

    def __init__(self):
        self.at: datetime | None = None

    def now(self) -> datetime:
        """The moment of the write being done."""
        assert self.at is not None
        return self.at


class BackgroundLogger:
    """A SessionLogger working on a thread of its own, so a log another program holds locked never holds
    up the sound or the keys; the same methods. Its warnings are printed by the thread that calls it."""

    def __init__(self, start: Callable[[WallClock, Callable[[str], None]], SessionLogger], path: Path,
                 clock: WallClock, warn: Callable[[str], None], close_wait_s: float = CLOSE_WAIT_S):
        self.path, self._clock, self._warn, self._close_wait_s = path, clock, warn, close_wait_s
        self._stamped = _Stamped()
        self._warnings: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._logger: SessionLogger | None = None
        self._given_up = False
        self._closed = False
        self._thread = threading.Thread(target=self._drain, name="coach-log", daemon=True)
        self._queue.put((self._clock.now(), lambda _: self._open(start)))
        self._thread.start()

    @classmethod
    def start(cls, routine_id: str, title: str, language: str, voice: str | None, rate_wpm: int,
              planned_s: float, exercises: Iterable[ExerciseEntry], clock: WallClock | None = None, *,
              path: Path | None = None, timeout_s: float = DEFAULT_TIMEOUT_S,
              warn: Callable[[str], None] = warn_on_stderr,
              close_wait_s: float = CLOSE_WAIT_S) -> BackgroundLogger:
        """As SessionLogger.start, but it returns at once: the log is opened and written on the logger's thread."""
        entries = list(exercises)
        try:
            path = path or default_path()
        except Exception:  # SessionLogger.start warns about it on the logger's thread
            pass

        def start(stamped: WallClock, thread_warn: Callable[[str], None]) -> SessionLogger:
            return SessionLogger.start(routine_id, title, language, voice, rate_wpm, planned_s, entries, stamped,
                                       path=path, timeout_s=timeout_s, warn=thread_warn)

        return cls(start, path or Path("?"), clock or SystemClock(), warn, close_wait_s)

    @property
    def logging(self) -> bool:
        """Whether the session is still being logged (as far as is known yet)."""
        return not self._given_up and (self._logger is None or self._logger.logging)

    def rep_done(self, position: int, side: str | None, dose_s: float) -> None:
        """One rep (hold or work period) of this exercise side has ended."""
        self._put(lambda log: log.rep_done(position, side, dose_s))

    def skipped(self, position: int, side: str | None) -> None:
        """The person moved on from this exercise side before its reps were done."""
        self._put(lambda log: log.skipped(position, side))

    def finish(self, outcome: str) -> None:
        """The session ended: 'finished', 'stopped' (q) or 'interrupted' (Ctrl+C, SIGTERM, a crash)."""
        self._put(lambda log: log.finish(outcome))

    def set_pain(self, pain: int | None, note: str | None = None) -> None:
        """The pain score the person gave at the end (0-10), and an optional note."""
        self._put(lambda log: log.set_pain(pain, note))

    def close(self) -> None:
        """Let the writes asked for finish, waiting a moment at most; then say once if some did not."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(None)
        self._thread.join(self._close_wait_s)
        self._say_warnings()
        if self._thread.is_alive():
            self._given_up = True
            self._warn(_("coach: warning: the practice log at {path} is busy (another program holds it); "
                         "the end of this session may not be logged").format(path=self.path))

    def _put(self, action: Callable[[SessionLogger], None]) -> None:
        self._say_warnings()
        if not self._closed:
            self._queue.put((self._clock.now(), action))

    def _say_warnings(self) -> None:
        while not self._given_up:
            try:
                self._warn(self._warnings.get_nowait())
            except queue.Empty:
                return

    def _open(self, start: Callable[[WallClock, Callable[[str], None]], SessionLogger]) -> None:
        self._logger = start(self._stamped, self._warnings.put)

    def _drain(self) -> None:
        while (item := self._queue.get()) is not None:
            self._stamped.at, action = item
            try:
                action(self._logger)
            except Exception as exc:  # logging never stops a session (SessionLogger already catches its own)
                self._warnings.put(_("coach: warning: the practice log failed ({reason}); this session may not be "
                                     "logged").format(reason=exc))
        if self._logger is not None:
            self._logger.close()
