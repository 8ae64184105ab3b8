"""The control layer: commands from another thread act exactly as keys do, on a fake clock without audio."""

from __future__ import annotations

import os
import pty
import threading
import time
import tty
from dataclasses import replace

import pytest

from coach.errors import InputError
from coach.live.keys import TerminalKeys
from coach.live.control import COMMAND_NAMES, Command, Controls, Status, now_playing, parse_command
from coach.live.player import run_session
from coach.live.progress import Progress
from test_live import FakeClock, FakeOutput, FakeStatus, ScriptedKeys, make_mixer, make_plan
from test_session_log import RecordingLog

KEY_OF = {Command.TOGGLE: " ", Command.NEXT: "n", Command.PREVIOUS: "p", Command.STOP: "q"}


class SubmittingKeys:
    """No key is ever pressed; at given clock times a command is submitted, as another thread would."""

    def __init__(self, clock: FakeClock, submits: list[tuple[float, str]]):
        self.clock, self.submits, self.controls = clock, sorted(submits), None

    def poll(self, timeout_s: float) -> str | None:
        if self.submits and self.submits[0][0] <= self.clock.t + timeout_s:
            at, command = self.submits.pop(0)
            self.clock.t = max(self.clock.t, at)
            self.controls.submit(command)
            return None
        self.clock.t += timeout_s
        return None


def play(plan, sounds, *, presses=(), submits=(), watch=None):
    """A session on fake parts: (what the output played, the log's calls, the status shown, the result)."""
    clock = FakeClock(100.0)
    output, log, status = FakeOutput(clock), RecordingLog(), FakeStatus()
    if submits:
        keys = SubmittingKeys(clock, [(100.0 + at, c) for at, c in submits])
    else:
        keys = ScriptedKeys(clock, [(100.0 + at, k) for at, k in presses])
    controls = Controls(keys)
    keys.controls = controls
    if watch is not None:
        controls.watch(watch)
    result = run_session(plan, make_mixer(plan, sounds), output=output, clock=clock, controls=controls,
                         status=status, window_s=300.0, lead_in_s=0.0, progress=Progress(plan, lambda: log))
    played = [(round(p.started_at - 100.0, 6), len(p.frames), p.stopped_at and round(p.stopped_at - 100.0, 6))
              for p in output.played]
    return played, log.calls, list(zip(status.positions, status.paused)), result


SCENARIO = [(5.0, Command.TOGGLE), (6.0, Command.TOGGLE), (8.0, Command.NEXT), (9.0, Command.PREVIOUS),
            (9.5, Command.NEXT), (10.0, Command.NEXT)]


def test_submitted_commands_do_exactly_what_the_keys_do():
    plan, sounds = make_plan()
    by_keys = play(plan, sounds, presses=[(at, KEY_OF[c]) for at, c in SCENARIO])
    by_submits = play(plan, sounds, submits=[(at, c.value) for at, c in SCENARIO])
    assert by_submits[0] == by_keys[0]  # the same audio, started and stopped at the same moments
    assert by_submits[1] == by_keys[1]  # the same log: reps, the skip, how it ended
    assert by_submits[2] == by_keys[2]  # the same status line
    assert ("skipped", 1, None) in by_submits[1]
    assert by_submits[3].finished == by_keys[3].finished


def test_pause_and_play_are_idempotent_and_play_restarts_an_interrupted_hold():
    plan, sounds = make_plan()  # bridge holds from 4 to 8 s
    played, calls, shown, _ = play(plan, sounds, submits=[(5.0, "pause"), (5.5, "pause"), (6.0, "play"),
                                                           (6.5, "play")])
    assert len(played) == 2  # one stop, one restart: the second pause and the second play change nothing
    assert played[0][2] == pytest.approx(5.0)
    assert played[1][0] == pytest.approx(6.0) and played[1][1] == plan.duration_samples - 4 * 22050
    assert any(paused for _, paused in shown)


def test_stop_ends_the_session_as_quit():
    plan, sounds = make_plan()
    played, calls, _, result = play(plan, sounds, submits=[(3.0, "stop")])
    assert result.quit and not result.finished
    assert played[0][2] == pytest.approx(3.0)
    assert calls[-1] == ("finish", "stopped")


def test_watchers_hear_each_track_title_and_status_change_once():
    plan, sounds = make_plan(side="left")
    seen = []
    play(plan, sounds, submits=[(5.0, "toggle"), (6.0, "toggle")], watch=seen.append)
    assert [(n.track, n.title, n.status) for n in seen] == [
        (0, "Introduction", Status.PLAYING), (1, "bridge", Status.PLAYING), (1, "bridge", Status.PAUSED),
        (1, "bridge", Status.PLAYING), (2, "plank", Status.PLAYING), (3, "Finish", Status.PLAYING),
        (3, "Finish", Status.STOPPED)]
    assert seen[1].album == "Test" and seen[1].length_s == pytest.approx(8.0)


def test_the_title_names_the_side_when_an_exercise_has_several():
    plan, _ = make_plan()
    two_sided = replace(plan.exercises[0], sides=("left", "right"))
    plan = replace(plan, exercises=(two_sided,) + plan.exercises[1:],
                   steps=tuple(replace(s, side="right") if s.index == 1 else s for s in plan.steps))
    now = now_playing(plan, 5.0, Status.PLAYING)
    assert now.title == "bridge (right)" and now.track_position_s == pytest.approx(3.0)


def test_submit_is_safe_from_many_threads_and_wakes_a_waiting_session_at_once():
    controls = Controls()  # no keys: the session sleeps on the queue itself
    threads = [threading.Thread(target=lambda: [controls.submit("next") for _ in range(100)]) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [controls.poll(0.0) for _ in range(400)] == [Command.NEXT] * 400
    assert controls.poll(0.0) is None
    threading.Timer(0.05, controls.submit, args=("pause",)).start()
    assert controls.poll(5.0) is Command.PAUSE  # long before the timeout


def test_command_names_parse_loosely_and_unknown_ones_name_the_choices():
    assert parse_command(" Next ") is Command.NEXT and parse_command(Command.STOP) is Command.STOP
    assert set(COMMAND_NAMES) == {"toggle", "play", "pause", "next", "previous", "stop"}
    with pytest.raises(InputError, match="unknown command 'louder'; choose one of: toggle, play"):
        parse_command("louder")


def test_with_a_terminal_a_submitted_command_does_not_wait_for_the_key_timeout():
    master, slave = pty.openpty()
    tty.setcbreak(slave)  # as open_keys leaves a terminal: each key on its own
    try:
        controls = Controls(TerminalKeys(slave))
        threading.Timer(0.05, controls.submit, args=("next",)).start()
        began = time.monotonic()
        assert controls.poll(5.0) is Command.NEXT
        assert time.monotonic() - began < 1.0
        os.write(master, b"q")
        assert controls.poll(5.0) is Command.STOP
        assert controls.poll(0.01) is None
    finally:
        os.close(master)
        os.close(slave)
