"""A live session from the command line: play it, log it, and ask about pain at the end."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from coach.cli.closing import SkippedClose
from coach.live.control import Controls
from coach.live.mpris import serving_mpris
from coach.live.player import MonotonicClock, SessionResult, SimpleaudioOutput, run_session
from coach.live.progress import Progress, planned_from
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
        print(message, file=stderr, flush=True)

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
        updates = SkippedClose(session, progress) if session.voice is not None else None
        controls = Controls()  # keys and MPRIS both submit here
        clock = playback.setdefault("clock", MonotonicClock())
        began_s = clock.now()
        try:
            with sigterm_unwinds(), serving_mpris(controls, mpris, lambda line: debug and warn(f"coach: {line}")):
                result = run_session(plan, session.mixer(), start_s=start_s, status=status, progress=progress,
                                     updates=updates, controls=controls, **playback)
        except KeyboardInterrupt:
            if not quiet:  # typer turns Ctrl+C into exit 130 before our own error path could say anything
                stopped = SessionResult(clock.now() - began_s, finished=False, quit=False)
                print(stopped.summary(), file=stderr, flush=True)
            raise
        if not quiet:
            print(result.summary(), file=stderr)
        if logger.logging and not quiet and _is_terminal(stdin):
            logger.set_pain(_ask_pain(session, stdin, stderr))
        return result
    finally:
        logger.close()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _ask_pain(session: Session, stdin: TextIO, stderr: TextIO) -> int | None:
    """Says the pain question (when the session has a voice) and reads the answer from the terminal."""
    from coach.log.pain import ask_pain
    from coach.audio.pcm import to_pcm16

    clip = session.speech.get(session.script.PAIN_QUESTION)
    if clip is not None and len(clip):
        try:
            SimpleaudioOutput().play(to_pcm16(clip * session.options.voice_volume_pct / 100.0))
        except Exception:  # the question is on screen too; a sound problem now must not lose the score
            pass
    return ask_pain(stdin, stderr)
