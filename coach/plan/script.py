"""The coaching script: every sentence coach says, made in one place from the phrase pack of a language."""

from __future__ import annotations

import functools
import string
from typing import Mapping, Sequence

from coach.plan.cldr import format_list, plural_rule
from coach.errors import OptionError
from coach.plan.phrases import REFERENCE, Pack, load_pack, pack_language, pack_languages
from coach.routine import Exercise, Routine
from coach.timefmt import whole_minutes_seconds
from coach.i18n import _


class Script:
    """Every sentence coach says in one language: the phrases of its pack, filled in."""

    def __init__(self, pack: Pack):
        self.pack, self.language = pack, pack.language
        self._formatter = _Formatter(self)
        self._said: dict[tuple, str] = {}  # the planner asks for the same counts and rep numbers again and again
        self.HOLD, self.RELEASE = self.say("hold"), self.say("release")
        self.GO, self.STOP = self.say("go"), self.say("stop")
        self.GET_READY = self.say("get_ready")
        self.LAST_ONE = self.say("last_one")  # said before the last rep of a set, on each side
        self.LAST = self.say("last")  # the same, for a rest too short for two words
        self.BEGIN = self.say("begin")
        self.PAIN_QUESTION = self.say("pain_question")
        self.VOICE_SAMPLE = self.say("voice_sample")  # what `coach voices --sample` says with each voice

    # -- the one formatter ------------------------------------------------------------------
    def say(self, key: str, n: float | None = None, **values: object) -> str:
        """The phrase `key` with its placeholders filled; a plural phrase takes its form from `n`."""
        # 1, 1.0 and True are equal keys but may be said differently, so each value's type is in the key too
        memo_key = (key, n, type(n), *((name, value, type(value)) for name, value in values.items()))
        try:
            return self._said[memo_key]
        except KeyError:
            pass
        except TypeError:  # a value that cannot be a key: fill the phrase in without remembering it
            memo_key = None
        phrase = self.pack.phrases[key]
        template = phrase if isinstance(phrase, str) else self._form(phrase, n)
        text = self._formatter.fill(template, dict(values, n=n))
        if memo_key is not None:
            self._said[memo_key] = text
        return text

    def _form(self, forms: Mapping[str, str], n: float | None) -> str:
        """The plural form for n: an exact "=n" form, else n's CLDR category, else "other"."""
        if n is None:
            raise ValueError("a plural phrase needs n")
        n = _whole(n)
        exact = forms.get(f"={n}") if isinstance(n, int) else None
        return exact if exact is not None else forms.get(plural_rule(self.pack.locale)(n), forms["other"])

    def number(self, value: float, form: str = "") -> str:
        """A number as spoken: its word in the pack's table `form` (capitalised if `form` is), else digits."""
        value = _whole(value)
        word = self.pack.numbers[form.lower()].get(value) if form and isinstance(value, int) else None
        if word is not None:
            return word[:1].upper() + word[1:] if form[:1].isupper() else word
        if isinstance(value, int):
            return str(value)
        from babel.numbers import format_decimal

        return format_decimal(value, locale=self.pack.locale, group_separator=False)

    def join(self, items: Sequence[str]) -> str:
        """A list in the language's way: "a, b and c"."""
        return format_list(list(items), self.pack.locale)

    def side(self, side: str) -> str:
        """A side as said inside a sentence."""
        return side if side.lower().startswith(self.pack.side_as_given) else self.say("side", side=side)

    def seconds(self, seconds: float) -> str:
        """A length in seconds, in words around the number."""
        return self.say("seconds", n=seconds)

    # -- the sentences ----------------------------------------------------------------------
    def count(self, number: int) -> str:
        """A spoken count number."""
        return self.say("count", n=number)

    def seconds_left(self, seconds: int) -> str:
        """A marker in a long hold or work period."""
        return self.say("seconds_left", n=seconds)

    def intro_lines(self, routine: Routine, minutes: int) -> list[str]:
        """What is said before the first exercise."""
        lines = [_sentence(routine.title)] + ([routine.summary] if routine.summary else [])
        lines.append(self.say("intro_length", n=max(1, minutes)))
        if routine.equipment:
            lines.append(self.say("equipment", items=self.join(routine.equipment)))
        return lines + ([routine.caution] if routine.caution else []) + [self.BEGIN]

    def exercise_lines(self, routine: Routine, index: int, ex: Exercise) -> list[str]:
        """The announcement of an exercise: position, name, instructions, dose and first side."""
        lines = [self.say("exercise", index=index, total=len(routine.exercises), name=_sentence(ex.name)),
                 ex.instructions, self.dose(ex)]
        if ex.sides:
            lines.append(self.say("first_side", side=self.side(ex.sides[0])))
        return lines

    def dose(self, ex: Exercise) -> str:
        """The dose of an exercise in one sentence."""
        if ex.hold_s is not None:
            text = self.say("dose_hold", seconds=self.seconds(ex.hold_s), times=self.say("times", n=ex.reps))
        else:
            text = self.say("dose_work", seconds=self.seconds(ex.work_s))  # type: ignore[arg-type]
            text += self.say("dose_rounds", n=ex.reps) if ex.reps > 1 else ""
        if ex.reps > 1 and ex.rest_given:
            text += self.say("dose_rest", rest=self.seconds(ex.rest_s))
        if ex.sets > 1:
            text += self.say("dose_sets", n=ex.sets)
        if len(ex.sides) > 1:
            text += self.say("dose_sides", sides=functools.reduce(
                lambda before, after: self.say("then", before=before, after=after), ex.sides))
        return text + "."

    def switch_side(self, side: str) -> str:
        """Said when the exercise moves on to the next side."""
        return self.say("switch_side", side=self.side(side))

    def set_start(self, set_number: int, sets: int) -> str:
        """Said when a new set begins."""
        return self.say("set_start", set=set_number, sets=sets)

    def next_rep(self, rep: int, reps: int, kind: str) -> str:
        """Said in a rest with room to spare: which rep comes next (kind is "hold" or "work")."""
        return self.say(f"next_rep_{kind}", rep=rep, reps=reps)

    def last_rep(self, reps: int, kind: str) -> str:
        """Said in a rest with room to spare, before the last rep of a set."""
        return self.say(f"last_rep_{kind}", reps=reps)

    def rep_number(self, rep: int) -> str:
        """The shortest way to say which rep comes next: the number alone."""
        return self.say("rep_number", n=rep)

    def halfway_next(self, rep: int, reps: int, kind: str) -> str:
        """The halfway mark of a long series, with the next rep, where there is room."""
        return self.say("halfway_next", next=self.next_rep(rep, reps, kind))

    def halfway_number(self, rep: int) -> str:
        """The halfway mark of a long series, with the next rep's number alone."""
        return self.say("halfway_number", n=rep)

    def exercise_done(self, name: str, reps: int, kind: str, sides: int) -> str:
        """The wrap-up of an exercise: how many reps (per side, over all sets) were done."""
        if reps == 1:
            return self.say("exercise_done_named", name=name.rstrip(".!?"))
        return self.say(f"exercise_done_{kind}" + ("_sides" if sides > 1 else ""), n=reps)

    def next_set(self, set_number: int, sets: int) -> str:
        """Said in a set rest: which set comes next."""
        return self.say("next_set", set=set_number, sets=sets)

    def next_exercise(self, ex: Exercise) -> str:
        """Said in the rest between exercises."""
        return self.say("next_exercise", name=_sentence(ex.name))

    def close_lines(self, routine: Routine, elapsed_s: float, skipped: Sequence[str] = ()) -> list[str]:
        """What is said at the end: how much was done, the time it took, how often to come back."""
        lines = [self.close_skipped(list(skipped), len(routine.exercises)),
                 self.say("elapsed", duration=self.duration(elapsed_s))]
        if routine.frequency:
            unit, low, high = routine.frequency
            times = self.say("aim_times", n=low) if low == high else self.say("aim_range", low=low, high=high)
            lines.append(self.say(f"aim_{unit}", times=times))
        return lines + [self.say("goodbye")]

    def close_done_all(self, exercises: int) -> str:
        """The close when every exercise was done."""
        return self.say("close_done_all", n=exercises)

    def close_skipped(self, skipped: list[str], exercises: int) -> str:
        """The close when the exercises named in `skipped` were skipped (in a live session)."""
        if not skipped:
            return self.close_done_all(exercises)
        done = exercises - len(skipped)
        if done <= 0:
            return self.say("close_skipped_all")
        return self.say("close_skipped", n=done, total=exercises, skipped=self.join(skipped))

    def duration(self, seconds: float) -> str:
        """How long something took, in minutes and seconds."""
        minutes, secs = whole_minutes_seconds(seconds)
        parts = [self.say("minutes", n=minutes)] if minutes else []
        if secs or not minutes:
            parts.append(self.seconds(secs))
        return self.join(parts)

    # -- chapter titles ---------------------------------------------------------------------
    def intro_chapter(self) -> str:
        """The title of the introduction's chapter."""
        return self.say("chapter_intro")

    def exercise_chapter(self, index: int, name: str) -> str:
        """The title of an exercise's chapter."""
        return self.say("chapter_exercise", index=index, name=name)

    def close_chapter(self) -> str:
        """The title of the closing chapter."""
        return self.say("chapter_close")


class _Formatter(string.Formatter):
    """str.format, with numbers written by the script: {n} in digits, {n:words} from the pack's number table."""

    def __init__(self, script: Script):
        self.script = script

    def format_field(self, value: object, format_spec: str) -> str:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return self.script.number(value, format_spec)
        return super().format_field(value, format_spec)

    def fill(self, template: str, values: dict[str, object]) -> str:
        """The template filled in; plain {name} and {name:spec} fields skip str.format's slower machinery."""
        fields = _fields(template)
        if fields is None:
            return self.vformat(template, (), values)
        return "".join(literal if name is None else literal + self.format_field(values[name], spec)
                       for literal, name, spec in fields)


@functools.lru_cache(maxsize=1024)
def _fields(template: str) -> tuple[tuple[str, str | None, str], ...] | None:
    """The template's pieces (literal text, field name, format spec), or None if it uses more of str.format."""
    pieces = tuple(string.Formatter().parse(template))
    if any(name is not None and (not name.isidentifier() or conversion is not None or "{" in spec)
           for _, name, spec, conversion in pieces):
        return None
    return tuple((literal, name, spec) for literal, name, spec, _ in pieces)


def _whole(n: float) -> float:
    return int(n) if float(n).is_integer() else n


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else text + "."


@functools.cache
def for_language(language: str) -> Script:
    """The script for a language code (a regional code uses its language's pack); OptionError if coach has none."""
    code = pack_language(language)
    if code is None:
        available = ", ".join(pack_languages())
        raise OptionError("--language", _("coach has no phrases in {language} (available: {available})").format(language=repr(language), available=available))
    return Script(load_pack(code))


def english() -> Script:
    """The script in English, the language of the reference pack."""
    return for_language(REFERENCE)


def __getattr__(name: str):
    # script.HOLD, script.next_rep(...) and `from coach.script import PAIN_QUESTION` mean the English script.
    if name.startswith("_"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(english(), name)
