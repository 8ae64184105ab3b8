"""Routine files: TOML in, a validated `Routine` out, errors that name the file, the line and the key."""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from coach.errors import InputError, RoutineError

MAX_DOSE_S = 600  # a single hold or work period: 10 minutes
MAX_REPS = 100
MAX_SETS = 20
MAX_REST_S = 600
MAX_SETUP_S = 300
MAX_SESSION_S = 4 * 3600
MAX_SIDES = 8
MAX_TEXT_CHARS = 2000
DEFAULT_REST_S = 2.0  # "a short release" between reps when the file gives none
DEFAULT_SETUP_S = 5.0
DEFAULT_EXERCISE_REST_S = 10.0

_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")


@dataclass(frozen=True)
class Exercise:
    """One exercise of a routine, with its dose."""

    name: str
    instructions: str
    setup_s: float
    sides: tuple[str, ...]
    reps: int
    hold_s: int | None
    work_s: int | None
    rest_s: float
    rest_given: bool
    sets: int
    set_rest_s: float
    tips: tuple[str, ...]

    @property
    def dose_s(self) -> int:
        return self.hold_s if self.hold_s is not None else self.work_s  # type: ignore[return-value]

    @property
    def kind(self) -> str:
        return "hold" if self.hold_s is not None else "work"


@dataclass(frozen=True)
class Routine:
    """A validated routine."""

    id: str
    title: str
    summary: str | None
    language: str
    equipment: tuple[str, ...]
    caution: str | None
    frequency: tuple[str, int, int] | None  # ("day"|"week", low, high)
    exercise_rest_s: float
    exercises: tuple[Exercise, ...]
    path: str


class _Lines:
    """Finds the line of a key in TOML text, so errors can point at it."""

    _header = re.compile(r"^\s*\[\[\s*([A-Za-z0-9_.\-]+)\s*\]\]|^\s*\[\s*([A-Za-z0-9_.\-]+)\s*\]")
    _key = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_\-]+)\s*[=.]""")

    def __init__(self, text: str):
        self.keys: dict[tuple, int] = {}
        self.tables: dict[tuple, int] = {}
        table: tuple = ()
        counts: dict[str, int] = {}
        for number, line in enumerate(text.splitlines(), start=1):
            header = self._header.match(line)
            if header:
                if header.group(1):
                    name = header.group(1)
                    counts[name] = counts.get(name, 0) + 1
                    table = (name, counts[name])
                else:
                    table = (header.group(2),)
                self.tables.setdefault(table, number)
                continue
            key = self._key.match(line)
            if key:
                self.keys.setdefault(table + (key.group(1).strip("'\""),), number)

    def find(self, table: tuple, key: str | None) -> int | None:
        """Line of `key` in `table` (or of the table itself), None when unknown."""
        if key is not None and table + (key,) in self.keys:
            return self.keys[table + (key,)]
        if table and table[0] == "frequency" and ("frequency",) not in self.tables:
            return self.keys.get(("frequency",))
        return self.tables.get(table, 1 if not table else None)


class _Checker:
    """Validates one table of the routine and converts its values."""

    def __init__(self, path: str, lines: _Lines, data: dict, table: tuple, label: str):
        self.path, self.lines, self.data, self.table, self.label = path, lines, data, table, label

    def fail(self, key: str | None, message: str) -> RoutineError:
        """An error pointing at `key` of this table."""
        name = f"{self.label}.{key}" if self.label and key else (key or self.label or None)
        return RoutineError(self.path, message, self.lines.find(self.table, key), name)

    def only(self, allowed: set[str]) -> None:
        """Reject keys this table does not know."""
        for key in self.data:
            if key not in allowed:
                hint = ", ".join(sorted(allowed))
                raise self.fail(key, f"unknown key (allowed: {hint})")

    def text(self, key: str, required: bool = False, default: str | None = None) -> str | None:
        """A non-empty string."""
        if key not in self.data:
            if required:
                raise self.fail(None, f"missing required key '{key}'")
            return default
        value = self.data[key]
        if not isinstance(value, str):
            raise self.fail(key, f"must be text, not {_type(value)}")
        value = " ".join(value.split())
        if not any(ch.isalnum() for ch in value):
            raise self.fail(key, "must have words in it, not only spaces or punctuation")
        if len(value) > MAX_TEXT_CHARS:
            raise self.fail(key, f"is too long ({len(value)} characters, at most {MAX_TEXT_CHARS})")
        return value

    def texts(self, key: str, most: int = 50) -> tuple[str, ...]:
        """A list of non-empty strings."""
        if key not in self.data:
            return ()
        value = self.data[key]
        if not isinstance(value, list):
            raise self.fail(key, f"must be a list of text, not {_type(value)}")
        if len(value) > most:
            raise self.fail(key, f"has {len(value)} entries, at most {most}")
        out = []
        for i, item in enumerate(value, start=1):
            if not isinstance(item, str) or not any(ch.isalnum() for ch in item):
                raise self.fail(key, f"entry {i} must be text with words in it")
            if len(item) > MAX_TEXT_CHARS:
                raise self.fail(key, f"entry {i} is too long")
            out.append(" ".join(item.split()))
        return tuple(out)

    def number(self, key: str, default: float | None, most: float, whole: bool = False,
               least: float = 0.0, unit: str = "s") -> float | None:
        """A positive number no larger than `most`."""
        if key not in self.data:
            return default
        value = self.data[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self.fail(key, f"must be a number, not {_type(value)}")
        if whole and value != int(value):
            raise self.fail(key, f"must be a whole number{' of seconds' if unit == 's' else ''}, not {value}")
        if value <= least:
            raise self.fail(key, f"must be more than {_fmt(least)}{unit and ' ' + unit}, not {_fmt(value)}")
        if value > most:
            raise self.fail(key, f"is {_fmt(value)}{unit and ' ' + unit}, which is over the limit of "
                                 f"{_fmt(most)}{unit and ' ' + unit}")
        return int(value) if whole else float(value)


def _type(value: object) -> str:
    return {str: "text", int: "a whole number", float: "a number", bool: "true/false", list: "a list",
            dict: "a table"}.get(type(value), type(value).__name__)


def _fmt(value: float) -> str:
    return f"{value:g}"


_TOP = {"title", "summary", "language", "equipment", "caution", "frequency", "exercise_rest_s", "exercises"}
_EXERCISE = {"name", "instructions", "setup_s", "sides", "reps", "hold_s", "work_s", "rest_s", "sets",
             "set_rest_s", "tips"}


def parse_routine(text: str, path: str, routine_id: str) -> Routine:
    """Validate routine TOML text; raise RoutineError naming path, line and key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = re.search(r"\(at line (\d+), column \d+\)", message)
        line = int(found.group(1)) if found else None
        reason = re.sub(r"\s*\(at line \d+, column \d+\)", "", message) or "invalid TOML"
        raise RoutineError(path, f"invalid TOML: {reason}", line) from None
    lines = _Lines(text)
    top = _Checker(path, lines, data, (), "")
    top.only(_TOP)
    title = top.text("title", required=True)
    language = top.text("language", default="en")
    if not _LANGUAGE.match(language or ""):
        raise top.fail("language", f"'{language}' is not a language code such as 'en' or 'en-gb'")
    exercise_rest_s = top.number("exercise_rest_s", DEFAULT_EXERCISE_REST_S, MAX_REST_S)
    raw_exercises = data.get("exercises")
    if raw_exercises is None:
        raise top.fail(None, "missing required key 'exercises' (add at least one [[exercises]] table)")
    if not isinstance(raw_exercises, list) or not all(isinstance(e, dict) for e in raw_exercises):
        raise top.fail("exercises", "must be a list of [[exercises]] tables")
    if not raw_exercises:
        raise top.fail("exercises", "must hold at least one exercise")
    if len(raw_exercises) > 100:
        raise top.fail("exercises", f"has {len(raw_exercises)} exercises, at most 100")
    exercises = tuple(
        _exercise(_Checker(path, lines, raw, ("exercises", i), f"exercises[{i}]"))
        for i, raw in enumerate(raw_exercises, start=1)
    )
    routine = Routine(
        id=routine_id,
        title=title,  # type: ignore[arg-type]
        summary=top.text("summary"),
        language=(language or "en").lower(),
        equipment=top.texts("equipment"),
        caution=top.text("caution"),
        frequency=_frequency(top),
        exercise_rest_s=exercise_rest_s,  # type: ignore[arg-type]
        exercises=exercises,
        path=path,
    )
    dose_s = nominal_duration_s(routine)
    if dose_s > MAX_SESSION_S:
        raise top.fail("exercises", f"add up to {dose_s / 3600:.1f} hours, over the limit of 4 hours")
    return routine


def _exercise(c: _Checker) -> Exercise:
    c.only(_EXERCISE)
    name = c.text("name", required=True)
    instructions = c.text("instructions", required=True)
    has_hold, has_work = "hold_s" in c.data, "work_s" in c.data
    if has_hold == has_work:
        raise c.fail("work_s" if has_work else None,
                     "give exactly one of hold_s (a counted hold) or work_s (continuous movement)")
    hold_s = c.number("hold_s", None, MAX_DOSE_S, whole=True)
    work_s = c.number("work_s", None, MAX_DOSE_S, whole=True)
    sides = c.texts("sides", most=MAX_SIDES)
    if len(set(s.lower() for s in sides)) != len(sides):
        raise c.fail("sides", "names the same side twice")
    rest_given = "rest_s" in c.data
    rest_s = c.number("rest_s", DEFAULT_REST_S, MAX_REST_S)
    if rest_s < 1:  # type: ignore[operator]
        raise c.fail("rest_s", "must be at least 1 s, so the release and the next start cue both fit")
    return Exercise(
        name=name,  # type: ignore[arg-type]
        instructions=instructions,  # type: ignore[arg-type]
        setup_s=c.number("setup_s", DEFAULT_SETUP_S, MAX_SETUP_S),  # type: ignore[arg-type]
        sides=sides,
        reps=c.number("reps", 1, MAX_REPS, whole=True, unit=""),  # type: ignore[arg-type]
        hold_s=hold_s,  # type: ignore[arg-type]
        work_s=work_s,  # type: ignore[arg-type]
        rest_s=rest_s,  # type: ignore[arg-type]
        rest_given=rest_given,
        sets=c.number("sets", 1, MAX_SETS, whole=True, unit=""),  # type: ignore[arg-type]
        set_rest_s=c.number("set_rest_s", 30.0, MAX_REST_S),  # type: ignore[arg-type]
        tips=c.texts("tips"),
    )


def _frequency(top: _Checker) -> tuple[str, int, int] | None:
    if "frequency" not in top.data:
        return None
    raw = top.data["frequency"]
    c = _Checker(top.path, top.lines, raw if isinstance(raw, dict) else {}, ("frequency",), "frequency")
    if not isinstance(raw, dict):
        raise top.fail("frequency", "must be a table such as { per_day = 2 } or { per_week = [2, 3] }")
    c.only({"per_day", "per_week"})
    if len(raw) != 1:
        raise top.fail("frequency", "give exactly one of per_day or per_week")
    (key, value), = raw.items()
    most = 10 if key == "per_day" else 50
    low_high = value if isinstance(value, list) else [value]
    if not (1 <= len(low_high) <= 2) or not all(
        isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= most for v in low_high
    ):
        raise c.fail(key, f"must be a whole number from 1 to {most}, or a range like [2, 3]")
    low, high = low_high[0], low_high[-1]
    if high < low:
        raise c.fail(key, "range must go from low to high")
    return ("day" if key == "per_day" else "week", low, high)


def nominal_duration_s(routine: Routine) -> float:
    """Seconds of doses, rests and set-up alone (no speech): a floor for the session length."""
    total = 0.0
    for ex in routine.exercises:
        one_set = ex.reps * ex.dose_s + (ex.reps - 1) * ex.rest_s
        per_side = ex.setup_s + ex.sets * one_set + (ex.sets - 1) * ex.set_rest_s
        total += max(1, len(ex.sides)) * per_side
    return total + (len(routine.exercises) - 1) * routine.exercise_rest_s


def load_routine_file(path: Path) -> Routine:
    """Read and validate a routine file."""
    shown = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{shown}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{shown}: is a folder, not a routine file") from None
    except OSError as exc:
        raise InputError(f"{shown}: cannot read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise RoutineError(shown, "is not UTF-8 text", line) from None
    return parse_routine(text, shown, path.stem)


def builtin_names() -> list[str]:
    """Names of the routines that ship with coach."""
    folder = resources.files("coach") / "routines"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def builtin_text(name: str) -> str:
    """The TOML text of a built-in routine."""
    return (resources.files("coach") / "routines" / f"{name}.toml").read_text(encoding="utf-8")


def user_routine_dir() -> Path:
    """The folder where the user's own routines live."""
    from platformdirs import user_config_dir  # an edge dependency, only needed here

    return Path(user_config_dir("coach")) / "routines"


def user_routine_files() -> list[Path]:
    """The user's own routine files, by name."""
    folder = user_routine_dir()
    return sorted(folder.glob("*.toml")) if folder.is_dir() else []


def load_routine(ref: str) -> Routine:
    """A routine by built-in name, user routine name or path to a .toml file."""
    if ref in builtin_names():
        return parse_routine(builtin_text(ref), f"<built-in {ref}>", ref)
    path = Path(ref).expanduser()
    if ref.endswith(".toml") or path.exists() or "/" in ref:
        return load_routine_file(path)
    for user_file in user_routine_files():
        if user_file.stem == ref:
            return load_routine_file(user_file)
    names = ", ".join(builtin_names() + [p.stem for p in user_routine_files()])
    raise InputError(f"ROUTINE: unknown routine '{ref}' (choose one of: {names}; or give a path to a .toml file)")
