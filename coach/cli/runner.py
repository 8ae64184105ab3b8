"""A live session from the command line: play it, log it, and ask about pain at the end."""

from __future__ import annotations

import sys
from typing import Any, Callable, TextIO

from coach.cli.closing import SkippedClose
from coach.cli.shared import fitted, is_terminal
from coach.live.control import Controls
from coach.live.mpris import serving_mpris
from coach.live.player import MonotonicClock, SessionResult, SimpleaudioOutput, run_session
from coach.live.progress import Progress, planned_from
from coach.live.streamed import Feed
from coach.i18n import _
from coach.timefmt import about_minutes, clock
from coach.session import Session
from coach.log.recorder import BackgroundLogger, NullLogger
from coach.signals import sigterm_unwinds
from coach.live.status import StatusLine


def run_logged(session: Session, start_s: float, *, quiet: bool, log: bool, mpris: bool = True,
               debug: bool = False, stdin: TextIO | None = None, stderr: TextIO | None = None,
               **playback: Any) -> SessionResult:
    """Plays the session live from start_s; logs it unless log=False; asks for a pain score at the end.

    The log is written on a thread of its own (a busy log never holds up the sound or the keys). Ctrl+C
    says how long the session ran, then propagates. `playback` goes to run_session (output, clock, keys).
    With mpris, the desktop's media controls (MPRIS) steer it too; --debug says in one line how that went.
    """
    stdin = stdin if stdin is not None else sys.stdin
    stderr = stderr if stderr is not None else sys.stderr
    status = None if quiet else StatusLine(stderr)
    plan = session.plan
    logger: BackgroundLogger | NullLogger = NullLogger()

    def warn(message: str) -> None:
        if status is not None:
            status.clear()
        print(fitted(message, stderr), file=stderr, flush=True)

    def open_log():
        nonlocal logger
        if log:
            planned_s, entries = planned_from(plan, start_s)
            logger = BackgroundLogger.start(plan.routine, plan.title, session.routine.language,
                                            session.voice.id if session.voice else None,
                                            session.options.rate_wpm, planned_s, entries, warn=warn)
        return logger

    try:
        # SIGTERM unwinds like Ctrl+C, so the sound stops and the log records an interrupted session.
        progress = Progress(plan, open_log, start_s)
        mixer, feed = _streamed(session, progress, lambda line: debug and warn(f"coach: {line}"))
        plan = session.plan
        updates = SkippedClose(session, progress) if session.voice is not None else None
        if feed is not None and updates is not None:  # the close is planned again once the session is made
            skipped = updates
            updates = lambda: skipped() if session.stream.final else None  # noqa: E731
        controls = Controls()  # keys and MPRIS both submit here
        clock = playback.setdefault("clock", MonotonicClock())
        began_s = clock.now()
        try:
            with sigterm_unwinds(), serving_mpris(controls, mpris, lambda line: debug and warn(f"coach: {line}")):
                result = run_session(plan, mixer, start_s=start_s, status=status, progress=progress,
                                     updates=updates, controls=controls, feed=feed,
                                     say=lambda line: debug and warn(f"coach: {line}"), **playback)
        except KeyboardInterrupt:
            if not quiet:  # typer turns Ctrl+C into exit 130 before our own error path could say anything
                stopped = SessionResult(clock.now() - began_s, finished=False, quit=False)
                print(stopped.summary(), file=stderr, flush=True)
            raise
        if not quiet:
            print(result.summary(), file=stderr)
        if logger.logging and not quiet and is_terminal(stdin):
            logger.set_pain(_ask_pain(session, stdin, stderr))
        return result
    finally:
        if session.stream is not None:
            session.stream.close()
        logger.close()


def _streamed(session: Session, progress: Progress, say: Callable[[str], object]) -> tuple[object, Feed | None]:
    """The mixer to start with, and the feed that plays on as sentences are made (None: no speech to make).

    A session whose sentences are all made plays through the feed too: its first stretch is mixed before
    it starts and the rest while it plays, so the first word comes as soon.
    """
    stream = session.stream
    if stream is None:
        return session.mixer(), None
    update = stream(True) or stream.latest
    if update is None:  # nothing made yet: silence until the first sentence is
        from dataclasses import replace

        update = (session.plan, session.mixer_of(replace(session.plan, cues=()), {}), 0.0, False)
    else:
        progress.replan(update[0])
    plan, mixer, horizon_s, final = update
    session.plan = plan

    def waited(at_s: float, seconds: float) -> None:
        say(_("waited {seconds} s at {at} for the voice to make what comes next").format(
            seconds=f"{seconds:.1f}", at=clock(at_s)))

    feed = Feed(stream, progress, waited)
    feed.horizon_s, feed.final = horizon_s, final
    return mixer, feed


def show_header(session: Session, start_s: float) -> None:
    """What a live session says before it starts: the natural voice (once ever), its title and length, the keys."""
    from coach.cli.voicefiles import mention_natural_voice_once
    from coach.terminal import printable

    if not session.options.no_voice:
        mention_natural_voice_once()
    fit = StatusLine(sys.stderr).fit
    left_s = session.plan.duration_s - start_s
    made = session.stream is None or session.stream.final
    length = clock(left_s) if made else about_minutes(left_s)
    print(fit(printable(f"{session.plan.title} · {length}")), file=sys.stderr)
    if sys.stdin.isatty():
        print(fit(_("space pause · n next · p back · q quit")), file=sys.stderr)


def _ask_pain(session: Session, stdin: TextIO, stderr: TextIO) -> int | None:
    """Says the pain question (when the session has a voice) and reads the answer from the terminal."""
    from coach.log.pain import ask_pain
    from coach.audio.pcm import to_pcm16

    clip = session.speech.get(session.script.PAIN_QUESTION)
    if clip is None and session.stream is not None and session.script.PAIN_QUESTION in session.stream.renderer.made():
        clip = session.stream.renderer.clip(session.script.PAIN_QUESTION)
    if clip is not None and len(clip):
        try:
            SimpleaudioOutput().play(to_pcm16(clip * session.options.voice_volume_pct / 100.0))
        except Exception:  # the question is on screen too; a sound problem now must not lose the score
            pass
    return ask_pain(stdin, stderr)
