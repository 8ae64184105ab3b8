"""A heavy job for scripts/bench: coach sessions steered hard over MPRIS, each into its own sound server.

Each steered session is the real `coach run` (no voice, short sounds) on a private session bus and a
private PulseAudio server of its own, driven by playerctl in a loop: a pause and a resume, 200 rapid
play/pause toggles, `next` past the end; and every other round a `stop`, and a sound server killed
under the playing session and started again. That tears streams down and opens them many times a
second, which is what stalled a session playing beside it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import soundfile

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
sys.path[:0] = [str(ROOT), str(TESTS)]

from coach.plan.model import SAMPLE_RATE  # noqa: E402
from pulse import PulseServer  # noqa: E402

TOGGLES = 200
NO_REALTIME = ("--realtime=no", "--high-priority=no")  # as a sound server runs where no rtkit grants it more
STEERED_SERVER_OPTIONS: tuple[str, ...] = ()
ROUTINE = """\
title = "Steered"
[[exercises]]
name = "One"
instructions = "One."
setup_s = 1
hold_s = 20
[[exercises]]
name = "Two"
instructions = "Two."
setup_s = 1
hold_s = 20
"""
BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:dir={dir}</listen><auth>EXTERNAL</auth>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/>
</policy></busconfig>
"""


def write_sounds(folder: Path) -> None:
    folder.mkdir()
    for name, seconds, hz in (("rest", 0.05, 700), ("pip", 0.05, 900), ("start", 1.0, 500), ("stop", 0.05, 800),
                              ("end", 0.05, 600)):
        t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
        soundfile.write(str(folder / f"{name}.wav"), (0.5 * np.sin(2 * np.pi * hz * t)).astype(np.float32),
                        SAMPLE_RATE, subtype="PCM_16")


class SteeredSession:
    """One `coach run` after another on its own bus and sound server, steered by playerctl until stop()."""

    def __init__(self, folder: Path, number: int):
        self.folder, self.number = folder, number
        folder.mkdir()
        (folder / "pulse").mkdir()
        self.server = PulseServer(folder / "pulse")
        self.server.options = STEERED_SERVER_OPTIONS
        self.routine = folder / "steered.toml"
        self.routine.write_text(ROUTINE)
        write_sounds(folder / "sounds")
        (folder / "bus").mkdir()
        (folder / "bus.conf").write_text(BUS_CONFIG.format(dir=folder / "bus"))
        self.bus: subprocess.Popen | None = None
        self.coach: subprocess.Popen | None = None
        self.env: dict[str, str] = {}
        self.rounds = self.commands = self.restarts = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self.server.start()
        self.bus = subprocess.Popen(["dbus-daemon", f"--config-file={self.folder / 'bus.conf'}", "--nofork",
                                     "--print-address=1"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        address = self.bus.stdout.readline().strip()
        self.env = dict(self.server.env, DBUS_SESSION_BUS_ADDRESS=address, XDG_DATA_HOME=str(self.folder / "data"))
        self._thread.start()

    def playerctl(self, *args: str) -> str:
        self.commands += 1
        done = subprocess.run(["playerctl", "-p", "coach", *args], env=self.env, capture_output=True, text=True,
                              timeout=10)
        return done.stdout.strip()

    def _wait_playing(self, coach: subprocess.Popen, timeout_s: float = 15.0) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and not self._stopping.is_set() and coach.poll() is None:
            if self.playerctl("status") == "Playing":
                return True
            time.sleep(0.05)
        return False

    def _round(self) -> None:
        coach = subprocess.Popen([sys.executable, "-m", "coach", "run", str(self.routine), "--no-voice",
                                  "--sounds", str(self.folder / "sounds")], env=self.env, cwd=ROOT,
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.coach = coach
        try:
            if not self._wait_playing(coach):
                return
            self.playerctl("pause")
            time.sleep(0.3)
            self.playerctl("play")
            for toggle in range(TOGGLES):
                if self._stopping.is_set():
                    return
                self.playerctl("play-pause")
                if self.rounds % 2 and toggle == TOGGLES // 2:
                    self._restart_server()  # the sound server goes away amid the toggles, and comes back
            self.playerctl("play")
            if self.rounds % 2:
                self.playerctl("stop")
            else:
                for _ in range(6):
                    self.playerctl("next")
            coach.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        finally:
            if coach.poll() is None:
                coach.kill()
                coach.wait()
            self.rounds += 1

    def _restart_server(self) -> None:
        self.server.stop()
        self.server.process = None
        self.server.start()
        self.restarts += 1

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._round()
            except (subprocess.TimeoutExpired, RuntimeError, OSError):
                time.sleep(0.2)

    def stop(self) -> None:
        self._stopping.set()
        if self.coach is not None and self.coach.poll() is None:
            self.coach.kill()
        self._thread.join(timeout=30)
        self.server.stop()
        if self.bus is not None:
            self.bus.terminate()
            self.bus.wait(timeout=5)


@contextmanager
def steered_sessions(folder: Path, count: int):
    """`count` steered sessions running while the block runs; yields them (their counters)."""
    sessions = [SteeredSession(folder / f"steered-{n}", n) for n in range(count)]
    try:
        for session in sessions:
            session.start()
        time.sleep(3.0)  # let them get going
        yield sessions
    finally:
        for session in sessions:
            session.stop()


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory(prefix="coach-steer-") as tmp, steered_sessions(Path(tmp), int(sys.argv[1])) as ss:
        signal.sigwait([signal.SIGINT, signal.SIGTERM]) if len(sys.argv) < 3 else time.sleep(float(sys.argv[2]))
        print([(s.rounds, s.commands, s.restarts) for s in ss])
