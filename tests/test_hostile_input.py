"""A hostile routine file harms neither the speech engine nor the terminal, and odd input gets a clear line."""

from __future__ import annotations

import os
import signal
import sqlite3
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from coach.errors import CoachError
from inproc import coach

VALID = """\
title = "TITLE"

[[exercises]]
name = "NAME"
instructions = "INSTRUCTIONS"
hold_s = 3
"""


def routine(tmp_path: Path, filename: str = "r.toml", **texts: str) -> Path:
    text = VALID
    for key, value in texts.items():
        text = text.replace(key.upper(), value)
    for key in ("TITLE", "NAME", "INSTRUCTIONS"):
        text = text.replace(key, key.title())
    path = tmp_path / filename
    path.write_text(text, encoding="utf-8")
    return path


@contextmanager
def within(seconds: int):
    """Fail the test, instead of hanging it, if the block takes longer than this."""
    def late(*_):
        raise AssertionError(f"still waiting after {seconds} s")

    old = signal.signal(signal.SIGALRM, late)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


# --- the speech engine ---------------------------------------------------------------------------


CRASHERS = {  # each aborted espeak-ng 1.51 ("stack smashing detected") before its text was normalised
    "dotted letters in one word": "a." * 100,
    "dotted letters across words": " ".join(["e.g."] * 50),
    "stacked suffixes": "s'" * 100,
}


def test_texts_that_crashed_espeak_are_spoken():
    from coach.speech.engine import default_engine

    with default_engine() as engine:
        for what, text in CRASHERS.items():
            clip = engine.render(f"Press. {text} Release.", "gmw/en", 400)
            assert np.abs(clip).max() > 0.05, what


def test_speakable_text_has_no_word_espeak_cannot_take():
    from coach.speech.text import MAX_WORD_BYTES, speakable

    german = "un" * 60  # stacked prefixes crashed the German voice from 102 bytes
    for text in [*CRASHERS.values(), german, "中." * 60]:
        words = speakable(text).split()
        assert max(len(w.encode()) for w in words) <= MAX_WORD_BYTES
        assert "".join(words).replace(".", "") == text.replace(" ", "").replace(".", "")  # nothing lost but dots
    assert speakable("e.g. the U.S.A. team") == "e.g. the U.S.A. team"  # a few abbreviations stay as they are
    assert speakable("Donaudampfschifffahrtsgesellschaftskapitän") == "Donaudampfschifffahrtsgesellschaftskapitän"


def test_a_long_text_is_spoken_one_utterance_at_a_time(monkeypatch):
    from coach.speech import engine as speech
    from coach.speech.text import MAX_UTTERANCE_CHARS

    text = "Lie on your back and breathe slowly. " * 700  # 25 KB, which killed the engine in one piece
    heard = []
    monkeypatch.setattr(speech.WorkerEngine, "_render_one",
                        lambda self, spoken, *_: heard.append(spoken) or np.ones(100, dtype=np.float32))
    clip = speech.WorkerEngine().render(text, None, 160)
    assert 1 < len(heard) and max(map(len, heard)) <= MAX_UTTERANCE_CHARS
    assert " ".join(heard) == text.strip() and all(piece.endswith("slowly.") for piece in heard)
    gap = round(speech.UTTERANCE_GAP_S * speech.SAMPLE_RATE)
    assert len(clip) == 100 * len(heard) + gap * (len(heard) - 1)


def test_validate_refuses_a_word_no_engine_can_say_without_rendering(tmp_path, monkeypatch):
    from coach.speech import engine as speech

    monkeypatch.setattr(speech, "default_engine", lambda *a, **k: pytest.fail("validate started the engine"))
    path = routine(tmp_path, instructions="a." * 100)
    result = coach("validate", path)
    assert result.returncode == 2
    assert result.stderr == (f"coach: {path}:5: exercises[1].instructions: has a word of more than 64 characters, "
                             "which no speech engine can say\n")


# --- the terminal --------------------------------------------------------------------------------


def test_control_characters_from_a_routine_are_shown_never_obeyed(tmp_path):
    clear, bell, back = "\\u001b[2J\\u001b]0;owned\\u0007", "\\u0007", "\\b\\b\\b"
    path = routine(tmp_path, title=f"Feet{clear}", name=f"Press{bell}", instructions=f"Gently{back} now")
    config = tmp_path / "config"
    (config / "coach" / "routines").mkdir(parents=True)
    routine(config / "coach" / "routines", "mine.toml", title=f"Mine{clear}")
    (config / "coach" / "routines" / "bad\x1b[2J.toml").write_text("title = 1")
    outputs = [coach("show", path).stdout, coach("plan", path, "--no-voice").stdout,
               coach("validate", path).stdout, coach("routines", env_extra={"XDG_CONFIG_HOME": str(config)}).stdout]
    bad = routine(tmp_path, "bad.toml")
    bad.write_text(bad.read_text() + '"\\u001b[31mkey" = 1\n')
    outputs.append(coach("validate", bad).stderr)
    for out in outputs:
        assert not {"\x1b", "\x07", "\x08"} & set(out), out
        assert "\\x1b" in out or "\\x07" in out
    assert "Feet\\x1b[2J\\x1b]0;owned\\x07" in outputs[0] and "Gently\\x08\\x08\\x08 now" in outputs[0]
    assert "Press\\x07" in outputs[0] and "Press\\x07" in outputs[1]


def test_a_routine_name_in_the_log_is_shown_escaped(tmp_path, monkeypatch):
    from coach.log.recorder import SessionLogger

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    logger = SessionLogger.start("evil\x1b[2J", "T", "en", None, 160, 3, [(1, "Press", None, 1)], warn=pytest.fail)
    logger.finish("finished")
    logger.close()
    for args in (("history",), ("log", "--pain", "3")):
        result = coach(*args)
        assert result.returncode == 0 and "\x1b" not in result.stdout and "evil\\x1b[2J" in result.stdout


# --- files that are not routines -----------------------------------------------------------------


def test_a_fifo_a_device_a_huge_file_and_deep_nesting_are_routine_errors(tmp_path):
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    huge = tmp_path / "huge.toml"
    huge.write_bytes(b"# " + b"x" * 1_100_000 + b"\n")
    deep = tmp_path / "deep.toml"
    deep.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    with within(10):
        for path, problem in ((fifo, "is a FIFO (named pipe), not a routine file"),
                              ("/dev/zero", "is a character device, not a routine file"),
                              (huge, "is over 1 MB, too big for a routine file"),
                              (deep, "invalid TOML: arrays or tables are nested too deeply")):
            result = coach("validate", path)
            assert (result.returncode, result.stderr) == (2, f"coach: {path}: {problem}\n")
        assert coach("show", fifo).returncode == 2


def test_a_fifo_in_the_routines_folder_hangs_nothing(tmp_path, monkeypatch):
    config = tmp_path / "config"
    folder = config / "coach" / "routines"
    folder.mkdir(parents=True)
    os.mkfifo(folder / "pipe.toml")
    routine(folder, "mine.toml")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    env = {"XDG_CONFIG_HOME": str(config)}
    with within(10):
        listed = coach("routines", env_extra=env)
        assert listed.returncode == 0 and "pipe" in listed.stdout and "FIFO" in listed.stdout
        assert "mine" in listed.stdout
        assert coach("today", env_extra=env).returncode == 0


# --- messages, not internal errors ---------------------------------------------------------------


def test_a_log_row_with_an_unreadable_date_is_a_damaged_log(tmp_path, monkeypatch):
    from coach.log.book import default_path
    from coach.log.recorder import SessionLogger

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    SessionLogger.start("feet", "T", "en", None, 160, 3, [(1, "Press", None, 1)], warn=pytest.fail).close()
    with sqlite3.connect(default_path()) as conn:
        conn.execute("UPDATE sessions SET started_at = 'last tuesday'")
    conn.close()
    for args in (("history",), ("today",), ("log", "--pain", "2"), ("history", "--json")):
        result = coach(*args)
        assert result.returncode == 1 and "internal error" not in result.stderr
        assert result.stderr == (f"coach: the practice log at {default_path()} is damaged (session 1 has "
                                 "started_at 'last tuesday', not a time with its UTC offset)\n")


@pytest.mark.parametrize("session", ["9223372036854775808", "-9223372036854775809"])
def test_a_session_id_out_of_range_names_the_option(tmp_path, monkeypatch, session):
    from coach.log.recorder import SessionLogger

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    SessionLogger.start("feet", "T", "en", None, 160, 3, [(1, "Press", None, 1)], warn=pytest.fail).close()
    result = coach("log", "--pain", "2", "--session", session)
    assert result.returncode == 2
    assert result.stderr.startswith(f"coach: --session: there is no session {session} in the log")


class _FullDiskWriter:
    """Fails as the system's libsndfile FLAC and Vorbis writers do on a full disk: no errno, "System error."."""

    subtype = "PCM_16"

    def write(self, frames):
        raise OSError("System error.")

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        pass


@pytest.mark.parametrize("free_bytes, said", [(0, "[Errno 28] No space left on device"), (10**9, "System error.")])
def test_a_flac_export_on_a_full_disk_says_so(tmp_path, monkeypatch, free_bytes, said):
    from coach.export import writer
    from test_export import make_plan
    from coach.audio.mixer import Mixer

    plan, clips = make_plan()
    mixer = Mixer(plan, {k: v for k, v in clips.items() if k != "end"}, {"end": clips["end"]})
    real_statvfs = os.statvfs

    class Space:
        def __init__(self, folder):
            self.f_frsize, self.f_bavail = real_statvfs(folder).f_frsize, free_bytes // real_statvfs(folder).f_frsize

    monkeypatch.setattr(writer, "_open_writer", lambda *_: _FullDiskWriter())
    monkeypatch.setattr(writer.os, "statvfs", Space)
    out = tmp_path / "s.flac"
    with pytest.raises(CoachError) as caught:
        writer.export_audio(plan, mixer, out)
    assert str(caught.value) == f"could not write {out}: {said}"
    assert list(tmp_path.iterdir()) == []


def test_the_live_status_line_shows_a_name_escaped(tmp_path):
    from coach.cli.shared import estimated_plan
    from coach.live.status import status_text
    from coach.routine import load_routine_file

    plan = estimated_plan(load_routine_file(routine(tmp_path, name="Press\\u001b]0;owned\\u0007")))
    hold_s = next(c.at_s for c in plan.cues if c.text == "Hold.") + 0.5
    line = status_text(plan, hold_s, width=80)
    assert "Press\\x1b]0;owned\\x07" in line and "\x1b" not in line
