"""Routine text: TOML in, a validated `Routine` out, errors that name the file, the line and the key."""

from __future__ import annotations

import functools
import json
import math
import re
import tomllib
from dataclasses import replace
from importlib import resources
from typing import Any

from coach.errors import RoutineError
from coach.routine.model import MAX_SESSION_S, Exercise, ExerciseText, Routine, RoutineText, nominal_duration_s
from coach.routine.schema_errors import explain
from coach.routine.tomllines import KeyLines
from coach.timefmt import clock
from coach.i18n import _, ngettext

# The schema is the one source of the routine file's structure: keys, types, limits, defaults.
SCHEMA = json.loads((resources.files("coach.routine") / "routine.schema.json").read_text(encoding="utf-8"))


@functools.cache
def _validator() -> Any:
    # Imported here, not at the top: commands that never read a routine start faster without it.
    from jsonschema import Draft202012Validator

    return Draft202012Validator(SCHEMA)


def _check_schema(data: dict, path: str, lines: KeyLines) -> None:
    """Raise the first schema error in file order, worded for a person."""
    from jsonschema.exceptions import relevance

    problems = []  # (line to sort by, line, problem, error)
    for error in _validator().iter_errors(data):
        problem = explain(error, SCHEMA)
        line = lines.find(problem.table, problem.key)
        problems.append((math.inf if line is None else line, line, problem, error))
    if not problems:
        return
    first = min(problems, key=lambda p: p[0])[0]
    # On the first line with a problem, the error jsonschema rates most relevant (the least nested one).
    _sort, line, problem, _error = max((p for p in problems if p[0] == first), key=lambda p: relevance(p[3]))
    raise RoutineError(path, problem.message, line, _label(problem.table, problem.key))


def _label(table: tuple, key: str | None) -> str | None:
    """How errors name a key: `title`, `frequency.per_day`, `exercises[2].hold_s`."""
    label = ""
    for part in table + ((key,) if key else ()):
        label += f"[{part}]" if isinstance(part, int) else f".{part}" if label else part
    return label or None


class _Reader:
    """Reads one schema-checked table: the schema's defaults, tidy text, the rules a schema cannot state."""

    def __init__(self, path: str, lines: KeyLines, data: dict, table: tuple, properties: dict):
        self.path, self.lines, self.data, self.table, self.properties = path, lines, data, table, properties

    def fail(self, key: str | None, message: str) -> RoutineError:
        """An error pointing at `key` of this table."""
        return RoutineError(self.path, message, self.lines.find(self.table, key), _label(self.table, key))

    def value(self, key: str) -> Any:
        """The value given, else the schema's default (None when it has none)."""
        return self.data.get(key, self.properties[key].get("default"))

    def text(self, key: str) -> str | None:
        """Text with its runs of spaces and line breaks made single spaces."""
        value = self.value(key)
        return None if value is None else " ".join(value.split())

    def texts(self, key: str) -> tuple[str, ...]:
        """A list of texts, tidied; () when the key is left out."""
        return tuple(" ".join(item.split()) for item in self.data.get(key, ()))

    def number(self, key: str) -> float | None:
        """A number of seconds; TOML's nan passes every schema range, so it is refused here."""
        value = self.value(key)
        if value is not None and value != value:
            raise self.fail(key, _("must be a number, not nan"))
        return None if value is None else float(value)

    def whole(self, key: str) -> int | None:
        """A whole number; the schema lets 3.0 count as 3."""
        value = self.value(key)
        return None if value is None else int(value)


def parse_routine(text: str, path: str, routine_id: str, schema_checked: bool = False) -> Routine:
    """Validate routine TOML text; raise RoutineError naming path, line and key.

    schema_checked: the text is known to pass the schema (a built-in), so jsonschema is not loaded.
    """
    try:
        return _parse(text, path, routine_id, schema_checked)
    except RecursionError:  # tomllib and jsonschema recurse once per level of nesting
        raise RoutineError(path, _("invalid TOML: arrays or tables are nested too deeply")) from None


def _parse(text: str, path: str, routine_id: str, schema_checked: bool) -> Routine:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = re.search(r"\(at line (\d+), column \d+\)", message)
        line = int(found.group(1)) if found else None
        reason = re.sub(r"\s*\(at line \d+, column \d+\)", "", message)
        raise RoutineError(path, _("invalid TOML: {reason}").format(reason=reason) if reason else _("invalid TOML"),
                           line) from None
    lines = KeyLines(text)
    if not schema_checked:
        _check_schema(data, path, lines)
    top = _Reader(path, lines, data, (), SCHEMA["properties"])
    exercise_properties = SCHEMA["$defs"]["exercise"]["properties"]
    routine = Routine(
        id=routine_id,
        title=top.text("title"),  # type: ignore[arg-type]
        summary=top.text("summary"),
        language=top.text("language").lower(),  # type: ignore[union-attr]
        equipment=top.texts("equipment"),
        caution=top.text("caution"),
        frequency=_frequency(_Reader(path, lines, data.get("frequency", {}), ("frequency",),
                                     SCHEMA["properties"]["frequency"]["properties"])),
        exercise_rest_s=top.number("exercise_rest_s"),  # type: ignore[arg-type]
        exercises=tuple(_exercise(_Reader(path, lines, raw, ("exercises", i), exercise_properties))
                        for i, raw in enumerate(data["exercises"], start=1)),
        path=path,
    )
    dose_s = nominal_duration_s(routine)
    if dose_s > MAX_SESSION_S:
        raise RoutineError(path, _("add up to {length} of exercise, rest and set-up, over the limit of {limit}").format(
            length=clock(dose_s), limit=clock(MAX_SESSION_S)), lines.find(("exercises", 1), None), "exercises")
    translations: dict[str, RoutineText] = {}
    for name, raw in data.get("translations", {}).items():
        r = _Reader(path, lines, raw, ("translations", name), SCHEMA["$defs"]["translation"]["properties"])
        code = name.lower()
        if code == routine.language:
            raise r.fail(None, _("is the routine's own language '{code}', whose text goes in the main keys").format(code=code))
        if code in translations:
            earlier = next(other for other in data["translations"] if other.lower() == code)
            raise r.fail(None, _("is the same language as translations.{name}").format(name=earlier))
        translations[code] = _translation(r, routine.text)
    return replace(routine, translations=translations)


def _sides(r: _Reader) -> tuple[str, ...]:
    sides = r.texts("sides")
    folded = [side.casefold() for side in sides]
    for i, side in enumerate(folded):
        if side in folded[:i]:
            raise r.fail("sides", _("lists the same side twice: {first} and {second}").format(
                first=repr(sides[folded.index(side)]), second=repr(sides[i])))
    return sides


def _exercise(r: _Reader) -> Exercise:
    return Exercise(
        name=r.text("name"),  # type: ignore[arg-type]
        instructions=r.text("instructions"),  # type: ignore[arg-type]
        setup_s=r.number("setup_s"),  # type: ignore[arg-type]
        sides=_sides(r),
        reps=r.whole("reps"),  # type: ignore[arg-type]
        hold_s=r.whole("hold_s"),
        work_s=r.whole("work_s"),
        rest_s=r.number("rest_s"),  # type: ignore[arg-type]
        rest_given="rest_s" in r.data,
        sets=r.whole("sets"),  # type: ignore[arg-type]
        set_rest_s=r.number("set_rest_s"),  # type: ignore[arg-type]
        tips=r.texts("tips"),
    )


def _translation(r: _Reader, original: RoutineText) -> RoutineText:
    """One [translations.xx] table, which must have each text the original has, and only those."""
    for key in ("summary", "equipment", "caution", "exercises"):
        _same_texts(r, key, getattr(original, key))
    properties = SCHEMA["$defs"]["exercise_text"]["properties"]
    exercises = []
    for i, (raw, ex) in enumerate(zip(r.data["exercises"], original.exercises), start=1):
        er = _Reader(r.path, r.lines, raw, r.table + ("exercises", i), properties)
        for key in ("sides", "tips"):
            _same_texts(er, key, getattr(ex, key))
        exercises.append(ExerciseText(er.text("name"), er.text("instructions"),  # type: ignore[arg-type]
                                      _sides(er), er.texts("tips")))
    return RoutineText(r.text("title"), r.text("summary"),  # type: ignore[arg-type]
                       r.texts("equipment"), r.text("caution"), tuple(exercises))


def _same_texts(r: _Reader, key: str, original: str | tuple | None) -> None:
    """A translated text is given exactly when the original has it; a list has as many entries."""
    given = r.data.get(key)
    if given is None and original:
        raise r.fail(None, _("missing key {key}, which the original has").format(key=repr(key)))
    if given is not None and not original:
        raise r.fail(key, _("the original has no {key}").format(key=key))
    if isinstance(original, tuple) and given is not None and len(given) != len(original):
        raise r.fail(key, ngettext("has {count} entry, the original has {original}",
                                   "has {count} entries, the original has {original}", len(given)).format(
            count=len(given), original=len(original)))


def _frequency(r: _Reader) -> tuple[str, int, int] | None:
    if not r.data:
        return None
    (key, value), = r.data.items()  # the schema allows exactly one of per_day and per_week
    low, high = (int(value[0]), int(value[-1])) if isinstance(value, list) else (int(value), int(value))
    if high < low:
        raise r.fail(key, _("is [{low}, {high}], but a range goes from low to high, as in [{high}, {low}]").format(
            low=low, high=high))
    return ("day" if key == "per_day" else "week", low, high)
