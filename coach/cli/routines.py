"""`coach routines`, `coach show` and `coach validate`: list the routines, read one, check routine files."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from coach.cli.shared import RoutineArg, estimated_plan
from coach.errors import CoachError, ExitStatus
from coach.routine import (builtin_names, load_routine, load_routine_file, nominal_duration_s, user_routine_dir,
                           user_routine_files)
from coach.terminal import printable
from coach.timefmt import about_minutes


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
            print(printable(f"{name:24}  {where}"))
            continue
        n = len(routine.exercises)
        duration = about_minutes(estimated_plan(routine).duration_s)
        print(printable(f"{name:24}  {routine.title}  ({n} exercise{'s' if n != 1 else ''}, {duration})"
                        + ("" if where == "built-in" else f"  [{where}]")))
    if not user_routine_files():
        print(f"\nYour own routines go in {user_routine_dir()} (one .toml file each).")


def show_command(routine: RoutineArg) -> None:
    """Show a routine as a person would read it."""
    r = load_routine(routine)
    lines = [r.title]
    if r.summary:
        lines.append(r.summary)
    lines.append(f"Length: {about_minutes(estimated_plan(r).duration_s)} "
                 f"(of which {about_minutes(nominal_duration_s(r))} of exercise)")
    if r.frequency:
        unit, low, high = r.frequency
        lines.append(f"How often: {low if low == high else f'{low}-{high}'} times a {unit}")
    if r.equipment:
        lines.append(f"You need: {', '.join(r.equipment)}")
    if r.caution:
        lines.append(f"Caution: {r.caution}")
    for i, ex in enumerate(r.exercises, start=1):
        lines += ["", f"{i}. {ex.name}", f"   {_dose_text(ex)}"]
        if ex.sides:
            lines.append(f"   Sides, in order: {'; '.join(ex.sides)}")
        lines.append(f"   {ex.instructions}")
        lines += [f"   Tip: {tip}" for tip in ex.tips]
    for line in lines:  # each line whole: a control character in the file is shown, never obeyed
        print(printable(line))


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
            print(printable(f"{path}: ok ({r.title}, {len(r.exercises)} exercises)"))
    if bad:
        raise typer.Exit(ExitStatus.BAD_INPUT)
