"""The live status line: what the person is doing now, fitted to the terminal and rewritten in place.

Hand-written rather than rich's Live: the line is redrawn from the audio loop itself (no second thread
racing the key reader), it is one line, and fitting it means choosing which facts to drop, which a
generic renderer cannot know.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, replace
from typing import TextIO

from rich.cells import cell_len, set_cell_size

from coach.plan.model import Plan, Step, StepKind
from coach.terminal import printable
from coach.timefmt import clock
from coach.i18n import N_, _

MIN_WIDTH = 20  # below this the line is only the action
EXTRAS_KEEP = 20  # parts kept this little (the bar, "3/5") are dropped before any name is cut
MIN_NAME_CELLS = 12  # a name cut shorter than this says too little to be worth its room
BAR_CELLS = (6, 20)  # the session progress bar's narrowest and widest
SEPARATOR = " · "
# What each timed step is called on the line, by the step kind's value
_ACTIONS = {"hold": N_("hold {seconds} s"), "work": N_("work {seconds} s"), "rest": N_("rest {seconds} s"),
            "prepare": N_("get ready {seconds} s")}
ELLIPSIS = "…"


@dataclass(frozen=True)
class _Part:
    text: str
    keep: int  # higher is kept longer when the line must shrink
    shrinkable: bool = False  # may be cut short with an ellipsis instead of dropped


def _action(step: Step, position_s: float) -> str:
    """What the person is doing, in their words: listen, get ready, hold 4 s, rest 12 s."""
    left_s = max(0, int(step.end_s - position_s + 0.999))
    if step.kind in (StepKind.INTRO, StepKind.ANNOUNCE, StepKind.CLOSE):
        return _("listen")
    if step.kind is StepKind.PREPARE:
        return _("get ready {seconds} s").format(seconds=left_s)
    return _(_ACTIONS[step.kind.value]).format(seconds=left_s)


def _parts(plan: Plan, position_s: float, paused: bool, bar_cells: int) -> list[_Part]:
    step = plan.step_at(position_s)
    parts: list[_Part] = []
    if paused:
        parts.append(_Part(_("paused"), 100))
    if step is None:
        parts.append(_Part(_("starting"), 90))
    elif step.index is None:
        parts.append(_Part(_("introduction") if step.kind is StepKind.INTRO else _("finish"), 50))
    else:
        ex = plan.exercise(step.index)
        parts.append(_Part(f"{ex.position}/{len(plan.exercises)}", 20))
        parts.append(_Part(ex.name, 60, shrinkable=True))
        if step.side is not None and len(ex.sides) > 1:
            parts.append(_Part(step.side, 55, shrinkable=True))
        if ex.sets > 1 and step.set is not None:
            parts.append(_Part(_("set {set}/{sets}").format(set=step.set, sets=ex.sets), 30))
        if ex.reps > 1 and step.rep is not None and step.kind.is_dose:
            parts.append(_Part(_("rep {rep}/{reps}").format(rep=step.rep, reps=ex.reps), 70))
    if step is not None:
        parts.append(_Part(_action(step, position_s), 80))
        if step.next_index is not None:
            parts.append(_Part(_("next: {exercise}").format(exercise=plan.exercise(step.next_index).name), 35,
                               shrinkable=True))
    if bar_cells:
        done = round(bar_cells * position_s / plan.duration_s) if plan.duration_s else bar_cells
        parts.append(_Part("━" * done + "─" * (bar_cells - done), 10))
    parts.append(_Part(_("{time} left").format(time=clock(plan.duration_s - position_s)), 45))
    return parts


def _join(parts: list[_Part]) -> str:
    return SEPARATOR.join(p.text for p in parts)


def _shorten(text: str, cells: int) -> str:
    """text cut to at most `cells` terminal cells, ending in an ellipsis when cut."""
    if cell_len(text) <= cells:
        return text
    return set_cell_size(text, max(0, cells - 1)).rstrip() + ELLIPSIS if cells > 1 else ""


def status_text(plan: Plan, position_s: float, paused: bool = False, width: int = 80) -> str:
    """The status for a position, at most `width` cells: shortened, then least useful parts dropped."""
    position_s = min(max(position_s, 0.0), plan.duration_s)
    bar_cells = max(0, min(BAR_CELLS[1], width // 5))
    parts = [replace(p, text=printable(p.text))  # names and sides come from the routine file
             for p in _parts(plan, position_s, paused, bar_cells if bar_cells >= BAR_CELLS[0] else 0)]
    while cell_len(_join(parts)) > width and len(parts) > 1:
        over = cell_len(_join(parts)) - width
        least = min(parts, key=lambda p: p.keep)
        # The bar and the exercise count go before any name is cut; after them, a long name cut short
        # (to no fewer than MIN_NAME_CELLS) beats losing a part, when that is enough.
        cuttable = [p for p in parts if p.shrinkable and cell_len(p.text) - over >= MIN_NAME_CELLS]
        if cuttable and least.keep > EXTRAS_KEEP:
            target = min(cuttable, key=lambda p: p.keep)
            parts[parts.index(target)] = _Part(_shorten(target.text, cell_len(target.text) - over), target.keep)
        else:
            parts.remove(least)
    return _shorten(_join(parts), width)


class StatusLine:
    """One line on a terminal stream (stderr by default), rewritten in place; silent if not a terminal."""

    def __init__(self, stream: TextIO | None = None, width: int | None = None):
        self.stream = stream if stream is not None else sys.stderr
        self._fixed_width = width
        self._shown = ""
        isatty = getattr(self.stream, "isatty", None)
        self.enabled = bool(isatty and isatty())

    def width(self) -> int:
        """Cells available: the terminal's width now (it follows a resize), less the last column."""
        if self._fixed_width is not None:
            return self._fixed_width
        try:
            columns = os.get_terminal_size(self.stream.fileno()).columns
        except (AttributeError, OSError, ValueError):
            columns = 80
        # Writing into the last column makes some terminals wrap; stay one short of it.
        return max(MIN_WIDTH, columns - 1)

    def fit(self, text: str) -> str:
        """text cut to the terminal's width (unchanged when the stream is not a terminal)."""
        return _shorten(text, self.width()) if self.enabled else text

    def show_position(self, plan: Plan, position_s: float, paused: bool = False) -> None:
        """Shows the status of the plan at position_s, fitted to the terminal."""
        if self.enabled:
            self.show(status_text(plan, position_s, paused, self.width()))

    def show(self, text: str) -> None:
        """Replaces the line with text (nothing is written when it has not changed)."""
        if not self.enabled or text == self._shown:
            return
        # \x1b[2K clears the whole line, so a shorter text leaves nothing of the longer one behind.
        self.stream.write(f"\r\x1b[2K{text}")
        self.stream.flush()
        self._shown = text

    def clear(self) -> None:
        """Blanks the line and leaves the cursor at its start."""
        if self.enabled and self._shown:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
            self._shown = ""
