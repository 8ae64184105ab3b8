"""Rendered speech clips, kept on disk per (engine, voice, rate, pitch, text) and in memory.

A clip enters the cache leveled to SPEECH_CLIP_LUFS, whatever engine, voice, language or rate spoke it,
and spoken at the engine rate that gives the asked words per minute (coach.speech.rate). Its figures
(true peak, filtered energy) are kept in its entry, and its limited forms at the last few gains a session
asked for beside it (coach.audio.clipfigures): a warm session neither filters nor limits a clip again.
"""

from __future__ import annotations

import hashlib
import os
import struct
import tempfile
import time
import zlib
from pathlib import Path
from collections.abc import Callable, Hashable
from typing import Iterable

import numpy as np

from coach.cachedir import cache_root
from coach.plan.model import SAMPLE_RATE
from coach.audio.levels import SPEECH_CLIP_LUFS
from coach.audio.clipfigures import ClipFigures, ClipMeasures, Limited, measure
from coach.audio.pcm import from_pcm16, to_pcm16
from coach.speech.engine import SpeechEngine, Voice
from coach.speech.rate import CALIBRATION_VERSION, rate_for_text

# File layout: magic, sample rate, sample count, CRC-32 of what follows, then 16-bit little-endian
# samples and (from version 4) the clip's figures and its limited forms. The CRC is what lets a reader
# tell a complete entry from a truncated or damaged one. 16 bits is lossless for espeak (it synthesises
# 16-bit audio) and halves what a warm start reads. Version 3: clips are leveled and rate-calibrated; a
# version 2 entry (neither) is rendered again. Version 4 adds the figures and the limited forms at the
# last LIMITED_GAINS gains; a version 3 entry is measured and rewritten, not rendered again.
MAGIC = b"COACHCLIP4\n"
MAGIC_V3 = b"COACHCLIP3\n"
HEADER = struct.Struct("<III")
SUFFIX = ".clip"
LIMITED_GAINS = 4  # gains kept per clip: a few routines and volumes, each with its own session level
# A sound (a beep) is known by a hash of its samples: its loudness, figures and limited forms, then a
# CRC-32 of them.
SOUND_MAGIC = b"COACHSND1\n"
SOUND_SUFFIX = ".sound"
ESTIMATE_SUFFIX = ".estimate"  # a figure worked out from a session's estimates (its name a digest of their inputs)
_WARNED_FOLDERS: set[Path] = set()  # cache folders that could not be written, warned about once a run


def default_cache_dir() -> Path:
    """Where clips live unless told otherwise."""
    return cache_root() / "clips"


def encode_limited(forms: list[Limited]) -> bytes:
    """Limited forms as the bytes that end an entry: their count, then each."""
    return struct.pack("<I", len(forms)) + b"".join(lim.to_bytes() for lim in forms)


def decode_limited(raw: bytes) -> list[Limited]:
    """The limited forms in the bytes that end an entry (already checked by its CRC); none if they do not parse."""
    forms = []
    try:
        (count,), at = struct.unpack_from("<I", raw), 4
        for _ in range(count):
            lim, at = Limited.from_bytes(raw, at)
            forms.append(lim)
    except (ValueError, struct.error):
        return []
    return forms if at == len(raw) else []


def encode_clip(clip: np.ndarray, figures: ClipFigures | None = None, limited: list[Limited] = ()) -> bytes:
    """A clip as the bytes of a cache entry, with its figures (measured from its 16-bit samples unless given)
    and its limited forms."""
    pcm = to_pcm16(clip)
    if figures is None:
        figures = measure(from_pcm16(pcm))
    data = pcm.astype("<i2").tobytes() + figures.to_bytes() + encode_limited(list(limited))
    return MAGIC + HEADER.pack(SAMPLE_RATE, len(pcm), zlib.crc32(data)) + data


def decode_entry(blob: bytes | memoryview) -> tuple[np.ndarray, ClipFigures | None, bytes] | None:
    """A cache entry's clip, its figures (None in a version 3 entry) and the bytes of its limited forms
    (see decode_limited), or None if it is not a complete, intact entry."""
    start = len(MAGIC) + HEADER.size
    if len(blob) < start or blob[:len(MAGIC)] not in (MAGIC, MAGIC_V3):
        return None
    rate_hz, frames, crc = HEADER.unpack_from(blob, len(MAGIC))
    data = memoryview(blob)[start:]
    if rate_hz != SAMPLE_RATE or len(data) < frames * 2 or zlib.crc32(data) != crc:
        return None
    figures, limited = None, b""
    if blob[:len(MAGIC)] == MAGIC:
        try:
            figures, end = ClipFigures.from_bytes(data, frames * 2)
        except (ValueError, struct.error):
            return None
        limited = bytes(data[end:])  # a copy: the entry was read into a buffer the next one reuses
    elif len(data) != frames * 2:
        return None
    clip = from_pcm16(np.frombuffer(data[:frames * 2], dtype="<i2"))
    clip.flags.writeable = False
    return clip, figures, limited


def decode_clip(blob: bytes | memoryview) -> np.ndarray | None:
    """The clip in a cache entry's bytes, or None if they are not a complete, intact entry."""
    entry = decode_entry(blob)
    return None if entry is None else entry[0]


def encode_sound(loudness_lufs: float, figures: ClipFigures, limited: list[Limited] = ()) -> bytes:
    """A sound's loudness, figures and limited forms as the bytes of a .sound file."""
    body = struct.pack("<d", loudness_lufs) + figures.to_bytes() + encode_limited(list(limited))
    return SOUND_MAGIC + body + struct.pack("<I", zlib.crc32(body))


def decode_sound(blob: bytes) -> tuple[float, ClipFigures, bytes] | None:
    """A .sound file's loudness, figures and limited forms' bytes, or None if it is not a complete, intact file."""
    body = memoryview(blob)[len(SOUND_MAGIC):-4]
    if (len(blob) < len(SOUND_MAGIC) + 12 or blob[:len(SOUND_MAGIC)] != SOUND_MAGIC
            or struct.unpack_from("<I", blob, len(blob) - 4)[0] != zlib.crc32(body)):
        return None
    try:
        figures, end = ClipFigures.from_bytes(body, 8)
    except (ValueError, struct.error):
        return None
    return struct.unpack_from("<d", body)[0], figures, bytes(body[end:])


class ClipCache(ClipMeasures):
    """Speech clips for one engine, voice, rate and pitch: rendered once, then read from disk or memory.

    As the mixer's ClipMeasures it hands out its clips' figures and limited forms from disk, and those
    of the session's sounds, known by their samples.
    """

    def __init__(
        self,
        engine: SpeechEngine,
        voice: Voice,
        rate_wpm: int,
        cache_dir: Path | None = None,
        pitch: int | None = None,
    ):
        super().__init__()
        self.engine = engine
        self.voice = voice
        self.rate_wpm = rate_wpm
        self.pitch = pitch  # None: the voice's own
        self._language = voice.languages[0] if voice.languages else None
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self._clips: dict[str, np.ndarray] = {}
        self._entries: dict[str, tuple[ClipFigures, bytes]] = {}  # each clip's figures and limited forms' bytes
        self._keys: dict[str, str] = {}
        self._sounds: dict[int, tuple[np.ndarray, str]] = {}  # a sound's file name, by clip
        self._sound_entries: dict[str, tuple[float, ClipFigures, bytes]] = {}
        # Entries are read into this one buffer: a fresh one per clip would cost page faults for
        # memory that is only looked at once (a warm start reads some 8 MB of clips).
        self._buffer = bytearray()
        self._swept = False
        self.rendered = 0  # how many clips this cache had the engine render

    def key(self, text: str) -> str:
        """The entry name for `text` with this engine, voice, rate and pitch."""
        found = self._keys.get(text)
        if found is None:
            found = self._keys[text] = self._key(text)
        return found

    def _key(self, text: str) -> str:
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
                    found = decode_entry(whole[:read])
        except OSError:
            return None
        if found is None:
            return None
        clip, figures, limited = found
        if figures is None:  # a version 3 entry: measured once and rewritten, not rendered again
            blob = encode_clip(clip)
            self._keep(self.key(text) + SUFFIX, blob)
            clip, figures, limited = decode_entry(blob)  # type: ignore[misc]
        self._entries[text] = (figures, limited)
        return clip

    def _render(self, text: str) -> np.ndarray:
        extra = {"pitch": self.pitch} if self.pitch is not None else {}
        rate = rate_for_text(self.engine.name, self._language, self.rate_wpm, text)
        rendered = np.asarray(self.engine.render(text, self.voice.id, rate, **extra), dtype=np.float32)
        from coach.audio.loudness import leveled  # only when rendering: a warm start reads leveled clips

        rendered = leveled(rendered, SPEECH_CLIP_LUFS)
        self.rendered += 1
        blob = encode_clip(rendered)
        self._keep(self.key(text) + SUFFIX, blob)
        found = decode_entry(blob)
        assert found is not None and found[1] is not None
        self._entries[text] = (found[1], found[2])
        return found[0]

    def _keep(self, name: str, blob: bytes) -> None:
        """Store the file `name` in the cache folder, or warn (once per folder and run) that it cannot be kept."""
        try:
            self._store(self.cache_dir / name, blob)
        except OSError as exc:
            # The cache only saves time; a read-only or full disk must not stop a session. One warning
            # per folder and run: a session renders a hundred clips or more.
            if self.cache_dir not in _WARNED_FOLDERS:
                _WARNED_FOLDERS.add(self.cache_dir)
                import logging  # only on this rare path: a warm start never needs it

                logging.getLogger(__name__).warning("could not keep speech clips in %s (%s); they are made "
                                                    "again each time", self.cache_dir, exc.strerror or exc)

    def _own(self, name: Hashable, clip: np.ndarray) -> str | None:
        """The text of this cache's clip `clip` named `name`, or None if it is not one of them."""
        if isinstance(name, tuple) and len(name) == 2 and name[0] == "speech":
            text = name[1]
            if self._clips.get(text) is clip and text in self._entries:
                return text
        return None

    def _sound(self, name: Hashable, clip: np.ndarray) -> str | None:
        """The file name (less its suffix) that keeps the sound `clip`'s figures, or None if it is not a sound."""
        if not (isinstance(name, tuple) and len(name) == 2 and name[0] == "sound"):
            return None
        found = self._sounds.get(id(clip))
        if found is None or found[0] is not clip:
            data = np.ascontiguousarray(clip, dtype="<f4").tobytes()
            found = (clip, "sound-" + hashlib.sha256(data).hexdigest())
            self._sounds[id(clip)] = found
        return found[1]

    def _sound_entry(self, stem: str, clip: np.ndarray) -> tuple[float, ClipFigures, bytes]:
        found = self._sound_entries.get(stem)
        if found is None:
            try:
                found = decode_sound((self.cache_dir / (stem + SOUND_SUFFIX)).read_bytes())
            except OSError:
                found = None
            if found is None:  # the name is the samples' hash: an intact file is this sound's
                loudness = super()._measure_loudness(("sound", stem), clip)
                figures = super()._measure(("sound", stem), clip)
                self._keep(stem + SOUND_SUFFIX, encode_sound(loudness, figures))
                found = (loudness, figures, encode_limited([]))
            self._sound_entries[stem] = found
        return found

    def _estimate(self, key: str, compute: Callable[[], float]) -> float:
        """From the file `key` names if it is intact; else computed, and kept there."""
        path = self.cache_dir / (key + ESTIMATE_SUFFIX)
        try:
            blob = path.read_bytes()
        except OSError:
            blob = b""
        if len(blob) == 12 and struct.unpack_from("<I", blob, 8)[0] == zlib.crc32(blob[:8]):
            return struct.unpack_from("<d", blob)[0]
        found = float(compute())
        body = struct.pack("<d", found)
        self._keep(path.name, body + struct.pack("<I", zlib.crc32(body)))
        return found

    def _measure(self, name: Hashable, clip: np.ndarray) -> ClipFigures:
        text = self._own(name, clip)
        if text is not None:
            return self._entries[text][0]
        sound = self._sound(name, clip)
        return self._sound_entry(sound, clip)[1] if sound is not None else super()._measure(name, clip)

    def _measure_loudness(self, name: Hashable, clip: np.ndarray) -> float:
        sound = self._sound(name, clip)
        return self._sound_entry(sound, clip)[0] if sound is not None else super()._measure_loudness(name, clip)

    def _limit(self, name: Hashable, clip: np.ndarray, gain: np.float32) -> Limited:
        """From the clip's entry (or the sound's file) if it holds this gain; else limited, and kept there."""
        text, sound = self._own(name, clip), self._sound(name, clip)
        if text is not None:
            figures, raw = self._entries[text]
        elif sound is not None:
            loudness, figures, raw = self._sound_entry(sound, clip)
        else:
            return super()._limit(name, clip, gain)
        kept = decode_limited(raw)
        for lim in kept:
            if lim.gain == gain and (not len(lim.ends) or lim.ends[-1] <= len(clip)):
                return lim
        found = super()._limit(name, clip, gain)
        forms = [found] + kept[:LIMITED_GAINS - 1]
        if text is not None:
            self._entries[text] = (figures, encode_limited(forms))
            self._keep(self.key(text) + SUFFIX, encode_clip(clip, figures, forms))
        else:
            self._sound_entries[sound] = (loudness, figures, encode_limited(forms))
            self._keep(sound + SOUND_SUFFIX, encode_sound(loudness, figures, forms))
        return found

    def _remove_stale_temporaries(self, age_s: float = 3600.0) -> None:
        # A process killed mid-write leaves its temporary file; an hour is far longer than any write.
        cutoff = time.time() - age_s
        for leftover in self.cache_dir.glob(".tmp-*"):
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
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=path.suffix, dir=self.cache_dir)
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
