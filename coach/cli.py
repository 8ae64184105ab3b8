"""The command line: thin commands over the pipeline, one error path."""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path
from typing import Optional

import typer

from coach import __version__
from coach.errors import CoachError, OptionError
from coach.model import Plan
from coach.plan import Settings, estimate_clip_duration, plan
from coach.routine import (Routine, builtin_names, load_routine, load_routine_file, nominal_duration_s,
                           user_routine_dir, user_routine_files)

# typer keeps its own copy of click; reach its exception classes through a public one
_UsageError = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")

DEFAULT_ROUTINE = "back-pain-feet"
DEFAULT_RATE_WPM = 160

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="coach: a voice-guided audio coach. It speaks each instruction, counts the holds out loud, "
    "beeps the rests, and can export a whole session to an audio file.",
)
_state = {"debug": False}


def _version(value: bool) -> None:
    if value:
        print(f"coach {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
    debug: bool = typer.Option(False, "--debug", help="Show a traceback when something fails."),
) -> None:
    _state["debug"] = debug


def check_rate(rate_wpm: int) -> int:
    """Reject speaking rates outside 80-400 words per minute."""
    if not 80 <= rate_wpm <= 400:
        raise OptionError("--rate", f"{rate_wpm} words per minute is outside 80-400")
    return rate_wpm


def _estimated_plan(routine: Routine, rate_wpm: int = DEFAULT_RATE_WPM) -> Plan:
    return plan(routine, Settings(), estimate_clip_duration(rate_wpm))


def _clock(seconds: float, millis: bool = True) -> str:
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    text = f"{minutes:02d}:{secs:06.3f}" if millis else f"{minutes:02d}:{int(secs):02d}"
    return f"{hours}:{text}" if hours else text


def _about(seconds: float) -> str:
    return f"about {max(1, round(seconds / 60))} min"


@app.command("routines")
def routines_command() -> None:
    """List the built-in routines and your own, with their length."""
    rows = []
    for name in builtin_names():
        rows.append((name, load_routine(name), "built-in"))
    for path in user_routine_files():
        try:
            rows.append((path.stem, load_routine_file(path), str(path)))
        except CoachError as exc:
            rows.append((path.stem, None, f"invalid: {exc}"))
    for name, routine, where in rows:
        if routine is None:
            print(f"{name:24}  {where}")
            continue
        n = len(routine.exercises)
        duration = _about(_estimated_plan(routine).duration_s)
        print(f"{name:24}  {routine.title}  ({n} exercise{'s' if n != 1 else ''}, {duration})"
              + ("" if where == "built-in" else f"  [{where}]"))
    if not user_routine_files():
        print(f"\nYour own routines go in {user_routine_dir()} (one .toml file each).")


@app.command("show")
def show_command(routine: str = typer.Argument(..., help="A built-in routine name or a path to a .toml file.")) -> None:
    """Show a routine as a person would read it."""
    r = load_routine(routine)
    print(r.title)
    if r.summary:
        print(r.summary)
    print(f"Length: {_about(_estimated_plan(r).duration_s)} (of which {_about(nominal_duration_s(r))} of exercise)")
    if r.frequency:
        unit, low, high = r.frequency
        print(f"How often: {low if low == high else f'{low}-{high}'} times a {unit}")
    if r.equipment:
        print(f"You need: {', '.join(r.equipment)}")
    if r.caution:
        print(f"Caution: {r.caution}")
    for i, ex in enumerate(r.exercises, start=1):
        print(f"\n{i}. {ex.name}")
        print(f"   {_dose_text(ex)}")
        if ex.sides:
            print(f"   Sides, in order: {'; '.join(ex.sides)}")
        print(f"   {ex.instructions}")
        for tip in ex.tips:
            print(f"   Tip: {tip}")


def _dose_text(ex) -> str:
    what = f"hold {ex.hold_s} s" if ex.hold_s is not None else f"{ex.work_s} s of movement"
    text = f"{what} x {ex.reps}" if ex.reps > 1 else what
    if ex.reps > 1:
        text += f", {ex.rest_s:g} s rest between"
    if ex.sets > 1:
        text += f"; {ex.sets} sets, {ex.set_rest_s:g} s rest between sets"
    if ex.sides:
        text += f"; each of {len(ex.sides)} sides"
    return text + f"; {ex.setup_s:g} s to get into position"


@app.command("plan")
def plan_command(
    routine: str = typer.Argument(DEFAULT_ROUTINE, help="A built-in routine name or a path to a .toml file."),
    rate: int = typer.Option(DEFAULT_RATE_WPM, "--rate", help="Speaking rate in words per minute (80-400)."),
    as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON."),
) -> None:
    """Print the session's timeline: when each cue is spoken or sounded."""
    check_rate(rate)
    p = _estimated_plan(load_routine(routine), rate)
    if as_json:
        json.dump(p.to_json(), sys.stdout, indent=2)
        print()
        return
    print(f"{p.title}: {_clock(p.duration_s, millis=False)}")
    chapters = list(p.chapters)
    for cue in p.cues:
        while chapters and chapters[0].start_s <= cue.at_s:
            print(f"\n{_clock(chapters[0].start_s)}  == {chapters.pop(0).title} ==")
        what = cue.text if cue.kind == "speech" else f"[{cue.sound} sound]"
        print(f"{_clock(cue.at_s)}  {what}")
    print(f"\n{_clock(p.duration_s)}  (end)")


@app.command("validate")
def validate_command(files: list[Path] = typer.Argument(..., help="Routine files to check.")) -> None:
    """Check routine files; exit 0 when all are valid, 2 otherwise."""
    bad = 0
    for path in files:
        try:
            r = load_routine_file(path)
        except CoachError as exc:
            bad += 1
            print(f"coach: {exc}", file=sys.stderr)
        else:
            print(f"{path}: ok ({r.title}, {len(r.exercises)} exercises)")
    if bad:
        raise typer.Exit(2)


def main(argv: Optional[list[str]] = None) -> None:
    """Run the CLI: one error path, one line per failure, no tracebacks unless --debug."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        result = app(args=args, prog_name="coach", standalone_mode=False)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except _UsageError as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":
            exc.show()
            sys.exit(2)
        ctx = getattr(exc, "ctx", None)
        command = ctx.command_path if ctx is not None else "coach"
        print(f"{command}: {exc.format_message()} (see '{command} --help')", file=sys.stderr)
        sys.exit(2)
    except (KeyboardInterrupt, typer.Abort):
        print("coach: stopped", file=sys.stderr)
        sys.exit(130)
    except CoachError as exc:
        if debug:
            traceback.print_exc()
        print(f"coach: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except BrokenPipeError:
        sys.stderr.close()
        sys.exit(1)
    except Exception as exc:  # a bug: still one line unless --debug
        if debug:
            traceback.print_exc()
        print(f"coach: internal error: {type(exc).__name__}: {exc} (run with --debug for details)", file=sys.stderr)
        sys.exit(1)
    sys.exit(result if isinstance(result, int) else 0)
