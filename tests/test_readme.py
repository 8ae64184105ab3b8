"""The README stays true: its commands work as written, and its contents list leads to every section."""

from __future__ import annotations

import re
import shlex
from datetime import datetime, timezone
from pathlib import Path

import pytest
import typer.main

from coach.cli import shared
from coach.cli.app import app
from tests.clocks import FixedClock
from tests.inproc import coach

README = Path(__file__).resolve().parents[1] / "README.md"
TEXT = README.read_text(encoding="utf-8")
ROOT = typer.main.get_command(app)

# An evening after every date the README's examples name, so `log add --at 18:30` is in the past.
EVENING = datetime(2026, 12, 7, 21, 0, tzinfo=timezone.utc)

# What runs here as written: nothing that plays sound, renders speech, encodes audio, reaches the
# network or installs a systemd unit (those are checked against the command's options only; the
# tests of each command run them). Anything with --sample plays sound too; remind runs with --print only.
RUNS = {("routines",), ("show",), ("validate",), ("voices",), ("config", "set"), ("config", "get"),
        ("config", "unset"), ("config", "list"), ("config", "path"), ("history",), ("today",), ("log", "add"),
        ("calendar",), ("report",)}

PLACEHOLDER = re.compile(r"[\[\]|]|\.\.\.|…|\b[A-Z]{2,}\b")  # [optional], a | b, ..., ROUTINE, FILE


def _shell_lines() -> list[str]:
    """The `coach ...` lines of the README's sh blocks, without their comments (shell-quoted as written)."""
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", TEXT, re.S):
        for line in block.splitlines():
            if line.startswith("coach "):
                lines.append(shlex.join(shlex.split(line, comments=True)))
    return lines


def _inline_commands() -> list[str]:
    """The `coach ...` commands quoted in the README's prose."""
    return [" ".join(span.split()) for span in re.findall(r"`(coach [^`]+)`", TEXT)]


def _is_pattern(line: str) -> bool:
    """Whether the line shows a form of the command (ROUTINE, [--option], a | b, ...) rather than one to type."""
    return any(PLACEHOLDER.search(word) for word in shlex.split(line))


def _resolve(words: list[str]):
    """The click command the words name, its path and the words left for it."""
    command, path, rest = ROOT, ["coach"], list(words)
    while rest and rest[0] in ("--debug",):
        rest.pop(0)
    while hasattr(command, "commands") and rest and rest[0] in command.commands:
        path.append(rest[0])
        command = command.commands[rest.pop(0)]
    return command, path, rest


def _problems(line: str, whole: bool = True) -> list[str]:
    """What in the line coach would not take: an unknown command or option, a bad value, too many or too few
    arguments (the last two only for a whole command, not a form of one or a name in the prose)."""
    words = shlex.split(line)[1:]
    pattern = _is_pattern(line) or not whole
    command, path, rest = _resolve([w.strip("[]") for w in words])
    options = {opt: p for p in command.params if p.param_type_name == "option" for opt in p.opts + p.secondary_opts}
    options["--help"] = None
    arguments = [p for p in command.params if p.param_type_name == "argument"]
    problems, positional, i = [], [], 0
    while i < len(rest):
        word = rest[i]
        if word.startswith("-") and not re.fullmatch(r"-[\d.]+", word) and word not in ("-", "..."):
            name = word.split("=")[0]
            if name not in options:
                problems.append(f"{' '.join(path)} has no option {name}")
            elif options[name] is not None and not options[name].is_flag and "=" not in word:
                if not pattern:
                    try:
                        options[name].type.convert(rest[i + 1], options[name], None)
                    except Exception as exc:
                        problems.append(f"{' '.join(path)} {name} {rest[i + 1]}: {exc}")
                i += 1
        else:
            positional.append(word)
        i += 1
    if hasattr(command, "commands") and positional and not PLACEHOLDER.search(positional[0]) and not problems:
        problems.append(f"{' '.join(path)} has no command {positional[0]}")
    if not pattern and not hasattr(command, "commands"):
        most = sum(1 if p.nargs != -1 else len(positional) for p in arguments)
        least = sum(1 for p in arguments if p.required)
        if not least <= len(positional) <= most:
            problems.append(f"{' '.join(path)} takes {least} to {most} arguments, not {len(positional)}")
    return problems


def test_the_readme_shows_commands_to_check():
    lines = _shell_lines()
    assert len(lines) > 40 and "coach run back-pain-daily" in lines
    assert any(_is_pattern(line) for line in lines) and not all(_is_pattern(line) for line in lines)


@pytest.mark.parametrize("line", sorted(set(_shell_lines())))
def test_each_command_the_readme_shows_is_one_coach_takes(line):
    assert _problems(line) == []


@pytest.mark.parametrize("line", sorted(set(_inline_commands())))
def test_each_command_the_readme_names_exists_with_its_options(line):
    assert _problems(line, whole=False) == []


def test_the_checker_finds_what_coach_would_refuse():
    assert _problems("coach plan back-pain-feet --json") == []
    assert _problems("coach plan back-pain-feet --jsn") == ["coach plan has no option --jsn"]
    assert _problems("coach export back-pain-feet") == ["coach export takes 2 to 2 arguments, not 1"]
    assert _problems("coach history --since 2026-11-01 extra") == ["coach history takes 0 to 0 arguments, not 1"]
    assert _problems("coach config sett voice x") == ["coach config has no command sett"]
    assert _problems("coach run --rate fast")[0].startswith("coach run --rate fast: ")
    assert _problems("coach voices [--language en] [--colour red]") == ["coach voices has no option --colour"]
    assert _problems("coach say", whole=False) == [] and _problems("coach sya", whole=False) != []


def _runs(line: str) -> bool:
    words = shlex.split(line)[1:]
    path = tuple(_resolve(words)[1][1:])
    if _is_pattern(line) or "--sample" in words:
        return False
    return path in RUNS or (path == ("remind",) and "--print" in words)


@pytest.fixture
def evening(monkeypatch):
    monkeypatch.setattr(shared, "make_clock", lambda: FixedClock(EVENING))


def test_the_readme_commands_that_need_no_sound_run_as_written(tmp_path, evening):
    ran = []
    for n, line in enumerate(line for line in _shell_lines() if _runs(line)):
        home = tmp_path / str(n)
        home.mkdir()
        env = {"XDG_CONFIG_HOME": str(home / "config"), "XDG_DATA_HOME": str(home / "data")}
        result = coach(*shlex.split(line)[1:], cwd=home, env_extra=env)
        assert result.returncode == 0, f"{line}\n{result.stderr}"
        ran.append(line)
    assert {"coach routines", "coach history", "coach today", "coach report -o report.html"} <= set(ran)


def _anchor(heading: str) -> str:
    """The anchor a heading gets on GitHub: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_the_contents_list_links_every_section_and_every_link_leads_somewhere():
    headings = re.findall(r"(?m)^#{2,3} (.+)$", re.sub(r"```.*?```", "", TEXT, flags=re.S))
    anchors = {_anchor(h) for h in headings}
    contents = re.search(r"(?ms)^## Contents\n(.*?)^## ", TEXT).group(1)
    listed = set(re.findall(r"\]\(#([\w-]+)\)", contents))
    assert anchors - listed == {"contents"}
    assert set(re.findall(r"\]\(#([\w-]+)\)", TEXT)) <= anchors


def test_the_readme_opens_with_what_coach_is_its_two_commands_a_tour_and_the_contents():
    headings = re.findall(r"(?m)^## (.+)$", re.sub(r"```.*?```", "", TEXT, flags=re.S))
    assert TEXT.startswith("# coach\n\ncoach is ")
    assert headings[:3] == ["Two commands", "A five-minute tour", "Contents"]
