"""Every way coach writes a length of time on screen or in a file, in one place."""

from __future__ import annotations
from coach.i18n import _

import math


def whole_minutes_seconds(seconds: float) -> tuple[int, int]:
    """A length rounded to whole seconds, split into minutes and seconds."""
    return divmod(max(0, int(round(seconds))), 60)


def clock(seconds: float) -> str:
    """Whole seconds as m:ss (or h:mm:ss from an hour on), halves rounded up: "7:07"."""
    total = max(0, math.floor(seconds + 0.5))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def cue_stamp(seconds: float) -> str:
    """A cue time as mm:ss.mmm (h:mm:ss.mmm from an hour on), as `coach plan` lists them."""
    ms = max(0, math.floor(seconds * 1000 + 0.5))
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    text = f"{minutes:02d}:{ms // 1000:02d}.{ms % 1000:03d}"
    return f"{hours}:{text}" if hours else text


def hms_stamp(seconds: float, separator: str = ".") -> str:
    """HH:MM:SS.mmm (chapters, WebVTT) or, with separator ",", HH:MM:SS,mmm (SRT); halves round up."""
    ms = max(0, math.floor(seconds * 1000 + 0.5))
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{ms:03d}"


def about_minutes(seconds: float) -> str:
    """A rough length for listings: "about 7 min"."""
    return _("about {minutes} min").format(minutes=max(1, round(seconds / 60)))
