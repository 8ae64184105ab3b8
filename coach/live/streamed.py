"""Live playback of a session whose sentences are still being made (see coach.streaming).

The buffer simpleaudio plays is read from our memory as it plays (its writer thread copies from it a
device buffer at a time), so one buffer is started for the whole window and filled in further, well ahead
of the play head, each time the stream says more of the session is final: one stream, no hand-off, every
cue where the export puts it. When the play head reaches the end of what is filled (a wait point: a
silence between sentences, never in a hold or a count-down) the session waits there, stopped, and goes on
from that very position once the sentences after it are made. Pause, next, previous and quit work as
ever; a jump past what is made waits at its target (a chapter, found again in each newer plan).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from coach.live.player import DUE_S, mix_pcm16, BufferPlayer
from coach.live.progress import Progress
from coach.plan.model import SAMPLE_RATE, Plan, to_samples
from coach.plan.positions import seam_position_s

FILL_AHEAD_S = 0.5  # audio is only written this far or more ahead of the play head (the device reads ahead)
FIRST_FILL_S = 20.0  # a buffer started with the whole session known holds this much before it plays
TOP_UP_S = 30.0  # and is then mixed this much further on each turn of the live loop
URGENT_S = 3.0  # closer than this to the end of what is made, the stream is asked on every turn
TAIL_S = 0.3  # after the end, how long a padded buffer plays on before it is stopped
SPARE = 1.5  # a buffer started before the plan is final holds this much more than the estimated session

Stream = Callable[[bool], "tuple[Plan, object, float, bool] | None"]
Waited = Callable[[float, float], None]


class StreamingPlayer(BufferPlayer):
    """A BufferPlayer that plays only what is made (up to horizon_s) and waits, stopped, where it ends."""

    def __init__(self, *args, horizon_s: float = 0.0, final: bool = False, waited: Waited | None = None):
        super().__init__(*args)
        self.horizon_s, self.final, self._waited = horizon_s, final, waited
        self.waiting_at: float | None = None  # where the session waits for its sentences
        self._waiting_chapter: int | None = None  # a jump's target, found again in newer plans
        self._wait_began = 0.0
        self._buffer: np.ndarray | None = None  # the sounding buffer while it is being filled in
        self._buffer_frame = 0  # the session frame its first sample is
        self._filled = 0  # the session frame up to which it holds the mix
        self.padded = False  # a buffer longer than the session is playing
        self.waits_s: list[tuple[float, float]] = []  # (where, how long) of each wait
        self._fresh = False  # mixing for play_from (not for the buffer after a seam)

    # -- what plays ----------------------------------------------------------------------------------------
    def _mix(self, start_s: float) -> tuple[float, float, np.ndarray]:
        if self.final and not self._fresh:  # the buffer after a seam, mixed ahead as ever
            return super()._mix(start_s)
        if self.final:  # a buffer started now is mixed a stretch at a time while it plays (top_up)
            seam_s = seam_position_s(self.plan, start_s, self.window_s)
            horizon_s = min(seam_s, _silent_from(self.plan, start_s + FIRST_FILL_S))
        else:
            estimate_s = self.plan.duration_s
            seam_s = to_samples(min(start_s + self.window_s, max(estimate_s * SPARE, estimate_s + 60.0))) / SAMPLE_RATE
            horizon_s = self.horizon_s
        start, end = to_samples(start_s), to_samples(seam_s)
        frames = np.zeros(end - start, dtype=np.int16)
        filled = max(start, min(to_samples(horizon_s), end, self.mixer.total_frames))
        frames[:filled - start] = mix_pcm16(self.mixer, start, filled)
        self._buffer, self._buffer_frame, self._filled, self.padded = frames, start, filled, not self.final
        return start_s, seam_s, frames

    def top_up(self) -> None:
        """Mix the next stretch of a buffer started with the whole session known (a quick first sound)."""
        if self._buffer is None or not self.sounding or self.waiting_at is not None:
            return
        end = self._end_frame()
        lo = self._filled
        hi = min(to_samples(_silent_from(self.plan, lo / SAMPLE_RATE + TOP_UP_S)), end)
        if hi > lo and lo / SAMPLE_RATE - self.position_s() >= FILL_AHEAD_S:
            self._buffer[lo - self._buffer_frame:hi - self._buffer_frame] = mix_pcm16(self.mixer, lo, hi)
            self._filled = hi
        if self._filled >= end:
            self._buffer = None

    def _start(self, start_s: float, seam_s: float, frames: np.ndarray, lead_in_s: float = 0.0) -> None:
        lead = to_samples(lead_in_s)
        if lead:  # the lead-in joins the buffer itself, so filling in the buffer reaches what plays
            whole = np.zeros(lead + len(frames), dtype=np.int16)
            whole[lead:] = frames
            if frames is self._buffer:
                self._buffer = whole[lead:]
            frames = whole
        self.sounding.append(self.output.play(frames))
        self.started_at = self.clock.now() + lead / SAMPLE_RATE
        self.base_s, self.seam_s = start_s, seam_s
        self._next = None

    def play_from(self, start_s: float) -> None:
        """Plays from start_s, or waits there when the session is not made that far yet."""
        self.stop()
        if not self.final and start_s >= self.horizon_s - DUE_S:
            self._wait(start_s, _chapter_at(self.plan, start_s))
            return
        self._fresh = True
        try:
            super().play_from(start_s)
        finally:
            self._fresh = False

    def position_s(self) -> float:
        """The audio position; while waiting, where the session waits."""
        return self.waiting_at if self.waiting_at is not None else super().position_s()

    def prepare_next(self) -> None:
        """The buffer after a seam is only mixed ahead once the whole session is known and this one mixed."""
        if self.final and self._buffer is None:
            super().prepare_next()

    def hand_off_if_due(self) -> None:
        """At the end of what is made, stop and wait; else as BufferPlayer."""
        if self.waiting_at is not None:
            return
        if self._buffer is not None and self.sounding:
            if self.position_s() >= self._filled / SAMPLE_RATE - DUE_S and self._filled < self._end_frame():
                at_s = self._filled / SAMPLE_RATE
                self._wait(at_s, None)
                if self.final:  # made by now, but too late to fill in: a fresh stream from here
                    self.extend(self.plan, self.mixer, self.plan.duration_s, True)
                return
            if not self.final:
                return
        super().hand_off_if_due()

    def drained(self) -> bool:
        """True once nothing sounds; a padded buffer is stopped a moment after the session's end."""
        if self.padded and self.sounding and self.position_s() >= self.plan.duration_s + TAIL_S:
            super().stop()
        return super().drained()

    def stop(self) -> None:
        """Silences every buffer; a wait in progress is called off."""
        super().stop()
        self.waiting_at, self._waiting_chapter = None, None

    # -- more of the session -------------------------------------------------------------------------------
    def extend(self, plan: Plan, mixer, horizon_s: float, final: bool) -> None:
        """The stream made the session final up to horizon_s (all of it when final): play on into it."""
        self.plan, self.mixer, self.horizon_s, self.final = plan, mixer, horizon_s, final
        if self.waiting_at is not None:
            target_s = self.waiting_at
            if self._waiting_chapter is not None:
                target_s = plan.chapters[self._waiting_chapter].start_s
                self.waiting_at = target_s
            if final or target_s < horizon_s - DUE_S:
                waited_s = self.clock.now() - self._wait_began
                self.waits_s.append((target_s, waited_s))
                if self._waited is not None:
                    self._waited(target_s, waited_s)
                self.play_from(target_s)
            return
        if self._buffer is None or not self.sounding:
            return
        lo = self._filled
        hi = min(to_samples(horizon_s), self._end_frame(), lo + to_samples(TOP_UP_S))  # the rest: top_up
        if hi > lo and lo / SAMPLE_RATE - self.position_s() >= FILL_AHEAD_S:
            self._buffer[lo - self._buffer_frame:hi - self._buffer_frame] = mix_pcm16(mixer, lo, hi)
            self._filled = hi
        if final:
            end_s = (self._buffer_frame + len(self._buffer)) / SAMPLE_RATE
            if plan.duration_s > end_s:  # longer than estimated: hand over in a silence of this buffer
                self.seam_s = seam_position_s(plan, self.base_s, end_s - self.base_s)
                self._cut_at_seam = True
            else:
                self.seam_s = plan.duration_s

    def _end_frame(self) -> int:
        return min(self.mixer.total_frames, self._buffer_frame + len(self._buffer)) if self._buffer is not None else 0

    def _wait(self, at_s: float, chapter: int | None) -> None:
        super().stop()
        self.waiting_at, self._waiting_chapter = at_s, chapter
        self._wait_began = self.clock.now()
        self._buffer, self.seam_s = None, math.inf  # no seam to hurry towards while waiting


def _silent_from(plan: Plan, at_s: float) -> float:
    """The first moment from at_s on where nothing sounds (so a buffer filled up to there ends in a silence)."""
    for cue in plan.cues:
        if cue.at_s <= at_s < cue.end_s:
            at_s = cue.end_s
    return to_samples(at_s) / SAMPLE_RATE + 1 / SAMPLE_RATE


def _chapter_at(plan: Plan, at_s: float) -> int | None:
    """The chapter that starts at at_s (where `n`, `p` and --from go), if one does."""
    for i, chapter in enumerate(plan.chapters):
        if abs(chapter.start_s - at_s) <= DUE_S:
            return i
    return None


class Feed:
    """Asks the stream for more of the session on each turn of the live loop, and passes it on."""

    def __init__(self, stream: Stream, progress: Progress | None = None, waited: Waited | None = None):
        self.stream, self.progress, self.waited = stream, progress, waited
        self.horizon_s, self.final = 0.0, False  # how far the session is made when it starts

    def player(self, plan: Plan, mixer, *args) -> StreamingPlayer:
        """The player run_session plays with."""
        return StreamingPlayer(plan, mixer, *args, horizon_s=self.horizon_s, final=self.final, waited=self.waited)

    def turn(self, player: StreamingPlayer) -> None:
        """One look at the stream: a newer plan and mixer, and how far the session is made."""
        if player.final:
            self.stream(False)  # what is said after the session is made in good time
            player.top_up()
            return
        urgent = player.waiting_at is not None or player.horizon_s - player.position_s() < URGENT_S
        update = self.stream(urgent)
        if update is not None:
            plan, mixer, horizon_s, final = update
            player.extend(plan, mixer, horizon_s, final)
            if self.progress is not None:
                self.progress.replan(plan)
