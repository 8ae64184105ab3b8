"""`coach report`: the practice log as one HTML file to open, print or send."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from coach.cli.shared import all_sessions, local_now, parse_day, routines_with_frequency
from coach.errors import OptionError


def report_command(
    output: Path = typer.Option(..., "-o", "--output", help="The HTML file to write (readable by you alone)."),
    since: Optional[str] = typer.Option(None, "--since", help="Only sessions from this day on (YYYY-MM-DD, local time)."),
    routine: Optional[str] = typer.Option(None, "--routine", help="Only the sessions of this routine."),
) -> None:
    """Write a report of the practice log for your physiotherapist: adherence, pain over time, sessions.

    One HTML file with everything inside it: it opens offline in any browser, prints on A4 or
    Letter, and reads on a phone.
    """
    from coach.files import check_writable_folder
    from coach.files import write_private
    from coach.log.report import RoutineInfo, render

    if output.suffix.lower() not in (".html", ".htm"):
        raise OptionError("-o", f"the report is an HTML file: give a name ending in .html, not '{output.name}'")
    check_writable_folder(output, "-o")
    since_day = parse_day("--since", since) if since is not None else None
    now = local_now()
    if since_day is not None and since_day > now.date():
        raise OptionError("--since", f"{since_day} is in the future")
    logged = all_sessions(routine)
    sessions = [s for s in logged if since_day is None or s.started.date() >= since_day]
    known = dict(routines_with_frequency())
    # Every routine ever logged, so that weeks without a session still show against their target.
    names = [routine] if routine else sorted({s.routine for s in logged})
    infos = []
    for name in names:
        r = known.get(name)
        title = r.title if r is not None else next((s.title for s in logged if s.routine == name), name)
        infos.append(RoutineInfo(name, title, r.frequency if r else None, r.equipment if r else ()))
    html = render(sessions, infos, now, since_day)
    write_private(output, html.encode("utf-8"), "-o")
    print(f"wrote {output} ({len(sessions)} session{'s' if len(sessions) != 1 else ''})", file=sys.stderr)
