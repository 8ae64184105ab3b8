"""The package is laid out as its pipeline: every import goes down it, none goes round in a circle, no private
name crosses from one module to another, and no module outgrows 400 lines."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "coach"

# Lower floors first. A module may import its own room and anything on a lower floor; stages on one floor
# (export, live and log) do not import each other.
FLOORS = [
    {"errors", "clock", "timefmt", "cachedir", "signals", "files", "terminal", "sessionbus", "i18n", "__init__"},
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


def _module_name(path: Path) -> str:
    """coach.cli.log for coach/cli/log.py, coach.routine for coach/routine/__init__.py."""
    parts = ("coach",) + path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _uses(path: Path, known: set[str]) -> tuple[set[str], list[str]]:
    """The coach modules this file imports (in functions too), and the private names it takes from them."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules: set[str] = set()
    private: list[str] = []
    aliases: dict[str, str] = {}  # a local name bound to a coach module: `from coach.cli import log as cli_log`
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "coach":
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                if full in known:
                    modules.add(full)
                    aliases[alias.asname or alias.name] = full
                else:
                    modules.add(node.module)
                    if _is_private(alias.name):
                        private.append(full)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "coach":
                    modules.add(alias.name)
                    if alias.asname:
                        aliases[alias.asname] = alias.name
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                and _is_private(node.attr)):
            private.append(f"{aliases[node.value.id]}.{node.attr}")
    return modules & known, private


def _is_private(name: str) -> bool:
    # `_` is gettext's translation function (coach.i18n), public by the convention every catalog tool reads
    return name.startswith("_") and not name.startswith("__") and name != "_"


def _import_graph() -> tuple[dict[str, set[str]], dict[str, list[str]]]:
    paths = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph, private = {}, {}
    for module, path in paths.items():
        uses, taken = _uses(path, set(paths))
        graph[module] = uses - {module}
        private[module] = taken
    return graph, private


def _cycles(graph: dict[str, set[str]]) -> list[str]:
    """Each import cycle once, as 'a -> b -> a' (depth first; a module on the current path closes a cycle)."""
    found, done, path = [], set(), []

    def visit(module: str) -> None:
        path.append(module)
        for target in sorted(graph[module]):
            if target in path:
                found.append(" -> ".join(path[path.index(target):] + [target]))
            elif target not in done:
                visit(target)
        path.pop()
        done.add(module)

    for module in sorted(graph):
        if module not in done:
            visit(module)
    return found


def test_no_import_goes_round_in_a_circle():
    # lazy imports inside functions count: they make the same knot, only later
    graph, _ = _import_graph()
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == ["a -> b -> c -> a"]


def test_no_private_name_crosses_modules():
    _, private = _import_graph()
    assert {module: names for module, names in private.items() if names} == {}


def test_no_module_over_400_lines():
    long = [f"{module}: {n}" for module, path in _modules()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > 400]
    assert long == []


def test_each_stage_says_what_it_does():
    for init in PACKAGE.glob("*/__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and "\n" not in doc, init
