"""What the report tells, purely: weeks against the target, adherence, pain changes, exercises left undone."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from coach.log.adherence import SessionFacts, counts, week_start
from coach.log.book import LoggedSession

PAIN_CHANGE = 2  # a change of this many points or more is marked (the threshold physiotherapists use)


@dataclass(frozen=True)
class WeekRow:
    """One Monday-to-Sunday week of a routine, inside the report's dates."""

    monday: date
    started: int  # sessions begun
    counted: int  # sessions that count
    met: int  # sessions that count towards the target (per day or week, capped at its low end)
    wanted: int  # the low end of the target over the week's days inside the report (0 without a target)

    @property
    def percent(self) -> int | None:
        """Adherence this week in whole per cent, None without a target."""
        return None if not self.wanted else round(100 * self.met / self.wanted)


@dataclass(frozen=True)
class PainPoint:
    """One pain score, with the change from the score before when it is PAIN_CHANGE points or more."""

    at: datetime
    pain: int
    change: int | None


@dataclass(frozen=True)
class Shortfall:
    """How often an exercise was skipped, or begun and left before its reps were done, in the logged sessions."""

    name: str
    skipped: int
    cut_short: int
    sessions: int  # sessions that planned it


def facts(session: LoggedSession) -> SessionFacts:
    """What adherence needs of a logged session."""
    return SessionFacts(session.started, session.outcome, session.planned_s, session.done_s, session.pain)


def week_rows(sessions: Iterable[SessionFacts], frequency: tuple[str, int, int] | None,
              first_day: date, today: date) -> list[WeekRow]:
    """One row per week from first_day's to today's, oldest first; days outside [first_day, today] are left out."""
    per_day: Counter[date] = Counter()
    started: Counter[date] = Counter()
    for s in sessions:
        day = s.started_at.date()
        if first_day <= day <= today:
            started[week_start(day)] += 1
            per_day[day] += counts(s)
    rows = []
    monday = week_start(first_day)
    while monday <= today:
        days = [monday + timedelta(days=n) for n in range(7)]
        inside = [d for d in days if first_day <= d <= today]
        counted = sum(per_day[d] for d in days)
        met = wanted = 0
        if frequency is not None:
            period, low, _ = frequency
            if period == "day":
                met, wanted = sum(min(per_day[d], low) for d in inside), low * len(inside)
            else:
                met, wanted = min(counted, low), low
        rows.append(WeekRow(monday, started[monday], counted, met, wanted))
        monday += timedelta(days=7)
    return rows


def overall_percent(rows: Sequence[WeekRow]) -> int | None:
    """Adherence over all the weeks, in whole per cent (None without a target)."""
    wanted = sum(r.wanted for r in rows)
    return None if not wanted else round(100 * sum(r.met for r in rows) / wanted)


def pain_points(sessions: Iterable[LoggedSession]) -> list[PainPoint]:
    """The pain scores in time order, each change of PAIN_CHANGE points or more from the one before marked."""
    points: list[PainPoint] = []
    for s in sorted((s for s in sessions if s.pain is not None), key=lambda s: (s.started, s.id)):
        before = points[-1].pain if points else None
        change = None if before is None or abs(s.pain - before) < PAIN_CHANGE else s.pain - before
        points.append(PainPoint(s.started, s.pain, change))
    return points


def shortfalls(sessions: Iterable[LoggedSession], most: int = 8) -> list[Shortfall]:
    """The exercises most often skipped or cut short (sides taken together), most often first."""
    skipped: Counter[str] = Counter()
    cut: Counter[str] = Counter()
    planned: Counter[str] = Counter()
    for s in sessions:
        names_skipped, names_cut = set(), set()
        for e in s.exercises:
            if e.skipped:
                names_skipped.add(e.name)
            elif 0 < e.done_reps < e.planned_reps:
                names_cut.add(e.name)  # begun but left before its reps were done (exercises never reached are not)
        planned.update({e.name for e in s.exercises})
        skipped.update(names_skipped)
        cut.update(names_cut - names_skipped)
    found = [Shortfall(name, skipped[name], cut[name], planned[name]) for name in planned
             if skipped[name] or cut[name]]
    found.sort(key=lambda f: (-(f.skipped + f.cut_short), -f.skipped, f.name))
    return found[:most]
