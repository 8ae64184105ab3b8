"""`coach log` and its subcommands: add a session done elsewhere, remove one logged by mistake."""

from __future__ import annotations

import sys
from typing import Optional

import typer

from coach.i18n import _
from coach.cli.shared import estimated_plan, local_now
from coach.clock import local_iso
from coach.errors import InputError, OptionError
from coach.log.outcomes import outcome_text
from coach.log.pain import PAIN_MAX, PAIN_MIN

log_app = typer.Typer(help="Add a pain score or a note, add a session done elsewhere, or remove one.")

PAIN_HELP = "The pain score, from 0 (no pain) to 10 (the worst imaginable)."  # PAIN_MIN, PAIN_MAX


@log_app.callback(invoke_without_command=True)
def log_callback(
    ctx: typer.Context,
    pain: Optional[int] = typer.Option(None, "--pain", help=PAIN_HELP),
    note: Optional[str] = typer.Option(None, "--note", help="A note to keep with the session."),
    session: Optional[int] = typer.Option(None, "--session", help="The session's id (see 'coach history'); default: the latest."),
) -> None:
    """Set the pain score and a note for the latest session (or the one given); or add or remove a session."""
    if ctx.invoked_subcommand is not None:
        if pain is not None or note is not None or session is not None:
            raise OptionError("--pain", _("goes after 'coach log {command}', not before it").format(
                command=ctx.invoked_subcommand))
        return
    from coach.cli.log import log_command

    log_command(pain=pain, note=note, session=session)


def _check_pain(pain: int | None) -> None:
    if pain is not None and not PAIN_MIN <= pain <= PAIN_MAX:
        raise OptionError("--pain", _("must be a whole number from {low} to {high}, not {pain}").format(
            low=PAIN_MIN, high=PAIN_MAX, pain=pain))


@log_app.command("add")
def add_command(
    routine: str = typer.Argument(..., help="The routine done: a built-in name, one of yours, or a .toml file."),
    at: Optional[str] = typer.Option(None, "--at", help="When it started, local time: 'YYYY-MM-DD HH:MM' or 'HH:MM' today (default: it just ended)."),
    done: Optional[str] = typer.Option(None, "--done", help="How much of it was done, such as 100% or 60% (default: all)."),
    minutes: Optional[float] = typer.Option(None, "--minutes", help="How many minutes of it were done (default: all)."),
    pain: Optional[int] = typer.Option(None, "--pain", help=PAIN_HELP),
    note: Optional[str] = typer.Option(None, "--note", help="A note to keep with the session."),
) -> None:
    """Log a session done away from the computer (with the exported audio, in a gym, ...).

    It counts for 'coach today' and the streaks by the same rule as a live session: when at least
    80 % of its exercise time was done.
    """
    from coach.log.book import Logbook, default_path
    from coach.log.manual import manual_entry
    from coach.log.recorder import planned_entries
    from coach.routine import load_routine

    _check_pain(pain)
    now = local_now()
    r = load_routine(routine)
    planned_s, _entries = planned_entries(r)
    entry = manual_entry(planned_s, estimated_plan(r).duration_s, now, at, done, minutes)
    name = r.id
    with Logbook(default_path()) as log:
        session_id = log.add_session(name, r.title, r.language, local_iso(entry.started), local_iso(entry.ended),
                                     entry.planned_s, entry.done_s, entry.outcome, pain, note)
    share = min(100, int(100 * entry.done_s / entry.planned_s)) if entry.planned_s else 100
    from coach.terminal import printable

    print(printable(_("added session {id}: {routine}, {started}, {share} % done ({outcome})").format(
        id=session_id, routine=name, started=f"{entry.started:%Y-%m-%d %H:%M}", share=share,
        outcome=outcome_text(entry.outcome))))


@log_app.command("remove")
def remove_command(
    session: int = typer.Argument(..., help="The session's id (see 'coach history')."),
    yes: bool = typer.Option(False, "--yes", help="Remove without asking (needed when not in a terminal)."),
) -> None:
    """Remove a session logged by mistake (asks first when run in a terminal)."""
    from coach.log.book import Logbook, default_path

    if not default_path().exists():
        raise InputError(_("no sessions are logged yet, so there is nothing to remove"))
    with Logbook(default_path()) as log:
        found = next((s for s in log.sessions() if s.id == session), None)
        if found is None:
            raise OptionError("SESSION", _("there is no session {id} in the log (see 'coach history')").format(
                id=session))
        from coach.terminal import printable

        what = printable(_("session {id} ({routine}, {started}, {outcome})").format(
            id=found.id, routine=found.routine, started=f"{found.started:%Y-%m-%d %H:%M}",
            outcome=outcome_text(found.outcome)))
        if not yes:
            if not sys.stdin.isatty():
                raise OptionError("--yes", _("is needed to remove {session} when not asked in a terminal").format(
                    session=what))
            if not typer.confirm(_("Remove {session} from the log?").format(session=what), default=False):
                print(_("nothing removed"))
                return
        log.remove_session(session)
    print(_("removed {session}").format(session=what))
