"""The command line as a user meets it: output, exit codes, one-line errors, no tracebacks."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


from inproc import coach


def assert_one_line_error(result, code, *words):
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0]


def test_version_and_help():
    result = coach("--version")
    assert result.returncode == 0 and result.stdout.startswith("coach ")
    for command in ("routines", "show", "plan", "validate"):
        assert coach(command, "--help").returncode == 0


def test_routines_lists_builtins_and_user_routines(tmp_path):
    config = tmp_path / "config"
    (config / "coach" / "routines").mkdir(parents=True)
    (config / "coach" / "routines" / "mine.toml").write_text(
        'title = "Mine"\n[[exercises]]\nname = "Press"\ninstructions = "Press."\nhold_s = 3\n')
    (config / "coach" / "routines" / "broken.toml").write_text('title = 3\n')
    result = coach("routines", env_extra={"XDG_CONFIG_HOME": str(config)})
    assert result.returncode == 0, result.stderr
    assert "back-pain-feet" in result.stdout and "5 exercises" in result.stdout
    assert "back-pain-stretches" in result.stdout and "9 exercises" in result.stdout
    assert "mine" in result.stdout and "Mine" in result.stdout
    assert "broken" in result.stdout and "invalid" in result.stdout
    assert coach("show", "mine", env_extra={"XDG_CONFIG_HOME": str(config)}).returncode == 0


def test_show_reads_like_a_routine():
    result = coach("show", "back-pain-feet")
    assert result.returncode == 0
    assert "1. Toe presses" in result.stdout and "hold 3 s x 10" in result.stdout
    assert "2-3 times a week" in result.stdout and "a pencil" in result.stdout


def test_plan_json_shape():
    result = coach("plan", "back-pain-feet", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert set(doc) == {"routine", "title", "language", "voice", "duration_s", "sample_rate", "steps", "cues",
                        "chapters", "exercises"}
    assert doc["routine"] == "back-pain-feet" and doc["sample_rate"] == 22050
    assert doc["language"] == "en" and doc["voice"].rsplit("/", 1)[-1].startswith("en")
    assert set(doc["steps"][0]) >= {"kind", "exercise", "side", "set", "rep", "start_s", "end_s"}
    assert set(doc["cues"][0]) == {"at_s", "duration_s", "kind", "text", "sound"}
    assert len(doc["chapters"]) == 7
    assert [c["exercise"] for c in doc["chapters"]] == [None, 1, 2, 3, 4, 5, None]
    assert {s["kind"] for s in doc["steps"]} == {"intro", "announce", "prepare", "hold", "work", "rest", "close"}
    presses = doc["exercises"][0]
    assert (presses["name"], presses["kind"], presses["planned_reps"], presses["sides"]) == ("Toe presses", "hold", 10, [None])
    assert all(s["side"] is None for s in doc["steps"] if s["exercise"] == "Toe presses")


def test_plan_text_shows_times_and_chapters():
    result = coach("plan", "back-pain-stretches", "--rate", "200")
    assert result.returncode == 0
    assert "== 1. Foot stretch ==" in result.stdout
    assert "Hold." in result.stdout and "[rest sound]" in result.stdout


@pytest.mark.parametrize("args, code, words", [
    (("plan", "--rate", "79"), 2, ("--rate", "80")),
    (("plan", "--rate", "401"), 2, ("--rate",)),
    (("plan", "--rate", "fast"), 2, ("--rate",)),
    (("plan", "no-such-routine"), 2, ("no-such-routine", "back-pain-feet")),
    (("plan", "/nonexistent/r.toml"), 2, ("/nonexistent/r.toml", "no such file")),
    (("show", "--bogus"), 2, ("--bogus",)),
    (("bogus-command",), 2, ("bogus-command",)),
])
def test_bad_input_is_one_clear_line(args, code, words):
    assert_one_line_error(coach(*args), code, *words)


def test_validate_reports_each_file(tmp_path):
    good = tmp_path / "good.toml"
    good.write_text('title = "G"\n[[exercises]]\nname = "P"\ninstructions = "P."\nwork_s = 20\n')
    bad = tmp_path / "bad.toml"
    bad.write_text('title = "B"\n[[exercises]]\nname = "P"\ninstructions = "P."\nhold_s = 900\n')
    result = coach("validate", str(good))
    assert result.returncode == 0 and "good.toml: ok" in result.stdout
    result = coach("validate", str(good), str(bad))
    assert result.returncode == 2
    assert f"{bad}:5: exercises[1].hold_s: is 900 s, which is over the limit of 600 s" in result.stderr
    assert "Traceback" not in result.stderr


def test_builtin_routine_files_validate():
    folder = Path(__file__).resolve().parents[1] / "coach" / "routine" / "routines"
    assert len(list(folder.glob("*.toml"))) >= 3
    result = coach("validate", *sorted(str(p) for p in folder.glob("*.toml")))
    assert result.returncode == 0, result.stderr


def test_commands_that_make_no_audio_start_without_the_audio_stack(tmp_path):
    # numpy alone is some 70 ms of a start; listing routines, help and settings never touch audio.
    probe = ("import runpy, sys\n"
             "sys.argv = ['coach'] + sys.argv[1:]\n"
             "code = 0\n"
             "try:\n    runpy.run_module('coach', run_name='__main__')\n"
             "except SystemExit as exc:\n    code = exc.code or 0\n"
             "print(code, sorted(m for m in ('numpy', 'soundfile', 'soxr') if m in sys.modules), file=sys.stderr)\n")
    for args in (["routines"], ["--help"], ["show", "back-pain-feet"], ["config", "list"]):
        done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True,
                              cwd=Path(__file__).parents[1], env=os.environ | {"NO_COLOR": "1"}, timeout=60)
        assert done.stderr.strip().splitlines()[-1] == "0 []", (args, done.stderr)
