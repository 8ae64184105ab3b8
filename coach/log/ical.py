"""A routine's frequency as recurring calendar events (iCalendar), so that a phone's calendar does the reminding."""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from pathlib import Path

from coach.errors import OptionError
from coach.i18n import _

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
DEFAULT_TIMES = {1: ("08:00",), 2: ("08:00", "19:00"), 3: ("08:00", "13:00", "19:00")}


@dataclass(frozen=True)
class PlanEvent:
    """One recurring event: its first start, its rule, and the weekdays it falls on (all of them for daily ones)."""

    first: datetime  # local time in the zone (or floating, without tzinfo, when the zone has no name)
    rule: dict
    weekdays: tuple[str, ...]


def parse_times(text: str) -> list[time]:
    """--at: times of day as 'HH:MM', separated by commas, each given once."""
    times = []
    for part in (p.strip() for p in text.split(",")):
        try:
            if len(part) not in (4, 5) or ":" not in part:
                raise ValueError
            times.append(time.fromisoformat(part.zfill(5)))
        except ValueError:
            raise OptionError("--at", _("must be times of day as HH:MM separated by commas, not '{text}'").format(
                text=part or text)) from None
    if len(set(times)) != len(times):
        raise OptionError("--at", _("gives the same time twice ('{text}')").format(text=text))
    return sorted(times)


def calendar_frequency(frequency: tuple[str, int, int]) -> tuple[str, int, int]:
    """The frequency as the calendar writes it: more than 7 times a week is done several times a day, every day."""
    period, low, high = frequency
    if period == "week" and low > 7:
        return "day", -(-low // 7), -(-high // 7)  # whole days rounded up: 10 a week is twice a day
    return frequency


def default_times(frequency: tuple[str, int, int]) -> str:
    """The times used without --at: spread over the day for per_day routines, 08:00 otherwise."""
    period, low, _ = calendar_frequency(frequency)
    if period == "day":
        return ",".join(DEFAULT_TIMES.get(low) or [f"{7 + n * 12 // low:02d}:00" for n in range(low)])
    return "08:00"


def spread_weekdays(times_a_week: int) -> tuple[str, ...]:
    """Weekdays spread over the week, Monday first: 2 → Monday and Thursday, 3 → Monday, Wednesday, Friday."""
    return tuple(WEEKDAYS[n * 7 // times_a_week] for n in range(min(7, times_a_week)))


def named_zone(now: datetime) -> tzinfo | None:
    """The local zone with its name (so calendars follow its clock changes), None when it cannot be told."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    zone = now.tzinfo
    if getattr(zone, "key", None):
        return zone
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    try:
        link = os.readlink("/etc/localtime")
        candidates.append(link.split("zoneinfo/", 1)[1] if "zoneinfo/" in link else "")
    except OSError:
        pass
    try:
        candidates.append(Path("/etc/timezone").read_text().strip())
    except OSError:
        pass
    for key in filter(None, candidates):
        try:
            found = ZoneInfo(key)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            continue
        if found.utcoffset(now.replace(tzinfo=None)) == now.utcoffset():  # the clock's own offset
            return found
    return None


def plan_events(frequency: tuple[str, int, int], times: list[time], start: date, weeks: int | None,
                zone: tzinfo | None) -> list[PlanEvent]:
    """per_day: one daily event per time; per_week: one event on spread-out weekdays (one time only).

    OptionError naming --from when the first event would fall after the calendar's last day.
    """
    try:
        return _plan_events(calendar_frequency(frequency), times, start, weeks, zone)
    except OverflowError:  # date arithmetic past 9999-12-31
        raise OptionError("--from", _("{day} is too near the end of the calendar (9999-12-31) for the events to "
                                      "start").format(day=start)) from None


def _plan_events(frequency: tuple[str, int, int], times: list[time], start: date, weeks: int | None,
                 zone: tzinfo | None) -> list[PlanEvent]:
    period, low, _high = frequency
    if period == "day":
        weekdays, per_week = WEEKDAYS, 7
        rule_days: dict = {"FREQ": "DAILY"}
    else:
        if len(times) != 1:
            raise OptionError("--at", _("a routine done {count} times a week takes one time of day, not {times}").format(
                count=low, times=len(times)))
        weekdays, per_week = spread_weekdays(low), min(7, low)
        rule_days = {"FREQ": "WEEKLY", "BYDAY": list(weekdays), "WKST": "MO"}
    first_day = start
    while WEEKDAYS[first_day.weekday()] not in weekdays:
        first_day += timedelta(days=1)  # the first start must be an occurrence of the rule itself
    events = []
    for at in times:
        rule = dict(rule_days)
        if weeks is not None:
            rule["COUNT"] = per_week * weeks if period == "day" else _count(first_day, start, weekdays, weeks)
        first = datetime.combine(first_day, at)
        events.append(PlanEvent(first if zone is None else first.replace(tzinfo=zone), rule, weekdays))
    return events


def _count(first_day: date, start: date, weekdays: tuple[str, ...], weeks: int) -> int:
    """Occurrences from first_day up to the end of `weeks` weeks counted from start (or of the calendar)."""
    end = _days_after(start, 7 * weeks)
    day, n = first_day, 0
    while day < end:
        n += WEEKDAYS[day.weekday()] in weekdays
        day += timedelta(days=1)
    return max(1, n)


def calendar_bytes(routine_id: str, title: str, length_s: float, equipment: tuple[str, ...],
                   events: list[PlanEvent], stamp: datetime) -> bytes:
    """The events as an iCalendar file: an alarm at each start, title, length and equipment in the description."""
    from icalendar import Alarm, Calendar, Event, vText

    cal = Calendar()
    cal.add("prodid", "-//coach//practice plan//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", vText(f"coach: {title}"))  # a plain str in an X- property would not be escaped
    minutes = max(1, round(length_s / 60))
    lines = [title, _("Length: about {minutes} min").format(minutes=minutes)]
    if equipment:
        lines.append(_("You need: {equipment}").format(equipment=", ".join(equipment)))
    command = shlex.quote(routine_id)  # copied into a shell: a name with spaces or $(...) stays one word
    lines += [_("With coach: coach run {routine}").format(routine=command),
              _("Done elsewhere? Log it: coach log add {routine}").format(routine=command)]
    description = "\n".join(lines)
    for e in events:
        event = Event()
        event.add("uid", f"{routine_id}-{e.first:%Y%m%dT%H%M}-{'-'.join(e.weekdays)}@coach")
        event.add("dtstamp", stamp.astimezone(timezone.utc))
        event.add("dtstart", e.first)
        event.add("duration", timedelta(minutes=minutes))
        event.add("rrule", e.rule)
        event.add("summary", title)
        event.add("description", description)
        event.add("transp", "OPAQUE")
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", _("{title} (about {minutes} min)").format(title=title, minutes=minutes))
        alarm.add("trigger", timedelta(0))
        event.add_component(alarm)
        cal.add_component(event)
    if any(e.first.tzinfo is not None for e in events):
        first = min(e.first.date() for e in events)
        cal.add_missing_timezones(first_date=_days_after(first, -366), last_date=_days_after(first, 5 * 366))
    return cal.to_ical()


def _days_after(day: date, days: int) -> date:
    """day + days, held 100 days inside the calendar's ends (icalendar looks up to 64 days past what it gets)."""
    margin = 100
    ordinal = min(max(day.toordinal() + days, date.min.toordinal() + margin), date.max.toordinal() - margin)
    return date.fromordinal(ordinal)
