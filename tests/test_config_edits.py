"""`coach config set` loses nothing: concurrent edits, symlinked files, unwritable folders, and every key
checked as its option is."""

from __future__ import annotations

import errno
import os
import threading
import time

import pytest
import tomlkit

from coach.config import load_settings, write_setting
from inproc import cli


@pytest.fixture
def config_home(tmp_path, monkeypatch):
    """A private, empty config folder; returns where config.toml goes."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path / "config" / "coach" / "config.toml"


def test_concurrent_sets_of_different_keys_all_land(config_home, monkeypatch):
    config_home.parent.mkdir(parents=True)
    real_dumps = tomlkit.dumps

    def slow_dumps(doc):  # widens the window between reading the file and replacing it
        time.sleep(0.05)
        return real_dumps(doc)

    monkeypatch.setattr(tomlkit, "dumps", slow_dumps)
    values = {"rate": 150, "pitch": 40, "voice_volume": 80, "beep_volume": 60, "language": "fr"}
    threads = [threading.Thread(target=write_setting, args=(key, value)) for key, value in values.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert load_settings().values == values


def test_set_over_a_symlink_writes_through_to_its_target(config_home, tmp_path, capsys):
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    target = dotfiles / "coach.toml"
    target.write_text("# kept in git\nrate = 150\n")
    target.chmod(0o640)
    config_home.parent.mkdir(parents=True)
    config_home.symlink_to(target)
    code, _, err = cli(capsys, "config", "set", "pitch", "30")
    assert code == 0, err
    assert config_home.is_symlink() and os.readlink(config_home) == str(target)
    assert target.read_text() == "# kept in git\nrate = 150\npitch = 30\n"
    assert target.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in dotfiles.iterdir()) == ["coach.toml"]  # the temporary was in the target's folder
    assert sorted(p.name for p in config_home.parent.iterdir()) == ["config.toml"]
    assert cli(capsys, "config", "unset", "rate")[0] == 0
    assert config_home.is_symlink() and target.read_text() == "# kept in git\npitch = 30\n"


def test_set_in_a_folder_that_cannot_be_written_is_one_line(config_home, capsys, monkeypatch):
    import tempfile

    config_home.parent.mkdir(parents=True)
    config_home.write_text("rate = 150\n")

    def refused(*args, **kwargs):  # what a folder without write permission answers (root writes anywhere)
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), kwargs.get("dir"))

    monkeypatch.setattr(tempfile, "mkstemp", refused)
    code, _, err = cli(capsys, "config", "set", "rate", "180")
    assert code == 2
    assert err == f"coach: {config_home}: cannot be saved in {config_home.parent} (permission denied)\n"
    assert config_home.read_text() == "rate = 150\n"


def test_set_on_a_full_disk_is_one_line_and_keeps_the_file(config_home, capsys, monkeypatch):
    config_home.parent.mkdir(parents=True)
    config_home.write_text("rate = 150\n")
    real_fsync = os.fsync

    def full(fd):  # the disk fills up as the new file is flushed
        if os.fstat(fd).st_size:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", full)
    code, _, err = cli(capsys, "config", "set", "rate", "180")
    assert code == 2
    assert err == f"coach: {config_home}: cannot be saved in {config_home.parent} (no space left on device)\n"
    assert config_home.read_text() == "rate = 150\n"
    assert sorted(p.name for p in config_home.parent.iterdir()) == ["config.toml"]


@pytest.mark.parametrize(("args", "key"), [(("--language", "xx"), "language"), (("--voice", ""), "voice")])
def test_each_key_is_refused_by_config_set_as_its_option_is(config_home, capsys, args, key):
    code, _, option_err = cli(capsys, "plan", "back-pain-feet", "--no-voice" if key == "language" else "--json",
                              *args)
    assert code == 2
    assert option_err.startswith(f"coach: {args[0]}: ")
    code, _, set_err = cli(capsys, "config", "set", key, args[1])
    assert code == 2
    assert set_err == option_err.replace(args[0], key, 1)
    assert not config_home.exists()
