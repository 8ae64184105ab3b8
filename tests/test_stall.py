"""A stalled sound device: the player notices it through its silent probe and comes back to the plan's schedule in silences."""

from __future__ import annotations

import numpy as np
import pytest

from coach.audio.pcm import to_pcm16
from coach.live.player import run_session
from coach.plan.model import SAMPLE_RATE
from test_live import FakeClock, FakePlayback, make_mixer, make_plan

STALL_AT, STALL_S = 102.6, 0.8  # the device stops for 0.8 s, 2.6 s after the session began (in a silence)


def played_s(started_at: float, until: float) -> float:
    """Seconds a stream started at started_at has played by `until` on the fake device (which stalls once)."""
    stalled = max(0.0, min(until, STALL_AT + STALL_S) - max(started_at, STALL_AT))
    return max(0.0, until - started_at - stalled)


def heard_at(started_at: float, offset_s: float) -> float:
    """When the device plays what lies offset_s into a stream started at started_at."""
    at = started_at + offset_s
    return at + STALL_S if started_at < STALL_AT + STALL_S and at >= STALL_AT else at


class StallingPlayback(FakePlayback):
    """A fake device buffer that plays nothing while the device stalls."""

    def is_playing(self) -> bool:
        return self.stopped_at is None and played_s(self.started_at, self.clock.now()) < len(self.frames) / SAMPLE_RATE

    def heard(self) -> np.ndarray:
        """The frames the device played before the stream was stopped."""
        if self.stopped_at is None:
            return self.frames
        return self.frames[:round(played_s(self.started_at, self.stopped_at) * SAMPLE_RATE)]


class StallingOutput:
    def __init__(self, clock: FakeClock, notices_stalls: bool):
        self.clock, self.notices_stalls, self.played, self.probes = clock, notices_stalls, [], []

    def play(self, frames: np.ndarray) -> StallingPlayback:
        playback = StallingPlayback(self.clock, frames)
        (self.played if np.any(frames) or not self.played else self.probes).append(playback)
        return playback


class Waiting:
    def __init__(self, clock: FakeClock):
        self.clock = clock

    def poll(self, timeout_s: float):
        self.clock.t += timeout_s
        return None


def play(notices_stalls: bool):
    plan, sounds = make_plan(exercises=("bridge", "plank"))
    clock = FakeClock(100.0)
    output, said = StallingOutput(clock, notices_stalls), []
    run_session(plan, make_mixer(plan, sounds), output=output, clock=clock, keys=Waiting(clock), lead_in_s=0.3,
                say=said.append)
    onsets = []
    for playback in output.played:
        loud = np.flatnonzero(playback.heard())
        starts = loud[np.concatenate([[True], np.diff(loud) > SAMPLE_RATE // 100])] if len(loud) else loud
        onsets += [heard_at(playback.started_at, start / SAMPLE_RATE) - 100.0 for start in starts]
    assert len(onsets) == len(plan.cues)  # no cue lost, none heard twice
    first_s = sorted(onsets)[0] - plan.cues[0].at_s  # the schedule begins after the lead-in
    lateness = {cue.at_s: at_s - first_s - cue.at_s for cue, at_s in zip(plan.cues, sorted(onsets))}
    heard = np.concatenate([p.heard() for p in output.played])
    whole = to_pcm16(make_mixer(plan, sounds).render(0, plan.duration_samples))
    assert np.count_nonzero(heard) == np.count_nonzero(whole)  # no sound cut
    return lateness, said, output


def test_without_a_probe_every_cue_after_a_stall_comes_that_much_late():
    lateness, said, output = play(notices_stalls=False)
    assert [round(late, 3) for at_s, late in lateness.items() if at_s > 3] == [STALL_S] * (len(lateness) - 2)
    assert said == [] and output.probes == []


def test_a_stall_is_noticed_and_the_plan_caught_up_in_silences_never_early():
    lateness, said, output = play(notices_stalls=True)
    assert lateness[2.0] == pytest.approx(0.0, abs=1e-3)
    # Noticed when the probe sounding through the stall ended, and caught up in the silence before the
    # next cue: every later cue on the plan's schedule, never early (the stall counted is the least
    # that fits what the loop saw).
    assert all(-1e-3 <= late <= 0.06 for at_s, late in lateness.items() if at_s > 3), lateness
    assert "the sound device stalled for 0.7" in said[0] and "caught up 0.7" in said[1], said
    assert len(output.probes) >= 15  # one a second, for as long as the session plays
