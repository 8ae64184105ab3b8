"""`coach remind`: a systemd user timer that runs `coach today --notify`; and what that notification says."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Optional

import typer

from coach.i18n import _, ngettext
from coach.cli.shared import estimated_plan
from coach.errors import CoachError

UNIT = "coach-remind"
DEFAULT_AT = "08:00,19:00"


class NoSystemdError(CoachError):
    """No systemd user manager to install a timer in."""


def user_unit_dir() -> Path:
    """Where systemd looks for a user's own units: $XDG_CONFIG_HOME/systemd/user (~/.config/systemd/user)."""
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "systemd" / "user"


def _exec_line() -> str:
    """The command the service runs: this Python and this coach, quoted for systemd (refused if it cannot run)."""
    from coach.log.timer_units import exec_line

    return exec_line([sys.executable, "-m", "coach", "today", "--notify"])


def units(times: list) -> dict[str, str]:
    """The service and timer unit files, by file name."""
    at = ", ".join(f"{t:%H:%M}" for t in times)
    calendar = "".join(f"OnCalendar=*-*-* {t:%H:%M}:00\n" for t in times)
    return {
        f"{UNIT}.service": (
            "[Unit]\nDescription=coach: a desktop notification when a routine is due\n\n"
            f"[Service]\nType=oneshot\nExecStart={_exec_line()}\n"),
        f"{UNIT}.timer": (
            f"[Unit]\nDescription=coach: check at {at} whether a routine is due\n\n"
            f"[Timer]\n{calendar}AccuracySec=1min\n\n[Install]\nWantedBy=timers.target\n"),
    }


def _systemctl(*args: str) -> None:
    """Run `systemctl --user ARGS`; NoSystemdError with its first line of complaint when it fails."""
    found = shutil.which("systemctl")
    if found is None:
        raise NoSystemdError(_("no systemd here (systemctl is not installed); use 'coach calendar' to be reminded "
                               "by a calendar instead"))
    try:
        done = subprocess.run([found, "--user", *args], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise NoSystemdError(_("systemctl --user {args} did not run ({reason})").format(
            args=" ".join(args), reason=exc)) from None
    if done.returncode != 0:
        why = (done.stderr.strip().splitlines() or [_("exit status {code}").format(code=done.returncode)])[0]
        raise NoSystemdError(_("no systemd user manager to install the reminder in ({reason}); use 'coach calendar' "
                               "to be reminded by a calendar instead").format(reason=why))


def remind_command(
    at: Optional[str] = typer.Option(None, "--at", help="Times of day as HH:MM, separated by commas (default 08:00,19:00)."),  # DEFAULT_AT
    print_units: bool = typer.Option(False, "--print", help="Show the unit files instead of installing them."),
    off: bool = typer.Option(False, "--off", help="Stop the reminders and remove their unit files."),
) -> None:
    """Desktop reminders: a systemd user timer runs 'coach today --notify' at the times given.

    The notification appears only when a routine is due, and says which and how long it takes.
    """
    from coach.errors import OptionError
    from coach.log.ical import parse_times
    from coach.files import private_folder, write_private

    folder = user_unit_dir()
    if off:
        if at is not None or print_units:
            raise OptionError("--off", _("cannot be used together with --at or --print"))
        _systemctl("show-environment")
        subprocess.run([shutil.which("systemctl") or "systemctl", "--user", "disable", "--now", f"{UNIT}.timer"],
                       capture_output=True, timeout=30)  # it may not be installed: nothing to stop then
        removed = [name for name in (f"{UNIT}.service", f"{UNIT}.timer") if (folder / name).exists()]
        for name in removed:
            (folder / name).unlink()
        _systemctl("daemon-reload")
        if removed:
            print(_("reminders off (removed {units})").format(units=", ".join(removed)))
        else:
            print(_("reminders off (none were installed)"))
        return
    times = parse_times(at if at is not None else DEFAULT_AT)
    files = units(times)
    if print_units:
        for name, text in files.items():
            print(f"# {folder / name}\n{text}")
        return
    _systemctl("show-environment")
    private_folder(folder)
    for name, text in files.items():
        write_private(folder / name, text.encode("utf-8"), "--at")
    _systemctl("daemon-reload")
    _systemctl("enable", "--now", f"{UNIT}.timer")
    print(_("reminders on at {times}: 'coach today --notify' runs then (units in {folder}; 'coach remind --off' "
            "stops them)").format(times=", ".join(f"{t:%H:%M}" for t in times), folder=folder))


def notify_due(due: list[tuple[str, str, str, float]]) -> None:
    """One notification naming each due routine (id, title, what is left, length in seconds); none when none is due."""
    from coach.log.notify import notify, session_bus_address
    from coach.timefmt import about_minutes

    address = session_bus_address()  # a missing bus is told even on a day with nothing due
    if not due:
        return
    if len(due) == 1:
        summary = _("coach: time for {title}").format(title=due[0][1])
    else:
        summary = _("coach: time for {count} routines").format(count=len(due))
    body = "\n".join(_("{title}: {left}, {length} (coach run {routine})").format(
        title=title, left=left, length=about_minutes(length_s), routine=shlex.quote(name))
        for name, title, left, length_s in due)
    notify(summary, body, address)


def due_items(routines: list, standings: list) -> list[tuple[str, str, str, float]]:
    """The due routines as notify_due takes them: id, title, what is left this day or week, length."""
    from coach.routine import in_language
    from coach.session import default_language

    titles = dict(routines)
    found = []
    for name, s in standings:
        if s.due:
            left = s.low - s.done
            if s.period == "day":
                more = ngettext("{count} more today", "{count} more today", left).format(count=left)
            else:
                more = ngettext("{count} more this week", "{count} more this week", left).format(count=left)
            r = in_language(titles[name], default_language(titles[name]))
            found.append((name, r.title, more, estimated_plan(r).duration_s))
    return found
