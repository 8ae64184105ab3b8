"""Live-playback benchmarks for scripts/bench, through a private PulseAudio server with a null sink.

1. Onset accuracy: a ~2.5-minute synthetic session (every cue its own tone) played by run_session with
   the default window; the sink's monitor is recorded and each cue's onset compared with its plan.
2. Time to first sound: the real `coach run back-pain-feet --quiet` with a warm clip cache, interrupted
   after ~3 s. The recording's time base is tied to the monotonic clock by a marker buffer played just
   before through the same output class, so the path's constant latency cancels out.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
sys.path[:0] = [str(ROOT), str(TESTS)]

from coach.live.player import WINDOW_S  # noqa: E402
from coach.plan.model import SAMPLE_RATE  # noqa: E402
from pulse import PulseServer, dominant_hz, onsets_s, read_recording, running_server  # noqa: E402
from test_live import cue_hz, make_plan  # noqa: E402

ONSET_TARGET_MS = 5.0
FIRST_SOUND_TARGET_S = 1.0
EXERCISES = tuple(f"exercise {i}" for i in range(1, 19))  # 18 x 8 s + 3.5 s = 147.5 s, 74 distinct tones
RUN_FOR_S = 3.0
MARKER_S = 1.0  # a whole second, longer than any start threshold, so it starts like a session buffer
SILENT = 1.5 / 32768  # anything louder than one int16 step is sound

# Plays test_live's tone session through run_session, quietly; prints whether it ran to the end.
DRIVER = """
import json, sys
sys.path[:0] = [{root!r}, {tests!r}]
from test_live import make_mixer, make_plan
from coach.live.player import run_session
args = json.loads(sys.argv[1])
plan, sounds = make_plan(exercises=args["exercises"])
try:
    result = run_session(plan, make_mixer(plan, sounds), window_s=args["window_s"])
except KeyboardInterrupt:
    sys.exit(130)
print(json.dumps({{"finished": result.finished}}))
"""


def driver_command(**args) -> list[str]:
    return [sys.executable, "-c", DRIVER.format(root=str(ROOT), tests=str(TESTS)), json.dumps(args)]


def match_onsets(plan, heard_s: list[float]) -> np.ndarray:
    """Heard minus planned onset for each cue, less their median (the path's constant latency)."""
    offsets = np.array(heard_s) - np.array([c.at_s for c in plan.cues])
    return offsets - np.median(offsets)


# Plays a 100 ms tone then silence (MARKER_S in all) through coach's own output; prints the monotonic
# time of the play() call and of the moment the device reported it drained.
MARKER = """
import json, sys, time
import numpy as np
sys.path.insert(0, {root!r})
from coach.live.player import SimpleaudioOutput
from coach.plan.model import SAMPLE_RATE
frames = np.zeros(round({marker_s} * SAMPLE_RATE), dtype=np.int16)
t = np.arange(round(0.1 * SAMPLE_RATE)) / SAMPLE_RATE
frames[:len(t)] = (12000 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16)
called = time.monotonic()
playback = SimpleaudioOutput().play(frames)
while playback.is_playing():
    time.sleep(0.001)
print(json.dumps({{"called": called, "drained": time.monotonic()}}))
"""


def first_sound_index(samples: np.ndarray, from_index: int = 0) -> int | None:
    """Index of the first sample above one int16 step at or after from_index."""
    loud = np.flatnonzero(np.abs(samples[from_index:]) > SILENT)
    return None if len(loud) == 0 else from_index + int(loud[0])


def bench_onsets(server: PulseServer, folder: Path) -> bool:
    """Play the synthetic tone session with the default window; report onset error and drift."""
    plan, _ = make_plan(exercises=EXERCISES)
    with server.recording(folder / "onsets.wav") as wav:
        done = subprocess.run(driver_command(window_s=WINDOW_S, exercises=list(EXERCISES)), env=server.env,
                              capture_output=True, text=True, timeout=plan.duration_s + 60, cwd=ROOT,
                              stdin=subprocess.DEVNULL)
    if done.returncode != 0 or not json.loads(done.stdout)["finished"]:
        print(f"live onsets: the session did not finish (exit {done.returncode})\n{done.stderr}", end="")
        return False
    recorded = read_recording(wav)
    heard = onsets_s(recorded)
    if len(heard) != len(plan.cues):
        print(f"live onsets: heard {len(heard)} cues, planned {len(plan.cues)}")
        print(f"  onset error <= {ONSET_TARGET_MS:g} ms: FAIL")
        return False
    wrong_tone = sum(abs(dominant_hz(recorded, at_s + 0.01) - cue_hz(n)) > 15 for n, at_s in enumerate(heard))
    offsets_ms = (np.array(heard) - np.array([c.at_s for c in plan.cues])) * 1000
    errors_ms = np.abs(match_onsets(plan, heard) * 1000)
    drift_ms = offsets_ms[-1] - offsets_ms[0]
    good = errors_ms.max() <= ONSET_TARGET_MS and wrong_tone == 0
    print(f"live onsets, {plan.duration_s:.1f} s synthetic session ({len(plan.cues)} tones, window {WINDOW_S:g} s): "
          f"|error| max {errors_ms.max():.2f} ms, median {np.median(errors_ms):.2f} ms, "
          f"drift last-first {drift_ms:+.2f} ms, wrong tones {wrong_tone}")
    print(f"  onset error <= {ONSET_TARGET_MS:g} ms: {'ok' if good else 'FAIL'}")
    return good


def bench_first_sound(server: PulseServer, folder: Path) -> bool:
    """Time from starting `coach run` to its first sound; check that Ctrl+C ends it with exit 130."""
    coach = [sys.executable, "-m", "coach"]
    # The server's environment has its own HOME, hence its own clip cache: warm that one.
    subprocess.run(coach + ["plan", "back-pain-feet"], env=server.env, cwd=ROOT, check=True, capture_output=True)
    with server.recording(folder / "first.wav") as wav:
        marker = subprocess.run([sys.executable, "-c", MARKER.format(root=str(ROOT), marker_s=MARKER_S)],
                                env=server.env, cwd=ROOT, capture_output=True, text=True, timeout=30)
        if marker.returncode != 0:
            print(f"first sound: the marker did not play\n{marker.stderr}", end="")
            return False
        times = json.loads(marker.stdout)
        time.sleep(0.3)
        started = time.monotonic()
        process = subprocess.Popen(coach + ["run", "back-pain-feet", "--quiet"], env=server.env, cwd=ROOT,
                                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(max(0.0, started + RUN_FOR_S - time.monotonic()))
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=10)
    recorded = read_recording(wav)
    marker_at = first_sound_index(recorded)
    session_at = None if marker_at is None else first_sound_index(recorded, marker_at + round(MARKER_S * SAMPLE_RATE))
    if session_at is None:
        print(f"first sound: nothing heard (marker {marker_at}, exit {process.returncode})\n{err}", end="")
        return False
    # The marker's first sample left play() at times["called"]; both go through the same path.
    sounded_at = times["called"] + (session_at - marker_at) / SAMPLE_RATE
    first_s = sounded_at - started
    latency_s = times["drained"] - times["called"] - MARKER_S
    exited_ok = process.returncode == 130
    good = first_s < FIRST_SOUND_TARGET_S and exited_ok
    print(f"first sound of `coach run back-pain-feet --quiet` (warm clip cache): {first_s * 1000:.0f} ms "
          f"after process start, output latency removed "
          f"(+ ~{latency_s * 1000:.0f} ms estimated null-sink latency = ~{(first_s + latency_s) * 1000:.0f} ms raw); "
          f"SIGINT at {RUN_FOR_S:g} s -> exit {process.returncode}")
    print(f"  first sound < {FIRST_SOUND_TARGET_S:g} s: {'ok' if first_s < FIRST_SOUND_TARGET_S else 'FAIL'}")
    print(f"  Ctrl+C exits 130: {'ok' if exited_ok else 'FAIL'}")
    return good


def bench_live() -> bool:
    """Both live benchmarks against one private PulseAudio server."""
    with tempfile.TemporaryDirectory(prefix="coach-bench-live-") as tmp:
        folder = Path(tmp)
        with running_server(folder / "pulse") as server:
            ok = bench_onsets(server, folder)
            ok &= bench_first_sound(server, folder)
    return ok
