"""Routine schema errors in plain English, worded from the schema's own numbers."""

from __future__ import annotations

import datetime
from typing import Any, NamedTuple

_TYPE_WORDS = {"string": "text", "integer": "a whole number", "number": "a number", "boolean": "true/false",
               "array": "a list", "object": "a table"}


class Problem(NamedTuple):
    """Where a schema error is and what is wrong, ready for a RoutineError."""

    table: tuple  # () for the top level, ("frequency",), ("exercises", 1): exercises counted from 1
    key: str | None  # the key in that table, None when the table itself is at fault
    message: str


def explain(error: Any, schema: dict) -> Problem:
    """Turn one jsonschema ValidationError into a Problem."""
    path = list(error.absolute_path)
    value = error.instance
    entry = None
    if "propertyNames" in error.schema_path:  # about a table's name, such as [translations.english]
        table = tuple(part + 1 if isinstance(part, int) else part for part in path)
        return Problem(table, value, "the name " + _words(error, schema, path, None, "")[1])
    if isinstance(value, dict) and error.validator != "type":  # about what the table holds
        key = None
    else:
        if len(path) >= 2 and isinstance(path[-1], int):
            entry = path.pop() + 1
        key = path.pop() if path else None
    table = tuple(part + 1 if isinstance(part, int) else part for part in path)
    unit = " s" if key and key.endswith("_s") else ""
    named, message = _words(error, schema, path, key, unit)
    if entry is not None:
        message = f"entry {entry} {message}"
    return Problem(table, named or key, message)


def _words(error: Any, schema: dict, table_path: list, key: str | None, unit: str) -> tuple[str | None, str]:
    """The key the error is about, when it is inside the failing table, and the problem in words."""
    rule, limit, value = error.validator, error.validator_value, error.instance
    if rule == "type":
        wanted = [limit] if isinstance(limit, str) else limit
        if isinstance(value, float) and "integer" in wanted:
            return None, f"must be a whole number, not {_number_text(value)}"
        return None, f"must be {' or '.join(_TYPE_WORDS[t] for t in wanted)}, not {_type_words(value)}"
    if rule == "minimum":
        return None, f"must be at least {_number_text(limit)}{unit}, not {_number_text(value)}"
    if rule == "exclusiveMinimum":
        return None, f"must be more than {_number_text(limit)}{unit}, not {_number_text(value)}"
    if rule == "maximum":
        return None, f"is {_number_text(value)}{unit}, which is over the limit of {_number_text(limit)}{unit}"
    if rule == "exclusiveMaximum":
        return None, f"is {_number_text(value)}{unit}, which is not under the limit of {_number_text(limit)}{unit}"
    if rule == "required":
        missing = [name for name in limit if name not in value]
        keys = "key" if len(missing) == 1 else "keys"
        return None, f"missing required {keys} {_listed([repr(name) for name in missing], 'and')}"
    if rule == "additionalProperties":
        known = error.schema.get("properties", {})
        unknown = [name for name in value if name not in known]
        return unknown[0], f"unknown key (allowed: {', '.join(sorted(known))})"
    if rule == "oneOf" and isinstance(value, dict) and _one_key_each(limit):
        choices = _one_key_each(limit)
        given = [name for name in choices if name in value]
        return (given[1] if len(given) > 1 else None), f"give exactly one of {_listed(choices, 'or')}"
    if rule == "minItems":
        if value:
            return None, f"has {len(value)} entries, at least {limit} needed"
        table = _schema_at(schema, table_path)
        if key in table.get("required", []) or key in _one_key_each(table.get("oneOf", [])):
            return None, f"is an empty list; it needs at least {limit} {'entry' if limit == 1 else 'entries'}"
        return None, table.get("x-empty-list-message", "is an empty list; leave the key out instead")
    if rule == "maxItems":
        return None, f"has {len(value)} entries, at most {limit}"
    if rule == "minLength":
        return None, f"is too short ({len(value)} characters, at least {limit})"
    if rule == "maxLength":
        return None, f"is too long ({len(value)} characters, at most {limit})"
    if rule == "pattern":
        return None, error.schema.get("x-pattern-message", f"does not match the pattern {limit}")
    if rule == "not" and "x-not-message" in error.schema:
        return None, error.schema["x-not-message"]
    if rule == "uniqueItems":
        twice = next(item for i, item in enumerate(value) if item in value[:i])
        return None, f"lists {twice!r} twice"
    return None, error.message


def _one_key_each(branches: list[dict]) -> list[str]:
    """The keys of a oneOf whose branches each require one key ("give exactly one of"), else []."""
    if branches and all(list(branch) == ["required"] and len(branch["required"]) == 1 for branch in branches):
        return [branch["required"][0] for branch in branches]
    return []


def _listed(names: list[str], word: str) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} {word} {names[-1]}"


def _schema_at(schema: dict, path: list) -> dict:
    """The part of the schema that describes the value at `path` (a path into the routine's data)."""
    here = _resolve(schema, schema)
    for part in path:
        if isinstance(part, int):
            here = here.get("items", {})
        else:  # a named key, or one of the freely named ones, such as a language under translations
            extra = here.get("additionalProperties")
            here = here.get("properties", {}).get(part, extra if isinstance(extra, dict) else {})
        here = _resolve(schema, here)
    return here


def _resolve(schema: dict, here: dict) -> dict:
    while "$ref" in here:  # only local references such as "#/$defs/text"
        target = schema
        for name in here["$ref"].removeprefix("#/").split("/"):
            target = target[name]
        here = target
    return here


def _type_words(value: object) -> str:
    """What kind of TOML value this is, in words."""
    if isinstance(value, (datetime.date, datetime.time)):
        return "a date or time"
    words = {str: "text", bool: "true/false", int: "a whole number", float: "a number", list: "a list",
             dict: "a table"}
    return words.get(type(value), type(value).__name__)


def _number_text(value: float) -> str:
    """A number as a person would write it: 900, 0.5."""
    return f"{value:g}" if isinstance(value, float) else str(value)
