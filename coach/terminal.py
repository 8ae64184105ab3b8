"""What reaches the terminal: file text with control characters escaped, no library warnings, failed writes in one line."""

from __future__ import annotations

import errno
import os
import re
import sys

from coach.i18n import N_, _

# C0 and C1 controls and DEL (ESC clears screens and retitles windows, BEL rings, BS hides what came
# before), and the bidirectional overrides and isolates that reorder what a line seems to say.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object) -> str:
    """str(text) with every control character written as a visible escape such as \\x1b."""
    return _UNSAFE.sub(_escape, str(text))


def hide_library_warnings(show: bool = False) -> None:
    """A library's warning (matplotlib's, say) is for its programmer, never shown to a person; --debug shows them."""
    import warnings

    warnings.simplefilter("default" if show else "ignore")


# A write that fails for want of room or a working device: told in one line, never an internal error.
_WRITE_FAILURES = {errno.ENOSPC: N_("no space left on device"), errno.EDQUOT: N_("disk quota exceeded"),
                   errno.EFBIG: N_("file too large"), errno.EIO: N_("input/output error"),
                   errno.EROFS: N_("read-only file system")}  # shown through _()


def os_reason(exc: OSError) -> str:
    """Why a file operation failed, in a few lowercase words (those of a failed write in the user's language)."""
    if exc.errno in _WRITE_FAILURES:
        return _(_WRITE_FAILURES[exc.errno])
    return (exc.strerror or str(exc)).lower()


def write_failure(exc: BaseException) -> str | None:
    """The one line for an OSError that a failed write raised (naming its file when known), else None.

    stdout's unwritten rest is dropped then: the flush at exit would fail again, with a traceback.
    """
    if not isinstance(exc, OSError) or exc.errno not in _WRITE_FAILURES:
        return None
    _drop_stdout()
    reason = os_reason(exc)
    if exc.filename:
        return _("cannot write {path}: {reason}").format(path=printable(exc.filename), reason=reason)
    return _("cannot write the output: {reason}").format(reason=reason)


def unexpected_failure(exc: BaseException) -> str:
    """The line for an exception no command turned into an error: a failed write, else an internal error (a bug)."""
    return write_failure(exc) or _("internal error: {kind}: {reason} (run with --debug for details)").format(
        kind=type(exc).__name__, reason=printable(exc))


def flush_stdout() -> None:
    """Flush stdout now, so that a failed write is raised while coach can still say so in one line."""
    sys.stdout.flush()


def _drop_stdout() -> None:
    try:  # point the descriptor at /dev/null: what is left in the buffer goes nowhere, without an error
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (AttributeError, OSError, ValueError):
        pass  # not a real file (a captured stream): nothing is flushed at exit
