"""coach history, today and log as a person meets them, on a real log file and a fixed clock."""

from __future__ import annotations

import csv
import io
import json
import os
from datetime import datetime, timedelta, timezone

import pytest

from clocks import FixedClock
from coach.cli import shared as cli_shared
from coach.log.book import default_path
from coach.log.pain import PROMPT, REPROMPT, ask_pain
from coach.plan.script import PAIN_QUESTION
from coach.log.recorder import SessionLogger
from inproc import cli as coach

CET = timezone(timedelta(hours=1))
NOW = datetime(2026, 11, 19, 20, 0, tzinfo=CET)  # a Thursday
SESSION_KEYS = {"id", "routine", "title", "language", "voice", "rate_wpm", "started_at", "ended_at", "outcome",
                "planned_s", "done_s", "pain", "note", "source", "exercises"}
EXERCISE_KEYS = {"position", "name", "side", "planned_reps", "done_reps", "skipped"}


@pytest.fixture(autouse=True)
def private_log(tmp_path, monkeypatch):
    """An empty data folder and a clock fixed at NOW for every test here."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setattr(cli_shared, "make_clock", lambda: FixedClock(NOW))


def log_session(started: datetime, routine: str = "back-pain-feet", outcome: str = "finished",
                reps_done: int = 2, pain: int | None = None) -> int:
    """Log a session of two exercise sides (2 reps of 10 s each), doing reps_done of the 4 reps."""
    clock = FixedClock(started)
    logger = SessionLogger.start(routine, routine.title(), "en", None, 160, 40,
                                 [(1, "Press", None, 2), (2, "Walk", None, 2)], clock, warn=pytest.fail)
    for rep in range(reps_done):
        clock.advance(30)
        logger.rep_done(1 + rep // 2, None, 10)
    if reps_done < 2:
        logger.skipped(1, None)
    clock.advance(30)
    logger.finish(outcome)
    logger.set_pain(pain)
    return logger.session_id


def seed() -> None:
    log_session(NOW - timedelta(days=10), pain=5)  # id 1: Mon 9 Nov
    log_session(NOW - timedelta(days=3), "back-pain-daily", "stopped", 1, pain=3)  # id 2
    log_session(NOW - timedelta(hours=2), "back-pain-feet", "interrupted", 4)  # id 3: all done, but killed
    log_session(NOW - timedelta(hours=1), "back-pain-daily")  # id 4


def test_an_empty_log(capsys):
    assert coach(capsys, "history") == (0, "No sessions logged yet.\n", "")
    code, out, _ = coach(capsys, "history", "--json")
    assert (code, json.loads(out)) == (0, {"sessions": []})
    assert not default_path().exists()  # reading does not create the log


@pytest.mark.parametrize("columns", [80, 40])
def test_history_is_newest_first_with_an_8_week_chart_that_fits_the_terminal(capsys, monkeypatch, columns):
    monkeypatch.setenv("COLUMNS", str(columns))
    seed()
    code, out, err = coach(capsys, "history")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= columns
    starts = [line for line in lines if line.startswith("2026-11-")]
    assert [line[:10] for line in starts] == ["2026-11-19", "2026-11-19", "2026-11-16", "2026-11-09"]
    if columns == 80:
        assert starts[0].split()[:6] == ["2026-11-19", "19:00", "back-pain-daily", "1:30", "50", "%"]
        assert starts[3].split()[-1] == "5"  # the pain column
    for routine, target in (("back-pain-daily", "target 2–3 a day (14–21 a week)"), ("back-pain-feet", "target 2–3 a week")):
        title = next(i for i, line in enumerate(lines) if line.startswith(f"{routine}: sessions a week"))
        assert target in " ".join(" ".join(lines[title:title + 2]).split())
        weeks = [line for line in lines[title:title + 12] if line[:6] in {f"{d:%d %b}" for d in WEEKS}]
        assert [line[:6] for line in weeks] == [f"{d:%d %b}" for d in WEEKS]
    feet = [line for line in lines if line.startswith("16 Nov")][1]
    assert "█" in feet and "1✓" not in feet and feet.rstrip().endswith(" 1")  # 1 of 2 a week: short
    assert "Monday to Sunday" in out and "80 %" in out


WEEKS = [datetime(2026, 9, 28) + timedelta(weeks=n) for n in range(8)]


def test_history_json_holds_every_session_with_its_exercises(capsys):
    seed()
    code, out, _ = coach(capsys, "history", "--json")
    sessions = json.loads(out)["sessions"]
    assert code == 0 and [s["id"] for s in sessions] == [4, 3, 2, 1]
    assert all(set(s) == SESSION_KEYS for s in sessions)
    assert all(set(e) == EXERCISE_KEYS for s in sessions for e in s["exercises"])
    stopped = sessions[2]
    assert {k: stopped[k] for k in ("routine", "outcome", "planned_s", "done_s", "pain", "note")} == {
        "routine": "back-pain-daily", "outcome": "stopped", "planned_s": 40, "done_s": 10, "pain": 3, "note": None}
    assert stopped["started_at"] == "2026-11-16T20:00:00+01:00" and stopped["ended_at"] == "2026-11-16T20:01:00+01:00"
    assert stopped["exercises"] == [
        {"position": 1, "name": "Press", "side": None, "planned_reps": 2, "done_reps": 1, "skipped": True},
        {"position": 2, "name": "Walk", "side": None, "planned_reps": 2, "done_reps": 0, "skipped": False}]
    code, out, _ = coach(capsys, "history", "--json", "--routine", "back-pain-feet", "--since", "2026-11-10")
    assert [s["id"] for s in json.loads(out)["sessions"]] == [3]


def test_history_csv_is_written_whole_to_a_file_or_to_stdout(capsys, tmp_path):
    seed()
    target = tmp_path / "out" / "log.csv"
    target.parent.mkdir()
    target.write_text("old contents\n")
    code, out, err = coach(capsys, "history", "--csv", str(target))
    assert (code, out) == (0, "") and "wrote" in err and "4 sessions" in err
    rows = list(csv.DictReader(target.open()))
    assert list(rows[0])[:8] == ["id", "started_at", "ended_at", "routine", "title", "outcome", "planned_s", "done_s"]
    assert {"pain", "note"} <= set(rows[0])
    assert [(r["routine"], r["outcome"], r["pain"]) for r in rows] == [
        ("back-pain-daily", "finished", ""), ("back-pain-feet", "interrupted", ""),
        ("back-pain-daily", "stopped", "3"), ("back-pain-feet", "finished", "5")]
    assert os.listdir(target.parent) == ["log.csv"]  # no temporary file left behind
    code, out, _ = coach(capsys, "history", "--csv", "-", "--routine", "back-pain-daily")
    assert code == 0 and out.splitlines()[0].startswith("id,started_at,") and len(out.splitlines()) == 3


@pytest.mark.parametrize("args, words", [
    (("history", "--since", "19/11/2026"), ("--since", "YYYY-MM-DD")),
    (("history", "--json", "--csv", "x.csv"), ("--csv", "--json")),
    (("history", "--csv", "/no/such/folder/x.csv"), ("--csv", "/no/such/folder/x.csv")),
    (("log", "--pain", "11"), ("--pain", "0 to 10", "11")),
    (("log", "--pain", "-1"), ("--pain",)),
    (("log", "--pain", "two"), ("--pain",)),
    (("log",), ("--pain",)),
])
def test_bad_options_get_one_line_naming_the_option(capsys, args, words):
    log_session(NOW)
    code, out, err = coach(capsys, *args)
    assert code == 2 and len(err.splitlines()) == 1 and "Traceback" not in err
    for word in words:
        assert word in err


def test_a_damaged_log_is_one_error_line_for_the_reading_commands(capsys):
    default_path().parent.mkdir(parents=True, mode=0o700)
    default_path().write_bytes(b"not a database at all " * 100)
    default_path().chmod(0o600)  # private, so only the damage is reported
    for args in (("history",), ("today",), ("log", "--pain", "2")):
        code, out, err = coach(capsys, *args)
        assert (code, out) == (1, "")
        assert err == f"coach: the practice log at {default_path()} is damaged (file is not a database)\n"


def test_today_json_for_all_three_built_in_routines(capsys):
    seed()
    log_session(NOW - timedelta(days=1, hours=1), "back-pain-daily", reps_done=4)
    log_session(NOW - timedelta(days=1, hours=3), "back-pain-daily", reps_done=4)  # yesterday met 2 a day
    code, out, _ = coach(capsys, "today", "--json")
    assert code == 0
    assert json.loads(out) == {
        "date": "2026-11-19", "week": {"start": "2026-11-16", "end": "2026-11-22"},
        "routines": [  # today's back-pain-daily finished with half its exercise time done: it does not count
            {"routine": "back-pain-daily", "period": "day", "target": [2, 3], "done": 0, "due": True, "streak": 1},
            {"routine": "back-pain-feet", "period": "week", "target": [2, 3], "done": 1, "due": True, "streak": 0},
            {"routine": "back-pain-stretches", "period": "day", "target": [1, 1], "done": 0, "due": True,
             "streak": 0},
        ]}


def test_today_says_what_counts_and_that_weeks_run_monday_to_sunday(capsys):
    seed()
    code, out, _ = coach(capsys, "today")
    out = " ".join(out.split())  # lines longer than the terminal are wrapped
    assert code == 0
    assert "back-pain-daily: 0 of 2–3 today; due now; streak: 0 days" in out  # finished, but half done
    assert "back-pain-feet: 1 of 2–3 this week (Mon 16 – Sun 22 Nov); due now; streak: 0 weeks" in out
    assert "Monday to Sunday" in out and "at least 80 % of its planned exercise time" in out
    code, out, _ = coach(capsys, "today", "--help")
    assert code == 0 and "Monday to Sunday" in out and "80 %" in out


def test_log_sets_pain_and_a_note_on_the_latest_session_or_the_one_given(capsys):
    seed()
    code, out, _ = coach(capsys, "log", "--pain", "6", "--note", "after a long walk")
    assert (code, out) == (0, "session 4 (back-pain-daily, 2026-11-19 19:00): pain 6, note: after a long walk\n")
    assert coach(capsys, "log", "--pain", "0", "--session", "1")[0] == 0
    _, out, _ = coach(capsys, "history", "--json")
    assert [(s["id"], s["pain"], s["note"]) for s in json.loads(out)["sessions"]] == [
        (4, 6, "after a long walk"), (3, None, None), (2, 3, None), (1, 0, None)]
    code, _, err = coach(capsys, "log", "--pain", "2", "--session", "99")
    assert code == 2 and "--session" in err and "99" in err


def test_log_without_any_session_says_so(capsys):
    code, out, err = coach(capsys, "log", "--pain", "3")
    assert code == 2 and "no sessions are logged yet" in err and len(err.splitlines()) == 1


# --- the pain question on screen ---------------------------------------------------------------

def answer(text: bytes | None, timeout_s: float = 5.0) -> tuple[int | None, str]:
    """Ask through a pipe that holds `text` (None: nothing typed, the writer still open)."""
    read_fd, write_fd = os.pipe()
    try:
        if text is not None:
            os.write(write_fd, text)
            os.close(write_fd)
        out = io.StringIO()
        return ask_pain(read_fd, out, timeout_s), out.getvalue()
    finally:
        os.close(read_fd)
        if text is None:
            os.close(write_fd)


def test_the_pain_question_reads_a_number_and_skips_on_enter_eof_or_timeout():
    assert PROMPT.startswith(PAIN_QUESTION) and "just Enter to skip" in PROMPT
    assert answer(b"4\n") == (4, PROMPT)
    assert answer(b" 10 \n") == (10, PROMPT)
    assert answer(b"\n") == (None, PROMPT)
    assert answer(b"") == (None, PROMPT + "\n")
    assert answer(None, timeout_s=0) == (None, PROMPT + "\n")


def test_the_pain_question_asks_again_once_after_a_bad_answer():
    assert answer(b"eleven\n7\n") == (7, PROMPT + REPROMPT)
    assert answer(b"11\n-1\n3\n") == (None, PROMPT + REPROMPT)
    assert answer(b"x\n") == (None, PROMPT + REPROMPT + "\n")
