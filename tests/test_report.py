"""coach report: the numbers agree with today and history, and a real browser shows and prints the file."""

from __future__ import annotations

import json
import os
import re
import stat
import struct
import subprocess
import sys
import warnings
import zlib
from datetime import date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clocks import FixedClock
from coach.cli import shared as cli_shared
from coach.cli.app import main
from coach.log import charts
from coach.log.adherence import SessionFacts, counts, week_start
from coach.log.book import Logbook, default_path
from coach.log.summary import WeekRow, overall_percent, pain_points, week_rows
from inproc import cli as coach

ZONE = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 12, 3, 20, 0, tzinfo=ZONE)  # a Thursday


@pytest.fixture(autouse=True)
def private_log(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setattr(cli_shared, "make_clock", lambda: FixedClock(NOW))


class _Rows(HTMLParser):
    """The report's week rows and overall adherence, per routine, as its HTML holds them."""

    def __init__(self):
        super().__init__()
        self.weeks: dict[str, dict[str, int]] = {}
        self.overall: dict[str, int] = {}
        self.refs: list[str] = []
        self._routine = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "data-routine" in a:
            self._routine = a["data-routine"]
            self.weeks[self._routine] = {}
        if "data-week" in a:
            self.weeks[self._routine][a["data-week"]] = int(a["data-counted"])
        if "data-overall" in a:
            self.overall[self._routine] = int(a["data-overall"])
        self.refs += [v for k, v in attrs if k in ("src", "href", "xlink:href", "action", "poster", "srcset") and v]


def parse(path: Path) -> _Rows:
    rows = _Rows()
    rows.feed(path.read_text(encoding="utf-8"))
    return rows


def test_weeks_are_measured_against_the_low_end_of_the_target():
    def at(day: int, outcome: str = "finished") -> SessionFacts:
        return SessionFacts(datetime(2026, 11, day, 9, tzinfo=ZONE), outcome, 100, 90 if outcome == "finished" else 10)

    sessions = [at(16), at(16), at(16), at(17), at(18, "stopped"), at(24)]
    weekly = week_rows(sessions, ("week", 2, 3), date(2026, 11, 18), date(2026, 11, 25))
    # the first week starts on the 18th: the sessions before are left out
    assert weekly == [WeekRow(date(2026, 11, 16), 1, 0, 0, 2), WeekRow(date(2026, 11, 23), 1, 1, 1, 2)]
    daily = week_rows(sessions, ("day", 2, 3), date(2026, 11, 16), date(2026, 11, 17))
    assert daily == [WeekRow(date(2026, 11, 16), 4, 4, 3, 4)]  # three on Monday count as two
    assert (daily[0].percent, overall_percent(weekly + daily)) == (75, 50)
    assert week_rows(sessions, None, date(2026, 11, 16), date(2026, 11, 16))[0].percent is None


def test_every_pain_change_of_two_points_or_more_is_marked(tmp_path):
    with Logbook(default_path()) as log:
        for day, pain in ((1, 3), (2, 4), (3, 6), (4, 6), (5, 1), (6, None), (7, 2)):
            at = datetime(2026, 11, day, 9, tzinfo=ZONE).isoformat()
            log.add_session("back-pain-feet", "Feet", "en", at, at, 10, 10, "finished", pain, None)
        sessions = log.sessions()
    assert [(p.pain, p.change) for p in pain_points(sessions)] == [(3, None), (4, None), (6, 2), (6, None), (1, -5), (2, None)]


history = st.lists(st.tuples(st.sampled_from(["back-pain-feet", "back-pain-daily"]), st.integers(0, 20),
                             st.integers(6, 22), st.sampled_from(["finished", "stopped", "interrupted", "partial"]),
                             st.integers(0, 100), st.one_of(st.none(), st.integers(0, 10))), max_size=25)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history)
def test_today_history_and_the_report_agree_on_what_counts(tmp_path_factory, capsys, monkeypatch, entries):
    folder = tmp_path_factory.mktemp("agree")
    monkeypatch.setenv("XDG_DATA_HOME", str(folder / "data"))
    # The charts are drawn in the browser test below; here only the numbers matter.
    monkeypatch.setattr(charts, "weeks_chart", lambda *a: "<svg></svg>")
    monkeypatch.setattr(charts, "pain_chart", lambda *a: "<svg></svg>")
    with Logbook(default_path()) as log:
        for routine, days_ago, hour, outcome, done_pct, pain in entries:
            at = (NOW - timedelta(days=days_ago)).replace(hour=hour, minute=30).isoformat()
            log.add_session(routine, routine, "en", at, at, 200, 2 * done_pct, outcome, pain, None)
    report = folder / "report.html"
    assert coach(capsys, "report", "-o", report)[0] == 0
    shown = parse(report)
    logged = json.loads(coach(capsys, "history", "--json")[1])["sessions"]
    standing = {r["routine"]: r for r in json.loads(coach(capsys, "today", "--json")[1])["routines"]}
    for routine in {e[0] for e in entries}:
        facts = [SessionFacts(datetime.fromisoformat(s["started_at"]), s["outcome"], s["planned_s"], s["done_s"])
                 for s in logged if s["routine"] == routine]
        per_week: dict[str, int] = {}
        for f in facts:
            per_week.setdefault(week_start(f.started_at.date()).isoformat(), 0)
            per_week[week_start(f.started_at.date()).isoformat()] += counts(f)
        assert {w: n for w, n in shown.weeks[routine].items() if n or w in per_week} == per_week
        this_week = shown.weeks[routine][week_start(NOW.date()).isoformat()]
        if routine == "back-pain-feet":  # per week
            assert standing[routine]["done"] == this_week
        else:
            assert standing[routine]["done"] == sum(counts(f) for f in facts if f.started_at.date() == NOW.date())
        # Overall adherence, worked out here from the JSON alone: the low end (2 for both) met per week or per day.
        first = min(datetime.fromisoformat(s["started_at"]).date() for s in logged)
        days = [first + timedelta(days=n) for n in range((NOW.date() - first).days + 1)]
        per_day = {d: sum(counts(f) for f in facts if f.started_at.date() == d) for d in days}
        if routine == "back-pain-feet":
            mondays = sorted({week_start(d) for d in days})
            met = sum(min(2, sum(n for d, n in per_day.items() if week_start(d) == m)) for m in mondays)
            wanted = 2 * len(mondays)
        else:
            met, wanted = sum(min(2, n) for n in per_day.values()), 2 * len(days)
        assert shown.overall[routine] == round(100 * met / wanted)


def _png_colours(path: Path) -> int:
    """How many different pixel rows a PNG screenshot has (1 when it is blank)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    idat = b"".join(data[i + 8:i + 8 + struct.unpack(">I", data[i:i + 4])[0]]
                    for i in [m.start() - 4 for m in re.finditer(b"IDAT", data)])
    raw = zlib.decompress(idat)
    stride = 1 + width * {2: 3, 6: 4}[colour] * depth // 8
    return len({raw[r * stride + 1:(r + 1) * stride] for r in range(height)})


def _pdf_pages(path: Path) -> tuple[int, set[tuple[int, int]]]:
    data = path.read_bytes()
    assert data.startswith(b"%PDF")
    count = int(re.search(rb"/Type\s*/Pages\s*/Count\s+(\d+)", data).group(1))
    boxes = {(round(float(w)), round(float(h))) for w, h in re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", data)}
    return count, boxes


def _chromium(profile: Path, page: Path, *outputs: str, width: int = 900) -> subprocess.Popen:
    """Start headless chromium on page (each run needs a profile folder of its own)."""
    args = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
            f"--window-size={width},1200", "--no-pdf-header-footer", *outputs, page.as_uri()]
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=os.environ | {"DBUS_SESSION_BUS_ADDRESS": "disabled:"})


def test_the_report_is_one_private_file_that_a_browser_shows_and_prints(tmp_path, capsys):
    with Logbook(default_path()) as log:
        for n in range(40):
            at = (NOW - timedelta(days=n * 2, hours=n % 3)).isoformat()
            log.add_session("back-pain-feet", "Feet first", "en", at, at, 300, 300 - 7 * (n % 5), "finished" if n % 4 else "partial",
                            (n * 3) % 8, "a <note> with a\x1b[31m control")
    report = tmp_path / "report.html"
    report.write_text("an older report, readable by all")
    os.chmod(report, 0o644)
    code, _, err = coach(capsys, "report", "-o", report, "--since", "2026-10-01")
    assert (code, err) == (0, f"wrote {report} (32 sessions)\n")
    assert stat.S_IMODE(report.stat().st_mode) == 0o600  # made private, though the old file was not
    text = report.read_text()
    assert not [r for r in parse(report).refs if not r.startswith("#")]  # nothing outside itself
    assert not re.search(r"url\((?!#)|@import|<script|<link|<img|<iframe", text)
    assert "\x1b" not in text and "a &lt;note&gt; with a[31m control" in text
    assert text.count("<svg") == 2 and "<text" not in text  # both charts, their letters drawn as shapes
    letter = tmp_path / "letter.pdf"
    a4 = tmp_path / "a4.html"
    a4.write_text(text.replace("@page {", "@page { size: A4;"))
    # Both at once: a phone-wide screenshot with a Letter print (chromium's default paper), and an A4 print.
    runs = [_chromium(tmp_path / "p1", report, f"--screenshot={tmp_path / 'shot.png'}", f"--print-to-pdf={letter}", width=390),
            _chromium(tmp_path / "p2", a4, f"--print-to-pdf={tmp_path / 'a4.pdf'}")]
    assert [run.wait(timeout=90) for run in runs] == [0, 0]
    assert _png_colours(tmp_path / "shot.png") > 50
    assert _pdf_pages(letter) == (4, {(612, 792)})
    assert _pdf_pages(tmp_path / "a4.pdf") == (4, {(595, 842)})


def test_listing_and_help_start_without_the_report_calendar_and_bus_libraries():
    # Both commands in one interpreter: whatever either imports is still in sys.modules at the end.
    probe = ("import runpy, sys\n"
             "for args in (['routines'], ['--help'], ['log', '--help']):\n"
             "    sys.argv = ['coach'] + args\n"
             "    try:\n        runpy.run_module('coach', run_name='__main__')\n    except SystemExit:\n        pass\n"
             "print(sorted(m for m in ('numpy', 'matplotlib', 'icalendar', 'dbus_fast') if m in sys.modules), file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).parents[1])
    assert done.stderr.strip().splitlines()[-1] == "[]", done.stderr


def test_a_library_s_warning_never_reaches_the_person(tmp_path, capsys):
    with Logbook(default_path()) as log:  # one pain score: a date axis of a single moment
        at = datetime(2026, 11, 20, 9, tzinfo=ZONE).isoformat()
        log.add_session("back-pain-feet", "Feet", "en", at, at, 10, 10, "finished", 4, None)
    report = tmp_path / "report.html"
    with warnings.catch_warnings():  # as an interpreter shows them, not as pytest collects them
        warnings.resetwarnings()
        warnings.showwarning = lambda message, category, filename, lineno, file=None, line=None: sys.stderr.write(
            warnings.formatwarning(message, category, filename, lineno, line))
        code, out, err = coach(capsys, "report", "-o", report)
    assert (code, out, err) == (0, "", f"wrote {report} (1 session)\n")
    assert report.read_text(encoding="utf-8").count("<svg") == 2  # the weeks and the pain, both drawn


def test_output_to_a_full_device_is_one_line_not_an_internal_error(capsys, monkeypatch):
    with Logbook(default_path()) as log:
        at = datetime(2026, 11, 20, 9, tzinfo=ZONE).isoformat()
        log.add_session("back-pain-feet", "Feet", "en", at, at, 10, 10, "finished", 4, None)
    for args in (["history", "--json"], ["history", "--csv", "-"], ["history"], ["today", "--json"], ["routines"]):
        with open("/dev/full", "w") as full:
            monkeypatch.setattr(sys, "stdout", full)
            try:
                main(args)
            except SystemExit as exc:
                code = exc.code
            monkeypatch.undo()
        assert (code, capsys.readouterr().err) == (1, "coach: cannot write the output: no space left on device\n"), args
