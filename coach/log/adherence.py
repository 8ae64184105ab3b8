"""Keeping count, purely: which sessions count, how many this day or week, what is due, the streak."""

from __future__ import annotations
from coach.i18n import _

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

COUNTS_PERCENT = 80  # a session counts when it did at least this much of its planned exercise time


def counts_rule() -> str:
    """Which sessions count, in a sentence."""
    return _("A session counts when it did at least {percent} of its planned exercise time (one skipped through "
             "to its end does not).").format(percent=f"{COUNTS_PERCENT} %")


def weeks_rule() -> str:
    """How weeks are counted, in a sentence."""
    return _("Weeks run Monday to Sunday, in local time.")


def __getattr__(name: str) -> str:
    # COUNTS_RULE and WEEKS_RULE are read in the language of the moment
    if name == "COUNTS_RULE":
        return counts_rule()
    if name == "WEEKS_RULE":
        return weeks_rule()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class SessionFacts:
    """What adherence needs of a logged session."""

    started_at: datetime  # aware, in the local time it started in
    outcome: str
    planned_s: float
    done_s: float
    pain: int | None = None


@dataclass(frozen=True)
class WeekTally:
    """One calendar week of a routine's sessions."""

    monday: date
    counted: int  # sessions that count
    started: int  # all sessions, counting or not
    pain_avg: float | None  # the mean of the pain scores given that week, None when none were


@dataclass(frozen=True)
class Standing:
    """Where one routine stands in the current day or week."""

    period: str  # "day" | "week"
    start: date  # first day of the current period
    end: date  # last day of the current period (the same day for per-day routines)
    low: int
    high: int
    done: int  # sessions that count, this period
    due: bool  # fewer than the low end done so far
    streak: int  # periods in a row that met the low end, the current one included once met


def counts(session: SessionFacts) -> bool:
    """Whether a session counts towards its routine's frequency: by the exercise time done, however it ended.

    "finished" only says the session reached its end, which `next` reaches with nothing done.
    """
    if session.planned_s <= 0:
        return session.outcome == "finished"  # nothing to do but get to the end
    # Whole-number products, so exactly 80 % counts (0.8 * planned_s would carry a rounding error).
    return session.done_s * 100 >= session.planned_s * COUNTS_PERCENT


def week_start(day: date) -> date:
    """The Monday of the calendar week holding day."""
    return day - timedelta(days=day.weekday())


def period_bounds(day: date, period: str) -> tuple[date, date]:
    """First and last day of the day or Monday-to-Sunday week holding day."""
    if period == "day":
        return day, day
    if period == "week":
        monday = week_start(day)
        return monday, monday + timedelta(days=6)
    raise ValueError(f"unknown period {period!r}")


def _index(day: date, period: str) -> int:
    """A number for each day or week that grows by one per period (date(1, 1, 1) was a Monday)."""
    ordinal = day.toordinal()
    return ordinal if period == "day" else (ordinal - 1) // 7


def standing(sessions: Iterable[SessionFacts], frequency: tuple[str, int, int], now: datetime) -> Standing:
    """Count, due and streak of one routine's sessions at `now`, on local calendar dates."""
    period, low, high = frequency
    # Each session's own local date, from its stored offset: a DST change never moves it to another day.
    per_period = Counter(_index(s.started_at.date(), period) for s in sessions if counts(s))
    current = _index(now.date(), period)
    done = per_period[current]
    streak = 1 if done >= low else 0
    earlier = current - 1
    while earlier in per_period and per_period[earlier] >= low:
        streak += 1
        earlier -= 1
    start, end = period_bounds(now.date(), period)
    return Standing(period, start, end, low, high, done, done < low, streak)


def weekly_tallies(sessions: Iterable[SessionFacts], now: datetime, weeks: int = 8) -> list[WeekTally]:
    """The last `weeks` calendar weeks up to the one holding `now`, oldest first."""
    this_monday = week_start(now.date())
    mondays = [this_monday - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
    counted: Counter[date] = Counter()
    started: Counter[date] = Counter()
    pains: dict[date, list[int]] = {}
    for s in sessions:
        monday = week_start(s.started_at.date())
        started[monday] += 1
        counted[monday] += counts(s)
        if s.pain is not None:
            pains.setdefault(monday, []).append(s.pain)
    return [WeekTally(m, counted[m], started[m], sum(pains[m]) / len(pains[m]) if m in pains else None)
            for m in mondays]
