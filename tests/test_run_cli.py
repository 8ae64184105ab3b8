"""`coach run` as a person starts it: the real CLI against a real (null-sink) audio server, or none."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from pulse import no_device_env, pulse_server, read_recording  # noqa: F401 (fixture)

ROOT = Path(__file__).resolve().parents[1]


def coach_cmd(*args):
    return [sys.executable, "-m", "coach", *args]


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


def test_run_plays_the_routine_and_ctrl_c_exits_130(pulse_server, tmp_path):
    subprocess.run(coach_cmd("plan", "back-pain-feet"), check=True, capture_output=True, timeout=300)  # warm cache
    with pulse_server.recording(tmp_path / "live.wav") as wav:
        process = subprocess.Popen(coach_cmd("run", "back-pain-feet", "--from", "toe walking"),
                                   env=pulse_server.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        time.sleep(4.0)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert "Feet first" in err  # the title line; --quiet would print nothing
    audio = read_recording(wav)
    assert (abs(audio) > 0.01).any(), "nothing was heard"


def test_live_audio_is_the_exported_audio(pulse_server, tmp_path, short_routine):
    """What the speaker plays is the exported file, shifted only by the device's constant latency."""
    import soundfile

    from pulse import onsets_s

    routine = short_routine
    exported = tmp_path / "short.wav"
    subprocess.run(coach_cmd("export", str(routine), str(exported)), check=True, capture_output=True, timeout=300)
    file_audio, _ = soundfile.read(exported, dtype="float32")
    with pulse_server.recording(tmp_path / "live.wav") as wav:
        done = subprocess.run(coach_cmd("run", str(routine), "--quiet"), env=pulse_server.env,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == ""  # --quiet: nothing on the screen
    live = read_recording(wav)
    want, got = onsets_s(file_audio, 0.02), onsets_s(live, 0.02)
    assert len(got) == len(want), (want, got)
    offsets = [g - w for g, w in zip(got, want)]
    median = sorted(offsets)[len(offsets) // 2]
    errors_ms = [abs(o - median) * 1000 for o in offsets]
    assert max(errors_ms) <= 20, errors_ms
    # and the sound itself matches: the latency-aligned recording follows the file's envelope
    shift = round(median * 22050)
    aligned = live[shift:shift + len(file_audio)]
    n = min(len(aligned), len(file_audio))
    frames = n // 441 * 441
    env_file = np.abs(file_audio[:frames]).reshape(-1, 441).mean(axis=1)
    env_live = np.abs(aligned[:frames]).reshape(-1, 441).mean(axis=1)
    assert np.corrcoef(env_file, env_live)[0, 1] > 0.95
