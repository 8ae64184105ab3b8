"""Rendered speech clips, kept on disk per (engine, voice, rate, pitch, text) and in memory.

A clip enters the cache leveled to SPEECH_CLIP_LUFS, whatever engine, voice, language or rate spoke it,
and spoken at the engine rate that gives the asked words per minute (coach.speech.rate).
"""

from __future__ import annotations

import hashlib
import os
import struct
import tempfile
import time
import zlib
from pathlib import Path
from typing import Iterable

import numpy as np

from coach.cachedir import cache_root
from coach.plan.model import SAMPLE_RATE
from coach.audio.levels import SPEECH_CLIP_LUFS
from coach.audio.pcm import from_pcm16, to_pcm16
from coach.speech.engine import SpeechEngine, Voice
from coach.speech.rate import CALIBRATION_VERSION, rate_for_text

# File layout: magic, sample rate, sample count, CRC-32 of the samples, then 16-bit little-endian
# samples. The CRC is what lets a reader tell a complete entry from a truncated or damaged one.
# 16 bits is lossless for espeak (it synthesises 16-bit audio) and halves what a warm start reads.
# Version 3: clips are leveled and rate-calibrated; a version 2 entry (neither) is rendered again.
MAGIC = b"COACHCLIP3\n"
HEADER = struct.Struct("<III")
SUFFIX = ".clip"
_WARNED_FOLDERS: set[Path] = set()  # cache folders that could not be written, warned about once a run


def default_cache_dir() -> Path:
    """Where clips live unless told otherwise."""
    return cache_root() / "clips"


def encode_clip(clip: np.ndarray) -> bytes:
    """A clip as the bytes of a cache entry."""
    data = to_pcm16(clip).astype("<i2").tobytes()
    return MAGIC + HEADER.pack(SAMPLE_RATE, len(data) // 2, zlib.crc32(data)) + data


def decode_clip(blob: bytes | memoryview) -> np.ndarray | None:
    """The clip in a cache entry's bytes, or None if they are not a complete, intact entry."""
    start = len(MAGIC) + HEADER.size
    if len(blob) < start or blob[:len(MAGIC)] != MAGIC:
        return None
    rate_hz, frames, crc = HEADER.unpack_from(blob, len(MAGIC))
    data = memoryview(blob)[start:]
    if rate_hz != SAMPLE_RATE or len(data) != frames * 2 or zlib.crc32(data) != crc:
        return None
    clip = from_pcm16(np.frombuffer(data, dtype="<i2"))
    clip.flags.writeable = False
    return clip


class ClipCache:
    """Speech clips for one engine, voice, rate and pitch: rendered once, then read from disk or memory."""

    def __init__(
        self,
        engine: SpeechEngine,
        voice: Voice,
        rate_wpm: int,
        cache_dir: Path | None = None,
        pitch: int | None = None,
    ):
        self.engine = engine
        self.voice = voice
        self.rate_wpm = rate_wpm
        self.pitch = pitch  # None: the voice's own
        self._language = voice.languages[0] if voice.languages else None
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self._clips: dict[str, np.ndarray] = {}
        # Entries are read into this one buffer: a fresh one per clip would cost page faults for
        # memory that is only looked at once (a warm start reads some 8 MB of clips).
        self._buffer = bytearray()
        self._swept = False
        self.rendered = 0  # how many clips this cache had the engine render

    def key(self, text: str) -> str:
        """The entry name for `text` with this engine, voice, rate and pitch."""
        # The variant is part of the voice id ("gmw/en+f3"). A pitch joins the key only when one is
        # given. The rate the engine is asked for joins it too, so a new calibration renders anew.
        spoken = rate_for_text(self.engine.name, self._language, self.rate_wpm, text)
        parts = (self.engine.name, self.voice.id, str(self.rate_wpm), f"spoken={spoken}v{CALIBRATION_VERSION}")
        if self.pitch is not None:
            parts += (f"pitch={self.pitch}",)
        ident = "\0".join(parts + (text,))
        return hashlib.sha256(ident.encode("utf-8")).hexdigest()

    def path(self, text: str) -> Path:
        """The file that holds (or will hold) the clip for `text`."""
        return self.cache_dir / (self.key(text) + SUFFIX)

    def clip(self, text: str) -> np.ndarray:
        """The clip for `text` (read-only float32 mono at 22050 Hz), rendering it if needed."""
        found = self._clips.get(text)
        if found is None:
            found = self._load(text)
            if found is None:
                found = self._render(text)
            self._clips[text] = found
        return found

    def duration_s(self, text: str) -> float:
        """The clip's length in seconds: exactly len(clip) / 22050."""
        return len(self.clip(text)) / SAMPLE_RATE

    def prefetch(self, texts: Iterable[str]) -> int:
        """Make sure every text has a clip, rendering the missing ones; returns how many were rendered."""
        before = self.rendered
        for text in dict.fromkeys(texts):
            self.clip(text)
        return self.rendered - before

    def _load(self, text: str) -> np.ndarray | None:
        try:
            with open(self.path(text), "rb", buffering=0) as entry:
                size = os.fstat(entry.fileno()).st_size
                if size > len(self._buffer):
                    self._buffer = bytearray(size)
                with memoryview(self._buffer) as whole:
                    read = entry.readinto(whole[:size])
                    # None for a damaged entry, which is then rendered again; a good one is decoded into
                    # a clip of its own, so the buffer can be reused
                    return decode_clip(whole[:read])
        except OSError:
            return None

    def _render(self, text: str) -> np.ndarray:
        extra = {"pitch": self.pitch} if self.pitch is not None else {}
        rate = rate_for_text(self.engine.name, self._language, self.rate_wpm, text)
        rendered = np.asarray(self.engine.render(text, self.voice.id, rate, **extra), dtype=np.float32)
        from coach.audio.loudness import leveled  # only when rendering: a warm start reads leveled clips

        rendered = leveled(rendered, SPEECH_CLIP_LUFS)
        self.rendered += 1
        blob = encode_clip(rendered)
        try:
            self._store(self.path(text), blob)
        except OSError as exc:
            # The cache only saves time; a read-only or full disk must not stop a session. One warning
            # per folder and run: a session renders a hundred clips or more.
            if self.cache_dir not in _WARNED_FOLDERS:
                _WARNED_FOLDERS.add(self.cache_dir)
                import logging  # only on this rare path: a warm start never needs it

                logging.getLogger(__name__).warning("could not keep speech clips in %s (%s); they are made "
                                                    "again each time", self.cache_dir, exc.strerror or exc)
        clip = decode_clip(blob)
        assert clip is not None
        return clip

    def _remove_stale_temporaries(self, age_s: float = 3600.0) -> None:
        # A process killed mid-write leaves its temporary file; an hour is far longer than any write.
        cutoff = time.time() - age_s
        for leftover in self.cache_dir.glob(".tmp-*" + SUFFIX):
            try:
                if leftover.stat().st_mtime < cutoff:
                    leftover.unlink()
            except OSError:
                pass

    def _store(self, path: Path, blob: bytes) -> None:
        # Write beside the target and rename over it: a reader in another process sees either the
        # old entry or the whole new one, never a partial file. Without fsync a crash can leave a
        # damaged entry, which the CRC catches on the next read.
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        if not self._swept:
            self._swept = True
            self._remove_stale_temporaries()
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=SUFFIX, dir=self.cache_dir)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(blob)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
