"""Live playback on a busy machine: the device writer gets a head start where allowed, and a late hand-off catches up."""

from __future__ import annotations

import os
import resource
import threading

import numpy as np
import pytest

from coach.audio.pcm import to_pcm16
from coach.live.player import run_session
from coach.live.priority import urgent_thread
from coach.plan.model import SAMPLE_RATE, to_samples
from test_live import COMPACT, FakeClock, FakeOutput, make_mixer, make_plan


def probe_started_inside() -> dict:
    """Scheduling of a thread started inside urgent_thread(), and of the starting thread after it."""
    seen: dict = {}

    def child() -> None:
        seen["policy"] = os.sched_getscheduler(0)
        seen["nice"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    def starter() -> None:
        seen["before"] = (os.sched_getscheduler(0), os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        with urgent_thread():
            thread = threading.Thread(target=child)
            thread.start()
            thread.join()
        seen["after"] = (os.sched_getscheduler(0), os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))

    thread = threading.Thread(target=starter)
    thread.start()
    thread.join()
    return seen


def test_a_thread_started_for_playback_runs_ahead_and_the_starter_goes_back():
    seen = probe_started_inside()
    before_policy, before_nice = seen["before"]
    assert seen["policy"] == os.SCHED_RR or seen["nice"] < before_nice, seen  # this machine allows one of them
    assert seen["after"] == seen["before"]


def test_without_permission_nothing_changes_and_nothing_fails(monkeypatch):
    def refused(*args):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "sched_setscheduler", refused)
    monkeypatch.setattr(os, "setpriority", refused)
    monkeypatch.setattr(resource, "getrlimit", lambda which: (0, 0))
    seen = probe_started_inside()
    assert (seen["policy"], seen["nice"]) == seen["before"] == seen["after"]


class LateKeys:
    """No key is pressed; waiting advances the fake clock, and once, right after `late_at`, by `late_s` more."""

    def __init__(self, clock, late_at: float, late_s: float):
        self.clock, self.late_at, self.late_s = clock, late_at, late_s

    def poll(self, timeout_s: float):
        self.clock.t += timeout_s
        if self.late_at is not None and self.clock.t >= self.late_at:
            self.clock.t += self.late_s  # the machine was busy: the loop wakes up late
            self.late_at = None
        return None


def first_sound_at(playback) -> float:
    """When a fake playback's first non-silent sample is heard, on the fake clock."""
    return playback.started_at + int(np.flatnonzero(playback.frames)[0]) / SAMPLE_RATE


def test_a_seam_noticed_late_catches_up_in_the_silence_and_drops_no_sound():
    plan, sounds = make_plan(exercises=("bridge",), **COMPACT)
    clock = FakeClock(100.0)
    output = FakeOutput(clock)
    run_session(plan, make_mixer(plan, sounds), output=output, clock=clock, keys=LateKeys(clock, 101.59, 0.2),
                window_s=2.0, lead_in_s=0.0)
    first, second = output.played[:2]
    seam_s = len(first.frames) / SAMPLE_RATE
    next_cue = min(c.at_s for c in plan.cues if c.at_s >= seam_s)
    assert first_sound_at(second) == pytest.approx(100.0 + next_cue, abs=1e-4)  # on time, not 0.2 s late
    total = sum(len(p.frames) for p in output.played)
    assert total == pytest.approx(plan.duration_samples - to_samples(0.2), abs=2)  # only silence was left out
    heard = np.concatenate([p.frames for p in output.played])
    whole = to_pcm16(make_mixer(plan, sounds).render(0, plan.duration_samples))
    assert np.count_nonzero(heard) == np.count_nonzero(whole)
