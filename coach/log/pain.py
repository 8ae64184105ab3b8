"""The pain score: 0 (none) to 10 (worst imaginable), asked on screen at the end of a session."""

from __future__ import annotations
from coach.i18n import _

import os
import select
import time
from collections.abc import Callable
from typing import TextIO

PAIN_MIN, PAIN_MAX = 0, 10
PAIN_TIMEOUT_S = 30.0


def reprompt() -> str:
    """What is asked when the answer was not a score."""
    return _("Please type a whole number from {low} to {high}, or just Enter to skip: ").format(
        low=PAIN_MIN, high=PAIN_MAX)


def prompt() -> str:
    """The question on screen, in the language of the screen (its phrase pack's words), and how to answer it."""
    from coach.i18n import language
    from coach.plan.phrases import pack_language
    from coach.plan.script import for_language

    question = for_language(pack_language(language()) or "en").PAIN_QUESTION
    return question + "\n" + _("Type a number and Enter, or just Enter to skip: ")


def __getattr__(name: str):
    # PROMPT is built on first use: every command imports this module (for PAIN_MIN/PAIN_MAX), and
    # building it loads and checks a phrase pack, which only the end of a live session needs.
    if name == "PROMPT":
        return prompt()
    if name == "REPROMPT":
        return reprompt()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def parse_pain(text: str) -> int | None:
    """The score in text, None when it is not a whole number from 0 to 10."""
    text = text.strip()
    if not text.isdigit():
        return None
    value = int(text)
    return value if PAIN_MIN <= value <= PAIN_MAX else None


def ask_pain(source: TextIO | int, out: TextIO, timeout_s: float = PAIN_TIMEOUT_S,
             monotonic: Callable[[], float] = time.monotonic) -> int | None:
    """Ask for a pain score; None on an empty answer, a timeout or end of input. Asks again once if it is bad."""
    lines = _LineReader(source if isinstance(source, int) else source.fileno(), monotonic)
    for question in (prompt(), reprompt()):
        out.write(question)
        out.flush()
        line = lines.read(timeout_s)
        if line is None:
            out.write("\n")  # the prompt line was left open
            out.flush()
            return None
        if not line.strip():
            return None
        score = parse_pain(line)
        if score is not None:
            return score
    return None


class _LineReader:
    """Lines from a file descriptor, each within a time limit, keeping what was read past a line's end."""

    def __init__(self, fd: int, monotonic: Callable[[], float]):
        self.fd, self.monotonic, self.pending = fd, monotonic, b""

    def read(self, timeout_s: float) -> str | None:
        """The next line; None on timeout, or on end of input before any text."""
        deadline = self.monotonic() + timeout_s
        while b"\n" not in self.pending:
            remaining = deadline - self.monotonic()
            ready = select.select([self.fd], [], [], remaining)[0] if remaining > 0 else []
            if not ready:
                return None
            chunk = os.read(self.fd, 1024)
            if not chunk:
                line, self.pending = self.pending, b""
                return line.decode(errors="replace") if line else None
            self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        return line.decode(errors="replace")
