"""The device's writer threads ahead of ordinary programs on a busy machine, as far as the system allows without privileges."""

from __future__ import annotations

import os
import resource
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

AUDIO_RT_PRIORITY = 3  # real-time priority when allowed: below sound servers, which rtkit gives 5 and up
AUDIO_NICE_STEP = 10  # else this much less nice than coach, as far as the user's limit allows


def _lift(tid: int, nice: int) -> bool:
    """Puts thread tid ahead of ordinary programs where allowed (never passed on to what it starts)."""
    reset_on_fork = getattr(os, "SCHED_RESET_ON_FORK", 0)
    try:
        os.sched_setscheduler(tid, os.SCHED_RR | reset_on_fork, os.sched_param(AUDIO_RT_PRIORITY))
        return True
    except OSError:
        pass
    limit = resource.getrlimit(resource.RLIMIT_NICE)[0]
    floor = -20 if limit == resource.RLIM_INFINITY else 20 - limit  # the lowest nice this user may take
    if max(floor, nice - AUDIO_NICE_STEP) >= nice:
        return False
    with suppress(OSError):  # what it starts begins at nice 0 again (allowed to anyone)
        os.sched_setscheduler(tid, os.sched_getscheduler(tid) | reset_on_fork, os.sched_param(0))
    try:
        os.setpriority(os.PRIO_PROCESS, tid, max(floor, nice - AUDIO_NICE_STEP))
        return True
    except OSError:
        return False


def _threads() -> set[int]:
    try:
        return {int(name) for name in os.listdir("/proc/self/task")}
    except OSError:
        return set()


@contextmanager
def lifting_threads_started() -> Iterator[list[int]]:
    """Threads Python does not know of that the block starts (the device writer's) run ahead; yields their ids, filled in after."""
    # Opening a stream starts the library's writer thread and the sound server client's I/O thread.
    # Both must keep the device's buffer filled on a busy machine, or the sound stalls and cues come
    # late or not at all; both only ever block on the device. The calling thread is never raised, so
    # nothing started meanwhile inherits anything, and SCHED_RESET_ON_FORK keeps what the lifted
    # threads start ordinary: real-time threads passed on to a client library's helpers let a session
    # steered hard (streams opened and torn down many times a second) keep the CPU from the sound
    # server for seconds. Real-time round-robin where RLIMIT_RTPRIO allows it, else a lower nice
    # value where RLIMIT_NICE does, else nothing: coach never asks for privileges.
    lifted: list[int] = []
    if not hasattr(os, "sched_setscheduler"):
        yield lifted
        return
    before = _threads()
    try:
        yield lifted
    finally:
        nice = os.getpriority(os.PRIO_PROCESS, 0)
        ours = {thread.native_id for thread in threading.enumerate()}  # Python's own, started elsewhere meanwhile
        for tid in sorted(_threads() - before - ours):
            if _lift(tid, nice):
                lifted.append(tid)
