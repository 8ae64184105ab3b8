"""The beeps: built-in sound files, optionally replaced by the user's own (`--sounds DIR`)."""

from __future__ import annotations

import functools
import wave
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import coach
from coach.errors import CoachError, InputError, OptionError
from coach.plan.model import SAMPLE_RATE, SOUND_NAMES, SOUND_START, SOUND_STOP, CueKind, Plan
from coach.i18n import _

if TYPE_CHECKING:
    import numpy as np  # `coach routines` reads only the sounds' headers, without numpy

# Suffixes a user's replacement sound may have; soundfile decides whether the content is readable.
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".oga", ".mp3", ".aif", ".aiff")


def builtin_sounds_dir(package_dir: Path | None = None) -> Path:
    """The directory holding the built-in sounds: inside the package (wheel), else the repo's sounds/."""
    package_dir = Path(coach.__file__).parent if package_dir is None else package_dir
    candidates = (package_dir / "sounds", package_dir.parent / "sounds")
    for candidate in candidates:
        if all((candidate / f"{name}.wav").is_file() for name in SOUND_NAMES):
            return candidate
    raise CoachError(
        "built-in sounds not found in " + " or ".join(str(c) for c in candidates)
        + " (reinstall coach, or run scripts/make_sounds in a source checkout)"
    )


def _plain_wav(path: Path) -> np.ndarray | None:
    """A 16-bit mono PCM WAV at SAMPLE_RATE (as the shipped sounds are) read with the wave module, else None.

    The samples are those soundfile gives (integer / 32768), without loading soundfile and its library.
    """
    import numpy as np

    from coach.audio.pcm import from_pcm16

    try:
        with wave.open(str(path)) as plain:
            if (plain.getnchannels(), plain.getsampwidth(), plain.getframerate()) != (1, 2, SAMPLE_RATE):
                return None
            data = plain.readframes(plain.getnframes())
    except (wave.Error, EOFError, OSError):
        return None
    samples = from_pcm16(np.frombuffer(data, dtype="<i2"))
    return samples if len(samples) else None


def read_sound(path: Path) -> np.ndarray:
    """One sound file as float32 mono at SAMPLE_RATE; InputError naming the file if it is unusable."""
    if not path.is_file():
        raise InputError(_("{path}: not a regular file").format(path=path))
    plain = _plain_wav(path)
    if plain is not None:
        return plain
    import numpy as np
    import soundfile as sf  # the audio stack, for every other kind of sound file

    try:
        data, rate_hz = sf.read(path, dtype="float32", always_2d=True)
    except (sf.SoundFileError, RuntimeError, ValueError, TypeError, OSError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(_("{path}: not a readable audio file ({detail})").format(path=path, detail=detail)) from None
    if data.shape[0] == 0 or data.shape[1] == 0:
        raise InputError(_("{path}: the audio file is empty").format(path=path))
    if not np.all(np.isfinite(data)):
        raise InputError(_("{path}: the audio contains NaN or infinite samples").format(path=path))
    mono = data.mean(axis=1, dtype=np.float32) if data.shape[1] > 1 else data[:, 0]
    if rate_hz != SAMPLE_RATE:
        import soxr  # only a user's sound at another rate needs the resampler

        mono = soxr.resample(mono, rate_hz, SAMPLE_RATE, quality="HQ").astype(np.float32, copy=False)
        if mono.size == 0:
            raise InputError(_("{path}: the audio is too short to use").format(path=path))
    return np.ascontiguousarray(mono, dtype=np.float32)


def _user_files(user_dir: Path) -> dict[str, Path]:
    """Sound name -> the user's replacement file for it; other files in the directory are ignored."""
    if not user_dir.exists():
        raise OptionError("--sounds", _("directory {user_dir} does not exist").format(user_dir=user_dir))
    if not user_dir.is_dir():
        raise OptionError("--sounds", _("{user_dir} is not a directory").format(user_dir=user_dir))
    try:
        entries = sorted(user_dir.iterdir())
    except OSError as exc:
        raise OptionError("--sounds", _("cannot list {user_dir}: {reason}").format(user_dir=user_dir, reason=exc.strerror or exc)) from None
    found: dict[str, Path] = {}
    for entry in entries:
        if entry.stem not in SOUND_NAMES or entry.suffix.lower() not in AUDIO_SUFFIXES:
            continue
        if entry.stem in found:
            raise OptionError(
                "--sounds", f"both {found[entry.stem].name} and {entry.name} in {user_dir}; keep one"
            )
        found[entry.stem] = entry
    return found


def check_cues_kept(plan: Plan, user_dir: Path | None) -> None:
    """Refuse a --sounds start or stop sound too long for the shortest step it must fit in: the planner
    drops such a cue, and with --no-voice a hold would then start or end with no signal at all."""
    overrides = _user_files(Path(user_dir)) if user_dir is not None else {}
    shortest: dict[str, tuple[float, float]] = {}  # sound -> (its length, the shortest step it was left out of)
    starts = {round(step.start_s, 6): step for step in plan.steps}
    for cue in plan.dropped:
        step = starts.get(round(cue.at_s, 6))
        if cue.kind != CueKind.SOUND or cue.sound not in (SOUND_START, SOUND_STOP) or step is None:
            continue
        seen = shortest.get(cue.sound)
        if seen is None or step.duration_s < seen[1]:
            shortest[cue.sound] = (cue.duration_s, step.duration_s)
    for name, (length_s, gap_s) in sorted(shortest.items()):
        if name in overrides:
            if name == SOUND_START:
                text = _("{path} lasts {length_s} s, longer than the shortest hold or work period it must fit in "
                         "({gap_s} s); shorten it to {gap_s} s or less")
            else:
                text = _("{path} lasts {length_s} s, longer than the shortest rest it must fit in ({gap_s} s); "
                         "shorten it to {gap_s} s or less")
            raise OptionError("--sounds", text.format(path=overrides[name], length_s=f"{length_s:.2f}",
                                                      gap_s=f"{gap_s:.2f}"))


def load_sounds(user_dir: Path | None = None) -> dict[str, np.ndarray]:
    """Every named sound as float32 mono at SAMPLE_RATE; files in user_dir replace built-ins."""
    overrides = _user_files(Path(user_dir)) if user_dir is not None else {}
    builtin_dir = builtin_sounds_dir() if len(overrides) < len(SOUND_NAMES) else None
    sounds: dict[str, np.ndarray] = {}
    for name in SOUND_NAMES:
        path = overrides.get(name) or builtin_dir / f"{name}.wav"
        sounds[name] = read_sound(path)
    return sounds


@functools.cache
def builtin_sound_durations_s() -> dict[str, float]:
    """The length in seconds of each shipped sound, from its file's header when it is plain 16-bit PCM at SAMPLE_RATE."""
    folder = builtin_sounds_dir()
    durations = {}
    for name in SOUND_NAMES:
        try:
            with wave.open(str(folder / f"{name}.wav")) as header:
                if header.getframerate() != SAMPLE_RATE:
                    raise wave.Error("resampled on reading")
                durations[name] = header.getnframes() / SAMPLE_RATE
        except (wave.Error, EOFError):  # not one that the header alone describes: read the samples
            return sound_durations_s(load_sounds())
    return durations


def sound_durations_s(sounds: Mapping[str, np.ndarray]) -> dict[str, float]:
    """Each sound's length in seconds at SAMPLE_RATE."""
    return {name: len(clip) / SAMPLE_RATE for name, clip in sounds.items()}
