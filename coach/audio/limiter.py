"""A true-peak limiter for one clip: gain comes down only around the peaks that would pass the ceiling.

It works on a whole clip (a cue sounds alone, with silence around it), so it needs no state across
blocks and the result is the same whichever part of the session is being rendered.
"""

from __future__ import annotations

import numpy as np

from coach.plan.model import SAMPLE_RATE
from coach.audio.loudness import true_peak

CEILING_DBTP = -2.0  # a dB under the -1 dBTP target: decoded Opus was measured up to 0.6 dB over its mix
# Gain falls over ATTACK_S before a peak and recovers over as long after it: long against a voice's
# pitch period (no buzz), short against a syllable (no audible pumping).
ATTACK_S = 0.005
PASSES = 4  # the gain curve reshapes the waveform between samples a little, so the peak is checked again


def _windowed_min(values: np.ndarray, radius: int) -> np.ndarray:
    """The minimum of values within `radius` of each index (1.0 beyond the ends), by doubling spans."""
    width = 2 * radius + 1
    spans = np.pad(values, radius, constant_values=1.0)
    span = 1
    while span * 2 <= width:  # spans[i] becomes the minimum of values[i:i + 2 * span] (padded)
        spans[:-span] = np.minimum(spans[:-span], spans[span:])
        span *= 2
    n = len(values)
    return np.minimum(spans[:n], spans[width - span:width - span + n])


def _boxcar(values: np.ndarray, radius: int) -> np.ndarray:
    padded = np.pad(values, radius, constant_values=1.0)
    sums = np.concatenate(([0.0], np.cumsum(padded, dtype=np.float64)))
    return (sums[2 * radius + 1:] - sums[:-(2 * radius + 1)]) / (2 * radius + 1)


def gain_curve(peaks: np.ndarray, ceiling: float, radius: int) -> np.ndarray:
    """A smooth gain per sample that keeps every peak at or under the ceiling.

    Each sample's own need (ceiling / peak) is spread to its neighbours within `radius` by a minimum,
    then smoothed by an average over the same span: every sample's gain is then an average of values
    no larger than its own need, so the ceiling holds wherever the gain is smooth.
    """
    need = np.minimum(1.0, ceiling / np.maximum(peaks.astype(np.float64), 1e-12))
    return _boxcar(_windowed_min(need, radius), radius)


def limit(clip: np.ndarray, ceiling_dbtp: float = CEILING_DBTP, rate_hz: int = SAMPLE_RATE) -> tuple[np.ndarray, float]:
    """The clip with its true peak at most ceiling_dbtp, and that true peak (linear); unchanged if under it."""
    ceiling = 10 ** (ceiling_dbtp / 20)
    out = np.asarray(clip, dtype=np.float32)
    radius = max(1, round(ATTACK_S * rate_hz))
    for attempt in range(PASSES + 1):
        peaks = true_peak(out, rate_hz)
        top = float(peaks.max()) if len(peaks) else 0.0
        if top <= ceiling:
            return out, top
        if attempt == PASSES:  # never seen in practice; a plain scale is the last resort
            out = out * np.float32(ceiling / top * 0.999)
            return out, float(true_peak(out, rate_hz).max())
        # aim a little under the ceiling so the next pass rarely has anything left to do
        out = (out * gain_curve(peaks, ceiling * 0.995, radius)).astype(np.float32)
    raise AssertionError("unreachable")
