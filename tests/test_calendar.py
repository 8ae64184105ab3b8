"""coach calendar: the .ics file read back by icalendar and by a second reader, across a clock change."""

from __future__ import annotations

import json
import re
import shlex
import stat
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import recurring_ical_events
from dateutil.rrule import rrulestr
from icalendar import Calendar

from clocks import FixedClock
from coach.cli import shared as cli_shared
from inproc import cli as coach

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2027, 3, 20, 12, 0, tzinfo=PARIS)  # a Saturday, eight days before summer time


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setattr(cli_shared, "make_clock", lambda: FixedClock(NOW))


def unfolded(text: str) -> list[str]:
    """The file's content lines, read by hand (RFC 5545 folding undone), for the second reader."""
    return re.sub(r"\r\n[ \t]", "", text).split("\r\n")


def second_reader(text: str, until: datetime) -> list[datetime]:
    """Each event's starts expanded by dateutil from the raw DTSTART and RRULE lines."""
    starts, block = [], []
    for line in unfolded(text):
        if line == "BEGIN:VEVENT":
            block = []
        elif line.startswith(("DTSTART", "RRULE")):
            block.append(line)
        elif line == "END:VEVENT":
            starts += rrulestr("\n".join(block)).between(NOW - timedelta(days=1), until, inc=True)
    return sorted(starts)


def test_a_per_week_routine_falls_on_spread_weekdays_at_the_same_local_time_across_a_clock_change(tmp_path, capsys):
    out = tmp_path / "plan.ics"
    code, _, err = coach(capsys, "calendar", "back-pain-feet", "--at", "8:15", "--weeks", "3", "-o", out)
    assert (code, err) == (0, f"wrote {out} (Mon, Thu at 08:15, 3 weeks)\n")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    text = out.read_bytes().decode("utf-8")  # CRLF kept, as a calendar reads it
    cal = Calendar.from_ical(text)
    (event,) = cal.walk("VEVENT")
    assert event["RRULE"]["FREQ"] == ["WEEKLY"] and event["RRULE"]["BYDAY"] == ["MO", "TH"]
    assert event.decoded("DTSTART") == datetime(2027, 3, 22, 8, 15, tzinfo=PARIS)  # the first Monday on or after
    assert str(event["DTSTART"].params["TZID"]) == "Europe/Paris"
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Europe/Paris"]
    (alarm,) = event.walk("VALARM")
    assert alarm["ACTION"] == "DISPLAY" and alarm.decoded("TRIGGER") == timedelta(0)
    description = str(event["DESCRIPTION"])
    assert "Feet first" in description and re.search(r"about \d+ min", description) and "an exercise band" in description
    assert event.decoded("DURATION") >= timedelta(minutes=5)
    starts = [e.decoded("DTSTART") for e in recurring_ical_events.of(cal).between(date(2027, 3, 1), date(2027, 5, 1))]
    assert [(s.strftime("%a %d %H:%M"), s.utcoffset()) for s in starts] == [
        ("Mon 22 08:15", timedelta(hours=1)), ("Thu 25 08:15", timedelta(hours=1)),
        ("Mon 29 08:15", timedelta(hours=2)), ("Thu 01 08:15", timedelta(hours=2)),  # summer time from the 28th
        ("Mon 05 08:15", timedelta(hours=2)), ("Thu 08 08:15", timedelta(hours=2))]
    assert second_reader(text, datetime(2027, 5, 1, tzinfo=PARIS)) == starts


def test_a_per_day_routine_gets_one_daily_event_per_time(tmp_path, capsys):
    out = tmp_path / "daily.ics"
    assert coach(capsys, "calendar", "back-pain-daily", "--at", "21:00,07:30", "--from", "2027-03-26", "-o", out)[0] == 0
    text = out.read_bytes().decode("utf-8")  # CRLF kept, as a calendar reads it
    cal = Calendar.from_ical(text)
    assert sorted(str(e["RRULE"].to_ical(), "ascii") for e in cal.walk("VEVENT")) == ["FREQ=DAILY", "FREQ=DAILY"]
    assert all(len(e.walk("VALARM")) == 1 for e in cal.walk("VEVENT"))
    starts = [e.decoded("DTSTART") for e in recurring_ical_events.of(cal).between(date(2027, 3, 26), date(2027, 3, 30))]
    assert sorted((s.day, s.strftime("%H:%M"), s.utcoffset().seconds // 3600) for s in starts) == [
        (26, "07:30", 1), (26, "21:00", 1), (27, "07:30", 1), (27, "21:00", 1),
        (28, "07:30", 2), (28, "21:00", 2), (29, "07:30", 2), (29, "21:00", 2)]
    assert second_reader(text, datetime(2027, 3, 30, tzinfo=PARIS)) == sorted(starts)


def test_without_a_named_zone_the_times_float_with_the_phone(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli_shared, "make_clock", lambda: FixedClock(datetime(2027, 3, 20, 12, tzinfo=timezone(timedelta(hours=5, minutes=45)))))
    monkeypatch.setenv("TZ", "UTC")
    out = tmp_path / "plan.ics"
    assert coach(capsys, "calendar", "back-pain-stretches", "-o", out)[0] == 0
    cal = Calendar.from_ical(out.read_text())
    (event,) = cal.walk("VEVENT")
    assert event.decoded("DTSTART") == datetime(2027, 3, 20, 8, 0) and not cal.walk("VTIMEZONE")


@pytest.mark.parametrize("args, option", [
    (("back-pain-feet", "--at", "8h"), "--at"), (("back-pain-feet", "--at", "08:00,19:00"), "--at"),
    (("back-pain-daily", "--at", "08:00,8:00"), "--at"), (("back-pain-feet", "--weeks", "0"), "--weeks"),
    (("back-pain-feet", "--from", "next week"), "--from")])
def test_bad_options_are_one_line_naming_the_option(tmp_path, capsys, args, option):
    code, _, err = coach(capsys, "calendar", *args, "-o", tmp_path / "p.ics")
    assert code == 2 and err.startswith(f"coach: {option}: ") and err.count("\n") == 1
    assert not (tmp_path / "p.ics").exists()


def test_a_routine_without_a_frequency_and_a_wrong_extension_are_errors(tmp_path, capsys, short_routine):
    code, _, err = coach(capsys, "calendar", short_routine, "-o", tmp_path / "p.ics")
    assert code == 2 and err.startswith("coach: ROUTINE: short does not say how often")
    code, _, err = coach(capsys, "calendar", "back-pain-feet", "-o", tmp_path / "p.txt")
    assert code == 2 and err.startswith("coach: -o: ")


def _routine(folder, name: str, title: str, frequency: str):
    path = folder / f"{name}.toml"
    path.write_text(f"title = {json.dumps(title)}\nfrequency = {frequency}\n"
                    "[[exercises]]\nname = 'Walk'\ninstructions = 'Walk.'\nwork_s = 60\n", encoding="utf-8")
    return path


def test_every_text_value_is_escaped_and_the_commands_are_shell_quoted(tmp_path, capsys):
    routine = _routine(tmp_path, "fish, chips; $(touch owned)", "Fish; chips, peas \\ more", "{ per_day = 1 }")
    out = tmp_path / "plan.ics"
    assert coach(capsys, "calendar", routine, "-o", out)[0] == 0
    text = out.read_bytes().decode("utf-8")
    lines = unfolded(text)
    escaped = "Fish\\; chips\\, peas \\\\ more"  # RFC 5545 3.3.11: \; \, and \\ in every TEXT value
    assert f"X-WR-CALNAME:coach: {escaped}" in lines and f"SUMMARY:{escaped}" in lines
    assert f"DESCRIPTION:{escaped} (about 2 min)" in lines  # the alarm's
    (event,) = Calendar.from_ical(text).walk("VEVENT")
    description = str(event["DESCRIPTION"]).splitlines()
    assert description[0] == "Fish; chips, peas \\ more"
    run = next(line for line in description if line.startswith("With coach: "))
    add = next(line for line in description if line.startswith("Done elsewhere? Log it: "))
    assert shlex.split(run.removeprefix("With coach: ")) == ["coach", "run", "fish, chips; $(touch owned)"]
    assert shlex.split(add.removeprefix("Done elsewhere? Log it: ")) == ["coach", "log", "add", "fish, chips; $(touch owned)"]


def test_more_than_seven_times_a_week_is_written_as_several_times_every_day(tmp_path, capsys):
    routine = _routine(tmp_path, "often", "Often", "{ per_week = 10 }")
    out = tmp_path / "plan.ics"
    code, _, err = coach(capsys, "calendar", routine, "--weeks", "2", "-o", out)
    assert (code, err) == (0, f"wrote {out} (every day at 08:00, 19:00, 2 weeks)\n")
    text = out.read_bytes().decode("utf-8")
    events = Calendar.from_ical(text).walk("VEVENT")
    assert [(e["RRULE"]["FREQ"], e["RRULE"].get("BYDAY")) for e in events] == [(["DAILY"], None)] * 2
    starts = second_reader(text, NOW + timedelta(weeks=3))
    assert len(starts) == 28 and len(set(starts)) == 28  # twice a day for 14 days: at least 10 a week, none twice


@pytest.mark.parametrize("start, routine", [("0001-01-01", "back-pain-feet"), ("0001-01-01", "back-pain-daily"),
                                            ("9999-12-31", "back-pain-daily"), ("9999-12-27", "back-pain-feet")])
def test_the_first_and_last_days_of_the_calendar_make_a_calendar(tmp_path, capsys, start, routine):
    out = tmp_path / "plan.ics"
    code, _, err = coach(capsys, "calendar", routine, "--from", start, "--weeks", "3", "-o", out)
    assert (code, err.startswith("wrote ")) == (0, True)
    (first, *_) = Calendar.from_ical(out.read_bytes()).walk("VEVENT")
    assert first.decoded("DTSTART").date() == date.fromisoformat(start)  # 9999-12-27 is a Monday


def test_a_first_event_past_the_calendar_s_last_day_is_one_line_naming_from(tmp_path, capsys):
    code, out, err = coach(capsys, "calendar", "back-pain-feet", "--from", "9999-12-31", "-o", tmp_path / "p.ics")
    assert (code, out) == (2, "") and err.startswith("coach: --from: 9999-12-31 is too near the end of the calendar")
    assert err.count("\n") == 1 and not (tmp_path / "p.ics").exists()
