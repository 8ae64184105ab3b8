"""Routine schema errors in plain words, worded from the schema's own numbers."""

from __future__ import annotations

import datetime
from typing import Any, NamedTuple

from coach.i18n import N_, _, format_list, ngettext

_TYPE_WORDS = {"string": N_("text"), "integer": N_("a whole number"), "number": N_("a number"),
               "boolean": N_("true/false"), "array": N_("a list"), "object": N_("a table")}
# The schema's own messages (x-pattern-message and friends), marked here so the catalogs carry them.
_SCHEMA_MESSAGES = (N_("must be a language code such as 'en' or 'en-gb'"),
                    N_("must have words in it, not only spaces or punctuation"),
                    N_("has a word of more than 64 characters, which no speech engine can say"),
                    N_("is an empty list; give one entry for each of the original's, or leave the key out when it has none"))


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
        return Problem(table, value, _("the name {problem}").format(problem=_words(error, schema, path, None, "")[1]))
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
        message = _("entry {number} {problem}").format(number=entry, problem=message)
    return Problem(table, named or key, message)


def _words(error: Any, schema: dict, table_path: list, key: str | None, unit: str) -> tuple[str | None, str]:
    """The key the error is about, when it is inside the failing table, and the problem in words."""
    rule, limit, value = error.validator, error.validator_value, error.instance
    if rule == "type":
        wanted = [limit] if isinstance(limit, str) else limit
        if isinstance(value, float) and "integer" in wanted:
            return None, _("must be a whole number, not {value}").format(value=_number_text(value))
        kinds = format_list([_(_TYPE_WORDS[t]) for t in wanted], "or")
        return None, _("must be {kinds}, not {kind}").format(kinds=kinds, kind=_type_words(value))
    if rule == "minimum":
        return None, _("must be at least {limit}, not {value}").format(limit=_number_text(limit) + unit,
                                                                        value=_number_text(value))
    if rule == "exclusiveMinimum":
        return None, _("must be more than {limit}, not {value}").format(limit=_number_text(limit) + unit,
                                                                        value=_number_text(value))
    if rule == "maximum":
        return None, _("is {value}, which is over the limit of {limit}").format(
            value=_number_text(value) + unit, limit=_number_text(limit) + unit)
    if rule == "exclusiveMaximum":
        return None, _("is {value}, which is not under the limit of {limit}").format(
            value=_number_text(value) + unit, limit=_number_text(limit) + unit)
    if rule == "required":
        missing = [name for name in limit if name not in value]
        return None, ngettext("missing required key {keys}", "missing required keys {keys}", len(missing)).format(
            keys=format_list([repr(name) for name in missing]))
    if rule == "additionalProperties":
        known = error.schema.get("properties", {})
        unknown = [name for name in value if name not in known]
        return unknown[0], _("unknown key (allowed: {keys})").format(keys=", ".join(sorted(known)))
    if rule == "oneOf" and isinstance(value, dict) and _one_key_each(limit):
        choices = _one_key_each(limit)
        given = [name for name in choices if name in value]
        return (given[1] if len(given) > 1 else None), _("give exactly one of {keys}").format(
            keys=format_list(choices, "or"))
    if rule == "minItems":
        if value:
            return None, ngettext("has {count} entry, at least {limit} needed", "has {count} entries, at least {limit} needed",
                                  len(value)).format(count=len(value), limit=limit)
        table = _schema_at(schema, table_path)
        if key in table.get("required", []) or key in _one_key_each(table.get("oneOf", [])):
            return None, ngettext("is an empty list; it needs at least {limit} entry",
                                  "is an empty list; it needs at least {limit} entries", limit).format(limit=limit)
        return None, _(table.get("x-empty-list-message", N_("is an empty list; leave the key out instead")))
    if rule == "maxItems":
        return None, ngettext("has {count} entry, at most {limit}", "has {count} entries, at most {limit}",
                              len(value)).format(count=len(value), limit=limit)
    if rule == "minLength":
        return None, _("is too short ({count} characters, at least {limit})").format(count=len(value), limit=limit)
    if rule == "maxLength":
        return None, _("is too long ({count} characters, at most {limit})").format(count=len(value), limit=limit)
    if rule == "pattern":
        if "x-pattern-message" in error.schema:
            return None, _(error.schema["x-pattern-message"])
        return None, _("does not match the pattern {pattern}").format(pattern=limit)
    if rule == "not" and "x-not-message" in error.schema:
        return None, _(error.schema["x-not-message"])
    if rule == "uniqueItems":
        twice = next(item for i, item in enumerate(value) if item in value[:i])
        return None, _("lists {item} twice").format(item=repr(twice))
    return None, error.message


def _one_key_each(branches: list[dict]) -> list[str]:
    """The keys of a oneOf whose branches each require one key ("give exactly one of"), else []."""
    if branches and all(list(branch) == ["required"] and len(branch["required"]) == 1 for branch in branches):
        return [branch["required"][0] for branch in branches]
    return []


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
        return _("a date or time")
    words = {str: "string", bool: "boolean", int: "integer", float: "number", list: "array", dict: "object"}
    kind = words.get(type(value))
    return _(_TYPE_WORDS[kind]) if kind else type(value).__name__


def _number_text(value: float) -> str:
    """A number as a person would write it: 900, 0.5."""
    return f"{value:g}" if isinstance(value, float) else str(value)
