"""Single-key controls from a terminal, read without Enter and with the terminal restored on exit."""

from __future__ import annotations

import os
import select
import sys
import termios
import time
import tty
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol, TextIO


class Keys(Protocol):
    """Where run_session waits: returns one key pressed within timeout_s, or None."""

    def poll(self, timeout_s: float) -> str | None: ...


class NoKeys:
    """No keyboard (stdin is not a terminal): waiting is plain sleeping."""

    def poll(self, timeout_s: float) -> str | None:
        """Sleeps timeout_s and returns None."""
        if timeout_s > 0:
            time.sleep(timeout_s)
        return None


class TerminalKeys:
    """Keys from a terminal file descriptor already in cbreak mode."""

    def __init__(self, fd: int):
        self.fd = fd

    def poll(self, timeout_s: float) -> str | None:
        """The next key typed within timeout_s, or None; end of input counts as no key."""
        ready, _, _ = select.select([self.fd], [], [], max(0.0, timeout_s))
        if not ready:
            return None
        data = os.read(self.fd, 1)
        if not data:
            # The terminal went away; behave like NoKeys instead of spinning on a readable EOF.
            time.sleep(max(0.0, timeout_s))
            return None
        return data.decode("latin-1")


@contextmanager
def open_keys(stream: TextIO | None = None) -> Iterator[Keys]:
    """Single-key input from stream (stdin by default) when it is a terminal, else NoKeys.

    The terminal is put in cbreak mode (no echo, no Enter; Ctrl+C still interrupts) and its settings
    are restored however the block exits.
    """
    stream = stream if stream is not None else sys.stdin
    try:
        fd = stream.fileno()
        interactive = os.isatty(fd)
    except (AttributeError, OSError, ValueError):
        interactive = False
    if not interactive:
        yield NoKeys()
        return
    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd, termios.TCSANOW)
        yield TerminalKeys(fd)
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
