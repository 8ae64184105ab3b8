"""The sparse WAV writer: what it writes reads back exactly, whatever the gaps and whatever was there."""

from __future__ import annotations

import numpy as np
import soundfile as sf

from coach.audio.wavfile import MAX_JOINED_FRAMES, MIN_HOLE_FRAMES, write_sparse_wav


def laid_out(total_frames: int, spans: list[tuple[int, np.ndarray]]) -> np.ndarray:
    expected = np.zeros(total_frames, dtype=np.int16)
    for at, samples in spans:
        expected[at:at + len(samples)] = samples
    return expected


def test_spans_near_and_far_read_back_exactly_over_a_file_full_of_other_data(tmp_path):
    rng = np.random.default_rng(7)
    total = 3 * MAX_JOINED_FRAMES
    starts = [0, 10, 500, MIN_HOLE_FRAMES * 3, MIN_HOLE_FRAMES * 3 + 4000, MAX_JOINED_FRAMES - 50,
              2 * MAX_JOINED_FRAMES, total - 100]
    spans = [(at, rng.integers(-32768, 32767, size=min(90, total - at), dtype=np.int16)) for at in starts]
    spans[1] = (10, rng.integers(-32768, 32767, size=400, dtype=np.int16))
    path = tmp_path / "x.wav"
    path.write_bytes(b"\xff" * (2 * total + 4096))  # stale bytes that must not show through the holes
    progress = []
    write_sparse_wav(path, 22050, total, spans, title="Feet!", progress=lambda done, all_: progress.append(done))
    audio, rate = sf.read(path, dtype="int16")
    assert rate == 22050
    assert np.array_equal(audio, laid_out(total, spans))
    with sf.SoundFile(path) as read_back:
        assert read_back.title == "Feet!"  # 5 letters and a NUL: the chunk gets its pad byte
    assert progress[-1] == total and progress == sorted(progress)


def test_an_empty_session_is_a_valid_silent_file(tmp_path):
    path = tmp_path / "empty.wav"
    write_sparse_wav(path, 22050, 22050, [], title=None)
    audio, _ = sf.read(path, dtype="int16")
    assert len(audio) == 22050 and not audio.any()
