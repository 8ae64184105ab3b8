"""Loudness as ITU-R BS.1770 measures it (K-weighting, 400 ms blocks, gating) and true peak, numpy only.

pyloudnorm implements the same measure, but it needs scipy (over a second to import) and loops over the
gating blocks in Python; coach needs it on every export and on every new clip. So the K-weighting
filter here is pyloudnorm's (the RBJ cookbook biquads it builds, a 1.5 kHz +4 dB shelf and a 38 Hz
high-pass), applied as its impulse response by FFT, in a meter that takes a session chunk by chunk.
The tests check it against pyloudnorm.
"""

from __future__ import annotations

import functools
import math
from typing import Protocol

import numpy as np

from coach.plan.model import SAMPLE_RATE


class ClipFigures(Protocol):
    """What the planned loudness reads of a clip's kept figures (coach.audio.clipfigures makes them)."""

    frames: int

    def kept_points(self) -> tuple[np.ndarray, np.ndarray]: ...

ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0
BLOCK_STEPS = 4  # a gating block is 400 ms: four 100 ms steps (75 % overlap)
# The K-filter's impulse response is cut here: the 38 Hz high-pass rings longest, and by 80 ms it is
# down by over 100 dB, so no measure changes by a thousandth of a LU.
FIR_S = 0.08
OVERSAMPLING = 4  # true peak: BS.1770 Annex 2 asks for at least 4x at 48 kHz and below
INTERPOLATION_TAPS = 32  # per phase of the 4x interpolator: a Kaiser-windowed sinc
SILENT_LUFS = -70.0  # anything quieter counts as silence and is not leveled


def _biquad(kind: str, gain_db: float, q: float, fc_hz: float, rate_hz: int) -> tuple[list[float], list[float]]:
    """RBJ cookbook coefficients (b, a) normalised so a[0] is 1."""
    a_ = 10 ** (gain_db / 40.0)
    w0 = 2.0 * math.pi * fc_hz / rate_hz
    alpha = math.sin(w0) / (2.0 * q)
    cos_w0, root = math.cos(w0), 2 * math.sqrt(a_) * alpha
    if kind == "high_shelf":
        b = [a_ * ((a_ + 1) + (a_ - 1) * cos_w0 + root), -2 * a_ * ((a_ - 1) + (a_ + 1) * cos_w0),
             a_ * ((a_ + 1) + (a_ - 1) * cos_w0 - root)]
        a = [(a_ + 1) - (a_ - 1) * cos_w0 + root, 2 * ((a_ - 1) - (a_ + 1) * cos_w0),
             (a_ + 1) - (a_ - 1) * cos_w0 - root]
    else:  # high pass
        b = [(1 + cos_w0) / 2, -(1 + cos_w0), (1 + cos_w0) / 2]
        a = [1 + alpha, -2 * cos_w0, 1 - alpha]
    return [x / a[0] for x in b], [x / a[0] for x in a]


@functools.cache
def k_weighting_fir(rate_hz: int = SAMPLE_RATE) -> np.ndarray:
    """The K-weighting filter's impulse response (float64), FIR_S long."""
    taps = round(FIR_S * rate_hz)
    signal = [0.0] * taps
    signal[0] = 1.0
    for kind, gain_db, q, fc_hz in (("high_shelf", 4.0, 1 / math.sqrt(2), 1500.0), ("high_pass", 0.0, 0.5, 38.0)):
        (b0, b1, b2), (_, a1, a2) = _biquad(kind, gain_db, q, fc_hz, rate_hz)
        out, x1, x2, y1, y2 = [], 0.0, 0.0, 0.0, 0.0
        for x in signal:
            y = b0 * x + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2
            out.append(y)
            x1, x2, y1, y2 = x, x1, y, y1
        signal = out
    return np.array(signal)


FFT_FRAMES = 16384  # one FFT length for every piece: numpy plans it once, and batches the blocks


def _filtered(samples: np.ndarray, firs: np.ndarray) -> np.ndarray:
    """The samples through each FIR (rows of firs), tails included: one row of len + taps - 1 per FIR.

    Overlap-add in blocks that one FFT length holds with the filter's tail, all blocks in one batch
    (numpy plans that length once); single precision, which a loudness or a peak does not notice.
    """
    taps = firs.shape[1]
    block = FFT_FRAMES - taps + 1
    x = np.asarray(samples, dtype=np.float32)
    count = max(1, -(-len(x) // block))
    padded = np.zeros(count * block, dtype=np.float32)
    padded[:len(x)] = x
    blocks = np.zeros((count, FFT_FRAMES), dtype=np.float32)
    blocks[:, :block] = padded.reshape(count, block)
    spectra = np.fft.rfft(blocks, axis=1)
    rows = []
    for spectrum in _spectra(firs.tobytes(), taps):
        filtered = np.fft.irfft(spectra * spectrum, FFT_FRAMES, axis=1)
        out = np.zeros((count + 1) * block, dtype=np.float32)
        out[:count * block] = filtered[:, :block].ravel()
        out[block:].reshape(count, block)[:, :taps - 1] += filtered[:, block:]
        rows.append(out[:len(x) + taps - 1])
    return np.array(rows)


@functools.lru_cache(maxsize=8)
def _spectra(firs: bytes, taps: int) -> np.ndarray:
    return np.fft.rfft(np.frombuffer(firs, dtype=np.float32).reshape(-1, taps), FFT_FRAMES, axis=1)


def k_weighted(samples: np.ndarray, rate_hz: int = SAMPLE_RATE) -> np.ndarray:
    """The samples through the K-weighting filter, tail included (len(samples) + taps - 1 values)."""
    return _filtered(samples, k_weighting_fir(rate_hz).astype(np.float32)[None, :])[0]


def _lufs(mean_square: float) -> float:
    return -0.691 + 10 * math.log10(mean_square) if mean_square > 0 else -math.inf


class LoudnessMeter:
    """Integrated loudness (BS.1770-4, mono) of audio handed over in pieces: add() samples, skip() silence."""

    def __init__(self, rate_hz: int = SAMPLE_RATE):
        self.rate_hz = rate_hz
        self.step_frames = rate_hz // 10
        self._fir = k_weighting_fir(rate_hz)
        self._carry = np.zeros(len(self._fir) - 1)  # the filter's ringing still to come
        self._steps: list[np.ndarray] = []  # sums of squares of the K-weighted signal, per 100 ms step
        self._partial = 0.0  # sum of squares in the step begun
        self._partial_frames = 0
        self.frames = 0

    def add(self, samples: np.ndarray) -> None:
        """The next samples of the programme."""
        n = len(samples)
        if not n:
            return
        y = k_weighted(samples, self.rate_hz)
        if len(y) < len(self._carry):
            y = np.concatenate((y, np.zeros(len(self._carry) - len(y))))
        y[:len(self._carry)] += self._carry
        self._carry = y[n:n + len(self._fir) - 1]
        if len(self._carry) < len(self._fir) - 1:
            self._carry = np.concatenate((self._carry, np.zeros(len(self._fir) - 1 - len(self._carry))))
        self._accumulate(np.square(y[:n]), n)

    def skip(self, frames: int) -> None:
        """The next `frames` samples are digital silence (only the filter's ringing sounds in them)."""
        if frames <= 0:
            return
        ring = self._carry[:frames]
        self._carry = np.concatenate((self._carry[frames:], np.zeros(min(frames, len(self._carry)))))
        self._accumulate(np.square(ring), frames)

    def _accumulate(self, squares: np.ndarray, frames: int) -> None:
        """Add `frames` samples whose squares are `squares` followed by zeros."""
        self.frames += frames
        at = 0
        if self._partial_frames:
            take = min(self.step_frames - self._partial_frames, frames)
            self._partial += float(squares[:take].sum())
            self._partial_frames += take
            at = take
            if self._partial_frames == self.step_frames:
                self._steps.append(np.array([self._partial]))
                self._partial, self._partial_frames = 0.0, 0
        whole = (frames - at) // self.step_frames
        if whole:
            body = np.zeros(whole * self.step_frames)
            part = squares[at:at + len(body)]
            body[:len(part)] = part
            self._steps.append(body.reshape(whole, self.step_frames).sum(axis=1))
            at += len(body)
        if at < frames:
            self._partial += float(squares[at:frames].sum())
            self._partial_frames += frames - at

    def integrated_lufs(self) -> float:
        """Gated integrated loudness; for less than one block, the ungated K-weighted mean square (see loudness_lufs)."""
        steps = np.concatenate(self._steps) if self._steps else np.zeros(0)
        if len(steps) < BLOCK_STEPS:
            total = float(steps.sum()) + self._partial
            return _lufs(total / self.frames) if self.frames else -math.inf
        return gated_lufs(steps, self.step_frames)


def loudness_lufs(samples: np.ndarray, rate_hz: int = SAMPLE_RATE) -> float:
    """A clip's loudness: BS.1770 gated integrated loudness, or short_lufs() under 400 ms.

    A clip shorter than one gating block cannot be gated. Clips are trimmed to their sound (20 ms of
    edge kept), so the whole clip is what one block would have held: its K-weighted mean square over
    its own length is the block's measure without the silence that padding to 400 ms would average in.
    """
    meter = LoudnessMeter(rate_hz)
    meter.add(samples)
    return meter.integrated_lufs()


@functools.cache
def _interpolator() -> np.ndarray:
    """The 3 in-between phases of a 4x interpolator, one row each (the 4th phase is the samples)."""
    half = INTERPOLATION_TAPS // 2
    rows = []
    for phase in range(1, OVERSAMPLING):
        at = np.arange(-half + 1, half + 1) - phase / OVERSAMPLING
        taps = np.sinc(at) * np.kaiser(INTERPOLATION_TAPS, 8.0)
        rows.append(taps / taps.sum())
    return np.array(rows)


def true_peak(samples: np.ndarray, rate_hz: int = SAMPLE_RATE) -> np.ndarray:
    """Per sample, the largest magnitude of the 4x oversampled signal from it to the next sample.

    A polyphase interpolator (BS.1770-4 Annex 2 uses one of 48 taps; this one has 128) gives the three
    points between each pair of samples; silence is assumed before and after the clip, as in a session.
    """
    x = np.asarray(samples, dtype=np.float32)
    peaks = np.abs(x)
    if not len(x):
        return peaks
    half = INTERPOLATION_TAPS // 2
    for taps in _interpolator():  # 32 taps: direct convolution beats an FFT here
        # the point between x[n] and x[n+1] at this phase: the sum over k of x[n + k] * taps[k + half - 1]
        between = np.convolve(x, taps[::-1].astype(np.float32), mode="full")[half:half + len(x)]
        np.maximum(peaks, np.abs(between), out=peaks)
    return peaks


def true_peak_dbtp(samples: np.ndarray, rate_hz: int = SAMPLE_RATE) -> float:
    """The true peak in dBTP (4x oversampled); -inf for silence."""
    peaks = true_peak(samples, rate_hz)
    top = float(peaks.max()) if len(peaks) else 0.0
    return 20 * math.log10(top) if top > 0 else -math.inf


def gain_to(samples: np.ndarray, target_lufs: float, rate_hz: int = SAMPLE_RATE) -> float:
    """The linear gain that brings the clip to target_lufs; 1.0 for a silent clip."""
    measured = loudness_lufs(samples, rate_hz)
    if measured < SILENT_LUFS:
        return 1.0
    return 10 ** ((target_lufs - measured) / 20)


def leveled(samples: np.ndarray, target_lufs: float, rate_hz: int = SAMPLE_RATE) -> np.ndarray:
    """The clip scaled to target_lufs (float32); a silent clip unchanged."""
    return (np.asarray(samples, dtype=np.float32) * np.float32(gain_to(samples, target_lufs, rate_hz)))


def gated_lufs(step_sums: np.ndarray, step_frames: int) -> float:
    """BS.1770 gated loudness from the K-weighted sums of squares of consecutive 100 ms steps."""
    if len(step_sums) < BLOCK_STEPS:
        total = float(step_sums.sum())
        return _lufs(total / (len(step_sums) * step_frames)) if len(step_sums) else -math.inf
    sums = np.convolve(step_sums, np.ones(BLOCK_STEPS), mode="valid") / (BLOCK_STEPS * step_frames)
    with np.errstate(divide="ignore"):
        blocks = -0.691 + 10 * np.log10(sums)
    above = blocks > ABSOLUTE_GATE_LUFS
    if not above.any():
        return -math.inf
    relative = _lufs(float(sums[above].mean())) + RELATIVE_GATE_LU
    return _lufs(float(sums[above & (blocks > relative)].mean()))


PLANNED_BATCH = 2048  # cues summed at once: the work stays vectorised and its memory bounded, however long the session


def planned_lufs(placed: list[tuple[int, ClipFigures, float]], total_frames: int, rate_hz: int = SAMPLE_RATE) -> float:
    """The integrated loudness of clips laid at (start frame, clip's figures, gain) on silence, without mixing them.

    The K-filter is linear and the cues sound apart, so each clip's filtered energy, measured once
    (coach.audio.clipfigures), is summed into the session's 100 ms steps where it lands: many cues at
    once, each clip's kept points laid end to end on one axis.
    """
    step = rate_hz // 10
    count = total_frames // step + 1
    steps = np.zeros(count)
    distinct: dict[int, int] = {}
    clips: list[ClipFigures] = []
    for _, figures, _ in placed:
        if id(figures) not in distinct:
            distinct[id(figures)] = len(clips)
            clips.append(figures)
    if clips:
        axis, totals = zip(*(figures.kept_points() for figures in clips))
        sizes = np.array([figures.frames + 1 for figures in clips], dtype=np.int64)
        base = np.cumsum(sizes) - sizes  # where each clip's points begin on the shared axis
        shared = (np.concatenate([a + b for a, b in zip(axis, base)]), np.concatenate(totals))
        for at in range(0, len(placed), PLANNED_BATCH):
            batch = placed[at:at + PLANNED_BATCH]
            which = np.array([distinct[id(p[1])] for p in batch], dtype=np.int64)
            starts = np.array([p[0] for p in batch], dtype=np.int64)
            power = np.array([float(p[2]) ** 2 for p in batch])
            steps += _step_energy(starts, which, power, sizes, base, shared, total_frames, step, count)
    return gated_lufs(steps[:total_frames // step], step)


def _step_energy(starts: np.ndarray, which: np.ndarray, power: np.ndarray, sizes: np.ndarray, base: np.ndarray,
                 shared: tuple[np.ndarray, np.ndarray], total_frames: int, step: int, count: int) -> np.ndarray:
    """The filtered energy of cues (start frame, clip index, gain squared) in each 100 ms step."""
    ends = np.minimum(starts + sizes[which] - 1, total_frames)
    keep = ends > starts
    starts, ends, power, which = starts[keep], ends[keep], power[keep], which[keep]
    first, last = starts // step, (ends - 1) // step
    bounds_per_cue = last - first + 2  # step boundaries of each cue, its first and last included
    cue = np.repeat(np.arange(len(starts)), bounds_per_cue)
    at = np.arange(len(cue)) - np.repeat(np.cumsum(bounds_per_cue) - bounds_per_cue, bounds_per_cue)
    bounds = np.clip((first[cue] + at) * step, starts[cue], ends[cue]) - starts[cue]
    energy = np.diff(np.interp(bounds + base[which[cue]], *shared))
    inside = at[1:] != 0  # differences within one cue, not across two
    return np.bincount((first[cue] + at)[:-1][inside], energy[inside] * power[cue[1:][inside]], minlength=count)
