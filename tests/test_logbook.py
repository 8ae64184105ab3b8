"""The practice log: written as the session goes, safe from kills and a second process, never in the way."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from clocks import FixedClock
from coach.log.book import Logbook, LogbookError, default_path, open_for_reading
from coach.log.schema import SCHEMA_VERSION
from coach.routine import load_routine
from coach.log.recorder import NullLogger, SessionLogger, planned_entries

CET = timezone(timedelta(hours=1))
START = datetime(2026, 11, 16, 8, 5, tzinfo=CET)
EXERCISES = [(1, "Press", None, 4), (2, "March", "left", 2), (2, "March", "right", 2)]
PLANNED_S = 4 * 3 + 2 * 10 + 2 * 10


@pytest.fixture
def log_path(tmp_path, monkeypatch):
    """The default log path, inside a private data folder."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return default_path()


class Warnings(list):
    """Collects warning lines instead of printing them."""

    def __call__(self, line: str) -> None:
        self.append(line)


def start(clock=None, **kwargs) -> SessionLogger:
    kwargs.setdefault("warn", Warnings())
    return SessionLogger.start("short", "Short test", "en", "en-gb", 170, PLANNED_S, EXERCISES,
                               clock or FixedClock(START), **kwargs)


def only_session(path):
    with Logbook(path) as log:
        sessions = log.sessions()
    assert len(sessions) == 1
    return sessions[0]


def test_the_log_is_in_the_user_data_folder(log_path, tmp_path):
    assert log_path == tmp_path / "data" / "coach" / "log.sqlite3"


def test_a_session_is_written_at_the_start_and_after_each_rep(log_path):
    clock = FixedClock(START)
    logger = start(clock)
    s = only_session(log_path)
    assert (s.routine, s.title, s.language, s.voice, s.rate_wpm) == ("short", "Short test", "en", "en-gb", 170)
    assert (s.started_at, s.ended_at, s.outcome, s.planned_s, s.done_s) == (
        "2026-11-16T08:05:00+01:00", None, "interrupted", PLANNED_S, 0)
    assert [(e.position, e.name, e.side, e.planned_reps, e.done_reps, e.skipped) for e in s.exercises] == [
        (1, "Press", None, 4, 0, False), (2, "March", "left", 2, 0, False), (2, "March", "right", 2, 0, False)]
    for rep in range(1, 4):
        clock.advance(5)
        logger.rep_done(1, None, 3)
        s = only_session(log_path)  # a second connection sees each rep at once
        assert (s.exercises[0].done_reps, s.done_s, s.outcome) == (rep, 3 * rep, "interrupted")
        assert s.ended_at == (START + timedelta(seconds=5 * rep)).isoformat()
    logger.skipped(1, None)
    logger.rep_done(2, "left", 10)
    clock.advance(60)
    logger.finish("stopped")
    logger.set_pain(3, "a little stiff")
    logger.rep_done(2, "right", 10)  # after the end: ignored
    s = only_session(log_path)
    assert (s.outcome, s.done_s, s.pain, s.note, s.length_s) == ("stopped", 19, 3, "a little stiff", 75)
    assert [(e.done_reps, e.skipped) for e in s.exercises] == [(3, True), (1, False), (0, False)]


def test_repeated_reps_count_once_and_a_completed_side_is_not_skipped(log_path):
    logger = start()
    for _ in range(6):  # going back with 'p' repeats reps that were already done
        logger.rep_done(1, None, 3)
    logger.skipped(1, None)
    logger.skipped(2, "left")
    logger.rep_done(2, "left", 10)
    logger.rep_done(2, "left", 10)  # the side is done after all: no longer skipped
    logger.finish("finished")
    s = only_session(log_path)
    assert [(e.done_reps, e.skipped) for e in s.exercises] == [(4, False), (2, False), (0, False)]
    assert s.done_s == 4 * 3 + 2 * 10


def test_planned_entries_list_each_side_with_reps_times_sets():
    planned_s, entries = planned_entries(load_routine("back-pain-feet"))
    assert entries[0] == (1, "Toe presses", None, 10)
    assert [e for e in entries if e[0] == 5] == [(5, "Toe pencil pickups", "right foot", 5),
                                                 (5, "Toe pencil pickups", "left foot", 5)]
    assert len(entries) == 1 + 1 + 4 + 1 + 2
    assert planned_s == 10 * 3 + 5 * 20 + 4 * 10 + 10 * 5 + 2 * 5 * 10
    assert planned_entries(load_routine("back-pain-feet"), from_position=4) == (
        10 * 5 + 2 * 5 * 10, [e for e in entries if e[0] >= 4])


def _log_and_die(data_home: str) -> None:
    os.environ["XDG_DATA_HOME"] = data_home
    logger = start()
    for _ in range(3):
        logger.rep_done(1, None, 3)
    os.kill(os.getpid(), signal.SIGKILL)


def test_kill_9_leaves_an_interrupted_session_with_what_it_did(log_path):
    child = multiprocessing.get_context("fork").Process(target=_log_and_die, args=(os.environ["XDG_DATA_HOME"],))
    child.start()
    child.join(10)
    assert child.exitcode == -signal.SIGKILL
    s = only_session(log_path)
    assert (s.outcome, s.done_s, s.exercises[0].done_reps) == ("interrupted", 9, 3)


def _log_alongside(data_home: str, barrier, routine: str) -> None:
    os.environ["XDG_DATA_HOME"] = data_home
    warnings = Warnings()
    barrier.wait()
    logger = SessionLogger.start(routine, routine, "en", None, 160, 60, [(1, "Press", None, 20)],
                                 FixedClock(START), warn=warnings)
    for _ in range(20):
        logger.rep_done(1, None, 3)
    logger.finish("finished")
    os._exit(len(warnings))


def test_two_processes_log_at_once(log_path):
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(2)
    children = [context.Process(target=_log_alongside, args=(os.environ["XDG_DATA_HOME"], barrier, name))
                for name in ("one", "two")]
    for child in children:
        child.start()
    for child in children:
        child.join(20)
    assert [child.exitcode for child in children] == [0, 0]  # no warnings either
    with Logbook(log_path) as log:
        sessions = log.sessions()
    assert sorted((s.routine, s.outcome, s.done_s, s.exercises[0].done_reps) for s in sessions) == [
        ("one", "finished", 60, 20), ("two", "finished", 60, 20)]


# The first schema exactly as version 1 shipped it; kept here so that the migration is tested from it.
VERSION_1 = """
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY, routine TEXT NOT NULL, title TEXT NOT NULL, language TEXT NOT NULL, voice TEXT,
    rate_wpm INTEGER NOT NULL, started_at TEXT NOT NULL, ended_at TEXT, planned_s REAL NOT NULL,
    done_s REAL NOT NULL DEFAULT 0,
    outcome TEXT NOT NULL DEFAULT 'interrupted' CHECK (outcome IN ('finished', 'stopped', 'interrupted')),
    pain INTEGER CHECK (pain BETWEEN 0 AND 10));
CREATE TABLE session_exercises (
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE, position INTEGER NOT NULL,
    name TEXT NOT NULL, side TEXT, planned_reps INTEGER NOT NULL, done_reps INTEGER NOT NULL DEFAULT 0);
CREATE INDEX session_exercises_by_session ON session_exercises(session_id, position);
CREATE INDEX sessions_by_routine ON sessions(routine);
INSERT INTO sessions VALUES (7, 'back-pain-feet', 'Feet first', 'en', NULL, 160, '2026-03-28T09:00:00+01:00',
    '2026-03-28T09:14:00+01:00', 420, 400, 'finished', 4);
INSERT INTO session_exercises VALUES (7, 1, 'Toe presses', NULL, 10, 10), (7, 5, 'Toe pencil pickups', 'left foot', 5, 3);
PRAGMA user_version = 1;
"""


def test_a_version_1_log_migrates_forward_and_keeps_its_sessions(log_path):
    log_path.parent.mkdir(parents=True)
    with sqlite3.connect(log_path) as conn:
        conn.executescript(VERSION_1)
    conn.close()
    with open_for_reading(log_path) as log:
        (old,) = log.sessions()
    assert (old.id, old.routine, old.outcome, old.done_s, old.pain, old.note, old.source) == (
        7, "back-pain-feet", "finished", 400, 4, None, "live")
    assert [(e.name, e.side, e.done_reps, e.skipped) for e in old.exercises] == [
        ("Toe presses", None, 10, False), ("Toe pencil pickups", "left foot", 3, False)]
    with sqlite3.connect(log_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
    conn.close()
    logger = start()
    logger.skipped(1, None)
    logger.finish("stopped")
    logger.set_pain(None, "after the upgrade")
    with Logbook(log_path) as log:
        new = log.sessions()[0]
    assert (new.id, new.note, new.exercises[0].skipped) == (8, "after the upgrade", True)


def test_a_damaged_log_gives_one_warning_and_the_logger_goes_quiet(log_path):
    log_path.parent.mkdir(parents=True)
    garbage = b"this is not an SQLite file " * 200
    log_path.write_bytes(garbage)
    warnings = Warnings()
    logger = start(warn=warnings)
    for _ in range(3):
        logger.rep_done(1, None, 3)
    logger.skipped(2, "left")
    logger.finish("finished")
    logger.set_pain(2)
    assert not logger.logging and logger.session_id is None
    assert warnings == [f"coach: warning: the practice log at {log_path} is damaged (file is not a database); "
                        "this session is not logged"]
    assert log_path.read_bytes() == garbage
    with pytest.raises(LogbookError, match="is damaged"):
        open_for_reading(log_path)


def test_a_log_from_a_newer_coach_is_left_alone_with_a_warning(log_path):
    log_path.parent.mkdir(parents=True)
    with sqlite3.connect(log_path) as conn:
        conn.execute("PRAGMA user_version = 99")
    conn.close()
    warnings = Warnings()
    logger = start(warn=warnings)
    logger.rep_done(1, None, 3)
    logger.finish("finished")
    assert len(warnings) == 1 and "newer coach (schema version 99" in warnings[0]
    assert "this session is not logged" in warnings[0]


def test_a_locked_log_warns_once_and_the_session_goes_on(log_path):
    warnings = Warnings()
    logger = start(warn=warnings, timeout_s=0.05)
    logger.rep_done(1, None, 3)
    blocker = sqlite3.connect(log_path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        logger.rep_done(1, None, 3)
        logger.rep_done(1, None, 3)
        assert warnings == [f"coach: warning: the practice log at {log_path} is locked by another program; "
                            "the rest of this session is not logged"]
        second = start(warn=warnings, timeout_s=0.05)
        assert warnings[1].endswith("is locked by another program; this session is not logged")
        assert not second.logging
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    logger.finish("finished")
    assert len(warnings) == 2
    s = only_session(log_path)
    assert (s.outcome, s.exercises[0].done_reps) == ("interrupted", 1)


def test_a_log_that_cannot_be_created_warns(tmp_path, capsys):
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    logger = SessionLogger.start("short", "Short test", "en", None, 160, PLANNED_S, EXERCISES, FixedClock(START),
                                 path=blocked / "coach" / "log.sqlite3")  # the default warning goes to stderr
    logger.rep_done(1, None, 3)
    logger.finish("finished")
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "cannot be created (Not a directory)" in err[0]
    assert err[0].startswith("coach: warning: the practice log at ")


def test_the_null_logger_writes_nothing(log_path):
    logger = NullLogger()
    logger.rep_done(1, None, 3)
    logger.skipped(1, None)
    logger.finish("finished")
    logger.set_pain(4)
    logger.close()
    assert not log_path.exists() and not logger.logging


def test_sessions_read_newest_first_by_instant_whatever_their_offsets(log_path):
    # 08:30 in UTC+2 is earlier than 08:00 in UTC+1
    for moment in (datetime(2026, 3, 29, 8, 0, tzinfo=CET), datetime(2026, 3, 29, 8, 30, tzinfo=timezone(timedelta(hours=2)))):
        start(FixedClock(moment)).finish("finished")
    with Logbook(log_path) as log:
        assert [s.started_at for s in log.sessions()] == ["2026-03-29T08:00:00+01:00", "2026-03-29T08:30:00+02:00"]
        assert log.latest_id() == 1
