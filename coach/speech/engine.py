"""Speech: voices, the rate, literal text, and rendering clips through a worker process."""

from __future__ import annotations

import importlib.util
import json
import os
import selectors
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from coach.i18n import _
from coach.errors import EngineError, OptionError
from coach.speech.espeak import espeak_install
from coach.speech.text import speakable, utterances  # noqa: F401 (speakable stays importable from here)
from coach.plan.model import SAMPLE_RATE
from coach.speech.voices import (  # noqa: F401 (voice choice lived here; these names stay importable from here)
    DEFAULT_LANGUAGE,
    INSTALL_HINT,
    Variant,
    Voice,
    best_voice_for,
    filter_voices,
    pick_voice,
)

if TYPE_CHECKING:
    import numpy as np  # only the commands that render audio load numpy

DEFAULT_BACKEND = "coach.speech.worker:Pyttsx3Backend"
DEFAULT_RATE_WPM = 160
MIN_RATE_WPM = 80
MAX_RATE_WPM = 400
DEFAULT_CLIP_TIMEOUT_S = 20.0
WORKER_START_TIMEOUT_S = 20.0
SILENCE_LEVEL = 10 ** (-50 / 20)  # -50 dBFS; espeak's silence is digital zero or close to it
EDGE_PAD_S = 0.02  # silence kept before and after the speech so onsets and tails are not clipped
UTTERANCE_GAP_S = 0.3  # between the utterances of a long text, about a sentence's pause in espeak-ng


class SpeechEngine(Protocol):
    """Something that speaks: `name` identifies the backend in cache keys.

    Engines may also offer `variants() -> list[Variant]` and `supports_pitch = True`, in which
    case render() takes a `pitch` keyword (0..100); see coach.voices.engine_variants.
    """

    name: str

    def voices(self) -> list[Voice]: ...

    def render(self, text: str, voice_id: str | None, rate_wpm: int) -> np.ndarray: ...


# --- options -------------------------------------------------------------------------------------


def validate_rate(rate_wpm: int) -> int:
    """The speaking rate if it is within 80..400 words per minute, else OptionError."""
    if isinstance(rate_wpm, bool) or not isinstance(rate_wpm, int):
        raise OptionError("--rate", _("must be a whole number of words per minute, got {rate}").format(
            rate=repr(rate_wpm)))
    if not MIN_RATE_WPM <= rate_wpm <= MAX_RATE_WPM:
        raise OptionError(
            "--rate", _("{rate} words per minute is out of range {low}..{high}").format(rate=rate_wpm, low=MIN_RATE_WPM, high=MAX_RATE_WPM)
        )
    return rate_wpm


# --- audio ---------------------------------------------------------------------------------------


def to_clip(data: np.ndarray, rate_hz: int) -> np.ndarray:
    """Audio of any shape, type and rate as 22050 Hz mono float32."""
    import numpy as np

    audio = np.asarray(data)
    if np.issubdtype(audio.dtype, np.integer):
        audio = audio.astype(np.float32) / float(np.iinfo(audio.dtype).max + 1)
    if audio.ndim == 2:
        audio = audio.mean(axis=1)
    audio = np.ascontiguousarray(audio, dtype=np.float32)
    if rate_hz != SAMPLE_RATE and len(audio):
        import soxr

        audio = np.ascontiguousarray(soxr.resample(audio, rate_hz, SAMPLE_RATE), dtype=np.float32)
    return audio


def trim_silence(clip: np.ndarray, pad_s: float = EDGE_PAD_S) -> np.ndarray:
    """The clip without leading and trailing silence beyond `pad_s` (speech itself is never cut)."""
    import numpy as np

    loud = np.flatnonzero(np.abs(clip) > SILENCE_LEVEL)
    if not len(loud):
        return clip[:0].copy()
    pad = round(pad_s * SAMPLE_RATE)
    start = max(0, int(loud[0]) - pad)
    end = min(len(clip), int(loud[-1]) + 1 + pad)
    return np.ascontiguousarray(clip[start:end])


def read_clip(path: str | os.PathLike) -> np.ndarray:
    """A rendered file (WAV, AIFF, ...) as a trimmed 22050 Hz mono float32 clip."""
    import soundfile

    data, rate_hz = soundfile.read(str(path), dtype="float32", always_2d=False)
    return trim_silence(to_clip(data, rate_hz))


# --- the worker-backed engine --------------------------------------------------------------------


class WorkerEngine:
    """A SpeechEngine that renders in a long-lived `python -m coach.speech.worker` process."""

    def __init__(
        self,
        backend: str = DEFAULT_BACKEND,
        name: str = "pyttsx3",
        timeout_s: float = DEFAULT_CLIP_TIMEOUT_S,
        start_timeout_s: float = WORKER_START_TIMEOUT_S,
        env: dict[str, str] | None = None,
    ):
        self.name = name
        self.backend = backend
        self.timeout_s = timeout_s
        self.start_timeout_s = start_timeout_s
        self._env = env
        self._proc: subprocess.Popen | None = None
        self._buffer = b""
        self._stderr = None
        self._workdir: str | None = None
        self._voices: list[Voice] | None = None
        self._count = 0

    # lifecycle

    def __enter__(self) -> WorkerEngine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def close(self) -> None:
        """Stop the worker and remove its scratch files."""
        self._stop_worker()
        if self._workdir:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def start(self) -> None:
        """Start the worker now rather than at the first request (a session about to speak starts it early)."""
        if self._proc is None or self._proc.poll() is not None:
            self._stop_worker()
            self._start_worker()

    @property
    def worker_pid(self) -> int | None:
        """The worker's process id while one is running."""
        return self._proc.pid if self._proc and self._proc.poll() is None else None

    def _start_worker(self) -> None:
        if self._workdir is None:
            self._workdir = tempfile.mkdtemp(prefix="coach-speech-")
        self._stderr = tempfile.TemporaryFile()
        env = dict(os.environ)
        if self._env:
            env.update(self._env)
        # The worker must import this same coach, installed or not.
        package_root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "coach.speech.worker", "--backend", self.backend],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                env=env,
                close_fds=True,
            )
        except OSError as exc:
            raise EngineError(_("could not start the speech worker: {reason}").format(reason=exc)) from None
        self._buffer = b""
        try:
            reply = self._read_reply(self.start_timeout_s, _("starting the speech engine"))
        except EngineError as exc:  # it died or hung before saying it was ready
            hint = _(INSTALL_HINT)
            raise EngineError(f"{_one_line(str(exc)).rstrip('.')}; {hint}") from None
        if not reply.get("ok"):
            self._stop_worker()
            raise EngineError(
                _("the speech engine could not start ({reason}); {hint}").format(reason=_one_line(str(reply.get('error'))), hint=_(INSTALL_HINT))
            )

    def _stop_worker(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                if proc.poll() is None:
                    proc.stdin.close()
                    try:
                        proc.wait(timeout=1)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait()
            except OSError:
                proc.kill()
                proc.wait()
            finally:
                proc.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def _kill_worker(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._stop_worker()

    def _worker_stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        try:
            self._stderr.seek(0)
            lines = self._stderr.read().decode("utf-8", "replace").strip().splitlines()
        except (OSError, ValueError):
            return ""
        return f": {lines[-1].strip()}" if lines else ""

    def _read_reply(self, timeout_s: float, doing: str) -> dict:
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        deadline = time.monotonic() + timeout_s
        fd = proc.stdout.fileno()
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    self._kill_worker()
                    raise EngineError(
                        _("the speech engine hung while {doing} (no answer within {seconds} s)").format(doing=doing, seconds=f"{timeout_s:g}")
                    )
                chunk = os.read(fd, 65536)
                if not chunk:
                    proc.wait()
                    detail = self._worker_stderr_tail()
                    self._stop_worker()
                    raise EngineError(
                        _("the speech engine exited (code {code}) while {doing}{detail}").format(code=proc.returncode, doing=doing, detail=detail)
                    )
                self._buffer += chunk
        line, _newline, self._buffer = self._buffer.partition(b"\n")
        try:
            return json.loads(line)
        except ValueError:
            self._kill_worker()
            raise EngineError(_("the speech engine gave a garbled answer while {doing}").format(doing=doing)) from None

    def _request(self, request: dict, timeout_s: float, doing: str) -> dict:
        if self._proc is None or self._proc.poll() is not None:
            self._stop_worker()
            self._start_worker()
        assert self._proc is not None and self._proc.stdin is not None
        try:
            self._proc.stdin.write((json.dumps(request) + "\n").encode("utf-8"))
            self._proc.stdin.flush()
        except OSError:
            self._kill_worker()
            raise EngineError(_("the speech engine stopped while {doing}").format(doing=doing)) from None
        return self._read_reply(timeout_s, doing)

    # SpeechEngine

    def voices(self) -> list[Voice]:
        """The voices the engine has installed."""
        if self._voices is None:
            reply = self._request({"op": "voices"}, self.start_timeout_s, _("listing voices"))
            if not reply.get("ok"):
                raise EngineError(_("the speech engine could not list voices: {reason}").format(reason=reply.get('error')))
            self._voices = [
                Voice(
                    id=str(v["id"]),
                    name=str(v["name"]),
                    languages=tuple(str(c) for c in v.get("languages") or ()),
                    gender=v.get("gender"),
                )
                for v in reply["voices"]
            ]
        return list(self._voices)

    @property
    def _is_espeak(self) -> bool:
        # pyttsx3 drives espeak-ng everywhere but on macOS and Windows, which have their own engines
        return self.backend == DEFAULT_BACKEND and sys.platform not in ("darwin", "win32")

    @property
    def supports_pitch(self) -> bool:
        """Whether render() can change the pitch (pyttsx3's espeak driver can, the others cannot)."""
        return self._is_espeak

    def variants(self) -> list[Variant]:
        """The voice variants, read from espeak-ng's data folder without starting the worker."""
        if not self._is_espeak:
            return []
        from coach.speech.espeak import read_variants

        return read_variants()

    def render(self, text: str, voice_id: str | None, rate_wpm: int, pitch: int | None = None) -> np.ndarray:
        """`text` spoken literally, as a trimmed 22050 Hz mono float32 clip; pitch None is the voice's own."""
        import numpy as np

        pieces = utterances(speakable(text))
        if len(pieces) <= 1:  # a long text is spoken one utterance at a time: the engine crashes on ~20 KB
            return self._render_one(pieces[0] if pieces else "", text, voice_id, rate_wpm, pitch)
        gap = np.zeros(round(UTTERANCE_GAP_S * SAMPLE_RATE), dtype=np.float32)
        clips = []
        for piece in pieces:
            clip = self._render_one(piece, piece, voice_id, rate_wpm, pitch)
            if len(clip):
                clips += [clip, gap]
        return np.concatenate(clips[:-1]) if clips else np.zeros(0, dtype=np.float32)

    def _render_one(self, spoken: str, text: str, voice_id: str | None, rate_wpm: int,
                    pitch: int | None) -> np.ndarray:
        if not spoken:
            import numpy as np

            return np.zeros(0, dtype=np.float32)
        if self._workdir is None:
            self._workdir = tempfile.mkdtemp(prefix="coach-speech-")
        self._count += 1
        path = os.path.join(self._workdir, f"clip-{self._count}.wav")
        doing = _("speaking {text}").format(text=repr(_short(text)))
        request = {"op": "render", "text": spoken, "voice": voice_id, "rate": rate_wpm, "path": path}
        if pitch is not None:
            request["pitch"] = pitch
        try:
            reply = self._request(request, self.timeout_s, doing)
        except EngineError:
            # A hung or crashed engine gets one fresh worker before we give up.
            reply = self._request(request, self.timeout_s, doing)
        if not reply.get("ok"):
            raise EngineError(_("the speech engine failed while {doing}: {reason}").format(doing=doing, reason=reply.get('error')))
        try:
            if os.path.getsize(path) == 0:
                raise EngineError(_("the speech engine wrote an empty file while {doing}").format(doing=doing))
            clip = read_clip(path)
        except EngineError:
            raise
        except Exception as exc:
            raise EngineError(_("the speech engine wrote unreadable audio while {doing}: {reason}").format(doing=doing, reason=exc)) from None
        finally:
            try:
                os.remove(path)
            except OSError:
                pass
        return clip  # may be empty: punctuation alone is legitimately silent


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _short(text: str, limit: int = 40) -> str:
    text = _one_line(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def default_engine(timeout_s: float = DEFAULT_CLIP_TIMEOUT_S) -> WorkerEngine:
    """The pyttsx3 engine (espeak-ng on Linux) in a worker process; EngineError if it is missing."""
    if importlib.util.find_spec("pyttsx3") is None:
        raise EngineError(_("the speech engine is missing: the pyttsx3 package is not installed; {hint}").format(hint=_(INSTALL_HINT)))
    if sys.platform not in ("darwin", "win32"):  # elsewhere pyttsx3 uses the system's own engine
        espeak = espeak_install()
        if espeak is None:
            raise EngineError(_("the speech engine is missing: espeak-ng is not installed; {hint}").format(hint=_(INSTALL_HINT)))
        if espeak.data_dir is not None and not (espeak.data_dir / "phontab").is_file():
            raise EngineError(_("the speech engine is missing: espeak-ng's data folder {data_dir} is missing or incomplete; {hint}").format(data_dir=espeak.data_dir, hint=_(INSTALL_HINT)))
    return WorkerEngine(timeout_s=timeout_s)
