"""The package is laid out as its pipeline: every import goes down it, and no module outgrows 400 lines."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "coach"

# Lower floors first. A module may import its own room and anything on a lower floor; stages on one floor
# (export, live and log) do not import each other.
FLOORS = [
    {"errors", "clock", "timefmt", "cachedir", "signals", "files", "terminal", "sessionbus", "__init__"},
    {"routine"},
    {"plan"},
    {"audio"},
    {"speech"},  # a clip is cached as 16-bit samples through audio.pcm
    {"export", "live", "log"},
    {"session", "config", "streaming"},
    {"cli"},
    {"__main__"},
]


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _floor(room: str) -> int:
    return next(i for i, rooms in enumerate(FLOORS) if room in rooms)


def _is_module(name: str) -> bool:
    return (PACKAGE / name).is_dir() or (PACKAGE / f"{name}.py").is_file()


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "coach":
            if node.module != "coach":
                found.add(node.module)
            else:  # `from coach import x`: a module or subpackage, or a name of coach/__init__.py
                found |= {f"coach.{a.name}" if _is_module(a.name) else "coach" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "coach"}
    return found


def _modules() -> list[tuple[str, Path]]:
    return [(".".join(("coach",) + p.relative_to(PACKAGE).with_suffix("").parts), p) for p in PACKAGE.rglob("*.py")]


def test_every_module_has_a_room_on_a_floor():
    rooms = {_room(module) for module, _ in _modules()}
    assert {"routine", "plan", "speech", "audio", "export", "live", "log", "cli"} <= rooms
    for room in rooms:
        _floor(room)  # StopIteration names a module no floor holds


def test_imports_go_down_the_pipeline():
    upward = []
    for module, path in _modules():
        room = _room(module)
        for target in _imports(path):
            other = _room(target)
            if other == room or other == "__init__":
                continue
            # single modules of one floor (the ground floor's helpers, session and config) may use each other;
            # stages on one floor may not
            peers = _floor(other) == _floor(room) and not (PACKAGE / room).is_dir()
            if _floor(other) > _floor(room) or (_floor(other) == _floor(room) and not peers):
                upward.append(f"{module} imports {target}")
    assert upward == []


def test_no_module_over_400_lines():
    long = [f"{module}: {n}" for module, path in _modules()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > 400]
    assert long == []


def test_each_stage_says_what_it_does():
    for init in PACKAGE.glob("*/__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and "\n" not in doc, init
