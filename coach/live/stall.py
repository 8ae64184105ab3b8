"""Noticing a stalled sound device beside a stream that tells nothing of its position, and where to catch up.

simpleaudio says of a stream only whether it still plays. So a short stream of silence plays again and
again beside the session's, through the same device: while the device runs, each one ends PROBE_S after
it started plus a start-up and drain time that barely varies. When the device stops for a while
(a starved or stopped sound server), the probe sounding then ends that much late, and so does
everything the session's stream still holds: every later cue would come that much late. The player
then catches up in the next silence long enough for it, never cutting a sound (see `catch_up_s`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from coach.errors import AudioDeviceError
from coach.plan.model import SAMPLE_RATE, to_samples

PROBE_S = 1.0  # length of each silent probe: a stall is noticed at most this long after it ends
STALL_S = 0.3  # a probe this much later than the earliest one: the device stalled (start-up jitter is far less)
GUARD_S = 0.1  # silence kept on both sides of a catch-up: how far off the position may be


@dataclass
class Stall:
    """One stall: when it was noticed (on the player's clock) and how long the device stopped, in seconds."""

    noticed_at_s: float
    length_s: float


@dataclass
class StallProbe:
    """Plays PROBE_S of silence again and again beside the session; one that ends late says how long the device stalled."""

    output: object  # an AudioOutput (play(frames) -> Playback)
    clock: object  # a Clock
    probe_s: float = PROBE_S
    stall_s: float = STALL_S
    stalls: list[Stall] = field(default_factory=list)
    _playing: object = None
    _started_at_s: float = 0.0
    _seen_playing_s: float = 0.0  # the last check that found the probe still playing
    _earliest_s: float | None = None  # the smallest lateness seen: start-up and drain of a running device
    _broken: bool = False

    def check(self) -> float:
        """Seconds the device newly stalled (0.0 when it did not); starts the next probe once one has ended."""
        now_s = self.clock.now()
        if self._broken:
            return 0.0
        if self._playing is not None and self._playing.is_playing():
            self._seen_playing_s = now_s
            return 0.0
        stalled_s = 0.0
        if self._playing is not None:
            # It ended between the last check that saw it play and now (a busy loop may look late). The
            # stall counted is the least that fits, so catching up never makes a cue early; lateness
            # counts from when the probe's open returned, as a slow open on a busy machine is no stall.
            least_s = self._seen_playing_s - self._started_at_s - self.probe_s
            most_s = now_s - self._started_at_s - self.probe_s
            if self._earliest_s is None or most_s < self._earliest_s:
                self._earliest_s = most_s
            if least_s - self._earliest_s >= self.stall_s:
                stalled_s = least_s - self._earliest_s
                self.stalls.append(Stall(now_s, stalled_s))
        try:
            self._playing = self.output.play(np.zeros(to_samples(self.probe_s), dtype=np.int16))
        except AudioDeviceError:  # no second stream on this device: the session plays on, unwatched
            self._playing, self._broken = None, True
        self._started_at_s = self._seen_playing_s = self.clock.now()
        return stalled_s

    def stop(self) -> None:
        """Silences the probe sounding; the next check starts a new one."""
        if self._playing is not None:
            self._playing.stop()
            self._playing = None


def silence_ahead_s(frames: np.ndarray, here: int) -> float | None:
    """Seconds of silence in frames from index `here` on (to their end when none sounds), or None when a
    sound lies within GUARD_S before `here` (the device may still be playing it)."""
    loud = np.flatnonzero(frames[max(0, here - to_samples(GUARD_S)):])
    offset = max(0, here - to_samples(GUARD_S))
    if len(loud) and loud[0] + offset < here:
        return None
    return ((int(loud[0]) + offset if len(loud) else len(frames)) - here) / SAMPLE_RATE


def catch_up_s(mixer, here_s: float, behind_s: float, lead_in_s: float) -> float:
    """How much of the silence at here_s to leave out to come back towards the plan (0.0: not here).

    The old stream stops in silence and the new one starts in silence that a cold start (lead_in_s)
    may swallow, so no sound is ever cut; a silence too short for all of behind_s gives what it can.
    """
    if behind_s <= 0:
        return 0.0
    start = max(0, to_samples(here_s - GUARD_S))
    end = min(to_samples(here_s + behind_s + lead_in_s + GUARD_S), mixer.total_frames)
    if end <= start:
        return 0.0
    silent_s = silence_ahead_s(mixer.pcm16(start, end), to_samples(here_s) - start)
    if silent_s is None:
        return 0.0
    gain_s = min(behind_s, silent_s - lead_in_s - GUARD_S)
    return gain_s if gain_s >= min(behind_s, GUARD_S) else 0.0
