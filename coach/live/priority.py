"""A playing thread ahead of ordinary programs on a busy machine, as far as the system allows without privileges."""

from __future__ import annotations

import os
import resource
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

AUDIO_RT_PRIORITY = 3  # real-time priority when allowed: below sound servers, which rtkit gives 5 and up
AUDIO_NICE_STEP = 10  # else this much less nice than coach, as far as the user's limit allows


@contextmanager
def urgent_thread() -> Iterator[None]:
    """While the block runs, the calling thread (and threads it starts) runs ahead of ordinary programs, if allowed."""
    # Threads inherit it, which is the point: the device writer simpleaudio starts (and the sound server
    # client's) must refill a ~100 ms device buffer on a busy machine, or the sound stalls and cues come
    # late or not at all. Real-time round-robin where RLIMIT_RTPRIO allows it, else a lower nice value
    # where RLIMIT_NICE does, else nothing: coach never asks for privileges.
    if not hasattr(os, "sched_setscheduler"):
        yield
        return
    tid = threading.get_native_id()
    try:
        policy, param, nice = os.sched_getscheduler(0), os.sched_getparam(0), os.getpriority(os.PRIO_PROCESS, tid)
    except OSError:
        yield
        return
    changed = False
    try:
        os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(AUDIO_RT_PRIORITY))
        changed = True
    except OSError:
        limit = resource.getrlimit(resource.RLIMIT_NICE)[0]
        floor = -20 if limit == resource.RLIM_INFINITY else 20 - limit  # the lowest nice this user may take
        with suppress(OSError):
            if max(floor, nice - AUDIO_NICE_STEP) < nice:
                os.setpriority(os.PRIO_PROCESS, tid, max(floor, nice - AUDIO_NICE_STEP))
                changed = True
    try:
        yield
    finally:
        if changed:
            with suppress(OSError):
                os.sched_setscheduler(0, policy, param)
            with suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, tid, nice)
