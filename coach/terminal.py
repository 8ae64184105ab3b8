"""Text from user files made safe to print: control characters are shown as escapes, never obeyed."""

from __future__ import annotations

import re

# C0 and C1 controls and DEL (ESC clears screens and retitles windows, BEL rings, BS hides what came
# before), and the bidirectional overrides and isolates that reorder what a line seems to say.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object) -> str:
    """str(text) with every control character written as a visible escape such as \\x1b."""
    return _UNSAFE.sub(_escape, str(text))
