"""The `coach config` commands: show and change the settings file."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from coach.config import (DEFAULTS, KEYS, OPTIONS, UNSET_MEANING, config_path, format_value, load_settings,
                          parse_value, remove_setting, write_setting)
from coach.errors import InputError, OptionError, RoutineError
from coach.speech.voices import DEFAULT_LANGUAGE, LANGUAGE_CODE

config_app = typer.Typer(
    no_args_is_help=True,
    help="Settings that stay: voice, rate, pitch, voice_volume, beep_volume, loudness, language, routine, mpris. "
    "Options given on the command line override them.",
)


def _key(key: str) -> str:
    if key not in OPTIONS:
        raise OptionError("KEY", f"unknown setting {key!r}; choose one of: {', '.join(KEYS)}")
    return key


def _default_text(key: str) -> str:
    """What applies when neither the file nor the command line gives a value."""
    value = DEFAULTS[key]
    return UNSET_MEANING.get(key) or (value if isinstance(value, str) else format_value(value))


@config_app.command("path")
def path_command() -> None:
    """Print where the settings file is (it may not exist yet)."""
    print(config_path())


@config_app.command("get")
def get_command(key: str = typer.Argument(..., help="The setting: " + ", ".join(KEYS) + ".")) -> None:
    """Print a setting's value (its built-in default when the file does not set it)."""
    settings = load_settings()
    value = settings.values.get(_key(key), DEFAULTS[key])
    if value is None:
        raise typer.Exit(1)  # nothing set and nothing built in: like `git config`, print nothing
    print(value if isinstance(value, str) else format_value(value))


@config_app.command("list")
def list_command() -> None:
    """Print every setting, from the file or built in."""
    settings = load_settings()
    print(f"# {settings.path}")
    for key in KEYS:
        if key in settings.values:
            print(f"{key:13}= {format_value(settings.values[key])}")
        else:
            print(f"{key:13}(not set: {_default_text(key)})")


def _check_voice(query: str) -> str:
    """The voice query resolved against the installed voices, as a person reads it."""
    from coach.cachedir import cache_root
    from coach.session import installed_voices
    from coach.speech.engine import default_engine
    from coach.speech.voices import engine_variants, pick_voice

    stored = load_settings_leniently().get("language")
    language = stored if isinstance(stored, str) and LANGUAGE_CODE.fullmatch(stored) else DEFAULT_LANGUAGE
    engine = default_engine()
    try:
        voice = pick_voice(installed_voices(engine, cache_root()), query, language,
                           engine_variants(engine))
    finally:
        engine.close()
    return f"{voice.id}, {voice.name}"


def _check_routine(ref: str) -> str:
    """The routine reference to store: names as they are, paths made absolute."""
    from coach.routine import builtin_names, load_routine

    try:
        load_routine(ref)
    except RoutineError:
        raise
    except InputError as exc:
        raise OptionError("routine", str(exc).removeprefix("ROUTINE: ")) from None
    path = Path(ref).expanduser()
    if ref not in builtin_names() and (ref.endswith(".toml") or "/" in ref or path.exists()):
        return str(path.resolve())
    return ref


def load_settings_leniently() -> dict:
    """The file's raw values without checking them, for hints only ({} if unreadable)."""
    import tomllib

    try:
        return tomllib.loads(config_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


# A negative value (loudness -16) is a value, not an option.
@config_app.command("set", context_settings={"ignore_unknown_options": True})
def set_command(
    key: str = typer.Argument(..., help="The setting: " + ", ".join(KEYS) + "."),
    value: str = typer.Argument(..., help="Its new value, checked as the matching command-line option is."),
) -> None:
    """Set a setting in the file (other settings, comments and order are kept)."""
    _key(key)
    try:
        checked = parse_value(key, value)
        note = ""
        if key == "voice":
            note = f"  ({_check_voice(checked)})"
        elif key == "routine":
            checked = _check_routine(checked)
    except OptionError as exc:
        if exc.option == "KEY":
            raise
        raise OptionError(key, exc.reason) from None
    path = write_setting(key, checked)
    print(f"{key} = {format_value(checked)}{note}")
    print(f"saved in {path}", file=sys.stderr)


@config_app.command("unset")
def unset_command(key: str = typer.Argument(..., help="The setting to remove: " + ", ".join(KEYS) + ".")) -> None:
    """Remove a setting from the file, so its built-in default applies again."""
    removed = remove_setting(_key(key))
    print(f"{key} {'removed' if removed else 'was not set'}; now: {_default_text(key)}")
