"""Where routines come from: the built-in ones, the user's folder, or a path to a file."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from coach.errors import InputError, RoutineError
from coach.routine.model import Routine
from coach.routine.parse import parse_routine
from coach.i18n import N_, _


MAX_ROUTINE_BYTES = 1_000_000  # the built-ins are under 20 KB; anything near this is not a routine


def read_routine_bytes(path: Path) -> bytes:
    """The bytes of a routine file: a regular file of at most 1 MB, else InputError (nothing blocks or fills memory)."""
    from coach.files import read_regular_file  # only when a file is read: `coach list` starts without it

    return read_regular_file(path, MAX_ROUTINE_BYTES, N_("a routine file"))


def load_routine_file(path: Path) -> Routine:
    """Read and validate a routine file."""
    shown = str(path)
    raw = read_routine_bytes(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise RoutineError(shown, _("is not UTF-8 text"), line) from None
    return parse_routine(text, shown, path.stem)


def builtin_names() -> list[str]:
    """Names of the routines that ship with coach."""
    folder = resources.files("coach.routine") / "routines"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def builtin_text(name: str) -> str:
    """The TOML text of a built-in routine."""
    return (resources.files("coach.routine") / "routines" / f"{name}.toml").read_text(encoding="utf-8")


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
        # tests/test_routine.py checks every built-in against the schema; a run need not load jsonschema again
        return parse_routine(builtin_text(ref), f"<built-in {ref}>", ref, schema_checked=True)
    path = Path(ref).expanduser()
    if ref.endswith(".toml") or path.exists() or "/" in ref:
        return load_routine_file(path)
    for user_file in user_routine_files():
        if user_file.stem == ref:
            return load_routine_file(user_file)
    names = ", ".join(builtin_names() + [p.stem for p in user_routine_files()])
    raise InputError(_("ROUTINE: unknown routine '{name}' (choose one of: {names}; or give a path to a .toml file)").format(
        name=ref, names=names))
