"""SIGTERM handled like Ctrl+C for the length of a block, so cleanup code runs before the process dies of it."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


class _Terminated(BaseException):
    """SIGTERM arrived; unwinds like KeyboardInterrupt so temporary files get removed."""


@contextlib.contextmanager
def sigterm_unwinds() -> Iterator[None]:
    """Turn SIGTERM into an exception for the duration, then die of it as usual afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)
    if previous in (signal.SIG_IGN, None):
        yield
        return

    def on_term(signum, frame):
        raise _Terminated()

    signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    except _Terminated:
        signal.signal(signal.SIGTERM, previous)
        if callable(previous):
            previous(signal.SIGTERM, None)
        else:
            signal.raise_signal(signal.SIGTERM)
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
