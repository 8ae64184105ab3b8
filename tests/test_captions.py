"""Captions: SubRip and WebVTT from a plan's speech cues, in sync, escaped, written atomically."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from coach.export.captions import check_captions, srt, vtt, write_captions
from coach.errors import OptionError
from coach.plan.model import SAMPLE_RATE, Chapter, Cue, Plan

TRICKY = [
    "Lie on your back.",
    "Knees --> chest, then <slowly> release & breathe",
    "First line\n\nafter a blank line\r\nand a third",
    "5",
]


def make_plan(texts=TRICKY) -> Plan:
    cues = []
    at_s = 1.0
    for text in texts:
        cues.append(Cue(at_s, 1.2345, "speech", text=text))
        cues.append(Cue(at_s + 1.5, 0.1, "sound", sound="pip"))
        at_s += 2.0
    # one cue well past an hour, to check the hours field
    cues.append(Cue(3725.0625, 2.5, "speech", text="Well done."))
    return Plan("test", "Captions", 3730.0, (), tuple(cues), (Chapter(0.0, "All"),))


def parse_stamp(stamp: str, separator: str) -> float:
    match = re.fullmatch(r"(\d\d):(\d\d):(\d\d)" + re.escape(separator) + r"(\d\d\d)", stamp)
    assert match, stamp
    hours, minutes, secs, ms = map(int, match.groups())
    return hours * 3600 + minutes * 60 + secs + ms / 1000


def parse(document: str, separator: str) -> list[tuple[int, float, float, list[str]]]:
    """Cue blocks the way players read them: separated by blank lines, number, timing, text lines."""
    cues = []
    for block in document.strip("\n").split("\n\n"):
        lines = block.split("\n")
        assert len(lines) >= 3, block
        start, arrow, end = lines[1].split(" ")
        assert arrow == "-->"
        assert not any("-->" in line for line in lines[2:]), block
        cues.append((int(lines[0]), parse_stamp(start, separator), parse_stamp(end, separator), lines[2:]))
    return cues


def speech(plan: Plan) -> list[Cue]:
    return [c for c in plan.cues if c.kind == "speech"]


def test_srt_numbers_times_and_texts_match_the_speech_cues():
    plan = make_plan()
    cues = parse(srt(plan), ",")
    assert [n for n, *_ in cues] == list(range(1, len(speech(plan)) + 1))
    for (_, start, end, _), cue in zip(cues, speech(plan), strict=True):
        assert start == pytest.approx(cue.at_s, abs=0.00051)
        assert end == pytest.approx(cue.at_s + cue.duration_s, abs=0.00051)
    texts = [lines for *_, lines in cues]
    assert texts == [
        ["Lie on your back."],
        ["Knees -> chest, then <slowly> release & breathe"],
        ["First line", "after a blank line", "and a third"],
        ["5"],
        ["Well done."],
    ]
    assert "01:02:05,063 --> 01:02:07,563" in srt(plan)


def test_vtt_has_header_dot_times_and_escaped_text():
    plan = make_plan()
    document = vtt(plan)
    assert document.startswith("WEBVTT\n\n")
    cues = parse(document.removeprefix("WEBVTT\n"), ".")
    assert [n for n, *_ in cues] == list(range(1, len(speech(plan)) + 1))
    for (_, start, end, _), cue in zip(cues, speech(plan), strict=True):
        assert start == pytest.approx(cue.at_s, abs=0.00051)
        assert end == pytest.approx(cue.end_s, abs=0.00051)
    assert cues[1][3] == ["Knees --&gt; chest, then &lt;slowly&gt; release &amp; breathe"]
    assert cues[2][3] == ["First line", "after a blank line", "and a third"]
    assert "01:02:05.063 --> 01:02:07.563" in document


@pytest.mark.parametrize("ext", [".srt", ".vtt"])
def test_ffmpeg_reads_every_caption_at_its_time(tmp_path, ext):
    plan = make_plan()
    path = tmp_path / f"captions{ext}"
    write_captions(plan, path)
    done = subprocess.run(["ffprobe", "-v", "error", "-show_packets", "-of", "json", str(path)],
                          capture_output=True, text=True, check=True)
    packets = json.loads(done.stdout)["packets"]
    assert [float(p["pts_time"]) for p in packets] == [pytest.approx(c.at_s, abs=0.00051) for c in speech(plan)]
    assert [float(p["duration_time"]) for p in packets] == \
        [pytest.approx(c.duration_s, abs=0.0015) for c in speech(plan)]


def test_blank_speech_is_left_out_and_numbering_stays_consecutive():
    plan = make_plan(["One", " \n ", "Two"])
    cues = parse(srt(plan), ",")
    assert [(n, lines) for n, _, _, lines in cues] == [(1, ["One"]), (2, ["Two"]), (3, ["Well done."])]


def test_plan_without_speech_gives_empty_documents():
    plan = Plan("beeps", "Beeps", 10.0, (), (Cue(1.0, 0.1, "sound", sound="pip"),), ())
    assert srt(plan) == ""
    assert vtt(plan) == "WEBVTT\n"


@pytest.mark.parametrize("name", ["captions.txt", "captions", "captions.ass"])
def test_unknown_caption_extension_is_an_option_error(tmp_path, name):
    with pytest.raises(OptionError) as caught:
        write_captions(make_plan(), tmp_path / name)
    assert caught.value.option == "--captions"
    assert "supported: .srt, .vtt" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_missing_caption_folder_is_an_option_error(tmp_path):
    with pytest.raises(OptionError, match="does not exist"):
        check_captions(tmp_path / "missing" / "captions.srt")


def test_captions_replace_an_existing_file_whole(tmp_path):
    path = tmp_path / "captions.VTT"
    path.write_text("old captions")
    write_captions(make_plan(), path)
    assert path.read_text(encoding="utf-8") == vtt(make_plan())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["captions.VTT"]


def test_failed_caption_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "captions.srt"
    path.write_text("old captions")

    def broken(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(Path, "write_text", broken)
    with pytest.raises(KeyboardInterrupt):
        write_captions(make_plan(), path)
    monkeypatch.undo()
    assert path.read_text() == "old captions"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["captions.srt"]
