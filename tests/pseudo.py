"""A pseudo-locale: every message in coach's code visibly transformed, to catch text that skips the catalogs.

The messages are extracted from the code as `scripts/catalogs` extracts them (scripts/babel.cfg), so a message
wrapped in _() is transformed even before anyone translates it, and one left unwrapped stays plain.
"""

from __future__ import annotations

import functools
import gettext
import io
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OPEN, CLOSE = "⟦", "⟧"
_LOOKS = str.maketrans("aceinosuyACEINOSUY", "àçéîñøšüÿÀÇÉÎÑØŠÜŸ")
_FIELD = re.compile(r"(\{[^{}]*\}|\[/?[a-z ]+\]|'\{[^{}]*\}')")  # str.format fields and rich markup stay as they are


def transform(text: str) -> str:
    """The message as the pseudo-locale says it: letters look accented, each line between ⟦ and ⟧."""
    pieces = _FIELD.split(text)
    changed = "".join(p if _FIELD.fullmatch(p) else p.translate(_LOOKS) for p in pieces)
    return "\n".join(f"{OPEN}{line}{CLOSE}" if line.strip() else line for line in changed.split("\n"))


@functools.cache
def translations() -> gettext.GNUTranslations:
    """The pseudo-locale's catalog, built from the messages in the code now."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg
    from babel.messages.mofile import write_mo

    with open(ROOT / "scripts" / "babel.cfg", encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    catalog = Catalog(locale="en", domain="coach")
    for _file, _line, message, _comments, _context in extract_from_dir(ROOT / "coach", method_map, options_map):
        if isinstance(message, tuple):
            catalog.add(message[:2], tuple(transform(m) for m in message[:2]))
        else:
            catalog.add(message, transform(message))
    data = io.BytesIO()
    write_mo(data, catalog)
    data.seek(0)
    return gettext.GNUTranslations(data)


def _unmarked(output: str) -> str:
    """output with everything between ⟦ and ⟧ blanked (nested: a message inside a message), line breaks kept."""
    kept, depth = [], 0
    for ch in output:
        depth += ch == OPEN
        kept.append(ch if ch == "\n" or (depth == 0 and ch != CLOSE) else " ")
        depth -= ch == CLOSE and depth > 0
    return "".join(kept)


def untransformed(output: str, allowed=frozenset()) -> list[str]:
    """The lines of output with words no message carried.

    Set aside first: the pseudo-locale's marked parts (across line breaks, where a terminal wrapped
    them), the allowed texts (what the user wrote, routine text, names), option names, command-line
    metavars, paths and numbers.
    """
    marked = _unmarked(output)
    found = []
    for original, line in zip(output.splitlines(), marked.splitlines()):
        line = re.sub(r"\S*/\S*|<\w+>", " ", line)  # paths and types first: an allowed word may be part of one
        for text in sorted(allowed, key=len, reverse=True):
            if text:
                line = line.replace(text, " ")
        line = re.sub(r"(?<!\w)--?[a-z][\w-]*|\bcoach\b|\b[A-Z][A-Z_]+\b|\S*/\S*|\b\w+\.\w+\b|\{\w+\}|<\w+>|\w+\[\d+\]|'[^']*'",
                      " ", line)
        if re.search(r"[A-Za-z]{2,}", line):
            found.append(original)
    return found
