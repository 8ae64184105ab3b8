"""The wall clock, behind a small interface so that dates and times can be injected."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class WallClock(Protocol):
    """Tells the local date and time."""

    def now(self) -> datetime:
        """The current local time, timezone-aware (with its UTC offset)."""
        ...


class SystemClock:
    """The computer's clock, in its local time zone."""

    def now(self) -> datetime:
        """The current local time with its UTC offset."""
        return datetime.now().astimezone()


def local_iso(moment: datetime) -> str:
    """A timezone-aware time as ISO 8601 local time with its offset, to the second."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("the time must carry its UTC offset")
    return moment.isoformat(timespec="seconds")
