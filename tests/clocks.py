"""A wall clock for tests: it says whatever time it was set to."""

from __future__ import annotations

from datetime import datetime, timedelta


class FixedClock:
    """A settable clock; now() is always the time it was last set to."""

    def __init__(self, moment: datetime):
        self.moment = moment

    def now(self) -> datetime:
        """The set time."""
        return self.moment

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self.moment += timedelta(seconds=seconds)
