"""Fitting cues into a timed step: each cue offers ranked forms, and the most important forms win.

Pure and sentence-free: the planner says what it would like to sound and where; this module decides
which form of each cue is sounded and when, in whole samples, never overlapping and never cut.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import IntEnum

from coach.plan.model import SAMPLE_RATE, CueKind


class Priority(IntEnum):
    """Why a cue survives a short gap: lower values are placed first, so they are the ones kept.

    A cue may have several forms, each with its own rank: its plainest form (a beep, a bare number) is
    placed at a high rank, and a richer form (a spoken word, a longer sentence) replaces it later only
    if everything placed before it still fits. So a short rest keeps the next rep's number and gives
    up the spoken "Release." for the stop beep, and a long rest gets every sentence.
    """

    KEY = 0  # start and stop of a dose, "get ready": the person acts on them, so they sound at least as a beep
    COUNT = 1  # count-down numbers in a dose and in the set-up: they make the dose audible second by second
    REP = 2  # which rep comes next in its shortest form ("Four.", "Last one."): nobody on the mat loses count
    VOICE = 3  # the stop cue spoken ("Release.") rather than beeped: the beep means the same, the number does not
    MILESTONE = 4  # "Halfway, six.", "Ten reps done.": where the person stands, said once per series
    MARKER = 5  # the rest beep, the rest pips, "20 seconds left": the counts and the words already carry the time
    NEXT = 6  # the long forms: "Next: rep 3 of 10.", "Next: set 2 of 3.", the next exercise's name
    TIP = 7  # tips: welcome, never needed


@dataclass(frozen=True)
class Clip:
    """One way to sound a cue: a spoken text or a named sound, with its length."""

    kind: CueKind
    text: str | None
    sound: str | None
    duration_s: float
    length_frames: int


@dataclass
class Request:
    """A cue the planner would like to place: its forms, best first, each with the rank that keeps it."""

    forms: list[tuple[Priority, Clip]]
    at_frames: int  # the fixed start, or the earliest start of a free cue
    fixed: bool = True
    order: float = 0  # among equal ranks, lower is tried first (and said first among free cues of one seq)
    seq: int = 0  # free cues are said in this order, one after another
    latest_end_frames: int | None = None  # a free cue must end by then
    gap_frames: int = 0  # breathing room a free cue keeps from its neighbours, the step's end and barriers
    barrier: bool = False  # free cues must finish before this fixed cue (counts and pips close a step)
    required: bool = False  # the planner makes room for it if it cannot be placed
    chosen: int | None = field(default=None, init=False)  # index of the form placed, None if dropped


def frames(seconds: float) -> int:
    """Whole samples in `seconds`."""
    return round(seconds * SAMPLE_RATE)


def length_frames(seconds: float) -> int:
    """Samples a clip of `seconds` occupies: rounded up, with a hair of tolerance for exact counts."""
    return max(1, math.ceil(seconds * SAMPLE_RATE - 1e-6))


Layout = list[tuple[int, Clip]]


def fit(requests: list[Request], start: int, end: int, memo: dict | None = None) -> Layout:
    """Choose a form for each request and place it in frames [start, end); sets each `chosen`.

    Forms are tried from the highest rank down; a form is kept only if every form kept before it
    still fits, so a lower-ranked cue can never push out a higher-ranked one. The result only moves
    with `start` (as the requests do), so a `memo` dict, kept by the caller, answers a step seen before.
    """
    key = (end - start, tuple((tuple(r.forms), r.at_frames - start, r.fixed, r.order, r.seq, r.gap_frames, r.barrier,
                               None if r.latest_end_frames is None else r.latest_end_frames - start, r.chosen)
                              for r in requests))
    if memo is not None and (seen := memo.get(key)) is not None:
        chosen, layout = seen
        for request, f in zip(requests, chosen):
            request.chosen = f
        return [(start + at, clip) for at, clip in layout]
    attempts = sorted((rank, r.order, i, f) for i, r in enumerate(requests) for f, (rank, _) in enumerate(r.forms))
    # the fixed cues in time order and the free ones in the order they are said, as _layout takes them
    fixed = sorted((r for r in requests if r.fixed), key=lambda r: r.at_frames)
    free = sorted((r for r in requests if not r.fixed), key=lambda r: (r.seq, r.order))
    layout: Layout = []
    for _, _, i, f in attempts:
        request = requests[i]
        if request.chosen is not None and request.chosen <= f:
            continue
        before, request.chosen = request.chosen, f
        trial = _layout(fixed, free, start, end)
        if trial is None:
            request.chosen = before
        else:
            layout = trial
    if memo is not None:
        memo[key] = (tuple(r.chosen for r in requests), [(at - start, clip) for at, clip in layout])
    return layout


def _layout(fixed: list[Request], free: list[Request], start: int, end: int) -> Layout | None:
    """Where each chosen form sounds, or None if they do not all fit (`fixed` in time order, `free` in turn)."""
    out: Layout = []
    placed: list[tuple[int, int]] = []
    free_from, quiet_end = start, end
    for r in fixed:
        if r.chosen is not None:
            at, clip = r.at_frames, r.forms[r.chosen][1]
            if at < free_from:  # before the step or on the previous fixed cue
                return None
            out.append((at, clip))
            free_from = at + clip.length_frames
            placed.append((at, free_from))
            if r.barrier and at < quiet_end:
                quiet_end = at
    if placed and free_from > end:
        return None
    previous_end = None
    for r in free:
        if r.chosen is None:
            continue
        clip, gap = r.forms[r.chosen][1], r.gap_frames
        earliest = r.at_frames if previous_end is None else max(r.at_frames, previous_end + gap)
        limit = min(end - gap, quiet_end - gap, end if r.latest_end_frames is None else r.latest_end_frames)
        at = _first_free(earliest, clip.length_frames, gap, placed, limit)
        if at is None:
            return None
        out.append((at, clip))
        previous_end = at + clip.length_frames
    return out


def _first_free(earliest: int, length: int, gap: int, placed: list[tuple[int, int]], limit: int) -> int | None:
    """The first start from `earliest` where `length` frames keep `gap` from every fixed cue and end by `limit`.

    `placed` is in time order and does not overlap, so one sweep finds it: a cue in the way moves the
    start to just after it, and no cue before it can be in the way again.
    """
    at = earliest
    for a, b in placed:
        if at + length + gap <= a:
            break
        if at < b + gap:
            at = b + gap
    return at if at + length <= limit else None
