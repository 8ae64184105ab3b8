"""Where live playback goes: --from, resuming after a pause, `n` and `p`, and where a buffer ends."""

from __future__ import annotations

from coach.errors import OptionError
from coach.plan.model import SAMPLE_RATE, CueKind, Plan, StepKind, to_samples
from coach.i18n import _

WINDOW_S = 1800.0  # longest stretch mixed ahead of the listener
BACK_GRACE_S = 3.0  # `p` within this long of an exercise's start goes to the previous exercise


def start_position_s(plan: Plan, exercise: str | int | None) -> float:
    """Where --from starts: a 1-based exercise number or name (case-insensitive); None is the start."""
    if exercise is None:
        return 0.0
    chapters = plan.exercise_chapters()
    names = [plan.exercise(c.exercise).name for c in chapters]  # type: ignore[arg-type]
    choices = ", ".join(f"{i} {name}" for i, name in enumerate(names, 1)) or "(no exercises)"
    text = str(exercise).strip()
    if isinstance(exercise, int) or text.isdigit():
        number = int(text)
        if 1 <= number <= len(chapters):
            return chapters[number - 1].start_s
        raise OptionError("--from", _("no exercise number {number}; choose from: {choices}").format(number=number, choices=choices))
    for chapter, name in zip(chapters, names):
        if text.casefold() in (name.casefold(), chapter.title.casefold()):
            return chapter.start_s
    raise OptionError("--from", _("no exercise named {text}; choose from: {choices}").format(text=repr(text), choices=choices))


def resume_position_s(plan: Plan, position_s: float) -> float:
    """Where playback resumes after a pause at position_s: holds/work restart, cut cues restart."""
    target = position_s
    for step in plan.steps:
        if step.kind.is_dose and step.start_s < target < step.end_s:
            target = step.start_s
            break
    for cue in plan.cues:
        if cue.at_s < target < cue.end_s:
            target = cue.at_s
            break
    return target


def next_position_s(plan: Plan, position_s: float) -> float:
    """Where `n` goes: the next chapter's start, or the session's end after the last one."""
    for chapter in plan.chapters:
        if chapter.start_s > position_s + 1e-6:
            return chapter.start_s
    return plan.duration_s


def previous_position_s(plan: Plan, position_s: float) -> float:
    """Where `p` goes: this chapter's start, or the previous one's when within BACK_GRACE_S of it."""
    current = None
    for i, chapter in enumerate(plan.chapters):
        if chapter.start_s <= position_s + 1e-6:
            current = i
    if current is None:
        return 0.0
    if position_s - plan.chapters[current].start_s < BACK_GRACE_S and current > 0:
        current -= 1
    return plan.chapters[current].start_s


def seam_position_s(plan: Plan, start_s: float, window_s: float = WINDOW_S) -> float:
    """Where a buffer starting at start_s ends: mid-way in the longest silence of the window's second half."""
    limit_s = start_s + window_s
    if limit_s >= plan.duration_s:
        return plan.duration_s
    best_s, best_gap_s = limit_s, -1.0
    edges = [(start_s, start_s)] + [(c.at_s, c.end_s) for c in plan.cues if c.end_s > start_s and c.at_s < limit_s]
    edges.append((limit_s, limit_s))
    edges.sort()
    silence_from_s = start_s
    for at_s, end_s in edges:
        lo, hi = max(silence_from_s, start_s + window_s / 2), min(at_s, limit_s)
        if hi - lo >= best_gap_s:  # the later of equal silences: longer windows, fewer seams
            best_gap_s, best_s = hi - lo, (lo + hi) / 2
        silence_from_s = max(silence_from_s, end_s)
    return to_samples(best_s) / SAMPLE_RATE  # on a frame, so buffer lengths and positions agree


def wait_points_s(plan: Plan, min_silence_s: float = 0.1) -> list[float]:
    """Where live playback may wait for sentences still being made, in time order: mid-way in the silence
    before a sentence of the introduction, an announcement or the close (not a step's first sound, which
    may end a count-down or a hold), and before a set-up's "get ready". Never inside a hold or count-down."""
    talk, prepare = (StepKind.INTRO, StepKind.ANNOUNCE, StepKind.CLOSE), StepKind.PREPARE
    starts = {to_samples(s.start_s): s for s in plan.steps}
    points, step, heard_until_s = [], None, 0.0
    steps = iter(plan.steps)
    for cue in plan.cues:
        while step is None or cue.at_s >= step.end_s - 1e-9:
            step = next(steps, None)
            if step is None:
                return points
        begins = starts.get(to_samples(cue.at_s))
        waits = ((step.kind in talk and cue.kind == CueKind.SPEECH and cue.at_s > step.start_s + 1e-9)
                 or (begins is not None and begins.kind == prepare))
        if waits and cue.at_s - heard_until_s >= min_silence_s:
            points.append(to_samples((heard_until_s + cue.at_s) / 2) / SAMPLE_RATE)
        heard_until_s = max(heard_until_s, cue.end_s)
    return points
