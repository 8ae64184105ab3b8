"""One control layer for a live session: every surface submits the same few commands.

Keys, MPRIS (headset buttons, media keys, the desktop, playerctl) and spoken commands all end up as a
`Command` handled in one place, the session loop in coach.live.player, so they behave identically: a
resume restarts an interrupted hold, NEXT marks what it passes as skipped in the log, and so on.

From another thread (a D-Bus service, a speech recogniser), give the session a command with

    controls.submit(Command.NEXT)     # or controls.submit("next"), a name from COMMAND_NAMES

submit() is thread-safe and never blocks; the waiting session loop wakes at once and acts on it,
whether or not it also reads a terminal. To follow what the session is doing,
register a callback with watch(): it gets a NowPlaying each time the track (chapter), the title (the
side) or the playback status changes, or playback jumps, called on the session's thread, so it must
return quickly.
"""

from __future__ import annotations

import os
import queue
import select
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from coach.errors import InputError
from coach.live.keys import Keys, NoKeys, TerminalKeys
from coach.plan.model import Plan
from coach.i18n import _


class Command(StrEnum):
    """What a person can ask of a playing session, whatever they press or say."""

    TOGGLE = "toggle"  # pause when playing, resume when paused (space, a single headset press)
    PLAY = "play"  # resume when paused; nothing when playing
    PAUSE = "pause"  # pause when playing; nothing when paused
    NEXT = "next"  # on to the next chapter; what is left of this one is logged as skipped
    PREVIOUS = "previous"  # back to this chapter's start, or the one before when just started
    STOP = "stop"  # end the session now (logged as stopped)


COMMAND_NAMES = tuple(c.value for c in Command)

# The terminal's single keys (case-insensitive).
KEY_COMMANDS = {" ": Command.TOGGLE, "n": Command.NEXT, "p": Command.PREVIOUS, "q": Command.STOP}


def parse_command(name: str | Command) -> Command:
    """The Command a name stands for ("next", " Pause "); InputError naming the choices otherwise."""
    if isinstance(name, Command):
        return name
    try:
        return Command(str(name).strip().lower())
    except ValueError:
        raise InputError(_("unknown command {name}; choose one of: {names}").format(name=repr(name), names=', '.join(COMMAND_NAMES))) from None


class Status(StrEnum):
    """Playback status, in MPRIS's own words."""

    PLAYING = "Playing"
    PAUSED = "Paused"
    STOPPED = "Stopped"


@dataclass(frozen=True)
class NowPlaying:
    """What the session is on: the chapter as a track (numbered from 0), its title and extent, the status."""

    status: Status
    track: int
    title: str
    album: str
    start_s: float
    length_s: float
    can_next: bool
    can_previous: bool
    position_s: float = field(default=0.0, compare=False)  # in the session; changes do not notify watchers
    jumps: int = 0  # how often playback has jumped (resume, next, previous): a new count notifies watchers

    @property
    def track_position_s(self) -> float:
        """Seconds into the current track."""
        return min(max(0.0, self.position_s - self.start_s), self.length_s)


def now_playing(plan: Plan, position_s: float, status: Status, jumps: int = 0) -> NowPlaying:
    """The track (chapter) at position_s: an exercise's title names it and, when it has several, the side."""
    chapters = plan.chapters
    track = 0
    for i, chapter in enumerate(chapters):
        if chapter.start_s <= position_s + 1e-6:
            track = i
    if not chapters:
        return NowPlaying(status, 0, plan.title, plan.title, 0.0, plan.duration_s, False, False, position_s, jumps)
    chapter = chapters[track]
    end_s = chapters[track + 1].start_s if track + 1 < len(chapters) else plan.duration_s
    title = chapter.title
    if chapter.exercise is not None:
        exercise = plan.exercise(chapter.exercise)
        title = exercise.name
        step = plan.step_at(position_s)
        if step is not None and step.side is not None and len(exercise.sides) > 1 and step.index == exercise.position:
            title = f"{exercise.name} ({step.side})"
    return NowPlaying(status, track, title, plan.title, chapter.start_s, end_s - chapter.start_s,
                      can_next=position_s < plan.duration_s, can_previous=True, position_s=position_s, jumps=jumps)


Watcher = Callable[[NowPlaying], None]


class Controls:
    """Where the session loop waits for its next command: the keys, and commands submitted from any thread."""

    def __init__(self, keys: Keys | None = None):
        self.keys = keys
        self._queue: queue.SimpleQueue[Command] = queue.SimpleQueue()
        self._watchers: list[Watcher] = []
        self._lock = threading.Lock()
        self._now: NowPlaying | None = None
        self._jumps = 0
        self._wake_r, self._wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)

    def __del__(self) -> None:
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass

    def submit(self, command: Command | str) -> None:
        """Asks the session to carry out a command (a Command or its name); safe from any thread."""
        self._queue.put(parse_command(command))
        try:
            os.write(self._wake_w, b"!")
        except (BlockingIOError, OSError):  # full of wake-ups already, or closed at the end
            pass

    def poll(self, timeout_s: float) -> Command | None:
        """The next command within timeout_s, from a key or submitted, or None (called by the session loop)."""
        try:
            return self._queue.get_nowait()
        except queue.Empty:
            pass
        if self.keys is None or isinstance(self.keys, NoKeys):
            # Nothing to read: sleep on the queue itself, so a submitted command wakes the loop at once.
            try:
                return self._queue.get(timeout=max(0.0, timeout_s)) if timeout_s > 0 else None
            except queue.Empty:
                return None
        key: str | None = None
        if isinstance(self.keys, TerminalKeys):
            # Wait on the terminal and on the wake-up pipe together, so a command from another thread
            # is not held back until the wait for a key times out.
            ready, _, _ = select.select([self.keys.fd, self._wake_r], [], [], max(0.0, timeout_s))
            if self._wake_r in ready:
                os.read(self._wake_r, 4096)
            if self.keys.fd in ready:
                key = self.keys.poll(timeout_s)  # at once with a key; at the terminal's end it waits as before
        else:
            key = self.keys.poll(timeout_s)
        if key is not None and key.lower() in KEY_COMMANDS:
            return KEY_COMMANDS[key.lower()]
        try:
            return self._queue.get_nowait()
        except queue.Empty:
            return None

    def watch(self, watcher: Watcher) -> None:
        """Calls watcher(now) whenever the track, its title or the status changes (and once now if known)."""
        with self._lock:
            self._watchers.append(watcher)
            now = self._now
        if now is not None:
            watcher(now)

    def now(self) -> NowPlaying | None:
        """What the session was last on (None before it started); safe from any thread."""
        return self._now

    def jumped(self) -> None:
        """Playback moved without playing what lies between (called by the session loop)."""
        self._jumps += 1

    def show(self, plan: Plan, position_s: float, status: Status) -> None:
        """The session is at position_s with this status (called by the session loop on every turn)."""
        now = now_playing(plan, min(max(position_s, 0.0), plan.duration_s), status, self._jumps)
        before, self._now = self._now, now
        if now != before:
            with self._lock:
                watchers = list(self._watchers)
            for watcher in watchers:
                watcher(now)
