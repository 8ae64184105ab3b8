"""The one convention for 16-bit samples: float x in [-1, 1) is the integer round(x * 32768), clipped.

It is the inverse of how soundfile reads 16-bit files (integer / 32768), so a 16-bit clip survives a
round trip unchanged, and live playback, the clip cache and 16-bit exports hold the same integers.
"""

from __future__ import annotations

import numpy as np

FULL_SCALE = 32768.0


def to_pcm16(samples: np.ndarray) -> np.ndarray:
    """float samples as int16, rounded to nearest and clipped to the int16 range."""
    scaled = np.multiply(np.asarray(samples, dtype=np.float32), np.float32(FULL_SCALE))
    np.rint(scaled, out=scaled)  # in place: one temporary array instead of three
    np.clip(scaled, -32768, 32767, out=scaled)
    return scaled.astype(np.int16)


def from_pcm16(samples: np.ndarray) -> np.ndarray:
    """int16 samples as float32 in [-1, 1)."""
    out = np.asarray(samples).astype(np.float32)
    out *= np.float32(1 / FULL_SCALE)
    return out
