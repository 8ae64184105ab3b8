"""`coach report`: the practice log as one HTML file to open, print or send."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Optional

import typer

from coach.i18n import _, available_languages, language as language_now, ngettext, use_language
from coach.cli.shared import all_sessions, local_now, parse_day, routines_with_frequency
from coach.errors import OptionError
from coach.routine import in_language


def report_command(
    output: Path = typer.Option(..., "-o", "--output", help="The HTML file to write (readable by you alone)."),
    since: Optional[str] = typer.Option(None, "--since", help="Only sessions from this day on (YYYY-MM-DD, local time)."),
    routine: Optional[str] = typer.Option(None, "--routine", help="Only the sessions of this routine."),
    language: Optional[str] = typer.Option(None, "--language", help="Write the report in this language (en, fr, "
                                           "de, es; default: your system's), for a reader who reads another."),
) -> None:
    """Write a report of the practice log for your physiotherapist: adherence, pain over time, sessions.

    One HTML file with everything inside it: it opens offline in any browser, prints on A4 or
    Letter, and reads on a phone.
    """
    from coach.files import check_writable_folder
    from coach.files import write_private
    from coach.log.report import RoutineInfo, render

    if output.suffix.lower() not in (".html", ".htm"):
        raise OptionError("-o", _("the report is an HTML file: give a name ending in .html, not '{name}'").format(
            name=output.name))
    if language is not None and language.strip().lower().replace("_", "-").split("-")[0] not in available_languages():
        raise OptionError("--language", _("coach writes reports in {languages}, not {language}").format(
            languages=", ".join(available_languages()), language=repr(language)))
    check_writable_folder(output, "-o")
    since_day = parse_day("--since", since) if since is not None else None
    now = local_now()
    if since_day is not None and since_day > now.date():
        raise OptionError("--since", _("{day} is in the future").format(day=since_day))
    logged = all_sessions(routine)
    sessions = [s for s in logged if since_day is None or s.started.date() >= since_day]
    known = dict(routines_with_frequency())
    # Every routine ever logged, so that weeks without a session still show against their target.
    names = [routine] if routine else sorted({s.routine for s in logged})
    with use_language(language) if language is not None else contextlib.nullcontext():
        infos = []
        for name in names:
            r = known.get(name)
            if r is not None:  # the routine's words in the report's language, when it has them
                r = in_language(r, _report_language(r))
            title = r.title if r is not None else next((s.title for s in logged if s.routine == name), name)
            infos.append(RoutineInfo(name, title, r.frequency if r else None, r.equipment if r else ()))
        html = render(sessions, infos, now, since_day)
    write_private(output, html.encode("utf-8"), "-o")
    print(ngettext("wrote {output} ({count} session)", "wrote {output} ({count} sessions)", len(sessions)).format(
        output=output, count=len(sessions)), file=sys.stderr)


def _report_language(routine) -> str:
    """The report's language when the routine is translated into it, else the routine's own."""
    wanted = language_now()
    return wanted if wanted in {code.split("-")[0] for code in routine.languages} else routine.language
