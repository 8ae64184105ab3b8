"""A routine's data: exercises with their doses, texts in each language, the session's nominal length."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from coach.errors import OptionError
from coach.i18n import _

MAX_SESSION_S = 4 * 3600  # a limit on the whole file's sum, which JSON Schema cannot state


@dataclass(frozen=True)
class Exercise:
    """One exercise of a routine, with its dose."""

    name: str
    instructions: str
    setup_s: float
    sides: tuple[str, ...]
    reps: int
    hold_s: int | None
    work_s: int | None
    rest_s: float
    rest_given: bool
    sets: int
    set_rest_s: float
    tips: tuple[str, ...]

    @property
    def dose_s(self) -> int:
        return self.hold_s if self.hold_s is not None else self.work_s  # type: ignore[return-value]

    @property
    def kind(self) -> str:
        return "hold" if self.hold_s is not None else "work"


@dataclass(frozen=True)
class ExerciseText:
    """The words of one exercise in one language: what a translation gives."""

    name: str
    instructions: str
    sides: tuple[str, ...]
    tips: tuple[str, ...]


@dataclass(frozen=True)
class RoutineText:
    """The words of a routine in one language, exercises in the routine's order; no doses."""

    title: str
    summary: str | None
    equipment: tuple[str, ...]
    caution: str | None
    exercises: tuple[ExerciseText, ...]


@dataclass(frozen=True)
class Routine:
    """A validated routine, its text in `language` and in each of its translations."""

    id: str
    title: str
    summary: str | None
    language: str
    equipment: tuple[str, ...]
    caution: str | None
    frequency: tuple[str, int, int] | None  # ("day"|"week", low, high)
    exercise_rest_s: float
    exercises: tuple[Exercise, ...]
    path: str
    # Lower-case language code -> the same text in that language; never the routine's own language.
    translations: Mapping[str, RoutineText] = field(default_factory=dict, hash=False)

    @property
    def languages(self) -> tuple[str, ...]:
        """Every language the routine can be coached in, its own included, sorted."""
        return tuple(sorted((self.language, *self.translations)))

    @property
    def text(self) -> RoutineText:
        """The routine's words in its own language."""
        return RoutineText(self.title, self.summary, self.equipment, self.caution,
                           tuple(ExerciseText(e.name, e.instructions, e.sides, e.tips) for e in self.exercises))


def in_language(routine: Routine, language: str) -> Routine:
    """The routine with every text in `language`, doses unchanged; fr-ca falls back to fr when there is no fr-ca."""
    wanted = language.strip().lower().replace("_", "-")
    texts = {routine.language: routine.text, **routine.translations}
    code = wanted if wanted in texts else wanted.split("-")[0]
    if code not in texts:
        raise OptionError("--language", _("{routine} has no {language} translation (available: {languages})").format(
            routine=routine.id, language=repr(language.strip()), languages=", ".join(sorted(texts))))
    if code == routine.language:
        return routine
    text = texts.pop(code)
    exercises = tuple(replace(ex, name=words.name, instructions=words.instructions, sides=words.sides, tips=words.tips)
                      for ex, words in zip(routine.exercises, text.exercises))
    return replace(routine, language=code, title=text.title, summary=text.summary, equipment=text.equipment,
                   caution=text.caution, exercises=exercises, translations=texts)


def nominal_duration_s(routine: Routine) -> float:
    """Seconds of doses, rests and set-up alone (no speech): a floor for the session length."""
    total = 0.0
    for ex in routine.exercises:
        one_set = ex.reps * ex.dose_s + (ex.reps - 1) * ex.rest_s
        per_side = ex.setup_s + ex.sets * one_set + (ex.sets - 1) * ex.set_rest_s
        total += max(1, len(ex.sides)) * per_side
    return total + (len(routine.exercises) - 1) * routine.exercise_rest_s
