"""The speech layer: real espeak-ng rendering, literal text, voice choice, and engines that misbehave."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile

from coach.speech import espeak
from coach.speech import engine as speech
from coach.errors import EngineError, InputError, OptionError
from coach.plan.model import SAMPLE_RATE
from coach.speech.engine import (DEFAULT_RATE_WPM, Voice, WorkerEngine, default_engine, filter_voices, pick_voice,
                                 read_clip, speakable, to_clip, trim_silence, validate_rate)

TESTS_DIR = str(Path(__file__).parent)
FAKE_ENV = {"PYTHONPATH": TESTS_DIR + os.pathsep + os.environ.get("PYTHONPATH", "")}


# --- fake backends, loaded by the worker process as "test_speech:<Name>" -------------------------


class _NoVoices:
    def voices(self):
        return []


class HangingBackend(_NoVoices):
    def save(self, text, voice_id, rate_wpm, path):
        time.sleep(3600)


class SilentBackend(_NoVoices):
    """Reports success but writes no file at all."""

    def save(self, text, voice_id, rate_wpm, path):
        pass


class EmptyFileBackend(_NoVoices):
    def save(self, text, voice_id, rate_wpm, path):
        Path(path).write_bytes(b"")


class ChattyBackend:
    """Prints on stdout like pyttsx3 does, and writes a stereo 44.1 kHz AIFF like macOS does."""

    def voices(self):
        print("Listing voices...")
        return [{"id": "fake/one", "name": "One", "languages": ["xx"], "gender": None}]

    def save(self, text, voice_id, rate_wpm, path):
        print(f"Audio saved to {path}")
        tone = 0.5 * np.sin(np.arange(44100) * 2 * np.pi * 440 / 44100)
        padded = np.concatenate([np.zeros(22050), tone, np.zeros(22050)])
        # The worker asked for a .wav name; the file's real format is AIFF.
        soundfile.write(path, np.stack([padded, padded], axis=1), 44100, format="AIFF")


class CrashingBackend(_NoVoices):
    def save(self, text, voice_id, rate_wpm, path):
        os._exit(3)


class BrokenBackend:
    def __init__(self):
        raise RuntimeError("no audio library here")


def fake_engine(backend: str, timeout_s: float = 1.0) -> WorkerEngine:
    return WorkerEngine(backend=f"test_speech:{backend}", name=backend, timeout_s=timeout_s, env=FAKE_ENV)


# --- real espeak-ng ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def engine():
    with default_engine() as real:
        yield real


@pytest.fixture(scope="module")
def real_voices(engine):
    return engine.voices()


@pytest.fixture(scope="module")
def english(real_voices):
    return pick_voice(real_voices, None, "en")


def test_renders_a_word_and_a_sentence_as_tight_float32_clips(engine, english, capfd):
    word = engine.render("hold", english.id, DEFAULT_RATE_WPM)
    sentence = engine.render("Lie on your back and breathe slowly.", english.id, DEFAULT_RATE_WPM)
    for clip in (word, sentence):
        assert clip.dtype == np.float32 and clip.ndim == 1
        assert np.abs(clip).max() > 0.05
        # Trimmed: the speech starts and ends within a few tens of milliseconds of the clip's edges.
        edge = round(0.05 * SAMPLE_RATE)
        assert np.abs(clip[:edge]).max() > speech.SILENCE_LEVEL
        assert np.abs(clip[-edge:]).max() > speech.SILENCE_LEVEL
    assert 0.2 < len(word) / SAMPLE_RATE < 1.5
    assert len(sentence) > 2 * len(word)
    out, _ = capfd.readouterr()
    assert out == ""


def test_rate_changes_the_length(engine, english, capfd):
    text = "Lie on your back and breathe slowly."
    slow = engine.render(text, english.id, 80)
    fast = engine.render(text, english.id, 400)
    again = engine.render(text, english.id, 80)
    assert len(slow) > 3 * len(fast)
    # Same request, same length (give or take espeak's small variations): no stale rate.
    assert abs(len(again) - len(slow)) < 0.05 * len(slow)
    assert capfd.readouterr().out == ""


def test_many_renders_in_a_row_are_all_complete(engine, english):
    texts = ["hold", "Lie on your back and breathe slowly.", "release", "ten"] * 5
    lengths = {}
    for text in texts:
        lengths.setdefault(text, []).append(len(engine.render(text, english.id, 160)))
    for text, seen in lengths.items():
        # A clip cut short by a stray cancel would be far shorter than the others.
        assert min(seen) > 0.9 * max(seen), text


def test_voice_choice_changes_the_speech(engine, real_voices):
    english = pick_voice(real_voices, "en")
    french = pick_voice(real_voices, "fr")
    text = "deux cent quarante sept"
    assert len(engine.render(text, english.id, 160)) != len(engine.render(text, french.id, 160))


def test_markup_is_never_interpreted(engine, english):
    plain = len(engine.render("Hold now", english.id, 160))
    marked = len(engine.render('<speak>Hold <break time="3s"/> now</speak>', english.id, 160))
    # A 3 s break would have made it 3 s longer; reading the tags aloud would too.
    assert abs(marked - plain) < 0.1 * plain
    phonemes = len(engine.render("[[h@'loU]]", english.id, 160))
    literal = len(engine.render("h@'loU", english.id, 160))
    assert abs(phonemes - literal) < 0.1 * literal


def test_unknown_voice_id_is_an_engine_error_and_the_engine_recovers(engine, english):
    with pytest.raises(EngineError, match="nonexistent/voice"):
        engine.render("hold", "nonexistent/voice", 160)
    assert len(engine.render("hold", english.id, 160)) > 0


def test_punctuation_alone_is_an_empty_clip(engine, english):
    assert len(engine.render("   ", english.id, 160)) == 0
    assert engine.render("<break/>", english.id, 160).dtype == np.float32


def test_real_voice_list_and_choice(real_voices):
    assert len(real_voices) > 20
    assert all(isinstance(v, Voice) and v.languages for v in real_voices)
    english = pick_voice(real_voices, None)
    assert english.id == "gmw/en"
    assert pick_voice(real_voices, None, "en") == english
    assert pick_voice(real_voices, "en-us").id == "gmw/en-us"
    assert pick_voice(real_voices, "en-gb").id == "gmw/en"
    assert pick_voice(real_voices, "fr").id == "roa/fr"
    assert pick_voice(real_voices, "roa/fr").id == "roa/fr"
    assert pick_voice(real_voices, "french (belgium)").id == "roa/fr-be"
    assert pick_voice(real_voices, "Scotland").id == "gmw/en-gb-scotland"
    assert pick_voice(real_voices, None, "pt-br").id == "roa/pt-br"
    english_ids = {v.id for v in filter_voices(real_voices, "en")}
    assert {"gmw/en", "gmw/en-us", "gmw/en-gb-scotland"} <= english_ids
    assert "roa/fr" not in english_ids
    with pytest.raises(OptionError, match=r"--voice: .*did you mean: .*French \(France\)"):
        pick_voice(real_voices, "frnch")
    with pytest.raises(OptionError, match=r"several voices; did you mean: English \(Caribbean\), English \(Great Britain\), .*, \.\.\.\?$"):
        pick_voice(real_voices, "english (")


# --- voices, with a small hand-written list ------------------------------------------------------

FAKE_VOICES = [
    Voice("gmw/en-029", "English (Caribbean)", ("en-029", "en"), "male"),
    Voice("gmw/en", "English (Great Britain)", ("en-gb", "en"), "male"),
    Voice("gmw/en-us", "English (America)", ("en-us", "en"), "female"),
    Voice("roa/fr-be", "French (Belgium)", ("fr-be", "fr"), "male"),
    Voice("roa/fr", "French (France)", ("fr-fr", "fr"), "male"),
    Voice("gmw/de", "German", ("de",), None),
    Voice("sit/yue", "Chinese (Cantonese)", ("yue", "zh-yue", "zh"), "male"),
]


@pytest.mark.parametrize(
    ("query", "language", "expected"),
    [
        (None, "en", "gmw/en"),
        (None, "EN_us", "gmw/en-us"),
        (None, "fr", "roa/fr"),
        (None, "fr-be", "roa/fr-be"),
        (None, "zh", "sit/yue"),
        ("gmw/de", "en", "gmw/de"),
        ("GMW/EN-US", "en", "gmw/en-us"),
        ("german", "en", "gmw/de"),
        ("caribbean", "en", "gmw/en-029"),
        ("English (America)", "fr", "gmw/en-us"),
        ("en", "fr", "gmw/en"),
        ("fr", "en", "roa/fr"),
        ("de", "en", "gmw/de"),
    ],
)
def test_pick_voice(query, language, expected):
    assert pick_voice(FAKE_VOICES, query, language).id == expected


def test_pick_voice_prefers_an_exact_language_to_a_dialect():
    voices = [Voice("x/de-ch", "Swiss", ("de-ch",), None), Voice("x/alemannic", "Alemannic", ("de",), None)]
    assert pick_voice(voices, None, "de").id == "x/alemannic"
    assert pick_voice(voices[:1], None, "de").id == "x/de-ch"


def test_ambiguous_voice_lists_the_candidates():
    with pytest.raises(OptionError) as err:
        pick_voice(FAKE_VOICES, "french", "en")
    assert err.value.option == "--voice"
    assert "French (Belgium), French (France)?" in str(err.value)
    assert isinstance(err.value, InputError)


def test_unknown_voice_suggests_close_names():
    with pytest.raises(OptionError, match=r"no voice matches 'germn'; did you mean: German\?"):
        pick_voice(FAKE_VOICES, "germn")
    with pytest.raises(OptionError, match=r"'qqqq'; run `coach voices`"):
        pick_voice(FAKE_VOICES, "qqqq")


def test_no_voice_for_the_language():
    with pytest.raises(OptionError, match=r"--voice: no installed voice speaks language 'sw'"):
        pick_voice(FAKE_VOICES, None, "sw")
    with pytest.raises(OptionError, match="no voices are installed"):
        pick_voice([], None, "en")


def test_filter_voices():
    assert [v.id for v in filter_voices(FAKE_VOICES, "fr")] == ["roa/fr-be", "roa/fr"]
    assert [v.id for v in filter_voices(FAKE_VOICES, "en-us")] == ["gmw/en-us"]
    assert filter_voices(FAKE_VOICES, "e") == []
    assert filter_voices(FAKE_VOICES, None) == FAKE_VOICES


# --- rate and text -------------------------------------------------------------------------------


def test_validate_rate():
    assert DEFAULT_RATE_WPM == 160
    assert validate_rate(80) == 80 and validate_rate(400) == 400
    for bad in (79, 401, 0, -160, "160", 160.0, True):
        with pytest.raises(OptionError, match=r"^--rate: ") as err:
            validate_rate(bad)
        assert err.value.option == "--rate"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<speak>Hold it</speak>", "Hold it"),
        ('Hold <break time="3s"/> now', "Hold now"),
        ("[[h@'loU]] there", "h@'loU there"),
        ("Knees &lt;speak&gt; up &amp; down", "Knees up & down"),
        ("a < b and c > d", "a b and c d"),
        ("line one\nline\ttwo\x07", "line one line two"),
        ("Breathe in... and out.", "Breathe in... and out."),
        ("", ""),
    ],
)
def test_speakable(text, expected):
    assert speakable(text) == expected


# --- audio normalisation -------------------------------------------------------------------------


def test_to_clip_makes_22050_hz_mono_float32():
    stereo = np.full((44100, 2), 16384, dtype=np.int16)
    clip = to_clip(stereo, 44100)
    assert clip.dtype == np.float32 and clip.ndim == 1
    assert abs(len(clip) - 22050) <= 1
    assert np.allclose(clip[100:-100], 0.5, atol=0.01)
    same = to_clip(np.zeros(100, dtype=np.float64), SAMPLE_RATE)
    assert same.dtype == np.float32 and len(same) == 100


def test_trim_silence_keeps_all_the_sound_and_a_little_margin():
    clip = np.zeros(SAMPLE_RATE * 3, dtype=np.float32)
    clip[SAMPLE_RATE : 2 * SAMPLE_RATE] = 0.3
    clip[SAMPLE_RATE - 5] = 0.01  # a quiet onset is still sound
    trimmed = trim_silence(clip)
    pad = round(speech.EDGE_PAD_S * SAMPLE_RATE)
    assert len(trimmed) == SAMPLE_RATE + 5 + 2 * pad
    assert np.isclose(np.abs(trimmed).sum(), np.abs(clip).sum())
    assert len(trim_silence(np.zeros(1000, dtype=np.float32))) == 0


def test_read_clip_reads_aiff(tmp_path):
    path = tmp_path / "macos.aiff"
    tone = 0.25 * np.sin(np.arange(48000) * 2 * np.pi * 300 / 48000)
    soundfile.write(path, np.stack([tone, tone], axis=1), 48000, format="AIFF", subtype="PCM_16")
    clip = read_clip(path)
    assert clip.dtype == np.float32 and clip.ndim == 1
    assert abs(len(clip) - SAMPLE_RATE) < 0.05 * SAMPLE_RATE


# --- engines that misbehave ----------------------------------------------------------------------


def test_hung_engine_becomes_an_engine_error_and_the_worker_is_killed():
    with fake_engine("HangingBackend", timeout_s=1.0) as hung:
        started = time.monotonic()
        with pytest.raises(EngineError, match=r"hung while speaking 'hold' \(no answer within 1 s\)"):
            hung.render("hold", None, 160)
        # One retry with a fresh worker: about two timeouts plus two start-ups, not forever.
        assert time.monotonic() - started < 30
        assert hung.worker_pid is None


def test_engine_that_writes_nothing_is_an_engine_error():
    for backend in ("SilentBackend", "EmptyFileBackend"):
        with fake_engine(backend, timeout_s=10) as silent:
            with pytest.raises(EngineError, match="wrote no audio"):
                silent.render("hold", None, 160)


def test_engine_that_dies_is_an_engine_error():
    with fake_engine("CrashingBackend", timeout_s=10) as crashing:
        with pytest.raises(EngineError, match=r"exited \(code 3\) while speaking"):
            crashing.render("hold", None, 160)


def test_engine_that_cannot_start_says_what_to_install():
    with fake_engine("BrokenBackend", timeout_s=10) as broken:
        with pytest.raises(EngineError, match="no audio library here.*apt install espeak-ng.*--no-voice"):
            broken.voices()


def test_engine_output_on_stdout_never_reaches_ours_and_aiff_is_normalised(capfd):
    with fake_engine("ChattyBackend", timeout_s=10) as chatty:
        assert chatty.voices() == [Voice("fake/one", "One", ("xx",), None)]
        clip = chatty.render("anything", None, 160)
        pid = chatty.worker_pid
        assert chatty.render("again", None, 160).shape == clip.shape
        assert chatty.worker_pid == pid  # one worker serves every request
    assert clip.dtype == np.float32 and clip.ndim == 1
    pad_s = 2 * speech.EDGE_PAD_S
    assert abs(len(clip) / SAMPLE_RATE - (1.0 + pad_s)) < 0.01
    assert capfd.readouterr().out == ""


def test_missing_espeak_library_is_an_engine_error_naming_the_package(monkeypatch, tmp_path):
    # The real lookup, pointed at a folder with no library in it.
    monkeypatch.setattr(espeak, "ESPEAK_LIBRARIES", (str(tmp_path / "libespeak-ng.so.1"),))
    assert espeak.espeak_install() is None
    with pytest.raises(EngineError) as err:
        default_engine()
    assert str(err.value) == (
        "the speech engine is missing: espeak-ng is not installed; install espeak-ng "
        "(on Debian/Ubuntu: sudo apt install espeak-ng), or use --no-voice for a session with sounds only"
    )
    assert err.value.exit_status == 1


def test_espeak_reports_the_data_folder_it_will_read(monkeypatch, tmp_path):
    installed = espeak.espeak_install()
    assert installed is not None and installed.version
    assert (installed.data_dir / "phontab").is_file() and (installed.data_dir / "voices").is_dir()
    monkeypatch.setenv("ESPEAK_DATA_PATH", str(tmp_path))
    assert espeak.espeak_install().data_dir == tmp_path


def test_missing_espeak_data_is_an_engine_error(monkeypatch, tmp_path):
    monkeypatch.setenv("ESPEAK_DATA_PATH", str(tmp_path))  # espeak-ng reads its data from here: nothing
    with pytest.raises(EngineError) as err:
        default_engine()
    assert str(err.value) == (
        f"the speech engine is missing: espeak-ng's data folder {tmp_path} is missing or incomplete; "
        "install espeak-ng (on Debian/Ubuntu: sudo apt install espeak-ng), "
        "or use --no-voice for a session with sounds only"
    )


def test_engine_that_dies_while_starting_says_what_to_install(tmp_path):
    # The library loads but espeak-ng finds no data and ends the worker before it is ready.
    with WorkerEngine(env={"ESPEAK_DATA_PATH": str(tmp_path)}) as broken:
        with pytest.raises(EngineError) as err:
            broken.voices()
        assert broken.worker_pid is None
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("the speech engine exited (code 1) while starting the speech engine: ")
    assert str(tmp_path / "phontab") in message
    assert message.endswith("; " + speech.INSTALL_HINT)


def test_worker_module_runs_standalone():
    import subprocess

    request = b'{"op": "nonsense"}\n'
    done = subprocess.run(
        [sys.executable, "-m", "coach.speech.worker", "--backend", "test_speech:SilentBackend"],
        input=request,
        capture_output=True,
        env={**os.environ, **FAKE_ENV},
        timeout=60,
    )
    lines = done.stdout.decode().splitlines()
    assert lines == ['{"ok": true, "ready": true}', '{"ok": false, "error": "unknown request \'nonsense\'"}']


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped) counts as gone.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return False


def test_a_stuck_worker_ends_when_its_parent_dies():
    import signal
    import subprocess

    parent_script = (
        "import sys\n"
        "from test_speech import fake_engine\n"
        "engine = fake_engine('HangingBackend', timeout_s=600)\n"
        "engine.voices()\n"
        "print(engine.worker_pid, flush=True)\n"
        "engine.render('hold', None, 160)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", parent_script], stdout=subprocess.PIPE, env={**os.environ, **FAKE_ENV}
    )
    worker_pid = int(parent.stdout.readline())
    time.sleep(0.3)  # let the render request reach the worker
    os.kill(worker_pid, signal.SIGINT)  # Ctrl-C in a terminal reaches the worker too: it ignores it
    time.sleep(0.3)
    assert _alive(worker_pid)
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 20
    while _alive(worker_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(worker_pid)
