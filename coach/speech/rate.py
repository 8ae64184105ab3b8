"""The speaking rate an engine is asked for, so that speech comes out at the words per minute the user chose.

Engines read "rate" their own way: espeak-ng speaks 15-45 % faster than its rate parameter says, and
more so in some languages than in others. An engine's calibration is a short table of (asked wpm,
engine rate) points per language, measured on coach's own sentences (scripts/bench --sound measures
it again); between points the rate is interpolated. A new engine adds its own table under its name;
an engine without one is taken at its word.
"""

from __future__ import annotations

import re

# engine name -> language (its primary subtag) -> ((asked wpm, engine rate), ...), asked ascending.
# "*" serves the languages a table does not name. Engine rates under espeak-ng's floor of 80 are
# spoken at 80 with longer gaps between words (see coach.speech.worker).
CALIBRATION: dict[str, dict[str, tuple[tuple[int, float], ...]]] = {
    "pyttsx3": {  # espeak-ng 1.51, measured on the built-in routines' instructions
        "en": ((80, 71.0), (160, 146.0), (300, 268.0), (400, 344.0)),
        "fr": ((80, 68.0), (160, 140.0), (300, 258.0), (400, 343.0)),
        "de": ((80, 74.0), (160, 158.0), (300, 298.0), (400, 397.0)),
        "es": ((80, 77.0), (160, 166.0), (300, 350.0), (400, 438.0)),
        "*": ((80, 71.0), (160, 146.0), (300, 268.0), (400, 344.0)),
    },
}

CALIBRATION_VERSION = 2  # part of every clip's cache key: a change to how rates are made renders anew
_WORD = re.compile(r"\w", re.UNICODE)
CRISP_MAX_WORDS = 2  # counts and short cues ("Three", "Next set") keep the engine's own brisk rate


# The slowest rate each engine speaks at by itself; coach asks for less only to get longer pauses.
ENGINE_FLOOR_WPM = {"pyttsx3": 80}


def rate_for_text(engine: str, language: str | None, asked_wpm: int, text: str) -> int:
    """engine_rate() for sentences; the asked rate for counts and short cues, unless the session's rate
    is under the engine's floor (then all its texts share one rate, and the engine one setting)."""
    calibrated = engine_rate(engine, language, asked_wpm)
    if word_count(text) <= CRISP_MAX_WORDS and calibrated >= ENGINE_FLOOR_WPM.get(engine, 0):
        return asked_wpm
    return calibrated


def engine_rate(engine: str, language: str | None, asked_wpm: int) -> int:
    """The rate to ask `engine` for so that it speaks `asked_wpm` words a minute in `language`."""
    table = CALIBRATION.get(engine)
    if not table:
        return asked_wpm
    primary = (language or "").split("-")[0].lower()
    points = table.get(primary) or table.get("*")
    if not points:
        return asked_wpm
    return round(_interpolate(points, asked_wpm))


def _interpolate(points: tuple[tuple[int, float], ...], x: float) -> float:
    if x <= points[0][0]:
        return points[0][1] * x / points[0][0]
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        if x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return points[-1][1] * x / points[-1][0]


def word_count(text: str) -> int:
    """The words in a sentence: whitespace-separated pieces with a letter or digit in them."""
    return sum(1 for piece in text.split() if _WORD.search(piece))


def measured_wpm(texts_and_seconds: list[tuple[str, float]]) -> float:
    """Words per minute over sentences and their spoken lengths (the clip less its edge padding)."""
    words = sum(word_count(text) for text, _ in texts_and_seconds)
    seconds = sum(s for _, s in texts_and_seconds)
    return 60.0 * words / seconds if seconds > 0 else 0.0
