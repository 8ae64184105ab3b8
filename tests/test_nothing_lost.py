"""Nothing is lost without a word: start and stop cues of the user's sounds, and temporaries a killed export left."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from coach.errors import OptionError
from coach.files import atomic_output
from coach.plan.model import SAMPLE_RATE, SOUND_START, SOUND_STOP, CueKind
from coach.routine import load_routine
from coach.session import SessionOptions, build_session


def write_tone(path: Path, seconds: float) -> None:
    t = np.arange(round(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    sf.write(path, (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), SAMPLE_RATE)


@pytest.mark.parametrize(("name", "seconds", "step"), [
    (SOUND_START, 3.5, "hold or work period it must fit in (3.00 s)"),
    (SOUND_STOP, 2.5, "rest it must fit in (2.00 s)"),
])
def test_a_start_or_stop_sound_longer_than_its_gap_is_refused_naming_it(tmp_path, name, seconds, step):
    write_tone(tmp_path / f"{name}.wav", seconds)
    # back-pain-feet: its first exercise holds 3 s with 2 s rests between presses
    with pytest.raises(OptionError) as caught:
        build_session(load_routine("back-pain-feet"), SessionOptions(no_voice=True, sounds_dir=tmp_path))
    assert caught.value.option == "--sounds"
    assert str(tmp_path / f"{name}.wav") in caught.value.reason
    assert f"lasts {seconds:.2f} s" in caught.value.reason and step in caught.value.reason


def test_start_and_stop_sounds_that_fit_sound_at_every_hold(tmp_path):
    write_tone(tmp_path / "start.wav", 1.5)
    write_tone(tmp_path / "stop.wav", 1.9)
    session = build_session(load_routine("back-pain-feet"), SessionOptions(no_voice=True, sounds_dir=tmp_path))
    sounded = {(c.sound, round(c.at_s, 6)) for c in session.plan.cues if c.kind == CueKind.SOUND}
    doses = [s for s in session.plan.steps if s.kind.is_dose]
    assert all((SOUND_START, round(s.start_s, 6)) in sounded for s in doses)
    assert all((SOUND_STOP, round(s.end_s, 6)) in sounded for s in doses)


def _write_and_die(output: Path) -> None:
    with atomic_output(output) as tmp:
        tmp.write_bytes(b"half an export")
        os.kill(os.getpid(), signal.SIGKILL)


def test_temporaries_of_a_killed_export_are_removed_by_the_next_write_there(tmp_path):
    output = tmp_path / "session.wav"
    child = multiprocessing.get_context("fork").Process(target=_write_and_die, args=(output,))
    child.start()
    child.join(10)
    assert child.exitcode == -signal.SIGKILL
    (left,) = [p.name for p in tmp_path.iterdir()]
    assert left.startswith(".session.wav.") and left.endswith(".part")
    old_style_fresh = tmp_path / ".other.mp3.k2j4h5g6.part"  # no writer PID in the name: judged by its age
    old_style_stale = tmp_path / ".other.mp3.a1b2c3d4.part"
    still_written = tmp_path / f".third.flac.{os.getpid()}.q1w2e3r4.part"  # its writer runs: kept, however old
    other_programs = [tmp_path / "download.part", tmp_path / ".notes.part", tmp_path / "draft.txt", still_written]
    for path in [old_style_fresh, old_style_stale, *other_programs]:
        path.write_text("x")
    an_hour_ago = time.time() - 3600
    os.utime(old_style_stale, (an_hour_ago, an_hour_ago))
    for path in other_programs:
        os.utime(path, (an_hour_ago, an_hour_ago))
    with atomic_output(tmp_path / "other.mp3") as tmp:
        assert tmp.name.startswith(f".other.mp3.{os.getpid()}.")
        tmp.write_bytes(b"whole")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [old_style_fresh.name, "other.mp3", *(p.name for p in other_programs)])
