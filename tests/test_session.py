"""End to end with real espeak-ng speech: what `coach export` writes is what `coach plan --json` says."""

import json
import subprocess
import sys

import numpy as np
import soundfile

from coach.model import to_samples


from inproc import coach


def plan_json(*args):
    result = coach("plan", *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_wav_export_is_the_plan_to_the_sample(tmp_path, short_routine):
    routine = short_routine
    doc = plan_json(str(routine), "--rate", "180")
    out = tmp_path / "s.wav"
    result = coach("export", str(routine), str(out), "--rate", "180")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    audio, rate = soundfile.read(out, dtype="int16")
    assert rate == 22050
    assert len(audio) == to_samples(doc["duration_s"])
    covered = np.zeros(len(audio), dtype=bool)
    for cue in doc["cues"]:
        start = to_samples(cue["at_s"])
        end = start + round(cue["duration_s"] * rate)
        assert np.any(audio[start:end] != 0), f"cue is silent: {cue}"
        # speech starts within a few milliseconds of its planned time
        first = start + int(np.argmax(np.abs(audio[start:end]) > 300))
        assert first - start < 0.05 * rate, cue
        covered[start:end] = True
    assert not np.any(audio[~covered]), "sound outside the planned cues"


def test_mp3_chapters_and_captions_match_the_plan(tmp_path):
    doc = plan_json("back-pain-feet")
    out, srt = tmp_path / "session.mp3", tmp_path / "session.srt"
    result = coach("export", "back-pain-feet", str(out), "--captions", str(srt))
    assert result.returncode == 0, result.stderr
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_chapters", "-show_format", "-of", "json", str(out)],
                           capture_output=True, text=True, check=True)
    info = json.loads(probe.stdout)
    chapters = sorted(info["chapters"], key=lambda c: float(c["start_time"]))
    assert [c["tags"]["title"] for c in chapters] == [c["title"] for c in doc["chapters"]]
    for got, want in zip(chapters, doc["chapters"]):
        assert abs(float(got["start_time"]) - want["start_s"]) < 0.002
    assert abs(float(info["format"]["duration"]) - doc["duration_s"]) < 0.2
    blocks = srt.read_text().strip().split("\n\n")
    speech = [c for c in doc["cues"] if c["kind"] == "speech"]
    assert len(blocks) == len(speech)
    for block, cue in zip(blocks, speech):
        number, times, *text = block.splitlines()
        start = times.split(" --> ")[0]
        h, m, s = start.replace(",", ".").split(":")
        assert abs(int(h) * 3600 + int(m) * 60 + float(s) - cue["at_s"]) < 0.0015
        assert " ".join(text) == cue["text"]


def test_voice_and_rate_change_the_plan(tmp_path):
    slow = plan_json("back-pain-feet", "--rate", "120", "--voice", "en-us")
    fast = plan_json("back-pain-feet", "--rate", "300", "--voice", "en-us")
    assert slow["duration_s"] > fast["duration_s"]
    # the doses do not change with the voice
    doses = lambda d: [round(s["end_s"] - s["start_s"], 6) for s in d["steps"] if s["kind"] in ("hold", "work")]
    assert doses(slow) == doses(fast)


def test_beep_only_session(tmp_path):
    doc = plan_json("back-pain-feet", "--no-voice")
    assert all(c["kind"] == "sound" for c in doc["cues"])
    out = tmp_path / "beeps.flac"
    assert coach("export", "back-pain-feet", str(out), "--no-voice").returncode == 0
    assert soundfile.info(out).frames == to_samples(doc["duration_s"])


def test_export_errors_leave_existing_output_alone(tmp_path):
    out = tmp_path / "keep.wav"
    out.write_bytes(b"old")
    result = coach("export", "back-pain-feet", str(out), "--voice", "no-such-voice-at-all")
    assert result.returncode == 2 and "--voice" in result.stderr and "Traceback" not in result.stderr
    assert out.read_bytes() == b"old"
    result = coach("export", "back-pain-feet", str(out), "--voice-volume", "150")
    assert result.returncode == 2 and "--voice-volume" in result.stderr
    assert out.read_bytes() == b"old"
