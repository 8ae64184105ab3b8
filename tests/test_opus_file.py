"""coach's Ogg Opus writer: the stream's headers, granule positions and exact length, and its failures."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from coach.export import opus as opus_file

RATE = 24000
INPUT_RATE = 22050
PRE_SKIP_48K = 312  # libopus's lookahead at 24 kHz: 2.5 ms of window overlap and 4 ms of delay compensation


def ogg_pages(path: Path) -> list[dict]:
    """The file's Ogg pages: header type flags, granule position, sequence number and body."""
    data = path.read_bytes()
    pages, at = [], 0
    while at < len(data):
        assert data[at:at + 4] == b"OggS", f"no page at byte {at}"
        flags, granule, _serial, sequence = struct.unpack_from("<BqII", data, at + 5)
        count = data[at + 26]
        lacing = data[at + 27:at + 27 + count]
        start = at + 27 + count
        pages.append({"flags": flags, "granule": granule, "sequence": sequence,
                      "body": data[start:start + sum(lacing)]})
        at = start + sum(lacing)
    return pages


def write(path: Path, frames: np.ndarray, block: int = 5000) -> None:
    with opus_file.open_writer(path, RATE, INPUT_RATE) as out:
        for start in range(0, len(frames), block):
            out.write(frames[start:start + block])


def tone(n_frames: int) -> np.ndarray:
    return (0.3 * np.sin(np.arange(n_frames) * 2 * np.pi * 440 / RATE)).astype(np.float32)


def test_first_page_holds_only_the_identification_header(tmp_path):
    out = tmp_path / "x.opus"
    write(out, tone(RATE))
    first, second = ogg_pages(out)[:2]
    assert first["flags"] == 0x02 and first["granule"] == 0  # beginning of stream, no audio yet
    magic, version, channels, pre_skip, input_rate, gain, family = struct.unpack("<8sBBHIhB", first["body"])
    assert (magic, version, channels, pre_skip, input_rate, gain, family) == \
        (b"OpusHead", 1, 1, PRE_SKIP_48K, INPUT_RATE, 0, 0)
    assert second["body"].startswith(b"OpusTags") and second["granule"] == 0
    vendor_bytes = struct.unpack_from("<I", second["body"], 8)[0]
    assert second["body"][12:12 + vendor_bytes].startswith(b"libopus")


def test_granule_positions_rise_at_48_khz_and_the_last_trims_the_padding(tmp_path):
    out = tmp_path / "x.opus"
    n_frames = 3 * RATE + 123  # not a whole number of 20 ms frames
    write(out, tone(n_frames))
    pages = ogg_pages(out)
    audio = pages[2:]
    granules = [page["granule"] for page in audio]
    assert granules == sorted(granules) and all(g % 960 == 0 for g in granules[:-1])
    assert audio[-1]["flags"] == 0x04 and all(page["flags"] == 0 for page in audio[:-1])  # end of stream
    assert audio[-1]["granule"] == PRE_SKIP_48K + 2 * n_frames
    assert [page["sequence"] for page in pages] == list(range(len(pages)))


@pytest.mark.parametrize("n_frames, block", [(0, 1000), (1, 1000), (479, 7), (480, 480), (RATE + 1, 4801)])
def test_decoders_give_back_exactly_the_frames_written(tmp_path, n_frames, block):
    out = tmp_path / "x.opus"
    frames = tone(n_frames)
    write(out, frames, block)
    decoded, rate = sf.read(out, dtype="float32")
    assert rate == RATE and len(decoded) == n_frames


def test_the_sound_survives_encoding(tmp_path):
    out = tmp_path / "x.opus"
    frames = tone(2 * RATE)
    write(out, frames)
    decoded, _ = sf.read(out, dtype="float32")
    middle = slice(RATE // 2, 3 * RATE // 2)  # away from the encoder's start-up
    error = decoded[middle] - frames[middle]
    assert 10 * np.log10(np.sum(frames[middle] ** 2) / np.sum(error ** 2)) > 15  # SNR in dB


def test_ffmpeg_decodes_the_file_without_a_warning(tmp_path):
    out = tmp_path / "x.opus"
    write(out, tone(RATE + 17))
    done = subprocess.run(["ffmpeg", "-nostdin", "-v", "warning", "-i", str(out), "-f", "f32le", "-"],
                          capture_output=True, check=True)
    assert done.stderr == b""
    assert len(done.stdout) == 4 * 2 * (RATE + 17)  # ffmpeg decodes at 48 kHz


def test_writing_after_close_is_an_error(tmp_path):
    out = opus_file.open_writer(tmp_path / "x.opus", RATE, INPUT_RATE)
    out.write(tone(100))
    out.close()
    out.close()  # a second close does nothing
    with pytest.raises(OSError, match="already closed"):
        out.write(tone(100))


def test_a_rate_libopus_refuses_is_an_error_naming_it(tmp_path):
    with pytest.raises(OSError, match=r"could not start an encoder at 22050 Hz \(invalid argument\)"):
        opus_file.open_writer(tmp_path / "x.opus", INPUT_RATE, INPUT_RATE)


def test_a_setting_libopus_refuses_is_an_error_naming_it(tmp_path, monkeypatch):
    monkeypatch.setattr(opus_file, "COMPLEXITY", 11)
    with pytest.raises(OSError, match=r"libopus refused complexity 11 \(invalid argument\)"):
        opus_file.open_writer(tmp_path / "x.opus", RATE, INPUT_RATE)


def test_an_abandoned_file_is_left_unfinished(tmp_path):
    out = tmp_path / "x.opus"
    with pytest.raises(RuntimeError):
        with opus_file.open_writer(out, RATE, INPUT_RATE) as writer:
            writer.write(tone(RATE))
            raise RuntimeError("mixer broke")
    assert all(page["flags"] & 0x04 == 0 for page in ogg_pages(out))  # no end-of-stream page was written


def test_missing_libraries_give_no_writer(tmp_path, monkeypatch):
    monkeypatch.setattr(opus_file, "OGG_LIBRARY", "libogg-that-is-not-here.so.0")
    opus_file.system_libraries.cache_clear()
    try:
        assert opus_file.open_writer(tmp_path / "x.opus", RATE, INPUT_RATE) is None
    finally:
        opus_file.system_libraries.cache_clear()
    assert list(tmp_path.iterdir()) == []


def test_tagging_uses_the_room_left_in_the_comment_header(tmp_path):
    from mutagen.oggopus import OggOpus

    out = tmp_path / "x.opus"
    write(out, tone(RATE))
    size = out.stat().st_size
    tagged = OggOpus(out)
    tagged["TITLE"] = "A session with a rather long title, to take up some room"
    for number in range(1, 31):
        tagged[f"CHAPTER{number:03d}"] = f"00:{number:02d}:00.000"
        tagged[f"CHAPTER{number:03d}NAME"] = f"Part {number}: an exercise with a long name"
    tagged.save()
    assert out.stat().st_size == size  # the audio pages stayed where they were
    assert OggOpus(out)["CHAPTER030NAME"] == ["Part 30: an exercise with a long name"]
