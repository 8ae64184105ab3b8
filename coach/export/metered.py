"""A mixer seen through a loudness meter: what export writes is measured as it passes, at no second render."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from coach.audio.loudness import LoudnessMeter
from coach.audio.pcm import from_pcm16


class Metered:
    """Hands out a mixer's chunks or 16-bit spans unchanged, measuring their integrated loudness on the way."""

    def __init__(self, mixer):
        self.mixer = mixer
        self.total_frames: int = mixer.total_frames
        self.meter = LoudnessMeter()

    def chunks(self, start_frame: int = 0, max_frames: int = 65536) -> Iterator[np.ndarray | int]:
        """The mixer's chunks (see Mixer.chunks), each also added to the meter."""
        for chunk in self.mixer.chunks(start_frame, max_frames):
            if isinstance(chunk, int):
                self.meter.skip(chunk)
            else:
                self.meter.add(chunk)
            yield chunk

    def pcm16_spans(self, start_frame: int = 0) -> Iterator[tuple[int, np.ndarray]]:
        """The mixer's 16-bit spans (see Mixer.pcm16_spans); the meter hears the very integers written."""
        at = start_frame
        for lo, span in self.mixer.pcm16_spans(start_frame):
            self.meter.skip(lo - at)
            self.meter.add(from_pcm16(span))
            at = lo + len(span)
            yield lo, span
        self.meter.skip(self.total_frames - at)

    def integrated_lufs(self) -> float:
        """The integrated loudness of everything handed out so far."""
        return self.meter.integrated_lufs()

    def summary(self) -> str:
        """'-19.0 LUFS, -1.6 dBTP' for the closing line of an export."""
        lufs, peak = self.integrated_lufs(), self.mixer.true_peak_dbtp()
        say = (lambda v, unit: f"{v:.1f} {unit}" if v != float("-inf") else f"silent ({unit})")
        return f"{say(lufs, 'LUFS')}, {say(peak, 'dBTP')}"
