"""End to end with real espeak-ng speech: what `coach export` writes is what `coach plan --json` says."""

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile

from coach.speech import espeak
from coach.speech import engine as speech
from coach.export.leadin import LEAD_IN_S
from coach.plan.model import to_samples
from coach.routine import load_routine_file
from coach.session import SessionOptions, build_session, installed_voices
from coach.speech.engine import Voice, WorkerEngine


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
    lead = to_samples(LEAD_IN_S)  # the file starts with live playback's lead-in, then plays the plan
    assert len(audio) == lead + to_samples(doc["duration_s"])
    assert not audio[:lead].any()
    covered = np.zeros(len(audio), dtype=bool)
    covered[:lead] = True
    for cue in doc["cues"]:
        start = lead + to_samples(cue["at_s"])
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
    chapters = info["chapters"]  # in time order, as players list them
    assert [c["tags"]["title"] for c in chapters] == [c["title"] for c in doc["chapters"]]
    later = lambda start_s: start_s + LEAD_IN_S if start_s > 0 else 0.0  # the introduction takes in the lead-in
    for got, want in zip(chapters, doc["chapters"]):
        assert abs(float(got["start_time"]) - later(want["start_s"])) < 0.002
    assert abs(float(info["format"]["duration"]) - doc["duration_s"] - LEAD_IN_S) < 0.2
    blocks = srt.read_text().strip().split("\n\n")
    speech = [c for c in doc["cues"] if c["kind"] == "speech"]
    assert len(blocks) == len(speech)
    for block, cue in zip(blocks, speech):
        number, times, *text = block.splitlines()
        start = times.split(" --> ")[0]
        h, m, s = start.replace(",", ".").split(":")
        assert abs(int(h) * 3600 + int(m) * 60 + float(s) - cue["at_s"] - LEAD_IN_S) < 0.0015
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
    assert soundfile.info(out).frames == to_samples(LEAD_IN_S) + to_samples(doc["duration_s"])


def test_export_errors_leave_existing_output_alone(tmp_path):
    out = tmp_path / "keep.wav"
    out.write_bytes(b"old")
    result = coach("export", "back-pain-feet", str(out), "--voice", "no-such-voice-at-all")
    assert result.returncode == 2 and "--voice" in result.stderr and "Traceback" not in result.stderr
    assert out.read_bytes() == b"old"
    result = coach("export", "back-pain-feet", str(out), "--voice-volume", "150")
    assert result.returncode == 2 and "--voice-volume" in result.stderr
    assert out.read_bytes() == b"old"


# --- no speech engine, in-process -----------------------------------------------------------------

ENGINE_MISSING = (
    "coach: the speech engine is missing: espeak-ng is not installed; install espeak-ng "
    "(on Debian/Ubuntu: sudo apt install espeak-ng), or use --no-voice for a session with sounds only\n"
)


def run_main(*args):
    from coach.cli.app import main

    with pytest.raises(SystemExit) as done:
        main(list(args))
    return done.value.code


@pytest.mark.parametrize("args", [("plan", "back-pain-feet"), ("voices",)])
def test_no_speech_engine_is_one_line_naming_the_fix(monkeypatch, tmp_path, capsys, args):
    # The real library lookup, pointed at a folder that holds no library.
    monkeypatch.setattr(espeak, "ESPEAK_LIBRARIES", (str(tmp_path / "libespeak-ng.so.1"),))
    assert run_main(*args) == 1
    out, err = capsys.readouterr()
    assert (out, err) == ("", ENGINE_MISSING)
    # and a session without a voice needs no engine at all
    assert run_main("plan", "back-pain-feet", "--no-voice") == 0


def test_missing_speech_data_is_one_line_naming_the_fix(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("ESPEAK_DATA_PATH", str(tmp_path))  # where espeak-ng will look: nothing there
    assert run_main("plan", "back-pain-feet") == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (f"coach: the speech engine is missing: espeak-ng's data folder {tmp_path} is missing or "
                   "incomplete; install espeak-ng (on Debian/Ubuntu: sudo apt install espeak-ng), "
                   "or use --no-voice for a session with sounds only\n")


# --- the voice list cache -------------------------------------------------------------------------

class CountingEngine:
    """Lists one voice and counts how often it was asked."""

    name = "counting"

    def __init__(self):
        self.asked = 0

    def voices(self):
        self.asked += 1
        return [Voice("gmw/en", "English", ("en", "en-gb"), "male")]

    def render(self, text, voice_id, rate_wpm):
        raise AssertionError("not needed")


def test_voice_list_is_remembered_until_espeak_data_changes(monkeypatch, tmp_path):
    cold, warm = CountingEngine(), CountingEngine()
    listed = installed_voices(cold, tmp_path)
    assert installed_voices(warm, tmp_path) == listed == [Voice("gmw/en", "English", ("en", "en-gb"), "male")]
    assert (cold.asked, warm.asked) == (1, 0)  # the second run never asked its engine
    other = tmp_path / "other-data"
    other.mkdir()
    monkeypatch.setenv("ESPEAK_DATA_PATH", str(other))  # espeak-ng would now read another folder
    moved = CountingEngine()
    installed_voices(moved, tmp_path)
    assert moved.asked == 1


def test_warm_session_never_starts_the_speech_engine(monkeypatch, tmp_path, short_routine):
    starts = []
    start = WorkerEngine._start_worker
    monkeypatch.setattr(WorkerEngine, "_start_worker", lambda engine: (starts.append(engine), start(engine))[1])
    routine = load_routine_file(short_routine)
    clips = tmp_path / "clips"
    first = build_session(routine, SessionOptions(), cache_dir=clips)
    assert starts  # cold: the engine listed the voices and rendered the clips
    starts.clear()
    again = build_session(routine, SessionOptions(), cache_dir=clips)
    assert starts == []
    assert again.voice == first.voice and again.plan == first.plan
