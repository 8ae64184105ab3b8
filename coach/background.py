"""Work done in order on a thread of its own, so the next piece can be prepared meanwhile.

Encoders (libsndfile and libopus through cffi or ctypes) and file writes release the GIL, so on two
cores an export takes about as long as the slower of making the audio and writing it, not their sum.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

Item = TypeVar("Item")


class Background(Generic[Item]):
    """Calls work(item) for each item put, in order, on one thread; the first error reaches put() or finish()."""

    def __init__(self, work: Callable[[Item], object], queued: int):
        self._work = work
        self._queue: queue.Queue = queue.Queue(maxsize=queued)  # bounded: memory stays flat
        self._error: BaseException | None = None
        self._stopped = False
        self._thread = threading.Thread(target=self._drain, name="coach-background", daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._error is None and not self._stopped:
                try:
                    self._work(item)
                except BaseException as exc:  # handed to the thread that puts, which raises it
                    self._error = exc

    def put(self, item: Item) -> None:
        """Queue an item (it must not change afterwards); raises the work's error, if there was one."""
        if self._error is not None:
            raise self._error
        self._queue.put(item)

    def finish(self, completed: bool) -> None:
        """Wait for the queued items (dropped unless `completed`), then raise the work's error, if any."""
        self._stopped = not completed
        self._queue.put(None)
        self._thread.join()
        if completed and self._error is not None:
            raise self._error


@contextlib.contextmanager
def in_background(work: Callable[[Item], object], queued: int = 8) -> Iterator[Background[Item]]:
    """A Background for `work`: on leaving, every item has been worked on, or the first error is raised."""
    worker: Background[Item] = Background(work, queued)
    try:
        yield worker
    except BaseException:
        worker.finish(completed=False)
        raise
    worker.finish(completed=True)
