"""What the mixer needs to know of a clip besides its samples, measured once and kept with the clip.

A clip's K-weighted energy (where it lies in time) gives a session's planned loudness without filtering
the session; a clip at one gain through the true-peak limiter is kept as the few stretches where it
differs from the plain scaled clip (some 7 % of a leveled voice's samples), with its true peak and
energy, so the mixer neither limits nor filters a clip twice, and holds no limited copy of each clip.
ClipMeasures keeps them for one process; the clip cache (coach.speech.clipcache) keeps them on disk.
"""

from __future__ import annotations

import bisect
import struct
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import numpy as np

from coach.plan.model import SAMPLE_RATE

# Frames between the kept points of a clip's cumulative energy: a cue's energy is shared between the
# session's 100 ms steps by interpolating between them, which moves a session's planned loudness by a
# few thousandths of a LU (a 400 ms block close to the gate may fall on the other side of it).
ENERGY_STRIDE = 64


@dataclass(frozen=True)
class ClipFigures:
    """A clip's true peak (linear) and its K-weighted energy per ENERGY_STRIDE frames, tail included."""

    peak: float
    energy: np.ndarray  # float32, one sum of squares per stretch of ENERGY_STRIDE filtered frames
    frames: int  # filtered frames: the clip's length plus the K-filter's ringing after it

    def kept_points(self) -> tuple[np.ndarray, np.ndarray]:
        """The offsets 0..frames of the kept points and the energy of the filtered frames before each."""
        totals = np.concatenate(([0.0], np.cumsum(self.energy, dtype=np.float64)))
        return np.minimum(np.arange(len(totals)) * ENERGY_STRIDE, self.frames), totals

    def cumulative(self, offsets: np.ndarray) -> np.ndarray:
        """The energy of the filtered frames before each offset (0..frames), interpolated between kept points."""
        return np.interp(offsets, *self.kept_points())

    def to_bytes(self) -> bytes:
        """The figures as bytes (peak, frames, count, energy), for a cache entry."""
        return _FIGURES.pack(self.peak, self.frames, len(self.energy)) + self.energy.astype("<f4").tobytes()

    @classmethod
    def from_bytes(cls, blob: memoryview | bytes, at: int = 0, copy: bool = True) -> tuple[ClipFigures, int]:
        """The figures at `at` in blob and the offset after them; ValueError if they do not fit. Without
        `copy` they are blob's own bytes, read-only (a clip entry is read into a buffer the next one reuses)."""
        peak, frames, count = _FIGURES.unpack_from(blob, at)
        at += _FIGURES.size
        energy = np.frombuffer(blob, dtype="<f4", count=count, offset=at)
        if copy:
            energy = energy.astype(np.float32)
        return cls(peak, energy, frames), at + 4 * count


_FIGURES = struct.Struct("<dII")


def measure(clip: np.ndarray, rate_hz: int = SAMPLE_RATE) -> ClipFigures:
    """The clip's true peak and K-weighted energy (one K-filter pass, one true-peak pass)."""
    from coach.audio.loudness import true_peak

    clip = np.asarray(clip, dtype=np.float32)
    peaks = true_peak(clip, rate_hz)
    return measure_energy(clip, float(peaks.max()) if len(peaks) else 0.0, rate_hz)


@dataclass(frozen=True)
class Limited:
    """A clip at `gain` through the true-peak limiter: where it differs from clip * gain, its peak and energy."""

    gain: np.float32
    starts: np.ndarray  # sorted: the first frame of each stretch the limiter changed
    ends: np.ndarray  # one past its last
    values: np.ndarray  # float32: the limited samples of every stretch, one after another
    figures: ClipFigures  # of the limited clip

    def __post_init__(self) -> None:
        # The stretches as plain lists (a few per clip, looked up on every block), and where each one's
        # samples begin in values, less its first frame.
        starts, ends = self.starts.tolist(), self.ends.tolist()
        shift, at = [], 0
        for start, end in zip(starts, ends):  # a few stretches: plain Python beats numpy's per-call cost
            shift.append(at - start)
            at += end - start
        object.__setattr__(self, "_runs", (starts, ends, shift))

    def part(self, clip: np.ndarray, lo: int, hi: int, out: np.ndarray | None = None) -> np.ndarray:
        """Frames [lo, hi) of the limited clip, into out if given (the same float32 limit() gives)."""
        out = np.multiply(clip[lo:hi], self.gain, out=out)
        starts, ends, shift = self._runs
        if starts:
            for k in range(bisect.bisect_right(ends, lo), bisect.bisect_left(starts, hi)):
                a, b = max(starts[k], lo), min(ends[k], hi)
                out[a - lo:b - lo] = self.values[shift[k] + a:shift[k] + b]
        return out

    def pcm16(self, clip: np.ndarray) -> np.ndarray:
        """The whole limited clip as 16-bit samples: to_pcm16(part(clip, 0, len(clip))) with one pass less."""
        # Scaling by 32768 is exact in floats, so clip * (gain * 32768) rounds just as clip * gain does.
        scaled = np.multiply(clip, self.gain * np.float32(32768))
        starts, ends, shift = self._runs
        for k in range(len(starts)):
            np.multiply(self.values[shift[k] + starts[k]:shift[k] + ends[k]], np.float32(32768),
                        out=scaled[starts[k]:ends[k]])
        np.rint(scaled, out=scaled)
        np.clip(scaled, -32768, 32767, out=scaled)
        return scaled.astype(np.int16)

    def to_bytes(self) -> bytes:
        """The limited form as bytes, for a cache entry."""
        head = _LIMITED.pack(float(self.gain), len(self.starts), len(self.values))
        return (head + self.starts.astype("<i4").tobytes() + self.ends.astype("<i4").tobytes()
                + self.values.astype("<f4").tobytes() + self.figures.to_bytes())

    @classmethod
    def from_bytes(cls, blob: memoryview | bytes, at: int = 0) -> tuple[Limited, int]:
        """The limited form at `at` in blob and the offset after it (its samples are blob's, read-only);
        ValueError if it does not fit."""
        gain, runs, count = _LIMITED.unpack_from(blob, at)
        at += _LIMITED.size
        starts = np.frombuffer(blob, dtype="<i4", count=runs, offset=at)
        ends = np.frombuffer(blob, dtype="<i4", count=runs, offset=at + 4 * runs)
        values = np.frombuffer(blob, dtype="<f4", count=count, offset=at + 8 * runs)
        figures, at = ClipFigures.from_bytes(blob, at + 8 * runs + 4 * count, copy=False)
        if int((ends - starts).sum()) != count:
            raise ValueError("stretches and samples disagree")
        return cls(np.float32(gain), starts, ends, values, figures), at


_LIMITED = struct.Struct("<fII")


def limited(clip: np.ndarray, gain: np.float32, figures: ClipFigures) -> Limited:
    """The clip at gain through the limiter (coach.audio.limiter), kept as where it differs from clip * gain."""
    from coach.audio.limiter import CEILING_DBTP, limit

    gain = np.float32(gain)
    # A clip whose peak at this gain is clearly under the ceiling passes the limiter unchanged.
    if figures.peak * float(gain) < 10 ** (CEILING_DBTP / 20) * 0.999:
        return Limited(gain, _NO_RUNS, _NO_RUNS, np.zeros(0, np.float32),
                       ClipFigures(figures.peak * float(gain), figures.energy * np.float32(float(gain) ** 2),
                                   figures.frames))
    scaled = np.asarray(clip, dtype=np.float32) * gain
    out, peak = limit(scaled)
    changed = np.concatenate(([False], out != scaled, [False]))
    edges = np.flatnonzero(changed[1:] != changed[:-1])
    starts, ends = edges[0::2].astype(np.int64), edges[1::2].astype(np.int64)
    values = np.ascontiguousarray(out[changed[1:-1]], dtype=np.float32)
    return Limited(gain, starts, ends, values, measure_energy(out, peak))


_NO_RUNS = np.zeros(0, dtype=np.int64)


def measure_energy(samples: np.ndarray, peak: float, rate_hz: int = SAMPLE_RATE) -> ClipFigures:
    """Figures of samples whose true peak is already known: only the K-filter runs."""
    from coach.audio.loudness import k_weighted

    squares = np.square(k_weighted(samples, rate_hz), dtype=np.float64)
    count = -(-len(squares) // ENERGY_STRIDE)
    padded = np.zeros(count * ENERGY_STRIDE)
    padded[:len(squares)] = squares
    return ClipFigures(peak, padded.reshape(count, ENERGY_STRIDE).sum(axis=1).astype(np.float32), len(squares))


class ClipMeasures:
    """Clip figures and limited forms, each measured once while this object lives (in memory only)."""

    def __init__(self) -> None:
        # keyed by the clip object: the clip is kept alongside, so its id stays its own
        self._figures: dict[int, tuple[np.ndarray, ClipFigures]] = {}
        self._limited: dict[tuple[int, float], tuple[np.ndarray, Limited]] = {}
        self._loudness: dict[int, tuple[np.ndarray, float]] = {}
        self._estimates: dict[str, float] = {}

    def estimate(self, key: str, compute: Callable[[], float]) -> float:
        """compute(), whose result `key` (a digest of everything it depends on) names: worked out once."""
        found = self._estimates.get(key)
        if found is None:
            found = self._estimates[key] = self._estimate(key, compute)
        return found

    def figures(self, name: Hashable, clip: np.ndarray) -> ClipFigures:
        """The figures of `clip` (called `name`, as ("speech", text) or ("sound", name))."""
        found = self._figures.get(id(clip))
        if found is None or found[0] is not clip:
            found = (clip, self._measure(name, clip))
            self._figures[id(clip)] = found
        return found[1]

    def loudness(self, name: Hashable, clip: np.ndarray) -> float:
        """The clip's loudness in LUFS (coach.audio.loudness.loudness_lufs)."""
        found = self._loudness.get(id(clip))
        if found is None or found[0] is not clip:
            found = (clip, self._measure_loudness(name, clip))
            self._loudness[id(clip)] = found
        return found[1]

    def limited(self, name: Hashable, clip: np.ndarray, gain: np.float32) -> Limited:
        """`clip` at `gain` through the limiter."""
        key = (id(clip), float(np.float32(gain)))
        found = self._limited.get(key)
        if found is None or found[0] is not clip:
            found = (clip, self._limit(name, clip, np.float32(gain)))
            self._limited[key] = found
        return found[1]

    def _estimate(self, key: str, compute: Callable[[], float]) -> float:
        return compute()

    def _measure(self, name: Hashable, clip: np.ndarray) -> ClipFigures:
        return measure(clip)

    def _measure_loudness(self, name: Hashable, clip: np.ndarray) -> float:
        from coach.audio.loudness import loudness_lufs

        return loudness_lufs(clip)

    def _limit(self, name: Hashable, clip: np.ndarray, gain: np.float32) -> Limited:
        return limited(clip, gain, self.figures(name, clip))
