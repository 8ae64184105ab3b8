"""The pain score: 0 (none) to 10 (worst imaginable), asked on screen at the end of a session."""

from __future__ import annotations

import os
import select
import time
from collections.abc import Callable
from typing import TextIO

from coach.script import PAIN_QUESTION

PAIN_MIN, PAIN_MAX = 0, 10
PAIN_TIMEOUT_S = 30.0
PROMPT = f"{PAIN_QUESTION} Type a number and Enter, or just Enter to skip: "
REPROMPT = f"Please type a whole number from {PAIN_MIN} to {PAIN_MAX}, or just Enter to skip: "


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
    fd = source if isinstance(source, int) else source.fileno()
    for prompt in (PROMPT, REPROMPT):
        out.write(prompt)
        out.flush()
        line = _read_line(fd, timeout_s, monotonic)
        if line is None or not line.strip():
            if line is None:
                out.write("\n")
                out.flush()
            return None
        score = parse_pain(line)
        if score is not None:
            return score
    return None


def _read_line(fd: int, timeout_s: float, monotonic: Callable[[], float]) -> str | None:
    """One line from fd within timeout_s; None on timeout or end of input before any newline."""
    deadline = monotonic() + timeout_s
    data = b""
    while b"\n" not in data:
        remaining = deadline - monotonic()
        if remaining <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            return None
        chunk = os.read(fd, 1024)
        if not chunk:
            return data.decode(errors="replace") if data else None
        data += chunk
    return data.split(b"\n", 1)[0].decode(errors="replace")
