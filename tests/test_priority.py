"""The thread that starts playback gives its device writer a head start over ordinary programs, where allowed."""

from __future__ import annotations

import os
import resource
import threading

from coach.live.priority import urgent_thread


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
