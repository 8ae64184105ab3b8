"""The practice log's commands: history, today and log (registered in coach/cli/app.py)."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from coach.cli.shared import all_sessions, local_now, parse_day, routines_with_frequency
from coach.errors import InputError, OptionError
from coach.i18n import _, format_date, ngettext
from coach.log.pain import PAIN_MAX, PAIN_MIN
from coach.terminal import os_reason, printable

if TYPE_CHECKING:
    from coach.log.adherence import SessionFacts
    from coach.log.book import LoggedSession

SQLITE_MAX_INTEGER = 2**63 - 1  # a larger id cannot even be looked up
CSV_FIELDS = ("id", "started_at", "ended_at", "routine", "title", "outcome", "planned_s", "done_s", "pain", "note",
              "source")


def _facts(session: LoggedSession) -> SessionFacts:
    from coach.log.adherence import SessionFacts

    return SessionFacts(session.started, session.outcome, session.planned_s, session.done_s, session.pain)


def history_command(
    routine: Optional[str] = typer.Option(None, "--routine", help="Only the sessions of this routine."),
    since: Optional[str] = typer.Option(None, "--since", help="Only sessions from this day on (YYYY-MM-DD, local time)."),
    as_json: bool = typer.Option(False, "--json", help="Print the sessions and their exercises as JSON."),
    csv_file: Optional[str] = typer.Option(None, "--csv", help="Write the sessions to this CSV file ('-' for stdout)."),
) -> None:
    """The logged sessions, newest first, and a chart of the last 8 weeks (Monday to Sunday, local time).

    In the chart, a session counts when it did at least 80 % of its planned exercise time (one
    skipped through to its end does not).
    """
    # Imported here, so the other commands start without the log's table and chart machinery.
    from rich.console import Console

    from coach.log.adherence import counts_rule, weekly_tallies, weeks_rule
    from coach.log.view import CHART_WEEKS, chart, history_table

    if as_json and csv_file is not None:
        raise OptionError("--csv", _("cannot be used together with --json"))
    since_day = parse_day("--since", since) if since is not None else None
    sessions = all_sessions(routine)
    if since_day is not None:
        sessions = [s for s in sessions if s.started.date() >= since_day]
    if as_json:
        from coach.files import make_stream_private

        make_stream_private(sys.stdout)  # `coach history --json > sessions.json` holds health data too
        json.dump({"sessions": [s.to_json() for s in sessions]}, sys.stdout, indent=2, ensure_ascii=False)
        print()
        return
    if csv_file is not None:
        _write_csv(csv_file, sessions)
        return
    console = Console(highlight=False)
    if not sessions:
        console.print(_("No sessions logged yet.") if routine is None and since is None else _("No sessions match."))
        return
    console.print(history_table(sessions, console.width))
    now = local_now()
    frequencies = {name: r.frequency for name, r in routines_with_frequency()}
    shown = [routine] if routine else sorted({s.routine for s in sessions})
    for name in shown:
        mine = [_facts(s) for s in sessions if s.routine == name]
        tallies = weekly_tallies(mine, now, CHART_WEEKS)
        if not any(t.started for t in tallies):
            continue
        console.print()
        for line in chart(name, tallies, frequencies.get(name), console.width):
            console.print(line)
    console.print(f"\n{weeks_rule()} {counts_rule()}", style="dim")


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP, "CSV Injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """A value as a CSV cell a spreadsheet shows as text: a leading formula character gets a ' before it."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _csv_text(sessions: list[LoggedSession]) -> str:
    out = io.StringIO()
    # CRLF, as RFC 4180 has it; it also makes the writer quote a note's own line breaks, \r included.
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_FIELDS)
    for s in sessions:
        row = s.to_json()
        writer.writerow([csv_cell(row[k]) for k in CSV_FIELDS])
    return out.getvalue()


def _write_csv(target: str, sessions: list[LoggedSession]) -> None:
    """Write the CSV to stdout ('-') or atomically to a private file (mode 0600): health data."""
    from coach.files import atomic_output, make_stream_private

    text = _csv_text(sessions)
    if target == "-":
        make_stream_private(sys.stdout)
        sys.stdout.write(text)
        return
    path = Path(target)
    try:
        with atomic_output(path, private=True) as temp:
            temp.write_text(text, encoding="utf-8", newline="")
    except OSError as exc:
        raise OptionError("--csv", _("cannot write {path}: {reason}").format(
            path=path, reason=os_reason(exc))) from None
    print(ngettext("wrote {path} ({count} session)", "wrote {path} ({count} sessions)", len(sessions)).format(
        path=printable(path), count=len(sessions)), file=sys.stderr)


def today_command(
    as_json: bool = typer.Option(False, "--json", help="Print the standing as JSON."),
    notify: bool = typer.Option(False, "--notify", help="Show a desktop notification when a routine is due (and print nothing)."),
) -> None:
    """How many sessions of each routine are done today or this week, which are due now, and the streaks.

    Weeks run Monday to Sunday, in local time. A session counts when it did at least 80 % of its
    planned exercise time (one skipped through to its end does not).
    """
    from rich.console import Console

    from coach.log.adherence import counts_rule, period_bounds, standing, weeks_rule
    from coach.log.view import standing_json, standing_line, week_text

    if as_json and notify:
        raise OptionError("--notify", _("cannot be used together with --json"))
    now = local_now()
    routines = routines_with_frequency()
    sessions = all_sessions()
    monday, sunday = period_bounds(now.date(), "week")
    standings = []
    for name, r in routines:
        facts = [_facts(s) for s in sessions if s.routine == name]
        standings.append((name, standing(facts, r.frequency, now)))  # type: ignore[arg-type]
    if notify:
        from coach.cli.remind import due_items, notify_due

        notify_due(due_items(routines, standings))
        return
    if as_json:
        json.dump({"date": now.date().isoformat(), "week": {"start": monday.isoformat(), "end": sunday.isoformat()},
                   "routines": [standing_json(name, s) for name, s in standings]}, sys.stdout, indent=2)
        print()
        return
    console = Console(highlight=False)
    console.print(_("Today is {date}; this week is {week}.").format(
        date=format_date(now, "full", "%A %-d %B %Y"), week=week_text(monday, sunday)), markup=False)
    if not standings:
        console.print(_("No routine says how often to do it (add frequency = { per_week = [2, 3] } to one)."),
                      markup=False)
    for name, s in standings:
        console.print(standing_line(name, s), style="yellow" if s.due else "green", markup=False)
    console.print(f"{weeks_rule()} {counts_rule()}", style="dim")


def log_command(
    pain: Optional[int] = typer.Option(None, "--pain", help="The pain score, from 0 (no pain) to 10 (the worst imaginable)."),
    note: Optional[str] = typer.Option(None, "--note", help="A note to keep with the session."),
    session: Optional[int] = typer.Option(None, "--session", help="The session's id (see 'coach history'); default: the latest."),
) -> None:
    """Set the pain score and a note for the latest session (or the one given)."""
    from coach.log.book import Logbook, default_path

    if pain is not None and not PAIN_MIN <= pain <= PAIN_MAX:
        raise OptionError("--pain", _("must be a whole number from {low} to {high}, not {pain}").format(
            low=PAIN_MIN, high=PAIN_MAX, pain=pain))
    if pain is None and note is None:
        raise OptionError("--pain", _("give --pain N (0-10), --note TEXT, or both"))
    if not default_path().exists():
        raise InputError(_("no sessions are logged yet, so there is nothing to add a pain score to"))
    with Logbook(default_path()) as log:
        if session is None:
            session = log.latest_id()
            if session is None:
                raise InputError(_("no sessions are logged yet, so there is nothing to add a pain score to"))
        elif not 1 <= session <= SQLITE_MAX_INTEGER or not log.has_session(session):
            raise OptionError("--session", _("there is no session {id} in the log (see 'coach history')").format(
                id=session))
        log.set_pain(session, pain, note)
        found = next(s for s in log.sessions() if s.id == session)
    what = ", ".join(part for part in (None if found.pain is None else _("pain {score}").format(score=found.pain),
                                       None if found.note is None else _("note: {note}").format(note=found.note))
                     if part)
    print(printable(_("session {id} ({routine}, {started}): {what}").format(
        id=found.id, routine=found.routine, started=f"{found.started:%Y-%m-%d %H:%M}", what=what)))
