"""Live playback on an overloaded machine, for scripts/bench: does every cue still sound, and on time?

CPU hogs (plain Python busy loops, as many as HOGS_PER_CPU per core, which gives a load average of
about 6 on two cores) run while test_live's tone session (every cue a tone of its own frequency) plays
through run_session into a private PulseAudio null sink, twice: with coach as it is, and with the
device writer's head start (coach.live.priority.urgent_thread) switched off, as coach was before it.
The sound server and the recorder run at real-time priority, as a desktop's rtkit gives a sound server,
so what is measured is coach's side, not a starved capture.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
sys.path[:0] = [str(ROOT), str(TESTS)]

from coach.plan.model import SAMPLE_RATE  # noqa: E402
from pulse import SINK, PulseServer, dominant_hz, onsets_s, read_recording  # noqa: E402
from test_live import cue_hz, make_plan  # noqa: E402

HOGS_PER_CPU = 3
EXERCISES = tuple(f"exercise {i}" for i in range(1, 13))  # 12 x 8 s + 3.5 s = 99.5 s, 50 tones
SERVER_RT_PRIORITY = 10  # above coach's own (3), as rtkit puts a sound server above its clients
LATE_MS = 50.0  # a cue this much later than the session's median offset counts as late

DRIVER = """
import contextlib, json, sys
sys.path[:0] = [{root!r}, {tests!r}]
from test_live import make_mixer, make_plan
import coach.live.player as player
args = json.loads(sys.argv[1])
if not args["urgent"]:
    player.urgent_thread = contextlib.nullcontext
plan, sounds = make_plan(exercises=args["exercises"])
result = player.run_session(plan, make_mixer(plan, sounds))
print(json.dumps({{"finished": result.finished}}))
"""

HOG = "while True: pass"


@contextmanager
def hogs(count: int):
    """`count` busy processes at ordinary priority while the block runs."""
    processes = [subprocess.Popen([sys.executable, "-c", HOG]) for _ in range(count)]
    try:
        time.sleep(5.0)  # let the load average climb a little
        yield
    finally:
        for process in processes:
            process.send_signal(signal.SIGKILL)
        for process in processes:
            process.wait()


def realtime(pid: int) -> None:
    """Every thread of pid at SCHED_RR SERVER_RT_PRIORITY, where allowed (else as it is)."""
    subprocess.run(["chrt", "-a", "-r", "-p", str(SERVER_RT_PRIORITY), str(pid)], capture_output=True)


@contextmanager
def recording(server: PulseServer, path: Path):
    """As PulseServer.recording, with the recorder at real-time priority."""
    recorder = subprocess.Popen(
        ["parecord", "-d", f"{SINK}.monitor", f"--rate={SAMPLE_RATE}", "--channels=1", "--format=s16le",
         "--file-format=wav", "--latency-msec=20", str(path)], env=server.env, stderr=subprocess.PIPE)
    realtime(recorder.pid)
    try:
        time.sleep(0.3)
        yield path
    finally:
        recorder.send_signal(signal.SIGINT)
        recorder.wait(timeout=10)


def play_once(server: PulseServer, folder: Path, urgent: bool) -> dict:
    """One loaded run: cues heard, missing, late, and the onset errors against the plan."""
    plan, _ = make_plan(exercises=EXERCISES)
    wav = folder / f"load-{'urgent' if urgent else 'plain'}.wav"
    with recording(server, wav):
        done = subprocess.run(
            [sys.executable, "-c", DRIVER.format(root=str(ROOT), tests=str(TESTS)),
             json.dumps({"exercises": list(EXERCISES), "urgent": urgent})],
            env=server.env, capture_output=True, text=True, timeout=plan.duration_s + 120, cwd=ROOT,
            stdin=subprocess.DEVNULL)
        load = os.getloadavg()[0]
    recorded = read_recording(wav)
    planned = [c.at_s for c in plan.cues]
    heard: dict[int, float] = {}
    for at_s in onsets_s(recorded):
        number = round((dominant_hz(recorded, at_s + 0.01) - cue_hz(0)) / (cue_hz(1) - cue_hz(0)))
        if 0 <= number < len(planned) and number not in heard:
            heard[number] = at_s
    offsets_ms = np.array([(heard[n] - planned[n]) * 1000 for n in sorted(heard)])
    errors_ms = offsets_ms - np.median(offsets_ms) if len(offsets_ms) else offsets_ms
    return {"urgent": urgent, "finished": done.returncode == 0, "load_1min": round(load, 1),
            "cues": len(planned), "missing": len(planned) - len(heard),
            "late": int(np.sum(errors_ms > LATE_MS)),
            "error_max_ms": round(float(np.max(np.abs(errors_ms))), 1) if len(errors_ms) else None,
            "error_median_ms": round(float(np.median(np.abs(errors_ms))), 2) if len(errors_ms) else None,
            "drift_ms": round(float(offsets_ms[-1] - offsets_ms[0]), 1) if len(offsets_ms) else None,
            "offsets_ms": {n: round(float(o), 1) for n, o in zip(sorted(heard), offsets_ms)}}


def show(run: dict) -> None:
    which = "with the head start" if run["urgent"] else "without it (before)"
    print(f"  {which:22} load {run['load_1min']:4.1f}: {run['cues'] - run['missing']}/{run['cues']} cues heard, "
          f"{run['late']} more than {LATE_MS:g} ms late, |error| max {run['error_max_ms']} ms, "
          f"median {run['error_median_ms']} ms, drift {run['drift_ms']} ms"
          + ("" if run["finished"] else "  (the session did not finish)"))


def bench_load() -> dict:
    """Both runs under the same hogs, against one private PulseAudio server."""
    count = HOGS_PER_CPU * (os.cpu_count() or 1)
    print(f"live session under load ({count} busy processes on {os.cpu_count()} CPUs, "
          f"{len(EXERCISES) * 8 + 3.5:g} s tone session):")
    with tempfile.TemporaryDirectory(prefix="coach-bench-load-") as tmp:
        folder = Path(tmp)
        (folder / "pulse").mkdir()
        server = PulseServer(folder / "pulse")
        server.start()
        try:
            realtime(server.process.pid)  # type: ignore[union-attr]
            with hogs(count):
                runs = [play_once(server, folder, urgent) for urgent in (True, False)]  # "now" first: it gets no less load
        finally:
            server.stop()
    runs.reverse()  # before, then now
    for run in runs:
        show(run)
    ok = runs[1]["missing"] == 0 and runs[1]["late"] == 0 and runs[1]["finished"]
    print(f"  every cue heard under load: {'ok' if ok else 'FAIL'}")
    return {"runs": runs, "ok": ok}


if __name__ == "__main__":
    sys.exit(0 if bench_load()["ok"] else 1)
