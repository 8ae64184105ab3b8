"""Health data stays private: the log's folder and files, and what `history` writes, are the owner's alone."""

from __future__ import annotations

import csv
import contextlib
import os
import stat
from datetime import datetime, timedelta, timezone

import pytest

from clocks import FixedClock
from coach.cli import shared as cli_shared
from coach.log.book import Logbook, default_path
from coach.log.recorder import SessionLogger
from coach.cli.app import main
from inproc import cli as coach

CET = timezone(timedelta(hours=1))
NOW = datetime(2026, 11, 19, 20, 0, tzinfo=CET)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(autouse=True)
def usual_umask(tmp_path, monkeypatch):
    """A data folder of its own, the clock at NOW, and the usual umask 022 under which files are world-readable."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setattr(cli_shared, "make_clock", lambda: FixedClock(NOW))
    old = os.umask(0o022)
    yield
    os.umask(old)


def log_session(note: str | None = None) -> None:
    logger = SessionLogger.start("back-pain-feet", "Feet", "en", None, 160, 20, [(1, "Press", None, 2)],
                                 FixedClock(NOW - timedelta(hours=1)), warn=pytest.fail)
    logger.rep_done(1, None, 10)
    logger.finish("finished")
    logger.set_pain(4, note)
    logger.close()


def test_a_new_log_is_private_with_its_wal_and_shm_files(capsys):
    path = default_path()
    logger = SessionLogger.start("back-pain-feet", "Feet", "en", None, 160, 20, [(1, "Press", None, 2)],
                                 FixedClock(NOW), warn=pytest.fail)
    logger.rep_done(1, None, 10)  # the -wal and -shm files exist while the log is open
    files = sorted(p.name for p in path.parent.iterdir())
    assert files == ["log.sqlite3", "log.sqlite3-shm", "log.sqlite3-wal"]
    assert {name: mode(path.parent / name) for name in files} == dict.fromkeys(files, 0o600)
    assert mode(path.parent) == 0o700
    logger.close()
    assert capsys.readouterr().err == ""  # nothing to tighten, nothing said


def test_an_old_log_open_to_others_is_tightened_once_with_a_notice(capsys):
    log_session()
    path = default_path()
    with Logbook(path) as log:  # keeps -wal and -shm while open
        log.sessions()
        companions = [p for p in path.parent.iterdir()]
        for p in companions:
            os.chmod(p, 0o644)
        os.chmod(path.parent, 0o755)
        capsys.readouterr()
        with Logbook(path) as again:
            again.sessions()
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "could be read by other users" in err[0] and "now private" in err[0]
    assert "log.sqlite3-wal" in err[0] and "coach/" in err[0]
    assert mode(path.parent) == 0o700 and all(mode(p) == 0o600 for p in path.parent.iterdir())
    code, _, err = coach(capsys, "history")
    assert (code, err) == (0, "")  # once tightened, nothing more is said


def test_history_csv_is_private_and_an_open_existing_file_is_tightened(capsys, tmp_path):
    log_session()
    fresh = tmp_path / "fresh.csv"
    assert coach(capsys, "history", "--csv", fresh)[0] == 0
    assert mode(fresh) == 0o600
    shared = tmp_path / "shared.csv"
    shared.write_text("old")
    os.chmod(shared, 0o664)
    assert coach(capsys, "history", "--csv", shared)[0] == 0
    assert mode(shared) == 0o600
    owner_only = tmp_path / "read-only-for-me.csv"
    owner_only.write_text("old")
    os.chmod(owner_only, 0o400)
    assert coach(capsys, "history", "--csv", owner_only)[0] == 0
    assert mode(owner_only) == 0o400  # already private: the owner's choice stands


def test_history_json_and_csv_redirected_to_a_file_are_private(tmp_path):
    log_session()
    for args, name in ((["--json"], "out.json"), (["--csv", "-"], "out.csv")):
        target = tmp_path / name
        with open(target, "w") as out, contextlib.redirect_stdout(out):  # a shell's `> file` under umask 022
            assert mode(target) == 0o644
            with pytest.raises(SystemExit) as exit:
                main(["history", *args])
        assert exit.value.code == 0
        assert mode(target) == 0o600 and target.stat().st_size > 0


@pytest.mark.parametrize("note", ["=HYPERLINK(\"http://x\",\"y\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)",
                                  "\tindented", "\rreturn"])
def test_history_csv_cells_never_start_a_formula(capsys, tmp_path, note):
    log_session(note)
    assert coach(capsys, "history", "--csv", tmp_path / "s.csv")[0] == 0
    with open(tmp_path / "s.csv", newline="", encoding="utf-8") as f:
        row = list(csv.DictReader(f))[0]
    assert row["note"] == "'" + note
    assert row["pain"] == "4" and row["routine"] == "back-pain-feet"


def test_the_private_helpers_for_other_features(tmp_path):
    from coach.files import atomic_output, private_folder

    folder = tmp_path / "reports" / "2026"
    assert private_folder(folder) is False and mode(folder) == 0o700
    os.chmod(folder, 0o755)
    assert private_folder(folder) is True and mode(folder) == 0o700
    with atomic_output(folder / "report.txt", private=True) as tmp:
        tmp.write_text("pain 3")
    assert mode(folder / "report.txt") == 0o600
    with atomic_output(tmp_path / "plain.txt") as tmp:
        tmp.write_text("not private")
    assert mode(tmp_path / "plain.txt") == 0o644  # other files still follow the umask
