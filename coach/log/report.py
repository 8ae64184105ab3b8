"""The report for a physiotherapist: one self-contained HTML file (inline CSS and SVG, nothing fetched)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from html import escape

from coach.log import charts
from coach.log.adherence import COUNTS_RULE, WEEKS_RULE
from coach.log.book import LoggedSession
from coach.log.summary import PAIN_CHANGE, facts, overall_percent, pain_points, shortfalls, week_rows
from coach.log.view import done_percent, target_text, weekly_target
from coach.timefmt import clock

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

STYLE = """
:root { color-scheme: light; --ink: #1b1b1b; --soft: #5f6b73; --line: #d5dbe0; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--ink);
       margin: 0 auto; padding: 1rem; max-width: 58rem; background: #fff; }
h1 { font-size: 1.6rem; margin: 0 0 .3rem; } h2 { font-size: 1.25rem; margin: 2rem 0 .4rem; }
h3 { font-size: 1.05rem; margin: 1.2rem 0 .3rem; }
.meta, .rule, figcaption { color: var(--soft); font-size: .9rem; }
.big { font-size: 1.15rem; font-weight: 600; }
figure { margin: .6rem 0 1rem; break-inside: avoid; page-break-inside: avoid; }
figure svg { display: block; width: 100%; height: auto; max-height: 16rem; }
.scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
thead { display: table-header-group; } tr { break-inside: avoid; page-break-inside: avoid; }
section { break-inside: auto; }
.change-up { color: #c62828; font-weight: 600; } .change-down { color: #2e7d32; font-weight: 600; }
@media (max-width: 36rem) {
  body { font-size: 14px; padding: .6rem; }
  table.sessions thead { display: none; }
  table.sessions tr { display: block; border-bottom: 1px solid var(--line); padding: .3rem 0; }
  table.sessions td { display: inline-block; border: 0; padding: .1rem .4rem .1rem 0; }
  table.sessions td.note { display: block; }
}
@page { margin: 14mm 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  h2 { break-after: avoid; page-break-after: avoid; }
  figure svg { max-height: 7.5cm; }
  .scroll { overflow: visible; }
}
"""


@dataclass(frozen=True)
class RoutineInfo:
    """What the report says about a routine besides its sessions."""

    name: str
    title: str
    frequency: tuple[str, int, int] | None
    equipment: tuple[str, ...] = ()


def clean(text: str) -> str:
    """User text, without control characters, escaped for HTML."""
    return escape(_CONTROL.sub("", text))


def first_day(sessions: Sequence[LoggedSession], since: date | None, today: date) -> date:
    """Where the report starts: --since, else the first session's day, else today."""
    if since is not None:
        return since
    return min((s.started.date() for s in sessions), default=today)


def render(sessions: Sequence[LoggedSession], routines: Sequence[RoutineInfo], now: datetime,
           since: date | None = None) -> str:
    """The whole report as HTML text; sessions are those to show (already filtered), routines those to tell of."""
    today = now.date()
    start = first_day(sessions, since, today)
    parts = [f"<h1>Practice report</h1>\n<p class=\"meta\">{start:%-d %B %Y} to {today:%-d %B %Y} · "
             f"{len(sessions)} session{'s' if len(sessions) != 1 else ''} · made on {now:%-d %B %Y, %H:%M} (UTC{now:%z})</p>",
             f"<p class=\"rule\">{escape(COUNTS_RULE)} {escape(WEEKS_RULE)} Sessions marked “by hand” were "
             "done away from the computer and added afterwards.</p>"]
    for info in routines:
        parts.append(_routine_section(info, [s for s in sessions if s.routine == info.name], start, today))
    parts.append(_pain_section(sessions))
    parts.append(_shortfall_section(sessions))
    parts.append(_session_table(sessions))
    body = "\n".join(parts)
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n"
            f"<title>Practice report {start.isoformat()} to {today.isoformat()}</title>\n"
            f"<style>{STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")


def _routine_section(info: RoutineInfo, sessions: list[LoggedSession], start: date, today: date) -> str:
    rows = week_rows([facts(s) for s in sessions], info.frequency, start, today)
    overall = overall_percent(rows)
    target = target_text(info.frequency)
    head = [f"<section class=\"routine\" data-routine=\"{clean(info.name)}\">",
            f"<h2>{clean(info.title)} <span class=\"meta\">({clean(info.name)})</span></h2>"]
    if info.equipment:
        head.append(f"<p class=\"meta\">Equipment: {clean(', '.join(info.equipment))}</p>")
    if overall is None:
        head.append(f"<p>No target is set for this routine. {len(sessions)} sessions.</p>")
    else:
        head.append(f"<p><span class=\"big\" data-overall=\"{overall}\">Adherence {overall} %</span> · "
                    f"{escape(target.capitalize())}</p>")
    label = f"{info.title}: sessions a week" + (f", {target}" if target else "")
    head.append(f"<figure>{charts.weeks_chart(rows, weekly_target(info.frequency), clean(label))}"
                f"<figcaption>{clean(label)}. Green: sessions that count; grey: sessions that did not; "
                "dashed line: the target.</figcaption></figure>")
    lines = ["<div class=\"scroll\"><table class=\"weeks\"><thead><tr><th>Week of (Monday)</th><th class=\"n\">Sessions</th>"
             "<th class=\"n\">Counted</th><th class=\"n\">Adherence</th></tr></thead><tbody>"]
    for r in reversed(rows):
        percent = "–" if r.percent is None else f"{r.percent} %"
        lines.append(f"<tr data-week=\"{r.monday.isoformat()}\" data-counted=\"{r.counted}\"><td>{r.monday:%-d %b %Y}</td>"
                     f"<td class=\"n\">{r.started}</td><td class=\"n\">{r.counted}</td><td class=\"n\">{percent}</td></tr>")
    lines.append("</tbody></table></div></section>")
    return "\n".join(head + lines)


def _pain_section(sessions: Sequence[LoggedSession]) -> str:
    points = pain_points(sessions)
    parts = ["<section class=\"pain\"><h2>Pain over time</h2>"]
    if not points:
        parts.append("<p>No pain scores were given in these sessions.</p></section>")
        return "\n".join(parts)
    label = f"Pain scores from 0 (none) to 10, each change of {PAIN_CHANGE} points or more marked"
    parts.append(f"<figure>{charts.pain_chart(points, label)}<figcaption>{label}.</figcaption></figure>")
    changed = [p for p in points if p.change is not None]
    if changed:
        parts.append(f"<p>Changes of {PAIN_CHANGE} points or more from the score before:</p><ul class=\"changes\">")
        for p in changed:
            kind = "up" if p.change > 0 else "down"
            parts.append(f"<li>{p.at:%a %-d %b %Y %H:%M}: <span class=\"change-{kind}\">{p.change:+d}</span>, to {p.pain}</li>")
        parts.append("</ul>")
    else:
        parts.append(f"<p>No score changed by {PAIN_CHANGE} points or more from the one before.</p>")
    parts.append("</section>")
    return "\n".join(parts)


def _shortfall_section(sessions: Sequence[LoggedSession]) -> str:
    found = shortfalls(sessions)
    parts = ["<section class=\"shortfalls\"><h2>Exercises skipped or cut short</h2>"]
    if not found:
        parts.append("<p>No exercise was skipped or cut short in the sessions coached live.</p></section>")
        return "\n".join(parts)
    parts.append("<div class=\"scroll\"><table><thead><tr><th>Exercise</th><th class=\"n\">Skipped</th>"
                 "<th class=\"n\">Cut short</th><th class=\"n\">Of sessions</th></tr></thead><tbody>")
    for f in found:
        parts.append(f"<tr><td>{clean(f.name)}</td><td class=\"n\">{f.skipped}</td><td class=\"n\">{f.cut_short}</td>"
                     f"<td class=\"n\">{f.sessions}</td></tr>")
    parts.append("</tbody></table></div><p class=\"meta\">Cut short: begun, then left before all its reps were "
                 "done. Sessions added by hand have no detail per exercise.</p></section>")
    return "\n".join(parts)


def _session_table(sessions: Sequence[LoggedSession]) -> str:
    parts = ["<section class=\"all\"><h2>Sessions</h2>"]
    if not sessions:
        parts.append("<p>No sessions in these dates.</p></section>")
        return "\n".join(parts)
    parts.append("<div class=\"scroll\"><table class=\"sessions\"><thead><tr><th>When</th><th>Routine</th>"
                 "<th class=\"n\">Length</th><th class=\"n\">Done</th><th>Outcome</th><th class=\"n\">Pain</th>"
                 "<th>Note</th></tr></thead><tbody>")
    for s in sessions:
        length = "–" if s.length_s is None else clock(s.length_s)
        outcome = s.outcome + (", by hand" if s.source == "manual" else "")
        parts.append(f"<tr data-id=\"{s.id}\"><td>{s.started:%Y-%m-%d %H:%M}</td><td>{clean(s.routine)}</td>"
                     f"<td class=\"n\">{length}</td><td class=\"n\">{done_percent(s)} %</td><td>{outcome}</td>"
                     f"<td class=\"n\">{'' if s.pain is None else s.pain}</td><td class=\"note\">{clean(s.note or '')}</td></tr>")
    parts.append("</tbody></table></div></section>")
    return "\n".join(parts)
