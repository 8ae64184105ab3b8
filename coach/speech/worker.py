"""A speech worker process: holds one engine and renders one text at a time on request.

Run as `python -m coach.speech.worker [--backend module:factory]`. Requests and replies are JSON lines
on stdin and on the process's original stdout; anything the engine itself prints (pyttsx3 prints
"Audio saved to ...") goes to /dev/null, so it never mixes with replies or with the parent's stdout.

Requests:  {"op": "voices"}
           {"op": "render", "text": str, "voice": str | null, "rate": int, "path": str[, "pitch": int]}
Replies:   {"ok": true, ...} or {"ok": false, "error": str}
The first line the worker writes is {"ok": true, "ready": true} or the reason it could not start.
"""

from __future__ import annotations

import argparse
import ctypes
import importlib
import json
import os
import signal
import sys
import threading
import time
import wave
from typing import Protocol

DEFAULT_BACKEND = "coach.speech.worker:Pyttsx3Backend"
NEUTRAL_PITCH = 50  # espeak-ng's default pitch parameter: the voice's (or variant's) own pitch
FILE_SETTLE_S = 1.0  # how long a finished utterance may take to show up complete on disk
ESPEAK_MIN_RATE = 80  # espeak-ng speaks no slower; slower rates are made with pauses between words
ESPEAK_WORDGAP = 7  # espeak_SetParameter's espeakWORDGAP: extra pause between words
# espeak-ng documents the unit as 10 ms at its default speed; it stretches with slower speech, and at
# its slowest rate one unit measured 34 ms on coach's sentences.
WORDGAP_UNIT_S = 0.034
FINISH_WAIT_S = 120.0  # the parent's per-clip timeout normally ends a stuck render much sooner


class Backend(Protocol):
    """What the worker drives: a speech engine that can list voices and write a WAV/AIFF file.

    save() is only given a `pitch` keyword when the request asks for one.
    """

    def voices(self) -> list[dict]: ...

    def save(self, text: str, voice_id: str | None, rate_wpm: int, path: str) -> None: ...


class Pyttsx3Backend:
    """pyttsx3 with espeak-ng (or the platform's engine), one utterance per runAndWait."""

    def __init__(self) -> None:
        import pyttsx3

        self._engine = pyttsx3.init()
        self._finished = threading.Event()
        self._errors: list[BaseException] = []
        self._voice_id: str | None = None
        self._pitch_changed = False  # whether espeak's pitch may be away from neutral
        self._word_gap = 0  # espeak's extra pause between words, as last set
        self._engine.connect("finished-utterance", self._on_finished)
        self._engine.connect("error", self._on_error)

    def _on_finished(self, name=None, completed=True, **_) -> None:
        # A stale stop from the previous loop also reports "finished" (completed=False): ignore it.
        if completed:
            self._finished.set()

    def _on_error(self, name=None, exception=None, **_) -> None:
        self._errors.append(exception or RuntimeError("unknown engine error"))

    def voices(self) -> list[dict]:
        """The installed voices as plain dicts (id, name, languages, gender)."""
        result = []
        all_languages = _espeak_languages()
        for voice in self._engine.getProperty("voices"):
            languages = all_languages.get(voice.id) or [
                _decode(lang) for lang in (voice.languages or [])
            ]
            gender = voice.gender.lower() if isinstance(voice.gender, str) else None
            result.append(
                {
                    "id": voice.id,
                    "name": voice.name,
                    "languages": [lang for lang in languages if lang],
                    "gender": gender if gender in ("male", "female") else None,
                }
            )
        return result

    def save(self, text: str, voice_id: str | None, rate_wpm: int, path: str, pitch: int | None = None) -> None:
        """Write `text` spoken with the voice, rate and pitch to `path`, waiting until it is complete."""
        self._errors.clear()
        if voice_id and voice_id != self._voice_id:
            self._engine.setProperty("voice", voice_id)
            self._voice_id = voice_id
        # Never read the rate back: on espeak, getProperty("rate") resets the queued rate.
        gap_units = 0
        if rate_wpm < ESPEAK_MIN_RATE:
            # what each word lacks to last as long as at the asked rate, as a pause after it
            gap_units = round((60.0 / max(int(rate_wpm), 1) - 60.0 / ESPEAK_MIN_RATE) / WORDGAP_UNIT_S)
            rate_wpm = ESPEAK_MIN_RATE
        self._engine.setProperty("rate", int(rate_wpm))
        if pitch is not None or self._pitch_changed:
            # espeak's pitch is an engine parameter that outlives voice changes, so a render without
            # one must put it back to neutral. Like the rate it goes through pyttsx3's queue, before
            # the wait for idle below: a parameter set while espeak is still busy can be cancelled.
            self._engine.setProperty("pitch", NEUTRAL_PITCH if pitch is None else int(pitch))
            self._pitch_changed = pitch is not None
        if self._errors:
            self._voice_id, self._pitch_changed = None, True  # set them all again next time
            raise RuntimeError(f"could not set voice {voice_id!r}, rate {rate_wpm} or pitch {pitch}: {self._errors[0]}")
        self._wait_until_idle()
        # Only set when it changes: a session under espeak's floor asks for one rate throughout (see
        # coach.speech.rate.rate_for_text), so this happens once, not between every sentence and count.
        if gap_units != self._word_gap:
            self._set_word_gap(gap_units)
            self._word_gap = gap_units
        self._finished.clear()
        # One utterance per runAndWait: queued save_to_file calls only write the last file.
        self._engine.save_to_file(text, path)
        self._engine.runAndWait()
        # runAndWait can return before the driver has written the file.
        if not self._finished.wait(timeout=FINISH_WAIT_S):
            raise RuntimeError("the engine never finished the utterance")
        if self._errors:
            # Before the first loop pyttsx3 only queues settings, so a bad voice shows up here.
            self._voice_id = None
            raise RuntimeError(f"engine error: {self._errors[0]}")
        self._wait_until_idle()

    @staticmethod
    def _set_word_gap(units: int) -> None:
        # pyttsx3 has no property for it; espeak keeps it until it is set again, so it is set every time
        try:
            from pyttsx3.drivers import _espeak

            _espeak.SetParameter(ESPEAK_WORDGAP, int(units), 0)
        except Exception:
            pass  # not espeak: the engine's own rate is all there is

    @staticmethod
    def _wait_until_idle() -> None:
        # pyttsx3's espeak driver cancels whatever espeak is still doing when the next loop ends
        # or starts; if espeak has not wound down the last utterance, that cancel can cut the
        # next one short. So only ever start from an idle engine.
        try:
            from pyttsx3.drivers import _espeak
        except Exception:
            return
        deadline = time.monotonic() + FILE_SETTLE_S
        while _espeak.IsPlaying() and time.monotonic() < deadline:
            time.sleep(0.002)


def _decode(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _espeak_languages() -> dict[str, list[str]]:
    """All languages of each espeak voice by id (pyttsx3 reports only the first), best first."""
    try:
        from pyttsx3.drivers import _espeak

        found = {}
        for voice in _espeak.ListVoices(None):
            # The field is a run of (priority byte, name, NUL) ending with an empty entry;
            # ctypes' c_char_p stops at the first NUL, so walk the raw memory instead.
            offset = type(voice).languages.offset
            address = ctypes.c_void_p.from_buffer(voice, offset).value
            languages = []
            while address and ctypes.string_at(address, 1) != b"\x00":
                name = ctypes.string_at(address + 1)
                if not name:
                    break
                languages.append(_decode(name))
                address += 1 + len(name) + 1
            found[_decode(voice.identifier).lower()] = languages
        return found
    except Exception:
        return {}


def _wav_is_complete(path: str) -> bool:
    """Whether a WAV file exists and holds as many bytes as its header promises."""
    try:
        with wave.open(path, "rb") as wav:
            frames = wav.getnframes()
            needed = frames * wav.getnchannels() * wav.getsampwidth()
        # 44 bytes is the smallest WAV header; a larger one only makes the file bigger still.
        return frames > 0 and os.path.getsize(path) >= 44 + needed
    except Exception:
        return False


def _file_is_ready(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            magic = f.read(4)
    except OSError:
        return False
    if magic == b"RIFF":
        return _wav_is_complete(path)
    return len(magic) > 0  # other formats (AIFF on macOS) are checked when the parent decodes them


def _wait_for_file(path: str) -> bool:
    deadline = time.monotonic() + FILE_SETTLE_S
    while True:
        if _file_is_ready(path):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)


def load_backend(spec: str) -> Backend:
    """Build the backend named by 'module:factory'."""
    module_name, _, attr = spec.partition(":")
    factory = getattr(importlib.import_module(module_name), attr or "Backend")
    return factory()


def handle(backend: Backend, request: dict) -> dict:
    """Answer one request."""
    op = request.get("op")
    if op == "voices":
        return {"ok": True, "voices": backend.voices()}
    if op == "render":
        path = request["path"]
        if os.path.exists(path):
            os.remove(path)
        extra = {"pitch": int(request["pitch"])} if request.get("pitch") is not None else {}
        backend.save(request["text"], request.get("voice"), int(request["rate"]), path, **extra)
        if not _wait_for_file(path):
            return {"ok": False, "error": "the engine wrote no audio (empty or incomplete file)"}
        return {"ok": True, "path": path}
    return {"ok": False, "error": f"unknown request {op!r}"}


def _exit_with_parent(poll_s: float = 1.0) -> None:
    """End this process when the parent goes away, even if the engine is stuck mid-utterance."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(poll_s)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def serve(backend_spec: str) -> int:
    """Answer requests from stdin until it closes."""
    # Ctrl-C in the terminal reaches the whole process group; the parent decides when we stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with_parent()
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    sys.stdout = open(os.devnull, "w")

    def reply(message: dict) -> None:
        replies.write(json.dumps(message) + "\n")
        replies.flush()

    try:
        backend = load_backend(backend_spec)
    except Exception as exc:
        reply({"ok": False, "error": f"{type(exc).__name__}: {exc}"})
        return 1
    reply({"ok": True, "ready": True})
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            answer = handle(backend, json.loads(line))
        except Exception as exc:
            answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        reply(answer)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m coach.speech.worker`."""
    parser = argparse.ArgumentParser(prog="coach.speech.worker")
    parser.add_argument("--backend", default=DEFAULT_BACKEND)
    args = parser.parse_args(argv)
    return serve(args.backend)


if __name__ == "__main__":
    sys.exit(main())
