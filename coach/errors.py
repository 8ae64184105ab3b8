"""The one exception family; the CLI turns these into a message and an exit status."""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    """What coach's exit code means."""

    SUCCESS = 0
    ERROR = 1  # something failed while doing the work
    BAD_INPUT = 2  # a file, an option or a name the user gave is wrong
    INTERRUPTED = 130  # Ctrl+C (128 + SIGINT), as shells report it


class CoachError(Exception):
    """A failure while doing the work (exit 1)."""

    exit_status = ExitStatus.ERROR


class InputError(CoachError):
    """Something the user gave us is wrong: a file, an option, a name (exit 2)."""

    exit_status = ExitStatus.BAD_INPUT


class RoutineError(InputError):
    """A routine file is invalid; the message names the file, the line and the key."""

    def __init__(self, path: str, message: str, line: int | None = None, key: str | None = None):
        self.path, self.line, self.key, self.reason = path, line, key, message
        where = path if line is None else f"{path}:{line}"
        what = f"{key}: {message}" if key else message
        super().__init__(f"{where}: {what}")


class OptionError(InputError):
    """A command-line option has a bad value."""

    def __init__(self, option: str, message: str):
        self.option, self.reason = option, message
        super().__init__(f"{option}: {message}")


class ConfigError(InputError):
    """The settings file is invalid; the message names the file, the line and the key."""

    def __init__(self, path: str, message: str, line: int | None = None, key: str | None = None):
        self.path, self.line, self.key, self.reason = path, line, key, message
        where = path if line is None else f"{path}:{line}"
        super().__init__(f"{where}: {key}: {message}" if key else f"{where}: {message}")


class EngineError(CoachError):
    """The speech engine is missing, hung or produced nothing."""


class AudioDeviceError(CoachError):
    """No audio output device could be opened."""
