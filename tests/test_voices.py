"""Voices and variants: finding them, choosing them, hearing them, and how they sound (real espeak-ng)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile

from coach.live import player as live
from coach.speech import engine as speech
from coach.speech.clipcache import ClipCache
from coach.errors import AudioDeviceError, OptionError
from coach.speech.espeak import data_dir, parse_variant, read_variants
from coach.plan.model import SAMPLE_RATE
from coach.routine import load_routine_file
from coach.plan.script import VOICE_SAMPLE
from coach.session import SessionOptions, build_session
from coach.speech.voices import Variant, Voice, pick_voice, variant_voices
from inproc import cli




def f0_hz(audio: np.ndarray, rate: int = SAMPLE_RATE) -> float:
    """Median fundamental frequency over the voiced 40 ms frames, by autocorrelation."""
    frame = int(0.04 * rate)
    starts = np.arange(0, len(audio) - frame, frame // 2)
    frames = audio[starts[:, None] + np.arange(frame)].astype(np.float64)
    frames -= frames.mean(axis=1, keepdims=True)
    frames = frames[np.sqrt((frames ** 2).mean(axis=1)) > 0.02]  # speech, not silence
    spectrum = np.fft.rfft(frames, n=2 * frame, axis=1)
    corr = np.fft.irfft(np.abs(spectrum) ** 2, axis=1)[:, :frame]
    low, high = int(rate / 500), int(rate / 60)  # lags for 500 Hz down to 60 Hz
    lags = low + np.argmax(corr[:, low:high], axis=1)
    voiced = corr[np.arange(len(corr)), lags] > 0.5 * corr[:, 0]
    assert voiced.sum() > 10, "too few voiced frames to measure"
    return float(np.median(rate / lags[voiced]))


# --- variants on disk ----------------------------------------------------------------------------


def test_variant_files_give_name_and_gender():
    assert parse_variant("f3", "language variant\nname female3\ngender female\npitch 140 240\n") == \
        Variant("f3", "female3", "female")
    assert parse_variant("old", "name  Old Man // comment\ngender Male 70\n") == Variant("old", "Old Man", "male")
    assert parse_variant("x", "language variant\nklatt 1\n") == Variant("x", "x", None)


def test_espeak_variants_are_found_without_a_fixed_path():
    assert data_dir() is not None and (data_dir() / "voices" / "!v").is_dir()
    variants = {v.id: v for v in read_variants()}
    assert len(variants) > 20
    assert variants["f3"] == Variant("f3", "female3", "female")
    assert variants["m3"].gender == "male"
    assert variants["Andrea"].gender == "female"


# --- choosing --------------------------------------------------------------------------------------

VOICES = [
    Voice("gmw/en", "English (Great Britain)", ("en-gb", "en"), "male"),
    Voice("gmw/en-us", "English (America)", ("en-us", "en"), "male"),
    Voice("roa/fr", "French (France)", ("fr-fr", "fr"), "male"),
]
VARIANTS = [Variant("Andrea", "Andrea", "female"), Variant("Andy", "Andy", "male"),
            Variant("f3", "female3", "female"), Variant("m3", "male3", "male")]


@pytest.mark.parametrize(("query", "language", "expected"), [
    ("en-us+Andrea", "en", "gmw/en-us+Andrea"),
    ("gmw/en-us+andrea", "fr", "gmw/en-us+Andrea"),
    ("fr+female3", "en", "roa/fr+f3"),
    ("+f3", "fr", "roa/fr+f3"),
    ("Andrea", "en", "gmw/en+Andrea"),
    ("andrea", "fr", "roa/fr+Andrea"),
    ("female3", "en-us", "gmw/en-us+f3"),
    ("F3", "en", "gmw/en+f3"),
    ("drea", "en", "gmw/en+Andrea"),
    ("en-us", "en", "gmw/en-us"),
    ("America", "fr", "gmw/en-us"),
])
def test_pick_voice_with_variants(query, language, expected):
    voice = pick_voice(VOICES, query, language, VARIANTS)
    assert voice.id == expected
    if "+" in expected:
        assert voice.gender == next(v.gender for v in VARIANTS if v.id == expected.split("+")[1])
        assert voice.languages == next(v.languages for v in VOICES if v.id == expected.split("+")[0])


def test_unknown_or_ambiguous_variants_name_the_closest():
    with pytest.raises(OptionError, match=r"^--voice: no variant matches 'andra'; did you mean: Andrea"):
        pick_voice(VOICES, "en+andra", "en", VARIANTS)
    with pytest.raises(OptionError, match=r"^--voice: 'and' matches several voices; did you mean: Andrea, Andy\?$"):
        pick_voice(VOICES, "and", "en", VARIANTS)
    with pytest.raises(OptionError, match=r"no voice matches 'en\+f3'"):
        pick_voice(VOICES, "en+f3", "en")  # an engine without variants
    with pytest.raises(OptionError, match="no installed voice speaks language 'de'"):
        pick_voice(VOICES, "Andrea", "de", VARIANTS)


def test_real_variant_names_resolve_for_the_routine_language():
    with speech.default_engine() as engine:
        voices, variants = engine.voices(), engine.variants()
    assert pick_voice(voices, "Andrea", "en", variants).id == "gmw/en+Andrea"
    assert pick_voice(voices, "en-us+Andrea", "fr", variants).id == "gmw/en-us+Andrea"
    assert pick_voice(voices, "f3", "fr", variants).id == "roa/fr+f3"
    combined = variant_voices(voices, variants, "en-us")
    assert len(combined) == len(variants) and all(v.id.startswith("gmw/en-us+") for v in combined)


# --- how they sound ------------------------------------------------------------------------------


def test_a_female_variant_speaks_higher_in_an_export_once_chosen_in_the_settings(
        capsys, monkeypatch, tmp_path, short_routine):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    default_wav, female_wav = tmp_path / "default.wav", tmp_path / "female.wav"
    assert cli(capsys, "export", str(short_routine), str(default_wav))[0] == 0
    assert cli(capsys, "config", "set", "voice", "en+f3")[0] == 0
    code, _, err = cli(capsys, "export", str(short_routine), str(female_wav))
    assert code == 0, err
    default, rate = soundfile.read(default_wav, dtype="float32")
    female, _ = soundfile.read(female_wav, dtype="float32")
    assert f0_hz(female, rate) > 1.3 * f0_hz(default, rate)


def test_pitch_changes_the_sound_and_the_cache_key(tmp_path):
    text = "Hold. 3, 2, 1. Release."
    with speech.default_engine() as engine:
        voice = pick_voice(engine.voices(), None, "en")
        caches = {p: ClipCache(engine, voice, 160, tmp_path, pitch=p) for p in (None, 20, 80)}
        f0 = {p: f0_hz(np.asarray(c.clip(text))) for p, c in caches.items()}
    assert len({c.key(text) for c in caches.values()}) == 3
    assert f0[80] > 1.2 * f0[None] > 1.2 * 1.2 * f0[20]
    # the voice's own pitch adds nothing to the key (the rate the engine is asked for is in it since
    # clips are rate-calibrated and leveled)
    import hashlib

    from coach.speech.rate import CALIBRATION_VERSION, rate_for_text

    spoken = f"spoken={rate_for_text(engine.name, voice.languages[0], 160, text)}v{CALIBRATION_VERSION}"
    own = hashlib.sha256("\0".join((engine.name, voice.id, "160", spoken, text)).encode()).hexdigest()
    assert caches[None].key(text) == own


class NoPitchEngine:
    """An engine that cannot change its pitch (like the macOS and Windows ones)."""

    name = "no-pitch"

    def voices(self):
        return [Voice("x/en", "English", ("en",), None)]

    def render(self, text, voice_id, rate_wpm):
        return np.full(100, 0.1, dtype=np.float32)


def test_pitch_is_refused_by_an_engine_without_one(short_routine, tmp_path):
    routine = load_routine_file(short_routine)
    with pytest.raises(OptionError, match=r"^--pitch: is not supported by this speech engine \(no-pitch\)$"):
        build_session(routine, SessionOptions(pitch=60), NoPitchEngine, tmp_path / "clips")
    assert build_session(routine, SessionOptions(), NoPitchEngine, tmp_path / "clips").voice.id == "x/en"


# --- coach voices ----------------------------------------------------------------------------------


def test_voices_json_lists_female_variants_for_a_language(capsys):
    code, out, err = cli(capsys, "voices", "--json", "--language", "en-us", "--gender", "female")
    assert code == 0, err
    doc = json.loads(out)
    assert all(set(v) == {"id", "name", "languages", "gender", "engine"} and v["engine"] == "espeak-ng" for v in doc)
    assert all(v["gender"] == "female" and "en-us" in v["languages"] for v in doc)
    assert {"gmw/en-us+Andrea", "gmw/en-us+f3"} <= {v["id"] for v in doc}


def test_voices_lists_language_voices_then_variants_and_a_warm_listing_starts_no_engine(capsys, monkeypatch):
    assert cli(capsys, "voices")[0] == 0

    def no_engine(self):
        raise AssertionError("the speech engine was started")

    monkeypatch.setattr(speech.WorkerEngine, "_start_worker", no_engine)
    code, out, err = cli(capsys, "voices")
    assert code == 0, err
    ids = [line.split()[0] for line in out.splitlines()]
    assert "roa/fr" in ids and "gmw/en+f3" in ids and "roa/fr+f3" not in ids
    assert ids.index("roa/fr") < ids.index("gmw/en+f3")
    assert cli(capsys, "voices", "--gender", "robot")[:1] == (2,)
    code, _, err = cli(capsys, "voices", "--language", "qq")
    assert code == 2 and err.strip() == "coach: --language: no installed voice speaks 'qq'"


class FakePlayback:
    def __init__(self, interrupt: bool):
        self.interrupt, self.stopped = interrupt, False

    def is_playing(self) -> bool:
        if self.interrupt:
            raise KeyboardInterrupt
        return False

    def stop(self) -> None:
        self.stopped = True


class FakeOutput:
    """Records what would be played; can raise Ctrl+C while playing, or have no device at all."""

    def __init__(self, interrupt: bool = False, device: bool = True):
        self.interrupt, self.device, self.played = interrupt, device, []

    def __call__(self):
        return self

    def play(self, frames):
        if not self.device:
            raise AudioDeviceError("no audio output device (cannot open default)")
        assert frames.dtype == np.int16
        self.played.append((frames, FakePlayback(self.interrupt)))
        return self.played[-1][1]


class VariantEngine(NoPitchEngine):
    """Two voices, two variants; each render is a tone whose length grows with the text."""

    name = "fake-variants"
    supports_pitch = True

    def voices(self):
        return VOICES[:2]

    def variants(self):
        return VARIANTS[2:]

    def render(self, text, voice_id, rate_wpm, pitch=None):
        return np.full(50 * len(text), 0.1, dtype=np.float32)

    def close(self):
        pass


def test_voices_sample_says_each_voice_in_turn_and_ctrl_c_stops(capsys, monkeypatch):
    monkeypatch.setattr("coach.cli.voice.default_engine", VariantEngine)
    output = FakeOutput()
    monkeypatch.setattr(live, "SimpleaudioOutput", output)
    code, out, err = cli(capsys, "voices", "--sample", "--gender", "female")
    assert code == 0, err
    assert out.splitlines() == ["gmw/en+f3  English (Great Britain) + female3"]
    (frames, playback), = output.played
    sample_frames = 50 * (len("female3.") + len(VOICE_SAMPLE))
    assert len(frames) > sample_frames and playback.stopped

    stopping = FakeOutput(interrupt=True)
    monkeypatch.setattr(live, "SimpleaudioOutput", stopping)
    code, out, err = cli(capsys, "voices", "--sample")
    assert code == 130 and "Traceback" not in err
    assert len(out.splitlines()) == 1 and stopping.played[0][1].stopped


# --- coach say -----------------------------------------------------------------------------------


def test_say_writes_a_file_with_the_chosen_voice(capsys, tmp_path):
    out = tmp_path / "hello.flac"
    code, _, err = cli(capsys, "say", "Hello, this is Andrea.", "--voice", "Andrea", "--pitch", "60", "-o", str(out))
    assert code == 0, err
    assert "gmw/en+Andrea" in err
    audio, rate = soundfile.read(out, dtype="float32")
    assert rate == SAMPLE_RATE and len(audio) > 0.5 * rate and np.abs(audio).max() > 0.1
    assert f0_hz(audio) > 180  # a female voice, not the default one (about 100 Hz)
    assert list(tmp_path.iterdir()) == [out]  # written under a temporary name, then renamed


def test_say_plays_through_the_speakers_or_says_how_to_write_a_file(capsys, monkeypatch):
    output = FakeOutput()
    monkeypatch.setattr(live, "SimpleaudioOutput", output)
    assert cli(capsys, "say", "Release.", "--voice", "f3")[0] == 0
    (frames, playback), = output.played
    assert np.abs(frames).max() > 1000 and playback.stopped

    monkeypatch.setattr(live, "SimpleaudioOutput", FakeOutput(device=False))
    code, _, err = cli(capsys, "say", "Release.")
    assert code == 1 and len(err.splitlines()) == 1
    assert err.startswith("coach: no audio output device") and "-o FILE.wav" in err
    code, _, err = cli(capsys, "say", "Release.", "-o", "out.xyz")
    assert code == 2 and err.startswith("coach: -o: unknown extension .xyz")
