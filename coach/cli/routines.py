"""`coach routines`, `coach show` and `coach validate`: list the routines, read one, check routine files."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from coach.cli.shared import RoutineArg, estimated_plan, fitted
from coach.errors import CoachError, ExitStatus
from coach.i18n import _, ngettext
from coach.routine import (builtin_names, in_language, load_routine, load_routine_file, nominal_duration_s,
                           user_routine_dir, user_routine_files)
from coach.terminal import printable
from coach.timefmt import about_minutes


def routines_command() -> None:
    """List the built-in routines and your own, with their length."""
    rows = []
    for name in builtin_names():
        rows.append((name, load_routine(name), None))
    for path in user_routine_files():
        try:
            rows.append((path.stem, load_routine_file(path), str(path)))
        except CoachError as exc:
            rows.append((path.stem, None, _("invalid: {reason}").format(reason=exc)))
    for name, routine, where in rows:
        if routine is None:
            print(_fitted(printable(f"{name:24}  {where}")))
            continue
        routine = in_language(routine, shown_language(routine))  # its title in the user's language
        n = len(routine.exercises)
        about = ngettext("{count} exercise, {length}", "{count} exercises, {length}", n).format(
            count=n, length=about_minutes(estimated_plan(routine).duration_s))
        print(_fitted(printable(f"{name:24}  {routine.title}  ({about})" + ("" if where is None else f"  [{where}]"))))
    if not user_routine_files():
        print("\n" + _fitted(_("Your own routines go in {folder} (one .toml file each).").format(folder=user_routine_dir())))


def _fitted(line: str) -> str:
    """The line fitted to a terminal, continued under the title (or at the margin when the terminal is narrow)."""
    import shutil

    under_title = shutil.get_terminal_size().columns >= 60 and line[24:26] == "  "
    return fitted(line, sys.stdout, " " * 26 if under_title else "")


def shown_language(routine) -> str:
    """The language a routine is shown in: the language setting's when the routine has it, else its default."""
    # a settings file that cannot be read is left for the commands that use it to report
    from coach.config import load_settings
    from coach.session import default_language

    try:
        wanted = load_settings().values.get("language")
    except CoachError:
        wanted = None
    if isinstance(wanted, str) and wanted.split("-")[0] in {code.split("-")[0] for code in routine.languages}:
        return wanted
    return default_language(routine)


def show_command(routine: RoutineArg) -> None:
    """Show a routine as a person would read it."""
    r = load_routine(routine)
    r = in_language(r, shown_language(r))  # the language it is coached in when no option says otherwise
    lines = [r.title]
    if r.summary:
        lines.append(r.summary)
    lines.append(_("Length: {length} (of which {exercise} of exercise)").format(
        length=about_minutes(estimated_plan(r).duration_s), exercise=about_minutes(nominal_duration_s(r))))
    if r.frequency:
        unit, low, high = r.frequency
        count = low if low == high else f"{low}-{high}"
        if unit == "day":
            lines.append(ngettext("How often: {count} time a day", "How often: {count} times a day", high).format(
                count=count))
        else:
            lines.append(ngettext("How often: {count} time a week", "How often: {count} times a week", high).format(
                count=count))
    if r.equipment:
        lines.append(_("You need: {equipment}").format(equipment=", ".join(r.equipment)))
    if r.caution:
        lines.append(_("Caution: {caution}").format(caution=r.caution))
    for i, ex in enumerate(r.exercises, start=1):
        lines += ["", f"{i}. {ex.name}", f"   {_dose_text(ex)}"]
        if ex.sides:
            lines.append("   " + _("Sides, in order: {sides}").format(sides="; ".join(ex.sides)))
        lines.append(f"   {ex.instructions}")
        lines += ["   " + _("Tip: {tip}").format(tip=tip) for tip in ex.tips]
    for line in lines:  # each line whole: a control character in the file is shown, never obeyed
        print(printable(line))


def _dose_text(ex) -> str:
    """One exercise's dose in a line: 'hold 5 s x 10, 3 s rest between; 2 sets, ...'."""
    parts = []
    if ex.reps > 1 and ex.hold_s is not None:
        parts.append(_("hold {seconds} s x {reps}, {rest} s rest between").format(
            seconds=ex.hold_s, reps=ex.reps, rest=f"{ex.rest_s:g}"))
    elif ex.reps > 1:
        parts.append(_("{seconds} s of movement x {reps}, {rest} s rest between").format(
            seconds=ex.work_s, reps=ex.reps, rest=f"{ex.rest_s:g}"))
    elif ex.hold_s is not None:
        parts.append(_("hold {seconds} s").format(seconds=ex.hold_s))
    else:
        parts.append(_("{seconds} s of movement").format(seconds=ex.work_s))
    if ex.sets > 1:
        parts.append(_("{sets} sets, {rest} s rest between sets").format(sets=ex.sets, rest=f"{ex.set_rest_s:g}"))
    if ex.sides:
        parts.append(ngettext("each of {count} side", "each of {count} sides", len(ex.sides)).format(
            count=len(ex.sides)))
    parts.append(_("{seconds} s to get into position").format(seconds=f"{ex.setup_s:g}"))
    return "; ".join(parts)


def validate_command(files: list[Path] = typer.Argument(..., help="Routine files to check.")) -> None:
    """Check routine files; exit 0 when all are valid, 2 otherwise."""
    bad = 0
    for path in files:
        try:
            r = load_routine_file(path)
        except CoachError as exc:
            bad += 1
            print(f"coach: {printable(exc)}", file=sys.stderr)
        else:
            print(printable(ngettext("{path}: ok ({title}, {count} exercise)", "{path}: ok ({title}, {count} exercises)",
                                     len(r.exercises)).format(path=path, title=r.title, count=len(r.exercises))))
    if bad:
        raise typer.Exit(ExitStatus.BAD_INPUT)
