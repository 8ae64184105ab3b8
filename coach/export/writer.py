"""Export a planned session to an audio file (wav, flac, ogg, opus, mp3) with chapters and a title tag."""

from __future__ import annotations

import errno
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TextIO

import numpy as np

from coach.files import atomic_output, check_writable_folder, in_background
from coach.errors import CoachError, OptionError
from coach.plan.model import SAMPLE_RATE, Plan
from coach.audio.pcm import to_pcm16
from coach.export.tags import add_tags
from coach.i18n import _

SUPPORTED_EXTENSIONS = (".wav", ".flac", ".ogg", ".opus", ".mp3")
# libsndfile's Opus encoder takes only 8/12/16/24/48 kHz. Speech at 22050 Hz has nothing above 11 kHz,
# so 24 kHz keeps all of it (as ffmpeg chooses too) and encodes faster than 48 kHz at the same bit rate.
OPUS_RATE = 24000
PROGRESS_DELAY_S = 0.5

BLOCK_FRAMES = 65536  # the most frames handed to the encoder in one call
QUEUED_BLOCKS = 8  # blocks mixed ahead of the encoder: memory stays a few MB whatever the length
FULL_DISK_BYTES = 1 << 20  # less room than this after a failed write: the disk filled up

Progress = Callable[[int, int], None]


class Writer(Protocol):
    """An open audio file being written: a soundfile.SoundFile, SystemWriter or OpusFileWriter."""

    subtype: str

    def write(self, frames: np.ndarray) -> None: ...


class MixerLike(Protocol):
    """What export needs from coach.audio.mixer.Mixer."""

    total_frames: int

    def chunks(self, start_frame: int = 0, max_frames: int = 65536) -> Iterator[np.ndarray | int]: ...

    def pcm16_spans(self, start_frame: int = 0) -> Iterator[tuple[int, np.ndarray]]: ...


@dataclass(frozen=True)
class _Format:
    container: str
    subtype: str
    rate: int | None  # None: the plan's own sample rate


# Lossy lengths: libsndfile's MP3 writer adds a LAME/Xing header recording the encoder delay and padding,
# and Ogg granule positions do the same for Vorbis and Opus (pre-skip), so decoders that honour them
# (libsndfile, ffmpeg) give back exactly the frames written: no tolerance is needed on read-back length.
_FORMATS = {
    ".wav": _Format("WAV", "PCM_16", None),
    ".flac": _Format("FLAC", "PCM_16", None),
    ".ogg": _Format("OGG", "VORBIS", None),
    ".opus": _Format("OGG", "OPUS", OPUS_RATE),
    ".mp3": _Format("MP3", "MPEG_LAYER_III", None),
}


def _supported() -> str:
    return ", ".join(SUPPORTED_EXTENSIONS)


def check_output(path: Path) -> None:
    """Raise OptionError("OUTPUT") unless path has a supported extension and a writable folder."""
    path = Path(path)
    ext = path.suffix.lower()
    if not ext:
        raise OptionError("OUTPUT", _("{path} has no extension; supported: {supported}").format(path=path, supported=_supported()))
    if ext not in _FORMATS:
        raise OptionError("OUTPUT", _("{path}: unknown extension {suffix}; supported: {supported}").format(path=path, suffix=path.suffix, supported=_supported()))
    check_writable_folder(path, "OUTPUT")


def _chunks(mixer: MixerLike, progress: Progress | None) -> Iterator[np.ndarray | int]:
    """The mixer's chunks (an int is that many frames of silence), with progress reported and the total checked."""
    total = mixer.total_frames
    done = 0
    for chunk in mixer.chunks(0, BLOCK_FRAMES):
        yield chunk
        done += chunk if isinstance(chunk, int) else len(chunk)
        if progress:
            progress(done, total)
    if done != total:
        raise CoachError(f"mixer produced {done} frames, expected {total}")


def _write_blocks(write: Callable[[np.ndarray], None], pcm16: bool, mixer: MixerLike,
                  progress: Progress | None) -> None:
    silence = np.zeros(BLOCK_FRAMES, dtype=np.int16 if pcm16 else np.float32)
    for chunk in _chunks(mixer, progress):
        if isinstance(chunk, int):
            write(silence[:chunk])
        else:
            # 16-bit files get the same integers live playback plays, not libsndfile's own rounding
            write(to_pcm16(chunk) if pcm16 else chunk)


def _write_resampled(write: Callable[[np.ndarray], None], mixer: MixerLike, plan: Plan, rate: int,
                     progress: Progress | None) -> None:
    import soxr

    stream = soxr.ResampleStream(plan.sample_rate, rate, 1, dtype="float32")
    want = round(plan.duration_s * rate)
    silence = np.zeros(BLOCK_FRAMES, dtype=np.float32)
    written = 0

    def put(samples: np.ndarray) -> None:
        nonlocal written
        samples = samples[: max(0, want - written)]
        # resampling can overshoot slightly past full scale
        np.clip(samples, -1.0, 1.0, out=samples)
        write(samples)
        written += len(samples)

    try:
        for chunk in _chunks(mixer, progress):
            put(stream.resample_chunk(silence[:chunk] if isinstance(chunk, int) else chunk))
        put(stream.resample_chunk(np.zeros(0, dtype=np.float32), last=True))
    finally:
        # A failure's traceback keeps this frame, so without this the native resampler would live as
        # long as whoever keeps the error: possibly until exit, where nanobind reports it as leaked.
        del stream
    if written < want:
        write(np.zeros(want - written, dtype=np.float32))


def _open_writer(path: Path, rate: int, fmt: _Format) -> Writer:
    """Opus by coach's own writer; other lossy formats by the system's libsndfile (far faster); else soundfile."""
    import soundfile

    from coach.export.system_sndfile import open_writer

    if fmt.subtype == "OPUS":
        from coach.export import opus as opus_file

        # OpusHead records the rate the audio had before resampling: every mix is at SAMPLE_RATE.
        writer = opus_file.open_writer(path, rate, input_rate=SAMPLE_RATE)
        if writer is not None:
            return writer
    writer = open_writer(path, rate, fmt.container, fmt.subtype)
    if writer is not None:
        return writer
    return soundfile.SoundFile(path, "w", samplerate=rate, channels=1, subtype=fmt.subtype, format=fmt.container)


def _write_errors() -> tuple[type[BaseException], ...]:
    """What a failed write raises: OSError, and soundfile's own error once soundfile is in use (WAV never loads it)."""
    soundfile = sys.modules.get("soundfile")
    return (OSError,) if soundfile is None else (OSError, soundfile.SoundFileError)


def _reason(exc: BaseException, output: Path) -> str:
    """What went wrong, in words; libsndfile's FLAC and Vorbis writers say only "System error." for a full disk."""
    if getattr(exc, "errno", None) is None:
        folder = output.parent if str(output.parent) else Path(".")
        try:
            space = os.statvfs(folder)
        except OSError:
            return str(exc)
        if space.f_bavail * space.f_frsize < FULL_DISK_BYTES:
            return f"[Errno {errno.ENOSPC}] {os.strerror(errno.ENOSPC)}"
    return str(exc)


def export_audio(plan: Plan, mixer: MixerLike, output: Path, progress: Progress | None = None) -> None:
    """Write the mixed session to output atomically; the format follows output's extension."""
    output = Path(output)
    check_output(output)
    ext = output.suffix.lower()
    fmt = _FORMATS[ext]
    rate = fmt.rate or plan.sample_rate
    try:
        with atomic_output(output) as tmp:
            if ext == ".wav":
                from coach.audio.wavfile import write_sparse_wav

                write_sparse_wav(tmp, rate, mixer.total_frames, mixer.pcm16_spans(), plan.title, progress)
                return
            with _open_writer(tmp, rate, fmt) as out, in_background(out.write, QUEUED_BLOCKS) as writer:
                if fmt.rate is None:
                    _write_blocks(writer.put, out.subtype == "PCM_16", mixer, progress)
                else:
                    _write_resampled(writer.put, mixer, plan, rate, progress)
            add_tags(tmp, ext, plan, output)
    except _write_errors() as exc:  # looked up only when something fails
        raise CoachError(_("could not write {output}: {reason}").format(output=output, reason=_reason(exc, output))) from exc
    finally:
        close = getattr(progress, "close", None)
        if close:
            close()


class _DelayedBar:
    """A rich progress bar that only appears once the work has taken longer than a moment."""

    def __init__(self, stream: TextIO, delay_s: float = PROGRESS_DELAY_S):
        self.stream, self.delay_s = stream, delay_s
        self.started_at: float | None = None
        self.bar = None
        self.task = None

    def __call__(self, done_frames: int, total_frames: int) -> None:
        now = time.monotonic()
        if self.started_at is None:
            self.started_at = now
        if self.bar is None:
            if now - self.started_at < self.delay_s or done_frames >= total_frames:
                return
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

            self.bar = Progress(TextColumn("exporting"), BarColumn(), TaskProgressColumn(), TimeRemainingColumn(),
                                console=Console(file=self.stream), transient=True)
            self.task = self.bar.add_task("export", total=total_frames)
            self.bar.start()
        self.bar.update(self.task, completed=done_frames, total=total_frames)
        if done_frames >= total_frames:
            self.close()

    def close(self) -> None:
        """Remove the bar from the terminal (safe to call more than once)."""
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


def progress_reporter(stream: TextIO | None = None) -> Progress | None:
    """A progress(done_frames, total_frames) callback drawing a bar on stream, or None if it is not a terminal."""
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    if not (isatty and isatty()):
        return None
    return _DelayedBar(stream)
