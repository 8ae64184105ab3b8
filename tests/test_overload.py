"""Live playback on a busy machine: the device's writer threads alone get a head start where allowed; a late hand-off catches up."""

from __future__ import annotations

import ctypes
import json
import os
import resource
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from coach.audio.pcm import to_pcm16
from coach.live.player import run_session
from coach.live.priority import lifting_threads_started
from coach.plan.model import SAMPLE_RATE, to_samples
from pulse import pulse_server  # noqa: F401 (fixture)
from test_live import COMPACT, FakeClock, FakeOutput, make_mixer, make_plan

ROOT = Path(__file__).resolve().parents[1]
RESET_ON_FORK = getattr(os, "SCHED_RESET_ON_FORK", 0)


# Plays half a second through SimpleaudioOutput, then tells how every thread of the process is scheduled
# while it sounds: those Python does not know of (the library's writer, the server client's) and those
# it knows (coach's own).
_PLAY_AND_LOOK = r"""
import json, os, threading, time
import numpy as np
from coach.live.player import SimpleaudioOutput
from coach.plan.model import SAMPLE_RATE

def look(tid):
    return os.sched_getscheduler(tid), os.getpriority(os.PRIO_PROCESS, tid)

python_thread = threading.Thread(target=time.sleep, args=(1.0,), daemon=True)
python_thread.start()
before = {int(name) for name in os.listdir("/proc/self/task")}
playback = SimpleaudioOutput().play(np.zeros(SAMPLE_RATE // 2, dtype=np.int16))
ours = {thread.native_id for thread in threading.enumerate()}
started = sorted({int(name) for name in os.listdir("/proc/self/task")} - before - ours)
print(json.dumps({"started": [look(tid) for tid in started], "python": [look(tid) for tid in sorted(ours)],
                  "playing": playback.is_playing()}))
playback.wait_done()
"""


def test_only_the_device_writers_run_ahead_and_nothing_they_start_inherits_it(pulse_server):
    done = subprocess.run([sys.executable, "-c", _PLAY_AND_LOOK], env=pulse_server.env, cwd=ROOT,
                          capture_output=True, text=True, timeout=30, check=True)
    seen = json.loads(done.stdout)
    assert seen["playing"] and seen["started"], seen  # simpleaudio's writer and the client's I/O thread
    nice = os.getpriority(os.PRIO_PROCESS, 0)
    for policy, thread_nice in seen["started"]:
        # Ahead of ordinary programs (this machine allows one of the two), and marked so that whatever
        # the thread starts begins ordinary: on the old code they were real-time with no such mark.
        assert policy & ~RESET_ON_FORK == os.SCHED_RR or thread_nice < nice, seen
        assert policy & RESET_ON_FORK, seen
    assert all(policy == os.SCHED_OTHER and thread_nice >= min(nice, 0) for policy, thread_nice in seen["python"]), seen


def test_a_c_thread_started_while_lifting_runs_ahead_and_what_it_starts_does_not():
    # The client library's I/O thread is a C thread Python does not know of: so is this one.
    seen: dict = {}
    started, go_on = threading.Event(), threading.Event()

    def look() -> tuple[int, int]:
        return os.sched_getscheduler(0), os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    def grandchild() -> None:
        seen["grandchild"] = look()

    def client_thread(_arg):
        started.set()
        go_on.wait()  # lifted by now, from outside, as the library's threads are once the stream is open
        seen["client"] = look()
        thread = threading.Thread(target=grandchild, daemon=True)
        thread.start()
        thread.join()
        return None

    libc = ctypes.CDLL(None)
    body = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p)(client_thread)
    handle = ctypes.c_ulong()
    before = look()
    with lifting_threads_started() as lifted:
        assert libc.pthread_create(ctypes.byref(handle), None, body, None) == 0
        started.wait()
        python_thread = threading.Thread(target=lambda: go_on.wait() and seen.update(python=look()))
        python_thread.start()  # one of coach's own, started meanwhile: left alone
    go_on.set()
    libc.pthread_join(handle, None)
    python_thread.join()
    assert len(lifted) == 1, lifted
    assert seen["client"][0] & ~RESET_ON_FORK == os.SCHED_RR or seen["client"][1] < before[1], seen
    assert seen["grandchild"][0] == os.SCHED_OTHER and seen["grandchild"][1] >= min(before[1], 0), seen
    assert seen["python"] == before and look() == before, seen


def test_without_permission_nothing_changes_and_nothing_fails(monkeypatch):
    def refused(*args):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "sched_setscheduler", refused)
    monkeypatch.setattr(os, "setpriority", refused)
    monkeypatch.setattr(resource, "getrlimit", lambda which: (0, 0))
    libc = ctypes.CDLL(None)
    handle = ctypes.c_ulong()
    with lifting_threads_started() as lifted:  # a C thread that sleeps 0.1 s
        assert libc.pthread_create(ctypes.byref(handle), None, libc.usleep, ctypes.c_void_p(100_000)) == 0
    libc.pthread_join(handle, None)
    assert lifted == []


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
