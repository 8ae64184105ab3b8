"""Live playback of a session: the mixed timeline through the sound card, with single-key controls.

Playback design. simpleaudio cannot stream, so the timeline is played as a few large buffers, each
mixed from the current position up to a "seam" at most `window_s` (30 minutes) ahead. A seam is put in
the middle of the longest silence of the window's second half. When the clock says the current buffer
has reached its seam, the next buffer (already mixed) is started while the old one is left to run out
its silent tail: both go through the same device with about the same latency, so a hand-off only moves
what follows by the difference of two streams' start-up latencies (measured: up to ~30 ms through
PulseAudio), and no cue is ever cut. The window is long so that a typical session (under half an hour)
plays as one single stream with no hand-off at all; capping it keeps memory bounded (a 30-minute
window is 79 MB of int16 against ~635 MB for a whole 4-hour session). Each buffer is mixed block by
block straight into int16, which keeps the first sound quick, and the buffer after a seam is mixed in
a background thread so the keys stay responsive.

Pause, skip and quit stop every buffer and start a new one at the new position. Such a fresh stream
starts cold: the sound server may swallow its first tens of milliseconds while it gets going (measured:
~70 ms of the first word), so each one begins with LEAD_IN_S of silence. The audio position is
`position at buffer start + (clock now - clock when play() returned - lead-in)`.
"""

from __future__ import annotations

import ctypes
import sys
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass
from collections.abc import Callable
from typing import Protocol

import numpy as np

from coach.errors import AudioDeviceError
from coach.live.control import Command, Controls, Status
from coach.live.keys import Keys, open_keys
from coach.live.priority import lifting_threads_started
from coach.plan.model import SAMPLE_RATE, Plan, to_samples
from coach.plan.positions import (  # noqa: F401 (start_position_s is part of this module's interface)
    WINDOW_S, next_position_s, previous_position_s, resume_position_s, seam_position_s, start_position_s,
)
from coach.live.progress import Progress
from coach.live.stall import StallProbe, catch_up_s
from coach.live.status import StatusLine
from coach.timefmt import clock
from coach.i18n import _

POLL_S = 0.05  # how often keys and the clock are looked at (controls answer well within 200 ms)
LEAD_IN_S = 0.3  # silence ahead of a fresh stream, so a cold start loses none of the first word
DRAIN_LIMIT_S = 3.0  # longest wait after the timeline's end for the device to play out
RETIME_MARGIN_S = 0.5  # a new timeline must start at least this far ahead, so the hand-off is prepared in time
DUE_S = 1e-6  # this close to a seam or the end counts as there (float sums never land exactly)


# --- interfaces the session runs against (real ones below, fakes in tests) ---------------------

class Clock(Protocol):
    def now(self) -> float: ...


class Playback(Protocol):
    def stop(self) -> None: ...

    def is_playing(self) -> bool: ...


class AudioOutput(Protocol):
    def play(self, frames: np.ndarray) -> Playback: ...


Updates = Callable[[], "tuple[Plan, object, float] | None"]


class MonotonicClock:
    """Seconds from time.monotonic()."""

    def now(self) -> float:
        """The current monotonic time in seconds."""
        return time.monotonic()


_alsa_quiet_handler = None  # kept alive for as long as libasound may call it


def _quiet_alsa() -> None:
    """Stops libasound printing its own diagnostics on stderr (they would break the status line and
    bury the one-line error); failures to open the device still reach us as exceptions."""
    global _alsa_quiet_handler
    if _alsa_quiet_handler is not None or not sys.platform.startswith("linux"):
        return
    try:
        lib = ctypes.CDLL("libasound.so.2")
        handler_type = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int,
                                        ctypes.c_char_p)
        _alsa_quiet_handler = handler_type(lambda *args: None)
        lib.snd_lib_error_set_handler(_alsa_quiet_handler)
    except (OSError, AttributeError):
        pass


class SimpleaudioOutput:
    """Plays int16 mono buffers at SAMPLE_RATE through simpleaudio (ALSA on Linux)."""

    notices_stalls = True  # the player watches the device with a silent probe stream (coach.live.stall)

    def play(self, frames: np.ndarray) -> Playback:
        """Starts playing frames and returns at once; AudioDeviceError when no device can be opened."""
        try:
            import simpleaudio
        except ImportError as exc:
            raise AudioDeviceError(_("no audio output device (simpleaudio cannot be loaded: {reason})").format(reason=exc)) from exc
        _quiet_alsa()
        try:
            with lifting_threads_started():
                return simpleaudio.play_buffer(np.ascontiguousarray(frames, dtype=np.int16), 1, 2, SAMPLE_RATE)
        except Exception as exc:  # simpleaudio raises its own SimpleaudioError, not exported
            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise AudioDeviceError(_("no audio output device ({reason})").format(reason=reason)) from exc


@dataclass(frozen=True)
class SessionResult:
    """How a live session ended: wall-clock seconds it took, and whether it ran to the end or was quit."""

    elapsed_s: float
    finished: bool
    quit: bool

    def summary(self) -> str:
        """One line for the person: how it ended and how long it took."""
        if self.finished:
            return _("session finished after {time}").format(time=clock(self.elapsed_s))
        return _("session stopped after {time}").format(time=clock(self.elapsed_s))


# --- the session ------------------------------------------------------------------------------

def mix_pcm16(mixer, start_frame: int, end_frame: int) -> np.ndarray:
    """The mix of [start_frame, end_frame) as int16, with no float copy of it all (silence costs nothing)."""
    return mixer.pcm16(start_frame, end_frame)


class _Background:
    """One call run in a thread; result() waits for it and re-raises its error."""

    def __init__(self, func, *args):
        self._value = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(func, *args), daemon=True)
        self._thread.start()

    def _run(self, func, *args) -> None:
        try:
            self._value = func(*args)
        except BaseException as exc:  # handed to the caller of result()
            self._error = exc

    def result(self):
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


class BufferPlayer:
    """Keeps the buffers that are sounding and the audio position they imply."""

    def __init__(self, plan: Plan, mixer, output: AudioOutput, clock: Clock, window_s: float,
                 lead_in_s: float = LEAD_IN_S, say: Callable[[str], object] = lambda line: None):
        self.plan, self.mixer, self.output, self.clock, self.window_s = plan, mixer, output, clock, window_s
        self.lead_in_s, self.say = lead_in_s, say
        self.probe = StallProbe(output, clock) if getattr(output, "notices_stalls", False) else None
        self.behind_s = 0.0  # how far what is heard lags the plan's schedule after a stalled device
        self.sounding: list[Playback] = []
        self.base_s = 0.0
        self.started_at = 0.0
        self.seam_s = 0.0
        self._next: _Background | None = None
        self._cut_at_seam = False  # the sounding buffer holds audio past its seam that must not be heard

    def _mix(self, start_s: float) -> tuple[float, float, np.ndarray]:
        seam_s = seam_position_s(self.plan, start_s, self.window_s)
        end = min(to_samples(seam_s), self.mixer.total_frames)
        return start_s, seam_s, mix_pcm16(self.mixer, min(to_samples(start_s), end), end)

    def _start(self, start_s: float, seam_s: float, frames: np.ndarray, lead_in_s: float = 0.0) -> None:
        if lead_in_s > 0:
            frames = np.concatenate([np.zeros(to_samples(lead_in_s), dtype=frames.dtype), frames])
        self.sounding.append(self.output.play(frames))
        self.started_at = self.clock.now() + to_samples(lead_in_s) / SAMPLE_RATE
        self.base_s, self.seam_s = start_s, seam_s
        self._next = None

    def play_from(self, start_s: float) -> None:
        """Stops everything and plays from start_s (nothing when that is the end)."""
        self.stop()
        self.behind_s = 0.0
        if start_s >= self.plan.duration_s:
            self.base_s, self.seam_s, self.started_at = self.plan.duration_s, self.plan.duration_s, self.clock.now()
            return
        self._start(*self._mix(start_s), lead_in_s=self.lead_in_s)

    def position_s(self) -> float:
        """The audio position from the clock (during a lead-in, where the buffer starts)."""
        return self.base_s + max(0.0, self.clock.now() - self.started_at)

    def prepare_next(self) -> None:
        """Starts mixing the buffer after the seam in the background, so the hand-off is instant."""
        if self._next is None and self.seam_s < self.plan.duration_s:
            self._next = _Background(self._mix, self.seam_s)

    def hand_off_if_due(self) -> None:
        """At the seam, starts the next buffer and lets the old one play out its silent tail."""
        if self.seam_s < self.plan.duration_s and self.position_s() >= self.seam_s - DUE_S:
            self.prepare_next()
            if self._cut_at_seam:
                for playback in self.sounding:
                    playback.stop()
                self._cut_at_seam = False
            self.sounding = [p for p in self.sounding if p.is_playing()]
            start_s, seam_s, frames = self._next.result()  # type: ignore[union-attr]
            # A busy machine may notice the seam late: catch up by leaving out as much of the silence the
            # seam lies in as we are late, never any sound (a late cue is better than a lost one).
            late = frames[:max(0, to_samples(self.position_s() - start_s))]
            sounding = np.flatnonzero(late)
            skip = min(int(sounding[0]) if len(sounding) else len(late), max(0, len(frames) - 1))
            self._start(start_s + skip / SAMPLE_RATE, seam_s, frames[skip:])

    def retime(self, plan: Plan, mixer, from_s: float, position_s: float) -> bool:
        """From from_s on, plays plan and mixer instead; they must sound the same as the current ones
        before from_s, and from_s must lie in a silence. False (nothing changes) when it is too late."""
        if from_s < position_s + RETIME_MARGIN_S:
            return False
        self.plan, self.mixer, self._next = plan, mixer, None
        if from_s < self.seam_s:
            # The sounding buffer runs on past from_s with the old audio: hand over at from_s and
            # stop it there, as a seam does, in the silence.
            self.seam_s, self._cut_at_seam = from_s, bool(self.sounding)
        return True

    def notice_stalls(self) -> None:
        """Asks the probe whether the device stalled; catches up with the plan in the next silence long enough."""
        stalled_s = self.probe.check() if self.probe is not None else 0.0
        if stalled_s > 0:
            self.started_at += stalled_s  # the position follows what is heard again
            self.behind_s += stalled_s
            self.say(_("the sound device stalled for {seconds} s before {at}").format(seconds=f"{stalled_s:.2f}", at=clock(self.position_s())))
        here_s = self.position_s()
        gain_s = catch_up_s(self.mixer, here_s, self.behind_s, self.lead_in_s) if self.sounding else 0.0
        if gain_s > 0:  # a fresh stream whose lead-in takes the place of silence, on the plan's schedule
            behind_s = self.behind_s - gain_s if self.behind_s - gain_s > 0.01 else 0.0
            self.play_from(here_s + gain_s + self.lead_in_s)
            self.behind_s = behind_s
            self.say(_("caught up {gain} s in the silence at {at}; {behind} s still behind").format(
                gain=f"{gain_s:.2f}", at=clock(here_s), behind=f"{self.behind_s:.2f}"))

    def until_seam_s(self) -> float:
        return self.seam_s - self.position_s()

    def drained(self) -> bool:
        """True once no buffer is sounding any more."""
        self.sounding = [p for p in self.sounding if p.is_playing()]
        return not self.sounding

    def stop(self) -> None:
        """Silences every buffer (and the probe) at once."""
        if self.probe is not None:
            self.probe.stop()
        for playback in self.sounding:
            playback.stop()
        self.sounding = []
        self._next = None
        self._cut_at_seam = False


def run_session(plan: Plan, mixer, *, start_s: float = 0.0, output: AudioOutput | None = None,
                clock: Clock | None = None, keys: Keys | None = None, status: StatusLine | None = None,
                window_s: float = WINDOW_S, lead_in_s: float = LEAD_IN_S,
                progress: Progress | None = None, updates: Updates | None = None,
                controls: Controls | None = None, feed=None,
                say: Callable[[str], object] = lambda line: None) -> SessionResult:
    """Plays the plan's mixed timeline live from start_s, answering commands, until the end or a stop.

    Commands come from `controls` (see coach.live.control: keys, MPRIS and anything else that submits
    them), made over keys when not given. keys=None (and controls without keys) reads single keys from
    stdin when it is a terminal (restored on every exit). status=None
    shows no status line (quiet). Ctrl+C stops the sound and lets KeyboardInterrupt propagate (the
    caller exits 130). No audio device raises AudioDeviceError. Each fresh stream starts with
    lead_in_s of silence. progress, when given, hears every position played and how the session ended.
    updates, when given, is asked on every turn for a (plan, mixer, from_s) to play from from_s on
    instead (see BufferPlayer.retime); it returns None while there is none. feed, when given, plays a session
    whose sentences are still being made (coach.live.streamed.Feed). say hears each stall noticed (--debug).
    """
    clock = clock or MonotonicClock()
    output = output or SimpleaudioOutput()
    began = clock.now()
    with ExitStack() as stack:
        if controls is None:
            controls = Controls(keys)
        if controls.keys is None:
            controls.keys = keys if keys is not None else stack.enter_context(open_keys())
        if status is not None:
            stack.callback(status.clear)
        make = feed.player if feed is not None else BufferPlayer
        player = make(plan, mixer, output, clock, window_s, lead_in_s, say)
        stack.callback(player.stop)
        player.play_from(min(max(start_s, 0.0), plan.duration_s))
        if progress is not None:
            progress.started()
        try:
            finished, quit_ = _loop(player, controls, status, progress, updates, feed)
        except BaseException:
            controls.show(player.plan, player.position_s(), Status.STOPPED)
            if progress is not None:
                progress.finish("interrupted")
            raise
        controls.show(player.plan, player.plan.duration_s if finished else player.position_s(), Status.STOPPED)
        if progress is not None:
            progress.finish("finished" if finished else "stopped")
        return SessionResult(elapsed_s=clock.now() - began, finished=finished, quit=quit_)


def _loop(player: BufferPlayer, controls: Controls, status: StatusLine | None, progress: Progress | None,
          updates: Updates | None, feed=None) -> tuple[bool, bool]:
    """Carries out commands until the end (True, False) or STOP (False, True): the one place they act."""
    paused_at: float | None = None

    def heard(position_s: float) -> None:
        if progress is not None:
            progress.heard(position_s)

    def jumped(from_s: float, to_s: float) -> None:
        controls.jumped()
        if progress is not None:
            progress.jumped(from_s, to_s)

    while True:
        if feed is not None:
            feed.turn(player)
        plan = player.plan
        update = updates() if updates is not None else None
        if update is not None:
            plan, mixer, from_s = update
            player.retime(plan, mixer, from_s, player.position_s() if paused_at is None else paused_at)
            plan = player.plan
        if paused_at is None:
            player.hand_off_if_due()
            player.notice_stalls()
            position_s = player.position_s()
            heard(min(position_s, plan.duration_s))
            if position_s >= plan.duration_s - DUE_S:
                # The timeline is over; let the device play out what it still holds.
                if status is not None:
                    status.show_position(plan, plan.duration_s)
                limit = player.clock.now() + DRAIN_LIMIT_S
                while not player.drained() and player.clock.now() < limit:
                    if controls.poll(POLL_S) is Command.STOP:
                        break
                return True, False
            player.prepare_next()
            wait_s = min(POLL_S, max(0.0, player.until_seam_s()), max(0.0, plan.duration_s - position_s))
        else:
            position_s = paused_at
            wait_s = POLL_S
        if status is not None:
            status.show_position(plan, position_s, paused=paused_at is not None)
        controls.show(plan, position_s, Status.PLAYING if paused_at is None else Status.PAUSED)
        command = controls.poll(wait_s)
        if command is None:
            continue
        if command is Command.STOP:
            return False, True
        if command in (Command.TOGGLE, Command.PAUSE, Command.PLAY):
            if paused_at is None and command is not Command.PLAY:
                paused_at = min(player.position_s(), plan.duration_s)
                player.stop()
                heard(paused_at)
            elif paused_at is None or command is Command.PAUSE:
                pass  # already as asked
            elif paused_at >= plan.duration_s:
                return True, False
            else:
                resume_s = resume_position_s(plan, paused_at)
                jumped(paused_at, resume_s)
                player.play_from(resume_s)
                paused_at = None
        elif command in (Command.NEXT, Command.PREVIOUS):
            here_s = paused_at if paused_at is not None else player.position_s()
            target_s = (next_position_s(plan, here_s) if command is Command.NEXT
                        else previous_position_s(plan, here_s))
            jumped(here_s, target_s)
            if paused_at is not None:
                paused_at = target_s
            elif target_s >= plan.duration_s:
                player.stop()
                return True, False
            else:
                player.play_from(target_s)
