"""Keeping count: what counts, done and due, streaks on local calendar days and Monday-to-Sunday weeks."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from coach.log.adherence import SessionFacts, counts, period_bounds, standing, weekly_tallies

BERLIN = ZoneInfo("Europe/Berlin")
WINTER, SUMMER = timezone(timedelta(hours=1)), timezone(timedelta(hours=2))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def done(started: str, outcome: str = "finished", planned_s: float = 100, done_s: float = 100, pain=None) -> SessionFacts:
    return SessionFacts(at(started), outcome, planned_s, done_s, pain)


def test_a_session_counts_when_at_least_80_percent_done_however_it_ended():
    assert not counts(done("2026-11-16T08:00+01:00", "finished", 100, 0))  # skipped through to its end
    assert not counts(done("2026-11-16T08:00+01:00", "finished", 100, 79.9))
    assert counts(done("2026-11-16T08:00+01:00", "finished", 100, 80))
    assert counts(done("2026-11-16T08:00+01:00", "finished", 0, 0))  # nothing planned: reaching the end is all
    assert counts(done("2026-11-16T08:00+01:00", "stopped", 100, 80))
    assert counts(done("2026-11-16T08:00+01:00", "interrupted", 15, 12))  # exactly 80 %, no rounding error
    assert not counts(done("2026-11-16T08:00+01:00", "stopped", 100, 79.9))
    assert not counts(done("2026-11-16T08:00+01:00", "interrupted", 0, 0))


def test_weeks_run_monday_to_sunday():
    assert period_bounds(date(2026, 11, 18), "week") == (date(2026, 11, 16), date(2026, 11, 22))
    assert period_bounds(date(2026, 11, 22), "week") == (date(2026, 11, 16), date(2026, 11, 22))
    assert period_bounds(date(2026, 11, 23), "week") == (date(2026, 11, 23), date(2026, 11, 29))
    assert period_bounds(date(2026, 11, 18), "day") == (date(2026, 11, 18), date(2026, 11, 18))


def test_the_current_week_keeps_the_streak_until_it_is_over():
    weekly = ("week", 2, 3)
    history = [done("2026-11-03T18:00+01:00"), done("2026-11-06T18:00+01:00"),  # week of 2 Nov: met
               done("2026-11-09T18:00+01:00"), done("2026-11-15T23:59+01:00"),  # week of 9 Nov: met on Sunday night
               done("2026-11-16T07:00+01:00")]  # this week: 1 so far
    s = standing(history, weekly, at("2026-11-21T12:00+01:00"))
    assert (s.done, s.due, s.streak, s.start, s.end) == (1, True, 2, date(2026, 11, 16), date(2026, 11, 22))
    met = standing(history + [done("2026-11-21T09:00+01:00")], weekly, at("2026-11-21T12:00+01:00"))
    assert (met.done, met.due, met.streak) == (2, False, 3)
    next_week = standing(history, weekly, at("2026-11-23T00:01+01:00"))  # the week of 16 Nov ended short
    assert (next_week.done, next_week.due, next_week.streak) == (0, True, 0)


def test_short_and_future_sessions_do_not_count_and_a_gap_ends_the_streak():
    daily = ("day", 1, 2)
    history = [done("2026-11-10T08:00+01:00"), done("2026-11-12T08:00+01:00"),
               done("2026-11-13T08:00+01:00", "stopped", 100, 50),  # too short
               done("2026-11-14T08:00+01:00"), done("2026-11-15T08:00+01:00"),
               done("2026-11-16T08:00+01:00")]  # after "now"
    s = standing(history, daily, at("2026-11-15T20:00+01:00"))
    assert (s.done, s.due, s.streak) == (1, False, 2)


def test_local_dates_across_the_spring_and_autumn_clock_changes():
    daily = ("day", 1, 1)
    # Sunday 29 March 2026 has 23 hours in Berlin: 02:00 becomes 03:00.
    spring = [done("2026-03-28T23:30+01:00"), done("2026-03-29T00:30+01:00"), done("2026-03-30T00:10+02:00")]
    s = standing(spring, daily, at("2026-03-30T23:50+02:00"))
    assert (s.done, s.streak) == (1, 3)
    # Sunday 25 October 2026 has 25 hours: 03:00 becomes 02:00 again; 23:30 is still that Sunday.
    autumn = [done("2026-10-24T23:30+02:00"), done("2026-10-25T23:30+01:00"), done("2026-10-26T00:30+01:00")]
    s = standing(autumn, daily, at("2026-10-26T09:00+01:00"))
    assert (s.done, s.streak) == (1, 3)
    # The week of 19-25 October ends at Sunday midnight local time, 25 hours after Saturday's.
    weekly = standing(autumn, ("week", 2, 2), at("2026-10-25T23:59+01:00"))
    assert (weekly.done, weekly.streak, weekly.end) == (2, 1, date(2026, 10, 25))


def test_the_last_8_weeks_are_tallied_with_their_average_pain():
    history = [done("2026-11-16T08:00+01:00", pain=4), done("2026-11-22T23:00+01:00", "stopped", 100, 10, pain=7),
               done("2026-10-05T08:00+02:00", pain=2), done("2026-09-28T08:00+02:00")]  # 28 Sep: 9 weeks back
    tallies = weekly_tallies(history, at("2026-11-23T10:00+01:00"))
    assert [t.monday for t in tallies] == [date(2026, 10, 5) + timedelta(weeks=n) for n in range(8)]
    assert (tallies[0].counted, tallies[0].started, tallies[0].pain_avg) == (1, 1, 2)
    assert (tallies[6].counted, tallies[6].started, tallies[6].pain_avg) == (1, 2, 5.5)
    assert (tallies[7].counted, tallies[7].started, tallies[7].pain_avg) == (0, 0, None)


# --- generated histories against a plain reference -----------------------------------------------

def reference(sessions: list[SessionFacts], frequency: tuple[str, int, int], now: datetime) -> tuple[int, bool, int]:
    """Done, due and streak by walking back over calendar days or ISO weeks, one at a time."""
    period, low, _ = frequency

    def key(day: date):
        return day if period == "day" else day.isocalendar()[:2]

    def step_back(day: date) -> date:
        return day - timedelta(days=1 if period == "day" else 7)

    def counted_in(day: date) -> int:
        return sum(1 for s in sessions
                   if key(s.started_at.date()) == key(day)
                   and (5 * s.done_s >= 4 * s.planned_s if s.planned_s > 0 else s.outcome == "finished"))

    today = now.date()
    done_now = counted_in(today)
    streak = 1 if done_now >= low else 0
    day = step_back(today)
    while counted_in(day) >= low:
        streak += 1
        day = step_back(day)
    return done_now, done_now < low, streak


# Days around both 2026 clock changes in Berlin, at any minute (some fall in the hour that does not exist).
BASES = (date(2026, 3, 19), date(2026, 10, 15))  # the change is on day 10


DAYS = 21


@st.composite
def histories(draw):
    base = draw(st.sampled_from(BASES))

    def local(day: int, minute: int) -> datetime:
        d = base + timedelta(days=day)
        wall = datetime(d.year, d.month, d.day, minute // 60, minute % 60, tzinfo=BERLIN)
        # stored and read back as ISO text with a fixed offset, as the log does
        return datetime.fromisoformat(wall.astimezone(timezone.utc).astimezone(BERLIN).isoformat())

    # minutes of the day, often near midnight and the changed hours, where a wrong date would show
    minute = st.one_of(st.integers(0, 24 * 60 - 1), st.sampled_from([0, 1, 59, 60, 119, 120, 150, 179, 180, 1380, 1439]))
    one = st.tuples(minute, st.sampled_from(["finished", "finished", "stopped", "interrupted"]),
                    st.sampled_from([0, 15, 100, 130]), st.integers(0, 130))
    # zero to three sessions on each day, so that runs of days and weeks are common
    days = draw(st.lists(st.lists(one, min_size=draw(st.integers(0, 1)), max_size=3), min_size=DAYS, max_size=DAYS))
    sessions = [SessionFacts(local(day, m), outcome, planned, done_s)
                for day, today in enumerate(days) for m, outcome, planned, done_s in today]
    frequency = (draw(st.sampled_from(["day", "week"])), draw(st.integers(1, 3)), 3)
    return sessions, frequency, local(draw(st.integers(0, DAYS - 1)), draw(minute))


@settings(max_examples=100, deadline=None)
@given(histories())
def test_standing_matches_the_reference_on_generated_histories(case):
    sessions, frequency, now = case
    s = standing(sessions, frequency, now)
    assert (s.done, s.due, s.streak) == reference(sessions, frequency, now)
    assert s.start <= now.date() <= s.end and s.start.weekday() == (0 if frequency[0] == "week" else now.weekday())


@settings(max_examples=30, deadline=None)
@given(histories())
def test_the_streak_never_drops_while_the_current_period_goes_on(case):
    sessions, frequency, now = case
    start, _ = period_bounds(now.date(), frequency[0])
    period_start = datetime(start.year, start.month, start.day, tzinfo=now.tzinfo)
    earlier = standing(sessions, frequency, period_start)
    later = standing(sessions, frequency, now)
    assert later.streak >= earlier.streak
