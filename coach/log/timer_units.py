"""Command lines for systemd unit files, quoted the way systemd reads them (systemd.service(5), "Command lines")."""

from __future__ import annotations

import re

from coach.i18n import _
from coach.errors import CoachError

_PLAIN = re.compile(r"[A-Za-z0-9/._+=:@-]+")
# systemd refuses an executable whose name holds a quote, a backslash or a control character
# ("Executable name contains special characters"): such a unit would install and never run.
_UNRUNNABLE = re.compile(r"[\"'\\\x00-\x1f\x7f]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class UnrunnablePathError(CoachError):
    """A program's path is one systemd cannot run."""


def _escape_controls(text: str) -> str:
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _word(text: str, variables: bool) -> str:
    """One word, in double quotes unless plain; % always kept literal, $ too where systemd expands variables."""
    escaped = text.replace("%", "%%")
    if variables:
        escaped = escaped.replace("$", "$$")
    if _PLAIN.fullmatch(text):
        return escaped
    escaped = escaped.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{_escape_controls(escaped)}"'


def check_executable(path: str) -> None:
    """UnrunnablePathError naming the path unless systemd can run a program there."""
    shown = _escape_controls(path.encode("utf-8", "backslashreplace").decode("utf-8"))
    why = None
    if not path.startswith("/"):
        why = _("is not an absolute path")
    elif _UNRUNNABLE.search(path):
        why = _("holds a quote, a backslash or a control character, which systemd refuses in a program's path")
    else:
        try:
            path.encode("utf-8")
        except UnicodeEncodeError:
            why = _("is not UTF-8, which a unit file must be")
    if why is not None:
        raise UnrunnablePathError(_("cannot install reminders: the Python that runs coach ({path}) {why}; install "
                                    "coach somewhere else or use 'coach calendar'").format(path=shown, why=why))


def exec_line(argv: list[str]) -> str:
    """An ExecStart= value running argv exactly: its program checked, every word quoted for systemd.

    systemd expands $VARIABLES in the arguments but not in the program's name, and %-specifiers in both.
    """
    check_executable(argv[0])
    return " ".join([_word(argv[0], variables=False)] + [_word(arg, variables=True) for arg in argv[1:]])
