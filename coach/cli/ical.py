"""`coach calendar`: a routine's frequency as recurring events with alarms, for a phone's calendar."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from coach.i18n import _, ngettext
from coach.cli.shared import estimated_plan, local_now, parse_day
from coach.errors import OptionError


def calendar_command(
    routine: str = typer.Argument(..., help="A built-in routine name, one of yours, or a path to a .toml file."),
    output: Path = typer.Option(..., "-o", "--output", help="The .ics file to write (readable by you alone)."),
    at: Optional[str] = typer.Option(None, "--at", help="Times of day as HH:MM, separated by commas (default: 08:00, or spread over the day for routines done several times a day)."),
    start: Optional[str] = typer.Option(None, "--from", help="The first day, YYYY-MM-DD (default: today)."),
    weeks: Optional[int] = typer.Option(None, "--weeks", help="For how many weeks the events repeat (default: with no end)."),
) -> None:
    """Write the routine's frequency as recurring calendar events with an alarm, to import on a phone.

    per_day routines get one event a day for each time given; per_week routines get one event on
    weekdays spread over the week. Times are in the local time zone and stay at the same time of day
    across clock changes.
    """
    from coach.files import check_writable_folder
    from coach.log.ical import WEEKDAYS, calendar_bytes, default_times, named_zone, parse_times, plan_events
    from coach.files import write_private
    from coach.routine import load_routine

    if output.suffix.lower() != ".ics":
        raise OptionError("-o", _("the calendar is an iCalendar file: give a name ending in .ics, not '{name}'").format(
            name=output.name))
    if weeks is not None and not 1 <= weeks <= 520:
        raise OptionError("--weeks", _("must be a whole number from 1 to 520, not {weeks}").format(weeks=weeks))
    check_writable_folder(output, "-o")
    now = local_now()
    first_day = parse_day("--from", start) if start is not None else now.date()
    from coach.routine import in_language
    from coach.session import default_language

    r = load_routine(routine)
    r = in_language(r, default_language(r))  # the events read in the user's language when the routine has it
    if r.frequency is None:
        raise OptionError("ROUTINE", _("{routine} does not say how often to do it (add frequency = {{ per_week = "
                                       "[2, 3] }} or {{ per_day = 2 }} to its file)").format(routine=r.id))
    times = parse_times(at if at is not None else default_times(r.frequency))
    events = plan_events(r.frequency, times, first_day, weeks, named_zone(now))
    data = calendar_bytes(r.id, r.title, estimated_plan(r).duration_s, r.equipment, events, now)
    write_private(output, data, "-o")
    at_times = ", ".join(f"{t:%H:%M}" for t in times)
    if len(events[0].weekdays) == 7:
        days = _("every day")
    else:
        days = ", ".join(_weekday_name(WEEKDAYS.index(d)) for d in events[0].weekdays)
    if weeks:
        line = ngettext("wrote {output} ({days} at {times}, {weeks} week)",
                        "wrote {output} ({days} at {times}, {weeks} weeks)", weeks)
    else:
        line = _("wrote {output} ({days} at {times})")
    print(line.format(output=output, days=days, times=at_times, weeks=weeks), file=sys.stderr)


def _weekday_name(index: int) -> str:
    """A weekday's short name (Monday is 0) in the user's language: 'Mon', 'lun.'."""
    from datetime import date

    from coach.i18n import format_date

    return format_date(date(2024, 1, 1 + index), "EEE", "%a")  # 1 January 2024 was a Monday
