"""What several commands share: their option types, the clock they read, and helpers over routines and the log."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional, TextIO

import typer

from coach.i18n import _
from coach.clock import SystemClock, WallClock
from coach.config import DEFAULT_ROUTINE
from coach.errors import CoachError, OptionError
from coach.plan.model import Plan
from coach.plan.planner import plan
from coach.plan.settings import Settings, estimate_clip_duration
from coach.routine import Routine, builtin_names, load_routine, load_routine_file, user_routine_files
from coach.speech.engine import DEFAULT_RATE_WPM

if TYPE_CHECKING:
    from coach.log.book import LoggedSession

# --- options ------------------------------------------------------------------------------------
# Options left out (None) take their value from the settings file (`coach config`), else the default.

RoutineArg = Annotated[str, typer.Argument(help="A built-in routine name or a path to a .toml file.")]
DefaultRoutineArg = Annotated[Optional[str], typer.Argument(
    help="A built-in routine name or a path to a .toml file (default: the 'routine' setting, else back-pain-feet).")]
VoiceOpt = Annotated[Optional[str], typer.Option(
    "--voice", help="Voice by id, name, language code or variant, e.g. en-us+Andrea or f3 (see 'coach voices').")]
RateOpt = Annotated[Optional[int], typer.Option("--rate", help="Speaking rate in words per minute (80-400).")]
PitchOpt = Annotated[Optional[int], typer.Option(
    "--pitch", help="Voice pitch, 0-100 (50 on espeak-ng; not given: the voice's own).")]
LanguageOpt = Annotated[Optional[str], typer.Option(
    "--language", help="Coach in this language (en, fr, de, es): its phrases, the routine's translation and "
    "the default voice (not given: the 'language' setting, else your system's language when the routine is in "
    "it, else the routine's own).")]
VoiceVolumeOpt = Annotated[Optional[float], typer.Option("--voice-volume", help="Speech volume, 0-100 %.")]
BeepVolumeOpt = Annotated[Optional[float], typer.Option("--beep-volume", help="Beep volume, 0-100 %.")]
LoudnessOpt = Annotated[Optional[float], typer.Option(
    "--loudness", help="The session's loudness in LUFS, -30 to -12 (default -19).")]
NoVoiceOpt = Annotated[bool, typer.Option("--no-voice", help="Beeps only, no speech (for when no speech engine is installed).")]
SoundsOpt = Annotated[Optional[Path], typer.Option(
    "--sounds", help="A folder of WAV files (rest, pip, start, stop, end) that replace the built-in sounds.")]

# --- the clock ----------------------------------------------------------------------------------

# Tests replace this to set the date; the commands never read the system clock themselves.
make_clock: Callable[[], WallClock] = SystemClock


def local_now() -> datetime:
    """The local time now, from the clock make_clock gives."""
    return make_clock().now()


def parse_day(option: str, text: str) -> date:
    """A YYYY-MM-DD day given to `option`; OptionError naming the option otherwise."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise OptionError(option, _("must be a date as YYYY-MM-DD, not '{text}'").format(text=text)) from None


# --- routines and the log -----------------------------------------------------------------------


def estimated_plan(routine: Routine, rate_wpm: int = DEFAULT_RATE_WPM) -> Plan:
    """A quick plan with speech lengths estimated from word counts (for listings)."""
    from coach.audio.sounds import builtin_sound_durations_s

    return plan(routine, Settings(sound_s=builtin_sound_durations_s()), estimate_clip_duration(rate_wpm))


def routines_with_frequency() -> list[tuple[str, Routine]]:
    """Built-in routines, then the user's own, that say how often to do them (invalid files are left out)."""
    found: list[tuple[str, Routine]] = [(name, load_routine(name)) for name in builtin_names()]
    known = {name for name, _ in found}
    for path in user_routine_files():
        if path.stem in known:
            continue  # a built-in of the same name wins, as in load_routine
        try:
            found.append((path.stem, load_routine_file(path)))
        except CoachError:
            pass
    return [(name, r) for name, r in found if r.frequency is not None]


def all_sessions(routine: str | None = None) -> list[LoggedSession]:
    """The logged sessions (of one routine, or all), newest first; none when nothing is logged yet."""
    from coach.log.book import open_for_reading

    log = open_for_reading()
    if log is None:
        return []
    with log:
        return log.sessions(routine)


# --- progress lines -----------------------------------------------------------------------------


def is_terminal(stream: TextIO) -> bool:
    """Whether the stream is a terminal (a stream without isatty, or a closed one, is not)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def fitted(line: str, stream: TextIO, indent: str = "") -> str:
    """On a terminal, the line broken between words to its width (a value such as -19.2 never split),
    its continuations after `indent`; elsewhere the line as it is."""
    if not is_terminal(stream):
        return line
    import shutil
    import textwrap

    return textwrap.fill(line, width=shutil.get_terminal_size().columns, subsequent_indent=indent,
                         break_on_hyphens=False, break_long_words=False)


def count_progress(label: str, stream: TextIO | None = None, quiet: bool = False) -> Callable[[int, int], None] | None:
    """A progress(done, total) callback that rewrites "LABEL: 34/82" on a terminal, else None."""
    stream = sys.stderr if stream is None else stream
    if quiet or not is_terminal(stream):
        return None

    def show(done: int, total: int) -> None:
        stream.write(f"\r{label}: {done}/{total}" + ("\n" if done >= total else ""))
        stream.flush()

    return show
