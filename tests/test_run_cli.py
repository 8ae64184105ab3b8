"""`coach run` as a person starts it: the real CLI against a real (null-sink) audio server, or none."""

import json
import signal
import subprocess
import sys
import time

import numpy as np
import soundfile

from coach.routine import load_routine_file
from coach.session import SessionOptions, build_session
from pulse import no_device_env, onsets_s, pulse_server, read_recording  # noqa: F401 (fixture)

# The shortest session that still has every kind of step: about 17 s of real time at 400 wpm.
TINY_ROUTINE = """\
title = "Tiny"

[[exercises]]
name = "Press"
instructions = "Press down."
setup_s = 1
hold_s = 2
"""


def coach_cmd(*args):
    return [sys.executable, "-m", "coach", *args]


def envelope(samples: np.ndarray, hop: int = 441) -> np.ndarray:
    """Mean absolute level per 20 ms."""
    usable = len(samples) // hop * hop
    return np.abs(samples[:usable]).reshape(-1, hop).mean(axis=1)


def best_shift(reference: np.ndarray, recording: np.ndarray) -> int:
    """Samples by which recording lags reference, found by cross-correlating their envelopes."""
    ref, rec = envelope(reference, 64), envelope(recording, 64)
    corr = np.correlate(rec - rec.mean(), ref - ref.mean(), mode="full")
    coarse = int(np.argmax(corr)) - (len(ref) - 1)
    return coarse * 64


def test_no_device_prints_one_line_with_the_matching_export_command(tmp_path):
    done = subprocess.run(coach_cmd("run", "back-pain-stretches", "--rate", "200", "--beep-volume", "50"),
                          env=no_device_env(tmp_path), capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if line.startswith("coach:")]
    assert len(lines) == 1, done.stderr
    assert "no audio output device" in lines[0]
    assert lines[0].endswith("coach export back-pain-stretches session.mp3 --rate 200 --beep-volume 50")
    assert "Traceback" not in done.stderr and "ALSA lib" not in done.stderr


def test_run_from_an_exercise_plays_it_and_ctrl_c_exits_130(pulse_server, tmp_path, short_routine):
    session = build_session(load_routine_file(short_routine), SessionOptions())  # also warms the clip cache
    march = next(c for c in session.plan.chapters if c.exercise == 2)
    with pulse_server.recording(tmp_path / "live.wav") as wav:
        process = subprocess.Popen(coach_cmd("run", str(short_routine), "--from", "march"),
                                   env=pulse_server.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        time.sleep(3.5)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert "Short test" in err  # the title line; --quiet would print nothing
    assert err.splitlines()[-1].startswith("session stopped after 0:0")  # Ctrl+C says so, as q does
    # What was heard is the session from the March chapter on, not from its start.
    heard = read_recording(wav)
    start = round(march.start_s * 22050)
    from_march = session.mixer().render(start, start + 22050 * 2)
    from_start = session.mixer().render(0, 22050 * 2)
    def match(reference):
        shift = best_shift(reference, heard)
        piece = heard[max(0, shift):max(0, shift) + len(reference)]
        return np.corrcoef(envelope(reference[:len(piece)]), envelope(piece))[0, 1]
    assert match(from_march) > 0.9 > match(from_start)


def test_live_audio_is_the_exported_audio(pulse_server, tmp_path):
    """What the speaker plays is the exported file, shifted only by the device's constant latency."""
    routine = tmp_path / "tiny.toml"
    routine.write_text(TINY_ROUTINE)
    exported = tmp_path / "tiny.wav"
    subprocess.run(coach_cmd("export", str(routine), str(exported), "--rate", "400"), check=True, capture_output=True, timeout=300)
    file_audio, _ = soundfile.read(exported, dtype="float32")
    with pulse_server.recording(tmp_path / "live.wav") as wav:
        done = subprocess.run(coach_cmd("run", str(routine), "--quiet", "--rate", "400"), env=pulse_server.env,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == ""  # --quiet: nothing on the screen
    logged = subprocess.run(coach_cmd("history", "--json"), capture_output=True, text=True, timeout=60)
    newest = json.loads(logged.stdout)["sessions"][0]
    assert (newest["routine"], newest["outcome"], newest["done_s"], newest["exercises"][0]["done_reps"]) == (
        "tiny", "finished", 2, 1)
    live = read_recording(wav)
    # Every onset is where the file has it, after one constant latency.
    want, got = onsets_s(file_audio, 0.02), onsets_s(live, 0.02)
    assert len(got) == len(want), (want, got)
    offsets = [g - w for g, w in zip(got, want)]
    median = sorted(offsets)[len(offsets) // 2]
    errors_ms = [abs(o - median) * 1000 for o in offsets]
    assert max(errors_ms) <= 20, errors_ms
    # The sound itself matches, sample for sample up to the latency, from the very first word on:
    # the lead-in of silence keeps the cold start of the stream from eating its beginning.
    shift = round(median * 22050)
    aligned = live[shift:shift + len(file_audio)]
    n = min(len(aligned), len(file_audio))
    assert n >= len(file_audio) - 22050 // 2
    assert np.corrcoef(envelope(file_audio[:n]), envelope(aligned[:n]))[0, 1] > 0.95
    first_word = slice(round(want[0] * 22050), round((want[0] + 0.25) * 22050))
    heard_rms = np.sqrt(np.mean(aligned[first_word] ** 2))
    file_rms = np.sqrt(np.mean(file_audio[first_word] ** 2))
    assert abs(heard_rms / file_rms - 1) < 0.05
    residual = aligned[:n] - file_audio[:n]
    assert np.sqrt(np.mean(residual ** 2)) < 0.05 * np.sqrt(np.mean(file_audio[:n] ** 2)) + 1e-4
