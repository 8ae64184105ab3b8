"""How the practice log looks in a terminal: the history table, the 8-week chart, today's standing."""

from __future__ import annotations

from datetime import date, datetime

from rich import box
from rich.table import Table
from rich.cells import cell_len
from rich.text import Text

from coach.log.adherence import Standing, WeekTally
from coach.log.book import LoggedSession
from coach.log.outcomes import outcome_text
from coach.terminal import printable
from coach.timefmt import clock
from coach.i18n import _, format_date, format_number, language, ngettext

CHART_WEEKS = 8
_MAX_BAR = 42
_RIGHT = 16
_WIDE_TABLE = 72  # narrower terminals get the two-line rows  # " 12✓  pain 10.0": the count, its mark and the average pain


def range_text(low: int, high: int) -> str:
    """'2' or '2–3'."""
    return str(low) if low == high else f"{low}–{high}"


def week_text(start: date, end: date) -> str:
    """A Monday-to-Sunday week, as 'Mon 16 – Sun 22 Nov' (months and years only where needed)."""
    if language() != "en":
        from babel.dates import format_interval

        skeleton = "yMMMEd" if start.year != end.year else "MMMEd"
        return format_interval(start, end, skeleton, locale=language())
    if start.year != end.year:
        return f"Mon {start.day} {start:%b} {start.year} – Sun {end.day} {end:%b} {end.year}"
    if start.month != end.month:
        return f"Mon {start.day} {start:%b} – Sun {end.day} {end:%b}"
    return f"Mon {start.day} – Sun {end.day} {end:%b}"


def when_text(moment: datetime) -> str:
    """A session's local start, to the minute."""
    return f"{moment:%Y-%m-%d %H:%M}"


def done_percent(session: LoggedSession) -> int:
    """The share of the planned exercise time that was done, in whole per cent (at most 100)."""
    if session.planned_s <= 0:
        return 100 if session.outcome == "finished" else 0
    return min(100, int(100 * session.done_s / session.planned_s))


def history_table(sessions: list[LoggedSession], width: int) -> Table:
    """The sessions, newest first, as a table that fits `width` (two lines a row in narrow terminals)."""
    wide = width >= _WIDE_TABLE
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1), expand=False)
    table.add_column(_("When"), overflow="fold")
    table.add_column(_("Routine"), overflow="fold", min_width=6)
    if wide:
        table.add_column(_("Length"), justify="right")
        table.add_column(_("Done"), justify="right")
        table.add_column(_("Outcome"))
    else:
        table.add_column(_("Done"), overflow="fold")
    table.add_column(_("Pain"), justify="right")
    for s in sessions:
        routine = Text(printable(s.routine))  # a Text, so rich reads no markup in it either
        length_s = s.length_s
        pain = "" if s.pain is None else str(s.pain)
        if wide:
            table.add_row(when_text(s.started), routine, "–" if length_s is None else clock(length_s),
                          f"{done_percent(s)} %", outcome_text(s.outcome), pain)
        else:
            table.add_row(f"{s.started:%Y-%m-%d}\n{s.started:%H:%M}", routine,
                          f"{done_percent(s)} %\n{outcome_text(s.outcome)}", pain)
    return table


def target_text(frequency: tuple[str, int, int] | None) -> str:
    """'target 2–3 a week', 'target 2–3 a day (14–21 a week)', or '' without a frequency."""
    if frequency is None:
        return ""
    period, low, high = frequency
    if period == "day":
        return _("target {range} a day ({week_range} a week)").format(range=range_text(low, high),
                                                                       week_range=range_text(7 * low, 7 * high))
    return _("target {range} a week").format(range=range_text(low, high))


def weekly_target(frequency: tuple[str, int, int] | None) -> tuple[int, int] | None:
    """The frequency as sessions a week."""
    if frequency is None:
        return None
    period, low, high = frequency
    return (7 * low, 7 * high) if period == "day" else (low, high)


def chart(routine: str, tallies: list[WeekTally], frequency: tuple[str, int, int] | None, width: int) -> list[Text]:
    """Sessions a week against the target, with the average pain, as lines of at most `width` cells."""
    target = weekly_target(frequency)
    if target:
        title = _("{routine}: sessions a week, {target}").format(routine=printable(routine),
                                                                 target=target_text(frequency))
    else:
        title = _("{routine}: sessions a week").format(routine=printable(routine))
    lines = [Text(title, style="bold")]
    scale = max([t.started for t in tallies] + [target[1] if target else 0, 1])
    days = [format_date(t.monday, "MMMdd", "%d %b") for t in tallies]
    day_cells = max(map(cell_len, days), default=6)  # "05 Dec"; "19. Okt." in German: the bars start in one column
    bar_width = max(4, min(_MAX_BAR, 4 * scale, width - day_cells - 1 - _RIGHT))
    for t, day in zip(tallies, days):
        lines.append(_chart_row(t, day + " " * (day_cells - cell_len(day)), target, bar_width, scale))
    lines.append(Text(_("█ counts  ░ did not count  · short of the target"), style="dim"))
    return lines


def _chart_row(t: WeekTally, day: str, target: tuple[int, int] | None, bar_width: int, scale: int) -> Text:
    cells = lambda n: round(n * bar_width / scale)  # noqa: E731
    counted, started = cells(t.counted), cells(t.started)
    short = max(0, cells(target[0]) - started) if target else 0
    met = target is not None and t.counted >= target[0]
    row = Text(day + " ")
    row.append("█" * counted, style="green" if met else "yellow")
    row.append("░" * (started - counted), style="dim")
    row.append("·" * short, style="dim")
    row.append(" " * (bar_width - counted - (started - counted) - short))
    tail = f" {t.counted:>2}{'✓' if met else ' '}"
    pain = _("pain {score}").format(score=format_number(t.pain_avg, 1, fixed=True)) if t.pain_avg is not None else ""
    row.append(tail + "  " + pain if pain else tail.rstrip())
    return row


def standing_line(routine: str, s: Standing) -> str:
    """'back-pain-feet: 1 of 2–3 this week (Mon 16 – Sun 22 Nov); due now; streak: 2 weeks'."""
    streak = (ngettext("streak: {count} day", "streak: {count} days", s.streak) if s.period == "day"
              else ngettext("streak: {count} week", "streak: {count} weeks", s.streak)).format(count=s.streak)
    if s.period == "day":
        state = _("due now") if s.due else _("done for today")
        text = _("{routine}: {done} of {target} today; {state}; {streak}")
    else:
        state = _("due now") if s.due else _("done for this week")
        text = _("{routine}: {done} of {target} this week ({week}); {state}; {streak}")
    return text.format(routine=printable(routine), done=s.done, target=range_text(s.low, s.high),
                       week=week_text(s.start, s.end), state=state, streak=streak)


def standing_json(routine: str, s: Standing) -> dict:
    """One routine's entry in `coach today --json`."""
    return {"routine": routine, "period": s.period, "target": [s.low, s.high], "done": s.done,
            "due": s.due, "streak": s.streak}
