"""The practice log: an SQLite file in the user data folder, one row per session and per exercise side."""

from __future__ import annotations

import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from coach.errors import CoachError
from coach.files import private_file, private_folder
from coach.log.schema import MIGRATIONS, SCHEMA_VERSION
from coach.i18n import _

OUTCOMES = ("finished", "stopped", "interrupted", "partial")  # partial: a session added by hand, not all done
SOURCES = ("live", "manual")  # manual: added with `coach log add`, done away from the computer
DEFAULT_TIMEOUT_S = 5.0

class LogbookError(CoachError):
    """The practice log cannot be opened, read or written."""

    def __init__(self, path: Path, problem: str):
        self.path, self.problem = path, problem
        super().__init__(_("the practice log at {path} {problem}").format(path=path, problem=problem))


def default_path() -> Path:
    """Where the practice log lives: log.sqlite3 in the user data folder."""
    from platformdirs import user_data_dir  # an edge dependency, only needed here

    return Path(user_data_dir("coach")) / "log.sqlite3"


def describe_problem(exc: BaseException) -> str:
    """What is wrong with the log, in words that finish 'the practice log at PATH ...'."""
    if isinstance(exc, LogbookError):
        return exc.problem
    if isinstance(exc, OSError):
        return _("cannot be created ({reason})").format(reason=exc.strerror or exc)
    text = str(exc) or type(exc).__name__
    lowered = text.lower()
    if "locked" in lowered or "busy" in lowered:
        return _("is locked by another program")
    if "not a database" in lowered or "malformed" in lowered or "corrupt" in lowered:
        return _("is damaged ({reason})").format(reason=text)
    if any(word in lowered for word in ("readonly", "read-only", "unable to open", "disk i/o", "full")):
        return _("cannot be written ({reason})").format(reason=text)
    return _("cannot be used ({reason})").format(reason=text)


@dataclass(frozen=True)
class LoggedExercise:
    """One exercise side of a logged session."""

    position: int
    name: str
    side: str | None
    planned_reps: int
    done_reps: int
    skipped: bool


@dataclass(frozen=True)
class LoggedSession:
    """One logged session, with its exercise sides in order."""

    id: int
    routine: str
    title: str
    language: str
    voice: str | None
    rate_wpm: int
    started_at: str
    ended_at: str | None
    planned_s: float
    done_s: float
    outcome: str
    pain: int | None
    note: str | None
    exercises: tuple[LoggedExercise, ...] = ()
    source: str = "live"

    @property
    def started(self) -> datetime:
        """started_at as an aware datetime, in the local time it was logged in."""
        return datetime.fromisoformat(self.started_at)

    @property
    def length_s(self) -> float | None:
        """Wall-clock seconds from start to the last thing logged (None when nothing was)."""
        if self.ended_at is None:
            return None
        return (datetime.fromisoformat(self.ended_at) - self.started).total_seconds()

    def to_json(self) -> dict:
        """The session as `coach history --json` prints it."""
        return {
            "id": self.id, "routine": self.routine, "title": self.title, "language": self.language,
            "voice": self.voice, "rate_wpm": self.rate_wpm, "started_at": self.started_at,
            "ended_at": self.ended_at, "outcome": self.outcome, "planned_s": self.planned_s,
            "done_s": self.done_s, "pain": self.pain, "note": self.note,
            "source": self.source, "exercises": [asdict(e) for e in self.exercises],
        }


def notice_on_stderr(message: str) -> None:
    """Print one notice line on stderr."""
    print(message, file=sys.stderr, flush=True)


def make_log_private(path: Path) -> list[str]:
    """Give the log's folder mode 0700 and its files 0600, creating the folder and an empty log if missing.

    Returns the names of what was open to other users before (empty for a new or already private log).
    SQLite gives the -wal and -shm files it creates the mode of the log file itself.
    """
    opened = [f"{path.parent.name}/"] if private_folder(path.parent) else []
    if private_file(path):
        opened.append(path.name)
    for suffix in ("-wal", "-shm", "-journal"):
        companion = path.with_name(path.name + suffix)
        try:
            if companion.exists() and private_file(companion):
                opened.append(companion.name)
        except FileNotFoundError:
            pass  # SQLite removed it meanwhile
    return opened


class Logbook:
    """An open practice log; every public method raises LogbookError and nothing else from SQLite."""

    def __init__(self, path: Path, timeout_s: float = DEFAULT_TIMEOUT_S,
                 notice: Callable[[str], None] = notice_on_stderr):
        self.path = path
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        with self._guard():
            opened = make_log_private(path)
            if opened:
                notice(_("coach: the practice log at {path} could be read by other users ({files}); "
                         "it is now private to you").format(path=path, files=", ".join(opened)))
            # check_same_thread off: the live player may log from another thread; self._lock serialises.
            self._conn = sqlite3.connect(path, timeout=timeout_s, isolation_level=None, check_same_thread=False)
            _use_wal(self._conn, timeout_s)
            self._conn.execute("PRAGMA synchronous=NORMAL")  # WAL survives a killed process without fsync
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._migrate()

    def close(self) -> None:
        """Close the connection (errors on close are of no interest)."""
        if self._conn is not None:
            try:
                self._conn.close()
            except sqlite3.Error:
                pass
            self._conn = None

    def __enter__(self) -> Logbook:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    @contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            with self._lock:
                yield
        except LogbookError:
            self.close()
            raise
        except (sqlite3.Error, OSError) as exc:
            self.close()
            raise LogbookError(self.path, describe_problem(exc)) from exc

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction, taken at once so a busy log waits instead of failing halfway."""
        with self._guard():
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                _rollback(conn)
                raise
            conn.execute("COMMIT")

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise LogbookError(self.path, _("is closed after an earlier error"))
        return self._conn

    def _version(self) -> int:
        version = self._connection().execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise LogbookError(self.path, _("was written by a newer coach (schema version {version}; "
                                            "this one knows up to {known})").format(version=version, known=SCHEMA_VERSION))
        return version

    def _migrate(self) -> None:
        if self._version() == SCHEMA_VERSION:
            return
        conn = self._connection()
        conn.execute("PRAGMA foreign_keys=OFF")  # a rebuilt table must not cascade-delete its exercises
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = self._version()  # again, inside the lock: another process may have migrated meanwhile
            for step in range(version + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[step]:
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            if conn.execute("PRAGMA foreign_key_check").fetchone() is not None:
                raise LogbookError(self.path, _("has exercises of sessions that are not in it"))
        except BaseException:
            _rollback(conn)
            raise
        conn.execute("COMMIT")
        conn.execute("PRAGMA foreign_keys=ON")

    # --- writing ------------------------------------------------------------------------------

    def start_session(self, routine: str, title: str, language: str, voice: str | None, rate_wpm: int,
                      started_at: str, planned_s: float,
                      exercises: Iterable[tuple[int, str, str | None, int]]) -> int:
        """Insert a session as 'interrupted' with its exercise sides; return its id."""
        with self._transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO sessions (routine, title, language, voice, rate_wpm, started_at, planned_s) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (routine, title, language, voice, int(rate_wpm), started_at, float(planned_s)))
            session_id = cursor.lastrowid
            conn.executemany(
                "INSERT INTO session_exercises (session_id, position, name, side, planned_reps) "
                "VALUES (?, ?, ?, ?, ?)",
                [(session_id, int(p), name, side, int(reps)) for p, name, side, reps in exercises])
        return int(session_id)  # type: ignore[arg-type]

    def rep_done(self, session_id: int, position: int, side: str | None, dose_s: float, at: str) -> None:
        """Count one rep of an exercise side; repeats beyond the planned reps are not counted again."""
        with self._transaction() as conn:
            counted = conn.execute(
                "UPDATE session_exercises SET done_reps = done_reps + 1, "
                "skipped = CASE WHEN done_reps + 1 >= planned_reps THEN 0 ELSE skipped END "
                "WHERE session_id = ? AND position = ? AND side IS ? AND done_reps < planned_reps",
                (session_id, position, side)).rowcount
            conn.execute("UPDATE sessions SET done_s = done_s + ?, ended_at = ? WHERE id = ?",
                         (float(dose_s) if counted else 0.0, at, session_id))

    def mark_skipped(self, session_id: int, position: int, side: str | None, at: str) -> None:
        """Mark an exercise side as skipped, unless all its reps were already done."""
        with self._transaction() as conn:
            conn.execute("UPDATE session_exercises SET skipped = 1 "
                         "WHERE session_id = ? AND position = ? AND side IS ? AND done_reps < planned_reps",
                         (session_id, position, side))
            conn.execute("UPDATE sessions SET ended_at = ? WHERE id = ?", (at, session_id))

    def finish(self, session_id: int, outcome: str, at: str) -> None:
        """Record how the session ended."""
        if outcome not in OUTCOMES:
            raise LogbookError(self.path, _("cannot record the outcome '{outcome}' (not one of {outcomes})").format(
                outcome=outcome, outcomes=", ".join(OUTCOMES)))
        with self._transaction() as conn:
            conn.execute("UPDATE sessions SET outcome = ?, ended_at = ? WHERE id = ?", (outcome, at, session_id))

    def set_pain(self, session_id: int, pain: int | None, note: str | None = None) -> None:
        """Set the pain score (None leaves it) and the note (None leaves it) of a session."""
        with self._transaction() as conn:
            if pain is not None:
                conn.execute("UPDATE sessions SET pain = ? WHERE id = ?", (int(pain), session_id))
            if note is not None:
                conn.execute("UPDATE sessions SET note = ? WHERE id = ?", (note, session_id))

    def add_session(self, routine: str, title: str, language: str, started_at: str, ended_at: str,
                    planned_s: float, done_s: float, outcome: str, pain: int | None, note: str | None) -> int:
        """Insert a whole session done elsewhere (source 'manual', no exercise rows); return its id."""
        if outcome not in OUTCOMES:
            raise LogbookError(self.path, _("cannot record the outcome '{outcome}' (not one of {outcomes})").format(
                outcome=outcome, outcomes=", ".join(OUTCOMES)))
        with self._transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO sessions (routine, title, language, voice, rate_wpm, started_at, ended_at, planned_s, "
                "done_s, outcome, pain, note, source) VALUES (?, ?, ?, NULL, 0, ?, ?, ?, ?, ?, ?, ?, 'manual')",
                (routine, title, language, started_at, ended_at, float(planned_s), float(done_s), outcome,
                 pain, note))
        return int(cursor.lastrowid)  # type: ignore[arg-type]

    def remove_session(self, session_id: int) -> bool:
        """Delete a session and its exercise sides; False when there was none of this id."""
        with self._transaction() as conn:
            return conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,)).rowcount > 0

    # --- reading ------------------------------------------------------------------------------

    def sessions(self, routine: str | None = None) -> list[LoggedSession]:
        """Logged sessions, newest start first (compared as instants, whatever their offsets)."""
        with self._guard():
            conn = self._connection()
            where, args = ("WHERE routine = ?", (routine,)) if routine is not None else ("", ())
            rows = conn.execute(
                "SELECT id, routine, title, language, voice, rate_wpm, started_at, ended_at, planned_s, done_s, "
                f"outcome, pain, note, source FROM sessions {where}", args).fetchall()
            sides: dict[int, list[LoggedExercise]] = {}
            for row in conn.execute(
                    "SELECT session_id, position, name, side, planned_reps, done_reps, skipped "
                    "FROM session_exercises ORDER BY session_id, position, rowid"):
                sides.setdefault(row[0], []).append(LoggedExercise(*row[1:6], bool(row[6])))
        found = [self._checked(LoggedSession(*row[:-1], exercises=tuple(sides.get(row[0], ())), source=row[-1]))
                 for row in rows]
        return sorted(found, key=lambda s: (s.started.timestamp(), s.id), reverse=True)

    def _checked(self, session: LoggedSession) -> LoggedSession:
        """The session, if what the views compute with reads back; else LogbookError (a damaged log)."""
        for column in ("started_at", "ended_at"):
            value = getattr(session, column)
            if column == "ended_at" and value is None:
                continue
            try:
                moment = datetime.fromisoformat(value)
            except (TypeError, ValueError):
                moment = None
            if moment is None or moment.tzinfo is None:
                raise LogbookError(self.path, _("is damaged (session {id} has {column} {value}, not a time with its "
                                                "UTC offset)").format(id=session.id, column=column, value=repr(value)))
        for column in ("rate_wpm", "planned_s", "done_s"):
            if isinstance(getattr(session, column), (str, bytes)) or getattr(session, column) is None:
                raise LogbookError(self.path, _("is damaged (session {id} has {column} {value}, not a number)").format(
                    id=session.id, column=column, value=repr(getattr(session, column))))
        return session

    def latest_id(self) -> int | None:
        """The id of the session that started last, None when the log is empty."""
        found = self.sessions()
        return found[0].id if found else None

    def has_session(self, session_id: int) -> bool:
        """Whether a session of this id is in the log."""
        with self._guard():
            row = self._connection().execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchone()
        return row is not None


def _use_wal(conn: sqlite3.Connection, timeout_s: float) -> None:
    """Switch the file to WAL mode (once per file), waiting for a process that is creating it meanwhile."""
    deadline = time.monotonic() + timeout_s
    while conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        try:
            conn.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError as exc:
            # SQLite reports this lock at once instead of calling the busy handler, so wait here.
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


def _rollback(conn: sqlite3.Connection) -> None:
    """Roll back, unless SQLite already has (some errors end the transaction themselves)."""
    try:
        conn.execute("ROLLBACK")
    except sqlite3.Error:
        pass


def open_for_reading(path: Path | None = None) -> Logbook | None:
    """The log at path (default: the user's), None when nothing has been logged yet."""
    path = default_path() if path is None else path
    if not path.exists():
        return None
    return Logbook(path)
