"""`coach run` as a person starts it: the real CLI against a real (null-sink) audio server, or none."""

import signal
import subprocess
import sys
import time
from pathlib import Path

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
