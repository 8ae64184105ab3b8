"""Piper neural voices: the worker backend that runs piper-tts, and the engine that drives it.

The backend runs inside `python -m coach.speech.worker --backend coach.speech.piper:PiperBackend`, so
Piper clips share the worker's timeouts, error handling and the clip cache with espeak-ng.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import math
import os
import wave
from pathlib import Path
from typing import TYPE_CHECKING

from coach.cachedir import keep_json
from coach.errors import EngineError
from coach.speech.voicefiles import PIPER_INSTALL_HINT, PiperVoiceFile, piper_available
from coach.speech.voices import Variant, Voice
from coach.i18n import _

if TYPE_CHECKING:
    import numpy as np

BACKEND = "coach.speech.piper:PiperBackend"
ENGINE = "piper"
MODEL_ENV = "COACH_PIPER_MODEL"
THREADS_ENV = "COACH_PIPER_THREADS"

# Words per minute against length_scale, measured on en_US-joe-medium (noise off, speech trimmed of
# leading and trailing silence, eight short plain sentences). The curve is not 1/x: Piper rounds each
# phoneme to whole frames, so speed flattens around 1.0. Other voices differ a bit; their own
# inference.length_scale still scales the result.
RATE_CURVE = (  # (length_scale, wpm), length_scale ascending
    (0.5, 404.0), (0.6, 379.9), (0.7, 327.5), (0.8, 283.7), (0.9, 260.4), (1.0, 247.9), (1.1, 240.2),
    (1.2, 227.6), (1.4, 194.2), (1.6, 172.6), (1.8, 156.8), (2.0, 143.3), (2.4, 121.4), (2.8, 105.7),
    (3.2, 94.4), (3.6, 84.4),
)


# Coach's own phrases have commas, colons and long words, and Piper pauses at each: measured on the
# built-in routines' phrases they come out 24 % slower than the plain sentences above, other plain
# sentences 16 % slower. This factor splits the difference, so both stay within 10 % of the asked rate.
PHRASE_FACTOR = 0.80


def length_scale_for(rate_wpm: int, voice_scale: float = 1.0) -> float:
    """Piper's length_scale that speaks coach's phrases at `rate_wpm`, by log-log interpolation of RATE_CURVE."""
    rate_wpm = rate_wpm / PHRASE_FACTOR
    speeds = [-wpm for _, wpm in RATE_CURVE]  # ascending, for bisect
    i = min(max(bisect.bisect_left(speeds, -rate_wpm), 1), len(RATE_CURVE) - 1)
    (s0, w0), (s1, w1) = RATE_CURVE[i - 1], RATE_CURVE[i]
    t = (math.log(rate_wpm) - math.log(w0)) / (math.log(w1) - math.log(w0))
    return voice_scale * math.exp(math.log(s0) + t * (math.log(s1) - math.log(s0)))


# --- in the worker -------------------------------------------------------------------------------


class PiperBackend:
    """piper-tts with one voice (COACH_PIPER_MODEL), deterministic, on COACH_PIPER_THREADS threads."""

    def __init__(self) -> None:
        import onnxruntime
        from piper import PiperVoice
        from piper.config import PiperConfig

        model = os.environ[MODEL_ENV]
        with open(model + ".json", encoding="utf-8") as f:
            config = json.load(f)
        options = onnxruntime.SessionOptions()
        threads = int(os.environ.get(THREADS_ENV, "0"))  # 0: onnxruntime's own choice (all cores)
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        session = onnxruntime.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])
        self._voice = PiperVoice(session=session, config=PiperConfig.from_dict(config))
        self._file = PiperVoiceFile.from_model(Path(model))

    def voices(self) -> list[dict]:
        """The one voice this worker holds."""
        voice = self._file.voice()
        return [{"id": voice.id, "name": voice.name, "languages": list(voice.languages), "gender": None}]

    def save(self, text: str, voice_id: str | None, rate_wpm: int, path: str) -> None:
        """Write `text` as a 16-bit WAV at the voice's own sample rate."""
        import numpy as np
        from piper.config import SynthesisConfig

        # Noise off: the same text always gives the same samples, so a cached clip equals a fresh one.
        # normalize_audio off: Piper would scale every sentence to full scale on its own; the model's
        # natural level is kept and the clip cache's leveling makes all engines alike.
        settings = SynthesisConfig(length_scale=length_scale_for(rate_wpm, self._voice.config.length_scale),
                                   noise_scale=0.0, noise_w_scale=0.0, normalize_audio=False, volume=1.0)
        chunks = [chunk.audio_int16_array for chunk in self._voice.synthesize(text, settings)]
        samples = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)
        with wave.open(path, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(self._voice.config.sample_rate)
            out.writeframes(samples.astype("<i2").tobytes())


# --- in coach ------------------------------------------------------------------------------------


def model_digest(model: Path, cache_dir: Path | None) -> str:
    """The SHA-256 of a model file, remembered by (size, mtime) so a warm start does not read 60 MB."""
    stat = model.stat()
    stamp = f"{model.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
    store = cache_dir / "piper-digests.json" if cache_dir is not None else None
    known: dict = {}
    if store is not None:
        try:
            known = json.loads(store.read_text(encoding="utf-8"))
            if isinstance(known.get(stamp), str):
                return known[stamp]
        except (OSError, ValueError, AttributeError):
            known = {}
    digest = hashlib.sha256()
    with open(model, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    found = digest.hexdigest()
    if store is not None:
        keep = {k: v for k, v in known.items() if not k.startswith(f"{model.resolve()}:")} if isinstance(known, dict) else {}
        keep_json(store, keep | {stamp: found})
    return found


class PiperEngine:
    """A SpeechEngine speaking one Piper voice file through a speech worker.

    Its name carries the model's content hash, so clips of a changed model are never reused.
    """

    supports_pitch = False

    def __init__(self, voice_file: PiperVoiceFile, cache_dir: Path | None = None, threads: int = 0,
                 timeout_s: float | None = None, name: str | None = None):
        from coach.speech.engine import DEFAULT_CLIP_TIMEOUT_S, WorkerEngine

        if not piper_available():
            raise EngineError(_("the Piper voice {name} needs piper-tts; {hint}").format(
                name=voice_file.name, hint=_(PIPER_INSTALL_HINT)))
        self.voice_file = voice_file
        self.name = name or f"{ENGINE}-{model_digest(voice_file.model, cache_dir)[:32]}"
        self._threads = threads
        self._timeout_s = timeout_s if timeout_s is not None else DEFAULT_CLIP_TIMEOUT_S
        self._worker = WorkerEngine(backend=BACKEND, name=self.name, timeout_s=self._timeout_s,
                                    env={MODEL_ENV: str(voice_file.model), THREADS_ENV: str(threads)})

    def sibling(self, threads: int) -> PiperEngine:
        """Another engine of the same voice, with a worker of its own."""
        return PiperEngine(self.voice_file, threads=threads, timeout_s=self._timeout_s, name=self.name)

    def start(self) -> None:
        """Start the worker (and load the model) now rather than at the first clip."""
        self._worker.start()

    def voices(self) -> list[Voice]:
        """The voice, from its files: no worker is started for this."""
        return [self.voice_file.voice()]

    def variants(self) -> list[Variant]:
        """Piper voices have no variants."""
        return []

    def render(self, text: str, voice_id: str | None, rate_wpm: int) -> np.ndarray:
        """`text` spoken by the voice, as a trimmed 22050 Hz mono float32 clip."""
        from coach.speech.voices import INSTALL_HINT

        try:
            return self._worker.render(text, voice_id, rate_wpm)
        except EngineError as exc:  # the worker's advice is about espeak-ng; this is about the voice file
            advice = _("check {model} or remove it with `coach voices remove {name}`").format(
                model=self.voice_file.model, name=self.voice_file.name)
            raise EngineError(str(exc).replace(_(INSTALL_HINT), advice)) from None

    def close(self) -> None:
        """Stop the worker."""
        self._worker.close()
