"""A live session feeds the practice log: reps as they end, skips, how it ended; a bad log never stops it."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from coach.errors import AudioDeviceError
from coach.live.player import run_session
from coach.live.progress import Progress, planned_from
from coach.log.recorder import SessionLogger
from pulse import pulse_server  # noqa: F401 (fixture)
from test_live import FakeClock, FakeOutput, NoDeviceOutput, ScriptedKeys, make_mixer, make_plan


class RecordingLog:
    """Remembers every call a session made."""

    def __init__(self):
        self.calls = []

    def rep_done(self, position, side, dose_s):
        self.calls.append(("rep", position, side, dose_s))

    def skipped(self, position, side):
        self.calls.append(("skipped", position, side))

    def finish(self, outcome):
        self.calls.append(("finish", outcome))


def play(plan, sounds, presses=(), start_s=0.0, output=None):
    clock = FakeClock(100.0)
    log = RecordingLog()
    opened = []

    def open_log():
        opened.append(clock.now())
        return log

    keys = ScriptedKeys(clock, [(100.0 + at, key) for at, key in presses])
    result = run_session(plan, make_mixer(plan, sounds), start_s=start_s, output=output or FakeOutput(clock),
                         clock=clock, keys=keys, lead_in_s=0.0, progress=Progress(plan, open_log, start_s))
    return result, log.calls, opened


def test_a_whole_session_logs_every_rep_once_and_finishes():
    plan, sounds = make_plan()
    result, calls, opened = play(plan, sounds)
    assert result.finished and opened == [100.0]
    assert calls == [("rep", 1, None, 4.0), ("rep", 2, None, 4.0), ("finish", "finished")]


def test_pausing_mid_hold_credits_the_rep_once_when_it_is_heard_to_its_end():
    plan, sounds = make_plan()
    _, calls, _ = play(plan, sounds, presses=[(5.0, " "), (6.0, " "), (20.0, "p"), (20.5, "p")])
    reps = [c for c in calls if c[0] == "rep"]
    assert reps == [("rep", 1, None, 4.0), ("rep", 2, None, 4.0)]  # going back and hearing them again: once each


def test_skipping_with_n_marks_the_side_skipped_and_q_stops():
    plan, sounds = make_plan()
    result, calls, _ = play(plan, sounds, presses=[(3.0, "n"), (4.0, "q")])
    assert result.quit
    assert calls == [("skipped", 1, None), ("finish", "stopped")]


def test_no_sound_means_no_session_in_the_log():
    plan, sounds = make_plan()
    opened = []
    with pytest.raises(AudioDeviceError):
        run_session(plan, make_mixer(plan, sounds), output=NoDeviceOutput(), clock=FakeClock(),
                    keys=ScriptedKeys(FakeClock(), []), progress=Progress(plan, lambda: opened.append(1)))
    assert opened == []


def test_interrupted_session_is_logged_as_interrupted_with_its_reps():
    plan, sounds = make_plan()
    clock = FakeClock(100.0)
    log = RecordingLog()
    keys = ScriptedKeys(clock, [(109.0, "^C")])
    with pytest.raises(KeyboardInterrupt):
        run_session(plan, make_mixer(plan, sounds), output=FakeOutput(clock), clock=clock, keys=keys,
                    lead_in_s=0.0, progress=Progress(plan, lambda: log))
    assert log.calls == [("rep", 1, None, 4.0), ("finish", "interrupted")]


def test_planned_from_counts_only_what_is_ahead():
    plan, _ = make_plan()
    assert planned_from(plan, 0.0) == (8.0, [(1, "bridge", None, 1), (2, "plank", None, 1)])
    assert planned_from(plan, 10.0) == (4.0, [(2, "plank", None, 1)])


def test_a_damaged_log_warns_once_and_the_session_still_plays(tmp_path):
    path = tmp_path / "log.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    plan, sounds = make_plan()
    warnings = []
    clock = FakeClock(100.0)

    def open_log():
        planned_s, entries = planned_from(plan, 0.0)
        return SessionLogger.start("test", "Test", "en", None, 160, planned_s, entries, path=path,
                                   warn=warnings.append)

    result = run_session(plan, make_mixer(plan, sounds), output=FakeOutput(clock), clock=clock,
                         keys=ScriptedKeys(clock, []), lead_in_s=0.0, progress=Progress(plan, open_log))
    assert result.finished
    assert len(warnings) == 1 and "not logged" in warnings[0] and str(path) in warnings[0]


# --- the real CLI through a real audio server ---------------------------------------------------

REPS_ROUTINE = """\
title = "Reps"

[[exercises]]
name = "Press"
instructions = "Press."
setup_s = 1
reps = 8
hold_s = 1
rest_s = 1
"""


def history(env) -> list[dict]:
    done = subprocess.run([sys.executable, "-m", "coach", "history", "--json"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["sessions"]


def reps_done(log_path) -> int:
    """How many sessions in the log have at least one rep done (0 while there is no log yet)."""
    if not log_path.exists():
        return 0
    conn = sqlite3.connect(f"file:{log_path}?mode=ro", uri=True, timeout=1)
    try:
        return conn.execute("SELECT COUNT(DISTINCT session_id) FROM session_exercises WHERE done_reps > 0").fetchone()[0]
    except sqlite3.Error:
        return 0
    finally:
        conn.close()


def test_kill_9_part_way_leaves_an_interrupted_session_with_the_reps_it_did(pulse_server, tmp_path):
    routine = tmp_path / "reps.toml"
    routine.write_text(REPS_ROUTINE)
    env = dict(pulse_server.env, XDG_DATA_HOME=str(tmp_path / "data"))
    command = [sys.executable, "-m", "coach", "run", str(routine), "--rate", "400"]
    subprocess.run([sys.executable, "-m", "coach", "plan", str(routine), "--rate", "400"], env=env, check=True,
                   capture_output=True, timeout=120)  # warm the clip cache so the session starts at once
    first = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    second = subprocess.Popen(command + ["--quiet"], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    # Part way: once both sessions have logged their first hold (after about 10 s of introduction and
    # set-up), whatever the machine's load did to their start-up.
    log_path = tmp_path / "data" / "coach" / "log.sqlite3"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and reps_done(log_path) < 2:
        time.sleep(0.1)
    first.send_signal(signal.SIGKILL)
    second.send_signal(signal.SIGINT)
    first.wait(timeout=10)
    _, err = second.communicate(timeout=30)
    assert second.returncode == 130, err
    sessions = history(env)
    assert len(sessions) == 2  # two sessions at once both log
    for session in sessions:
        assert session["outcome"] == "interrupted" and session["planned_s"] == 8
        done = session["exercises"][0]["done_reps"]
        assert 1 <= done < 8 and session["done_s"] == done
    # kill -9 leaves the time of the last rep it logged as the end
    assert all(s["ended_at"] > s["started_at"] for s in sessions)


def test_a_session_skipped_through_to_its_end_is_finished_but_counts_nowhere(tmp_path, monkeypatch, capsys):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from clocks import FixedClock
    from coach.cli import shared as cli_shared
    from coach.log import charts
    from coach.log.book import default_path
    from inproc import cli as coach
    from test_report import parse as parse_report

    now = datetime(2026, 12, 3, 19, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setattr(cli_shared, "make_clock", lambda: FixedClock(now))
    monkeypatch.setattr(charts, "weeks_chart", lambda *a: "<svg></svg>")  # only the numbers matter here
    plan, sounds = make_plan()
    planned_s, entries = planned_from(plan, 0.0)
    logger = SessionLogger.start("back-pain-feet", "Feet first", "en", None, 160, planned_s, entries,
                                 FixedClock(now), path=default_path())
    clock = FakeClock(100.0)
    keys = ScriptedKeys(clock, [(100.0 + at, "n") for at in (0.5, 1.0, 1.5, 2.0, 2.5, 3.0)])
    result = run_session(plan, make_mixer(plan, sounds), start_s=0.0, output=FakeOutput(clock), clock=clock,
                         keys=keys, lead_in_s=0.0, progress=Progress(plan, lambda: logger))
    logger.close()
    assert result.finished
    (logged,) = json.loads(coach(capsys, "history", "--json")[1])["sessions"]
    assert (logged["outcome"], logged["done_s"]) == ("finished", 0)  # it reached its end, with nothing done
    (feet,) = [r for r in json.loads(coach(capsys, "today", "--json")[1])["routines"] if r["routine"] == "back-pain-feet"]
    assert (feet["done"], feet["due"], feet["streak"]) == (0, True, 0)
    assert coach(capsys, "report", "-o", tmp_path / "report.html")[0] == 0
    assert parse_report(tmp_path / "report.html").weeks["back-pain-feet"] == {"2026-11-30": 0}
