"""A session done away from the computer, added by hand: when it was, how much of it, how it ended."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

from coach.errors import OptionError
from coach.i18n import _

EARLIEST_YEAR = 2000


@dataclass(frozen=True)
class ManualEntry:
    """What `coach log add` stores: the times as local ISO text, the seconds and the outcome."""

    started: datetime
    ended: datetime
    planned_s: float
    done_s: float
    outcome: str  # "finished" or "partial"


def local_zone(now: datetime) -> tzinfo:
    """The zone to read a wall-clock time in: the clock's own zone, else the system's when it agrees, else its offset."""
    zone = now.tzinfo
    if zone is None:
        raise ValueError("the clock must tell its UTC offset")
    if getattr(zone, "key", None):  # a zoneinfo zone knows its own clock changes
        return zone
    system = now.astimezone().tzinfo  # the system's local zone at that instant
    if system is not None and system.utcoffset(now) == zone.utcoffset(now):
        return _SystemZone()
    return zone


class _SystemZone(tzinfo):
    """The system's local time zone, whose offset follows its clock changes (as datetime.astimezone() sees them)."""

    def utcoffset(self, dt):
        return self._local(dt).utcoffset()

    def dst(self, dt):
        return self._local(dt).dst()

    def tzname(self, dt):
        return self._local(dt).tzname()

    @staticmethod
    def _local(dt: datetime) -> datetime:
        return dt.replace(tzinfo=None).astimezone()


def localize(naive: datetime, zone: tzinfo) -> datetime:
    """A wall-clock time in zone, with the offset it has on that date (fixed zones stay fixed)."""
    moment = naive.replace(tzinfo=zone)
    if isinstance(zone, _SystemZone):
        moment = moment.replace(tzinfo=naive.astimezone().tzinfo)  # a plain offset, as the log stores
    return moment


def parse_at(text: str, now: datetime) -> datetime:
    """--at: 'YYYY-MM-DD HH:MM', 'HH:MM' (today) or ISO 8601 with an offset; not in the future nor before 2000."""
    text = text.strip()
    try:
        if len(text) <= 5 and ":" in text:
            moment = datetime.combine(now.date(), time.fromisoformat(text.zfill(5)))
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        raise OptionError("--at", _("must be a local time as 'YYYY-MM-DD HH:MM' or 'HH:MM', not '{text}'").format(
            text=text)) from None
    # Both bounds are checked before the time is placed in a zone: at the calendar's ends (0001-01-01,
    # 9999-12-31) an offset would carry it out of the range datetime can hold.
    if moment.year < EARLIEST_YEAR:
        raise OptionError("--at", _("{text} is before {year}; give the date the session was done").format(
            text=text, year=EARLIEST_YEAR))
    if moment.tzinfo is None:
        if moment.date() > now.date() + timedelta(days=1):  # in the future in every zone
            raise _in_the_future(text, now)
        moment = localize(moment, local_zone(now))
    if moment > now:
        raise _in_the_future(text, now)
    return moment


def _in_the_future(text: str, now: datetime) -> OptionError:
    return OptionError("--at", _("{text} is in the future (it is now {now}); give the time the session was "
                                 "done").format(text=text, now=f"{now:%Y-%m-%d %H:%M}"))


def parse_done(text: str) -> float:
    """--done: a share such as '100%', '75 %' or '75', as a fraction from 0 (exclusive) to 1."""
    number = text.strip().removesuffix("%").strip()
    try:
        percent = float(number)
    except ValueError:
        raise OptionError("--done", _("must be a percentage such as {full} or {part}, not '{text}'").format(
            full="100%", part="60%", text=text)) from None
    if not 0 < percent <= 100:
        raise OptionError("--done", _("must be more than 0 % and at most 100 %, not '{text}'").format(text=text))
    return percent / 100


def manual_entry(planned_s: float, length_s: float, now: datetime, at: str | None = None,
                 done: str | None = None, minutes: float | None = None) -> ManualEntry:
    """The session to add: --done or --minutes (of the routine's length) give the share done; the default is all.

    Without --at the session is taken to have just ended.
    """
    if done is not None and minutes is not None:
        raise OptionError("--minutes", _("give either --done or --minutes, not both"))
    if minutes is not None and not minutes > 0:
        raise OptionError("--minutes", _("must be more than 0, not {minutes}").format(minutes=f"{minutes:g}"))
    share = parse_done(done) if done is not None else 1.0
    if minutes is not None:
        share = min(1.0, minutes * 60 / length_s) if length_s > 0 else 1.0
    took = timedelta(seconds=round(length_s * share))
    started = parse_at(at, now) if at is not None else now - took
    # Rounded up to the millisecond, so that 80 % entered is never a hair under 80 % stored.
    done_s = min(planned_s, math.ceil(planned_s * share * 1000) / 1000)
    return ManualEntry(started, started + took, planned_s, done_s,
                       "finished" if share >= 1.0 else "partial")
