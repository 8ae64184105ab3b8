"""The command line: the commands of coach/cli/ put together, and the one error path they all share."""

from __future__ import annotations

import sys
import traceback
from typing import Optional

import typer

from coach import __version__
from coach.cli import config, ical, log, manual, remind, report, routines, sessions, voice
from coach.cli.words import translate_help, translate_libraries, usage_message
from coach.errors import CoachError, ExitStatus
from coach.i18n import _
from coach.terminal import flush_stdout, hide_library_warnings, printable, unexpected_failure

# typer keeps its own copy of click; reach its exception classes through a public one
_UsageError = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="coach: a voice-guided audio coach. It speaks each instruction, counts the holds out loud, "
    "beeps the rests, and can export a whole session to an audio file.",
)


def _version(value: bool) -> None:
    if value:
        print(f"coach {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
    debug: bool = typer.Option(False, "--debug", help="Show a traceback when something fails."),
) -> None:
    """coach's global options (main() reads --debug itself; `coach run` asks its context for it)."""


# In the order `coach --help` lists them (typer lists the single commands first, then the groups).
app.command("routines")(routines.routines_command)
app.command("show")(routines.show_command)
app.command("plan")(sessions.plan_command)
app.command("export")(sessions.export_command)
app.command("run")(sessions.run_command)
app.command("validate")(routines.validate_command)
app.command("history")(log.history_command)
app.command("today")(log.today_command)
app.command("report")(report.report_command)
app.command("calendar")(ical.calendar_command)
app.command("remind")(remind.remind_command)
app.command("say")(voice.say_command)
app.add_typer(manual.log_app, name="log")
app.add_typer(voice.voices_app, name="voices")
app.add_typer(config.config_app, name="config")


def main(argv: Optional[list[str]] = None) -> None:
    """Run the CLI: one error path, one line per failure, no tracebacks unless --debug."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    hide_library_warnings(show=debug)
    try:
        translate_libraries()
        command = typer.main.get_command(app)
        translate_help(command)  # in the language of this run: an in-process caller may change it
        result = command(args=args, prog_name="coach", standalone_mode=False)
        flush_stdout()  # `> /dev/full`: the failure is raised here, not at exit
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except _UsageError as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":
            exc.show()
            sys.exit(ExitStatus.BAD_INPUT)
        ctx = getattr(exc, "ctx", None)
        command = ctx.command_path if ctx is not None else "coach"
        print(printable(_("{command}: {message} (see '{command} --help')").format(
            command=command, message=usage_message(exc.format_message()))), file=sys.stderr)
        sys.exit(ExitStatus.BAD_INPUT)
    except (KeyboardInterrupt, typer.Abort):
        print(_("coach: stopped"), file=sys.stderr)
        sys.exit(ExitStatus.INTERRUPTED)
    except CoachError as exc:
        if debug:
            traceback.print_exc()
        print(f"coach: {printable(exc)}", file=sys.stderr)
        sys.exit(exc.exit_status)
    except BrokenPipeError:
        sys.stderr.close()
        sys.exit(ExitStatus.ERROR)
    except Exception as exc:  # a bug: still one line unless --debug
        if debug:
            traceback.print_exc()
        print(f"coach: {unexpected_failure(exc)}", file=sys.stderr)  # a full disk is no bug, but one line too
        sys.exit(ExitStatus.ERROR)
    sys.exit(result if isinstance(result, int) else ExitStatus.SUCCESS)
