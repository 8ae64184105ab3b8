"""The settings file: preferences that stay between commands (voice, rate, pitch, volumes, ...)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from coach.errors import ConfigError, InputError, OptionError, RoutineError
from coach.routine import Routine, load_routine
from coach.audio.levels import DEFAULT_LOUDNESS_LUFS, check_loudness
from coach.session import SessionOptions, check_language, check_voice, check_volume
from coach.speech.engine import DEFAULT_RATE_WPM, validate_rate
from coach.speech.voices import DEFAULT_LANGUAGE, validate_language, validate_pitch
from coach.i18n import N_, _
from coach.terminal import os_reason

FILE_NAME = "config.toml"
DEFAULT_ROUTINE = "back-pain-feet"

# Each setting, the command-line option it stands in for, and its value when neither gives one.
OPTIONS = {
    "voice": "--voice",
    "rate": "--rate",
    "pitch": "--pitch",
    "voice_volume": "--voice-volume",
    "beep_volume": "--beep-volume",
    "loudness": "--loudness",
    "language": "--language",
    "routine": "ROUTINE",
    "mpris": "--no-mpris",
}
KEYS = tuple(OPTIONS)
DEFAULTS = {"voice": None, "rate": DEFAULT_RATE_WPM, "pitch": None, "voice_volume": 100,
            "beep_volume": 100, "loudness": DEFAULT_LOUDNESS_LUFS, "language": DEFAULT_LANGUAGE,
            "routine": DEFAULT_ROUTINE, "mpris": True}
UNSET_MEANING = {"voice": N_("the best voice for the routine's language"), "pitch": N_("the voice's own"),
                 "language": N_("your system's language when the routine is in it, else the routine's own "
                                "(voices and say: your system's language, else en)")}  # shown through _()
NEW_FILE_HEADER = "# coach settings: `coach config set KEY VALUE` edits this file, options on the command line win.\n"

_KEY_LINE = re.compile(r"""^\s*\[*\s*(?:"([^"]*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*[.=\]]""")
_TOML_AT = re.compile(r"\s*\(at line (\d+), column \d+\)\s*$")


def config_path() -> Path:
    """Where the settings file lives (under XDG_CONFIG_HOME on Linux)."""
    from platformdirs import user_config_dir  # an edge dependency, only needed here

    return Path(user_config_dir("coach")) / FILE_NAME


# --- values --------------------------------------------------------------------------------------


def check_value(key: str, value: object) -> object:
    """A setting's value checked exactly as its command-line option is (OptionError naming the option)."""
    option = OPTIONS[key]
    if key == "rate":
        return validate_rate(value)  # type: ignore[arg-type]
    if key == "pitch":
        return validate_pitch(value)  # type: ignore[arg-type]
    if key in ("voice_volume", "beep_volume"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise OptionError(option, _("must be a number of percent from 0 to 100, got {value}").format(value=repr(value)))
        return check_volume(value, option)
    if key == "loudness":
        return check_loudness(value, option)  # type: ignore[arg-type]
    if key == "language":
        return validate_language(value)  # type: ignore[arg-type]
    if key == "voice":
        return check_voice(value)  # checked against what is installed when it is used
    if key == "mpris":
        if not isinstance(value, bool):
            raise OptionError(option, _("must be true or false, got {value}").format(value=repr(value)))
        return value
    if not isinstance(value, str) or not value.strip():
        raise OptionError(option, _("must be a non-empty text, got {value}").format(value=repr(value)))
    return value.strip()  # routine: looked up when it is used


def parse_value(key: str, text: str) -> object:
    """A value typed after `coach config set KEY`, as the type the setting holds, checked."""
    if key not in OPTIONS:
        raise OptionError("KEY", _("unknown setting {key}; choose one of: {names}").format(key=repr(key), names=', '.join(KEYS)))
    value: object = text
    if key in ("rate", "pitch") and re.fullmatch(r"\s*[+-]?\d+\s*", text):
        value = int(text)
    elif key == "mpris":
        value = {"true": True, "false": False, "on": True, "off": False}.get(text.strip().lower(), text)
    elif key in ("voice_volume", "beep_volume", "loudness"):
        with contextlib.suppress(ValueError):
            number = float(text)
            value = int(number) if number.is_integer() else number
    if key == "language":  # the setting applies to every routine: a language coach has phrases in
        return check_language(value)
    return check_value(key, value)


def format_value(value: object) -> str:
    """A value as TOML writes it."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:g}" if isinstance(value, float) else str(value)


# --- the file ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """The settings in the file (only those it gives), and the line each is on."""

    path: Path
    values: dict[str, object] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)

    def fail(self, key: str, reason: str) -> ConfigError:
        """An error about one setting, naming the file, its line and the key."""
        return ConfigError(str(self.path), reason, self.lines.get(key), key)


def _key_lines(text: str) -> dict[str, int]:
    lines: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        match = _KEY_LINE.match(line)
        if match:
            lines.setdefault(next(g for g in match.groups() if g is not None), number)
    return lines


def _read_text(path: Path) -> str | None:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(str(path), _("cannot read: {reason}").format(reason=exc.strerror)) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), _("is not UTF-8 text"), raw[: exc.start].count(b"\n") + 1) from None


def load_settings(path: Path | None = None) -> Settings:
    """The settings file, every value checked; no file is no settings. ConfigError when it is bad."""
    path = config_path() if path is None else Path(path)
    text = _read_text(path)
    if text is None:
        return Settings(path)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        at = _TOML_AT.search(message)
        reason = _("{reason} (not valid TOML)").format(reason=_TOML_AT.sub("", message))
        raise ConfigError(str(path), reason, int(at.group(1)) if at else None) from None
    except RecursionError:  # tomllib recurses once per level of nesting
        raise ConfigError(str(path), _("arrays or tables are nested too deeply (not valid TOML)")) from None
    settings = Settings(path, {}, _key_lines(text))
    for key, value in doc.items():
        if key not in OPTIONS:
            raise settings.fail(key, _("unknown setting (known: {keys})").format(keys=", ".join(KEYS)))
        try:
            settings.values[key] = check_value(key, value)
        except OptionError as exc:
            raise settings.fail(key, exc.reason) from None
    return settings


def _target(path: Path) -> Path:
    """The file a settings path stands for: a symlinked config.toml (dotfiles in a repo) is written through."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock while the settings at `path` are read, edited and replaced.

    The lock is on the folder: the file itself is replaced by a rename, so a lock on it would be lost,
    and a lock file would be one more file left in the user's folder.
    """
    import fcntl

    fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _edit(path: Path, change) -> None:
    import tomlkit  # only editing needs it: it keeps the user's comments, blank lines and order
    from tomlkit.exceptions import ParseError

    from coach.files import atomic_output

    target = _target(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with _locked(target):
            text = _read_text(target)
            try:
                doc = tomlkit.parse(text if text is not None else NEW_FILE_HEADER)
            except ParseError as exc:
                raise ConfigError(str(path), _("{reason} (not valid TOML)").format(reason=exc),
                                  getattr(exc, "line", None)) from None
            change(doc)
            with atomic_output(target) as tmp:
                tmp.write_text(tomlkit.dumps(doc), encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(path), _("cannot be saved in {folder} ({reason})").format(folder=target.parent,
                                                                                      reason=os_reason(exc))) from None


def write_setting(key: str, value: object, path: Path | None = None) -> Path:
    """Set one setting in the file (creating it), atomically, keeping everything else as it was."""
    path = config_path() if path is None else Path(path)

    def change(doc) -> None:
        doc[key] = value

    _edit(path, change)
    return path


def remove_setting(key: str, path: Path | None = None) -> bool:
    """Remove one setting from the file; whether it was there."""
    path = config_path() if path is None else Path(path)
    if _read_text(path) is None:
        return False
    found = []

    def change(doc) -> None:
        if key in doc:
            del doc[key]
            found.append(key)

    _edit(path, change)
    return bool(found)


# --- command line over file over built-in -------------------------------------------------------


@dataclass(frozen=True)
class Choices:
    """Each setting as one command uses it, and which of them came from the settings file."""

    voice: str | None
    rate_wpm: int
    pitch: int | None
    voice_volume_pct: float
    beep_volume_pct: float
    loudness_lufs: float
    language: str
    routine: str
    settings: Settings
    from_file: frozenset[str]
    session_language: str | None = None  # --language or the file's; None leaves it to the routine
    mpris: bool = True  # offer the session to the desktop's media controls (--no-mpris, setting mpris)

    def session_options(self, no_voice: bool = False, sounds_dir: Path | None = None) -> SessionOptions:
        """The options a session is built with."""
        return SessionOptions(voice=self.voice, rate_wpm=self.rate_wpm, no_voice=no_voice,
                              sounds_dir=sounds_dir, voice_volume_pct=self.voice_volume_pct,
                              beep_volume_pct=self.beep_volume_pct, pitch=self.pitch,
                              language=self.session_language, loudness_lufs=self.loudness_lufs)

    @contextlib.contextmanager
    def blame(self) -> Iterator[None]:
        """Report an option error about a value from the file as an error in the file, at its line."""
        try:
            yield
        except OptionError as exc:
            key = next((k for k, option in OPTIONS.items() if option == exc.option), None)
            if key in self.from_file:
                raise self.settings.fail(key, exc.reason) from None
            raise

    def load_routine(self) -> Routine:
        """The routine to use; a file's own errors name that file, a missing one names the setting."""
        try:
            return load_routine(self.routine)
        except RoutineError:
            raise
        except InputError as exc:
            if "routine" in self.from_file:
                reason = str(exc).removeprefix("ROUTINE: ")
                raise self.settings.fail("routine", reason) from None
            raise


def _locale_default() -> str:
    """Without --language or the setting, voices and say speak the user's language when coach has phrases in it."""
    from coach.i18n import user_languages
    from coach.plan.phrases import pack_language

    return next((lang for lang in user_languages() if pack_language(lang) is not None), DEFAULT_LANGUAGE)


def resolve_options(*, voice: str | None = None, rate: int | None = None, pitch: int | None = None,
                    voice_volume: float | None = None, beep_volume: float | None = None,
                    loudness: float | None = None, language: str | None = None, routine: str | None = None,
                    no_voice: bool = False, mpris: bool | None = None, settings: Settings | None = None) -> Choices:
    """Each setting from the command line if given there (not None), else from the file, else built in.

    With --no-voice, the file's voice and pitch do not apply (they only matter for speech).
    """
    settings = load_settings() if settings is None else settings
    given = {"voice": voice, "rate": rate, "pitch": pitch, "voice_volume": voice_volume,
             "beep_volume": beep_volume, "loudness": loudness, "language": language, "routine": routine,
             "mpris": mpris}
    chosen, from_file = {}, set()
    for key, value in given.items():
        usable = key in settings.values and not (no_voice and key in ("voice", "pitch"))
        if value is None and usable:
            value = settings.values[key]
            from_file.add(key)
        chosen[key] = (_locale_default() if key == "language" else DEFAULTS[key]) if value is None else value
    return Choices(voice=chosen["voice"], rate_wpm=chosen["rate"], pitch=chosen["pitch"],
                   voice_volume_pct=chosen["voice_volume"], beep_volume_pct=chosen["beep_volume"],
                   loudness_lufs=float(chosen["loudness"]),
                   language=chosen["language"], routine=chosen["routine"], settings=settings,
                   from_file=frozenset(from_file), mpris=chosen["mpris"],
                   session_language=chosen["language"] if language is not None or "language" in from_file else None)
