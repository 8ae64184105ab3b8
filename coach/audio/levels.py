"""The levels coach aims at, and the check of the `loudness` setting; no numpy, so any command may import it."""

from __future__ import annotations

from coach.errors import OptionError
from coach.i18n import _

# -19 LUFS integrated for a mono file is the spoken-word target for phones and podcasts (AES TD1004:
# -16 LUFS for stereo; a mono file on two earbuds plays 3 dB louder).
DEFAULT_LOUDNESS_LUFS = -19.0
MIN_LOUDNESS_LUFS = -30.0  # quieter and a phone at full volume can hardly bring the voice up
MAX_LOUDNESS_LUFS = -12.0  # louder and the limiter would have to flatten speech audibly
# Clips are kept at this loudness: low enough that no voice clips in 16 bits before the limiter
# (speech peaks some 15-20 dB above its loudness), high enough that 16 bits stay far below hearing.
SPEECH_CLIP_LUFS = -26.0
# Beeps sound this far from the voice, measured while they sound: clearly heard, never startling
# (the aim is -9 to +3 LU of the voice).
BEEP_OFFSET_LU = -3.0


def check_loudness(value: float, option: str = "--loudness") -> float:
    """The loudness target in LUFS if it is a number within the sane range, else OptionError naming option."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise OptionError(option, _("must be a number of LUFS, got {value}").format(value=repr(value)))
    if not MIN_LOUDNESS_LUFS <= value <= MAX_LOUDNESS_LUFS:
        raise OptionError(option, _("{value} LUFS is outside {low}..{high}").format(
            value=f"{value:g}", low=f"{MIN_LOUDNESS_LUFS:g}", high=f"{MAX_LOUDNESS_LUFS:g}"))
    return float(value)
