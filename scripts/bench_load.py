"""Live playback on an overloaded machine, for scripts/bench: does every cue still sound, and on time?

CPU hogs (plain Python busy loops, as many as HOGS_PER_CPU per core, which gives a load average of
about 6 on two cores) run while test_live's tone session (every cue a tone of its own frequency) plays
through run_session into a private PulseAudio null sink, twice: with coach as it is, and with the
head start of the device's writer threads (coach.live.priority.lifting_threads_started) switched off, as
coach was before the overload work.
The sound server and the recorder run at real-time priority, as a desktop's rtkit gives a sound server,
so what is measured is coach's side, not a starved capture.

Then the same session plays beside STEERED coach sessions steered hard over MPRIS (scripts/bench_steer.py),
into a sound server of its own without real-time priority (as where no rtkit grants it). Every run
reports the stalls heard in the recording (a cue STALL_MS or more later, against the plan, than the one
before it) with their length, the stalls the player itself noticed (coach.live.stall), and the load average. Last, a stall
made on purpose: the sound server stopped (SIGSTOP) for STOP_S in the middle of a session, with the
player catching up at the next silence and without (every later cue late).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
sys.path[:0] = [str(ROOT), str(TESTS)]

from coach.plan.model import SAMPLE_RATE  # noqa: E402
from pulse import SINK, PulseServer, dominant_hz, onsets_s, read_recording, running_server  # noqa: E402
from test_live import cue_hz, make_plan  # noqa: E402

HOGS_PER_CPU = 3
EXERCISES = tuple(f"exercise {i}" for i in range(1, 13))  # 12 x 8 s + 3.5 s = 99.5 s, 50 tones
SERVER_RT_PRIORITY = 10  # above coach's own (3), as rtkit puts a sound server above its clients
LATE_MS = 50.0  # a cue this much later than the session's median offset counts as late
STALL_MS = 100.0  # a cue this much later than the one before it (against the plan) means the sound stalled
STEERED = 3  # sessions steered hard beside the measured one
STOP_AT_S, STOP_S = 20.0, 2.0  # when and how long the sound server is stopped in bench_stopped_server

DRIVER = """
import contextlib, json, sys
sys.path[:0] = [{root!r}, {tests!r}]
from test_live import make_mixer, make_plan
import coach.live.player as player
import coach.live.stall as stall
args = json.loads(sys.argv[1])
if not args["urgent"]:
    player.lifting_threads_started = lambda: contextlib.nullcontext([])
probes = []
player.StallProbe = lambda *given: probes.append(stall.StallProbe(*given)) or probes[-1]
output = player.SimpleaudioOutput()
output.notices_stalls = args.get("watch", True)
plan, sounds = make_plan(exercises=args["exercises"])
result = player.run_session(plan, make_mixer(plan, sounds), output=output)
noticed = [round(found.length_s * 1000, 1) for probe in probes for found in probe.stalls]
print(json.dumps({{"finished": result.finished, "noticed_ms": noticed}}))
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


def stalls_ms(offsets_ms: dict[int, float], cues: list[float]) -> list[dict]:
    """Where the sound stalled: each cue heard STALL_MS or more later (against the plan) than the cue before it."""
    found, before = [], None
    for number in sorted(offsets_ms):
        if before is not None and offsets_ms[number] - offsets_ms[before] >= STALL_MS:
            found.append({"before_cue_s": round(cues[number], 1),
                          "length_ms": round(offsets_ms[number] - offsets_ms[before], 1)})
        before = number
    return found


def play_once(server: PulseServer, folder: Path, urgent: bool, label: str = "", exercises=EXERCISES,
              watch: bool = True) -> dict:
    """One loaded run: cues heard, missing, late, and the onset errors against the plan."""
    plan, _ = make_plan(exercises=exercises)
    wav = folder / f"load-{'urgent' if urgent else 'plain'}{label}.wav"
    with recording(server, wav):
        done = subprocess.run(
            [sys.executable, "-c", DRIVER.format(root=str(ROOT), tests=str(TESTS)),
             json.dumps({"exercises": list(exercises), "urgent": urgent, "watch": watch})],
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
    offsets = {n: round(float(o), 1) for n, o in zip(sorted(heard), offsets_ms)}
    try:
        noticed = json.loads(done.stdout.splitlines()[-1])["noticed_ms"]
    except (IndexError, ValueError, KeyError):
        noticed = []
    return {"urgent": urgent, "finished": done.returncode == 0, "load_1min": round(load, 1),
            "stalls": stalls_ms(offsets, planned), "noticed_ms": noticed,
            "cues": len(planned), "missing": len(planned) - len(heard),
            "late": int(np.sum(errors_ms > LATE_MS)),
            "error_max_ms": round(float(np.max(np.abs(errors_ms))), 1) if len(errors_ms) else None,
            "error_median_ms": round(float(np.median(np.abs(errors_ms))), 2) if len(errors_ms) else None,
            "drift_ms": round(float(offsets_ms[-1] - offsets_ms[0]), 1) if len(offsets_ms) else None,
            "offsets_ms": offsets}


def show(run: dict, which: str = "") -> None:
    which = which or ("with the head start" if run["urgent"] else "without it (before)")
    print(f"  {which:22} load {run['load_1min']:4.1f}: {run['cues'] - run['missing']}/{run['cues']} cues heard, "
          f"{run['late']} more than {LATE_MS:g} ms late, |error| max {run['error_max_ms']} ms, "
          f"median {run['error_median_ms']} ms, drift {run['drift_ms']} ms"
          + ("" if run["finished"] else "  (the session did not finish)"))
    longest = max((s["length_ms"] for s in run["stalls"]), default=0.0)
    print(f"  {'':22} {len(run['stalls'])} stalls heard"
          + (f", longest {longest / 1000:.2f} s" if run["stalls"] else "")
          + f"; the player noticed {len(run['noticed_ms'])}"
          + (f" (longest {max(run['noticed_ms']) / 1000:.2f} s)" if run["noticed_ms"] else ""))


def bench_load() -> dict:
    """Both runs under the same hogs, against one private PulseAudio server."""
    count = HOGS_PER_CPU * (os.cpu_count() or 1)
    print(f"live session under load ({count} busy processes on {os.cpu_count()} CPUs, "
          f"{len(EXERCISES) * 8 + 3.5:g} s tone session):")
    with tempfile.TemporaryDirectory(prefix="coach-bench-load-") as tmp:
        folder = Path(tmp)
        with running_server(folder / "pulse") as server:
            realtime(server.process.pid)  # type: ignore[union-attr]
            with hogs(count):
                runs = [play_once(server, folder, urgent) for urgent in (True, False)]  # "now" first: it gets no less load
    runs.reverse()  # before, then now
    for run in runs:
        show(run)
    ok = runs[1]["missing"] == 0 and runs[1]["late"] == 0 and runs[1]["finished"]
    print(f"  every cue heard under load: {'ok' if ok else 'FAIL'}")
    steered = bench_steered()
    stopped = bench_stopped_server()
    return {"runs": runs, "steered": steered, "stopped": stopped, "ok": ok and steered["ok"] and stopped["ok"]}


def bench_steered() -> dict:
    """The session beside STEERED sessions steered hard over MPRIS, each with a sound server of its own."""
    from bench_steer import NO_REALTIME, TOGGLES, steered_sessions

    print(f"live session beside {STEERED} sessions steered hard over MPRIS (each into its own sound server: "
          f"pauses, {TOGGLES} rapid play/pause toggles, next past the end, stops, its server killed and restarted):")
    with tempfile.TemporaryDirectory(prefix="coach-bench-steered-") as tmp:
        folder = Path(tmp)
        with running_server(folder / "pulse", NO_REALTIME) as server, steered_sessions(folder, STEERED) as sessions:
            began = time.monotonic()
            run = play_once(server, folder, urgent=True, label="-steered")
            took_s = time.monotonic() - began
            commands = sum(s.commands for s in sessions)
            restarts = sum(s.restarts for s in sessions)
    run["job"] = {"sessions": STEERED, "commands_per_s": round(commands / took_s, 1), "server_restarts": restarts}
    show(run, f"beside them")
    print(f"  {'':22} the job: {commands / took_s:.0f} playerctl commands a second, "
          f"{restarts} sound servers killed under a playing session")
    ok = run["missing"] == 0 and not run["stalls"] and run["late"] == 0 and run["finished"]
    print(f"  no stall beside a heavy job: {'ok' if ok else 'FAIL'}")
    return run | {"ok": ok}


def bench_stopped_server() -> dict:
    """The sound server stopped for STOP_S mid-session: later cues on time again (the player catches up) or not."""
    exercises = EXERCISES[:6]
    print(f"live session whose sound server is stopped (SIGSTOP) for {STOP_S:g} s, {STOP_AT_S:g} s in "
          f"({len(exercises) * 8 + 3.5:g} s tone session):")
    runs = []
    with tempfile.TemporaryDirectory(prefix="coach-bench-stopped-") as tmp:
        folder = Path(tmp)
        with running_server(folder / "pulse") as server:
            realtime(server.process.pid)  # type: ignore[union-attr]
            for watch in (True, False):
                def stall(pid=server.process.pid) -> None:  # type: ignore[union-attr]
                    os.kill(pid, signal.SIGSTOP)
                    time.sleep(STOP_S)
                    os.kill(pid, signal.SIGCONT)

                timer = threading.Timer(STOP_AT_S, stall)
                timer.start()
                runs.append(play_once(server, folder, True, label=f"-stopped-{watch}", exercises=exercises,
                                      watch=watch))
                timer.join()
    for run, which in zip(runs, ("catching up", "not catching up")):
        late_after = sum(1 for o in run["offsets_ms"].values() if o - min(run["offsets_ms"].values()) > LATE_MS)
        show(run, which)
        print(f"  {'':22} {late_after} cues heard more than {LATE_MS:g} ms late")
        run["late_cues"] = late_after
    # The stall is noticed when the probe sounding through it ends, and a silence between two tones
    # (1.8 s) holds only part of a 2 s stall: the two cues after it may come late, none after them.
    ok = runs[0]["late_cues"] <= 2 and abs(runs[0]["drift_ms"]) < LATE_MS and runs[0]["missing"] == 0
    print(f"  back on time at the next silence: {'ok' if ok else 'FAIL'}")
    return {"runs": runs, "ok": ok}


if __name__ == "__main__":
    if sys.argv[1:] == ["--stopped"]:
        sys.exit(0 if bench_stopped_server()["ok"] else 1)
    if sys.argv[1:] == ["--steered"]:
        sys.exit(0 if bench_steered()["ok"] else 1)
    sys.exit(0 if bench_load()["ok"] else 1)
