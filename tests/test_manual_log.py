"""coach log add and log remove: sessions done away from the computer, on a real log file and a fixed clock."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from clocks import FixedClock
from coach.cli import shared as cli_shared
from inproc import cli as coach

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 3, 20, 0, tzinfo=BERLIN)  # a Thursday


@pytest.fixture(autouse=True)
def private_log(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setattr(cli_shared, "make_clock", lambda: FixedClock(NOW))


def today(capsys) -> dict:
    code, out, _ = coach(capsys, "today", "--json")
    assert code == 0
    return {r["routine"]: r for r in json.loads(out)["routines"]}


def test_a_session_added_by_hand_counts_by_the_80_percent_rule(capsys):
    assert today(capsys)["back-pain-stretches"]["done"] == 0
    code, out, err = coach(capsys, "log", "add", "back-pain-stretches", "--at", "2026-12-03 08:10", "--done", "79%")
    assert (code, err) == (0, "") and "partial" in out
    assert today(capsys)["back-pain-stretches"]["done"] == 0  # 79 % does not count
    assert coach(capsys, "log", "add", "back-pain-stretches", "--at", "07:30", "--done", "80 %")[0] == 0
    assert today(capsys)["back-pain-stretches"]["done"] == 1
    # yesterday, whole routine, by default: the streak reaches back to it
    assert coach(capsys, "log", "add", "back-pain-stretches", "--at", "2026-12-02 21:00", "--pain", "3",
                 "--note", "at the gym")[0] == 0
    assert today(capsys)["back-pain-stretches"]["streak"] == 2
    sessions = json.loads(coach(capsys, "history", "--json")[1])["sessions"]
    assert [(s["started_at"], s["outcome"], s["source"], s["exercises"]) for s in sessions] == [
        ("2026-12-03T08:10:00+01:00", "partial", "manual", []),
        ("2026-12-03T07:30:00+01:00", "partial", "manual", []),
        ("2026-12-02T21:00:00+01:00", "finished", "manual", [])]
    assert (sessions[2]["pain"], sessions[2]["note"], sessions[2]["done_s"]) == (3, "at the gym", sessions[2]["planned_s"])
    chart = coach(capsys, "history", "--routine", "back-pain-stretches")[1].splitlines()
    assert next(line for line in chart if line.startswith("30 Nov")).endswith("  2   pain 3.0")  # this week: two that count
    rows = list(csv.DictReader(io.StringIO(coach(capsys, "history", "--csv", "-")[1])))
    assert {row["source"] for row in rows} == {"manual"}


def test_minutes_are_a_share_of_the_routine_and_the_default_time_is_just_now(capsys):
    assert coach(capsys, "log", "add", "back-pain-feet", "--minutes", "2")[0] == 0
    (s,) = json.loads(coach(capsys, "history", "--json")[1])["sessions"]
    assert s["ended_at"] == "2026-12-03T20:00:00+01:00" and s["started_at"] == "2026-12-03T19:58:00+01:00"
    assert 0 < s["done_s"] < s["planned_s"] and s["outcome"] == "partial"


def test_the_offset_is_the_one_of_that_date_across_a_clock_change(capsys):
    assert coach(capsys, "log", "add", "back-pain-feet", "--at", "2026-07-01 08:00")[0] == 0
    (s,) = json.loads(coach(capsys, "history", "--json")[1])["sessions"]
    assert s["started_at"] == "2026-07-01T08:00:00+02:00"  # summer time, though it is winter now


@pytest.mark.parametrize("at, words", [("2026-12-03 20:01", "in the future"), ("1999-12-31 23:00", "before 2000"),
                                        ("yesterday", "YYYY-MM-DD HH:MM")])
def test_a_bad_time_is_an_error_naming_at(capsys, at, words):
    code, out, err = coach(capsys, "log", "add", "back-pain-feet", "--at", at)
    assert code == 2 and out == "" and err.startswith("coach: --at: ") and words in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("args, option", [(("--done", "0%"), "--done"), (("--done", "120%"), "--done"),
                                          (("--minutes", "-3"), "--minutes"), (("--pain", "11"), "--pain"),
                                          (("--done", "50%", "--minutes", "3"), "--minutes")])
def test_bad_amounts_are_errors_naming_their_option(capsys, args, option):
    code, _, err = coach(capsys, "log", "add", "back-pain-feet", *args)
    assert code == 2 and err.startswith(f"coach: {option}: ")


def test_remove_needs_yes_outside_a_terminal(capsys):
    coach(capsys, "log", "add", "back-pain-feet", "--at", "10:00")
    code, _, err = coach(capsys, "log", "remove", "1")
    assert code == 2 and err.startswith("coach: --yes: ")
    assert len(json.loads(coach(capsys, "history", "--json")[1])["sessions"]) == 1
    assert coach(capsys, "log", "remove", "1", "--yes")[:2] == (0, "removed session 1 (back-pain-feet, 2026-12-03 10:00, finished)\n")
    assert json.loads(coach(capsys, "history", "--json")[1])["sessions"] == []
    code, _, err = coach(capsys, "log", "remove", "1", "--yes")
    assert code == 2 and "there is no session 1" in err


def test_remove_asks_on_a_terminal(capsys, monkeypatch):
    coach(capsys, "log", "add", "back-pain-feet", "--at", "10:00")
    monkeypatch.setattr("sys.stdin", _Tty("n\n"))
    assert coach(capsys, "log", "remove", "1")[:2] == (0, "Remove session 1 (back-pain-feet, 2026-12-03 10:00, finished) from the log? [y/N]: nothing removed\n")
    monkeypatch.setattr("sys.stdin", _Tty("y\n"))
    assert coach(capsys, "log", "remove", "1")[0] == 0
    assert json.loads(coach(capsys, "history", "--json")[1])["sessions"] == []


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_routine_file_s_name_is_printed_escaped_never_obeyed(capsys, tmp_path):
    hostile = tmp_path / "ev\x1b]0;owned\x07il.toml"  # would retitle the terminal's window
    hostile.write_text("title = 'Walk'\n[[exercises]]\nname = 'Walk'\ninstructions = 'Walk.'\nwork_s = 60\n")
    code, out, err = coach(capsys, "log", "add", hostile)
    assert (code, err) == (0, "")
    assert "\x1b" not in out and "\x07" not in out and "ev\\x1b]0;owned\\x07il, " in out
    session = out.split(":")[0].split()[-1]
    code, out, err = coach(capsys, "log", "remove", session, "--yes")
    assert (code, err) == (0, "") and out.startswith(f"removed session {session} (ev\\x1b]0;owned\\x07il, ")


@pytest.mark.parametrize("at, words", [("0001-01-01 00:00", "is before 2000"), ("0001-01-01T00:00-12:00", "is before 2000"),
                                       ("9999-12-31 23:59", "is in the future"),
                                       ("9999-12-31T23:59+14:00", "is in the future")])
@pytest.mark.parametrize("clock", ["Berlin", "the system's"])
def test_times_at_the_ends_of_the_calendar_are_one_line_naming_at(capsys, monkeypatch, at, words, clock):
    if clock == "the system's":  # as the real clock tells it: an offset without a zone's name
        monkeypatch.setattr(cli_shared, "make_clock", lambda: FixedClock(NOW.astimezone()))
    code, out, err = coach(capsys, "log", "add", "back-pain-feet", "--at", at)
    assert (code, out) == (2, "") and err.startswith(f"coach: --at: {at} {words}") and err.count("\n") == 1
