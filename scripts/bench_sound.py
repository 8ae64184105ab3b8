"""Sound benchmarks for scripts/bench --sound: loudness, true peak, beeps against the voice, speaking rate.

For each built-in routine in en/fr/de/es at 80, 160 and 300 wpm the session is built with the real voice
(clips from the usual cache) and mixed as export mixes it; then, beside each target:
- integrated loudness (BS.1770, gated) and true peak (4x oversampled) of the whole mix;
- speech loudness: the voice's cues alone, at their gain, measured as one programme;
- each beep kind against the speech: its loudness while it sounds, in LU from the voice;
- measured words per minute of the instructions (sentences of 3 words and more) against the asked rate.
Then one MP3 and one Opus export per language, measured by ffmpeg's ebur128 filter from the decoded file.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]


from coach.audio.levels import BEEP_OFFSET_LU, DEFAULT_LOUDNESS_LUFS  # noqa: E402
from coach.audio.loudness import LoudnessMeter, loudness_lufs  # noqa: E402
from coach.plan.model import SAMPLE_RATE  # noqa: E402
from coach.routine import builtin_names, load_routine  # noqa: E402
from coach.session import SessionOptions, build_session  # noqa: E402
from coach.speech.engine import EDGE_PAD_S  # noqa: E402
from coach.speech.rate import CRISP_MAX_WORDS, measured_wpm, word_count  # noqa: E402

LANGUAGES = ("en", "fr", "de", "es")
RATES_WPM = (80, 160, 300)
LOUDNESS_TOLERANCE_LU = 1.0
PEAK_LIMIT_DBTP = -1.0
BEEP_RANGE_LU = (-9.0, 3.0)
RATE_TOLERANCE = 0.10
SPEECH_SPREAD_LU = 1.0  # speech loudness the same within +-1 LU for every language and rate


def measure(session) -> dict:
    """The figures of one session, from the samples export writes (and live playback plays)."""
    mixer = session.mixer()
    speech = LoudnessMeter()
    beeps: dict[str, float] = {}
    for i, (kind, name) in enumerate(mixer.placed_keys):
        if kind == "speech":
            speech.add(mixer.placed_clip(i))  # the voice's cues one after another, as one programme
        elif name not in beeps:
            beeps[name] = loudness_lufs(mixer.placed_clip(i))
    speech_lufs = speech.integrated_lufs()
    sentences = [(text, len(clip) / SAMPLE_RATE - 2 * EDGE_PAD_S) for text, clip in session.speech.items()
                 if word_count(text) > CRISP_MAX_WORDS]
    return {"lufs": mixer.integrated_lufs(), "peak": mixer.true_peak_dbtp(), "speech": speech_lufs,
            "beeps": {name: value - speech_lufs for name, value in beeps.items()},
            "wpm": measured_wpm(sentences)}


def ffmpeg_figures(path: Path) -> tuple[float, float]:
    """Integrated loudness and true peak of a file as ffmpeg's ebur128 filter measures them."""
    out = subprocess.run(["ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-af", "ebur128=peak=true",
                          "-f", "null", "-"], capture_output=True, text=True, check=True).stderr
    summary = out[out.rfind("Summary:"):]
    lufs = float(re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary).group(1))
    peak = float(re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary).group(1))
    return lufs, peak


def bench_sound() -> bool:
    """Print the sound figures beside their targets; True when every one is met."""
    started = time.monotonic()
    ok = True
    target = DEFAULT_LOUDNESS_LUFS
    print(f"\nsound: targets: integrated {target:g} +-{LOUDNESS_TOLERANCE_LU:g} LUFS, true peak <= "
          f"{PEAK_LIMIT_DBTP:g} dBTP, beeps {BEEP_RANGE_LU[0]:+g}..{BEEP_RANGE_LU[1]:+g} LU of the voice "
          f"(set at {BEEP_OFFSET_LU:+g}), wpm within +-{RATE_TOLERANCE:.0%} of asked, speech within "
          f"+-{SPEECH_SPREAD_LU:g} LU everywhere")
    print(f"{'routine':22} {'lang':4} {'rate':>4} {'LUFS':>6} {'dBTP':>6} {'speech':>7} {'beeps (LU from voice)':32} "
          f"{'wpm':>5} {'err':>5}")
    speech_levels = []
    sessions = {}
    for language in LANGUAGES:
        for rate in RATES_WPM:
            for name in builtin_names():
                session = build_session(load_routine(name), SessionOptions(rate_wpm=rate, language=language))
                sessions.setdefault((language, rate), session)
                f = measure(session)
                speech_levels.append(f["speech"])
                error = f["wpm"] / rate - 1
                good = (abs(f["lufs"] - target) <= LOUDNESS_TOLERANCE_LU and f["peak"] <= PEAK_LIMIT_DBTP
                        and all(BEEP_RANGE_LU[0] <= v <= BEEP_RANGE_LU[1] for v in f["beeps"].values())
                        and abs(error) <= RATE_TOLERANCE)
                ok &= good
                beeps = " ".join(f"{k} {v:+.1f}" for k, v in sorted(f["beeps"].items()))
                print(f"{name:22} {language:4} {rate:4d} {f['lufs']:6.1f} {f['peak']:6.1f} {f['speech']:7.1f} "
                      f"{beeps:32} {f['wpm']:5.0f} {error:+5.0%}{'' if good else '  MISSED'}", flush=True)
    spread = max(speech_levels) - min(speech_levels)
    ok &= spread <= 2 * SPEECH_SPREAD_LU
    print(f"speech loudness across languages, rates and routines: {min(speech_levels):.1f} to "
          f"{max(speech_levels):.1f} LUFS (spread {spread:.1f} LU; target within +-{SPEECH_SPREAD_LU:g})")
    with tempfile.TemporaryDirectory(prefix="coach-bench-sound-") as tmp:
        from coach.export.writer import export_audio

        for language in LANGUAGES:
            session = sessions[(language, 160)]
            for ext in (".mp3", ".opus"):
                out = Path(tmp) / f"{language}{ext}"
                export_audio(session.plan, session.mixer(), out)
                lufs, peak = ffmpeg_figures(out)
                good = abs(lufs - target) <= LOUDNESS_TOLERANCE_LU and peak <= PEAK_LIMIT_DBTP
                ok &= good
                print(f"{session.plan.routine:22} {language:4}  160 {ext:5} by ffmpeg ebur128: {lufs:6.1f} LUFS "
                      f"{peak:6.1f} dBTP{'' if good else '  MISSED'}", flush=True)
    print(f"sound bench: {'all targets met' if ok else 'some targets MISSED'} in {time.monotonic() - started:.0f} s")
    return ok


if __name__ == "__main__":
    sys.exit(0 if bench_sound() else 1)
