"""Work handed to a background thread: done in order, every item done on leaving, errors not lost."""

from __future__ import annotations

import threading

import pytest

from coach.files import in_background


def test_items_are_worked_on_in_order_on_another_thread_and_all_done_on_leaving():
    done, threads = [], set()

    def work(item):
        threads.add(threading.get_ident())
        done.append(item)

    with in_background(work, queued=2) as worker:
        for item in range(50):
            worker.put(item)
    assert done == list(range(50))
    assert threads and threading.get_ident() not in threads


def test_the_works_first_error_reaches_the_caller_and_later_items_are_skipped():
    done = []

    def work(item):
        if item == 3:
            raise OSError(28, "No space left on device")
        done.append(item)

    with pytest.raises(OSError, match="No space left"):
        with in_background(work, queued=1) as worker:
            for item in range(100):
                worker.put(item)
    assert done == [0, 1, 2]


def test_an_error_while_putting_drops_what_is_queued_and_is_raised_as_it_was():
    started, release, done = threading.Event(), threading.Event(), []

    def work(item):
        started.set()
        release.wait(5)
        done.append(item)

    with pytest.raises(KeyboardInterrupt):
        with in_background(work, queued=4) as worker:
            worker.put(0)
            started.wait(5)
            for item in range(1, 4):
                worker.put(item)
            threading.Timer(0.2, release.set).start()  # item 0 ends only after the error has stopped the rest
            raise KeyboardInterrupt
    assert done == [0]
