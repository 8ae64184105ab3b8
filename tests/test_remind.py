"""coach remind and today --notify: unit files systemd accepts, and a notification on a private session bus."""

import asyncio
import json
import os
import shutil
import stat
import subprocess
import sys
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from dbus_fast.aio import MessageBus
from dbus_fast.service import ServiceInterface, method

from clocks import FixedClock
from coach.cli import shared as cli_shared
from coach.log.book import Logbook, default_path
from inproc import cli as coach

SYSTEMD_ANALYZE = shutil.which("systemd-analyze")  # found before a test narrows PATH
NOW = datetime(2026, 12, 3, 19, 0, tzinfo=ZoneInfo("Europe/Berlin"))  # a Thursday


@pytest.fixture(autouse=True)
def private_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setattr(cli_shared, "make_clock", lambda: FixedClock(NOW))


class Notifications(ServiceInterface):
    """A tiny notification service: it keeps what it is asked to show."""

    def __init__(self):
        super().__init__("org.freedesktop.Notifications")
        self.shown = []

    @method()
    def Notify(self, app: "s", replaces: "u", icon: "s", summary: "s", body: "s", actions: "as",  # noqa: F722, F821 (D-Bus signatures)
               hints: "a{sv}", timeout_ms: "i") -> "u":  # noqa: F722, F821
        self.shown.append((app, summary, body, hints["urgency"].value))
        return len(self.shown)


@pytest.fixture
def session_bus(tmp_path):
    """A private dbus-daemon; yields (address, start_service) where start_service() puts Notifications on it."""
    daemon = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1",
                               f"--address=unix:path={tmp_path / 'bus'}"], stdout=subprocess.PIPE, text=True)
    address = daemon.stdout.readline().strip()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def start_service() -> Notifications:
        async def serve():
            bus = await MessageBus(bus_address=address).connect()
            bus.export("/org/freedesktop/Notifications", service)
            await bus.request_name("org.freedesktop.Notifications")
        service = Notifications()
        asyncio.run_coroutine_threadsafe(serve(), loop).result(timeout=10)
        return service

    yield address, start_service
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    daemon.terminate()
    daemon.wait(5)


def log_done(routine: str, day: int, hour: int) -> None:
    at = NOW.replace(day=day, hour=hour).isoformat()
    with Logbook(default_path()) as log:
        log.add_session(routine, routine, "en", at, at, 100, 100, "finished", None, None)


def test_a_notification_names_what_is_due_and_nothing_shows_when_all_is_done(session_bus, capsys, monkeypatch):
    address, start_service = session_bus
    shown = start_service().shown
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
    log_done("back-pain-feet", 1, 8)
    log_done("back-pain-daily", 3, 8)
    log_done("back-pain-daily", 3, 12)
    assert coach(capsys, "today", "--notify") == (0, "", "")
    ((app, summary, body, urgency),) = shown
    assert (app, summary, urgency) == ("coach", "coach: time for 2 routines", 1)
    lines = body.splitlines()
    assert len(lines) == 2 and lines[0].startswith("Feet first: five foot exercises: 1 more this week, about ")
    assert lines[1].startswith("Stretch and release: nine moves for feet and legs: 1 more today, about ")
    assert lines[1].endswith(" min (coach run back-pain-stretches)")
    log_done("back-pain-feet", 2, 8)
    log_done("back-pain-stretches", 3, 9)
    standing = json.loads(coach(capsys, "today", "--json")[1])["routines"]
    assert not any(r["due"] for r in standing)
    assert coach(capsys, "today", "--notify") == (0, "", "")
    assert len(shown) == 1  # all done: nothing new on the desktop


HOSTILE_TITLE = 'Fish & chips <a href="https://example.com/x">here</a> <img src="/etc/passwd"/> <b>now</b>'


def test_a_notification_shows_a_routine_s_title_as_written_never_as_markup(session_bus, capsys, monkeypatch, tmp_path):
    address, start_service = session_bus
    shown = start_service().shown
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
    mine = tmp_path / "config" / "coach" / "routines"
    mine.mkdir(parents=True)
    (mine / "fish.toml").write_text(f"title = '{HOSTILE_TITLE}'\nfrequency = {{ per_day = 1 }}\n"
                                    "[[exercises]]\nname = 'Walk'\ninstructions = 'Walk.'\nwork_s = 60\n")
    for name in ("back-pain-daily", "back-pain-feet", "back-pain-stretches"):
        for day, hour in ((1, 8), (2, 8), (3, 8), (3, 9), (3, 10)):
            log_done(name, day, hour)  # only fish is due
    assert coach(capsys, "today", "--notify") == (0, "", "")
    ((_, summary, body, _),) = shown
    escaped = HOSTILE_TITLE.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert summary == f"coach: time for {escaped}"
    assert body.startswith(f"{escaped}: 1 more today, about ") and body.endswith("(coach run fish)")
    assert "<" not in summary + body and ">" not in summary + body


def test_no_session_bus_or_no_one_showing_notifications_is_one_line_and_exit_1(session_bus, capsys, monkeypatch,
                                                                                tmp_path):
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "runtime"))  # and no per-user bus socket either
    code, out, err = coach(capsys, "today", "--notify")
    assert (code, out) == (1, "") and err == "coach: no desktop session bus to show a notification on (DBUS_SESSION_BUS_ADDRESS is not set)\n"
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", session_bus[0])  # a bus, but no notification service on it
    code, out, err = coach(capsys, "today", "--notify")
    assert code == 1 and err.startswith("coach: nothing on the desktop session bus shows notifications") and err.count("\n") == 1


def _units(text: str) -> dict[str, str]:
    files, name = {}, None
    for line in text.splitlines(keepends=True):
        if line.startswith("# "):
            name = line[2:].strip()
            files[name] = ""
        else:
            files[name] += line
    return {k: v.rstrip("\n") + "\n" for k, v in files.items()}


def test_print_shows_units_that_systemd_accepts(tmp_path, capsys):
    code, out, err = coach(capsys, "remind", "--at", "19:30,7:05", "--print")
    assert (code, err) == (0, "")
    units = _units(out)
    folder = tmp_path / "config" / "systemd" / "user"
    assert sorted(units) == [str(folder / "coach-remind.service"), str(folder / "coach-remind.timer")]
    timer = units[str(folder / "coach-remind.timer")]
    assert "OnCalendar=*-*-* 07:05:00\nOnCalendar=*-*-* 19:30:00\n" in timer and "WantedBy=timers.target" in timer
    assert units[str(folder / "coach-remind.service")].rstrip().endswith(" -m coach today --notify")
    assert not folder.exists()  # --print installs nothing
    check = tmp_path / "check"
    check.mkdir()
    for path, text in units.items():
        (check / os.path.basename(path)).write_text(text)
    systemd_verifies(check, tmp_path)


def systemd_verifies(folder, tmp_path) -> None:
    """systemd's own check of the units in folder: no complaint (it also checks the program exists)."""
    assert SYSTEMD_ANALYZE, "systemd-analyze is missing: run ./scripts/bootstrap"
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    done = subprocess.run([SYSTEMD_ANALYZE, "--user", "verify", "coach-remind.timer", "coach-remind.service"],
                          cwd=folder, capture_output=True, text=True, timeout=60,
                          env=os.environ | {"XDG_RUNTIME_DIR": str(runtime)})
    assert (done.returncode, done.stderr) == (0, "")


def _fake_systemctl(folder, works: bool):
    """A systemctl that notes its arguments; when not `works`, it fails as it does without a user manager."""
    folder.mkdir()
    script = folder / "systemctl"
    reply = "" if works else 'echo "Failed to connect to bus: No medium found" >&2; exit 1'
    script.write_text(f'#!/bin/sh\necho "$@" >> "{folder}/calls"\n{reply}\n')
    script.chmod(0o755)
    return folder / "calls"


def test_remind_installs_private_units_and_enables_the_timer_then_off_removes_them(tmp_path, capsys, monkeypatch):
    calls = _fake_systemctl(tmp_path / "bin", works=True)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    code, out, err = coach(capsys, "remind", "--at", "08:00")
    assert (code, err) == (0, "") and out.startswith("reminders on at 08:00")
    folder = tmp_path / "config" / "systemd" / "user"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert sorted(p.name for p in folder.iterdir()) == ["coach-remind.service", "coach-remind.timer"]
    assert {stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()} == {0o600}
    assert stat.S_IMODE((tmp_path / "config" / "systemd").stat().st_mode) == 0o700  # made by coach: private too
    assert stat.S_IMODE((tmp_path / "config").stat().st_mode) == 0o700
    systemd_verifies(folder, tmp_path)
    assert calls.read_text().splitlines() == ["--user show-environment", "--user daemon-reload",
                                              "--user enable --now coach-remind.timer"]
    calls.unlink()
    assert coach(capsys, "remind", "--off")[:2] == (0, "reminders off (removed coach-remind.service, coach-remind.timer)\n")
    assert list(folder.iterdir()) == []
    assert "--user disable --now coach-remind.timer" in calls.read_text()


@pytest.mark.parametrize("systemctl", ["missing", "no user manager"])
def test_without_systemd_remind_says_so_in_one_line(tmp_path, capsys, monkeypatch, systemctl):
    if systemctl == "missing":
        (tmp_path / "bin").mkdir()
    else:
        _fake_systemctl(tmp_path / "bin", works=False)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    code, out, err = coach(capsys, "remind")
    assert (code, out) == (1, "") and err.count("\n") == 1 and "coach calendar" in err
    assert ("not installed" if systemctl == "missing" else "No medium found") in err
    assert not (tmp_path / "config" / "systemd").exists()


def test_a_python_in_an_odd_folder_makes_units_systemd_accepts(tmp_path, capsys, monkeypatch):
    odd = tmp_path / "my env" / "100% $HOME ${X} %h;x" / "python"
    odd.parent.mkdir(parents=True)
    odd.symlink_to(sys.executable)
    monkeypatch.setattr(sys, "executable", str(odd))
    code, out, err = coach(capsys, "remind", "--print")
    assert (code, err) == (0, "")
    check = tmp_path / "check"
    check.mkdir()
    for path, text in _units(out).items():
        (check / os.path.basename(path)).write_text(text)
    systemd_verifies(check, tmp_path)  # systemd finds the program: nothing in its name was expanded or doubled


@pytest.mark.parametrize("folder", ["env\nExecStartPost=/bin/touch /tmp/owned\n", 'a "quoted" env', "back\\slash",
                                    "it's", "tab\there", "\x1b]0;title\x07"])
def test_a_python_path_systemd_cannot_run_is_refused_in_one_line(tmp_path, capsys, monkeypatch, folder):
    monkeypatch.setattr(sys, "executable", str(tmp_path / folder / "python"))
    calls = _fake_systemctl(tmp_path / "bin", works=True)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    for args in (["--print"], []):
        code, out, err = coach(capsys, "remind", *args)
        assert (code, out) == (1, "") and err.count("\n") == 1
        assert err.startswith("coach: cannot install reminders: the Python that runs coach (") and "systemd" in err
        assert "\x1b" not in err and "ExecStartPost=/bin/touch /tmp/owned\n" not in err
    assert not (tmp_path / "config").exists() and not calls.exists()
    assert coach(capsys, "remind", "--off")[0] == 0  # turning reminders off still works
