"""The settings file: edited in place, checked like the options, and overridden by them."""

from __future__ import annotations

import json

import pytest

from coach.config import DEFAULT_ROUTINE, config_path, load_settings, resolve_options
from coach.errors import ConfigError
from inproc import cli

COMMENTED = """\
# my coach settings

rate = 150  # a little slow for now
# a voice I like
voice = "en-us"
"""


@pytest.fixture
def config_home(tmp_path, monkeypatch):
    """A private, empty config folder; returns where config.toml goes."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path / "config" / "coach" / "config.toml"




def test_config_path_follows_the_user_config_folder(config_home, capsys):
    assert config_path() == config_home
    assert cli(capsys, "config", "path")[1] == f"{config_home}\n"


def test_set_keeps_comments_and_order_and_get_list_unset_show_it(config_home, capsys):
    config_home.parent.mkdir(parents=True)
    config_home.write_text(COMMENTED)
    assert cli(capsys, "config", "set", "rate", "180")[0] == 0
    assert cli(capsys, "config", "set", "beep_volume", "40")[0] == 0
    assert config_home.read_text() == COMMENTED.replace("150", "180") + "beep_volume = 40\n"
    assert [p.name for p in config_home.parent.iterdir()] == ["config.toml"]  # no temporary left
    assert cli(capsys, "config", "get", "rate")[1] == "180\n"
    assert cli(capsys, "config", "get", "routine")[1] == f"{DEFAULT_ROUTINE}\n"
    assert cli(capsys, "config", "get", "pitch")[:2] == (1, "")
    code, out, _ = cli(capsys, "config", "list")
    assert code == 0
    assert 'voice        = "en-us"' in out and "rate         = 180" in out
    assert "pitch        (not set: the voice's own)" in out
    assert cli(capsys, "config", "unset", "voice")[1] == "voice removed; now: the best voice for the routine's language\n"
    assert "# a voice I like" in config_home.read_text() and "voice =" not in config_home.read_text()


def test_a_new_file_is_created_with_a_header(config_home, capsys):
    code, out, err = cli(capsys, "config", "set", "language", "EN_gb")
    assert code == 0, err
    assert out == 'language = "en-gb"\n'
    assert config_home.read_text().startswith("# coach settings")
    assert load_settings().values == {"language": "en-gb"}


@pytest.mark.parametrize(("key", "value", "option_args", "reason"), [
    ("rate", "79", ("--rate", "79"), "79 words per minute is out of range 80..400"),
    ("pitch", "101", ("--pitch", "101"), "101 is out of range 0..100"),
    ("voice_volume", "150", ("--voice-volume", "150"), "150 is outside 0-100 %"),
    ("voice", "no-such-voice-at-all", ("--voice", "no-such-voice-at-all"), "no voice matches 'no-such-voice-at-all'"),
])
def test_set_checks_a_value_as_the_option_does(config_home, capsys, short_routine, tmp_path, key, value,
                                                option_args, reason):
    code, _, err = cli(capsys, "config", "set", key, value)
    assert code == 2 and err.startswith(f"coach: {key}: {reason}"), err
    code, _, err = cli(capsys, "export", str(short_routine), str(tmp_path / "x.wav"), *option_args)
    assert code == 2 and err.startswith(f"coach: {option_args[0]}: {reason}"), err
    assert not config_home.exists()


def test_set_refuses_unknown_keys_and_routines(config_home, capsys):
    code, _, err = cli(capsys, "config", "set", "colour", "red")
    assert code == 2 and "unknown setting 'colour'" in err and "voice, rate, pitch" in err
    code, _, err = cli(capsys, "config", "set", "routine", "no-such-routine")
    assert code == 2 and err.startswith("coach: routine: unknown routine 'no-such-routine'")


@pytest.mark.parametrize(("text", "line", "message"), [
    ("rate = 180\npitch = \n", 2, "Invalid value (not valid TOML)"),
    ("rate = 180\n\ncolour = 'red'\n", 3, "colour: unknown setting (known: voice, rate,"),
    ("# comment\nrate = 500\n", 2, "rate: 500 words per minute is out of range 80..400"),
    ("voice_volume = 'loud'\n", 1, "voice_volume: must be a number of percent from 0 to 100, got 'loud'"),
    ("language = 'english please'\n", 1, "language: 'english please' is not a language code"),
    ("[voice]\nid = 'f3'\n", 1, "voice: must be a non-empty text"),
])
def test_a_bad_file_is_one_line_naming_file_line_and_key(config_home, capsys, text, line, message):
    config_home.parent.mkdir(parents=True)
    config_home.write_text(text)
    code, out, err = cli(capsys, "plan", "--no-voice")
    assert code == 2 and out == ""
    assert err.startswith(f"coach: {config_home}:{line}: {message}"), err
    assert len(err.splitlines()) == 1


def test_values_used_later_are_blamed_on_the_file(config_home, capsys, short_routine):
    config_home.parent.mkdir(parents=True)
    config_home.write_text("# a\nroutine = 'gone'\nvoice = 'no-such-voice-at-all'\n")
    code, _, err = cli(capsys, "plan")
    assert code == 2 and err.startswith(f"coach: {config_home}:2: routine: unknown routine 'gone'"), err
    code, _, err = cli(capsys, "plan", str(short_routine))
    assert code == 2 and err.startswith(f"coach: {config_home}:3: voice: no voice matches"), err
    # with --no-voice the file's voice does not apply; an option given on the command line wins
    assert cli(capsys, "plan", str(short_routine), "--no-voice")[0] == 0
    assert cli(capsys, "plan", str(short_routine), "--voice", "en")[0] == 0


def test_command_line_over_file_over_built_in(config_home):
    config_home.parent.mkdir(parents=True)
    config_home.write_text("rate = 300\npitch = 70\nbeep_volume = 20\n")
    settings = load_settings()
    chosen = resolve_options(rate=120, settings=settings)
    assert (chosen.rate_wpm, chosen.pitch, chosen.beep_volume_pct, chosen.voice_volume_pct) == (120, 70, 20, 100)
    assert chosen.from_file == {"pitch", "beep_volume"}
    assert resolve_options(settings=settings).rate_wpm == 300
    assert resolve_options(no_voice=True, settings=settings).pitch is None
    config_home.unlink()
    assert resolve_options().rate_wpm == 160 and resolve_options().routine == DEFAULT_ROUTINE


def test_a_plan_from_settings_is_the_plan_from_the_same_options(config_home, capsys, short_routine):
    options = ("--voice", "en-us+f3", "--rate", "210", "--pitch", "65")
    code, from_options, err = cli(capsys, "plan", str(short_routine), "--json", *options)
    assert code == 0, err
    for key, value in (("voice", "en-us+f3"), ("rate", "210"), ("pitch", "65"), ("routine", str(short_routine))):
        assert cli(capsys, "config", "set", key, value)[0] == 0
    code, from_settings, err = cli(capsys, "plan", "--json")
    assert code == 0, err
    assert json.loads(from_settings) == json.loads(from_options)
    code, default, _ = cli(capsys, "plan", str(short_routine), "--json", "--voice", "en", "--rate", "160")
    assert json.loads(default) != json.loads(from_settings)


def test_bad_file_error_names_the_file_when_loaded_directly(config_home):
    config_home.parent.mkdir(parents=True)
    config_home.write_bytes(b"voice = '\xff'\n")
    with pytest.raises(ConfigError, match=r":1: is not UTF-8 text$"):
        load_settings()


def test_a_settings_file_nested_too_deeply_is_one_line_naming_it(config_home, capsys):
    config_home.parent.mkdir(parents=True)
    config_home.write_text("rate = " + "[" * 50_000 + "]" * 50_000 + "\n")
    code, out, err = cli(capsys, "plan", "back-pain-feet")
    assert (code, out) == (2, "") and err == f"coach: {config_home}: arrays or tables are nested too deeply (not valid TOML)\n"
