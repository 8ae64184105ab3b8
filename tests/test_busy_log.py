"""Nothing waits where a person is waiting: a log another program holds locked never holds up a live
session, and Ctrl+C says the session stopped."""

from __future__ import annotations

import io
import sqlite3
import time
from datetime import datetime, timedelta, timezone

import pytest

from coach.cli.runner import run_logged
from coach.log.book import Logbook, default_path
from coach.log.recorder import CLOSE_WAIT_S, BackgroundLogger
from coach.routine import load_routine
from coach.session import Session
from clocks import FixedClock
from test_live import FakeClock, FakeOutput, ScriptedKeys, make_plan


@pytest.fixture
def log_path(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    path = default_path()
    with Logbook(path):
        pass  # an existing log, as after the first session
    return path


def a_session() -> Session:
    plan, sounds = make_plan()
    return Session(load_routine("back-pain-feet"), plan, {}, sounds, None)


def play(presses) -> tuple[float, str, BaseException | None]:
    """Runs a session on a fake clock (it takes no real time); returns the wall seconds, stderr and any error."""
    clock, err = FakeClock(100.0), io.StringIO()
    keys = ScriptedKeys(clock, [(100.0 + at, key) for at, key in presses])
    began, error = time.monotonic(), None
    try:
        run_logged(a_session(), 0.0, quiet=False, log=True, stdin=io.StringIO(), stderr=err,
                   output=FakeOutput(clock), clock=clock, keys=keys)
    except BaseException as exc:
        error = exc
    return time.monotonic() - began, err.getvalue(), error


@pytest.mark.parametrize("key", ["q", "^C"])
def test_a_locked_log_does_not_hold_up_quit_or_ctrl_c(log_path, key):
    blocker = sqlite3.connect(log_path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another program is writing to the log
    try:
        wall_s, err, error = play([(9.0, key)])
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert wall_s < CLOSE_WAIT_S + 0.5, err  # not SQLite's 5 s busy timeout, nor one per write
    assert isinstance(error, KeyboardInterrupt) if key == "^C" else error is None
    assert "session stopped after 0:09" in err
    warnings = [line for line in err.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "busy" in warnings[0] and str(log_path) in warnings[0], err


def test_writes_held_up_by_a_busy_log_keep_the_moment_they_were_asked_for(log_path):
    clock = FixedClock(datetime(2026, 11, 16, 8, 5, tzinfo=timezone(timedelta(hours=1))))
    blocker = sqlite3.connect(log_path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    logger = BackgroundLogger.start("short", "Short", "en", None, 160, 20, [(1, "Press", None, 2)], clock,
                                    warn=pytest.fail, close_wait_s=10.0)
    clock.advance(30)
    logger.rep_done(1, None, 10)
    clock.advance(30)
    logger.finish("finished")
    clock.advance(600)  # the other program lets go much later
    blocker.execute("ROLLBACK")
    blocker.close()
    logger.close()
    with Logbook(log_path) as log:
        (s,) = log.sessions()
    assert (s.outcome, s.done_s, s.started_at, s.length_s) == ("finished", 10, "2026-11-16T08:05:00+01:00", 60)


def test_ctrl_c_says_the_session_stopped(log_path):
    _, err, error = play([(3.0, "^C")])
    assert isinstance(error, KeyboardInterrupt)
    assert err.splitlines()[-1] == "session stopped after 0:03"
    with Logbook(log_path) as log:
        (s,) = log.sessions()
    assert s.outcome == "interrupted"
