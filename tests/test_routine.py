"""Routine files: the built-ins load with the seed doses, and every bad file gets a precise error."""

import json
from importlib import resources

import pytest

from coach.errors import InputError, RoutineError
from coach.routine import _EXERCISE, _TOP, builtin_names, load_routine, load_routine_file, parse_routine

GOOD = """\
title = "Test"

[[exercises]]
name = "Squeeze"
instructions = "Squeeze."
hold_s = 3
reps = 2
"""


def test_builtins_are_the_three_seed_routines():
    assert builtin_names() == ["back-pain-daily", "back-pain-feet", "back-pain-stretches"]


def test_back_pain_daily_has_the_seed_daily_doses():
    r = load_routine("back-pain-daily")
    assert [(e.name, e.kind, e.dose_s, e.reps, e.rest_s) for e in r.exercises] == [
        ("Toe presses", "hold", 3, 10, 2.0), ("Toe walking", "work", 20, 5, 15.0)]
    assert r.frequency == ("day", 2, 3)


def test_back_pain_feet_has_the_seed_doses():
    r = load_routine("back-pain-feet")
    doses = [(e.name, e.kind, e.dose_s, e.reps, e.rest_s if e.reps > 1 else None, len(e.sides)) for e in r.exercises]
    assert doses == [
        ("Toe presses", "hold", 3, 10, 2.0, 0),
        ("Toe walking", "work", 20, 5, 15.0, 0),
        ("Ankle circles", "work", 10, 1, None, 4),
        ("Resisted flexion", "hold", 5, 10, 10.0, 0),
        ("Toe pencil pickups", "hold", 10, 5, 4.0, 2),
    ]
    assert r.frequency == ("week", 2, 3)
    assert "a pencil" in r.equipment and "an exercise band" in r.equipment


def test_back_pain_stretches_has_nine_moves():
    r = load_routine("back-pain-stretches")
    assert [(e.kind, e.dose_s, e.reps, len(e.sides)) for e in r.exercises] == [
        ("hold", 10, 3, 2), ("work", 30, 1, 0), ("hold", 3, 10, 0), ("hold", 10, 5, 2), ("work", 10, 1, 2),
        ("work", 30, 1, 2), ("work", 90, 1, 2), ("hold", 30, 1, 2), ("hold", 15, 10, 0),
    ]


def test_schema_names_exactly_the_keys_the_validator_accepts():
    schema = json.loads((resources.files("coach") / "routine.schema.json").read_text())
    assert set(schema["properties"]) == _TOP
    assert set(schema["$defs"]["exercise"]["properties"]) == _EXERCISE


def error_for(text: str) -> RoutineError:
    with pytest.raises(RoutineError) as info:
        parse_routine(text, "my.toml", "my")
    return info.value


@pytest.mark.parametrize(
    "change, line, key, words",
    [
        (("hold_s = 3", "hold_s = 0"), 6, "exercises[1].hold_s", "more than 0"),
        (("hold_s = 3", "hold_s = 601"), 6, "exercises[1].hold_s", "over the limit"),
        (("hold_s = 3", "hold_s = 2.5"), 6, "exercises[1].hold_s", "whole number"),
        (("hold_s = 3", 'hold_s = "3"'), 6, "exercises[1].hold_s", "must be a number"),
        (("reps = 2", "reps = 101"), 7, "exercises[1].reps", "over the limit"),
        (("reps = 2", "reps = 2\ncolour = 'red'"), 8, "exercises[1].colour", "unknown key"),
        (("hold_s = 3", "hold_s = 3\nwork_s = 4"), 7, "exercises[1].work_s", "exactly one of"),
        (('name = "Squeeze"\n', ""), 3, "exercises[1]", "missing required key 'name'"),
        (('title = "Test"', 'title = ""'), 1, "title", "must have words"),
        (('title = "Test"', 'title = "..."'), 1, "title", "must have words"),
        (('reps = 2', 'reps = 2\ntips = ["ok", " "]'), 8, "exercises[1].tips", "entry 2"),
        (('title = "Test"', 'title = "Test"\nlanguage = "english please"'), 2, "language", "language code"),
        (("reps = 2", "reps = 2\nrest_s = 0.5"), 8, "exercises[1].rest_s", "at least 1 s"),
        (("reps = 2", "reps = 2\nsides = ['left', 'Left']"), 8, "exercises[1].sides", "same side twice"),
        (('title = "Test"', 'title = "Test"\nfrequency = { per_month = 2 }'), 2, "frequency.per_month", "unknown key"),
        (('title = "Test"', 'title = "Test"\nfrequency = { per_day = 0 }'), 2, "frequency.per_day", "whole number"),
    ],
)
def test_bad_values_name_file_line_and_key(change, line, key, words):
    err = error_for(GOOD.replace(*change))
    assert err.path == "my.toml"
    assert err.line == line
    assert err.key == key
    assert words in str(err)
    assert str(err).startswith(f"my.toml:{line}: ")


def test_a_session_over_four_hours_is_refused():
    err = error_for(GOOD.replace("hold_s = 3", "hold_s = 600").replace("reps = 2", "reps = 30"))
    assert err.key == "exercises" and "4 hours" in str(err)


def test_toml_syntax_errors_carry_the_line():
    err = error_for(GOOD.replace("reps = 2", "reps = = 2"))
    assert err.line == 7 and "invalid TOML" in str(err)


def test_missing_exercises():
    err = error_for('title = "Only a title"\n')
    assert "exercises" in str(err) and err.line == 1


def test_file_errors_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_routine_file(tmp_path / "missing.toml")
    binary = tmp_path / "bad.toml"
    binary.write_bytes(b'title = "x"\n\xff\xfe')
    with pytest.raises(RoutineError, match=r"bad.toml:2: is not UTF-8"):
        load_routine_file(binary)


def test_unknown_routine_name_lists_the_choices():
    with pytest.raises(InputError, match="back-pain-feet"):
        load_routine("no-such-routine")


def test_defaults(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(GOOD)
    r = load_routine(str(path))
    ex = r.exercises[0]
    assert (r.id, r.language, ex.sets, ex.rest_s, ex.rest_given, ex.sides) == ("mine", "en", 1, 2.0, False, ())
