"""Speech: voices, the rate, literal text, and rendering clips through a worker process."""

from __future__ import annotations

import ctypes
import difflib
import html
import importlib.util
import json
import os
import re
import selectors
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Protocol

import numpy as np

from coach.errors import EngineError, OptionError
from coach.model import SAMPLE_RATE

DEFAULT_RATE_WPM = 160
MIN_RATE_WPM = 80
MAX_RATE_WPM = 400
DEFAULT_LANGUAGE = "en"
DEFAULT_CLIP_TIMEOUT_S = 20.0
WORKER_START_TIMEOUT_S = 20.0
SILENCE_LEVEL = 10 ** (-50 / 20)  # -50 dBFS; espeak's silence is digital zero or close to it
EDGE_PAD_S = 0.02  # silence kept before and after the speech so onsets and tails are not clipped

INSTALL_HINT = (
    "install espeak-ng (on Debian/Ubuntu: sudo apt install espeak-ng), "
    "or use --no-voice for a session with sounds only"
)


@dataclass(frozen=True)
class Voice:
    """An installed voice; `languages` are codes like "en-gb", best first."""

    id: str
    name: str
    languages: tuple[str, ...]
    gender: str | None


class SpeechEngine(Protocol):
    """Something that speaks: `name` identifies the backend in cache keys."""

    name: str

    def voices(self) -> list[Voice]: ...

    def render(self, text: str, voice_id: str | None, rate_wpm: int) -> np.ndarray: ...


# --- options -------------------------------------------------------------------------------------


def validate_rate(rate_wpm: int) -> int:
    """The speaking rate if it is within 80..400 words per minute, else OptionError."""
    if isinstance(rate_wpm, bool) or not isinstance(rate_wpm, int):
        raise OptionError("--rate", f"must be a whole number of words per minute, got {rate_wpm!r}")
    if not MIN_RATE_WPM <= rate_wpm <= MAX_RATE_WPM:
        raise OptionError(
            "--rate", f"{rate_wpm} words per minute is out of range {MIN_RATE_WPM}..{MAX_RATE_WPM}"
        )
    return rate_wpm


def _norm_language(code: str) -> str:
    return code.strip().lower().replace("_", "-")


def _speaks(voice: Voice, language: str) -> bool:
    lang = _norm_language(language)
    return any(
        (code := _norm_language(c)) == lang or code.startswith(lang + "-") for c in voice.languages
    )


def filter_voices(voices: Iterable[Voice], language: str | None) -> list[Voice]:
    """The voices that speak `language` or a dialect of it (all of them for None)."""
    if not language:
        return list(voices)
    return [v for v in voices if _speaks(v, language)]


def _language_rank(voice: Voice, language: str) -> int | None:
    """How well a voice fits a language code: lower is better, None is not at all."""
    lang = _norm_language(language)
    codes = [_norm_language(c) for c in voice.languages]
    if voice.id.lower().rsplit("/", 1)[-1] == lang:
        return 0  # espeak's main voice for a language is named after it ("gmw/en", "roa/fr")
    if codes and codes[0] == lang:
        return 1
    if lang in codes:
        return 2 + codes.index(lang)
    if any(c.startswith(lang + "-") for c in codes):
        return 100
    return None


def best_voice_for(voices: Iterable[Voice], language: str) -> Voice | None:
    """The best voice for a language code: an exact match, else a dialect of it."""
    ranked = [
        (rank, len(v.id), i, v)
        for i, v in enumerate(voices)
        if (rank := _language_rank(v, language)) is not None
    ]
    return min(ranked)[3] if ranked else None


def _suggest(query: str, voices: list[Voice]) -> str:
    labels: dict[str, list[str]] = {}  # what a query may resemble -> what we suggest for it
    for v in voices:
        # "French" should find "French (France)", "French (Belgium)", ...
        for label, shown in ((v.id, v.id), (v.name, v.name), (v.name.split(" (")[0], v.name)):
            labels.setdefault(label.lower(), []).append(shown)
    close = difflib.get_close_matches(query.lower(), list(labels), n=3, cutoff=0.6)
    names = list(dict.fromkeys(name for c in close for name in labels[c]))[:5]
    if not names:
        return "run `coach voices` to list the installed voices"
    return "did you mean: " + ", ".join(names) + "?"


def pick_voice(voices: Iterable[Voice], query: str | None, language: str = DEFAULT_LANGUAGE) -> Voice:
    """The voice `query` names (id, name, unique name part or language code), or the best for `language`."""
    voices = list(voices)
    if not voices:
        raise OptionError("--voice", f"no voices are installed; {INSTALL_HINT}")
    if query is None or not query.strip():
        voice = best_voice_for(voices, language or DEFAULT_LANGUAGE)
        if voice is None:
            raise OptionError(
                "--voice",
                f"no installed voice speaks language {language!r}; choose one with --voice "
                "(see `coach voices`)",
            )
        return voice
    q = query.strip()
    for v in voices:
        if v.id == q:
            return v
    for key in (lambda v: v.id.lower(), lambda v: v.name.lower()):
        exact = [v for v in voices if key(v) == q.lower()]
        if len(exact) == 1:
            return exact[0]
    if re.fullmatch(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*", q):
        voice = best_voice_for(voices, q)
        if voice is not None:
            return voice
    partial = [v for v in voices if q.lower() in v.name.lower()]
    if len(partial) == 1:
        return partial[0]
    if len(partial) > 1:
        names = ", ".join(v.name for v in partial[:6]) + (", ..." if len(partial) > 6 else "")
        raise OptionError("--voice", f"{q!r} matches several voices; did you mean: {names}?")
    raise OptionError("--voice", f"no voice matches {q!r}; {_suggest(q, voices)}")


# --- text ----------------------------------------------------------------------------------------

_TAG = re.compile(r"</?[A-Za-z!?][^<>]*>")  # "a < b" is not a tag: tags have no space after "<"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def speakable(text: str) -> str:
    """Text as it is safe to hand to the engine: no markup, no phoneme brackets, one line."""
    text = html.unescape(text)
    text = _TAG.sub(" ", text)
    text = text.replace("[[", " ").replace("]]", " ")
    text = text.replace("<", " ").replace(">", " ")
    text = _CONTROL.sub(" ", text)
    return " ".join(text.split())


# --- audio ---------------------------------------------------------------------------------------


def to_clip(data: np.ndarray, rate_hz: int) -> np.ndarray:
    """Audio of any shape, type and rate as 22050 Hz mono float32."""
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
    """A SpeechEngine that renders in a long-lived `python -m coach.tts_worker` process."""

    def __init__(
        self,
        backend: str = "coach.tts_worker:Pyttsx3Backend",
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
        package_root = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "coach.tts_worker", "--backend", self.backend],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                env=env,
                close_fds=True,
            )
        except OSError as exc:
            raise EngineError(f"could not start the speech worker: {exc}") from None
        self._buffer = b""
        try:
            reply = self._read_reply(self.start_timeout_s, "starting the speech engine")
        except EngineError as exc:  # it died or hung before saying it was ready
            raise EngineError(f"{_one_line(str(exc)).rstrip('.')}; {INSTALL_HINT}") from None
        if not reply.get("ok"):
            self._stop_worker()
            raise EngineError(
                f"the speech engine could not start ({_one_line(str(reply.get('error')))}); {INSTALL_HINT}"
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
                        f"the speech engine hung while {doing} (no answer within {timeout_s:g} s)"
                    )
                chunk = os.read(fd, 65536)
                if not chunk:
                    proc.wait()
                    detail = self._worker_stderr_tail()
                    self._stop_worker()
                    raise EngineError(
                        f"the speech engine exited (code {proc.returncode}) while {doing}{detail}"
                    )
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        try:
            return json.loads(line)
        except ValueError:
            self._kill_worker()
            raise EngineError(f"the speech engine gave a garbled answer while {doing}") from None

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
            raise EngineError(f"the speech engine stopped while {doing}") from None
        return self._read_reply(timeout_s, doing)

    # SpeechEngine

    def voices(self) -> list[Voice]:
        """The voices the engine has installed."""
        if self._voices is None:
            reply = self._request({"op": "voices"}, self.start_timeout_s, "listing voices")
            if not reply.get("ok"):
                raise EngineError(f"the speech engine could not list voices: {reply.get('error')}")
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

    def render(self, text: str, voice_id: str | None, rate_wpm: int) -> np.ndarray:
        """`text` spoken literally, as a trimmed 22050 Hz mono float32 clip."""
        spoken = speakable(text)
        if not spoken:
            return np.zeros(0, dtype=np.float32)
        if self._workdir is None:
            self._workdir = tempfile.mkdtemp(prefix="coach-speech-")
        self._count += 1
        path = os.path.join(self._workdir, f"clip-{self._count}.wav")
        doing = f"speaking {_short(text)!r}"
        request = {"op": "render", "text": spoken, "voice": voice_id, "rate": rate_wpm, "path": path}
        try:
            reply = self._request(request, self.timeout_s, doing)
        except EngineError:
            # A hung or crashed engine gets one fresh worker before we give up.
            reply = self._request(request, self.timeout_s, doing)
        if not reply.get("ok"):
            raise EngineError(f"the speech engine failed while {doing}: {reply.get('error')}")
        try:
            if os.path.getsize(path) == 0:
                raise EngineError(f"the speech engine wrote an empty file while {doing}")
            clip = read_clip(path)
        except EngineError:
            raise
        except Exception as exc:
            raise EngineError(f"the speech engine wrote unreadable audio while {doing}: {exc}") from None
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


# The names pyttsx3's espeak driver loads, in its order; the dynamic loader finds them wherever the
# system keeps its libraries, so no folder is assumed here.
ESPEAK_LIBRARIES = ("libespeak-ng.so.1", "/usr/local/lib/libespeak-ng.so.1", "libespeak.so.1")


@dataclass(frozen=True)
class EspeakInstall:
    """The espeak library pyttsx3 will load: its version and the data folder it will read (None if unknown)."""

    version: str
    data_dir: Path | None


def espeak_install() -> EspeakInstall | None:
    """Ask the installed espeak-ng library (no subprocess) where its data is; None if no library loads."""
    lib = None
    for name in ESPEAK_LIBRARIES:
        try:
            lib = ctypes.CDLL(name)
            break
        except OSError:
            continue
    if lib is None:
        return None
    init_path = getattr(lib, "espeak_ng_InitializePath", None)  # espeak-ng only; the old espeak lacks it
    if init_path is not None:
        # Resolves the folder as espeak_Initialize will (ESPEAK_DATA_PATH, ~/espeak-ng-data, built-in),
        # without loading any data.
        init_path.argtypes, init_path.restype = [ctypes.c_char_p], None
        init_path(None)
    info = getattr(lib, "espeak_Info", None)
    if info is None:
        return EspeakInstall("", None)
    info.argtypes, info.restype = [ctypes.POINTER(ctypes.c_char_p)], ctypes.c_char_p
    data_dir = ctypes.c_char_p()
    version = info(ctypes.byref(data_dir)) or b""
    return EspeakInstall(
        version.decode("utf-8", "replace"), Path(os.fsdecode(data_dir.value)) if data_dir.value else None
    )


def default_engine(timeout_s: float = DEFAULT_CLIP_TIMEOUT_S) -> WorkerEngine:
    """The pyttsx3 engine (espeak-ng on Linux) in a worker process; EngineError if it is missing."""
    if importlib.util.find_spec("pyttsx3") is None:
        raise EngineError(f"the speech engine is missing: the pyttsx3 package is not installed; {INSTALL_HINT}")
    if sys.platform not in ("darwin", "win32"):  # elsewhere pyttsx3 uses the system's own engine
        espeak = espeak_install()
        if espeak is None:
            raise EngineError(f"the speech engine is missing: espeak-ng is not installed; {INSTALL_HINT}")
        if espeak.data_dir is not None and not (espeak.data_dir / "phontab").is_file():
            raise EngineError(f"the speech engine is missing: espeak-ng's data folder {espeak.data_dir} "
                              f"is missing or incomplete; {INSTALL_HINT}")
    return WorkerEngine(timeout_s=timeout_s)
