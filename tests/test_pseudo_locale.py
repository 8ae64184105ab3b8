"""Nothing coach prints skips the catalogs: every command run under a pseudo-locale whose every message
is visibly transformed, and no line may come out in plain English (what the user wrote aside)."""

from __future__ import annotations

import calendar
import json
import re

import pytest

from coach import i18n
from coach.config import KEYS
from coach.routine import load_routine
from inproc import coach
from pseudo import translations, untransformed

ROUTINE = "back-pain-daily"
# Calendar words are CLDR's, not coach's messages: in English they are the strftime ones.
CALENDAR_WORDS = {*calendar.day_name, *calendar.day_abbr, *calendar.month_name[1:], *calendar.month_abbr[1:]}


def _command_words() -> set[str]:
    """The names of coach's commands, subcommands and parameters, as help and usage lines show them."""
    import typer

    from coach.cli.app import app

    names: set[str] = set()

    def walk(command) -> None:
        names.add(command.name or "")
        names.update(p.name for p in command.params if p.name)
        for sub in getattr(command, "commands", {}).values():
            walk(sub)

    walk(typer.main.get_command(app))
    return names


def _routine_words(*routines) -> set[str]:
    words = set()
    for r in routines:
        words |= {r.id, r.title, r.summary or "", r.caution or "", *r.equipment}
        for ex in r.exercises:
            words |= {ex.name, ex.instructions, *ex.tips, *ex.sides}
    return words


@pytest.fixture
def pseudo():
    """coach's messages in the pseudo-locale (the locale itself says English, so routine text stays as written)."""
    with i18n.use_translations("en", translations()):
        yield


def _outputs(*calls, allowed=frozenset()) -> list[str]:
    problems = []
    for args in calls:
        result = coach(*args, env_extra={"LANG": "C.UTF-8", "COLUMNS": "80"})
        for line in untransformed(result.stdout + "\n" + result.stderr, allowed):
            problems.append(f"coach {' '.join(map(str, args))}: {line}")
    return problems


def test_every_line_the_commands_print_comes_from_the_catalogs(pseudo, tmp_path, short_routine):
    daily, short = load_routine(ROUTINE), load_routine(str(short_routine))
    plan_doc = json.loads(coach("plan", ROUTINE, "--no-voice", "--json").stdout)
    spoken = {c["text"] for c in plan_doc["cues"] if c.get("text")} | {c["title"] for c in plan_doc["chapters"]}
    allowed = (_routine_words(daily, short, *(load_routine(n) for n in ("back-pain-feet", "back-pain-stretches")))
               | spoken | CALENDAR_WORDS | _command_words() | set(KEYS) | {"ok", "fine today"})
    bad = tmp_path / "bad.toml"
    bad.write_text('title = "x"\n[[exercises]]\nname = "a"\n')
    problems = _outputs(
        ["routines"], ["show", ROUTINE], ["show"], ["show", "no-such-routine"], ["show", ROUTINE, "extra"],
        ["validate", bad], ["validate", short_routine], ["plan", ROUTINE, "--no-voice"], ["plan", "--rate", "x"],
        ["export", short_routine, tmp_path / "s.wav", "--no-voice"], ["export", short_routine, tmp_path / "s.txt"],
        ["history"], ["log", "add", ROUTINE], ["log", "--pain", "3", "--note", "fine today"], ["log", "--pain", "11"],
        ["history"], ["history", "--routine", ROUTINE], ["today"], ["log", "add", ROUTINE, "--at", "tomorrow"],
        ["calendar", ROUTINE, "-o", tmp_path / "c.ics"], ["calendar", ROUTINE, "-o", tmp_path / "c.txt"],
        ["report", "-o", tmp_path / "r.html"], ["config", "list"], ["config", "set", "rate", "5"],
        ["config", "get", "nothing"], ["run", "--loudness", "5x"], ["say", "   "], ["voices", "--language", "xx"],
        ["--help"], ["show", "--help"], ["run", "--help"], ["log", "add", "--help"], ["config", "--help"],
        ["report", "--help"], ["nosuchcommand"],
        allowed=allowed)
    assert problems == [], "\n".join(problems)


def test_the_report_and_the_calendar_have_no_english_left(pseudo, tmp_path):
    coach("log", "add", ROUTINE)
    assert coach("report", "-o", tmp_path / "r.html").returncode == 0
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    text = re.sub(r"<svg.*?</svg>|<style>.*?</style>|<[^>]+>", "\n", html, flags=re.S)
    builtins = (load_routine(name) for name in ("back-pain-daily", "back-pain-feet", "back-pain-stretches"))
    allowed = _routine_words(*builtins) | CALENDAR_WORDS | {"UTC", "fine today"}  # whatever this run logged
    assert untransformed(text, allowed) == []
    from icalendar import Calendar

    coach("calendar", ROUTINE, "-o", tmp_path / "c.ics")
    texts = [str(part["description"]) for part in Calendar.from_ical((tmp_path / "c.ics").read_bytes()).walk()
             if "description" in part]
    assert texts and untransformed("\n".join(texts), _routine_words(load_routine(ROUTINE)) | {"run", "log add"}) == []


def test_the_status_line_and_the_pain_question_come_from_the_catalogs(pseudo):
    from coach.audio.sounds import builtin_sound_durations_s
    from coach.live.status import status_text
    from coach.log.pain import prompt, reprompt
    from coach.plan.planner import plan
    from coach.plan.script import english
    from coach.plan.settings import Settings, estimate_clip_duration

    p = plan(load_routine(ROUTINE), Settings(sound_s=builtin_sound_durations_s()), estimate_clip_duration(160))
    allowed = _routine_words(load_routine(ROUTINE)) | {english().PAIN_QUESTION}
    lines = [status_text(p, at_s, paused=at_s == 30, width=width)
             for at_s in (0, 5, 30, 60, 120, p.duration_s - 1) for width in (40, 80)]
    assert untransformed("\n".join(lines + [prompt(), reprompt()]), allowed) == []
