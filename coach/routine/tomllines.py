"""Where each key and table of a TOML text is, by line, so that errors can point at it."""

from __future__ import annotations

import re


class KeyLines:
    """Finds the line of a key in TOML text, so errors can point at it."""

    _part = r"""(?:"[^"]*"|'[^']*'|[A-Za-z0-9_\-]+)"""
    _header = re.compile(rf"^\s*(\[\[?)\s*({_part}(?:\s*\.\s*{_part})*)\s*\]")
    _key = re.compile(rf"^\s*({_part})\s*[=.]")

    def __init__(self, text: str):
        self.keys: dict[tuple, int] = {}
        self.tables: dict[tuple, int] = {}
        table: tuple = ()
        counts: dict[tuple, int] = {}  # entries so far of each array of tables, by its full path
        for number, line in enumerate(text.splitlines(), start=1):
            header = self._header.match(line)
            if header:
                table = ()
                names = [name.strip("'\"") for name in re.findall(self._part, header.group(2))]
                for i, name in enumerate(names):
                    table += (name,)
                    if header.group(1) == "[[" and i == len(names) - 1:
                        self.tables.setdefault(table, number)  # the array as a whole: its first entry
                        counts[table] = counts.get(table, 0) + 1
                    if table in counts:  # [[exercises]], [[translations.fr.exercises]]: counted from 1
                        table += (counts[table],)
                self.tables.setdefault(table, number)
                continue
            key = self._key.match(line)
            if key:
                self.keys.setdefault(table + (key.group(1).strip("'\""),), number)

    def find(self, table: tuple, key: str | None) -> int | None:
        """Line of `key` in `table`, else of the nearest enclosing table or key found; None when unknown."""
        path = table + (() if key is None else (key,))
        for end in range(len(path), 0, -1):  # inline tables, such as frequency = { per_day = 2 }, are keys
            line = self.keys.get(path[:end], self.tables.get(path[:end]))
            if line is not None:
                return line
        return None if table else 1
