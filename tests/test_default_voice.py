"""The natural voice a newcomer gets: the default voice per language, fetched from a loopback catalogue."""

from __future__ import annotations

import hashlib
import http.server
import json
import shutil
import threading
from functools import partial

import pytest

from coach.speech import voicedownload
from coach.speech.voicedownload import DEFAULT_VOICES, default_voice, locale_language
from coach.speech.voicefiles import installed_piper_voices
from inproc import cli
from piper_model import make_voice

EN = DEFAULT_VOICES["en"].key
FR = DEFAULT_VOICES["fr"].key


@pytest.fixture
def user_dirs(tmp_path, monkeypatch):
    """Private data, cache and config folders, and an English locale unless a test says otherwise."""
    for name in ("DATA", "CACHE", "CONFIG"):
        monkeypatch.setenv(f"XDG_{name}_HOME", str(tmp_path / name.lower()))
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    return tmp_path


@pytest.fixture
def catalogue(tmp_path, monkeypatch):
    """A loopback server holding the English and French default voices (tiny models) in Piper's layout."""
    root, entries = tmp_path / "site", {}
    for key in (EN, FR):
        language, name, quality = key.split("-")
        folder = root / language[:2] / language / name / quality
        make_voice(folder, key, card=f"* License: {DEFAULT_VOICES[language[:2]].licence}\n", language=language)
        files = {}
        for path in sorted(folder.iterdir()):
            data = path.read_bytes()
            files[str(path.relative_to(root))] = {"size_bytes": len(data), "md5_digest": hashlib.md5(data).hexdigest()}
        entries[key] = {"key": key, "name": name, "quality": quality, "files": files,
                        "language": {"code": language}, "aliases": []}
    (root / "voices.json").write_text(json.dumps(entries))
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.func.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    monkeypatch.setenv("COACH_PIPER_VOICES_URL", f"http://127.0.0.1:{server.server_address[1]}/")
    yield root
    server.shutdown()
    server.server_close()


def test_the_locale_names_the_language_and_english_is_the_fallback():
    assert locale_language({"LANGUAGE": "fr_CA:fr:en", "LANG": "de_DE.UTF-8"}) == "fr"
    assert locale_language({"LC_ALL": "de_DE.UTF-8", "LANG": "es_ES.UTF-8"}) == "de"
    assert locale_language({"LC_MESSAGES": "es_ES@euro"}) == "es"
    assert locale_language({"LANG": "C.UTF-8"}) == "en" and locale_language({}) == "en"
    assert default_voice("fr-CA").key == FR


def test_every_language_coach_coaches_in_has_a_default_voice_with_its_licence_and_reason():
    from coach.plan.phrases import pack_languages

    assert set(DEFAULT_VOICES) == set(pack_languages())
    for code, voice in DEFAULT_VOICES.items():
        assert voice.key.startswith(f"{code}_") and voice.licence and voice.why
        assert not any(word in voice.licence.lower() for word in ("nc", "non-commercial", "research"))


def test_download_without_a_name_fetches_the_default_voice_for_the_locale(user_dirs, catalogue, capsys, monkeypatch):
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")
    code, _, err = cli(capsys, "voices", "download")  # said in the locale's language too
    assert code == 0 and err.count("\n") == 1 and f"{FR} ajoutée (fr-fr, x_low), la voix par défaut pour 'fr'" in err
    monkeypatch.setenv("LANG", "C.UTF-8")
    code, _, err = cli(capsys, "voices", "download", "--language", "en")
    assert code == 0 and f"added {EN} (en-us" in err
    assert sorted(v.name for v in installed_piper_voices()) == sorted([EN, FR])


def test_a_language_without_a_default_is_one_line_naming_the_option(user_dirs, capsys):
    code, _, err = cli(capsys, "voices", "download", "--language", "ja")
    assert code == 2 and err.count("\n") == 1 and "--language" in err and "en, fr, de, es" in err


def test_first_run_downloads_once_and_then_never_asks_the_network(user_dirs, catalogue, capsys, monkeypatch):
    code, _, err = cli(capsys, "voices", "download", "--first-run")
    assert code == 0 and f"added {EN}" in err
    shutil.rmtree(catalogue)  # the catalogue is gone: a second first run must not even look
    monkeypatch.setattr(voicedownload, "catalogue_reachable", lambda *a, **k: pytest.fail("asked the network"))
    code, _, err = cli(capsys, "voices", "download", "--first-run")
    assert (code, err) == (0, "")


def test_first_run_offline_goes_on_with_one_line_saying_how_to_get_a_voice_later(user_dirs, capsys, monkeypatch):
    monkeypatch.setenv("COACH_PIPER_VOICES_URL", "http://127.0.0.1:9/")  # the discard port: nothing listens
    code, _, err = cli(capsys, "voices", "download", "--first-run")
    assert code == 0 and err.count("\n") == 1 and "coach voices download" in err
    assert installed_piper_voices() == []


def test_voices_without_a_piper_voice_end_with_how_to_get_one(user_dirs, capsys):
    code, out, err = cli(capsys, "voices", "--language", "en")
    assert code == 0 and out and err.strip().splitlines()[-1].endswith("coach voices download")


def test_a_live_session_mentions_the_natural_voice_once(user_dirs):
    import io

    from coach.cli.voicefiles import mention_natural_voice_once

    first, second = io.StringIO(), io.StringIO()
    assert mention_natural_voice_once(first) and "coach voices download" in first.getvalue()
    assert not mention_natural_voice_once(second) and second.getvalue() == ""
