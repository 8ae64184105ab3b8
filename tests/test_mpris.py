"""MPRIS: `coach run` steered by the real playerctl over a private session bus, heard on a null sink."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile

from coach.live.control import Controls, Status
from coach.live.mpris import BUS_NAME, serving_mpris, start_mpris
from coach.plan.model import SAMPLE_RATE
from inproc import cli
from inproc import coach as coach_inproc
from pulse import SINK, pulse_server  # noqa: F401 (fixture)
from test_live import make_plan

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={dir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""

# Two short exercises; the start sound (below) is a long tone, so a pause lands in the middle of sound.
ROUTINE = """\
title = "Two holds"

[[exercises]]
name = "Press"
instructions = "Press down."
setup_s = 1
hold_s = 3

[[exercises]]
name = "Reach"
instructions = "Reach up."
setup_s = 1
hold_s = 3
"""
START_TONE_S = 2.5
LOUD = 0.05  # a chunk louder than this (peak) counts as sound


@pytest.fixture
def session_bus(tmp_path):
    """A private session bus for this test: its address, the daemon stopped afterwards."""
    folder = tmp_path / "bus"
    folder.mkdir()
    config = folder / "session.conf"
    config.write_text(BUS_CONFIG.format(dir=folder))
    daemon = subprocess.Popen(["dbus-daemon", f"--config-file={config}", "--nofork", "--print-address=1"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    address = daemon.stdout.readline().strip()
    assert address.startswith("unix:"), address
    yield address
    daemon.terminate()
    daemon.wait(timeout=5)


def playerctl(address: str, *args: str) -> str:
    done = subprocess.run(["playerctl", *args], env=dict(os.environ, DBUS_SESSION_BUS_ADDRESS=address),
                          capture_output=True, text=True, timeout=5)
    return done.stdout.strip()


def wait_for(condition, timeout_s: float, step_s: float = 0.02):
    """condition()'s first true value within timeout_s, else its last value."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step_s)


class LiveMonitor:
    """The null sink's monitor, read as it arrives, so a moment of the test maps to a sample of the recording."""

    def __init__(self, env: dict[str, str]):
        self._data = bytearray()
        self._arrivals: list[tuple[float, int]] = []  # (when, samples in by then)
        self._recorder = subprocess.Popen(
            ["pacat", "--record", "-d", f"{SINK}.monitor", f"--rate={SAMPLE_RATE}", "--channels=1",
             "--format=s16le", "--latency-msec=5"], env=env, stdout=subprocess.PIPE, bufsize=0)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while data := self._recorder.stdout.read(512):
            self._data += data
            self._arrivals.append((time.monotonic(), len(self._data) // 2))

    def sample_at(self, moment: float) -> int:
        """The sample the monitor was recording at a moment of time.monotonic().

        Each arrival bounds it from below (a sample never arrives before it is recorded); the tightest
        bound over the arrivals around the moment leaves out how late this reader happened to run.
        """
        near = [(at, n) for at, n in list(self._arrivals) if abs(at - moment) < 1.0]
        return max(int(n - (at - moment) * SAMPLE_RATE) for at, n in near)

    def samples(self) -> np.ndarray:
        """Everything recorded so far, as float samples."""
        whole = bytes(self._data[:len(self._data) // 2 * 2])
        return np.frombuffer(whole, dtype="<i2").astype(np.float32) / 32768

    def samples_heard(self) -> int:
        """How many samples have come in so far."""
        return len(self._data) // 2

    def loud_for_s(self) -> float:
        """How long the sound has been going on without a break of 20 ms, up to the newest sample."""
        recent = np.abs(self.samples()[-SAMPLE_RATE * 3:]) > LOUD
        gap = SAMPLE_RATE // 50
        if len(recent) < gap:
            return 0.0
        quiet = np.flatnonzero(np.convolve(~recent, np.ones(gap), mode="valid") >= gap)
        since = quiet[-1] + gap if len(quiet) else 0
        return (len(recent) - since) / SAMPLE_RATE if recent.any() else 0.0

    def last_loud_sample(self) -> int:
        """The index just past the newest loud sample."""
        loud = np.flatnonzero(np.abs(self.samples()) > LOUD)
        return int(loud[-1]) + 1 if len(loud) else 0

    def loud_after(self, sample: int) -> bool:
        """Whether anything loud came in after the given sample."""
        return bool((np.abs(self.samples()[sample:]) > LOUD).any())

    def stop(self) -> None:
        self._recorder.terminate()
        self._recorder.wait(timeout=5)


def write_sounds(folder: Path) -> Path:
    """Replacement sounds: short clicks, and a start sound that is a long steady tone."""
    folder.mkdir()
    for name, seconds, hz in (("rest", 0.05, 700), ("pip", 0.05, 900), ("start", START_TONE_S, 500),
                              ("stop", 0.05, 800), ("end", 0.05, 600)):
        t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
        soundfile.write(str(folder / f"{name}.wav"), (0.5 * np.sin(2 * np.pi * hz * t)).astype(np.float32),
                        SAMPLE_RATE, subtype="PCM_16")
    return folder


def history(data_home: Path) -> list[dict]:
    done = coach_inproc("history", "--json", env_extra={"XDG_DATA_HOME": str(data_home)})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["sessions"]


def test_playerctl_pauses_resumes_skips_and_stops_a_session_without_a_terminal(pulse_server, session_bus,
                                                                                tmp_path):
    routine = tmp_path / "two.toml"
    routine.write_text(ROUTINE)
    env = dict(pulse_server.env, DBUS_SESSION_BUS_ADDRESS=session_bus, XDG_DATA_HOME=str(tmp_path / "data"))
    monitor = LiveMonitor(env)
    coach = subprocess.Popen([sys.executable, "-m", "coach", "run", str(routine), "--no-voice", "--from", "1",
                              "--sounds", str(write_sounds(tmp_path / "sounds"))],
                             env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    try:
        assert wait_for(lambda: playerctl(session_bus, "-p", "coach", "status") == "Playing", 15), \
            coach.stderr.read() if coach.poll() is not None else "no player on the bus"
        assert playerctl(session_bus, "-p", "coach", "metadata", "album") == "Two holds"
        # In the middle of the long start tone of the first hold:
        assert wait_for(lambda: monitor.loud_for_s() > 0.4, 10)
        assert playerctl(session_bus, "-p", "coach", "metadata", "title") == "Press"
        asked_at = time.monotonic()
        playerctl(session_bus, "-p", "coach", "pause")
        time.sleep(0.8)
        silent_after_s = (monitor.last_loud_sample() - monitor.sample_at(asked_at)) / SAMPLE_RATE
        assert silent_after_s < 0.3, f"sound went on {silent_after_s:.3f} s after pause"
        assert playerctl(session_bus, "-p", "coach", "status") == "Paused"

        heard = monitor.samples_heard()
        playerctl(session_bus, "-p", "coach", "play")
        assert wait_for(lambda: monitor.loud_after(heard), 1.5), "no sound after play"
        assert playerctl(session_bus, "-p", "coach", "status") == "Playing"

        playerctl(session_bus, "-p", "coach", "next")
        assert wait_for(lambda: playerctl(session_bus, "-p", "coach", "metadata", "title") == "Reach", 1.0)
        playerctl(session_bus, "-p", "coach", "previous")  # within a few seconds of Reach's start: back to Press
        assert wait_for(lambda: playerctl(session_bus, "-p", "coach", "metadata", "title") == "Press", 1.0)
        playerctl(session_bus, "-p", "coach", "stop")
        out, err = coach.communicate(timeout=10)
    finally:
        if coach.poll() is None:
            coach.kill()
            coach.wait()
        monitor.stop()
    assert coach.returncode == 0, err
    assert "session stopped" in err and "Traceback" not in err
    [logged] = history(tmp_path / "data")
    assert logged["outcome"] == "stopped"
    assert [(e["name"], e["skipped"]) for e in logged["exercises"]] == [("Press", True), ("Reach", False)]


def test_without_a_session_bus_coach_run_plays_as_before_and_says_so_once_under_debug(pulse_server, tmp_path):
    routine = tmp_path / "two.toml"
    routine.write_text(ROUTINE)
    env = {k: v for k, v in pulse_server.env.items() if k != "DBUS_SESSION_BUS_ADDRESS"}  # and no socket in
    env["XDG_DATA_HOME"] = str(tmp_path / "data")  # XDG_RUNTIME_DIR (the sound server's own folder)
    monitor = LiveMonitor(env)
    coach = subprocess.Popen([sys.executable, "-m", "coach", "--debug", "run", str(routine), "--no-voice",
                              "--from", "1", "--sounds", str(write_sounds(tmp_path / "sounds"))],
                             env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    try:
        assert wait_for(lambda: monitor.loud_for_s() > 0.2, 15), "nothing played"  # the first hold's tone
        coach.send_signal(signal.SIGTERM)
        _, err = coach.communicate(timeout=10)
    finally:
        if coach.poll() is None:
            coach.kill()
            coach.wait()
        monitor.stop()
    assert [line for line in err.splitlines() if "MPRIS" in line] == ["coach: MPRIS: no session bus"]
    assert "Traceback" not in err
    [logged] = history(tmp_path / "data")
    assert logged["outcome"] == "interrupted"


def test_two_sessions_at_once_get_two_names_and_both_leave_the_bus(session_bus, monkeypatch):
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", session_bus)
    plan, _ = make_plan(exercises=("bridge", "plank"))
    first, second = Controls(), Controls()
    lines = []
    with serving_mpris(first, True, lines.append) as one, serving_mpris(second, True, lines.append) as two:
        assert one.name == BUS_NAME and two.name == f"{BUS_NAME}.instance{os.getpid()}"
        assert lines == [f"MPRIS: on the session bus as {one.name}", f"MPRIS: on the session bus as {two.name}"]
        first.show(plan, 3.0, Status.PLAYING)
        second.show(plan, 11.0, Status.PAUSED)
        players = playerctl(session_bus, "-l").split()
        assert sorted(players) == ["coach", f"coach.instance{os.getpid()}"]
        assert playerctl(session_bus, "-p", players[0], "metadata", "title") == "bridge"
        assert playerctl(session_bus, "-p", f"coach.instance{os.getpid()}", "status") == "Paused"
        assert playerctl(session_bus, "-p", f"coach.instance{os.getpid()}", "metadata", "title") == "plank"
        playerctl(session_bus, "-p", f"coach.instance{os.getpid()}", "next")
        assert second.poll(1.0) == "next" and first.poll(0.0) is None
        subprocess.run(["dbus-send", f"--bus={session_bus}", f"--dest={BUS_NAME}", "--print-reply",
                        "/org/mpris/MediaPlayer2", "org.mpris.MediaPlayer2.Quit"], check=True, capture_output=True,
                       timeout=5)
        assert first.poll(1.0) == "stop" and second.poll(0.0) is None  # Quit on the root ends that session
    assert playerctl(session_bus, "-l") == ""
    began = time.monotonic()
    with serving_mpris(Controls(), True, lines.append) as at_once:  # a session that ends as it starts
        assert at_once.name == BUS_NAME
    assert time.monotonic() - began < 0.5 and playerctl(session_bus, "-l") == ""


def test_without_a_session_bus_the_session_has_no_mpris_and_says_so_once(tmp_path, monkeypatch):
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    assert start_mpris(Controls()) == (None, "no session bus")
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path}/nothing-here")
    lines = []
    began = time.monotonic()
    with serving_mpris(Controls(), True, lines.append) as service:
        assert service is None
    assert time.monotonic() - began < 1.0 and len(lines) == 1
    assert lines[0] == "MPRIS: cannot use the session bus ([Errno 2] No such file or directory)"
    with serving_mpris(Controls(), False, lines.append) as service:
        assert service is None and len(lines) == 1
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/somewhere")
    monkeypatch.setitem(sys.modules, "dbus_fast", None)  # as if it were not installed
    assert start_mpris(Controls()) == (None, "dbus-fast is not installed")


@pytest.fixture
def config_home(tmp_path, monkeypatch):
    """A private, empty config folder; returns where config.toml goes."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path / "config" / "coach" / "config.toml"


def test_no_mpris_and_the_mpris_setting_reach_the_session_the_same_way(config_home, capsys, short_routine,
                                                                      monkeypatch):
    import coach.cli.runner

    asked = []
    monkeypatch.setattr(coach.cli.runner, "run_logged", lambda *args, **kwargs: asked.append(kwargs["mpris"]))
    assert cli(capsys, "run", str(short_routine), "--no-voice")[0] == 0
    assert cli(capsys, "run", str(short_routine), "--no-voice", "--no-mpris")[0] == 0
    assert cli(capsys, "config", "set", "mpris", "off")[0] == 0
    assert config_home.read_text().endswith("mpris = false\n")
    assert cli(capsys, "run", str(short_routine), "--no-voice")[0] == 0
    assert asked == [True, False, False]
    config_home.write_text("# mine\nmpris = 'yes'\n")
    code, _, err = cli(capsys, "run", str(short_routine), "--no-voice")
    assert code == 2 and err == f"coach: {config_home}:2: mpris: must be true or false, got 'yes'\n"
    code, _, err = cli(capsys, "config", "set", "mpris", "maybe")
    assert code == 2 and err.startswith("coach: mpris: must be true or false, got 'maybe'")


def test_the_launcher_starts_coach_run_without_a_terminal_and_is_the_one_mpris_names():
    import configparser

    from coach.live import mpris

    path = Path(__file__).parents[1] / "scripts" / "coach.desktop"
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(path, encoding="utf-8")
    launcher = entry["Desktop Entry"]
    assert launcher["Type"] == "Application" and launcher["Terminal"] == "false"
    assert launcher["Exec"] == "coach run"
    # The desktop finds the launcher (its icon and name) from the DesktopEntry property MPRIS gives.
    root, _ = mpris._interfaces(Controls())
    assert root.DesktopEntry == path.stem and root.Identity == "coach"


def test_changes_of_exercise_and_status_and_jumps_are_signalled(session_bus, monkeypatch):
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", session_bus)
    plan, _ = make_plan(exercises=("bridge", "plank"))  # bridge 2-10 s, plank 10-18 s
    controls = Controls()
    listener = subprocess.Popen(["dbus-monitor", "--address", session_bus,
                                 "type='signal',interface='org.freedesktop.DBus.Properties'",
                                 "type='signal',member='Seeked'"], stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.2)  # subscribed before anything happens
        with serving_mpris(controls, True, lambda line: None):
            controls.show(plan, 3.0, Status.PLAYING)
            controls.show(plan, 3.5, Status.PLAYING)  # nothing new: no signal
            controls.show(plan, 5.0, Status.PAUSED)
            controls.jumped()
            controls.show(plan, 4.0, Status.PLAYING)
            controls.show(plan, 11.0, Status.PLAYING)
            time.sleep(0.3)
    finally:
        listener.terminate()
    heard = listener.communicate(timeout=5)[0]
    changes = heard.count("member=PropertiesChanged")
    assert changes == 4, heard
    assert heard.count("member=Seeked") == 1 and "int64 2000000" in heard  # 2 s into bridge after the jump
    assert heard.index('"Paused"') < heard.index("member=Seeked") < heard.index('"plank"')
