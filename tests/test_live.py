"""Live sessions: position logic with a fake clock and output, and real playback through PulseAudio."""

from __future__ import annotations

import io
import itertools
import json
import os
import pty
import re
import select
import subprocess
import sys
import termios
import time
from pathlib import Path

import numpy as np
import pytest

from coach.errors import AudioDeviceError, OptionError
from coach.live.keys import NoKeys, open_keys
from coach.live.player import (LEAD_IN_S, SessionResult, next_position_s, previous_position_s, resume_position_s,
                               run_session, seam_position_s, start_position_s)
from coach.audio.mixer import Mixer
from coach.plan.model import SAMPLE_RATE, Chapter, Cue, CueKind, ExerciseSummary, Plan, Step, StepKind, to_samples
from coach.audio.pcm import to_pcm16
from rich.cells import cell_len

from coach.live.status import StatusLine, status_text
from pulse import dominant_hz, onsets_s, pulse_server, read_recording  # noqa: F401 (fixture)

TONE_S = 0.2
HERE = Path(__file__).parent
ROOT = HERE.parent


# --- a small synthetic session: every cue is a tone of its own frequency -----------------------

def tone(hz: float, seconds: float = TONE_S) -> np.ndarray:
    """A sine tone at half scale with 2 ms ramps."""
    t = np.arange(to_samples(seconds)) / SAMPLE_RATE
    ramp = np.minimum(1.0, np.minimum(t, seconds - t) / 0.002)
    return (0.5 * np.sin(2 * np.pi * hz * t) * ramp).astype(np.float32)


def make_plan(exercises=("bridge", "plank"), side=None, hold_s=4.0, intro_s=2.0, prepare_s=2.0, rest_s=2.0,
              close_s=1.5) -> tuple[Plan, dict[str, np.ndarray]]:
    """intro; per exercise prepare, hold (a cue at its start and middle), rest; close. Returns the plan and its tones."""
    steps, cues, chapters, summaries = [], [], [Chapter(0.0, "Introduction")], []
    sounds: dict[str, np.ndarray] = {}

    def cue(at_s: float) -> None:
        name = f"tone{len(cues)}"
        sounds[name] = tone(cue_hz(len(cues)))
        cues.append(Cue(at_s, TONE_S, CueKind.SOUND, sound=name))

    steps.append(Step(StepKind.INTRO, None, None, None, None, None, 0.0, intro_s))
    cue(0.1)
    t = intro_s
    for i, name in enumerate(exercises, 1):
        chapters.append(Chapter(t, f"{i}. {name}", exercise=i))
        hold_at = t + prepare_s
        steps.append(Step(StepKind.PREPARE, name, i, side, 1, None, t, hold_at))
        cue(t)
        steps.append(Step(StepKind.HOLD, name, i, side, 1, 1, hold_at, hold_at + hold_s))
        cue(hold_at)
        cue(hold_at + hold_s / 2)
        steps.append(Step(StepKind.REST, name, i, side, 1, 1, hold_at + hold_s, hold_at + hold_s + rest_s,
                          next_index=i + 1 if i < len(exercises) else None))
        cue(hold_at + hold_s)
        summaries.append(ExerciseSummary(i, name, StepKind.HOLD, (side,), 1, 1, int(hold_s), t,
                                         hold_at + hold_s + rest_s))
        t = hold_at + hold_s + rest_s
    chapters.append(Chapter(t, "Finish"))
    steps.append(Step(StepKind.CLOSE, None, None, None, None, None, t, t + close_s))
    cue(t + 0.1)
    plan = Plan("test", "Test", t + close_s, tuple(steps), tuple(cues), tuple(chapters), tuple(summaries))
    return plan, sounds


# Each part as short as the onsets allow, for the tests that play in real time.
COMPACT = dict(hold_s=2.0, intro_s=1.0, prepare_s=1.0, rest_s=1.0, close_s=1.0)


def cue_hz(number: int) -> float:
    return 400.0 + 90.0 * number


def make_mixer(plan: Plan, sounds) -> Mixer:
    return Mixer(plan, speech={}, sounds=sounds)


# --- fakes --------------------------------------------------------------------------------------

class FakeClock:
    def __init__(self, t: float = 100.0):
        self.t = t

    def now(self) -> float:
        return self.t


class FakePlayback:
    def __init__(self, clock: FakeClock, frames: np.ndarray):
        self.clock, self.frames, self.started_at, self.stopped_at = clock, frames, clock.now(), None

    def stop(self) -> None:
        if self.stopped_at is None:
            self.stopped_at = self.clock.now()

    def is_playing(self) -> bool:
        return self.stopped_at is None and self.clock.now() < self.started_at + len(self.frames) / SAMPLE_RATE


class FakeOutput:
    def __init__(self, clock: FakeClock):
        self.clock, self.played = clock, []

    def play(self, frames: np.ndarray) -> FakePlayback:
        assert frames.dtype == np.int16 and len(frames) > 0
        playback = FakePlayback(self.clock, frames)
        self.played.append(playback)
        return playback


class FakeStatus:
    """Records what the session asked the status display to show."""

    def __init__(self):
        self.positions, self.paused, self.cleared = [], [], False

    def show_position(self, plan, position_s, paused=False):
        self.positions.append(position_s)
        self.paused.append(paused)

    def clear(self):
        self.cleared = True


class NoDeviceOutput:
    def play(self, frames):
        raise AudioDeviceError("no audio output device (cannot open default)")


class ScriptedKeys:
    """Keys pressed at given audio-independent clock times; waiting advances the fake clock."""

    def __init__(self, clock: FakeClock, presses: list[tuple[float, str]]):
        self.clock, self.presses, self.polls = clock, sorted(presses), []

    def poll(self, timeout_s: float) -> str | None:
        self.polls.append(timeout_s)
        if self.presses and self.presses[0][0] <= self.clock.t + timeout_s:
            at, key = self.presses.pop(0)
            self.clock.t = max(self.clock.t, at)
            if key == "^C":
                raise KeyboardInterrupt
            return key
        self.clock.t += timeout_s
        return None


def run_fake(plan, sounds, presses=(), window_s=300.0, status=None, start_s=0.0, lead_in_s=0.0):
    clock = FakeClock(100.0)
    output = FakeOutput(clock)
    keys = ScriptedKeys(clock, [(100.0 + at, key) for at, key in presses])
    result = run_session(plan, make_mixer(plan, sounds), start_s=start_s, output=output, clock=clock, keys=keys,
                         status=status, window_s=window_s, lead_in_s=lead_in_s)
    return result, output, keys


def starts(output: FakeOutput) -> list[tuple[float, int]]:
    """(clock time since start, frames) of every play call."""
    return [(round(p.started_at - 100.0, 6), len(p.frames)) for p in output.played]


# --- positions ----------------------------------------------------------------------------------

def test_start_position_by_number_and_name_case_insensitive():
    plan, _ = make_plan()
    assert start_position_s(plan, None) == 0.0
    assert start_position_s(plan, 1) == 2.0
    assert start_position_s(plan, "2") == 10.0
    assert start_position_s(plan, "PLANK") == 10.0
    assert start_position_s(plan, "2. plank") == 10.0


@pytest.mark.parametrize("choice", ["3", 0, "crunch"])
def test_start_position_unknown_names_the_option_and_the_choices(choice):
    plan, _ = make_plan()
    with pytest.raises(OptionError) as err:
        start_position_s(plan, choice)
    assert err.value.option == "--from"
    assert str(err.value).startswith("--from: ")
    assert "choose from: 1 bridge, 2 plank" in str(err.value)


def test_resume_restarts_hold_and_cut_cues_but_not_rests():
    plan, _ = make_plan()
    assert resume_position_s(plan, 5.0) == 4.0  # mid-hold: the hold's start (its start cue)
    assert resume_position_s(plan, 7.9) == 4.0
    assert resume_position_s(plan, 9.0) == 9.0  # rest: as it was
    assert resume_position_s(plan, 8.1) == 8.0  # inside the rest cue: the cue again
    assert resume_position_s(plan, 0.5) == 0.5


def test_next_and_previous_targets():
    plan, _ = make_plan()
    assert next_position_s(plan, 0.5) == 2.0
    assert next_position_s(plan, 2.0) == 10.0
    assert next_position_s(plan, 19.0) == plan.duration_s  # past the close: the end
    assert previous_position_s(plan, 7.0) == 2.0  # well into the exercise: its start
    assert previous_position_s(plan, 11.0) == 2.0  # within 3 s of its start: the previous one
    assert previous_position_s(plan, 13.5) == 10.0
    assert previous_position_s(plan, 1.0) == 0.0


def test_seam_lies_in_silence_in_the_second_half_of_the_window():
    plan, _ = make_plan()
    for start_s in (0.0, 3.3, 6.0, 10.05):
        seam = seam_position_s(plan, start_s, window_s=5.0)
        assert start_s + 2.5 <= seam <= start_s + 5.0
        assert not any(c.at_s <= seam < c.end_s for c in plan.cues), seam
    assert seam_position_s(plan, 16.0, window_s=5.0) == plan.duration_s


# --- the session with a fake clock and output ---------------------------------------------------

def test_plays_whole_session_in_seamless_windows_matching_the_mix():
    plan, sounds = make_plan()
    result, output, _ = run_fake(plan, sounds, window_s=5.0)
    assert result.finished and not result.quit
    played = output.played
    assert len(played) > 3
    # Each buffer starts exactly when the previous one's audio reaches the seam, so they join up.
    for before, after in zip(played, played[1:]):
        assert after.started_at == pytest.approx(before.started_at + len(before.frames) / SAMPLE_RATE, abs=1e-6)
    joined = np.concatenate([p.frames for p in played])
    whole = make_mixer(plan, sounds).render(0, plan.duration_samples)
    assert len(joined) == plan.duration_samples
    assert np.array_equal(joined, to_pcm16(whole))
    assert result.elapsed_s == pytest.approx(plan.duration_s, abs=0.06)
    # The session ends only once the last buffer has played out; its tail is never cut.
    last = played[-1]
    assert last.stopped_at is None and not last.is_playing()


def test_a_fresh_stream_starts_with_silence_so_the_first_sound_is_whole():
    plan, sounds = make_plan()
    lead_in_s = 0.3
    stream = FakeStatus()
    result, output, _ = run_fake(plan, sounds, presses=[(5.3, " "), (6.3, " ")], status=stream, lead_in_s=lead_in_s)
    first, resumed = output.played[:2]
    lead = to_samples(lead_in_s)
    assert not first.frames[:lead].any() and np.array_equal(first.frames[lead:], to_pcm16(
        make_mixer(plan, sounds).render(0, len(first.frames) - lead)))
    # the clock counts from the end of the lead-in: 5.3 s on the clock is 5.0 s into the session
    assert first.stopped_at == pytest.approx(105.3) and len(resumed.frames) == lead + plan.duration_samples - to_samples(4.0)
    assert not resumed.frames[:lead].any()
    assert stream.positions[0] == 0.0  # during the lead-in the session has not started yet
    assert result.elapsed_s == pytest.approx(plan.duration_s + 2 * lead_in_s + 1.0 + 1.0, abs=0.06)


def test_controls_are_polled_at_least_every_50_ms():
    plan, sounds = make_plan()
    _, _, keys = run_fake(plan, sounds, presses=[(3.0, " "), (4.0, " ")], window_s=5.0)
    assert max(keys.polls) <= 0.05


def test_pause_mid_hold_resumes_at_the_hold_start():
    plan, sounds = make_plan()
    result, output, _ = run_fake(plan, sounds, presses=[(5.0, " "), (9.0, " ")])
    first, second = output.played[:2]
    assert first.stopped_at == pytest.approx(105.0)
    assert second.started_at == pytest.approx(109.0)
    assert len(second.frames) == plan.duration_samples - to_samples(4.0)
    # Time paused (4 s) plus the second of the hold heard again.
    assert result.finished and result.elapsed_s == pytest.approx(plan.duration_s + 5.0, abs=0.06)


def test_pause_in_rest_resumes_where_it_was():
    plan, sounds = make_plan()
    _, output, _ = run_fake(plan, sounds, presses=[(9.0, " "), (10.0, " ")])
    assert len(output.played[1].frames) == plan.duration_samples - to_samples(9.0)


def test_next_and_previous_restart_playback_at_chapter_starts():
    plan, sounds = make_plan()
    # n at 1 s -> 2 s (bridge); p at 1 s later (position 3 s, within 3 s) -> intro; n -> bridge; n -> plank.
    presses = [(1.0, "n"), (2.0, "p"), (2.5, "n"), (6.0, "n"), (7.0, "p")]
    result, output, _ = run_fake(plan, sounds, presses=presses)
    begun = [plan.duration_samples - len(p.frames) for p in output.played]
    assert begun == [0, to_samples(2.0), 0, to_samples(2.0), to_samples(10.0), to_samples(2.0)]
    assert all(p.stopped_at is not None for p in output.played[:-1])
    assert result.finished


def test_next_past_the_close_ends_the_session():
    plan, sounds = make_plan()
    result, output, _ = run_fake(plan, sounds, presses=[(0.5, "n"), (0.6, "n"), (0.7, "n"), (0.8, "n")])
    assert result == SessionResult(elapsed_s=pytest.approx(0.8), finished=True, quit=False)
    assert output.played[-1].stopped_at == pytest.approx(100.8)


def test_keys_while_paused_move_the_position_and_stay_paused():
    plan, sounds = make_plan()
    _, output, _ = run_fake(plan, sounds, presses=[(5.0, " "), (6.0, "n"), (7.0, " ")])
    assert len(output.played) == 2
    assert output.played[1].started_at == pytest.approx(107.0)
    assert len(output.played[1].frames) == plan.duration_samples - to_samples(10.0)


def test_quit_stops_the_sound_and_says_so():
    plan, sounds = make_plan()
    result, output, _ = run_fake(plan, sounds, presses=[(3.0, "q")])
    assert result.quit and not result.finished
    assert result.elapsed_s == pytest.approx(3.0)
    assert output.played[0].stopped_at == pytest.approx(103.0)
    assert result.summary() == "session stopped after 0:03"


def test_ctrl_c_stops_the_sound_clears_the_status_and_propagates():
    plan, sounds = make_plan()
    status = FakeStatus()
    with pytest.raises(KeyboardInterrupt):
        _, output, _ = run_fake(plan, sounds, presses=[(3.0, "^C")], status=status)
    assert status.cleared


def test_start_from_an_exercise():
    plan, sounds = make_plan()
    result, output, _ = run_fake(plan, sounds, start_s=10.0)
    assert len(output.played[0].frames) == plan.duration_samples - to_samples(10.0)
    assert result.elapsed_s == pytest.approx(plan.duration_s - 10.0, abs=0.06)


def test_no_device_is_an_audio_device_error_and_nothing_plays():
    plan, sounds = make_plan()
    status = FakeStatus()
    with pytest.raises(AudioDeviceError, match=r"^no audio output device \(cannot open default\)$"):
        run_session(plan, make_mixer(plan, sounds), output=NoDeviceOutput(), clock=FakeClock(), keys=NoKeys(),
                    status=status)
    assert status.positions == [] and status.cleared


# --- the status line ----------------------------------------------------------------------------

class Tty(io.StringIO):
    def isatty(self):
        return True


def test_status_says_what_the_person_is_doing_without_noise():
    plan, _ = make_plan(side="left")
    assert status_text(plan, 0.5) == "introduction · listen · ──────────────── · 0:19 left"
    assert status_text(plan, 2.5, width=40) == "1/2 · bridge · get ready 2 s · 0:17 left"
    # one side, one set, one rep: none of them is worth a word
    assert status_text(plan, 12.5, width=40) == "2/2 · plank · hold 4 s · 0:07 left"
    assert status_text(plan, 9.0, paused=True, width=60) == "paused · 1/2 · bridge · rest 1 s · next: plank · 0:11 left"
    assert status_text(plan, 9.0, paused=True, width=40) == "paused · bridge · rest 1 s · 0:11 left"
    assert status_text(plan, plan.duration_s, width=40) == "finish · listen · ━━━━━━━━ · 0:00 left"


def test_status_shows_sets_reps_and_sides_only_when_there_are_several():
    plan = plan_of("""title = "T"
[[exercises]]
name = "Ankle circles"
instructions = "Circle."
sides = ["right ankle, clockwise", "right ankle, counterclockwise"]
reps = 3
sets = 2
hold_s = 5
""")
    hold = next(s for s in plan.steps if s.kind is StepKind.HOLD and s.set == 2 and s.rep == 3 and s.side.endswith("counterclockwise"))
    text = status_text(plan, hold.start_s + 0.5, width=200)
    assert "Ankle circles · right ankle, counterclockwise · set 2/2 · rep 3/3 · hold 5 s" in text


@pytest.mark.parametrize("routine", ["back-pain-feet", "back-pain-stretches"])
def test_status_never_wider_than_the_terminal_and_keeps_what_matters(routine):
    plan = plan_of((ROOT / "coach" / "routine" / "routines" / f"{routine}.toml").read_text())
    for width, step, paused in itertools.product(range(20, 121, 3), plan.steps[::2], (False, True)):
            text = status_text(plan, step.start_s + 0.4, paused=paused, width=width)
            assert cell_len(text) <= width, text
            assert not re.search(r"\b(talk|announce|set 1/1|rep 1/1)\b", text), text
            if step.kind.is_dose:
                assert f"{step.kind.value} " in text  # what to do is the last thing to go
            if width >= 60 and step.index is not None:
                assert plan.exercise(step.index).name[:8] in text


def plan_of(toml_text: str) -> Plan:
    from coach.plan.settings import Settings, estimate_clip_duration
    from coach.plan.planner import plan
    from coach.routine import parse_routine
    from coach.audio.sounds import builtin_sound_durations_s

    return plan(parse_routine(toml_text, "t.toml", "t"), Settings(sound_s=builtin_sound_durations_s()),
                estimate_clip_duration(160))


def test_status_line_rewrites_in_place_clears_and_follows_the_width():
    stream = Tty()
    line = StatusLine(stream, width=30)
    line.show("exercise 1/2 bridge")
    line.show("exercise 1/2 bridge")
    line.show("rest")
    line.clear()
    assert stream.getvalue() == "\r\x1b[2Kexercise 1/2 bridge\r\x1b[2Krest\r\x1b[2K"
    plan, _ = make_plan()
    line.show_position(plan, 12.5)
    assert stream.getvalue().endswith("\r\x1b[2Kplank · hold 4 s · 0:07 left")  # 30 cells


def test_status_line_follows_a_terminal_resize():
    import fcntl
    import struct

    plan, _ = make_plan(exercises=("a rather long exercise name", "plank"))
    master, slave = pty.openpty()
    try:
        with open(slave, "w", closefd=False, encoding="utf-8") as stream:
            line = StatusLine(stream)
            shown = []
            for columns in (80, 40, 100):
                fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
                line.show_position(plan, 2.5 + columns / 1000)
                shown.append(line._shown)
    finally:
        os.close(master)
        os.close(slave)
    assert [cell_len(text) <= columns - 1 for text, columns in zip(shown, (80, 40, 100))] == [True] * 3
    assert cell_len(shown[1]) < cell_len(shown[0]) <= cell_len(shown[2])


def test_status_line_writes_nothing_when_not_a_terminal():
    stream = io.StringIO()
    line = StatusLine(stream)
    plan, _ = make_plan()
    line.show_position(plan, 3.0)
    line.show("anything")
    line.clear()
    assert stream.getvalue() == ""


def test_session_status_follows_the_audio_position():
    plan, sounds = make_plan()
    status = FakeStatus()
    run_fake(plan, sounds, presses=[(5.0, " "), (6.0, " ")], status=status)
    shown = list(zip(status.positions, status.paused))
    assert shown[0] == (0.0, False)
    assert (5.0, True) in shown  # paused at 5.0 s, and it stays there while paused
    assert [p for p, paused in shown if paused] == [5.0] * sum(paused for _, paused in shown)
    assert shown[-1] == (plan.duration_s, False) and status.cleared
    moving = [p for p, paused in shown if not paused]
    assert all(b >= a for a, b in zip(moving, moving[1:]) if b > 4.5)  # after the resume it only moves on


# --- keys from a terminal -----------------------------------------------------------------------

def test_open_keys_reads_single_keys_and_restores_the_terminal():
    master, slave = pty.openpty()
    try:
        before = termios.tcgetattr(slave)
        with open(slave, "r", closefd=False) as stream, open_keys(stream) as keys:
            during = termios.tcgetattr(slave)
            assert not during[3] & (termios.ICANON | termios.ECHO)
            assert during[3] & termios.ISIG  # Ctrl+C still interrupts
            assert keys.poll(0.01) is None
            os.write(master, b"n")
            assert keys.poll(0.5) == "n"
        assert termios.tcgetattr(slave) == before
    finally:
        os.close(master)
        os.close(slave)


def test_open_keys_without_a_terminal_just_waits():
    with open_keys(io.StringIO()) as keys:
        assert isinstance(keys, NoKeys)
        assert keys.poll(0.0) is None


# --- real audio through a private PulseAudio server ---------------------------------------------
# Kept few and short: the one live-vs-export comparison of a real session is in test_run_cli.py.

DRIVER = """
import json, sys, time
sys.path[:0] = [{tests!r}]
from test_live import make_plan, make_mixer, COMPACT
from coach.live.player import run_session
from coach.live.status import StatusLine
args = json.loads(sys.argv[1])
plan, sounds = make_plan(exercises=args.get("exercises", ("bridge", "plank")), **COMPACT)
try:
    result = run_session(plan, make_mixer(plan, sounds), window_s=args["window_s"], status=StatusLine(sys.stderr))
except KeyboardInterrupt:
    sys.exit(130)
print(json.dumps({{"elapsed_s": result.elapsed_s, "finished": result.finished, "quit": result.quit}}))
"""


def driver_command(**args) -> list[str]:
    return [sys.executable, "-c", DRIVER.format(tests=str(HERE)), json.dumps(args)]


def play_and_record(server, tmp_path: Path, **args) -> np.ndarray:
    with server.recording(tmp_path / "live.wav") as wav:
        done = subprocess.run(driver_command(**args), env=server.env, capture_output=True, text=True, timeout=60,
                              cwd=ROOT, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["finished"] is True
    return read_recording(wav)


def assert_tones_in_order(recorded: np.ndarray, heard_s: list[float]) -> None:
    """Every cue is its own tone, so nothing was skipped or repeated."""
    for number, at_s in enumerate(heard_s):
        assert dominant_hz(recorded, at_s + 0.01) == pytest.approx(cue_hz(number), abs=15)


def test_buffers_join_at_seams_without_losing_or_shifting_cues(pulse_server, tmp_path):
    plan, _ = make_plan(exercises=("bridge",), **COMPACT)
    recorded = play_and_record(pulse_server, tmp_path, window_s=2.0, exercises=["bridge"])
    heard = onsets_s(recorded)
    assert len(heard) == len(plan.cues)
    assert_tones_in_order(recorded, heard)
    # Each hand-off may move what follows by the difference of two streams' start-up latencies.
    interval_errors_ms = (np.diff(heard) - np.diff([c.at_s for c in plan.cues])) * 1000
    assert np.max(np.abs(interval_errors_ms)) <= 50, interval_errors_ms.round(1)


def spawn_on_pty(server, **args):
    """The driver with a pseudo-terminal as stdin and controlling terminal; returns (process, master, t0).

    t0 is when session time zero is heard: the first status line is written right after the first
    buffer starts, and that buffer opens with the lead-in.
    """
    import fcntl
    import struct

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))

    def take_terminal():
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    process = subprocess.Popen(driver_command(**args), env=server.env, stdin=slave, stdout=subprocess.PIPE,
                               stderr=slave, text=True, cwd=ROOT, start_new_session=True, preexec_fn=take_terminal)
    os.close(slave)
    ready, _, _ = select.select([master], [], [], 20)
    assert ready, "the session never started"
    return process, master, time.monotonic() + LEAD_IN_S


def screen_text(master: int) -> str:
    """Everything the driver wrote to its terminal that has not been read yet."""
    chunks = []
    while select.select([master], [], [], 0.2)[0]:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", "replace")


def press_at(master: int, t0: float, at_s: float, key: bytes) -> None:
    time.sleep(max(0.0, t0 + at_s - time.monotonic()))
    os.write(master, key)


def heard_tones(recorded: np.ndarray) -> list[tuple[float, int]]:
    """(onset, cue number) of each tone in a recording."""
    found = []
    for at_s in onsets_s(recorded):
        hz = dominant_hz(recorded, at_s + 0.01)
        found.append((at_s, round((hz - 400.0) / 90.0)))
    return found


def test_pause_resume_and_skip_from_the_keyboard(pulse_server, tmp_path):
    # compact plan: intro 0-1, bridge prepare 1-2, hold 2-4 (middle cue 3), rest 4-5; plank from 5 s
    with pulse_server.recording(tmp_path / "keys.wav") as wav:
        process, master, t0 = spawn_on_pty(pulse_server, window_s=300.0)
        try:
            press_at(master, t0, 2.5, b" ")  # mid-hold of bridge, before its middle cue
            press_at(master, t0, 3.5, b" ")  # resume: the hold starts again at 2 s, after a lead-in
            press_at(master, t0, 4.0 + LEAD_IN_S, b"n")  # position 2.5 s: skip to plank at 5 s
            err = screen_text(master)
            out, _ = process.communicate(timeout=30)
            err += screen_text(master)
        finally:
            os.close(master)
    assert process.returncode == 0, err
    assert json.loads(out)["finished"] is True
    tones = heard_tones(read_recording(wav))
    # intro, bridge prepare, hold, hold again, then plank prepare, hold, middle, rest, close.
    assert [n for _, n in tones] == [0, 1, 2, 2, 5, 6, 7, 8, 9], (tones, err[-300:])
    onset = [t for t, _ in tones]
    assert onset[3] - onset[2] == pytest.approx(0.5 + 1.0 + LEAD_IN_S, abs=0.1)  # heard, paused, lead-in
    assert onset[4] - onset[3] == pytest.approx(0.5 + LEAD_IN_S, abs=0.1)  # the skip answers at once
    assert onset[5] - onset[4] == pytest.approx(1.0, abs=0.02)  # and plays on in time
    assert "paused · 1/2 · bridge · hold 2 s" in err


def test_ctrl_c_silences_at_once_and_restores_the_terminal(pulse_server, tmp_path):
    with pulse_server.recording(tmp_path / "interrupt.wav") as wav:
        process, master, t0 = spawn_on_pty(pulse_server, window_s=300.0)
        try:
            press_at(master, t0, 1.5, b"\x03")
            out, _ = process.communicate(timeout=30)
            err = screen_text(master)
            attrs = termios.tcgetattr(master)
        finally:
            os.close(master)
    assert process.returncode == 130, err
    assert attrs[3] & termios.ICANON and attrs[3] & termios.ECHO
    numbers = [n for _, n in heard_tones(read_recording(wav))]
    assert numbers == [0, 1]  # intro and bridge prepare (1 s); nothing after 1.5 s
