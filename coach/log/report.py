"""The report for a physiotherapist: one self-contained HTML file (inline CSS and SVG, nothing fetched)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from html import escape

from coach.log import charts
from coach.log.adherence import counts_rule, weeks_rule
from coach.log.book import LoggedSession
from coach.log.summary import PAIN_CHANGE, facts, overall_percent, pain_points, shortfalls, week_rows
from coach.log.outcomes import outcome_text
from coach.log.view import done_percent, target_text, weekly_target
from coach.timefmt import clock
from coach.i18n import _, format_date, language, ngettext

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
    day = lambda d: format_date(d, "yMMMMd", "%-d %B %Y")  # noqa: E731
    count = ngettext("{count} session", "{count} sessions", len(sessions)).format(count=len(sessions))
    made = _("made on {date}, {time} (UTC{offset})").format(date=day(now), time=f"{now:%H:%M}", offset=f"{now:%z}")
    by_hand = _("Sessions marked “by hand” were done away from the computer and added afterwards.")
    heading, span = _("Practice report"), _("{start} to {end}").format(start=day(start), end=day(today))
    parts = [f"<h1>{escape(heading)}</h1>\n<p class=\"meta\">{escape(span)} · {escape(count)} · "
             f"{escape(made)}</p>",
             f"<p class=\"rule\">{escape(counts_rule())} {escape(weeks_rule())} {escape(by_hand)}</p>"]
    for info in routines:
        parts.append(_routine_section(info, [s for s in sessions if s.routine == info.name], start, today))
    parts.append(_pain_section(sessions))
    parts.append(_shortfall_section(sessions))
    parts.append(_session_table(sessions))
    body = "\n".join(parts)
    title = _("Practice report {start} to {end}").format(start=start.isoformat(), end=today.isoformat())
    return (f"<!DOCTYPE html>\n<html lang=\"{language()}\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n"
            f"<title>{escape(title)}</title>\n"
            f"<style>{STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")


def _paragraph(text: str) -> str:
    return f"<p>{escape(text)}</p>"


def _heads(*columns: tuple[str, bool]) -> str:
    """Table header cells: (title, numeric) each; numeric columns are right-aligned."""
    numeric = ' class="n"'
    return "".join(f"<th{numeric if n else ''}>{escape(title)}</th>" for title, n in columns)


def _routine_section(info: RoutineInfo, sessions: list[LoggedSession], start: date, today: date) -> str:
    rows = week_rows([facts(s) for s in sessions], info.frequency, start, today)
    overall = overall_percent(rows)
    target = target_text(info.frequency)
    head = [f"<section class=\"routine\" data-routine=\"{clean(info.name)}\">",
            f"<h2>{clean(info.title)} <span class=\"meta\">({clean(info.name)})</span></h2>"]
    if info.equipment:
        equipment = escape(_("Equipment: {equipment}")).format(equipment=clean(", ".join(info.equipment)))
        head.append(f"<p class=\"meta\">{equipment}</p>")
    if overall is None:
        text = ngettext("No target is set for this routine. {count} session.",
                        "No target is set for this routine. {count} sessions.", len(sessions))
        head.append(f"<p>{escape(text.format(count=len(sessions)))}</p>")
    else:
        adherence = _("Adherence {percent} %").format(percent=overall)
        head.append(f"<p><span class=\"big\" data-overall=\"{overall}\">{escape(adherence)}</span> · "
                    f"{escape(target[:1].upper() + target[1:])}</p>")
    if target:
        label = _("{routine}: sessions a week, {target}").format(routine=info.title, target=target)
    else:
        label = _("{routine}: sessions a week").format(routine=info.title)
    legend = _("Green: sessions that count; grey: sessions that did not; dashed line: the target.")
    head.append(f"<figure>{charts.weeks_chart(rows, weekly_target(info.frequency), clean(label))}"
                f"<figcaption>{clean(label)}. {escape(legend)}</figcaption></figure>")
    heads = _heads((_("Week of (Monday)"), False), (_("Sessions"), True), (_("Counted"), True), (_("Adherence"), True))
    lines = [f"<div class=\"scroll\"><table class=\"weeks\"><thead><tr>{heads}</tr></thead><tbody>"]
    for r in reversed(rows):
        percent = "–" if r.percent is None else f"{r.percent} %"
        lines.append(f"<tr data-week=\"{r.monday.isoformat()}\" data-counted=\"{r.counted}\"><td>{format_date(r.monday, 'yMMMd', '%-d %b %Y')}</td>"
                     f"<td class=\"n\">{r.started}</td><td class=\"n\">{r.counted}</td><td class=\"n\">{percent}</td></tr>")
    lines.append("</tbody></table></div></section>")
    return "\n".join(head + lines)


def _pain_section(sessions: Sequence[LoggedSession]) -> str:
    points = pain_points(sessions)
    parts = ["<section class=\"pain\"><h2>" + escape(_("Pain over time")) + "</h2>"]
    if not points:
        parts.append(_paragraph(_("No pain scores were given in these sessions.")) + "</section>")
        return "\n".join(parts)
    label = escape(_("Pain scores from 0 (none) to 10, each change of {points} points or more marked").format(
        points=PAIN_CHANGE))
    parts.append(f"<figure>{charts.pain_chart(points, label)}<figcaption>{label}.</figcaption></figure>")
    changed = [p for p in points if p.change is not None]
    if changed:
        parts.append(_paragraph(_("Changes of {points} points or more from the score before:").format(points=PAIN_CHANGE))
                     + "<ul class=\"changes\">")
        for p in changed:
            kind = "up" if p.change > 0 else "down"
            when = format_date(p.at, "yMMMEdHm", "%a %-d %b %Y %H:%M")
            change = f"<span class=\"change-{kind}\">{p.change:+d}</span>"
            parts.append("<li>" + escape(_("{when}: {change}, to {score}")).format(when=escape(when), change=change,
                                                                                   score=p.pain) + "</li>")
        parts.append("</ul>")
    else:
        parts.append(_paragraph(_("No score changed by {points} points or more from the one before.").format(
            points=PAIN_CHANGE)))
    parts.append("</section>")
    return "\n".join(parts)


def _shortfall_section(sessions: Sequence[LoggedSession]) -> str:
    found = shortfalls(sessions)
    parts = ["<section class=\"shortfalls\"><h2>" + escape(_("Exercises skipped or cut short")) + "</h2>"]
    if not found:
        parts.append(_paragraph(_("No exercise was skipped or cut short in the sessions coached live.")) + "</section>")
        return "\n".join(parts)
    heads = _heads((_("Exercise"), False), (_("Skipped"), True), (_("Cut short"), True), (_("Of sessions"), True))
    parts.append(f"<div class=\"scroll\"><table><thead><tr>{heads}</tr></thead><tbody>")
    for f in found:
        parts.append(f"<tr><td>{clean(f.name)}</td><td class=\"n\">{f.skipped}</td><td class=\"n\">{f.cut_short}</td>"
                     f"<td class=\"n\">{f.sessions}</td></tr>")
    note = _("Cut short: begun, then left before all its reps were done. Sessions added by hand have no detail "
             "per exercise.")
    parts.append(f"</tbody></table></div><p class=\"meta\">{escape(note)}</p></section>")
    return "\n".join(parts)


def _session_table(sessions: Sequence[LoggedSession]) -> str:
    parts = ["<section class=\"all\"><h2>" + escape(_("Sessions")) + "</h2>"]
    if not sessions:
        parts.append(_paragraph(_("No sessions in these dates.")) + "</section>")
        return "\n".join(parts)
    heads = _heads((_("When"), False), (_("Routine"), False), (_("Length"), True), (_("Done"), True),
                   (_("Outcome"), False), (_("Pain"), True), (_("Note"), False))
    parts.append(f"<div class=\"scroll\"><table class=\"sessions\"><thead><tr>{heads}</tr></thead><tbody>")
    for s in sessions:
        length = "–" if s.length_s is None else clock(s.length_s)
        outcome = escape(_("{outcome}, by hand").format(outcome=outcome_text(s.outcome)) if s.source == "manual"
                         else outcome_text(s.outcome))
        parts.append(f"<tr data-id=\"{s.id}\"><td>{s.started:%Y-%m-%d %H:%M}</td><td>{clean(s.routine)}</td>"
                     f"<td class=\"n\">{length}</td><td class=\"n\">{done_percent(s)} %</td><td>{outcome}</td>"
                     f"<td class=\"n\">{'' if s.pain is None else s.pain}</td><td class=\"note\">{clean(s.note or '')}</td></tr>")
    parts.append("</tbody></table></div></section>")
    return "\n".join(parts)
