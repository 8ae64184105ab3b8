"""Speed and memory of exports in about two minutes, for scripts/bench --speed, each figure beside its target:

- warm `coach export back-pain-feet X.wav` against `python -c "import numpy, soundfile"` (alternating runs);
- the synthetic 2-hour session exported to MP3 against ffmpeg's libmp3lame on the same samples at the
  same average bit rate, one run each;
- peak memory (RSS) of that export and of a 4-hour one: bounded, and flat in the session's length;
- cold `coach export back-pain-feet X.mp3` (empty clip cache) against its floor: every distinct sentence
  rendered once by the same engine, voice and rates, plus ffmpeg encoding the mix;
- a live session's first buffer (the mixer made, the first window mixed to 16 bits) against the same
  with the mixer from before leveling (its source read from git), on the same clips.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

MP3_RATIO = 1.2
WARM_RATIO = 2.5
COLD_RATIO = 1.3
RSS_MB = 100.0
RSS_FLAT_MB = 3.0  # the 4-hour export may peak this much above the 2-hour one (allocator noise)
FIRST_BUFFER_RATIO = 1.0
BEFORE_LEVELING = "4f6b3ce"  # the commit whose mixer had no leveling and no limiter
LIVE_RUNS = 5

# Every distinct sentence of the session, rendered once by the engine the session used, then nothing
# else: what a cold export cannot avoid besides the encode.
SYNTHESIS_FLOOR = """
import json, sys, time
started = time.perf_counter()
from coach.speech.engine import default_engine
from coach.speech.rate import rate_for_text
args = json.loads(sys.argv[1])
engine = default_engine()
for text in args["texts"]:
    engine.render(text, args["voice"], rate_for_text(engine.name, args["language"], args["wpm"], text))
print(time.perf_counter() - started)
"""


def _line(what: str, ours: float, floor_what: str, floor: float, target: float, unit: str = "s") -> bool:
    ratio = ours / floor
    ok = ratio <= target
    print(f"{what}: {ours:.3f} {unit}; {floor_what}: {floor:.3f} {unit}; ratio {ratio:.2f} <= {target:g}: "
          f"{'ok' if ok else 'FAIL'}", flush=True)
    return ok


def warm_wav(bench: types.ModuleType, runs: int) -> bool:
    """The warm WAV export against the floor's imports, medians of alternating runs."""
    f = bench.bench_warm_export(runs)
    return _line(f"warm `coach export {bench.WARM_ROUTINE} X.wav` (median of {runs})", f["median"],
                 f"python -c \"{bench.FLOOR_IMPORTS}\"", f["floor"]["median"], WARM_RATIO)


def mp3_and_memory(bench: types.ModuleType, folder: Path) -> bool:
    """The 2-hour MP3 export against ffmpeg, then the peak RSS of it and of a 4-hour export."""
    mix_wav = folder / "mix.wav"
    bench.export_synthetic(mix_wav, bench.SESSION_S)
    f = bench.bench_encoder("mp3", ".mp3", ["libmp3lame", "-abr", "1"], mix_wav, folder, 1, bench.SESSION_S)
    mix_wav.unlink()
    ok = _line(f"2-hour synthetic session to MP3 ({f['our_kbps']:.0f} kb/s)", f["median"],
               f"ffmpeg libmp3lame on the same samples ({f['floor_kbps']:.0f} kb/s)", f["floor"]["median"], MP3_RATIO)
    four = bench.export_synthetic(folder / "four.mp3", 2 * bench.SESSION_S)
    two_mb, four_mb = f["peak_rss_mb"], four["peak_rss_mb"]
    bounded, flat = max(two_mb, four_mb) <= RSS_MB, four_mb <= two_mb + RSS_FLAT_MB
    print(f"peak RSS of the MP3 export: 2 hours {two_mb:.1f} MB, 4 hours {four_mb:.1f} MB ({four['seconds']:.1f} s); "
          f"<= {RSS_MB:g} MB: {'ok' if bounded else 'FAIL'}; flat (4 h <= 2 h + {RSS_FLAT_MB:g} MB): "
          f"{'ok' if flat else 'FAIL'}", flush=True)
    return ok and bounded and flat


def cold_mp3(bench: types.ModuleType, folder: Path, runs: int = 3) -> bool:
    """A cold MP3 export (empty clip cache) against rendering its sentences once plus ffmpeg's encode, alternating."""
    import json

    from coach.routine import load_routine
    from coach.session import SessionOptions, build_session

    ours, floor = [], []
    output, mix_wav = folder / "cold.mp3", folder / "cold-mix.wav"
    for run in range(runs):
        cold_home = folder / f"cold-cache-{run}"
        env = {**os.environ, "XDG_CACHE_HOME": str(cold_home)}
        started = time.perf_counter()
        subprocess.run(bench.coach_command("export", bench.WARM_ROUTINE, str(output)), env=env, cwd=ROOT,
                       check=True, capture_output=True, stdin=subprocess.DEVNULL)
        ours.append(time.perf_counter() - started)
        if not run:  # the floor's sentences, voice and rates: the session's, from the cache now filled
            saved = os.environ.get("XDG_CACHE_HOME")
            os.environ["XDG_CACHE_HOME"] = str(cold_home)
            try:
                session = build_session(load_routine(bench.WARM_ROUTINE), SessionOptions())
            finally:
                if saved is None:
                    os.environ.pop("XDG_CACHE_HOME")
                else:
                    os.environ["XDG_CACHE_HOME"] = saved
            args = json.dumps({"texts": sorted(session.speech), "voice": session.voice.id,
                               "language": session.language, "wpm": session.options.rate_wpm})
            subprocess.run(bench.coach_command("export", bench.WARM_ROUTINE, str(mix_wav)), env=env, cwd=ROOT,
                           check=True, capture_output=True, stdin=subprocess.DEVNULL)
            kbps = bench.bit_rate_kbps(output)
        synthesis = float(bench.timed([sys.executable, "-c", SYNTHESIS_FLOOR, args])["stdout"])
        encode = bench.timed(bench.ffmpeg_encode(mix_wav, ["libmp3lame", "-abr", "1"], kbps,
                                                 folder / "cold-ffmpeg.mp3"))["seconds"]
        floor.append(synthesis + encode)
    return _line(f"cold `coach export {bench.WARM_ROUTINE} X.mp3` (empty clip cache, median of {runs})",
                 statistics.median(ours), f"floor: its {len(session.speech)} sentences rendered once in one process "
                 f"+ ffmpeg encoding its mix", statistics.median(floor), COLD_RATIO)


def _before_leveling(path: str, name: str):
    """`name` from module `path` as it was before leveling, loaded from git, or None when git cannot give it."""
    try:
        source = subprocess.run(["git", "show", f"{BEFORE_LEVELING}:{path}"], cwd=ROOT, check=True,
                                capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    module = types.ModuleType(f"before_leveling_{Path(path).stem}")
    exec(compile(source, f"{BEFORE_LEVELING}:{path}", "exec"), module.__dict__)
    return getattr(module, name)


def _mix_before_leveling(mixer, start_frame: int, end_frame: int, block_frames: int = 65536):
    """How the live player mixed its first buffer before leveling (coach/live/player.py then)."""
    import numpy as np

    from coach.audio.pcm import to_pcm16

    out = np.empty(max(0, end_frame - start_frame), dtype=np.int16)
    for at in range(start_frame, end_frame, block_frames):
        stop = min(at + block_frames, end_frame)
        out[at - start_frame:stop - start_frame] = to_pcm16(mixer.render(at, stop))
    return out


def first_buffer(routine: str) -> bool:
    """Making the mixer and mixing the first window, now and with the mixer from before leveling."""
    from coach.live.player import mix_pcm16
    from coach.plan.model import to_samples
    from coach.plan.positions import seam_position_s
    from coach.routine import load_routine
    from coach.session import SessionOptions, build_session

    old_mixer = _before_leveling("coach/audio/mixer.py", "Mixer")
    if old_mixer is None:
        print(f"live first buffer: the mixer of {BEFORE_LEVELING} is not in this checkout's git; skipped")
        return True
    ours, floor = [], []
    for _ in range(LIVE_RUNS):
        for which in ("ours", "floor"):
            session = build_session(load_routine(routine), SessionOptions())  # warm clips, fresh figures
            end = to_samples(seam_position_s(session.plan, 0.0))
            started = time.perf_counter()
            if which == "ours":
                mixer = session.mixer()
                mix_pcm16(mixer, 0, min(end, mixer.total_frames))
            else:
                mixer = old_mixer(session.plan, session.speech, session.sounds)
                _mix_before_leveling(mixer, 0, min(end, mixer.total_frames))
            (ours if which == "ours" else floor).append(time.perf_counter() - started)
    return _line(f"live first buffer mixed (mixer made + first window to 16 bits, median of {LIVE_RUNS})",
                 statistics.median(ours), f"the same with the mixer and player of {BEFORE_LEVELING} (before leveling)",
                 statistics.median(floor),
                 FIRST_BUFFER_RATIO)


def bench_speed(bench: types.ModuleType, runs: int = 7) -> bool:
    """Every speed and memory figure beside its target; True when all are met."""
    started = time.monotonic()
    print(f"speed: load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    with tempfile.TemporaryDirectory(prefix="coach-bench-speed-") as tmp:
        # First, while this process is small: a child's peak RSS counts the parent it was forked from.
        ok = mp3_and_memory(bench, Path(tmp))
        ok &= warm_wav(bench, runs)
        ok &= cold_mp3(bench, Path(tmp))
    ok &= first_buffer(bench.WARM_ROUTINE)
    print(f"speed bench: {'all targets met' if ok else 'some targets MISSED'} in {time.monotonic() - started:.0f} s")
    return ok
