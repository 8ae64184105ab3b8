"""The coaching script: every sentence coach says, in one place."""

from __future__ import annotations

from coach.routine import Exercise, Routine
from coach.timefmt import whole_minutes_seconds

HOLD = "Hold."
RELEASE = "Release."
GO = "Go."
STOP = "Stop."
GET_READY = "Get ready."
LAST_ONE = "Last one."  # said before the last rep of a set, on each side
LAST = "Last."  # the same, for a rest too short for two words
BEGIN = "Let's begin."
PAIN_QUESTION = "How much pain do you feel now, from 0 (none) to 10 (worst imaginable)?"
VOICE_SAMPLE = "Hold. 3, 2, 1. Release."  # what `coach voices --sample` says with each voice


def count(number: int) -> str:
    """A spoken count number."""
    return str(number)


def seconds_left(seconds: int) -> str:
    """A marker in a long hold or work period."""
    return f"{seconds} seconds left."


def intro_lines(routine: Routine, minutes: int) -> list[str]:
    """What is said before the first exercise."""
    lines = [f"{_sentence(routine.title)}"]
    if routine.summary:
        lines.append(routine.summary)
    lines.append("This session takes about one minute." if minutes <= 1
                 else f"This session takes about {minutes} minutes.")
    if routine.equipment:
        lines.append(f"You will need {_join(routine.equipment)}.")
    if routine.caution:
        lines.append(routine.caution)
    lines.append(BEGIN)
    return lines


def exercise_lines(routine: Routine, index: int, ex: Exercise) -> list[str]:
    """The announcement of an exercise: position, name, instructions, dose and first side."""
    lines = [f"Exercise {index} of {len(routine.exercises)}: {_sentence(ex.name)}", ex.instructions, dose(ex)]
    if ex.sides:
        lines.append(f"Start with {_side(ex.sides[0])}.")
    return lines


def dose(ex: Exercise) -> str:
    """The dose of an exercise in one sentence."""
    times = "once" if ex.reps == 1 else f"{ex.reps} times"
    if ex.hold_s is not None:
        text = f"Hold for {ex.hold_s} seconds, {times}"
    else:
        text = f"Keep going for {ex.work_s} seconds" + ("" if ex.reps == 1 else f", {ex.reps} rounds")
    if ex.reps > 1 and ex.rest_given:
        text += f", with {_secs(ex.rest_s)} of rest in between"
    if ex.sets > 1:
        text += f"; {ex.sets} sets"
    if len(ex.sides) > 1:
        text += "; " + ", then ".join(ex.sides)
    return text + "."


def switch_side(side: str) -> str:
    """Said when the exercise moves on to the next side."""
    return f"Now {_side(side)}."


def set_start(set_number: int, sets: int) -> str:
    """Said when a new set begins."""
    return f"Set {set_number} of {sets}."


def next_rep(rep: int, reps: int, kind: str) -> str:
    """Said in a rest with room to spare: which rep comes next (kind is "hold" or "work")."""
    return f"Next: {_rep_word(kind)} {rep} of {reps}."


def last_rep(reps: int, kind: str) -> str:
    """Said in a rest with room to spare, before the last rep of a set."""
    return f"Last one: {_rep_word(kind)} {reps} of {reps}."


def rep_number(rep: int) -> str:
    """The shortest way to say which rep comes next: the number alone."""
    return f"{_number(rep).capitalize()}."


def halfway_next(rep: int, reps: int, kind: str) -> str:
    """The halfway mark of a long series, with the next rep, where there is room."""
    return f"Halfway. {next_rep(rep, reps, kind)}"


def halfway_number(rep: int) -> str:
    """The halfway mark of a long series, with the next rep's number alone."""
    return f"Halfway, {_number(rep)}."


def exercise_done(name: str, reps: int, kind: str, sides: int) -> str:
    """The wrap-up of an exercise: how many reps (per side, over all sets) were done."""
    if reps == 1:
        return f"{name.rstrip('.!?')} done."
    noun = "reps" if kind == "hold" else "rounds"
    return f"{_number(reps).capitalize()} {noun} done" + (" on each side." if sides > 1 else ".")


def next_set(set_number: int, sets: int) -> str:
    """Said in a set rest: which set comes next."""
    return f"Next: set {set_number} of {sets}."


def next_exercise(ex: Exercise) -> str:
    """Said in the rest between exercises."""
    return f"Next: {_sentence(ex.name)}"


def close_lines(routine: Routine, elapsed_s: float) -> list[str]:
    """What is said at the end: all of it was done, the time it took, how often to come back."""
    lines = [close_done_all(len(routine.exercises)), f"You have been going for {_duration(elapsed_s)}."]
    if routine.frequency:
        unit, low, high = routine.frequency
        times = _times(low) if low == high else f"{low} to {high} times"
        lines.append(f"Aim to do this routine {times} a {unit}.")
    lines.append("See you next time.")
    return lines


def close_done_all(exercises: int) -> str:
    """The close when every exercise was done."""
    if exercises == 1:
        return "That's the whole routine. Well done!"
    return f"That's the whole routine: all {_number(exercises)} exercises. Well done!"


def close_skipped(skipped: list[str], exercises: int) -> str:
    """The close when the exercises named in `skipped` were skipped (in a live session)."""
    if not skipped:
        return close_done_all(exercises)
    done = exercises - len(skipped)
    if done <= 0:
        return "You skipped every exercise this time."
    return (f"You did {_number(done)} of {_number(exercises)} exercises and skipped {_join(tuple(skipped))}. "
            "Well done!")


_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
         "sixteen seventeen eighteen nineteen").split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()


def _number(n: int) -> str:
    """A whole number in words, up to one hundred (digits beyond)."""
    if 0 <= n < 20:
        return _ONES[n]
    if 20 <= n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens - 2] + (f"-{_ONES[ones]}" if ones else "")
    return "one hundred" if n == 100 else str(n)


def _rep_word(kind: str) -> str:
    return "rep" if kind == "hold" else "round"


def _times(n: int) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{n} times")


def _secs(seconds: float) -> str:
    value = f"{seconds:g}"
    return "1 second" if value == "1" else f"{value} seconds"


def _duration(seconds: float) -> str:
    minutes, secs = whole_minutes_seconds(seconds)
    parts = []
    if minutes:
        parts.append("1 minute" if minutes == 1 else f"{minutes} minutes")
    if secs or not minutes:
        parts.append("1 second" if secs == 1 else f"{secs} seconds")
    return " and ".join(parts)


def _side(side: str) -> str:
    lowered = side.lower()
    return side if lowered.startswith(("the ", "your ", "my ")) else "the " + side


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else text + "."


def _join(items: tuple[str, ...]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
