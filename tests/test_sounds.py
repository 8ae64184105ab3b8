"""Built-in sounds, their synthesis script, and user replacement sounds."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from coach.errors import InputError, OptionError
from coach.plan.model import SAMPLE_RATE, SOUND_NAMES, SOUND_PIP
from coach.audio.sounds import builtin_sound_durations_s, builtin_sounds_dir, load_sounds, read_sound, sound_durations_s

REPO = Path(__file__).resolve().parent.parent


def dominant_hz(clip: np.ndarray) -> float:
    """Frequency of the strongest spectral peak."""
    n_fft = 1 << 16
    spectrum = np.abs(np.fft.rfft(clip * np.hanning(len(clip)), n=n_fft))
    return float(np.fft.rfftfreq(n_fft, 1 / SAMPLE_RATE)[np.argmax(spectrum)])


@pytest.fixture(scope="module")
def builtin() -> dict[str, np.ndarray]:
    return load_sounds()


def test_every_name_is_loaded_as_float32_mono(builtin):
    assert set(builtin) == set(SOUND_NAMES)
    for clip in builtin.values():
        assert clip.dtype == np.float32 and clip.ndim == 1


def test_builtin_files_are_22050_hz_mono_16_bit():
    for name in SOUND_NAMES:
        info = sf.info(builtin_sounds_dir() / f"{name}.wav")
        assert (info.samplerate, info.channels, info.subtype) == (SAMPLE_RATE, 1, "PCM_16")


def test_lengths_fit_in_the_gaps(builtin):
    durations = sound_durations_s(builtin)
    assert 0.08 <= durations[SOUND_PIP] <= 0.12
    for name in set(SOUND_NAMES) - {SOUND_PIP}:
        assert 0.15 <= durations[name] <= 0.6, name


def test_peak_is_about_minus_3_dbfs(builtin):
    for name, clip in builtin.items():
        peak_dbfs = 20 * np.log10(np.max(np.abs(clip)))
        assert -3.5 <= peak_dbfs <= -2.5, (name, peak_dbfs)


def test_edges_start_and_end_at_zero_with_ramps(builtin):
    ramp_frames = round(0.001 * SAMPLE_RATE)
    for name, clip in builtin.items():
        assert clip[0] == 0.0 and clip[-1] == 0.0, name
        # Within the first and last millisecond the level stays far below the peak: no click.
        assert np.max(np.abs(clip[:ramp_frames])) < 0.03, name
        assert np.max(np.abs(clip[-ramp_frames:])) < 0.03, name


def test_sounds_are_distinct_in_pitch(builtin):
    pitches = {name: dominant_hz(clip) for name, clip in builtin.items()}
    for a, b in itertools.combinations(SOUND_NAMES, 2):
        ratio = max(pitches[a], pitches[b]) / min(pitches[a], pitches[b])
        assert ratio > 1.1, (a, b, pitches)


def test_make_sounds_reproduces_the_committed_files_byte_for_byte(tmp_path):
    subprocess.run([sys.executable, str(REPO / "scripts" / "make_sounds"), str(tmp_path)],
                   check=True, capture_output=True)
    for name in SOUND_NAMES:
        assert (tmp_path / f"{name}.wav").read_bytes() == (REPO / "sounds" / f"{name}.wav").read_bytes()


def test_builtin_dir_prefers_the_package_then_the_repo(tmp_path):
    package = tmp_path / "site" / "coach"
    (package / "sounds").mkdir(parents=True)
    (tmp_path / "site" / "sounds").mkdir()
    for name in SOUND_NAMES:
        (tmp_path / "site" / "sounds" / f"{name}.wav").write_bytes(b"")
    assert builtin_sounds_dir(package) == tmp_path / "site" / "sounds"
    for name in SOUND_NAMES:
        (package / "sounds" / f"{name}.wav").write_bytes(b"")
    assert builtin_sounds_dir(package) == package / "sounds"


def test_user_stereo_44100_files_replace_builtins(tmp_path, builtin):
    t_s = np.arange(int(0.5 * 44100)) / 44100
    tone = np.sin(2 * np.pi * 440 * t_s)
    sf.write(tmp_path / "rest.wav", np.column_stack([0.5 * tone, 0.1 * tone]), 44100, subtype="PCM_24")
    sf.write(tmp_path / "end.flac", np.column_stack([0.2 * tone, 0.2 * tone]), 44100)
    (tmp_path / "notes.txt").write_text("not a sound")
    sf.write(tmp_path / "bell.wav", tone, 44100)

    sounds = load_sounds(tmp_path)

    rest = sounds["rest"]
    assert rest.dtype == np.float32 and rest.ndim == 1
    assert abs(len(rest) - len(tone) / 2) <= 1
    # Downmixed (0.5 + 0.1) / 2 = 0.3, resampled without losing the 440 Hz tone.
    middle = rest[2000:-2000]
    assert np.max(np.abs(middle)) == pytest.approx(0.3, abs=0.01)
    assert dominant_hz(rest) == pytest.approx(440, abs=2)
    assert np.max(np.abs(sounds["end"][2000:-2000])) == pytest.approx(0.2, abs=0.01)
    for name in ("pip", "start", "stop"):
        assert np.array_equal(sounds[name], builtin[name])


def test_a_file_that_is_not_audio_is_an_input_error_naming_it(tmp_path):
    (tmp_path / "pip.wav").write_text("this is not a wave file\n")
    with pytest.raises(InputError, match="pip.wav"):
        load_sounds(tmp_path)


def test_an_empty_audio_file_is_an_input_error(tmp_path):
    sf.write(tmp_path / "stop.wav", np.zeros(0), SAMPLE_RATE)
    with pytest.raises(InputError, match="stop.wav.*empty"):
        load_sounds(tmp_path)


def test_a_directory_with_a_sound_name_is_an_input_error(tmp_path):
    (tmp_path / "start.wav").mkdir()
    with pytest.raises(InputError, match="start.wav"):
        load_sounds(tmp_path)


def test_two_files_for_one_sound_are_an_option_error(tmp_path):
    sf.write(tmp_path / "pip.wav", np.zeros(100), SAMPLE_RATE)
    sf.write(tmp_path / "pip.flac", np.zeros(100), SAMPLE_RATE)
    with pytest.raises(OptionError, match="pip.flac") as caught:
        load_sounds(tmp_path)
    assert caught.value.option == "--sounds"


def test_missing_dir_is_an_option_error(tmp_path):
    with pytest.raises(OptionError, match="does not exist") as caught:
        load_sounds(tmp_path / "nowhere")
    assert caught.value.option == "--sounds"


def test_a_file_given_as_dir_is_an_option_error(tmp_path):
    path = tmp_path / "file.wav"
    sf.write(path, np.zeros(100), SAMPLE_RATE)
    with pytest.raises(OptionError, match="not a directory") as caught:
        load_sounds(path)
    assert caught.value.option == "--sounds"


def test_read_sound_keeps_a_22050_mono_file_exact(tmp_path):
    samples = (np.arange(1000) % 200 - 100).astype(np.int16) * 100
    sf.write(tmp_path / "x.wav", samples, SAMPLE_RATE, subtype="PCM_16")
    assert np.array_equal(read_sound(tmp_path / "x.wav"), samples.astype(np.float32) / 32768)


def test_durations_are_length_over_rate():
    clips = {"a": np.zeros(22050, dtype=np.float32), "b": np.zeros(2205, dtype=np.float32)}
    assert sound_durations_s(clips) == {"a": 1.0, "b": 0.1}


def test_builtin_durations_from_the_headers_match_the_samples():
    # Listings read only the WAV headers; the lengths must be the ones the decoded samples give.
    assert builtin_sound_durations_s() == sound_durations_s(load_sounds())


def test_listing_routines_loads_no_audio_stack():
    code = ("import sys; from coach.cli.app import main\n"
            "try: main(['routines'])\nexcept SystemExit: pass\n"
            "print(sorted(m for m in ('soundfile', 'soxr', 'mutagen', 'jsonschema') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.stdout.splitlines()[-1] == "[]"


def test_plain_16_bit_wavs_read_without_soundfile_give_soundfiles_samples(tmp_path):
    for name in SOUND_NAMES:
        path = builtin_sounds_dir() / f"{name}.wav"
        expected, _ = sf.read(path, dtype="float32")
        assert np.array_equal(read_sound(path), expected), name
    # Anything else (float samples, another rate, two channels) is still read by soundfile.
    tone = (0.5 * np.sin(np.arange(SAMPLE_RATE // 10) * 0.2)).astype(np.float32)
    sf.write(tmp_path / "pip.wav", tone, SAMPLE_RATE, subtype="FLOAT")
    assert np.array_equal(read_sound(tmp_path / "pip.wav"), tone)
